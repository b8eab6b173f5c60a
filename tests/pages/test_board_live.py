"""The Board page's live part in AppTest: it re-reads the store and rebuilds its figures only when the store's
version (classroom.live) changed, and "collect our digits" shows the class's drawings and the default model's
reading of them, checked against the drawings sent and a forward pass by hand."""
import base64
import json

import numpy as np
import pytest
import torch

import classroom
import ui.board_figs
from classroom.digits import default_model
from classroom.live import board_version
from engine.data.datasets import load_dataset
from tests.pages.test_board import board_page, depth_sweep, metrics, send_results, start_class, store_url  # noqa: F401


def test_the_version_changes_with_a_join_a_send_a_resend_and_a_close(store_url):
    store = classroom.open_store(store_url)
    class_id, code, key = store.create_class("c")
    exp = store.create_experiment(key, class_id, "depth")
    seen = [board_version(store, exp)]
    _student, token = store.join(code, "Ada")
    seen.append(board_version(store, exp))
    store.assignment(token, exp)
    seen.append(board_version(store, exp))
    payload = {"numbers": {"final_loss": 0.5, "train_acc": 0.8, "val_acc": 0.8}, "deltas": [1e-3, 1e-2],
               "curve": [2.0, 1.0]}
    store.send(token, exp, "run-1", payload)
    seen.append(board_version(store, exp))
    store.clock = lambda: seen[-1][-1] + 5  # a resend replaces the result in place, later
    store.send(token, exp, "run-1", {**payload, "numbers": {**payload["numbers"], "val_acc": 0.9}})
    seen.append(board_version(store, exp))
    store.close(key, exp)
    seen.append(board_version(store, exp))
    assert len(set(seen)) == len(seen), seen
    assert board_version(store, exp) == seen[-1]  # nothing new: the same version


def test_the_board_rebuilds_its_figures_only_when_a_result_arrives(store_url, monkeypatch):
    built = []
    real = ui.board_figs.class_figure
    monkeypatch.setattr(ui.board_figs, "class_figure", lambda *a, **k: built.append(1) or real(*a, **k))
    at = start_class()
    store = classroom.open_store(store_url)
    info, exp = depth_sweep(at, store)
    send_results(store, info.join_code, exp, students=4)
    at.run()
    first = len(built)
    spec = at.get("plotly_chart")[0].proto.spec
    for _ in range(3):  # the fragment's ticks with nothing new: no figure built, the same chart sent
        at.run()
    assert len(built) == first
    assert at.get("plotly_chart")[0].proto.spec == spec
    assert metrics(at)["Sent"] == "4"
    _student, token = store.join(info.join_code, "Late")
    store.send(token, exp, "run-late", {"numbers": {"final_loss": 0.4, "train_acc": 0.9, "val_acc": 0.9},
                                        "deltas": [1e-3, 1e-2], "curve": [2.0, 0.4]})
    at.run()
    assert len(built) == first + 1 and metrics(at)["Sent"] == "5"
    assert at.get("plotly_chart")[0].proto.spec != spec


def array(value) -> np.ndarray:
    """An array of a chart's JSON as sent to the browser: a list, or Plotly's typed array (dtype, base64 bytes)."""
    if isinstance(value, dict):
        shape = [int(n) for n in str(value.get("shape", "-1")).split(",")]
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).reshape(shape)
    return np.asarray(value, dtype=float)


@pytest.fixture(scope="module")
def mnist():
    data = load_dataset("mnist5k")
    return data.x_val[:30].reshape(-1, 28, 28), data.y_val[:30]


def test_collect_our_digits_shows_the_class_drawings_and_the_models_reading(store_url, mnist):
    images, labels = mnist
    at = start_class()
    store = classroom.open_store(store_url)
    info = store.teacher_class(at.session_state["board_teacher_key"])
    at.selectbox(key="board_template").set_value("digits")
    at.button(key="board_create").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Waiting for the first drawings" in i.value for i in at.info)
    exp = store.experiments(info.id)[0].id
    for s in range(3):  # three students each draw ten digits on the Draw page and send them
        part = slice(10 * s, 10 * (s + 1))
        payload = {"digits": [{"label": int(y), "pixels": x} for x, y in zip(images[part], labels[part])]}
        store.send(store.join(info.join_code, f"s{s}")[1], exp, f"r{s}", payload)
    at.run()
    assert not at.exception, at.exception
    with torch.no_grad():  # the reference: the default model called by hand on the pixels as stored
        pixels = np.round(images * 255).astype(np.uint8).reshape(30, 784) / 255.0
        read = default_model()(torch.tensor(pixels, dtype=torch.float32)).argmax(1).numpy()
    accuracy = float((read == labels).mean())
    assert metrics(at)["The default model reads 30 drawings right"] == f"{accuracy:.0%}"
    assert metrics(at)["Sent"] == "3"
    gallery, confusion, per_digit = (json.loads(c.proto.spec)["data"][0] for c in at.get("plotly_chart"))
    sheet = 255 - array(gallery["z"])  # one row of 28 px per digit, ink as drawn
    for digit in range(10):
        drawn = np.round(images[labels == digit] * 255).astype(np.uint8)
        row = sheet[digit * 28:(digit + 1) * 28]
        for j, image in enumerate(drawn):
            np.testing.assert_array_equal(row[:, j * 28:(j + 1) * 28], image)
    expected = np.zeros((10, 10), int)
    np.add.at(expected, (labels, read), 1)
    np.testing.assert_array_equal(array(confusion["z"]), expected)
    for digit, value in enumerate(array(per_digit["y"])):
        drawn = labels == digit
        assert (value is None or np.isnan(value)) if not drawn.any() else value == pytest.approx((read[drawn] == digit).mean())
    downloads = {b.proto.label for b in at.get("download_button")}
    assert "Download our digits (.npz)" in downloads and "Download our digits (MNIST IDX files, .zip)" in downloads
