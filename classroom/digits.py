""""Collect our digits": the class's own handwriting set, how the default model reads it, and its download.

Imports torch (through the engine), so `import classroom` leaves it out: `from classroom import digits`.
"""
from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import dataclass

import numpy as np
import torch

from engine.__main__ import DEFAULT_MODEL
from engine.data.idx import MNIST_FILES
from engine.nn.checkpoint import load
from engine.nn.model import Net

from .store import Store

TEST_EVERY = 5  # every 5th drawing goes to the exported test split (IDX readers want both splits)


@dataclass(frozen=True, eq=False)
class ClassDigits:
    """Every drawing the class sent, in the order sent."""

    images: np.ndarray  # (n, 28, 28) uint8, 255 = full ink (light on dark, as MNIST)
    labels: np.ndarray  # (n,) int64, the digit the student drew
    students: np.ndarray  # (n,) int64, who drew it


@dataclass(frozen=True, eq=False)
class Reading:
    """How a model reads the class's digits."""

    predicted: np.ndarray  # (n,) int64
    accuracy: float | None  # share read right (None: no drawings)
    confusion: np.ndarray  # (10, 10) int64: rows = the digit drawn, columns = the digit read
    per_digit: np.ndarray  # (10,) float: accuracy per drawn digit, NaN where none was drawn


def class_digits(store: Store, experiment_id: int) -> ClassDigits:
    images, labels, who = [], [], []
    for s in store.results(experiment_id):
        n = len(s.result.labels)
        if n:
            images.append(np.frombuffer(s.result.pixels, dtype=np.uint8).reshape(n, 28, 28))
            labels += s.result.labels
            who += [s.student_id] * n
    stacked = np.concatenate(images) if images else np.zeros((0, 28, 28), np.uint8)
    return ClassDigits(stacked, np.asarray(labels, dtype=np.int64), np.asarray(who, dtype=np.int64))


def default_model() -> Net:
    """The shipped model (assets/default.pt), loaded through the checkpoint checks."""
    return load(DEFAULT_MODEL)[0]


def read(digits: ClassDigits, model: Net | None = None) -> Reading:
    """Each drawing through the model (argmax of z^L: the calibration temperature never changes it)."""
    model = model or default_model()
    if len(digits.labels) == 0:
        return Reading(np.zeros(0, np.int64), None, np.zeros((10, 10), np.int64), np.full(10, np.nan))
    x = torch.as_tensor(digits.images.reshape(len(digits.labels), -1), dtype=torch.float32) / 255.0
    model.eval()
    with torch.no_grad():
        predicted = model(x).argmax(dim=1).numpy().astype(np.int64)
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (digits.labels, predicted), 1)
    drawn = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_digit = np.where(drawn > 0, np.diag(confusion) / drawn, np.nan)
    return Reading(predicted, float((predicted == digits.labels).mean()), confusion, per_digit)


def to_npz(digits: ClassDigits) -> bytes:
    """x (n, 28, 28) uint8 and y (n,) int64, as numpy.load reads them."""
    out = io.BytesIO()
    np.savez_compressed(out, x=digits.images, y=digits.labels)
    return out.getvalue()


def idx_bytes(array: np.ndarray) -> bytes:
    """One uint8 IDX file (type 0x08): magic, big-endian dimensions, data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def split(digits: ClassDigits) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (train, test): every TEST_EVERY-th drawing tests, and each split gets at least one."""
    test = np.arange(len(digits.labels)) % TEST_EVERY == TEST_EVERY - 1
    if len(test) >= 2 and not test.any():
        test[-1] = True
    return ~test, test


def to_idx(digits: ClassDigits) -> dict[str, bytes]:
    """The four MNIST files (what the app's idx:FOLDER reader loads), by file name."""
    train, test = split(digits)
    arrays = (digits.images[train], digits.labels[train], digits.images[test], digits.labels[test])
    return {stem: idx_bytes(a) for (_label, stem), a in zip(MNIST_FILES, arrays)}


def to_idx_zip(digits: ClassDigits) -> bytes:
    """The four IDX files in one zip, for a download button."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in to_idx(digits).items():
            z.writestr(name, data)
    return out.getvalue()


__all__ = ["ClassDigits", "Reading", "class_digits", "default_model", "read", "to_npz", "to_idx", "to_idx_zip",
           "idx_bytes", "split"]
