"""Capacity and validation: the engine's K-fold split and width sweep, and the Train page's section in AppTest."""
import json

import numpy as np
import pytest

from engine.data.datasets import load_dataset
from engine.nn.spec import NetworkSpec, TrainSpec
from engine.train.capacity import CapacitySweep, sweep
from engine.train.kfold import cross_validate, fold_dataset, fold_indices
from tests.apptest import open_page, page_warnings
from tests.i18n_text import unwrapped

MOONS = TrainSpec(dataset="moons", train_size=60, noise=0.3, epochs=3, lr=0.01, batch_size=16)
SMALL = NetworkSpec(hidden=(8,), activations="relu")


def test_folds_cover_every_training_sample_once():
    parts = fold_indices(23, 5, seed=0)
    assert len(parts) == 5 and sorted(len(p) for p in parts) == [4, 4, 5, 5, 5]
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(23))


@pytest.mark.parametrize("k, n", [(1, 10), (21, 100), (5, 4), (2.5, 10)])
def test_impossible_fold_counts_get_a_clear_message(k, n):
    with pytest.raises(ValueError, match="k must be|need at least"):
        fold_indices(n, k, seed=0)


def test_a_fold_dataset_validates_on_the_held_out_samples_only():
    data = load_dataset("moons", train_size=40, seed=0)
    held = fold_indices(len(data.x_train), 4, seed=0)[1]
    fold = fold_dataset(data, held, 2)
    assert len(fold.x_train) + len(fold.x_val) == len(data.x_train)
    np.testing.assert_array_equal(fold.x_val, data.x_train[held])
    assert not ({tuple(r) for r in fold.x_val} & {tuple(r) for r in fold.x_train})


def test_cross_validation_reports_every_fold_with_mean_and_std():
    calls = []
    result = cross_validate(SMALL, MOONS, k=3, progress=lambda done, total: calls.append((done, total)))
    assert [f.fold for f in result.folds] == [1, 2, 3] and calls[-1] == (3, 3) and len(calls) == 4
    accs = np.array([f.val_acc for f in result.folds])
    assert np.all((accs >= 0) & (accs <= 1)) and all(f.val_loss > 0 for f in result.folds)
    assert result.mean == pytest.approx(accs.mean()) and result.std == pytest.approx(accs.std())
    assert sum(f.n_val for f in result.folds) == 60 and result.folds[0].n_train == 40


def test_the_sweep_trains_one_network_per_width():
    calls = []
    result = sweep(SMALL, MOONS, widths=(1, 32), progress=lambda done, total: calls.append(done))
    assert result.widths == (1, 32) and len(result.train_error) == len(result.val_error) == 2 and calls == [0, 1, 2]
    assert all(0 <= e <= 1 for e in result.train_error + result.val_error) and result.metric == "error rate"
    # one unit cannot bend a boundary round the moons; 32 units fit the training points better
    assert result.train_error[1] < result.train_error[0]


def test_the_best_width_is_the_lowest_validation_error_narrowest_first():
    made = CapacitySweep((1, 8, 64), (0.5, 0.1, 0.0), (0.5, 0.1, 0.1), depth=1, metric="error rate")
    assert made.best_width == 8


# --- the Train page's section ---------------------------------------------------------------------
LINK = {"ds": "moons", "n": "60", "layers": "8", "act": "relu", "ep": "3", "lr": "0.01", "bs": "16", "opt": "adam"}


def open_train(**link):
    return open_page("pages/train.py", {**LINK, **link}, timeout=240)


def finish(at, key: str, ticks: int = 30):
    """Let the section's job under `key` tick (each run of the page is one tick of its fragment) until it is done."""
    for _ in range(ticks):
        if at.session_state[key].job is None:
            return at
        at.run()
        assert not at.exception
    raise AssertionError(f"{key} still training after {ticks} ticks")


def test_the_section_renders_and_a_small_sweep_draws_one_point_per_width():
    at = open_train()
    assert not page_warnings(at) and "on **moons**" in at.markdown[0].value  # the link's settings, not the defaults
    assert any(h.value == "Capacity and validation" for h in at.subheader)
    assert at.button(key="capacity_run") and at.button(key="kfold_run")
    at.multiselect(key="capacity_widths").set_value([1, 4, 32]).run()
    at.button(key="capacity_run").click().run()
    finish(at, "capacity_job")
    assert not at.exception and not at.error
    fig = next(c for c in at.get("plotly_chart") if "capacity_fig" in c.proto.id)
    train, val, best = json.loads(fig.proto.spec)["data"]
    assert train["x"] == val["x"] == [1, 4, 32] and len(val["y"]) == 3 and best["x"][0] in (1, 4, 32)
    assert any("Lowest validation error rate at width" in c.value for c in at.caption)


def test_k_fold_runs_from_the_page_with_each_fold_mean_and_std():
    at = open_train()
    at.selectbox(key="kfold_k").set_value(3).run()
    at.button(key="kfold_run").click().run()
    finish(at, "kfold_job")
    assert not at.exception and not at.error
    assert next(m for m in at.metric if m.label == "Folds").value == "3"
    mean = float(next(m for m in at.metric if m.label == "Mean validation accuracy").value)
    assert 0.3 <= mean <= 1.0
    assert any("Each fold trained on 40 samples" in c.value for c in at.caption)  # 60 moons in 3 folds
    fig = next(c for c in at.get("plotly_chart") if "kfold_fig" in c.proto.id)
    assert all(f"fold {i}" in fig.proto.spec for i in (1, 2, 3))
    at.button(key="kfold_run").click().run()  # the same settings again: the server's finished run, no training
    assert not at.exception and next(m for m in at.metric if m.label == "Folds").value == "3"
    assert at.session_state["kfold_job"].job is None


def test_finished_runs_are_kept_by_their_settings_and_the_oldest_forgotten():
    from ui.capacity_panel import FinishedRuns

    runs = FinishedRuns(2)
    assert runs.get("a") is None
    runs.put("a", 1)
    runs.put("b", 2)
    assert runs.get("a") == 1  # now b is the oldest
    runs.put("c", 3)
    assert runs.get("b") is None and runs.get("a") == 1 and runs.get("c") == 3


def test_an_empty_width_list_gets_one_clear_message():
    at = open_train()
    at.multiselect(key="capacity_widths").set_value([]).run()
    at.button(key="capacity_run").click().run()
    assert not at.exception and [e.value for e in at.error] == ["Pick at least one width."]


def test_a_full_server_refuses_the_sweep_politely_and_runs_it_once_a_slot_is_free():
    from ui.classroom import training_slots

    slots = training_slots()
    others = [f"other-student-{i}" for i in range(slots.capacity)]
    at = open_train()
    at.multiselect(key="capacity_widths").set_value([2, 16]).run()
    try:
        for token in others:
            assert slots.acquire(token)
        at.button(key="capacity_run").click().run()
        assert not at.exception and any("busy" in w.value for w in at.warning)
        assert not any("capacity_fig" in c.proto.id for c in at.get("plotly_chart"))
        assert at.session_state["capacity_job"].job is None and not at.get("progress")  # nothing runs
    finally:
        for token in others:
            slots.release(token)
    at.button(key="capacity_run").click().run()
    finish(at, "capacity_job")
    assert any("capacity_fig" in c.proto.id for c in at.get("plotly_chart"))
    assert slots.busy() == 0  # the sweep gave its slot back


# --- the jobs train a slice per tick, inside the training cap -----------------------------------------
@pytest.fixture
def one_step_a_tick(monkeypatch):
    """No CPU time to spend: every tick trains exactly one mini-batch (a slice trains at least one)."""
    import ui.capacity_panel

    monkeypatch.setattr(ui.capacity_panel, "TRAIN_BUDGET", 0.0)


def kfold_steps(at) -> tuple[int, int]:
    """(folds done, steps of the fold in training) of the session's K-fold job."""
    job = at.session_state["kfold_job"].job
    return job.done, (job.current.step_count if job.current is not None else 0)


TINY = {"ep": "1"}  # 60 moons in 3 folds of 40, batch 16: 3 steps a fold, 9 in all


def test_run_k_fold_takes_a_slot_and_trains_one_slice_per_tick_until_its_result_shows(one_step_a_tick):
    from ui.classroom import training_slots

    slots = training_slots()
    at = open_train(**TINY)
    at.selectbox(key="kfold_k").set_value(3).run()
    at.button(key="kfold_run").click().run()
    assert not at.exception and not at.error
    assert kfold_steps(at) == (0, 1)  # the click's run drew the progress, then trained its first slice
    assert at.session_state["session_token"] in slots._last_tick  # holding this session's training slot
    assert "Training fold 1 of 3" in at.get("progress")[0].proto.text
    assert at.button(key="kfold_job_stop") and not any(m.label == "Folds" for m in at.metric)
    at.run()  # the fragment's timer ticks
    assert kfold_steps(at) == (0, 2)
    at.run()  # fold 1's last step: it is measured and dropped; fold 2 is built at the next tick
    assert kfold_steps(at) == (1, 0)
    at.run()  # each tick draws the progress, then trains
    assert kfold_steps(at) == (1, 1) and "Training fold 2 of 3" in at.get("progress")[0].proto.text
    for _ in range(5):
        at.run()
    assert not at.exception and at.session_state["kfold_job"].job is None  # 9 steps, 9 slices
    assert next(m for m in at.metric if m.label == "Folds").value == "3"
    assert any("Each fold trained on 40 samples" in c.value for c in at.caption)
    assert not at.get("progress") and slots.busy() == 0  # done: the slot went back to the class


def test_stop_ends_the_job_and_gives_the_slot_back(one_step_a_tick):
    from ui.classroom import training_slots

    at = open_train(**TINY)
    at.button(key="capacity_run").click().run()  # the default widths: far from done after one step
    run = at.session_state["capacity_job"]
    assert run.job is not None and training_slots().busy() == 1
    assert "Training width 1: 0 of 9 widths done" in at.get("progress")[0].proto.text
    job = run.job
    at.button(key="capacity_job_stop").click().run()
    assert not at.exception and run.job is None and training_slots().busy() == 0
    steps = job.current.step_count
    at.run()
    assert job.current.step_count == steps and not at.get("progress")  # no tick trains it any more
    assert not any("capacity_fig" in c.proto.id for c in at.get("plotly_chart"))


def test_a_full_server_says_busy_and_runs_no_k_fold(one_step_a_tick):
    from ui.classroom import training_slots

    slots = training_slots()
    others = [f"other-student-{i}" for i in range(slots.capacity)]
    at = open_train(**TINY)
    try:
        for token in others:
            assert slots.acquire(token)
        at.button(key="kfold_run").click().run()
        assert not at.exception and any("The server is busy" in w.value for w in at.warning)
        assert at.session_state["kfold_job"].job is None and not at.get("progress")
        assert slots.busy() == slots.capacity  # the others' slots, and none for this session
        at.run()
        assert not any("busy" in w.value for w in at.warning)  # said once
    finally:
        for token in others:
            slots.release(token)


def test_a_closed_tabs_job_is_dropped_and_its_slot_given_back(one_step_a_tick, monkeypatch):
    import ui.classroom
    from ui.classroom import training_slots

    watched = []
    monkeypatch.setattr(ui.classroom, "watch_this_tab", watched.append)  # the section hands over how to free it
    at = open_train(**TINY)
    at.button(key="kfold_run").click().run()
    run = at.session_state["kfold_job"]
    assert run in watched and run.job is not None  # beside the Train page's run
    job = run.job
    run.free()  # what ClosedTabs does CLOSED_TAB_SECONDS after the tab closed
    assert run.job is None
    steps = job.current.step_count
    at.run()  # the tab comes back after that
    assert not at.exception and job.current.step_count == steps  # nothing trained it after it was freed
    assert any("the server stopped this run" in i.value for i in at.info)
    assert not at.get("progress") and training_slots().busy() == 0


def test_the_progress_speaks_the_sessions_language():
    from tests.i18n_text import chinese_in, english_left
    from engine.train.kfold import KFoldJob
    from ui.capacity_panel import kfold_words
    from ui.i18n import speaking

    job = KFoldJob(SMALL, MOONS, 3)
    assert kfold_words(job) == "Training fold 1 of 3"
    with speaking("zh"):
        text = kfold_words(job)
    assert chinese_in(text) and english_left(text) == []


def test_on_the_regression_set_folds_and_widths_are_judged_by_the_loss():
    training = TrainSpec(dataset="regression", train_size=40, epochs=2, lr=0.01, batch_size=16)
    result = cross_validate(SMALL, training, k=2)
    losses = np.array([f.val_loss for f in result.folds])
    assert result.metric == "validation loss" and all(f.val_acc is None for f in result.folds)
    assert result.mean == pytest.approx(losses.mean())
    widths = sweep(SMALL, training, widths=(4,))
    assert widths.metric == "loss" and widths.val_error[0] > 0


# --- the section in 简体中文 -----------------------------------------------------------------------
def test_the_figures_speak_the_sessions_language_and_stay_english_otherwise():
    from tests.i18n_text import chinese_in, english_left, figure_texts
    from ui.capacity_figs import capacity_curve, kfold_scores
    from ui.i18n import speaking

    def draw():
        return (capacity_curve((1, 8, 64), (0.4, 0.1, 0.0), (0.4, 0.15, 0.3), "error rate", 8),
                kfold_scores([1, 2, 3], [0.8, 0.9, 0.85], 0.85, 0.04, "validation accuracy"))

    curve, folds = draw()
    assert unwrapped(curve.layout.xaxis.title.text) == "hidden width (units per hidden layer, log scale)"
    assert unwrapped(curve.layout.title.text) == "Capacity: training and validation error against width"
    assert list(folds.data[0].x) == ["fold 1", "fold 2", "fold 3"]
    with speaking("zh"):
        curve, folds = draw()
    assert chinese_in(curve.layout.xaxis.title.text) and chinese_in(curve.layout.title.text)
    assert all(chinese_in(label) for label in folds.data[0].x) and chinese_in(folds.layout.title.text)
    texts = figure_texts(curve.to_json()) + figure_texts(folds.to_json())
    assert texts and [run for t in texts for run in english_left(t)] == []


def test_a_chinese_session_sees_the_section_its_runs_and_the_classroom_link_in_chinese():
    from tests.i18n_text import chinese_in, english_left, figure_texts
    from ui.i18n import _, speaking

    at = open_page("pages/train.py", {**LINK, "lang": "zh"}, state={"lang": "zh"}, timeout=240)
    at.multiselect(key="capacity_widths").set_value([1, 4]).run()
    at.button(key="capacity_run").click().run()
    finish(at, "capacity_job")
    at.selectbox(key="kfold_k").set_value(3).run()
    at.button(key="kfold_run").click().run()
    finish(at, "kfold_job")
    assert not at.exception and not at.error
    with speaking("zh"):
        heading, axis = _("Capacity and validation"), _("hidden width (units per hidden layer, log scale)")
        folds = _("Each fold trained on {n_train:,} samples and was validated on about {n_val:,}; the page's own "
                  "validation split is not used here.").format(n_train=40, n_val=20)
        link = _("Students who open the link get this network and these settings; locked controls are "
                 "greyed out, hidden ones are not shown. Each student still trains their own copy.")
        lowest = _("Lowest validation {metric} at width {best} ({low:.3g}). {story}").split("{")[0]
        labels = [_("Mean {metric}").format(metric=_("validation accuracy")), _("Standard deviation"), _("Folds")]
    assert chinese_in(heading) and any(h.value == heading for h in at.subheader)
    charts = [next(c for c in at.get("plotly_chart") if key in c.proto.id) for key in ("capacity_fig", "kfold_fig")]
    assert json.loads(charts[0].proto.spec)["layout"]["xaxis"]["title"]["text"] and unwrapped(json.loads(charts[0].proto.spec)["layout"]["xaxis"]["title"]["text"]) == axis and chinese_in(axis)
    captions = [c.value for c in at.caption]
    sweep = next(c for c in captions if c.startswith(lowest) and "{" not in c)
    assert folds in captions and link in captions
    lock = at.multiselect(key="train_link_lock")
    assert lock.options and all(chinese_in(label) for label in lock.options)
    texts = [t for chart in charts for t in figure_texts(chart.proto.spec)] + [sweep, folds, link]
    assert set(labels) <= {m.label for m in at.metric}
    texts += labels + list(lock.options) + [lock.label, at.selectbox(key="kfold_k").label]
    texts += [at.multiselect(key="capacity_widths").label] + [at.button(key=k).label for k in ("capacity_run",
                                                                                                "kfold_run")]
    assert [run for t in texts for run in english_left(t)] == []


def test_the_busy_message_speaks_the_sessions_language():
    from tests.i18n_text import chinese_in, english_left
    from ui.classroom import busy_message
    from ui.i18n import speaking

    assert busy_message().startswith("The server is busy: 0 students are training right now (the limit is ")
    with speaking("zh"):
        message = busy_message()
    assert chinese_in(message) and english_left(message) == []
