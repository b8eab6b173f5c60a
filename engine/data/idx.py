"""Read the MNIST IDX files (plain or gzipped), checking every header against the data it declares."""
from __future__ import annotations

import gzip
import math
import os
import struct
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..text import N_, _

# IDX type code -> big-endian numpy dtype (the format's own table).
IDX_DTYPES = {
    0x08: np.dtype(">u1"),  # unsigned byte: MNIST images and labels
    0x09: np.dtype(">i1"),  # signed byte
    0x0B: np.dtype(">i2"),  # short
    0x0C: np.dtype(">i4"),  # int
    0x0D: np.dtype(">f4"),  # float
    0x0E: np.dtype(">f8"),  # double
}
MAX_ELEMENTS = 100_000_000  # per file: ~127,000 28x28 images (MNIST's 60,000 fit twice); 400 MB as float32
MAX_IMAGES = 60_000  # per file: MNIST's training split (LIMITS["train_size"]); a bigger claim is refused at the header
MAX_DIMS = 8
GZIP_MAGIC = b"\x1f\x8b"
MAX_DEFLATE_RATIO = 1032  # deflate cannot expand more than this: a .gz file bounds what its header may claim
CHUNK = 1 << 20  # bytes decompressed at a time: memory grows with what the file really holds, not its claim
ROOTS_VARIABLE = "PLAYGROUND_IDX_ROOTS"  # e.g. /data:/srv/mnist; set but naming no absolute folder = IDX off
NOT_FOUND = N_("no MNIST files found in that folder")  # the same words whether or not the folder exists; raised as _()

# The four standard files, in the order load_idx_folder returns them: (label for messages, file stem).
MNIST_FILES = (
    (N_("train images"), "train-images-idx3-ubyte"),
    (N_("train labels"), "train-labels-idx1-ubyte"),
    (N_("test images"), "t10k-images-idx3-ubyte"),
    (N_("test labels"), "t10k-labels-idx1-ubyte"),
)
IMAGE_SIZE = (28, 28)  # rows, cols: every page and the CLI's predict read 28x28 digits


class IdxError(ValueError):
    """An IDX file that is missing, corrupt or not what MNIST should be."""


@dataclass(frozen=True)
class IdxHeader:
    """What an IDX file's header declares, checked against the file's size before any data is read."""

    name: str  # the file's name, for messages
    dtype: np.dtype  # big-endian, from IDX_DTYPES
    dims: tuple[int, ...]  # e.g. (60000, 28, 28)
    gzipped: bool

    @property
    def n_bytes(self) -> int:
        return math.prod(self.dims) * self.dtype.itemsize

    @property
    def shape_text(self) -> str:
        return "x".join(map(str, self.dims))


@contextmanager
def _named(name: str):
    """A broken gzip stream or an unreadable file becomes an IdxError naming the file (never its path)."""
    try:
        yield
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc  # strerror: no path
        raise IdxError(_("{name} could not be read: {reason}").format(name=name, reason=reason)) from None


@contextmanager
def _reading(path: Path):
    """(stream, file size, gzipped): the file opened once, so its size and the bytes read belong to the same file.

    gzip is detected from the magic bytes. Reads from the stream go through _named themselves: several files
    may be open at once, and an error must name the file it came from.
    """
    if not path.is_file():
        raise IdxError(_("no file {name}").format(name=path.name))
    with _named(path.name):
        raw = open(path, "rb")
    with raw:
        with _named(path.name):
            gzipped = raw.read(2) == GZIP_MAGIC
            size = os.fstat(raw.fileno()).st_size
            raw.seek(0)
        with gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw as f:
            yield f, size, gzipped


def read_idx(path) -> np.ndarray:
    """The array stored in one IDX file, in native byte order; gzip is detected from the magic bytes."""
    path = Path(path)
    with _reading(path) as (f, size, gzipped):
        return _read_data(f, _read_header(f, path.name, size, gzipped))


def _read_header(f, name: str, file_size: int, gzipped: bool) -> IdxHeader:
    """Parse the header from an open binary stream; a plain file's size must match it exactly, a gzip's bound it."""
    with _named(name):
        magic = f.read(4)
    if len(magic) < 4:
        raise IdxError(_("{name} is not an IDX file: it holds only {size} bytes").format(name=name, size=len(magic)))
    code, n_dims = magic[2], magic[3]
    if magic[:2] != b"\0\0" or code not in IDX_DTYPES or not 1 <= n_dims <= MAX_DIMS:
        raise IdxError(_("{name} is not an IDX file: magic number 0x{magic:08x}").format(
            name=name, magic=struct.unpack(">I", magic)[0]))
    with _named(name):
        dims_bytes = f.read(4 * n_dims)
    if len(dims_bytes) < 4 * n_dims:
        raise IdxError(_("{name} is cut short: its header declares {dims} dimensions but ends early").format(
            name=name, dims=n_dims))
    header = IdxHeader(name, IDX_DTYPES[code], struct.unpack(f">{n_dims}I", dims_bytes), gzipped)
    n_elements = math.prod(header.dims)  # Python ints: no overflow however big the header claims
    if n_elements > MAX_ELEMENTS:
        total = header.shape_text if n_dims == 1 else f"{header.shape_text} = {n_elements}"
        raise IdxError(_("{name}: header declares {total} items, more than the limit of {limit}").format(
            name=name, total=total, limit=MAX_ELEMENTS))
    expected = header.n_bytes
    held = file_size - 4 - 4 * n_dims  # plain file: the data bytes; gzip: the compressed bytes
    if not gzipped and expected != held:  # checked before anything is allocated
        raise IdxError(_("{name}: header says {shape} = {expected} bytes but the file holds {held}").format(
            name=name, shape=header.shape_text, expected=expected, held=held))
    if gzipped and expected > MAX_DEFLATE_RATIO * file_size:
        raise IdxError(_("{name}: header says {shape} = {expected} bytes, more than a {size}-byte "
                         "gzip file can hold").format(name=name, shape=header.shape_text, expected=expected,
                                                      size=file_size))
    return header


def _read_data(f, header: IdxHeader) -> np.ndarray:
    """The data after the header, exactly header.n_bytes of it (a gzip is decompressed CHUNK by CHUNK)."""
    expected = header.n_bytes
    with _named(header.name):
        data = _read_exactly(f, expected) if header.gzipped else f.read(expected)
    if len(data) != expected:
        got = str(len(data)) if len(data) < expected else _("more than {expected}").format(expected=expected)
        raise IdxError(_("{name}: header says {shape} = {expected} bytes but the file holds {held}").format(
            name=header.name, shape=header.shape_text, expected=expected, held=got))
    return np.frombuffer(data, dtype=header.dtype).reshape(header.dims).astype(header.dtype.newbyteorder("="))


def _read_exactly(f, expected: int) -> bytes:
    """Up to expected + 1 bytes, decompressed CHUNK by CHUNK: one byte more reveals trailing data."""
    parts, total = [], 0
    while total <= expected:
        part = f.read(min(CHUNK, expected + 1 - total))
        if not part:
            break
        parts.append(part)
        total += len(part)
    return b"".join(parts)


def find_idx_file(folder: Path, stem: str) -> Path | None:
    """The file for a standard stem: exact name, the 'train-images.idx3-ubyte' dot variant, each with .gz."""
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def allowed_roots() -> list[Path] | None:
    """The folders IDX files may come from (PLAYGROUND_IDX_ROOTS, resolved); None: any folder."""
    value = os.environ.get(ROOTS_VARIABLE)
    if value is None:
        return None
    return [Path(p).resolve() for p in value.split(os.pathsep) if os.path.isabs(p)]


def _inside(path: Path, roots: list[Path] | None) -> bool:
    return roots is None or any(path == root or root in path.parents for root in roots)


def resolve_idx_folder(folder) -> Path:
    """The folder a user named, resolved; IdxError (never echoing the path) if it is not allowed or not there."""
    roots = allowed_roots()
    if roots == []:
        raise IdxError(_("this server does not read IDX folders ({variable} names no folder)").format(
            variable=ROOTS_VARIABLE))
    try:
        path = Path(folder).expanduser().resolve()  # resolve(): symbolic links cannot lead out of the roots
        exists = path.is_dir()
    except (OSError, ValueError, RuntimeError):  # a NUL byte, a symlink loop, an unknown ~user
        raise IdxError(_(NOT_FOUND)) from None
    if not _inside(path, roots) or not exists:
        raise IdxError(_(NOT_FOUND))
    return path


def load_idx_folder(folder) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) from the four MNIST files: uint8 (n, 28, 28) images, int64 labels."""
    folder = resolve_idx_folder(folder)
    roots = allowed_roots()
    paths = [find_idx_file(folder, stem) for _label, stem in MNIST_FILES]
    paths = [p if p is not None and _inside(p.resolve(), roots) else None for p in paths]
    missing = [f"{stem}(.gz)" for (_label, stem), p in zip(MNIST_FILES, paths) if p is None]
    if len(missing) == len(MNIST_FILES):
        raise IdxError(_(NOT_FOUND))  # the same words as for a folder that does not exist
    if missing:
        raise IdxError(_("no file {names} in that folder (all four MNIST files are needed)").format(
            names=", ".join(missing)))
    with ExitStack() as stack:  # every file stays open: the data read is the data whose header was checked
        opened = [stack.enter_context(_reading(p)) for p in paths]
        headers = [_read_header(f, p.name, size, gzipped) for p, (f, size, gzipped) in zip(paths, opened)]
        for split in (0, 2):  # every header is checked before any file's data is read
            img_label, lab_label = _(MNIST_FILES[split][0]), _(MNIST_FILES[split + 1][0])
            _check_images(img_label, headers[split])
            _check_labels(lab_label, headers[split + 1])
            n_images, n_labels = headers[split].dims[0], headers[split + 1].dims[0]
            if n_images != n_labels:
                raise IdxError(_("{images}: {n_images} but {labels}: {n_labels}").format(
                    images=img_label, n_images=n_images, labels=lab_label, n_labels=n_labels))
        arrays = [_read_data(f, header) for (f, _size, _gz), header in zip(opened, headers)]
    out = []
    for split in (0, 2):
        out += [arrays[split], _check_label_values(_(MNIST_FILES[split + 1][0]), arrays[split + 1])]
    return tuple(out)


def _check_images(label: str, header: IdxHeader) -> None:
    """A header of uint8 (n, 28, 28) images with 1 <= n <= MAX_IMAGES, or an IdxError saying what is wrong."""
    if len(header.dims) != 3:
        raise IdxError(_("{label} must be 3-D (count, rows, cols), got shape {shape}").format(
            label=label, shape=header.dims))
    if header.dims[1:] != IMAGE_SIZE:
        raise IdxError(_("{label} must be 28x28 pixels, got {rows}x{cols}").format(
            label=label, rows=header.dims[1], cols=header.dims[2]))
    if header.dtype != np.uint8:
        raise IdxError(_("{label} must hold unsigned bytes (type 0x08), got {dtype}").format(
            label=label, dtype=header.dtype.newbyteorder("=")))
    if header.dims[0] == 0:
        raise IdxError(_("{label}: the file holds no images").format(label=label))
    if header.dims[0] > MAX_IMAGES:
        raise IdxError(_("{label}: {count} images, more than the limit of {limit}").format(
            label=label, count=header.dims[0], limit=MAX_IMAGES))


def _check_labels(label: str, header: IdxHeader) -> None:
    """A header of whole-number labels (count,), or an IdxError saying what is wrong."""
    if len(header.dims) != 1:
        raise IdxError(_("{label} must be 1-D (count,), got shape {shape}").format(label=label, shape=header.dims))
    if header.dtype.kind not in "iu":
        raise IdxError(_("{label} must be whole numbers, got {dtype}").format(
            label=label, dtype=header.dtype.newbyteorder("=")))


def _check_label_values(label: str, labels: np.ndarray) -> np.ndarray:
    """int64 labels in 0-9, or an IdxError saying what is wrong."""
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise IdxError(_("{label} must be digits 0-9, got values {low}-{high}").format(
            label=label, low=labels.min(), high=labels.max()))
    return labels.astype(np.int64)


__all__ = ["IdxError", "read_idx", "load_idx_folder", "resolve_idx_folder", "allowed_roots", "find_idx_file",
           "IDX_DTYPES", "MAX_IMAGES", "MNIST_FILES", "ROOTS_VARIABLE", "NOT_FOUND"]
