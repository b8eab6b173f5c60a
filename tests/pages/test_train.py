"""Train page logic with AppTest: presets, Step, Start, validation messages, divergence, URL settings."""
import base64
import json
import re

import numpy as np

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import open_page

from engine.views.presets import PRESETS
from engine.views.train import JUDGE_AFTER


def open_train(query: dict | None = None) -> AppTest:
    return open_page("pages/train.py", query)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def the_run(at: AppTest):
    """The page's TrainRun (ui.train_run), as the session keeps it."""
    return at.session_state["train_run"]


def charts(at: AppTest) -> dict:
    """The page's Plotly charts by key."""
    return {c.key: c for c in at.get("plotly_chart")}


def figure_words(chart) -> list[str]:
    """A Plotly chart's title, annotations (panel titles, retune markers) and trace names, read from its JSON."""
    figure = json.loads(chart.proto.spec)  # non-ASCII is escaped in it unless orjson wrote it: parse, then compare
    layout = figure["layout"]
    words = ([layout.get("title", {}).get("text", "")] + [a.get("text", "") for a in layout.get("annotations", [])]
             + [trace.get("name", "") for trace in figure["data"]])
    return [w.replace("<br>", " ") for w in words]  # titles are wrapped to a phone's width (ui.theme.fit_texts)


def numbers(values) -> list:
    """A Plotly JSON array: a list, or numpy's packed {"dtype", "bdata"} (base64)."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def test_page_opens_on_the_default_preset_with_readouts():
    at = open_train()
    assert at.selectbox(key="train_preset").value == "Modern ReLU + He + Adam"
    assert metric(at, "Step") == "0"
    assert {m.label for m in at.metric} >= {"Step", "Epoch", "Train loss", "Val accuracy", "Val loss"}
    assert at.query_params["layers"] in ("128,64", ["128,64"])  # the settings are in the URL


def test_step_trains_exactly_one_mini_batch():
    at = open_train()
    at.button(key="train_step").click().run()
    assert not at.exception
    assert metric(at, "Step") == "1"
    at.button(key="train_step").click().run()
    assert metric(at, "Step") == "2"
    assert metric(at, "Train loss") != "—"


def test_start_trains_until_paused_and_reaches_good_accuracy():
    at = open_train()
    at.button(key="train_start").click().run()
    assert not at.exception
    assert the_run(at).trainer.step_count > 0  # the tick trained after drawing the run as it was
    at.button(key="train_pause").click().run()
    held = metric(at, "Step")
    assert held == f"{the_run(at).trainer.step_count:,}"
    at.run()
    assert metric(at, "Step") == held  # paused: nothing moves
    for _ in range(12):  # each Start press trains one tick; keep going to a few epochs
        at.button(key="train_start").click().run()
        at.button(key="train_pause").click().run()
        if metric(at, "Val accuracy") != "—" and float(metric(at, "Val accuracy").rstrip("%")) > 85:
            break
    assert float(metric(at, "Val accuracy").rstrip("%")) > 85


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_loads_and_steps(preset):
    at = open_train()
    at.selectbox(key="train_preset").set_value(preset).run()
    assert not at.exception
    network = PRESETS[preset].network
    assert at.number_input(key="train_depth").value == len(network.hidden)
    assert at.selectbox(key="train_init").value == network.init
    at.button(key="train_step").click().run()
    assert not at.exception
    assert metric(at, "Step") == "1"


def test_an_impossible_setting_gets_a_clear_message_not_an_exception():
    at = open_train()
    at.selectbox(key="train_dataset").set_value("idx").run()
    assert any("folder" in e.value for e in at.error)
    at.text_input(key="train_idx_folder").input("/no/such/folder").run()
    at.button(key="train_step").click().run()
    assert not at.exception
    assert any("no MNIST files found in that folder" in e.value for e in at.error)
    assert not any("/no/such" in e.value for e in at.error)  # the server never echoes the path


def test_a_diverging_run_stops_with_a_banner_and_keeps_its_history():
    at = open_train({"layers": "64,64", "act": "linear,linear", "init": "normal", "opt": "sgd", "lr": "10"})
    at.button(key="train_start").click().run()
    assert not at.exception
    banner = " ".join(e.value for e in at.error)
    assert "Training stopped" in banner and "learning rate" in banner
    steps = metric(at, "Step")
    assert int(steps) > 0
    at.button(key="train_start").click().run()  # pressing Start again does not crash or lose the history
    assert not at.exception and metric(at, "Step") == steps


def test_a_bad_link_falls_back_to_the_defaults_with_a_warning():
    at = open_train({"layers": "99999", "lr": "abc"})
    assert any("link" in w.value for w in at.warning)
    assert at.number_input(key="train_width_0").value == 128


def test_the_two_d_and_regression_views_render():
    at = open_train()
    at.selectbox(key="train_preset").set_value("Spiral (2-D): ReLU 32-32-32").run()
    at.button(key="train_step").click().run()
    at.segmented_control(key="train_view").set_value("Predictions").run()
    assert not at.exception
    assert "Decision boundary (black line: P = 0.5)" in figure_words(charts(at)["train_fig_boundary"])
    at.selectbox(key="train_preset").set_value("Regression: fit y = x²").run()
    at.button(key="train_step").click().run()
    expected = {  # each view's charts: key -> a title it shows
        "δ per layer": {"train_fig_delta_lines": "Mean |δ<sup>l</sup>| per layer"},
        "Gradients": {"train_fig_grad": "‖∂C/∂W<sup>l</sup>‖ per layer",
                      "train_fig_ratio": "Update / weight ratio ‖ΔW‖/‖W‖"},
        "Activations": {"train_fig_acts": "Activations a<sup>l</sup> (256 validation samples)",
                        "train_fig_sat": None},
        "Weights": {"train_fig_weights": "Weights W<sup>l</sup>"},
        "Predictions": {"train_fig_fit": "Fitting y = x² + noise"},
    }
    for view, shown in expected.items():
        at.segmented_control(key="train_view").set_value(view).run()
        assert not at.exception, view
        drawn = charts(at)
        assert set(drawn) == {"train_fig_loss", "train_fig_delta", *shown}, view  # paused: Plotly's charts
        for key, title in shown.items():
            words = figure_words(drawn[key])
            assert words[0].startswith("Saturated or dead") if title is None else title in words, (view, key)
        assert "Loss C" in figure_words(drawn["train_fig_loss"]) and "Accuracy" not in figure_words(
            drawn["train_fig_loss"])  # regression: one loss panel, no accuracy


def test_a_lesson_link_locks_and_hides_controls():
    at = open_train({"layers": "16,16", "act": "sigmoid,sigmoid", "lr": "0.1", "opt": "sgd",
                     "lock": "lr,layers", "hide": "opt"})
    assert at.select_slider(key="train_lr").disabled
    assert at.select_slider(key="train_lr").value == 0.1
    assert at.number_input(key="train_depth").disabled and at.number_input(key="train_width_0").value == 16
    assert not at.selectbox(key="train_init").disabled
    assert not any(w.key == "train_optimizer" for w in at.selectbox)  # hidden, but still applied
    at.button(key="train_step").click().run()
    assert not at.exception
    assert at.query_params["lock"] in ("layers,lr", ["layers,lr"])  # kept in the URL as settings change
    assert "opt" in str(at.query_params["hide"])


def test_the_server_refuses_politely_when_every_training_slot_is_taken():
    from ui.classroom import training_slots

    slots = training_slots()
    others = [f"other-student-{i}" for i in range(slots.capacity)]
    try:
        for token in others:
            assert slots.acquire(token)
        at = open_train()
        at.button(key="train_start").click().run()
        assert not at.exception
        assert any("busy" in w.value for w in at.warning)
        assert metric(at, "Step") == "0"
        at.button(key="train_step").click().run()  # a single Step still works
        assert metric(at, "Step") == "1"
    finally:
        for token in others:
            slots.release(token)
    at.button(key="train_start").click().run()
    assert the_run(at).running and the_run(at).trainer.step_count > 1  # a slot is free again


def test_changed_settings_keep_the_run_until_reset():
    at = open_train()
    at.button(key="train_step").click().run()
    at.slider(key="train_dropout").set_value(0.2).run()  # the network itself: η and friends apply live (below)
    assert any("Settings changed" in i.value for i in at.info)
    assert metric(at, "Step") == "1"  # the run is kept
    at.button(key="train_reset").click().run()
    at.button(key="train_step").click().run()
    assert not at.exception
    assert metric(at, "Step") == "1"  # a new network...
    assert the_run(at).trainer.network.dropout == 0.2  # ...with the new dropout
    assert not any("Settings changed" in i.value for i in at.info)


def test_regression_link_asking_for_cross_entropy_is_told_it_trains_the_quadratic_cost():
    at = open_train({"ds": "regression", "loss": "ce"})
    assert not at.exception
    box = at.selectbox(key="train_loss_regression")
    assert box.value == "quadratic ½(a − y)², linear output" and box.disabled
    assert any("regression set uses the quadratic cost" in w.value for w in at.warning)
    assert at.query_params["loss"] in ("mse", ["mse"])  # the link now says what trains


def test_loss_labels_say_what_mse_is():
    at = open_train()
    at.selectbox(key="train_loss").set_value("mse").run()
    assert at.selectbox(key="train_loss").format_func("mse") == "quadratic"  # the box: a name that fits the sidebar
    label = " ".join(c.value for c in at.sidebar.caption)  # below it, the whole description
    assert "½‖a − y‖² averaged over the batch" in label and "not PyTorch's MSELoss" in label
    assert "softmax regression" in at.number_input(key="train_depth").help
    assert "AdamW" in at.select_slider(key="train_wd").help  # which decay adam gets, and biases never decay


def test_lr_50_sgd_ends_red_not_done():
    at = open_train({"lr": "50", "opt": "sgd"})
    for _ in range(3):
        at.button(key="train_start").click().run()
        if at.error:
            break
    assert not at.exception
    banner = " ".join(e.value for e in at.error)
    assert "Training stopped" in banner and "Training diverged at step" in banner and "η = 50" in banner
    assert not any("Done" in s.value for s in at.success)
    assert len(metric(at, "Train loss")) <= 10  # readable even when huge: 2.4e26, never 27 digits


def test_a_new_learning_rate_applies_to_the_run_at_the_next_step():
    at = open_train()
    at.button(key="train_step").click().run()
    trainer = the_run(at).trainer
    at.select_slider(key="train_lr").set_value(0.5).run()
    assert not at.exception
    assert not any("Settings changed" in i.value for i in at.info)
    assert any("η is now 0.5 from step 2." in i.value for i in at.info)
    assert the_run(at).trainer is trainer and trainer.optimizer.lr == 0.5  # the same run, retuned
    assert metric(at, "Step") == "1"
    assert the_run(at).retunes[-1][0] == 2  # the marker's step: the first with η = 0.5
    loss_chart = figure_words(charts(at)["train_fig_loss"])
    assert "Loss C" in loss_chart and "η 0.5" in loss_chart  # the marker on the loss chart
    at.select_slider(key="train_batch").set_value(128).run()
    assert any("The batch size is now 128 from step 2." in i.value for i in at.info)
    at.button(key="train_step").click().run()
    assert metric(at, "Step") == "2" and trainer.batch_size == 128
    at.button(key="train_reset").click().run()
    assert not the_run(at).retunes


LESSON = {"layers": "16,16", "act": "sigmoid", "lr": "0.5", "opt": "sgd", "ep": "50", "lock": "layers,lr",
          "hide": "opt"}


def visit(at: AppTest, page: str) -> None:
    """Click a page in the sidebar: Streamlit's page links open the page without the old query string."""
    at.switch_page(page)
    at.query_params.clear()
    at.run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("elsewhere", ["pages/draw.py", "pages/backprop.py"])
def test_a_lesson_links_settings_and_run_survive_a_visit_to_another_page(elsewhere):
    at = open_train(LESSON)
    at.button(key="train_step").click().run()
    at.button(key="train_step").click().run()
    at.segmented_control(key="train_view").set_value("Weights").run()
    trainer = the_run(at).trainer
    visit(at, elsewhere)
    assert "train_depth" not in at.session_state  # Streamlit dropped the widgets' own state meanwhile
    visit(at, "pages/train.py")
    assert at.number_input(key="train_depth").value == 2 and at.number_input(key="train_depth").disabled
    assert [at.number_input(key=f"train_width_{i}").value for i in (0, 1)] == [16, 16]
    assert [at.selectbox(key=f"train_act_{i}").value for i in (0, 1)] == ["sigmoid", "sigmoid"]
    assert at.select_slider(key="train_lr").value == 0.5 and at.select_slider(key="train_lr").disabled
    assert at.number_input(key="train_epochs").value == 50 and not at.number_input(key="train_epochs").disabled
    assert not any(w.key == "train_optimizer" for w in at.selectbox)  # still hidden, still SGD
    assert at.segmented_control(key="train_view").value == "Weights"
    query = {key: str(value) for key, value in at.query_params.items()}  # the URL says the link's settings again
    assert (query["layers"], query["act"], query["lr"], query["opt"], query["ep"]) == (
        "16,16", "sigmoid,sigmoid", "0.5", "sgd", "50")
    assert (query["lock"], query["hide"]) == ("layers,lr", "opt")
    assert the_run(at).trainer is trainer and trainer.step_count == 2  # the run, with its history
    assert len(trainer.history.as_dict()["step"]) == 2 and metric(at, "Step") == "2"
    assert not any("Settings changed" in i.value for i in at.info)
    at.button(key="train_step").click().run()
    assert metric(at, "Step") == "3" and trainer.optimizer.lr == 0.5


def test_using_the_trained_model_on_draw_and_coming_back_changes_no_setting():
    at = open_train()
    at.number_input(key="train_epochs").set_value(20).run()
    at.select_slider(key="train_lr").set_value(0.01).run()
    at.button(key="train_step").click().run()
    at.select_slider(key="train_lr").set_value(0.03).run()  # a live change: the run keeps going with it
    at.button(key="train_use_model").click().run()
    trainer = the_run(at).trainer
    visit(at, "pages/draw.py")
    assert "trained on the Train page" in at.session_state["active_model"][1]
    visit(at, "pages/train.py")
    assert not any("Settings changed" in i.value for i in at.info)
    assert at.number_input(key="train_epochs").value == 20 and at.select_slider(key="train_lr").value == 0.03
    assert the_run(at).trainer is trainer and metric(at, "Step") == "1"
    assert str(at.query_params["ep"]) == "20"


def switch_language(at: AppTest, lang: str) -> None:
    """What the sidebar's switch does (ui.i18n._switched). AppTest reruns a page after a click without app.py's
    frame (see ui.bootstrap.require_app_frame), so the sidebar switch is not in its tree then."""
    at.session_state["lang"], at.session_state["lang_chosen"] = lang, True
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception


def test_a_chinese_session_sees_the_page_in_chinese_and_switching_language_keeps_the_run():
    # ?lang=zh, and the language in the session as app.py leaves it: AppTest runs the page without app.py's
    # frame once another test in this process has opened it (ui.bootstrap.require_app_frame)
    at = open_page("pages/train.py", {"lang": "zh"}, state={"lang": "zh", "lang_chosen": True})
    assert at.button(key="train_start").label == "开始"
    assert {m.label for m in at.metric} == {"步数", "轮（epoch）", "训练损失", "验证准确率", "验证损失"}
    loss_chart = figure_words(charts(at)["train_fig_loss"])
    assert "损失 C" in loss_chart and "Loss C" not in loss_chart  # the loss chart's title
    at.button(key="train_step").click().run()
    at.select_slider(key="train_lr").set_value(0.01).run()
    assert any("从第 2 步起，η 改为 0.01。" in i.value for i in at.info)  # a retune, said in one Chinese sentence
    at.button(key="train_start").click().run()
    trainer, steps = the_run(at).trainer, the_run(at).trainer.step_count
    assert the_run(at).running and steps > 1
    switch_language(at, "en")  # during the run
    assert the_run(at).trainer is trainer and the_run(at).running
    shown = int(metric(at, "Step").replace(",", ""))  # the tick's view, drawn before its slice trained on
    assert steps <= shown <= trainer.step_count
    assert at.button(key="train_start").label == "Start"
    assert any("η is now 0.01 from step 2." in i.value for i in at.info)  # the earlier retune, reworded
    at.button(key="train_pause").click().run()
    steps = trainer.step_count
    switch_language(at, "zh")  # paused: the same run and step count, back in Chinese
    assert the_run(at).trainer is trainer and trainer.step_count == steps
    assert metric(at, "步数") == f"{steps:,}" and at.button(key="train_start").label == "开始"
    loss_chart = figure_words(charts(at)["train_fig_loss"])
    assert "损失 C" in loss_chart and "小批量损失" in loss_chart  # its title and legend, in Chinese again


def test_while_training_the_charts_are_light_pictures_and_once_paused_plotly_charts_to_explore():
    at = open_train()
    at.button(key="train_start").click().run()
    assert not at.exception and the_run(at).running
    pictures = [m.value for m in at.markdown if 'class="live-chart"' in m.value]
    assert [re.search(r'data-chart="(\w+)"', p).group(1) for p in pictures] == ["loss", "delta", "delta_mean_abs"]
    assert not at.get("plotly_chart")  # nothing for the browser to lay out again every tick
    assert any("pause to hover" in c.value for c in at.caption)
    at.button(key="train_pause").click().run()
    assert not any('class="live-chart"' in m.value for m in at.markdown)
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(specs) == 3 and "Loss C" in specs[0] and "Error signal" in specs[1]


def test_the_readouts_say_the_step_the_charts_end_at_in_every_tick():
    at = open_train({"ds": "moons", "layers": "8", "ep": "1000"})
    at.button(key="train_step").click().run()
    for _ in range(3):  # paused: the readouts and the Plotly loss chart end at the same step
        at.button(key="train_start").click().run()  # one tick: drawn, then a slice trained after the drawing
        assert not at.exception
        shown = int(metric(at, "Step").replace(",", ""))
        picture = next(m.value for m in at.markdown if 'data-chart="loss"' in m.value)
        assert int(re.search(r'data-last-step="(\d+)"', picture).group(1)) == shown  # the same tick's view
        assert shown <= the_run(at).trainer.step_count
        at.button(key="train_pause").click().run()
        loss = json.loads(charts(at)["train_fig_loss"].proto.spec)["data"]
        steps = numbers(next(trace["x"] for trace in loss if trace.get("name") == "mini-batch loss"))
        assert metric(at, "Step") == f"{steps[-1]:,}" == f"{the_run(at).trainer.step_count:,}"


def test_the_weight_decay_convention_states_its_formula_and_a_link_sets_it():
    at = open_train()
    radio = at.radio(key="train_wdc")
    assert radio.value == "d2l" and not radio.disabled
    assert radio.options == ["λ/2 ‖w‖² per mini-batch (D2L)", "λ/2n Σw² over the training set (Nielsen)"]
    assert "ηλw/n" in radio.help and "ηλw/n" in at.select_slider(key="train_wd").help  # what λ means, in each
    assert at.query_params["wdc"] in ("d2l", ["d2l"])
    at = open_train({"wd": "100", "wdc": "nielsen"})
    assert not at.exception
    assert at.radio(key="train_wdc").value == "nielsen" and at.select_slider(key="train_wd").value == 100.0
    at.button(key="train_step").click().run()
    trainer = the_run(at).trainer
    assert trainer.training.decay == "nielsen"
    assert trainer.optimizer.weight_decay == 100.0 / len(trainer.x_train)  # λ/n reaches the kernels


def test_a_lesson_link_that_locks_or_hides_weight_decay_covers_its_convention():
    at = open_train({"wd": "1", "wdc": "nielsen", "lock": "wd"})
    assert at.select_slider(key="train_wd").disabled and at.radio(key="train_wdc").disabled
    at = open_train({"wd": "1", "wdc": "nielsen", "hide": "wd"})
    assert not any(w.key == "train_wdc" for w in at.radio)  # hidden, but still applied
    at.button(key="train_step").click().run()
    assert not at.exception and the_run(at).trainer.training.decay == "nielsen"


def test_switching_the_convention_mid_run_retunes_the_same_run():
    at = open_train({"wd": "1"})
    at.button(key="train_step").click().run()
    trainer = the_run(at).trainer
    assert trainer.optimizer.weight_decay == 1.0
    at.radio(key="train_wdc").set_value("nielsen").run()
    assert not at.exception and the_run(at).trainer is trainer
    assert trainer.optimizer.weight_decay == 1.0 / len(trainer.x_train)
    assert any("The weight decay convention is now λ/2n Σw² over the training set (Nielsen) from step 2." in i.value
               for i in at.info)
    assert "weight decay Nielsen" in figure_words(charts(at)["train_fig_loss"])  # the loss chart's marker


# ---------------------------------------------------------------- the training judgement (issue 23)

NIELSEN_DEEP = {"layers": "30,30,30,30", "act": "sigmoid", "init": "lecun", "opt": "sgd", "lr": "0.1", "bs": "10"}


def vanishing_warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if w.value.startswith("Vanishing:")]


def train_past(at: AppTest, steps: int) -> None:
    """Start, then let the live panel tick (each rerun draws the tick's view, then trains a slice) until the
    readouts show at least `steps` steps; the run is left running."""
    at.button(key="train_start").click().run()
    for _ in range(60):
        assert not at.exception and the_run(at).running
        if int(metric(at, "Step").replace(",", "")) >= steps:
            return
        at.run()
    raise AssertionError(f"the run did not reach {steps} steps")


def test_a_deep_sigmoid_run_stuck_at_chance_is_named_vanishing_while_training_and_paused():
    at = open_train(NIELSEN_DEEP)
    train_past(at, JUDGE_AFTER)
    [live_warning] = vanishing_warnings(at)  # the live view, from the tick's one snapshot
    assert f"after {metric(at, 'Step')} steps the loss is still" in live_warning
    assert "where guessing gets 2.303" in live_warning and "of the error signal of layer 4" in live_warning
    at.button(key="train_pause").click().run()
    [paused_warning] = vanishing_warnings(at)
    assert f"after {metric(at, 'Step')} steps" in paused_warning and metric(at, "Step") == \
        f"{the_run(at).trainer.step_count:,}"


def test_a_healthy_preset_past_the_minimum_steps_shows_no_vanishing_warning():
    at = open_train({"ep": "50"})  # the default preset, long enough not to finish within a fast machine's ticks
    train_past(at, JUDGE_AFTER)
    at.button(key="train_pause").click().run()
    assert not at.exception and int(metric(at, "Step").replace(",", "")) >= JUDGE_AFTER
    assert vanishing_warnings(at) == []


def test_settings_that_went_missing_are_set_again_from_the_link_not_left_at_the_first_options():
    """A first run cut short by a rerun the browser asked for (the width hook) left keys unset: the widgets showed
    their first options (no hidden layer, η 0.0001, batch 1, 1 epoch) instead of the link's network."""
    link = {"layers": "25", "act": "relu", "lr": "0.003", "ep": "500", "seed": "1"}
    at = open_page("pages/train.py", link, state={"train_dataset": "mnist5k"})  # one key set, the rest missing
    assert at.number_input(key="train_depth").value == 1 and at.number_input(key="train_width_0").value == 25
    assert at.select_slider(key="train_lr").value == 0.003 and at.number_input(key="train_epochs").value == 500
    assert str(at.query_params["layers"]) in ("25", "['25']")
