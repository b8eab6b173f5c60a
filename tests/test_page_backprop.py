"""Backprop page logic with AppTest: sample digits, your drawing, the autograd check and the descent step."""
import numpy as np
from streamlit.testing.v1 import AppTest

from tests.apptest import open_page


def open_backprop(state: dict | None = None) -> AppTest:
    return open_page("pages/backprop.py", state=state, timeout=180)


def metric(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


def test_the_default_model_falls_back_to_the_small_network_and_checks_out():
    at = open_backprop()
    assert at.radio(key="bp_network").value.startswith("3Blue1Brown")
    assert any("convolution" in c.value for c in at.caption)
    f64 = metric(at, "max |difference| in δ, float64")
    assert float(f64.value) < 1e-12 and float(f64.delta.split(": ")[1]) < 1e-5
    assert len([c for c in at.get("plotly_chart")]) >= 8


def test_a_drawing_from_the_draw_page_is_used_with_its_label_as_target():
    pixels = np.zeros((28, 28), dtype=np.float32)
    pixels[4:24, 13:15] = 1.0  # a "1"
    at = open_backprop({"draw_pixels": pixels, "draw_label": 1})
    assert at.radio(key="bp_source").value == "Your drawing"
    assert at.selectbox(key="bp_target_Your drawing").value == 1


def test_the_learning_rate_step_changes_the_cost_after():
    at = open_backprop()
    before = float(metric(at, "C before").value)
    at.select_slider(key="bp_eta").set_value(0.1).run()
    small = float(metric(at, "C after one step").value)
    at.select_slider(key="bp_eta").set_value(10.0).run()
    large = float(metric(at, "C after one step").value)
    assert not at.exception
    assert small < before and large != small
