"""TrainRun, the Train page's run: Start, Pause, Step, Reset, a retune at the next step, a closed tab freed."""
import dataclasses
import re

import pytest

import classroom
import ui.classroom
import ui.compute
import ui.train_run
from engine.nn.spec import NetworkSpec, TrainSpec
from ui.classroom import TrainingSlots
from ui.train_run import CLASS_TICK_SECONDS, KEY, TICK_SECONDS, Tick, TrainRun

NETWORK = NetworkSpec(hidden=(8,))
TRAINING = TrainSpec(dataset="moons", optimizer="sgd", lr=0.1, batch_size=32, epochs=3)


@pytest.fixture(autouse=True)
def store(tmp_path, monkeypatch):
    """The class store the run's snapshots go to: a fresh SQLite file (tests/ui/test_train_run_snapshots.py)."""
    store = classroom.open_store(f"sqlite:///{tmp_path / 'classroom.db'}")
    monkeypatch.setattr(ui.train_run, "open_store", lambda: store)
    return store


@pytest.fixture
def slots(monkeypatch) -> TrainingSlots:
    """A server with one training slot, and this session's token "me"."""
    slots = TrainingSlots(1)
    monkeypatch.setattr(ui.classroom, "training_slots", lambda: slots)
    monkeypatch.setattr(ui.classroom, "session_token", lambda: "me")
    return slots


def built(state: dict | None = None) -> TrainRun:
    """A session's run with its trainer built from NETWORK and TRAINING, on the page's first run."""
    run = TrainRun.of({} if state is None else state)
    assert run.ready(NETWORK, TRAINING) is not None
    run.timer()  # the page draws the live panel
    return run


def test_a_session_has_one_run_kept_under_one_key():
    state = {}
    run = TrainRun.of(state)
    assert state == {KEY: run} and TrainRun.of(state) is run
    assert run.trainer is None and not run.running and run.tick is Tick.STILL and run.retunes == []


def test_start_runs_with_a_slot_and_hands_the_panel_to_the_whole_page(slots):
    run = built()
    run.slices.owed, run.slices.last_slice = 0.3, 12.0  # left from an earlier run
    run.start()
    assert run.running and slots.busy() == 1
    assert (run.slices.owed, run.slices.last_slice) == (0.0, None)  # the first slice trains one tick's worth
    assert run.hands_over()  # the panel's run gives way to the whole page...
    assert run.timer() == TICK_SECONDS and run.tick is Tick.TICKING  # ...which draws the panel with the timer
    assert not run.hands_over()  # and the ticks train in the panel


def test_start_on_a_full_server_says_busy_once_and_does_not_run(slots):
    assert slots.acquire("another student")
    run = built()
    run.start()
    assert not run.running and run.was_busy() and not run.was_busy()
    assert run.timer() is None and run.tick is Tick.STILL


def test_pause_stops_now_and_the_next_tick_stops_the_timer(slots):
    run = built()
    run.start()
    run.timer()
    run.pause()
    assert not run.running and slots.busy() == 0  # the slot goes back at once
    assert run.tick is Tick.PAUSED
    assert not run.hands_over()  # the Pause click's own panel run draws the stopped run
    assert run.hands_over()  # the timer's next tick: the whole page, which draws no timer
    assert run.timer() is None and run.tick is Tick.STILL
    assert not run.hands_over()


def test_step_while_paused_trains_exactly_one_mini_batch_on_the_pages_next_run(slots):
    run = built()
    trainer = run.trainer
    run.step()
    assert run.step_once and run.tick is Tick.WHOLE_PAGE and run.hands_over()
    assert run.ready(NETWORK, TRAINING) is trainer and trainer.step_count == 1
    assert run.ready(NETWORK, TRAINING) is trainer and trainer.step_count == 1  # once
    run.step()
    run.ready(NETWORK, TRAINING)
    assert trainer.step_count == 2 and not run.running


def test_reset_drops_the_run_and_the_next_page_run_builds_a_new_one(slots):
    run = built()
    old = run.trainer
    run.start()
    run.reset()
    assert run.trainer is None and run.retunes == [] and not run.running and slots.busy() == 0
    assert run.tick is Tick.WHOLE_PAGE
    new = run.ready(NETWORK, TRAINING)
    assert new is not old and new.step_count == 0


def test_a_new_learning_rate_is_taken_live_from_the_next_step(slots):
    run = built()
    trainer = run.trainer
    run.step()
    run.ready(NETWORK, TRAINING)
    faster = dataclasses.replace(TRAINING, lr=0.5)
    assert not run.sync(NETWORK, faster)  # not "Settings changed": the run takes it
    assert run.trainer is trainer and trainer.optimizer.lr == 0.5 and run.built_from == (NETWORK, faster)
    assert run.retunes == [(2, (("lr", 0.5),))]  # the first step with η = 0.5 is step 2
    assert run.marks() == ((2, "η 0.5"),) and run.last_retune() == "η is now 0.5 from step 2."
    assert not run.sync(NETWORK, faster) and len(run.retunes) == 1  # the same settings again: nothing new
    run.step()
    run.ready(NETWORK, faster)
    assert trainer.step_count == 2


def test_a_retune_before_the_first_step_is_no_marker(slots):
    run = built()
    assert not run.sync(NETWORK, dataclasses.replace(TRAINING, lr=0.5))
    assert run.trainer.optimizer.lr == 0.5 and run.retunes == [] and run.last_retune() is None


def test_other_changes_keep_a_trained_run_until_reset_and_drop_an_untrained_one(slots):
    run = built()
    longer = dataclasses.replace(TRAINING, epochs=5)
    wider = NetworkSpec(hidden=(16,))
    assert not run.sync(wider, TRAINING) and run.trainer is None  # nothing trained yet: follow the settings
    run = built()
    run.step()
    trainer = run.ready(NETWORK, TRAINING)
    assert run.sync(NETWORK, longer) and run.sync(wider, dataclasses.replace(TRAINING, lr=0.5))
    assert run.trainer is trainer and trainer.training == TRAINING and run.retunes == []  # kept as it was


def test_a_closed_tabs_run_is_freed_and_the_page_says_so_once(slots):
    run = built()
    run.start()
    run.step()
    run.ready(NETWORK, TRAINING)
    run.retunes.append((2, (("lr", 0.5),)))
    run.free()
    assert run.trainer is None and not run.running and run.retunes == []
    assert run.built_from == (NETWORK, TRAINING)  # the settings stay
    assert run.was_freed() and not run.was_freed()


def test_a_slice_trains_and_a_finished_run_stops(slots, monkeypatch):
    monkeypatch.setattr(ui.compute, "click_waiting", lambda: False)
    monkeypatch.setattr(ui.train_run, "TRAIN_BUDGET", 0.001)  # a slice of a step or a few, not the whole run
    run = built()
    run.start()
    assert run.slice() and run.trainer.step_count > 0 and run.slices.last_slice is not None and run.running
    run.trainer.step(10_000)  # to the last epoch
    assert run.trainer.finished and not run.slice() and not run.running and slots.busy() == 0


def test_a_slot_that_expired_stops_the_run_and_says_busy(slots):
    run = built()
    run.start()
    slots.release("me")
    assert slots.acquire("another student")  # took the slot while this tab slept
    assert not run.slice() and not run.running and run.was_busy() and run.trainer.step_count == 0


def test_a_class_redraws_less_often(slots, monkeypatch):
    run = built()
    run.start()
    monkeypatch.setattr(slots, "busy", lambda: 5)
    assert run.timer() == CLASS_TICK_SECONDS


# --- the per-session memory budget (engine/train/budget.py, PLAYGROUND_SESSION_MB) ------------------------------
def test_the_train_page_refuses_a_network_above_the_session_budget_and_says_why_and_what_fits(monkeypatch):
    from tests.pages.test_train import open_train

    monkeypatch.delenv("PLAYGROUND_SESSION_MB", raising=False)  # the default: 500 MB
    built_runs = []
    monkeypatch.setattr(ui.train_run, "Trainer", lambda *a, **k: built_runs.append(a))
    at = open_train({"layers": ",".join(["1024"] * 50), "act": "relu", "ds": "mnist5k", "bs": "1000000",
                     "opt": "sgd"})
    assert not at.exception
    said = " ".join(e.value for e in at.error)
    assert "This network needs about" in said and "GB" in said
    assert "50 hidden layers of up to 1,024 units, batch 4,000" in said  # the batch the data allows
    assert "this server allows 500 MB per student" in said
    assert "at this batch size, 50 hidden layers of at most" in said
    assert built_runs == [] and at.session_state["train_run"].trainer is None  # nothing was allocated


def test_what_fits_is_a_smaller_batch_when_the_network_itself_fits(monkeypatch):
    from engine.train.budget import estimate

    monkeypatch.setenv("PLAYGROUND_SESSION_MB", "3")
    network = NetworkSpec(hidden=(64, 64), input_size=2, output_size=2, image_shape=None)
    training = TrainSpec(dataset="moons", batch_size=100_000)
    said = ui.train_run.over_budget(network, training, 8000)
    assert said is not None and "this server allows 3 MB per student" in said
    fits = int(re.search(r"batch size of at most (\d{1,3}(?:,\d{3})*)", said).group(1).replace(",", ""))
    assert estimate(network, TrainSpec(dataset="moons", batch_size=fits), 8000).total <= 3 * 2**20
    assert estimate(network, TrainSpec(dataset="moons", batch_size=fits + 1), 8000).total > 3 * 2**20
    assert ui.train_run.over_budget(network, TrainSpec(dataset="moons", batch_size=fits), 8000) is None


def test_a_run_within_the_budget_is_built_as_before(slots, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_SESSION_MB", "500")
    assert built().trainer.network.hidden == (8,)


def test_what_a_run_of_the_page_said_once_is_said_again_when_the_page_reruns_before_it_was_seen():
    """The run taken up after a tab was away can end in the page's own slice; the page then reruns itself, and the
    note it had just drawn would be gone unseen (tests/ui/test_classroom.py's tab coming back failed 3 runs in 4)."""
    run = TrainRun(freed=True, resumed=(1200, 3.0, True), lost=True, looked=True)  # looked: no store is read
    for _run_of_the_page in range(2):
        run.resume()  # each run of the page starts here
        assert run.was_freed() and run.was_lost()
        said = run.was_resumed(away=True)
        assert "away for more than 20 seconds" in said and "step 1,200" in said and "trains on" in said
        run.say_again()  # the page's slice found the run finished: it reruns the whole page
    run.resume()
    assert run.was_freed() and run.was_lost() and run.was_resumed(away=True) is not None
    run.resume()  # that run of the page was seen: said once
    assert not run.was_freed() and not run.was_lost() and run.was_resumed() is None
    run.say_again()  # nothing said in this run: nothing comes back
    assert not run.was_freed() and run.was_resumed() is None
