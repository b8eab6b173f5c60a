"""Every lesson file is valid, a malformed one is refused by file and field, and each step's settings produce
what its reveal claims (engine-level, with the pages' own computations)."""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

import lessons
from engine.nn.spec import NetworkSpec, from_params
from engine.views.gradients import learning_speeds, profile_at_init, scalar_chain
from engine.views.neuron import ETA, train_neuron
from engine.views.presets import DEFAULT_PRESET, PRESETS
from engine.views.textbooks import CH5_SPEEDS, epochs_until_fall
from engine.views.verdicts import KINDS

ROOT = Path(__file__).resolve().parents[2]
CATALOG = lessons.load()
STEPS = [(lesson.id, n, step) for lesson in CATALOG.lessons.values() for n, step in enumerate(lesson.steps, 1)]
BOOK_CH5 = CH5_SPEEDS["784-30-30-30-30-10"]  # 0.003, 0.017, 0.070, 0.285


def step_id(item) -> str:
    return f"{item[0]}-{item[1]}"


# ---- the files ---------------------------------------------------------------------------------------------
def test_every_built_in_lesson_loads():
    assert CATALOG.problems == ()
    assert len(CATALOG.lessons) >= 6
    for lesson in CATALOG.lessons.values():
        assert 5 <= len(lesson.steps) <= 8, lesson.id
        assert 10 <= lesson.minutes <= 20


@pytest.mark.parametrize("item", STEPS, ids=step_id)
def test_every_step_is_complete_in_both_languages(item):
    _id, _n, step = item
    for option in step.question.options:
        assert option.en and option.zh
    for text in (step.question.prompt, step.task, step.look, step.reveal, step.cite.text):
        assert re.search(r"[\u4e00-\u9fff]", text.zh), text.zh  # Chinese, not a copy of the English
    assert step.cite.book and step.cite.chapter
    assert step.question.answer is not None or step.question.measure is not None
    # the same placeholders in both languages: a reveal shows the same numbers whichever the student reads
    assert sorted(lessons.PLACEHOLDER.findall(step.reveal.en)) == sorted(lessons.PLACEHOLDER.findall(step.reveal.zh))


def test_lock_names_are_the_lesson_links_controls():
    from ui.classroom import ALL_CONTROLS, LESSON_CONTROLS
    assert set(lessons.LOCKS) == set(LESSON_CONTROLS) | {ALL_CONTROLS}


def test_every_page_setting_is_a_widget_of_that_page():
    from ui.lesson_walk import WIDGETS
    for page, settings in lessons.PAGE_SETTINGS.items():
        assert set(settings) == set(WIDGETS.get(page, {})), page
        source = (ROOT / "pages" / f"{page}.py").read_text()
        for key, _cast in WIDGETS.get(page, {}).values():
            assert f'key="{key}"' in source, (page, key)


# ---- the validator on malformed files ----------------------------------------------------------------------
GOOD = (ROOT / "lessons" / "1_nielsen_ch5.toml").read_text()


@pytest.mark.parametrize("change, field", [
    (lambda t: t.replace('zh = "为什么前面的层学得最慢（Nielsen 第 5 章）"', 'zh = ""', 1), "title.zh"),
    (lambda t: t.replace('page = "gradients"', 'page = "gradient"', 1), "steps[1].page"),
    (lambda t: t.replace('speed_depth = "4"', 'speed_depth = "7"', 1), "steps[1].settings.speed_depth"),
    (lambda t: t.replace('speed_act = "sigmoid"', 'speed_act = "sigmoidd"', 1), "steps[1].settings.speed_act"),
    (lambda t: t.replace('speed_depth = "4"', 'depht = "4"', 1), "steps[1].settings.depht"),
    (lambda t: t.replace("question.answer = 0\n", "", 1), "steps[1].question.answer"),
    (lambda t: t.replace("question.answer = 0\n", "question.answer = 9\n", 1), "steps[1].question.answer"),
    (lambda t: t.replace("{gradients.speed_1:.2g}", "{gradients.speed_one:.2g}", 1), "steps[1].reveal.en"),
    (lambda t: t.replace("{gradients.speed_1:.2g}", "{train.val_acc:.2g}", 1), "steps[1].reveal.en"),
    (lambda t: t.replace('question.measure = "gradients.speed_ratio"', 'question.measure = "speed_ratio"'),
     "steps[2].question.measure"),
    (lambda t: t.replace('cite = { book = "Nielsen, Neural Networks and Deep Learning", chapter = "5", ',
                         'cite = { chapter = "5", ', 1), "steps[1].cite.book"),
    (lambda t: t.replace("[[steps]]\npage", "[[steps]]\nlock = [\"layerz\"]\npage", 1), "steps[1].lock"),
    (lambda t: t.replace("minutes = 15", "minutes = 15\nminutes = 16"), "not a readable TOML file"),
])
def test_a_malformed_file_is_refused_naming_file_and_field_and_the_others_load(tmp_path, change, field):
    (tmp_path / "a_good.toml").write_text(GOOD.replace('id = "nielsen-ch5"', 'id = "good"'))
    broken = change(GOOD)
    assert broken != GOOD
    (tmp_path / "b_broken.toml").write_text(broken)
    found = lessons.load(tmp_path)
    assert list(found.lessons) == ["good"]
    assert len(found.problems) == 1
    assert found.problems[0].startswith("b_broken.toml: ") and field in found.problems[0], found.problems[0]


def test_train_settings_are_parsed_as_a_lesson_link_is(tmp_path):
    text = (ROOT / "lessons" / "6_capacity_kfold.toml").read_text().replace('lr = "0.01"', 'lr = "fast"', 1)
    (tmp_path / "x.toml").write_text(text)
    problem = lessons.load(tmp_path).problems[0]
    assert problem.startswith("x.toml: steps[1].settings") and "lr" in problem


def test_fill_formats_measures_and_marks_the_missing():
    text = "{gradients.ratio:.2g} and {gradients.verdict} and {gradients.gain:.2f}"
    assert lessons.fill(text, {"gradients.ratio": 0.0104, "gradients.verdict": "vanishing"}) == \
        "0.01 and vanishing and —"


# ---- each step's settings produce what its reveal claims ---------------------------------------------------
def _gradients_network(settings: dict, which: str = "a") -> NetworkSpec:
    return NetworkSpec(hidden=(int(settings.get("width", 32)),) * int(settings.get("depth", 30)),
                       activations=settings[f"act_{which}"], init=settings[f"init_{which}"],
                       loss=settings.get("loss", "ce"))


VERDICT_STEPS = [item for item in STEPS if item[2].page == "gradients" and "act_a" in item[2].settings
                 and item[2].question.answer is not None
                 and {o.en for o in item[2].question.options} <= set(KINDS)]


@pytest.mark.parametrize("item", VERDICT_STEPS, ids=step_id)
def test_a_verdict_question_has_the_verdict_the_page_computes(item):
    step = item[2]
    profile = profile_at_init(_gradients_network(step.settings), step.settings.get("data", "mnist5k"))
    assert profile.verdict.kind == step.question.options[step.question.answer].en


def test_nielsen_ch5_speeds_agree_with_the_book_in_order_and_magnitude_and_the_verdict_is_vanishing():
    step = CATALOG.lessons["nielsen-ch5"].steps[0]
    network = NetworkSpec(hidden=(30,) * int(step.settings["speed_depth"]), activations=step.settings["speed_act"],
                          init=step.settings["speed_init"], loss="ce")
    speeds = learning_speeds(network, epochs=0).curve[0]  # what the page's table shows at initialisation
    assert list(np.argsort(speeds)) == [0, 1, 2, 3]  # layer 1 slowest, as the book and the step's answer say
    assert step.question.answer == 0
    ours, book = speeds[-1] / speeds[0], BOOK_CH5[-1] / BOOK_CH5[0]
    assert book / 3 <= ours <= book * 3  # "about 100 times slower" (the second step's measured answer)
    for measured, printed in zip(speeds, BOOK_CH5):  # softmax output: a few times smaller, same magnitude band
        assert printed / 20 <= measured <= printed * 2
    verdict_step = CATALOG.lessons["nielsen-ch5"].steps[2]
    assert profile_at_init(_gradients_network(verdict_step.settings)).verdict.kind == "vanishing"


def test_the_b_configuration_steps():
    last = CATALOG.lessons["nielsen-ch5"].steps[5]  # B (ReLU + He) keeps δ alive, A (sigmoid + Xavier) loses it
    assert profile_at_init(_gradients_network(last.settings, "b")).verdict.kind == "healthy"
    assert profile_at_init(_gradients_network(last.settings, "a")).verdict.kind == "vanishing"
    xavier = CATALOG.lessons["d2l-init"].steps[4]  # B (tanh + Xavier): a gain per layer near 1
    profile = profile_at_init(_gradients_network(xavier.settings, "b"))
    assert profile.verdict.kind == "healthy" and 0.8 <= profile.verdict.per_layer <= 1.25


CHAIN_ANSWERS = {"it shrinks towards 0": lambda p: p < 1e-6, "it grows without bound": lambda p: p > 1e6}


@pytest.mark.parametrize("item", [i for i in STEPS if "chain_w" in i[2].settings], ids=step_id)
def test_a_scalar_chain_step_shrinks_or_grows_as_its_answer_says(item):
    step = item[2]
    s = step.settings
    product = float(scalar_chain(int(s["chain_depth"]), float(s["chain_w"]), s["chain_act"],
                                 bias=None if s["chain_best"] == "1" else 0.0).gain[0])
    if step.question.kind == "choice":
        assert CHAIN_ANSWERS[step.question.options[step.question.answer].en](product)
    else:  # D2L's 0.2^30 ≈ 1e-21 and 5^30 ≈ 9e20, asked as a power of ten
        assert round(math.log10(product)) in (-21, 21)


def test_nielsen_ch3_the_quadratic_cost_plateaus_about_150_epochs_and_cross_entropy_does_not():
    steps = CATALOG.lessons["nielsen-ch3"].steps
    assert steps[0].settings["start"] == "saturated"
    quadratic = train_neuron("quadratic", "saturated", eta=ETA)
    cross = train_neuron("cross_entropy", "saturated", eta=ETA)
    plateau = epochs_until_fall(quadratic.cost_value)
    assert 100 <= plateau <= 200  # Nielsen: "for the first 150 or so learning epochs"
    assert epochs_until_fall(cross.cost_value) <= plateau / 10  # the third step's answer: fast, straight away


def _train(settings: dict):
    from engine.train.trainer import Trainer
    preset = PRESETS[DEFAULT_PRESET]
    trainer = Trainer(*from_params(settings, preset.network, preset.training))
    while not trainer.finished:
        trainer.run_for(5.0)
    return trainer


def test_3b1b_network_has_13002_weights_and_biases():
    from engine.nn.model import build_model, count_parameters
    step = CATALOG.lessons["3b1b-network"].steps[0]
    network, _training = from_params(step.settings)
    assert count_parameters(build_model(network, 0)) == 13_002


@pytest.mark.slow
def test_train_steps_underfit_fit_and_3b1b_reach_what_their_answers_say():
    under, wide = CATALOG.lessons["capacity-kfold"].steps[:2]
    last = _train(under.settings).history.epochs[-1]
    assert last["val_acc"] < 0.8 and abs(last["train_acc"] - last["val_acc"]) < 0.1  # both low, close together
    assert _train(wide.settings).history.epochs[-1]["val_acc"] > last["val_acc"] + 0.2
    three = _train(CATALOG.lessons["3b1b-network"].steps[1].settings).history.epochs[-1]
    assert three["val_acc"] > 0.8  # the answer "over 80 %"


@pytest.mark.slow
def test_backprop_steps_on_validation_digit_0():
    from engine.data.datasets import load_dataset
    from engine.views.backprop import descent_step, digit_image, other_digits, work_through
    from engine.views.backprop_check import mlp_arrays, small_network
    data = load_dataset("mnist5k")
    target = int(data.y_val[0])
    worked = work_through(mlp_arrays(small_network(seed=0)), digit_image(data.x_val[0]), target)
    assert worked.steps[0].delta[target] < 0  # BP1's sign at the target digit: negative
    assert worked.differences["float64"]["delta"] < 1e-12  # autograd agrees to rounding
    descent = descent_step(worked, 1.0, *other_digits(data.x_val, data.y_val, 0, 500))
    assert descent.this_after < descent.this_before  # one step lowers this digit's cost
    assert abs(descent.others_after - descent.others_before) < 0.01  # and barely moves the others'
