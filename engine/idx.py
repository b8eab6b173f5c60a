"""Read the MNIST IDX files (plain or gzipped), checking every header against the data it declares."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

# IDX type code -> big-endian numpy dtype (the format's own table).
IDX_DTYPES = {
    0x08: np.dtype(">u1"),  # unsigned byte: MNIST images and labels
    0x09: np.dtype(">i1"),  # signed byte
    0x0B: np.dtype(">i2"),  # short
    0x0C: np.dtype(">i4"),  # int
    0x0D: np.dtype(">f4"),  # float
    0x0E: np.dtype(">f8"),  # double
}
MAX_ELEMENTS = 1_000_000_000  # a header may not make us allocate more than this
MAX_DIMS = 8
GZIP_MAGIC = b"\x1f\x8b"

# The four standard files, in the order load_idx_folder returns them: (label for messages, file stem).
MNIST_FILES = (
    ("train images", "train-images-idx3-ubyte"),
    ("train labels", "train-labels-idx1-ubyte"),
    ("test images", "t10k-images-idx3-ubyte"),
    ("test labels", "t10k-labels-idx1-ubyte"),
)
IMAGE_SIZE = (28, 28)


class IdxError(ValueError):
    """An IDX file that is missing, corrupt or not what MNIST should be."""


def read_idx(path) -> np.ndarray:
    """The array stored in one IDX file, in native byte order; gzip is detected from the magic bytes."""
    path = Path(path)
    if not path.is_file():
        raise IdxError(f"no file {path.name} in {path.parent}")
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == GZIP_MAGIC
    opener = gzip.open if gzipped else open
    try:
        with opener(path, "rb") as f:
            return _read_stream(f, path.name, None if gzipped else path.stat().st_size)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:  # a broken gzip stream
        raise IdxError(f"{path.name} could not be read: {exc}") from None


def _read_stream(f, name: str, file_size: int | None) -> np.ndarray:
    """Parse header and data from an open binary stream; file_size (plain files) gives exact counts."""
    magic = f.read(4)
    if len(magic) < 4:
        raise IdxError(f"{name} is not an IDX file: it holds only {len(magic)} bytes")
    code, n_dims = magic[2], magic[3]
    if magic[:2] != b"\0\0" or code not in IDX_DTYPES or not 1 <= n_dims <= MAX_DIMS:
        raise IdxError(f"{name} is not an IDX file: magic number 0x{struct.unpack('>I', magic)[0]:08x}")
    dims_bytes = f.read(4 * n_dims)
    if len(dims_bytes) < 4 * n_dims:
        raise IdxError(f"{name} is cut short: its header declares {n_dims} dimensions but ends early")
    dims = struct.unpack(f">{n_dims}I", dims_bytes)
    n_elements = 1
    for d in dims:  # Python ints: no overflow however big the header claims
        n_elements *= d
    shape_text = "x".join(map(str, dims))
    if n_elements > MAX_ELEMENTS:
        total = shape_text if n_dims == 1 else f"{shape_text} = {n_elements}"
        raise IdxError(f"{name}: header declares {total} items, more than the limit of {MAX_ELEMENTS}")
    dtype = IDX_DTYPES[code]
    expected = n_elements * dtype.itemsize
    data = f.read(expected + 1)  # one byte more than needed reveals trailing data without reading it all
    if len(data) != expected:
        if file_size is not None:
            held = str(file_size - 4 - 4 * n_dims)
        else:
            held = str(len(data)) if len(data) < expected else f"more than {expected}"
        raise IdxError(f"{name}: header says {shape_text} = {expected} bytes but the file holds {held}")
    return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def find_idx_file(folder: Path, stem: str) -> Path | None:
    """The file for a standard stem: exact name, the 'train-images.idx3-ubyte' dot variant, each with .gz."""
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def load_idx_folder(folder) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) from the four MNIST files: uint8 (n, 28, 28) images, int64 labels."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise IdxError(f"no folder {folder}")
    paths = [find_idx_file(folder, stem) for _, stem in MNIST_FILES]
    missing = [f"{stem}(.gz)" for (_, stem), p in zip(MNIST_FILES, paths) if p is None]
    if missing:
        raise IdxError(f"no file {', '.join(missing)} in {folder} (all four MNIST files are needed)")
    arrays = [read_idx(p) for p in paths]
    out = []
    for split in (0, 2):
        (img_label, _), (lab_label, _) = MNIST_FILES[split], MNIST_FILES[split + 1]
        out += [_check_images(img_label, arrays[split]), _check_labels(lab_label, arrays[split + 1])]
        if len(out[-2]) != len(out[-1]):
            raise IdxError(f"{img_label}: {len(out[-2])} but {lab_label}: {len(out[-1])}")
    return tuple(out)


def _check_images(label: str, images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) images, or an IdxError saying what is wrong."""
    if images.ndim != 3:
        raise IdxError(f"{label} must be 3-D (count, rows, cols), got shape {images.shape}")
    if images.shape[1:] != IMAGE_SIZE:
        raise IdxError(f"{label} must be 28x28 pixels, got {images.shape[1]}x{images.shape[2]}")
    if images.dtype != np.uint8:
        raise IdxError(f"{label} must hold unsigned bytes (type 0x08), got {images.dtype}")
    if len(images) == 0:
        raise IdxError(f"{label}: the file holds no images")
    return images


def _check_labels(label: str, labels: np.ndarray) -> np.ndarray:
    """int64 labels in 0-9, or an IdxError saying what is wrong."""
    if labels.ndim != 1:
        raise IdxError(f"{label} must be 1-D (count,), got shape {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise IdxError(f"{label} must be whole numbers, got {labels.dtype}")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise IdxError(f"{label} must be digits 0-9, got values {labels.min()}-{labels.max()}")
    return labels.astype(np.int64)


__all__ = ["IdxError", "read_idx", "load_idx_folder", "find_idx_file", "IDX_DTYPES", "MNIST_FILES"]
