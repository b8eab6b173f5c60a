"""A closed tab's run is freed CLOSED_TAB_SECONDS after its browser left (ui.classroom.ClosedTabs), not when
Streamlit drops the session two minutes later; a tab back sooner keeps it; the Train page says what happened."""
import gc

import ui.classroom
from tests.pages.test_train import open_train
from ui.classroom import CLOSED_TAB_SECONDS, ClosedTabs
from ui.train_run import TrainRun


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def watcher(connected: set[str]) -> tuple[ClosedTabs, Clock]:
    clock = Clock()
    return ClosedTabs(connected=lambda token: token in connected, clock=clock), clock


def test_a_closed_tabs_run_is_freed_once_it_has_been_gone_for_the_grace_time():
    connected = {"a", "b"}
    tabs, clock = watcher(connected)
    a, b = TrainRun(trainer="run a", running=True), TrainRun(trainer="run b", running=True)
    tabs.watch("a", a)
    tabs.watch("b", b)
    connected.discard("a")  # tab a closed
    assert tabs.sweep() == []  # seen gone now
    clock.now = CLOSED_TAB_SECONDS - 1
    assert tabs.sweep() == [] and a.trainer == "run a"  # within the grace time: kept
    clock.now = CLOSED_TAB_SECONDS + 1
    assert tabs.sweep() == ["a"]
    assert a.trainer is None and not a.running and a.freed  # only the closed tab's
    assert b.trainer == "run b" and b.running and not b.freed
    assert tabs.watched() == 1


def test_a_tab_back_within_the_grace_time_keeps_its_run_and_starts_the_count_again():
    connected = {"a"}
    tabs, clock = watcher(connected)
    a = TrainRun(trainer="run a")
    tabs.watch("a", a)
    connected.discard("a")
    tabs.sweep()
    clock.now = CLOSED_TAB_SECONDS - 5
    connected.add("a")  # a phone that lost its Wi-Fi for a moment
    tabs.sweep()
    connected.discard("a")
    clock.now = CLOSED_TAB_SECONDS + 5  # 25 s after it first left, but only just gone again
    assert tabs.sweep() == [] and a.trainer == "run a" and not a.freed


def test_a_session_streamlit_has_dropped_is_forgotten_without_freeing_anything():
    tabs, clock = watcher(set())
    run = TrainRun(trainer="run")
    tabs.watch("a", run)
    del run
    gc.collect()  # held weakly: the watcher does not keep a dropped session's run alive
    clock.now = 10 * CLOSED_TAB_SECONDS
    assert tabs.sweep() == [] and tabs.watched() == 0


def test_a_freed_train_page_says_so_keeps_its_settings_and_trains_a_new_network_on_start(monkeypatch):
    watched = []
    monkeypatch.setattr(ui.classroom, "watch_this_tab", watched.append)  # the page hands over how to free its run
    at = open_train({"layers": "16,16", "act": "sigmoid", "lr": "0.5", "opt": "sgd"})
    at.button(key="train_start").click().run()
    run = at.session_state["train_run"]
    old = run.trainer
    assert run.running and watched == [run]
    watched[0].free()  # what ClosedTabs does CLOSED_TAB_SECONDS after the tab closed
    at.run()  # the tab comes back after that
    assert not at.exception
    assert any("was away for more than 20 seconds" in i.value for i in at.info)
    assert not run.running
    assert run.trainer is not old and run.trainer.step_count == 0
    assert at.select_slider(key="train_lr").value == 0.5  # the lesson's settings stay
    at.run()
    assert not any("was away" in i.value for i in at.info)  # said once
