"""Arrays kept between runs in ~/.cache/nn-playground: keyed by their source, checksummed, written atomically.

A file holds the arrays and the sha256 of their names, dtypes, shapes and bytes; its name holds a hash of the
source it was built from (the data file's bytes and the recipe's version). A file that is missing, unreadable,
truncated or whose checksum differs is rebuilt; a changed source gets a new name. Written to a temporary file
in the same folder and renamed over the target, so a worker starting beside another never reads half a file;
read with allow_pickle=False, so a planted file can never run code. A folder we cannot write to just means
building again next time.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np

FORMAT = 1  # bump when the file layout changes: it is part of every file's name
CHECKSUM = "sha256"  # the entry holding the checksum; never an array name


def cache_dir() -> Path:
    """Where arrays are kept between runs ($XDG_CACHE_HOME or ~/.cache)."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "nn-playground"


def cache_path(name: str, source: bytes) -> Path:
    """The file for `name` built from `source` (e.g. the data file's bytes plus a recipe version)."""
    key = hashlib.sha256(source + f"cache-format-{FORMAT}".encode()).hexdigest()[:16]
    return cache_dir() / f"{name}-{key}.npz"


def checksum(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """sha256 of every array's name, dtype, shape and bytes, in name order: (32,) uint8."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        digest.update(a.data)
    return np.frombuffer(digest.digest(), dtype=np.uint8)


def read(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays stored at path, or None when missing, unreadable or not matching their checksum."""
    try:
        stored = np.load(path, allow_pickle=False)
        if not isinstance(stored, np.lib.npyio.NpzFile):  # a bare .npy array
            return None
        with stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # missing, truncated, not an npz
        return None
    expected = arrays.pop(CHECKSUM, None)
    if expected is None or not np.array_equal(expected, checksum(arrays)):
        return None
    return arrays


def write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically (temporary file, then os.replace); a folder we cannot write to is silently skipped."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays, **{CHECKSUM: checksum(arrays)})
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def cached(name: str, source: bytes, build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays `build()` returns for this source: read from the cache, or built and stored there."""
    path = cache_path(name, source)
    arrays = read(path)
    if arrays is None:
        arrays = build()
        write(path, arrays)
    return arrays


__all__ = ["cache_dir", "cache_path", "cached", "checksum", "read", "write"]
