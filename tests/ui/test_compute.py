"""A classroom's CPU share: the training budget per session, and clicks before training."""
import threading
import time

import pytest

from ui.compute import (HOLD_SECONDS, MAX_ELAPSED, MAX_OWED, TRAINING_SHARE, WORKERS_VARIABLE, Interactive, click_waiting,
                        training_budget, training_debt, worker_cores)


def test_one_student_alone_keeps_the_full_rate():
    assert training_budget(0.6, 0.35, 1, cores=1.0) == pytest.approx(0.21)
    assert training_budget(0.6, 0.35, 0, cores=1.0) == pytest.approx(0.21)


def test_a_class_shares_the_training_share_equally_and_never_exceeds_it():
    for n in (2, 4, 8, 30):
        each = training_budget(0.6, 0.7, n, cores=0.5)
        assert each <= 0.6 * 0.7
        assert n * each / 0.7 <= TRAINING_SHARE * 0.5 + 1e-9  # all of them: at most the share of the cores
    assert training_budget(0.6, 0.7, 8, cores=0.5) == pytest.approx(TRAINING_SHARE * 0.5 * 0.7 / 8)
    assert training_budget(0.6, 0.7, 2, cores=8.0) == pytest.approx(0.6 * 0.7)  # a big machine: nobody is cut


def test_a_late_tick_is_made_up_but_a_long_absence_is_not():
    assert training_budget(0.6, 1.4, 4, cores=1.0) == pytest.approx(2 * training_budget(0.6, 0.7, 4, cores=1.0))
    assert training_budget(0.6, 600.0, 1, cores=1.0) == pytest.approx(0.6 * MAX_ELAPSED)
    assert training_budget(0.6, -1.0, 1, cores=1.0) == 0.0


def test_what_a_cut_slice_could_not_train_is_owed_to_the_next_but_never_more_than_max_owed():
    each = training_budget(0.6, 6.0, 4, cores=0.5)  # a crowded browser's tick came 6 s late
    assert training_debt(0.0, 0.6, 6.0, 4, cores=0.5) == pytest.approx(each)
    assert training_debt(0.1, 0.6, 6.0, 4, cores=0.5) == pytest.approx(each + 0.1)  # the last slice was cut short
    assert training_debt(5.0, 0.6, 1.0, 1, cores=1.0) == MAX_OWED  # a tab back from the background: no binge
    assert training_debt(-0.02, 0.6, 0.35, 1, cores=1.0) == pytest.approx(0.19)  # a chunk's overshoot is repaid


def test_a_step_longer_than_the_share_is_repaid_so_a_full_batch_keeps_to_its_share():
    # a full batch of a 1024-wide layer: 0.29 CPU s a step, beside one student (share 0.25 x 1.5 s a tick)
    owed, trained, ticks = 0.0, 0.0, 60
    for _ in range(ticks):
        budget = training_debt(owed, 0.57, 1.5, 2, cores=1.0)
        spent = 0.0 if budget <= 0 else 0.29 * max(1, -(-budget // 0.29))  # whole steps, at least one
        trained, owed = trained + spent, budget - spent
    assert trained / (ticks * 1.5) <= training_budget(0.57, 1.5, 2, cores=1.0) / 1.5 + 0.29 / (ticks * 1.5)
    assert training_debt(-5.0, 0.6, 0.35, 1, cores=1.0) == pytest.approx(-MAX_OWED + 0.21)  # bounded


def test_worker_cores_divides_the_affinity_between_the_workers(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setenv(WORKERS_VARIABLE, "4")
    assert worker_cores() == 0.5
    monkeypatch.setenv(WORKERS_VARIABLE, "nonsense")
    assert worker_cores() == 2.0
    monkeypatch.setenv(WORKERS_VARIABLE, "64")
    assert worker_cores() == 0.25  # never nothing


def test_training_waits_while_another_sessions_page_runs_and_goes_on_after():
    registry = Interactive()
    assert registry.wait_turn("trainer") < 0.05  # nobody clicking: no wait
    released = threading.Event()

    def click():
        with registry.running("clicker"):
            released.wait(5)

    thread = threading.Thread(target=click)
    thread.start()
    while not registry.others("trainer"):
        time.sleep(0.001)
    assert not registry.others("clicker")  # a session never waits for itself
    timer = threading.Timer(0.2, released.set)
    timer.start()
    waited = registry.wait_turn("trainer", max_wait=3.0)
    thread.join()
    assert 0.1 < waited < 2.0  # it waited for the click's run, and went on once it ended
    assert not registry.others("trainer")


def test_a_page_run_that_never_ends_stops_holding_the_others_back(monkeypatch):
    registry = Interactive()
    clock = [1000.0]
    monkeypatch.setattr("ui.compute.time.monotonic", lambda: clock[0])
    manager = registry.running("stuck")
    manager.__enter__()
    assert registry.others("trainer")
    clock[0] += HOLD_SECONDS + 0.1
    assert not registry.others("trainer")


def test_click_waiting_reads_streamlits_pending_request_and_ignores_timed_ticks(monkeypatch):
    """A training slice asks Streamlit to stop it only when a click waits, not at every chunk."""
    from types import SimpleNamespace

    from streamlit.proto.WidgetStates_pb2 import WidgetStates
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

    import ui.compute

    requests = ScriptRequests()
    monkeypatch.setattr(ui.compute, "get_script_run_ctx", lambda: SimpleNamespace(script_requests=requests))
    assert not click_waiting()  # training, nothing asked
    requests.request_rerun(RerunData(fragment_id_queue=["readouts"], is_auto_rerun=True))
    assert not click_waiting()  # a fragment's timer: Streamlit queues it behind the run
    requests.request_rerun(RerunData(fragment_id_queue=["readouts"]))  # Pause, a button inside the fragment
    assert click_waiting()
    requests = ScriptRequests()
    pause = WidgetStates()
    pause.widgets.add(id="train_pause", trigger_value=True)
    requests.request_rerun(RerunData(fragment_id_queue=["readouts"], widget_states=pause))
    requests.request_rerun(RerunData(fragment_id_queue=["readouts"], is_auto_rerun=True))  # a tick right after
    assert click_waiting()  # one request now, marked as the tick's, with Pause still pressed in it
    requests = ScriptRequests()
    requests.request_rerun(RerunData())  # a click elsewhere: a full run
    requests.request_rerun(RerunData(fragment_id_queue=["readouts"], is_auto_rerun=True))
    assert click_waiting()
    requests = ScriptRequests()
    requests.request_stop()  # the tab closed
    assert click_waiting()


def test_click_waiting_without_a_session_leaves_the_decision_to_streamlit(monkeypatch):
    import ui.compute

    monkeypatch.setattr(ui.compute, "get_script_run_ctx", lambda: None)
    assert click_waiting()  # the caller's element call then stops the run if Streamlit wants to
