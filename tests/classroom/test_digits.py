""""Collect our digits": the class's drawings come back intact, read by the default model, and export as
IDX files the app's idx:FOLDER reader loads."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from classroom import digits as class_digits_module
from classroom.digits import class_digits, read, to_idx, to_idx_zip, to_npz
from engine.data.datasets import load_dataset
from engine.data.idx import load_idx_folder


@pytest.fixture(scope="module")
def mnist():
    data = load_dataset("mnist5k")
    return data.x_val[:60].reshape(-1, 28, 28), data.y_val[:60]


@pytest.fixture
def drawn(store, mnist):
    """Three students each send 20 MNIST validation digits as their drawings."""
    images, labels = mnist
    class_id, code, key = store.create_class("c")
    experiment_id = store.create_experiment(key, class_id, "digits")
    for s in range(3):
        part = slice(20 * s, 20 * (s + 1))
        payload = {"digits": [{"label": int(y), "pixels": x} for x, y in zip(images[part], labels[part])]}
        store.send(store.join(code, f"s{s}")[1], experiment_id, f"r{s}", payload)
    return class_digits(store, experiment_id)


def test_the_class_drawings_come_back_as_sent(drawn, mnist):
    images, labels = mnist
    assert drawn.images.shape == (60, 28, 28) and drawn.images.dtype == np.uint8
    np.testing.assert_array_equal(drawn.images, np.round(images * 255).astype(np.uint8))
    np.testing.assert_array_equal(drawn.labels, labels)
    assert list(np.unique(drawn.students, return_counts=True)[1]) == [20, 20, 20]


def test_the_default_model_reading_matches_a_direct_forward_pass(drawn):
    model = class_digits_module.default_model()
    reading = read(drawn, model)
    with torch.no_grad():  # the independent reference: the same net, called by hand
        logits = model(torch.tensor(drawn.images.reshape(60, 784) / 255.0, dtype=torch.float32))
    expected = logits.argmax(1).numpy()
    np.testing.assert_array_equal(reading.predicted, expected)
    assert reading.accuracy == pytest.approx((expected == drawn.labels).mean())
    assert reading.accuracy > 0.8  # the default model reads MNIST digits
    assert reading.confusion.sum() == 60 and np.trace(reading.confusion) == (expected == drawn.labels).sum()
    for d in range(10):
        assert reading.confusion[d].sum() == (drawn.labels == d).sum()


def test_the_dataset_downloads_as_idx_files_and_npz(drawn, tmp_path):
    for name, data in to_idx(drawn).items():
        (tmp_path / name).write_bytes(data)
    x_train, y_train, x_test, y_test = load_idx_folder(tmp_path)
    assert (len(x_train), len(x_test)) == (48, 12)
    np.testing.assert_array_equal(np.concatenate([x_train, x_test]).sum(), drawn.images.sum())
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_test])), np.sort(drawn.labels))
    import zipfile
    assert sorted(zipfile.ZipFile(io.BytesIO(to_idx_zip(drawn))).namelist()) == sorted(to_idx(drawn))
    with np.load(io.BytesIO(to_npz(drawn))) as z:
        np.testing.assert_array_equal(z["x"], drawn.images)
        np.testing.assert_array_equal(z["y"], drawn.labels)
