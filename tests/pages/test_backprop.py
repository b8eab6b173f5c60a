"""Backprop page logic with AppTest: which network, which digit and target, the autograd check, the descent step."""
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from engine.data.datasets import load_dataset
from engine.nn.backprop import backprop, cost
from engine.nn.model import build_model
from engine.nn.optimizers import LEARNING_RATES, learning_rates
from engine.nn.spec import NetworkSpec
from engine.views.backprop_check import mlp_arrays
from tests.apptest import open_page
from tests.i18n_text import figure_texts, unwrapped


def open_backprop(state: dict | None = None) -> AppTest:
    return open_page("pages/backprop.py", state=state, timeout=180)


def metric(at: AppTest, label: str):
    return next(m for m in at.metric if m.label == label)


def test_the_default_model_falls_back_to_the_small_network_and_checks_out():
    at = open_backprop()
    assert at.radio(key="bp_network").options == ["3Blue1Brown's 784-16-16-10 sigmoid network"]
    assert any("convolution layers" in c.value for c in at.caption)
    f64 = metric(at, "max |difference| in δ, float64")
    assert float(f64.value) < 1e-12 and 1e-12 < float(f64.delta.split(": ")[1]) < 1e-5
    # input, 3 forward layers, the graph, the output Jacobian, BP1, 2 BP2 steps, first-layer images,
    # 2 outer products, the η sweep
    assert len(at.get("plotly_chart")) == 14  # the computational graph twice: left to right, and top to bottom for a phone
    assert len(at.latex) >= 5


def test_a_validation_digit_gets_its_true_label_as_target_and_the_cost_matches_numpy():
    at = open_backprop()
    at.number_input(key="bp_index").set_value(7).run()
    labels = load_dataset("mnist5k").y_val
    assert at.selectbox(key="bp_target_val7").value == int(labels[7])
    assert float(metric(at, "C on this digit, before").value) > 0
    right = float(metric(at, "C on this digit, before").value)
    at.selectbox(key="bp_target_val7").set_value((int(labels[7]) + 1) % 10).run()
    assert not at.exception
    wrong = float(metric(at, "C on this digit, before").value)
    assert wrong > 0.5 > right  # a trained network is confidently "wrong" about a wrong target


def test_a_drawing_from_the_draw_page_is_used_with_its_label_as_target():
    pixels = np.zeros((28, 28), dtype=np.float32)
    pixels[4:24, 13:15] = 1.0  # a "1"
    at = open_backprop({"draw_pixels": pixels, "draw_label": 7})
    assert at.radio(key="bp_source").value == "Your drawing"
    assert at.selectbox(key="bp_target_drawing").value == 7
    at.radio(key="bp_source").set_value("A validation digit").run()
    assert not at.exception and at.number_input(key="bp_index").value == 0


def test_a_small_step_helps_this_digit_and_a_huge_one_overshoots_on_the_others():
    at = open_backprop()
    label = int(load_dataset("mnist5k").y_val[0])
    at.selectbox(key="bp_target_val0").set_value((label + 1) % 10).run()  # a wrong target: a large gradient
    before = float(metric(at, "C on this digit, before").value)
    at.select_slider(key="bp_eta").set_value(0.1).run()
    small = float(metric(at, "C on this digit, after one step").value)
    assert small < before
    # η from the one ladder, 0.01 to 100, still holding every η the page offered before it read the ladder
    options = [float(o) for o in at.select_slider(key="bp_eta").options]
    assert options == learning_rates(0.01, 100.0) and options == [lr for lr in LEARNING_RATES if 0.01 <= lr <= 100]
    assert {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0} <= set(options)
    at.select_slider(key="bp_eta").set_value(100.0).run()
    others = metric(at, "Mean C on 500 other digits, after")
    assert not at.exception
    after, rise = float(others.value), float(others.delta)
    assert after > 1.5 * (after - rise)  # one digit's huge step wrecks the rest: their mean cost rises by half
    assert any("overshoot" in m.value for m in at.markdown)


def test_an_active_mlp_is_used_with_its_own_weights_and_the_small_one_is_still_offered():
    model = build_model(NetworkSpec(hidden=(20,), activations="tanh", loss="mse"), seed=3)
    at = open_backprop({"active_model": (model, "trained on the Train page")})
    network = at.radio(key="bp_network")
    assert len(network.options) == 2 and network.value.startswith("The active model")
    weights, biases, acts, loss = mlp_arrays(model)
    x = load_dataset("mnist5k").x_val[0].astype(np.float64).reshape(784, 1)
    y = np.zeros((10, 1))
    y[int(at.selectbox(key="bp_target_val0").value)] = 1
    assert float(metric(at, "C on this digit, before").value) == pytest.approx(
        cost(weights, biases, acts, x, y, loss), abs=1e-4)
    deltas, _, _ = backprop(weights, biases, acts, x, y, loss)
    assert deltas[0].shape == (20, 1)
    assert any("quadratic" in latex.value for latex in at.latex)  # BP1 for the quadratic cost
    network.set_value(network.options[1]).run()
    assert not at.exception and len(at.get("plotly_chart")) == 14


@pytest.mark.parametrize("spec", [
    NetworkSpec(input_size=2, hidden=(8,), output_size=2, image_shape=None),
    NetworkSpec(hidden=(8,), output_size=1, loss="mse", regression=True),
])
def test_a_model_that_does_not_read_digits_is_named_and_the_default_used(spec):
    at = open_backprop({"active_model": (build_model(spec), "trained on the Train page")})
    assert any("does not read 28x28 digits" in w.value for w in at.warning)
    assert at.button(key="state_use_default") and not at.exception


def test_a_network_without_hidden_layers_has_no_bp2_step():
    model = build_model(NetworkSpec(hidden=(), activations=()), seed=0)
    at = open_backprop({"active_model": (model, "logistic regression")})
    assert not at.exception
    assert any("no hidden layers" in i.value for i in at.info)
    # input, one forward layer, the graph, the output Jacobian, BP1, first-layer images, η sweep
    assert len(at.get("plotly_chart")) == 8


def test_bp1_for_softmax_is_the_jacobian_product_and_bp2_comes_from_the_chain_rule():
    model = build_model(NetworkSpec(hidden=(16, 16), activations="sigmoid", init="xavier", loss="ce"), seed=0)
    at = open_backprop({"active_model": (model, "trained on the Train page")})
    assert not at.exception
    check = metric(at, "max |(∂a/∂z)ᵀ∇ₐC − (aᴸ − y)| on this digit")
    assert float(check.value) < 1e-12
    assert float(metric(at, "largest off-diagonal |∂aⱼ/∂zₖ|").value) > 0  # a full Jacobian, not a diagonal
    assert any("\\mathrm{diag}(a) - a a^T" in latex.value for latex in at.latex)
    assert not any("odot \\sigma'(z^L)" in latex.value and "simplif" in latex.value for latex in at.latex)
    assert any("W^{l+1}\\,\\mathrm{diag}" in latex.value for latex in at.latex)  # ∂z^(l+1)/∂z^l derived
    assert any("Hadamard product" in m.value for m in at.markdown)
    chain = [c.value for c in at.caption if "chain rule's product" in c.value]
    assert len(chain) == 2  # one per hidden layer of a 784-16-16-10 network
    assert all(float(c.split("max |difference| ")[1].rstrip(".")) < 1e-12 for c in chain)


def test_3blue1browns_network_has_sigmoid_outputs_and_the_quadratic_cost_so_bp1_uses_sigma_prime():
    at = open_backprop()
    assert at.radio(key="bp_network").value == "3Blue1Brown's 784-16-16-10 sigmoid network"
    assert float(metric(at, "max |(∂a/∂z)ᵀ∇ₐC − (∇ₐC ⊙ σ′(zᴸ))| on this digit").value) < 1e-12
    assert float(metric(at, "largest off-diagonal |∂aⱼ/∂zₖ|").value) == 0  # sigmoid outputs: a diagonal Jacobian
    assert any("(a^L - y) \\odot \\sigma'(z^L)" in latex.value and "quadratic" in latex.value for latex in at.latex)
    assert any("δᴸ = (aᴸ − y) ⊙ σ'(zᴸ)" in c.value and "quadratic cost" in c.value for c in at.caption)
    assert any("(quadratic)" in m.value for m in at.markdown)  # the cost the forward pass reports


def test_the_graphs_output_is_a_L_so_a2_names_only_the_worked_networks_second_layer():
    at = open_backprop()
    graph = next(chart for chart in at.get("plotly_chart") if "computational graph" in chart.proto.spec)
    texts = " ".join(figure_texts(graph.proto.spec))
    assert "a<sup>L</sup>" in texts and "z<sup>L</sup>" in texts and "δᴸ" in texts
    assert "a<sup>2</sup>" not in texts and "a²" not in texts and "δ²" not in texts and "W²" not in texts
    titles = [unwrapped(a["text"]) for chart in at.get("plotly_chart") if chart is not graph
              for a in json.loads(chart.proto.spec)["layout"].get("annotations", [])]
    # a² is the 784-16-16-10 network's second hidden layer (its forward-pass figure), and only that
    assert "a<sup>2</sup> = sigmoid(z<sup>2</sup>)" in titles


def test_the_textbook_panel_runs_3blue1browns_network_beside_his_numbers():
    at = open_backprop()
    assert any(e.label == "From the textbooks" for e in at.expander)
    assert not any("89." in m.value or "differs because" in m.value for m in at.markdown)
    at.button(key="backprop_textbook_run_3b1b-network").click().run()
    assert not at.exception
    result = at.session_state["textbook_3b1b-network"]
    assert result.measured["parameters"] == 13_002
    shown = f"{result.measured['accuracy']:.1%}"
    assert any(shown in m.value and "96.0%" in m.value for m in at.markdown)
    assert any(w.value.startswith("Ours differs because") or w.value.startswith("Ours agrees")
               for w in list(at.warning) + list(at.success))


def test_sigmoid_outputs_with_the_quadratic_cost_show_the_element_wise_bp1():
    model = build_model(NetworkSpec(hidden=(12,), activations="sigmoid", loss="mse"), seed=1)
    at = open_backprop({"active_model": (model, "trained on the Train page")})
    assert float(metric(at, "max |(∂a/∂z)ᵀ∇ₐC − (∇ₐC ⊙ σ′(zᴸ))| on this digit").value) < 1e-12
    assert float(metric(at, "largest off-diagonal |∂aⱼ/∂zₖ|").value) == 0
    assert any("\\odot \\sigma'(z^L)" in latex.value and "quadratic" in latex.value for latex in at.latex)


def test_a_chinese_session_reads_the_lesson_in_chinese_with_the_same_numbers():
    at = open_page("pages/backprop.py", query={"lang": "zh"}, timeout=180)
    assert at.title[0].value == "一步一步看反向传播"
    network = at.radio(key="bp_network")
    assert network.options == ["3Blue1Brown 的 784-16-16-10 sigmoid 网络"]
    assert network.value == "3Blue1Brown's 784-16-16-10 sigmoid network"  # the choice's key stays English
    assert any("以卷积层开头" in c.value for c in at.caption)
    assert any("**哈达玛积**" in m.value for m in at.markdown)
    figures = [" ".join(figure_texts(chart.proto.spec)) for chart in at.get("plotly_chart")]
    assert any("输出层上的 BP1，逐个数字" in f for f in figures)
    assert any("两层网络的计算图" in f for f in figures)
    before = metric(at, "此数字上的 C（之前）")
    english = open_backprop()
    assert before.value == metric(english, "C on this digit, before").value


def test_the_learning_rate_ladder_serves_every_pages_range():
    assert LEARNING_RATES[0] == 1e-4 and LEARNING_RATES[-1] == 100.0 and list(LEARNING_RATES) == sorted(LEARNING_RATES)
    assert 0.3 in LEARNING_RATES and 3e-4 in LEARNING_RATES  # decimal values, as a link's lr=0.3 reads
    assert learning_rates(0.001, 1.0)[:3] == [0.001, 0.002, 0.003] and learning_rates(0.001, 1.0)[-1] == 1.0
    # the Train page's and the Gradients page's old choices are all still on their stretch of the ladder
    assert {1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 3.0, 10.0} <= set(learning_rates(1e-4, 10.0))
    assert {0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0} <= set(learning_rates(0.001, 1.0))
    with pytest.raises(ValueError, match="on the learning-rate ladder"):
        learning_rates(0.004, 1.0)
