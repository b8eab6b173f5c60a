"""The Gradients page in AppTest: renders, shows the verdict and the CLI's numbers, compares, trains, chains."""

import pytest

from engine.nn.spec import INIT_NAMES, NetworkSpec
from engine.views.gradients import profile_at_init
from engine.views.words import sci
from tests.apptest import open_page
from tests.i18n_text import unwrapped



@pytest.fixture
def at():
    return open_page("pages/gradients.py", timeout=90)


def alerts(at) -> list[str]:
    """The text of every success / warning / error box on the page."""
    return [m.value for kind in (at.success, at.warning, at.error) for m in kind]


def small(at, depth=6, dataset="digits"):
    """Shrink the settings so each test run is quick."""
    at.slider(key="grad_depth").set_value(depth)
    at.selectbox(key="grad_dataset").set_value(dataset)
    at.run()
    assert not at.exception


def test_page_renders_with_verdicts_and_charts(at):
    # defaults: A sigmoid + N(0,1) vs B relu + He at depth 20
    assert at.warning and any("Vanishing" in w.value for w in at.warning)
    assert at.success and any("Healthy" in s.value for s in at.success)
    assert at.title[0].value == "Vanishing and exploding gradients"
    assert any("0.2^{30}" in m.value for m in at.markdown)


def test_table_equals_the_engine_and_the_cli_command(at):
    small(at, depth=5)
    expected = profile_at_init(NetworkSpec(hidden=(32,) * 5, activations="sigmoid", init="normal"),
                               "digits", 256, 0).rows
    table = at.dataframe[0].value  # configuration A comes first
    assert list(table["delta_mean_abs"]) == pytest.approx([r["delta_mean_abs"] for r in expected], rel=1e-12)
    commands = [c.value for c in at.code]
    assert any("--layers 32,32,32,32,32 --activation sigmoid --init normal" in c and "--dataset digits" in c
               for c in commands)


def test_theory_cases_show_the_right_verdict(at):
    at.slider(key="grad_depth").set_value(8)
    at.selectbox(key="grad_act_a").set_value("sigmoid")
    at.selectbox(key="grad_init_a").set_value("xavier")
    at.selectbox(key="grad_act_b").set_value("tanh")
    at.selectbox(key="grad_init_b").set_value("normal")
    at.slider(key="grad_depth").set_value(16)
    at.run()
    assert not at.exception
    assert any("A: sigmoid + Xavier — Vanishing" in w.value for w in at.warning)
    assert any("B: tanh + N(0, 1) — Exploding" in e.value for e in at.error)


def test_compare_off_shows_one_configuration(at):
    small(at)
    at.toggle(key="grad_compare").set_value(False)
    at.run()
    assert not at.exception
    verdicts = [m for m in alerts(at) if m.startswith(("**A", "**B"))]
    assert verdicts and all(v.startswith("**A") for v in verdicts)


def test_training_steps_redraw_the_profile(at):
    small(at)
    at.slider(key="grad_steps").set_value(50)
    at.run()
    assert not at.exception
    after = [m for m in alerts(at) if "after 50 steps" in m]
    assert len(after) == 2  # one per configuration
    assert all("Loss on the batch" in m for m in after)


def test_scalar_chain_shows_the_textbook_products(at):
    small(at)
    at.slider(key="grad_chain_depth").set_value(30)
    at.slider(key="grad_chain_w").set_value(0.8)
    at.run()
    product = next(m for m in at.metric if m.label.startswith("Product over 30"))
    assert product.value == sci(0.2 ** 30) == "1.1×10⁻²¹"
    at.slider(key="grad_chain_w").set_value(20.0)
    at.run()
    product = next(m for m in at.metric if m.label.startswith("Product over 30"))
    assert product.value == sci(5.0 ** 30) == "9.3×10²⁰"
    assert not at.exception


def test_bad_settings_give_a_message_not_an_exception(at):
    small(at, depth=3)
    at.selectbox(key="grad_dataset").set_value("regression")
    at.selectbox(key="grad_init_a").set_value("zeros")
    at.run()
    assert not at.exception
    assert any("Symmetric" in w.value and "same update" in w.value for w in at.warning)


def test_zero_init_is_symmetric_and_dead_relus_are_red(at):
    small(at, depth=6)
    at.selectbox(key="grad_init_a").set_value("zeros")
    at.run()
    assert not at.exception
    assert any(w.value.startswith("**A: sigmoid + zeros — Symmetric: every unit of a layer computes the same")
               for w in at.warning)


def test_scalar_chain_d2l_case_has_no_activation(at):
    small(at)
    assert any("Dive into Deep Learning" in m.value and "1.1 \\times 10^{-21}" in m.value
               and "9.3 \\times 10^{20}" in m.value for m in at.markdown)
    at.button(key="grad_chain_d2l_up").click().run()
    assert not at.exception
    assert at.selectbox(key="grad_chain_act").value == "linear" and at.slider(key="grad_chain_w").value == 5.0
    product = next(m for m in at.metric if m.label.startswith("Product over 30"))
    assert product.value == "9.3×10²⁰"
    assert next(m for m in at.metric if m.label.startswith("Factor")).value == "5"


def test_width_30_and_lecun_are_offered_and_the_defaults_stay(at):
    assert 30 in at.select_slider(key="grad_width").options or "30" in at.select_slider(key="grad_width").options
    assert at.select_slider(key="grad_width").value == 32
    from engine.nn.model import INITS
    assert INITS["lecun"].short in at.selectbox(key="grad_init_a").options  # short: the box fits on a projector
    captions = [c.value for c in at.caption]
    assert INITS["normal"].label in captions and INITS["he"].label in captions  # the full name, wrapped below
    assert (at.selectbox(key="grad_init_a").value, at.selectbox(key="grad_init_b").value) == ("normal", "he")


@pytest.mark.skipif("lecun" not in INIT_NAMES, reason="engine/nn/spec.py INIT_NAMES lacks lecun")
def test_nielsens_network_is_vanishing_at_init_and_after_training_at_chance(at):
    at.slider(key="grad_depth").set_value(4)
    at.select_slider(key="grad_width").set_value(30)
    at.selectbox(key="grad_init_a").set_value("lecun")
    at.toggle(key="grad_compare").set_value(False)
    at.run()
    assert not at.exception
    assert any(w.value.startswith("**A: sigmoid + LeCun — Vanishing") for w in at.warning)
    assert any("σ'(z) ≤ 1/4 for sigmoid" in m.value for m in at.markdown)
    at.slider(key="grad_steps").set_value(200)
    at.run()
    after = [m for m in alerts(at) if "after 200 steps" in m]
    assert len(after) == 1 and after[0] in [w.value for w in at.warning]  # not green: vanishing
    assert "The loss is still" in after[0]


@pytest.mark.skipif("lecun" not in INIT_NAMES, reason="engine/nn/spec.py INIT_NAMES lacks lecun")
def test_the_speed_of_learning_section_follows_the_book(at):
    import json
    table = next(m.value for m in at.markdown if "| measured here |" in m.value)
    measured = table.split("| measured here |")[1].split("\n")[0]
    ratio = float(measured.strip(" |").split("|")[-1].strip(" ×"))
    assert 30 < ratio < 300 and "| Nielsen's book | 0.003 | 0.017 | 0.070 | 0.285 | 95× |" in table
    chart = lambda: json.loads(next(c for c in at.get("plotly_chart")
                                    if c.proto.id.endswith("-grad_fig_speed")).proto.spec)
    assert [len(t["y"]) for t in chart()["data"]] == [1, 1, 1, 1]  # at init only, one point per hidden layer
    at.button(key="grad_speed_train").click().run(timeout=180)
    assert not at.exception
    traces = chart()["data"]
    assert [t["name"] for t in traces] == ["hidden layer 1", "hidden layer 2", "hidden layer 3", "hidden layer 4"]
    assert all(len(t["y"]) == 501 for t in traces) and chart()["layout"]["yaxis"]["type"] == "log"
    assert any(m.value.startswith("Loss on the 1000 images:") for m in at.markdown)
    assert any("ours is softmax" in c.value for c in at.caption)


def test_labels_come_from_the_engine_tables(at):
    from engine.nn.model import INITS, LOSSES
    assert at.selectbox(key="grad_init_a").format_func("normal") == INITS["normal"].short
    assert at.selectbox(key="grad_loss").format_func("mse") == LOSSES["mse"].short == "quadratic"
    assert "not PyTorch's MSELoss" in at.selectbox(key="grad_loss").help


MARKDOWN_ERROR = "**x** [a](http://h)"


def test_an_engine_error_is_shown_as_typed_not_as_markdown(monkeypatch):
    import streamlit as st

    import engine.views.gradients
    from ui.plain_text import plain

    def refuse(*args, **kwargs):
        raise ValueError(MARKDOWN_ERROR)

    monkeypatch.setattr(engine.views.gradients, "profile_at_init", refuse)
    st.cache_data.clear()  # the profile at init is cached: make the page ask the engine again
    at = open_page("pages/gradients.py", timeout=90)
    errors = [e.value for e in at.error]
    assert errors == [f"These settings do not work: {plain(MARKDOWN_ERROR)}"]
    assert "**x**" not in errors[0] and "](http" not in errors[0]  # no bold, no link once rendered


def test_a_chinese_session_sees_the_page_and_its_figures_in_chinese():
    import json
    at = open_page("pages/gradients.py", query={"lang": "zh"}, timeout=90)
    assert at.title[0].value.replace("\u2060", "") == "梯度消失与梯度爆炸"  # its terms glued by word joiners
    delta = json.loads(next(c for c in at.get("plotly_chart") if c.proto.id.endswith("-grad_fig_delta")).proto.spec)
    assert delta["layout"]["title"]["text"] == "每层的误差信号（初始化时）"
    assert unwrapped(delta["layout"]["xaxis"]["title"]["text"]) == "第 l 层（1 = 第一个隐藏层，31 = 输出层）"
    assert at.toggle(key="grad_compare").label == "与配置 B 比较（相同的种子、相同的数据）"
