"""TrainRun's snapshots (issue 26): written to the class store on time while training and when paused or finished,
taken up by a new session from the link's run=, deleted by Reset; too big or damaged ones are said once."""
import gc
import time
import weakref

import numpy as np
import pytest

import classroom
import ui.classroom
import ui.compute
import ui.train_run
from classroom import Limits
from engine.train.resume import restore
from ui.classroom import TrainingSlots
from ui.train_run import SAVE_EVERY, TrainRun

from tests.ui.test_train_run import NETWORK, TRAINING, built, store  # noqa: F401  (store: the fixture)


@pytest.fixture
def slots(monkeypatch) -> TrainingSlots:
    slots = TrainingSlots(2)
    monkeypatch.setattr(ui.classroom, "training_slots", lambda: slots)
    monkeypatch.setattr(ui.classroom, "session_token", lambda: "me")
    monkeypatch.setattr(ui.compute, "click_waiting", lambda: False)
    monkeypatch.setattr(ui.train_run, "TRAIN_BUDGET", 0.002)  # a slice of a few steps
    return slots


def saved(store, run: TrainRun):
    """(trainer, extra) of the run's snapshot in the store, or None."""
    data = store.get_snapshot(run.token)
    return None if data is None else restore(data)


def test_a_training_run_is_saved_at_once_then_every_save_every_seconds(store, slots):
    run = built()
    assert run.token and store.get_snapshot(run.token) is None  # nothing before the first step
    run.start()
    assert run.slice()
    first, extra = saved(store, run)
    assert first.step_count == run.trainer.step_count > 0 and extra["running"] is True
    assert abs(extra["saved_at"] - time.time()) < 5
    assert not run.save(now=run.saved + SAVE_EVERY - 0.5)  # not yet
    assert run.slice() and saved(store, run)[0].step_count == first.step_count  # within SAVE_EVERY: not written
    assert run.save(now=run.saved + SAVE_EVERY)
    assert saved(store, run)[0].step_count == run.trainer.step_count > first.step_count
    assert SAVE_EVERY <= 30  # the bound on what a crash may lose


def test_each_slice_after_the_interval_writes_the_run_as_it_is(store, slots, monkeypatch):
    monkeypatch.setattr(ui.train_run, "SAVE_EVERY", 0.0)
    run = built()
    run.start()
    for _ in range(3):
        assert run.slice()
        copy, _ = saved(store, run)
        assert copy.step_count == run.trainer.step_count
        np.testing.assert_array_equal(copy.history.column("loss"), run.trainer.history.column("loss"))


def test_pause_and_the_end_of_a_run_write_it_at_once(store, slots):
    run = built()
    run.start()
    run.slice()
    run.trainer.step(3)
    run.pause()
    copy, extra = saved(store, run)
    assert copy.step_count == run.trainer.step_count and extra["running"] is False
    run.start()
    run.trainer.step(10_000)
    assert not run.slice()  # finished
    copy, _ = saved(store, run)
    assert copy.finished and copy.step_count == run.trainer.step_count


def test_reset_deletes_the_snapshot_and_the_next_run_has_a_new_token(store, slots):
    run = built()
    run.trainer.step(2)
    run.pause()
    token = run.token
    assert store.get_snapshot(token) is not None
    run.reset()
    assert store.get_snapshot(token) is None and run.token is None
    run.ready(NETWORK, TRAINING)
    assert run.token and run.token != token


def test_a_new_session_takes_the_run_up_where_it_was_saved_and_trains_on(store, slots, monkeypatch):
    old = built()
    old.start()
    old.slice()
    old.retunes.append((2, (("lr", 0.5),)))
    old.save(force=True)
    monkeypatch.setattr(ui.train_run, "link_token", lambda: old.token)
    new = TrainRun.of({})  # another worker's session: nothing in its memory
    assert new.resume() and not new.resume()  # once
    assert new.trainer.step_count == old.trainer.step_count and new.token == old.token
    assert new.built_from == old.built_from and new.retunes == old.retunes
    np.testing.assert_array_equal(new.trainer.history.column("loss"), old.trainer.history.column("loss"))
    assert new.running and slots.busy() == 1  # it was training: it trains again
    said = new.was_resumed()
    assert f"step {old.trainer.step_count:,}" in said and "trains on" in said and new.was_resumed() is None
    assert new.slice() and new.trainer.step_count > old.trainer.step_count


def test_a_paused_run_comes_back_paused(store, slots, monkeypatch):
    old = built()
    old.trainer.step(4)
    old.pause()
    monkeypatch.setattr(ui.train_run, "link_token", lambda: old.token)
    new = TrainRun.of({})
    assert new.resume() and not new.running and new.trainer.step_count == 4
    assert "Press Start" in new.was_resumed()


def test_a_token_without_a_snapshot_is_nothing_to_resume(store, slots, monkeypatch):
    monkeypatch.setattr(ui.train_run, "link_token", lambda: "no-such-run")
    run = TrainRun.of({})
    assert not run.resume() and run.trainer is None and run.token is None
    assert run.was_resumed() is None and not run.was_lost()
    assert run.ready(NETWORK, TRAINING) is not None and run.token != "no-such-run"  # never someone else's key


def test_a_damaged_snapshot_is_dropped_and_said_once(store, slots, monkeypatch):
    store.put_snapshot("damaged", b"nn-playground run snapshot 1\n" + bytes(100))
    monkeypatch.setattr(ui.train_run, "link_token", lambda: "damaged")
    run = TrainRun.of({})
    assert not run.resume() and run.trainer is None
    assert run.was_lost() and not run.was_lost()
    assert store.get_snapshot("damaged") is None


def test_a_run_too_big_for_the_store_goes_on_unsaved_and_says_so_once(tmp_path, slots, monkeypatch):
    small = classroom.open_store(f"sqlite:///{tmp_path / 'small.db'}", limits=Limits(snapshot_bytes=100_000))
    monkeypatch.setattr(ui.train_run, "open_store", lambda: small)
    run = built()
    said = run.was_unsaved()
    assert said and "too large to be saved" in said and "100 KB" not in said and run.was_unsaved() is None
    run.start()
    assert run.slice() and run.trainer.step_count > 0  # it trains all the same
    run.pause()
    assert small.get_snapshot(run.token) is None


def test_a_closed_tabs_run_is_saved_as_it_is_when_freed_and_taken_up_when_the_tab_comes_back(store, slots,
                                                                                              monkeypatch):
    run = TrainRun.of({})
    assert not run.resume()  # the page's first run: no run= in its link
    run.ready(NETWORK, TRAINING)
    run.start()
    run.slice()
    run.slice()  # trained on since the first snapshot (SAVE_EVERY has not passed)
    steps, token = run.trainer.step_count, run.token
    assert saved(store, run)[0].step_count < steps
    old = weakref.ref(run.trainer)
    run.free()  # ClosedTabs, from its thread: no session state
    gc.collect()
    assert run.trainer is None and not run.running and old() is None  # the memory goes back
    assert saved(store, run)[0].step_count == steps and saved(store, run)[1]["running"]  # saved as it was
    assert run.resume() and run.trainer.step_count == steps and run.running  # the tab is back: trains on
    said = run.was_resumed(away=run.was_freed())
    assert "was away for more than 20 seconds" in said and f"step {steps:,}" in said and "trains on" in said
    monkeypatch.setattr(ui.train_run, "link_token", lambda: token)
    again = TrainRun.of({})  # a reload of the tab's link instead
    assert again.resume() and again.trainer.step_count == steps


def test_a_freed_run_without_a_snapshot_starts_again_from_its_settings(tmp_path, slots, monkeypatch):
    small = classroom.open_store(f"sqlite:///{tmp_path / 'small.db'}", limits=Limits(snapshot_bytes=100_000))
    monkeypatch.setattr(ui.train_run, "open_store", lambda: small)
    run = built()  # too big for this store: never saved
    run.start()
    run.slice()
    run.free()
    assert not run.resume() and run.trainer is None and run.was_freed() and run.was_resumed() is None


def test_the_classroom_link_for_students_never_carries_a_run(store, slots):
    from engine.nn.spec import to_params
    run = built()
    assert run.token and "run" not in to_params(NETWORK, TRAINING)  # lesson_link_builder's settings
