"""The Neuron page in AppTest: renders, the z slider moves σ and σ', gates fill the truth table, epochs advance."""
import json

import pytest

from engine.nn.activations import ACTIVATIONS, SATURATION_MARGIN
from engine.views import neuron
from tests.apptest import open_page
from tests.i18n_text import figure_texts, unwrapped
from ui.i18n import speaking
from ui.theme import KIND_COLORS


@pytest.fixture(scope="module")
def page():
    return open_page("pages/neuron.py", timeout=120)


@pytest.fixture
def at(page):
    return page


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def markdown_containing(at, text: str) -> str:
    found = [m.value for m in at.markdown if text in m.value]
    assert found, f"no markdown contains {text!r}"
    return found[0]


def test_page_renders_every_section(at):
    assert not at.exception
    assert at.title[0].value == "One neuron"
    headers = [h.value for h in at.subheader]
    for section in ("Activation functions", "One neuron learning", "Perceptrons", "non-linear", "Loss functions"):
        assert any(section in h for h in headers), section
    assert metrics(at) == {"a = σ(z)": "0.5000", "σ'(z)": "0.2500"}  # sigmoid at z = 0
    assert "This perceptron computes AND: all four rows match." in [s.value for s in at.success]
    assert any(r"W^3 W^2 W^1" in latex.value for latex in at.latex)


def test_z_slider_and_activation_change_the_numbers(at):
    at.slider(key="neuron_z").set_value(2.0).run()
    shown = metrics(at)
    assert shown["a = σ(z)"] == f"{float(neuron.sigma('sigmoid', 2.0)):.4f}" == "0.8808"
    assert shown["σ'(z)"] == "0.1050"
    at.segmented_control(key="neuron_activation").set_value("relu").run()
    at.slider(key="neuron_z").set_value(-1.0).run()
    assert metrics(at) == {"a = σ(z)": "0.0000", "σ'(z)": "0.0000"}
    assert any("died" in i.value for i in at.info)
    at.segmented_control(key="neuron_activation").set_value("leaky_relu").run()
    assert metrics(at) == {"a = σ(z)": "-0.0100", "σ'(z)": "0.0100"}
    assert any("can recover" in i.value and "slope of 0.01," in i.value for i in at.info)  # LEAKY_SLOPE, filled in
    at.segmented_control(key="neuron_activation").set_value("sigmoid").run()
    at.slider(key="neuron_z").set_value(0.0).run()


def test_the_activations_labels_symbols_and_colours_are_the_registrys(at):
    """One row per activation: the choice's label, the figure's title and the shading all come from the registry."""
    control = at.segmented_control(key="neuron_activation")
    assert list(control.options) == [control.format_func(name) for name in neuron.NEURON_ACTIVATIONS]
    assert control.format_func("linear") == ACTIVATIONS["linear"].label == "linear (identity)"
    assert control.format_func("step") == neuron.STEP.label
    for name, kind in (("sigmoid", "saturates"), ("relu", "dies")):
        at.segmented_control(key="neuron_activation").set_value(name).run()
        title = f"{ACTIVATIONS[name].label}: a = {ACTIVATIONS[name].symbol}"
        [figure] = [json.loads(c.proto.spec) for c in at.get("plotly_chart")
                    if title in map(unwrapped, figure_texts(c.proto.spec))]
        assert {shape["fillcolor"] for shape in figure["layout"]["shapes"] if "fillcolor" in shape} == \
            {KIND_COLORS[kind]} and ACTIVATIONS[name].kind == kind
    at.segmented_control(key="neuron_activation").set_value("sigmoid").run()
    assert any(f"within {SATURATION_MARGIN} of its bound" in i.value for i in at.info)


@pytest.mark.parametrize("gate, rows", [
    ("OR", ["| 0 | 0 | -0.50 | 0 | 0 | ✓ |", "| 1 | 1 | 1.50 | 1 | 1 | ✓ |"]),
    ("NAND", ["| 0 | 0 | 3.00 | 1 | 1 | ✓ |", "| 1 | 1 | -1.00 | 0 | 0 | ✓ |"]),
    ("AND", ["| 0 | 1 | -0.50 | 0 | 0 | ✓ |", "| 1 | 1 | 0.50 | 1 | 1 | ✓ |"]),
])
def test_gate_presets_give_their_truth_tables(at, gate, rows):
    at.segmented_control(key="neuron_gate").set_value(gate).run()
    assert not at.exception
    table = markdown_containing(at, f"target ({gate})")
    for row in rows:
        assert row in table
    assert f"This perceptron computes {gate}: all four rows match." in [s.value for s in at.success]


def test_xor_says_no_line_and_shows_the_hidden_layer(at):
    at.segmented_control(key="neuron_gate").set_value("XOR").run()
    errors = [e.value for e in at.error]
    assert any("no line can get all four" in e for e in errors)
    assert any("XOR = AND(OR, NAND)" in h.value for h in at.subheader)
    hidden = markdown_containing(at, "h₁ = OR")
    assert "| 0 | 1 | 1 | 1 | 1 |" in hidden and "| 1 | 1 | 1 | 0 | 0 |" in hidden
    at.slider(key="neuron_w1").set_value(-1.0).run()  # the student keeps trying: still no line
    assert any("no line can get all four" in e.value for e in at.error)
    at.segmented_control(key="neuron_gate").set_value("AND").run()
    assert at.slider(key="neuron_w1").value == 1.0  # the preset is loaded again


def test_epoch_slider_shows_that_epochs_numbers(at):
    at.slider(key="neuron_epoch").set_value(100).run()
    table = markdown_containing(at, "at epoch 100")
    quadratic = neuron.train_neuron("quadratic", "saturated")
    cross_entropy = neuron.train_neuron("cross_entropy", "saturated")
    assert f"| cost C | {quadratic.cost_value[100]:.4f} | {cross_entropy.cost_value[100]:.4f} |" in table
    why = markdown_containing(at, "the σ'(z) cancels")
    assert f"**{quadratic.dc_dw[100]:.4f}**" in why


def test_play_advances_the_epoch_and_restart_rewinds(at):
    at.button(key="neuron_rewind").click().run()
    assert at.slider(key="neuron_epoch").value == 0
    at.button(key="neuron_play").click().run()  # the run after Play already ticks once: 20 epochs a second
    assert at.session_state.neuron_playing
    played = at.slider(key="neuron_epoch").value
    assert 1 <= played <= 20
    at.button(key="neuron_pause").click().run()
    assert not at.session_state.neuron_playing
    assert at.slider(key="neuron_epoch").value == played
    at.slider(key="neuron_epoch").set_value(299).run()
    assert at.slider(key="neuron_epoch").value == 299  # paused, the slider is the student's again
    at.button(key="neuron_play").click().run()  # the last tick reaches 300 and stops by itself
    assert at.slider(key="neuron_epoch").value == 300
    assert not at.session_state.neuron_playing
    assert not at.exception


def test_a_pause_that_carries_an_older_epoch_does_not_rewind_the_player(at):
    """A click sent while a tick was on its way carries the epoch the browser last drew, not a drag."""
    at.button(key="neuron_play").click().run()
    assert at.slider(key="neuron_epoch").disabled  # while playing, the player moves the slider
    played = at.slider(key="neuron_epoch").value
    assert played >= 1
    slider = at.slider(key="neuron_epoch")
    slider._value = 0  # the browser's older value, sent with the click (set_value refuses a disabled slider)
    at.button(key="neuron_pause").click().run()
    assert not at.session_state.neuron_playing
    assert at.slider(key="neuron_epoch").value == played
    assert not at.slider(key="neuron_epoch").disabled
    assert not at.exception


def test_target_slider_states_the_targets_entropy(at):
    assert "here H(y) = 0.000." in markdown_containing(at, "KL divergence")
    at.select_slider(key="neuron_target").set_value(0.5).run()
    assert "here H(y) = 0.693." in markdown_containing(at, "KL divergence")  # ln 2
    at.select_slider(key="neuron_target").set_value(1.0).run()


def test_switching_the_relu_layer_retrains_and_keeps_a_curved_boundary(at):
    at.radio(key="neuron_relu_layer").set_value(1).run()
    assert not at.exception
    assert any("Hidden layer 2 ReLU" in text for c in at.get("plotly_chart") for text in figure_texts(c.proto.spec))


def test_a_chinese_session_reads_the_page_and_its_figures_in_chinese():
    at = open_page("pages/neuron.py", query={"lang": "zh"}, timeout=120)
    assert at.title[0].value == "单个神经元"
    assert "单个神经元的学习：为什么交叉熵学得更快" in [h.value for h in at.subheader]
    assert any("神经元**饱和**了" in i.value for i in at.info)  # sigmoid at z = 0: the saturation lesson
    assert metrics(at) == {"a = σ(z)": "0.5000", "σ'(z)": "0.2500"}  # numbers and symbols as in English
    figures = [" ".join(figure_texts(chart.proto.spec)) for chart in at.get("plotly_chart")]
    # the costs' panels: each lesson loss's label and formula, as in the loss chart's legend
    assert any("二次代价函数 ½(a − y)²" in f and "交叉熵 −[y ln a + (1 − y) ln(1 − a)]" in f for f in figures)
    assert "这个感知器计算的是 AND：四行全部一致。" in [s.value for s in at.success]
    with speaking("zh"):  # AppTest formats the radios' options outside the session when it runs again
        at.segmented_control(key="neuron_gate").set_value("XOR").run()
    assert any("任何直线都不可能四行全对" in e.value for e in at.error)
    assert "签（XOR） |" in markdown_containing(at, "| x₁ | x₂ | z = w·x + b |")


def test_the_textbook_panel_runs_nielsens_slowdown_and_shows_the_measured_plateau():
    at = open_page("pages/neuron.py", timeout=120)
    assert [e.label for e in at.expander if e.label == "From the textbooks"] == ["From the textbooks"]
    assert any("chapter 3" in c.value for c in at.caption)
    assert not any("152" in m.value for m in at.markdown)  # the book's numbers only, until it runs
    at.button(key="neuron_textbook_run_nielsen-ch3-slowdown").click().run()
    assert not at.exception
    measured = at.session_state["textbook_nielsen-ch3-slowdown"].measured
    table = next(m.value for m in at.markdown if "epochs until C falls 10%" in m.value)
    assert f"| 150 | {measured['quadratic_plateau']} |" in table  # the book's about 150 beside ours
    assert any(s.value.startswith("Ours agrees within ×") for s in at.success)
    at.run()  # kept for the session: shown again without running again
    assert any(s.value.startswith("Ours agrees within ×") for s in at.success)
