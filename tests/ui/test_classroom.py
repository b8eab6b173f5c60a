"""A closed tab's run is freed CLOSED_TAB_SECONDS after its browser left (ui.classroom.ClosedTabs), not when
Streamlit drops the session two minutes later; a tab back sooner keeps it; the Train page says what happened.
The lesson link warns when students' devices cannot open it, and says how to start the app so they can."""
import gc

import pytest
from streamlit import config

import ui.classroom
from serve.network import PUBLIC_URL_VARIABLE, student_url
from tests.pages.test_train import open_train
from ui.classroom import CLOSED_TAB_SECONDS, ClosedTabs, link_reach
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


def test_every_run_a_closed_tab_watched_is_freed_and_its_page_forgotten_once():
    connected, forgotten = set(), []
    clock = Clock()
    tabs = ClosedTabs(connected=lambda token: token in connected, clock=clock, forget=forgotten.append)
    train, kfold = TrainRun(trainer="run a", running=True), TrainRun(trainer="k-fold of a")  # a Train run, a job
    tabs.watch("a", train)
    tabs.watch("a", kfold)
    tabs.watch("a", kfold)  # the page watches again on a later run: still one entry
    assert tabs.watched() == 1
    tabs.sweep()
    clock.now = CLOSED_TAB_SECONDS + 1
    assert tabs.sweep() == ["a"] and forgotten == ["a"]
    assert train.freed and train.trainer is None and kfold.freed and kfold.trainer is None
    assert tabs.watched() == 0


def test_a_session_streamlit_has_dropped_is_forgotten_without_freeing_anything():
    tabs, clock = watcher(set())
    run = TrainRun(trainer="run")
    tabs.watch("a", run)
    del run
    gc.collect()  # held weakly: the watcher does not keep a dropped session's run alive
    clock.now = 10 * CLOSED_TAB_SECONDS
    assert tabs.sweep() == [] and tabs.watched() == 0


def test_a_freed_train_page_says_so_and_takes_its_run_up_from_the_snapshot_written_when_freed(monkeypatch):
    watched = []
    monkeypatch.setattr(ui.classroom, "watch_this_tab", watched.append)  # the page hands over how to free its run
    at = open_train({"layers": "16,16", "act": "sigmoid", "lr": "0.5", "opt": "sgd", "ep": "200"})  # unfinished
    at.button(key="train_start").click().run()
    run = at.session_state["train_run"]
    old = run.trainer
    steps = old.step_count
    assert run.running and watched[0] is run and steps > 0
    watched[0].free()  # what ClosedTabs does CLOSED_TAB_SECONDS after the tab closed
    assert run.trainer is None
    at.run()  # the tab comes back after that
    assert not at.exception
    said = [i.value for i in at.info if "was away for more than 20 seconds" in i.value]
    assert len(said) == 1 and f"at step {steps:,}" in said[0] and "trains on" in said[0], said
    assert run.running and run.trainer is not old and run.trainer.step_count >= steps  # the same run, training
    assert at.select_slider(key="train_lr").value == 0.5  # the lesson's settings stay
    at.run()
    assert not any("was away" in i.value for i in at.info)  # said once


@pytest.mark.parametrize("host, listening, public, reach", [
    ("192.168.1.20", None, None, "ok"),  # Streamlit's default: every interface
    ("192.168.1.20", "0.0.0.0", None, "ok"),
    ("192.168.1.20", "::", None, "ok"),
    ("192.168.1.20", "192.168.1.20", None, "ok"),  # bound to that very address
    ("192.168.1.20", "127.0.0.1", None, "not_listening"),  # the issue: a LAN link, a loopback-only server
    ("192.168.1.20", "localhost", None, "not_listening"),
    ("192.168.1.20", "10.0.0.7", None, "not_listening"),  # another interface only
    ("192.168.1.20", "127.0.0.1", "http://192.168.1.20:8501", "ok"),  # python -m serve: its proxy listens there
    ("localhost", None, None, "loopback"),
    ("127.0.0.1", "127.0.0.1", "http://127.0.0.1:8501", "loopback"),  # a public URL on loopback helps nobody
    (None, None, None, "loopback"),
])
def test_a_link_is_reachable_when_the_server_listens_on_its_host_or_a_public_url_is_set(host, listening, public,
                                                                                          reach):
    assert link_reach(host, listening, public) == reach


def link_builder_warning(at) -> str:
    return " ".join(w.value for w in at.warning if "python -m serve" in w.value)


@pytest.fixture
def listening_on():
    """Set Streamlit's server.address for one test, as `--server.address` would."""
    before = config.get_option("server.address")
    yield lambda address: config.set_option("server.address", address)
    config.set_option("server.address", before)


def test_a_link_to_a_network_address_on_a_loopback_only_server_says_how_to_start_it(monkeypatch, listening_on):
    monkeypatch.delenv(PUBLIC_URL_VARIABLE, raising=False)
    # the browser opened http://localhost:8501 (AppTest has no URL); the link names this machine's LAN address
    monkeypatch.setattr(ui.classroom, "link_for_students",
                        lambda page: student_url(f"http://localhost:8501{page}", None, "192.168.1.20"))
    listening_on("127.0.0.1")
    at = open_train()
    assert not at.exception
    link = next(c.value for c in at.code if "/train?" in c.value)
    assert link.startswith("http://192.168.1.20:8501/train?")
    warning = link_builder_warning(at)
    assert "listens on 127.0.0.1 only" in warning and "--server.address 0.0.0.0" in warning
    listening_on("0.0.0.0")
    at.run()
    assert link_builder_warning(at) == ""  # every interface: students reach it


def test_a_public_url_is_the_links_base_and_needs_no_warning(monkeypatch, listening_on):
    monkeypatch.setenv(PUBLIC_URL_VARIABLE, "http://192.168.1.20:8501/")
    listening_on("127.0.0.1")  # the workers of python -m serve, behind its proxy
    at = open_train()
    link = next(c.value for c in at.code if "/train?" in c.value)
    assert link.startswith("http://192.168.1.20:8501/train?")
    assert link_builder_warning(at) == ""


def test_a_closed_tab_that_looked_at_its_loss_surface_lets_its_trainer_die(monkeypatch):
    """The Loss surface page's globals hold the trainer it drew. A function written in that page and kept beyond
    its run (the model switch's format_func, kept by the widget; a cached function, kept by Streamlit's cache)
    held them, and so the trainer, after ClosedTabs freed the tab: 113 MB a closed tab on the worst link
    (bench/memory_server.py). Those functions live in ui modules now."""
    import weakref

    from ui.classroom import drop_page_references

    watched = []
    monkeypatch.setattr(ui.classroom, "watch_this_tab", watched.append)
    at = open_train({"layers": "16,16", "act": "relu", "lr": "0.05", "opt": "sgd", "ds": "mnist5k"})
    at.button(key="train_start").click().run()
    at.run()
    trainer = weakref.ref(at.session_state["train_run"].trainer)
    at.switch_page("pages/landscape.py").run()
    at.segmented_control(key="land_source").set_value("trained").run()
    at.button(key="land_compute").click().run()
    assert not at.exception and "land_result" in at.session_state  # the surface of the trained model was drawn
    for run in watched:
        run.free()
    drop_page_references(at._session_state._state, at._fragment_storage)  # what ClosedTabs does on a server
    gc.collect()
    assert trainer() is None


def test_a_freed_closed_tabs_trainer_really_dies_and_the_tab_can_come_back(monkeypatch):
    """The issue's D6: not the state object but the Trainer itself, by a weak reference, with Streamlit's own
    SessionState and fragment storage (AppTest's): the page's live panel (a fragment) and its buttons' callbacks
    hold pages/train.py's globals, and with them its `trainer`, until ClosedTabs drops them."""
    import weakref

    from ui.classroom import drop_page_references

    watched = []
    monkeypatch.setattr(ui.classroom, "watch_this_tab", watched.append)
    at = open_train({"layers": "16,16", "act": "sigmoid", "lr": "0.5", "opt": "sgd"})
    at.button(key="train_start").click().run()
    at.run()
    run = at.session_state["train_run"]
    trainer = weakref.ref(run.trainer)
    assert trainer().step_count > 0
    forgotten = []
    tabs = ClosedTabs(connected=lambda token: False, grace=0.0, forget=forgotten.append)
    tabs.watch("tab", watched[0])
    tabs.sweep()
    tabs.sweep()  # seen gone, then freed
    assert forgotten == ["tab"] and run.trainer is None
    gc.collect()
    assert trainer() is not None  # run.free() alone: the page's functions still hold its globals' trainer
    drop_page_references(at._session_state._state, at._fragment_storage)  # what forget does on a server
    gc.collect()
    assert trainer() is None
    at.run()  # the tab comes back: its run is taken up from the snapshot written when it was freed
    assert not at.exception and any("was away for more than 20 seconds" in i.value for i in at.info)
    again = at.session_state["train_run"]
    assert again.trainer is not None and again.trainer.step_count > 0
    if not again.running:  # it finished meanwhile (a short run): Reset and Start train a new one
        at.button(key="train_reset").click().run()
        at.button(key="train_start").click().run()
    assert not at.exception and at.session_state["train_run"].running
