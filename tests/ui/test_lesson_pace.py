"""ui.lesson_pace.PaceWatcher: a page's pace check is rerun by the server once its class has moved, not before."""
from __future__ import annotations

from ui.lesson_pace import ClassPace, Page, PaceWatcher

A, B = ("session-a", "fragment-1"), ("session-b", "fragment-1")
STEPS = tuple((f"lesson=nielsen-ch5&step={n}", "gradients") for n in range(1, 8))  # each step's (query, script)


def page(step: int, steps=STEPS) -> Page:
    """The Gradients page of step `step` (0-based) of Nielsen ch.5, as its full run gives it to the watcher."""
    return Page(STEPS[step], step, steps)


class Class:
    """The store's places (class id -> ClassPace), a clock, and the checks asked to rerun."""

    def __init__(self):
        self.places = {1: ClassPace(0, True), 2: ClassPace(0, True)}
        self.now, self.asked, self.gone, self.broken, self.pages, self.moves = 0.0, [], set(), set(), [], []

    def read(self, class_id: int, lesson_id: str) -> ClassPace | None:
        if class_id in self.broken:
            raise OSError("database is locked")
        return self.places[class_id] if lesson_id == "nielsen-ch5" else None

    def rerun(self, check, page) -> bool:
        if check in self.gone:
            return False
        self.asked.append(check)
        self.pages.append(page)
        return True

    def move(self, check, target) -> bool:
        if check in self.gone:
            return False
        self.moves.append((check, target))
        return True

    def watcher(self) -> PaceWatcher:
        return PaceWatcher(self.read, self.rerun, self.move, clock=lambda: self.now)


def test_a_page_is_moved_to_its_class_step_once_the_teacher_moves_and_asked_again_only_if_it_did_not_run():
    c = Class()
    w = c.watcher()
    w.follow(A, 1, "nielsen-ch5", ClassPace(0, True), page(0))
    w.follow(None, 1, "nielsen-ch5", ClassPace(0, True))  # outside a server's fragment run: nothing to rerun
    assert w.followed() == 1
    assert w.check() == [] and c.moves == c.asked == []  # the class stays: the browser is not asked for anything
    c.places[1] = ClassPace(1, True)  # the teacher's Next
    assert w.check() == [A] and c.moves == [(A, STEPS[1])]  # straight to step 2's page: its check does not run
    c.now += 0.2
    assert w.check() == []  # asked: its run is on the way
    c.now += PaceWatcher.RETRY_SECONDS
    assert w.check() == [A]  # it did not run (its request fell into a full run's start): asked again
    w.follow(A, 1, "nielsen-ch5", ClassPace(1, True), page(1))  # step 2's page ran
    c.now += 5
    assert w.check() == [] and c.moves == [(A, STEPS[1])] * 2 and c.asked == []
    c.places[1] = ClassPace(1, False)  # own pace: no move; the check reruns on the page it last ran on, step 2's
    assert w.check() == [A] and c.pages == [page(1)] and len(c.moves) == 2


def test_a_page_moves_only_when_the_teacher_paces_the_class_to_another_step_of_it():
    here = page(2)
    assert here.move_for(ClassPace(4, True)) == STEPS[4]
    assert here.move_for(ClassPace(0, True)) == STEPS[0]  # Back on the board
    assert here.move_for(ClassPace(2, True, revealed=True)) is None  # the same step, revealed: the check reruns
    assert here.move_for(ClassPace(4, False)) is None  # own pace: the student stays
    assert here.move_for(None) is None  # the lesson ended, or the class runs another one
    assert Page(STEPS[2], 2).move_for(ClassPace(4, True)) is None  # no steps' pages known: the check decides
    assert here.move_for(ClassPace(len(STEPS), True)) is None  # a step the lesson file no longer has


def test_a_reveal_or_own_pace_reruns_the_check_too_and_another_lesson_is_a_move():
    c = Class()
    w = c.watcher()
    w.follow(A, 1, "nielsen-ch5", ClassPace(0, True))
    w.follow(B, 1, "other-lesson", None)  # a page of another lesson: the class runs none of it
    c.places[1] = ClassPace(0, True, revealed=True)
    assert w.check() == [A]
    w.follow(A, 1, "nielsen-ch5", ClassPace(0, True, revealed=True))
    c.places[1] = ClassPace(0, False, revealed=True)  # own pace: Next is free again
    assert w.check() == [A]


def test_a_gone_session_is_forgotten_and_a_class_the_store_cannot_read_does_not_stop_the_others():
    c = Class()
    w = c.watcher()
    w.follow(A, 1, "nielsen-ch5", ClassPace(0, True))
    w.follow(B, 2, "nielsen-ch5", ClassPace(0, True))
    c.gone.add(A)
    c.broken.add(2)
    c.places[1] = c.places[2] = ClassPace(1, True)
    assert w.check() == [] and w.followed() == 1  # A's tab closed: dropped; B's class unread this round
    c.broken.clear()
    assert w.check() == [B]


def test_a_run_of_the_check_alone_keeps_the_page_its_full_run_gave():
    c = Class()
    w = c.watcher()
    w.follow(A, 1, "nielsen-ch5", ClassPace(0, True), page(1))
    w.follow(A, 1, "nielsen-ch5", ClassPace(0, False))  # the check ran alone (its own timer, or asked)
    c.places[1] = ClassPace(0, True)
    assert w.check() == [A] and c.moves == [(A, STEPS[0])]  # its full run's page knows the steps' pages
    c.places[1] = ClassPace(1, False)
    c.now += 5
    assert w.check() == [A] and c.pages == [page(1)]


class Runner:
    """A ScriptRunner's requests, Streamlit's own, behind the runner's request_rerun."""

    def __init__(self):
        from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequests
        self._requests = ScriptRequests()

    def request_rerun(self, data) -> bool:
        return self._requests.request_rerun(data)


class Session:
    """What _ask reads of an AppSession: its fragments, its last run's client state, its runner; the runs asked."""

    def __init__(self, runner: Runner | None):
        from streamlit.proto.ClientState_pb2 import ClientState
        self._client_state = ClientState(query_string="lesson=nielsen-ch5&step=1", page_script_hash="gradients",
                                         page_name="gradients")
        self._client_state.widget_states.widgets.add(id="lesson_next", trigger_value=True)
        self._client_state.context_info.timezone = "Asia/Shanghai"
        self._scriptrunner, self.asked, self.sent = runner, [], []

    def _enqueue_forward_msg(self, msg) -> None:
        self.sent.append(msg)

    def has_fragment(self, fragment_id: str) -> bool:
        return fragment_id == "fragment-1"

    def request_rerun(self, client_state) -> None:
        self.asked.append(client_state)


STEP_2 = ("lesson=nielsen-ch5&step=2", "gradients")


def test_a_check_asked_during_a_run_is_queued_as_a_fragment_run_with_no_widget_states():
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequestType

    from ui.lesson_pace import _ask
    runner = Runner()
    runner.request_rerun(RerunData(query_string="lesson=nielsen-ch5&step=2", page_script_hash="gradients"))
    runner._requests.on_scriptrunner_ready()  # that full run is under way
    _ask(Session(runner), "fragment-1", STEP_2)
    request = runner._requests.on_scriptrunner_ready()  # what runs once it ends
    assert request.type == ScriptRequestType.RERUN
    data = request.rerun_data
    assert data.fragment_id_queue == ["fragment-1"] and data.widget_states is None  # the widgets keep their values
    assert (data.query_string, data.page_script_hash) == STEP_2 and data.context_info.timezone == "Asia/Shanghai"


def test_a_check_asked_while_a_full_run_waits_to_start_leaves_that_run_its_page():
    """The student's Next asked for step 3's page; the watcher's request, with step 2's, must not fold into it."""
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

    from ui.lesson_pace import _ask
    runner = Runner()
    runner.request_rerun(RerunData(query_string="lesson=nielsen-ch5&step=3", page_script_hash="gradients"))
    _ask(Session(runner), "fragment-1", STEP_2)
    data = runner._requests.on_scriptrunner_ready().rerun_data
    assert data.query_string == "lesson=nielsen-ch5&step=3" and data.fragment_id_queue == []


def test_a_check_asked_with_no_run_under_way_starts_one_and_a_dropped_check_is_not_asked():
    from ui.lesson_pace import _ask
    session = Session(None)
    _ask(session, "fragment-1", STEP_2)
    _ask(session, "fragment-9", STEP_2)  # a full run on another page dropped it
    [request] = session.asked
    assert (request.query_string, request.page_script_hash, request.fragment_id) == (*STEP_2, "fragment-1")
    assert request.is_auto_rerun and not request.widget_states.widgets  # not the Next the browser pressed last
    assert request.context_info.timezone == "Asia/Shanghai"


STEP_3 = ("lesson=nielsen-ch5&step=3&lang=zh", "backprop")


def test_a_move_tells_the_browser_its_new_address_then_runs_the_new_page_in_full():
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequestType

    from ui.lesson_pace import _go
    runner = Runner()
    runner.request_rerun(RerunData(query_string=STEP_2[0], page_script_hash="gradients", fragment_id="fragment-1"))
    runner._requests.on_scriptrunner_ready()  # a run of the check under way (its own timer)
    session = Session(runner)
    _go(session, "fragment-1", STEP_3)
    [address] = session.sent  # else the browser's next click would carry step 2 and take the student back
    assert address.page_info_changed.query_string == STEP_3[0]
    request = runner._requests.on_scriptrunner_ready()
    assert request.type == ScriptRequestType.RERUN
    data = request.rerun_data
    assert (data.query_string, data.page_script_hash) == STEP_3
    assert data.fragment_id_queue == [] and data.widget_states is None  # the whole page; the widgets keep theirs
    assert data.context_info.timezone == "Asia/Shanghai"


def test_a_move_with_no_run_under_way_starts_one_and_a_click_waiting_to_run_is_left_alone():
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

    from ui.lesson_pace import _go
    session = Session(None)
    _go(session, "fragment-1", STEP_3)
    [request] = session.asked
    assert (request.query_string, request.page_script_hash) == STEP_3
    assert not request.fragment_id and not request.page_name and not request.widget_states.widgets
    assert not request.is_auto_rerun and request.context_info.timezone == "Asia/Shanghai"
    runner = Runner()  # the student pressed Back: that full run waits to start, and its own check moves the page
    runner.request_rerun(RerunData(query_string="lesson=nielsen-ch5&step=1", page_script_hash="gradients"))
    session = Session(runner)
    _go(session, "fragment-1", STEP_3)
    assert session.sent == [] and runner._requests.on_scriptrunner_ready().rerun_data.query_string.endswith("step=1")
    left = Session(None)
    _go(left, "fragment-9", STEP_3)  # the student left the lesson's pages: nothing to move
    assert left.sent == left.asked == []


def test_a_page_is_told_by_its_script_and_lesson_step_not_the_rest_of_its_query():
    from ui.lesson_pace import _where
    assert _where(("lesson=nielsen-ch5&step=2&lr=0.1", "train")) == _where(("step=2&lesson=nielsen-ch5", "train"))
    assert _where(STEP_2) != _where(("lesson=nielsen-ch5&step=3", "gradients"))
    assert _where(STEP_2) != _where(("lesson=nielsen-ch5&step=2", "train"))


def test_a_check_run_on_the_page_before_the_latest_full_run_does_nothing():
    from streamlit.testing.v1 import AppTest

    def script():
        import streamlit as st

        from ui.lesson_pace import _on_latest_page
        st.session_state["seen"] = [_on_latest_page(page, full) for page, full in st.session_state["runs"]]

    step_3 = ("lesson=nielsen-ch5&step=3&lr=0.1", "gradients")
    at = AppTest.from_function(script)
    at.session_state["runs"] = [(STEP_2, True), (STEP_2, False), (step_3, True), (STEP_2, False),
                                (("step=3&lesson=nielsen-ch5", "gradients"), False)]
    at.run()
    assert at.session_state["seen"] == [True, True, True, False, True]
