"""A student's side of a teacher-paced lesson (issue 25): where the class is, the answers sent, following Next.

The student's lesson panel (ui.lesson_panel) calls these three hooks; outside a class, or when the class runs
another lesson, they do nothing. The teacher's side is ui.board_lesson; both meet in the class store
(classroom.lessons_store).

Following the teacher costs the students' browsers nothing while the class stays on a step. A page's pace check
is a fragment; each server process has one PaceWatcher thread that reads the store for the classes its sessions
follow, WATCH_SECONDS apart. When the teacher has moved the class to another step, the watcher opens that step's
page in the session straight away, as the check's st.switch_page would; for any other change (a reveal, own pace,
the lesson ended) it reruns the session's pace check. Every run of a fragment makes Streamlit's frontend render the
whole page again (about 60 ms of a browser's time on the Gradients page), so a fragment polling twice a second kept
8 browsers sharing a core busy before the teacher pressed anything, and a move made through the check drew the page
being left once more before the next one.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import parse_qs, urlencode

import streamlit as st
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime import Runtime

from classroom import Refused
from ui.class_session import current, open_store
from ui.fragments import full_run, in_own_slot
from ui.lesson_walk import LESSON_PARAM, STEP_PARAM

log = logging.getLogger(__name__)

WATCH_SECONDS = 0.05  # the server's watcher reads the followed classes' places this often (a read: 0.14 ms, SQLite)
POLL_SECONDS = 10.0  # and each page checks for itself this often too, should its process's watcher have missed it
RAN_ON = "lesson_pace_ran_on"  # session state: the page and step of the page's latest full run (_where)
SENT = "lesson_pace_sent"  # session state: (lesson, step) -> (answer, measured) last stored, to spare the store a write


@dataclass(frozen=True)
class ClassPace:
    step: int  # 0-based step the teacher has the class on
    paced: bool  # True: the teacher moves everyone; False: own pace
    revealed: bool = False  # the teacher has shown that step's answer on the projector

    def revealed_on(self, step: int) -> bool:
        """Whether the teacher has revealed this step (0-based) on the board."""
        return self.revealed and self.step == step


@dataclass(frozen=True)
class Page:
    """A lesson page as its latest full run saw it: its (query string, script hash), its step, and the
    (query string, script hash) of every step's page, to move the student there without running this one again."""
    here: tuple[str, str]
    step: int
    steps: tuple[tuple[str, str], ...] = ()

    def move_for(self, pace: ClassPace | None) -> tuple[str, str] | None:
        """The page to open when the class is at `pace`: its step's, when the teacher paces the class elsewhere."""
        if pace is None or not pace.paced or pace.step == self.step or not 0 <= pace.step < len(self.steps):
            return None
        return self.steps[pace.step]


def class_pace(lesson_id: str) -> ClassPace | None:
    """The class's place in this lesson, when this session joined a class whose teacher runs it now."""
    student = current()
    return None if student is None else read_pace(open_store(), student.class_id, lesson_id)


def read_pace(store, class_id: int, lesson_id: str) -> ClassPace | None:
    """The class's place in this lesson, from the store; None when it runs no lesson or another one."""
    try:
        state = store.lesson_state(class_id)
    except Refused:
        return None
    if state is None or state.lesson_id != lesson_id:
        return None
    return ClassPace(state.step, state.paced, state.revealed)


def send_answer(lesson_id: str, step: int, answer: float, measured: float | None = None) -> None:
    """Give the teacher this student's answer to a step (a new one replaces it); nothing outside a class.

    A refusal (the class runs another lesson, the class expired, a number out of bounds) keeps the answer
    on the student's own page only: the lesson goes on either way."""
    student = current()
    if student is None:
        return
    sent = st.session_state.setdefault(SENT, {})
    if sent.get((lesson_id, step)) == (answer, measured):
        return
    try:
        open_store().answer(student.token, lesson_id, step, answer, measured)
    except Refused:
        return
    sent[(lesson_id, step)] = (answer, measured)


def follow(lesson_id: str, step: int, go: Callable[[int], None]) -> None:
    """While this session is in a class: watch the class's lesson and call go(new_step) when the teacher, pacing
    this lesson, has the class on another step (go switches the page)."""
    if current() is None:
        return
    in_own_slot(_watch, lesson_id, step, go, class_pace(lesson_id))


@st.fragment(run_every=POLL_SECONDS)
def _watch(lesson_id: str, step: int, go: Callable[[int], None], shown: ClassPace | None) -> None:
    """shown: the class's pace when the page last ran (the panel drew its buttons from it)."""
    student = current()
    if student is None:
        return
    check, page, full = _this_run()
    if not _on_latest_page(page, full):
        return  # asked to run on the page before the student's latest full run (their Next): that run has its check
    pace = read_pace(open_store(), student.class_id, lesson_id)
    if _served():  # the process's watcher moves this page or reruns this check as soon as the class is elsewhere
        pace_watcher().follow(check, student.class_id, lesson_id, pace,
                              Page(page, step, _steps_pages(lesson_id)) if full else None)
    if pace is not None and pace.paced and pace.step != step:
        go(pace.step)
    elif (pace is None) != (shown is None) or (pace and shown and (pace.paced, pace.revealed_on(step))
                                                != (shown.paced, shown.revealed_on(step))):
        st.rerun()  # the whole page: the panel redraws for the new pace (at their own pace Next is free again) or
        # to say the teacher has revealed the step


def _served() -> bool:
    """Whether this runs in a Streamlit server (AppTest puts a mock in the Runtime's place)."""
    return Runtime.exists() and type(Runtime.instance()) is Runtime


def _this_run() -> tuple[tuple[str, str] | None, tuple[str, str], bool]:
    """The pace check running now, (session id, fragment id) or None outside a fragment, its page, (query string,
    page script hash), and whether this is a full run of the page (else a run of the check alone).

    A full run's page is what a rerun of the check must run with. Not the session's last request from its browser:
    after the check switched the page to the class's step, that request still names the step before, and a check
    run with it would take the student back there."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState, get_script_run_ctx
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return None, ("", ""), True
    fragment_id = getattr(ThreadState.get(), "fragment_id", None)  # Streamlit's own (private): the running fragment
    check = (ctx.session_id, fragment_id) if fragment_id else None
    return check, (urlencode(st.query_params.to_dict()), ctx.page_script_hash), full_run()


def _steps_pages(lesson_id: str) -> tuple[tuple[str, str], ...]:
    """(query string, script hash) of each step's page of the lesson, as the panel's go() would open it."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    from ui.lesson_walk import catalog, link
    ctx = get_script_run_ctx(suppress_warning=True)
    lesson = catalog().lessons.get(lesson_id)
    if ctx is None or lesson is None:
        return ()
    scripts = {info["url_pathname"]: info["page_script_hash"] for info in ctx.pages_manager.get_pages().values()}
    if any(step.page not in scripts for step in lesson.steps):
        return ()
    return tuple((urlencode(link(lesson_id, n), doseq=True), scripts[step.page])
                 for n, step in enumerate(lesson.steps))


def _on_latest_page(page: tuple[str, str], full: bool) -> bool:
    """A full run records its page; whether a run of the check alone runs on the page of the latest full run."""
    if full:
        st.session_state[RAN_ON] = _where(page)
    return st.session_state.get(RAN_ON) == _where(page)


def _where(page: tuple[str, str]) -> tuple[str, str | None, str | None]:
    """A page's script and its lesson step (not the rest of its query, which a page may rewrite after its panel)."""
    query, script = page
    params = parse_qs(query)
    return script, *(params.get(name, [None])[-1] for name in (LESSON_PARAM, STEP_PARAM))


Check = tuple[str, str]  # (session id, fragment id) of one page's pace check


@dataclass(frozen=True)
class _Followed:
    class_id: int
    lesson_id: str
    seen: ClassPace | None  # the class's place when the check last ran
    asked_at: float | None  # when the watcher last asked the session to run, or None
    page: Page | None  # the page of its latest full run


class PaceWatcher:
    """Moves a page to its class's step, or reruns its pace check, once its class has moved: one per server process,
    in a thread of its own.

    read(class_id, lesson_id) gives the class's place now. move(check, (query, script)) opens that page in the
    check's session, the step the teacher has the class on; rerun(check, page) runs that page's pace check again on
    the page it last ran on (a reveal, own pace, the lesson ended). Both return False once the session is gone.
    A session asked that has not run its check within RETRY_SECONDS (the request fell between a full run's start and
    the page's pace check) is asked again."""

    RETRY_SECONDS = 1.0

    def __init__(self, read: Callable[[int, str], ClassPace | None], rerun: Callable[[Check, Page | None], bool],
                 move: Callable[[Check, tuple[str, str]], bool], clock: Callable[[], float] = time.monotonic):
        self._read, self._rerun, self._move, self._clock = read, rerun, move, clock
        self._lock = threading.Lock()
        self._followed: dict[Check, _Followed] = {}

    def follow(self, check: Check | None, class_id: int, lesson_id: str, seen: ClassPace | None,
               page: Page | None = None) -> None:
        """This check ran and saw the class at `seen`: act once the class is elsewhere. A full run of the page gives
        its page; a run of the check alone (page None) keeps the one its full run gave."""
        if check is None:
            return
        with self._lock:
            if page is None and check in self._followed:
                page = self._followed[check].page
            self._followed[check] = _Followed(class_id, lesson_id, seen, None, page)

    def followed(self) -> int:
        with self._lock:
            return len(self._followed)

    def check(self) -> list[Check]:
        """One round: read each followed class once; move or rerun the checks that saw it elsewhere; those asked."""
        with self._lock:
            followed = dict(self._followed)
        places = {}
        for key in {(entry.class_id, entry.lesson_id) for entry in followed.values()}:
            try:
                places[key] = self._read(*key)
            except Exception:  # noqa: BLE001  (the store away a moment: its pages' own check still runs)
                log.debug("the lesson pace watcher could not read class %s", key[0], exc_info=True)
        now, asked = self._clock(), []
        for check, entry in followed.items():
            key = (entry.class_id, entry.lesson_id)
            waiting = entry.asked_at is not None and now - entry.asked_at < self.RETRY_SECONDS
            if key not in places or places[key] == entry.seen or waiting:
                continue
            target = entry.page.move_for(places[key]) if entry.page is not None else None
            alive = self._move(check, target) if target is not None else self._rerun(check, entry.page)
            with self._lock:
                if not alive:
                    self._followed.pop(check, None)
                elif self._followed.get(check) is entry:  # not run since this round read it
                    self._followed[check] = dataclasses.replace(entry, asked_at=now)
            if alive:
                asked.append(check)
        return asked

    def run(self, every: float = WATCH_SECONDS) -> None:
        """check() every `every` seconds, for ever (a daemon thread of the server); a failed round is logged."""
        while True:
            time.sleep(every)
            try:
                self.check()
            except Exception:  # noqa: BLE001  (a session torn down mid-round: the next round goes on)
                log.exception("the lesson pace watcher's round failed")


def _session(check: Check):
    """The AppSession of this check, or None once it is gone."""
    if not Runtime.exists():
        return None
    info = Runtime.instance()._session_mgr.get_active_session_info(check[0])  # private: the AppSession
    return None if info is None else info.session


def _rerun_check(check: Check, page: Page | None) -> bool:
    """Ask Streamlit to run this session's pace check now, on its page, as st.rerun(scope="fragment") would; False
    when the session is gone."""
    session = _session(check)
    if session is None:
        return False
    if page is not None:  # (a page always has its full run's page: the check ran in one before it ran alone)
        session._call_soon_on_event_loop(lambda: _ask(session, check[1], page.here))  # where its browser's requests come
    return True


def _move_session(check: Check, target: tuple[str, str]) -> bool:
    """Open the page (query string, script hash) in this check's session, as its check's st.switch_page would; False
    when the session is gone."""
    session = _session(check)
    if session is None:
        return False
    session._call_soon_on_event_loop(lambda: _go(session, check[1], target))
    return True


def _go(session, fragment_id: str, target: tuple[str, str]) -> None:
    """On the session's event loop: tell the browser its new address (as st.switch_page's query_params do: else its
    next click would carry the step before and take the student back), then run the target page in full, unless a
    full run is already asked for (the student's click: its pace check moves the page then)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if not session.has_fragment(fragment_id) or _full_run_asked(session):
        return  # the student left the lesson's pages, or pressed something: that run's own check follows the class
    address = ForwardMsg()
    address.page_info_changed.query_string = target[0]
    session._enqueue_forward_msg(address)  # private, as st.query_params's own message is sent
    _request_run(session, target, None)


def _ask(session, fragment_id: str, page: tuple[str, str]) -> None:
    """On the session's event loop: queue a run of its pace check, unless a full run is already asked for (the
    student's click: it runs the check too, and a check's request folded into it would give it this page instead of
    the one the click asked for)."""
    if not session.has_fragment(fragment_id) or _full_run_asked(session):
        return  # a full run on a page without it (the student left the lesson), or a click's run to come
    _request_run(session, page, fragment_id)


def _full_run_asked(session) -> bool:
    """Whether the session's runner already has a full run asked for (a click of the student's, not yet started)."""
    from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
    runner = session._scriptrunner  # private, as are its requests: Streamlit has no public way to rerun a session
    if runner is None:
        return False
    requests = runner._requests
    return requests._state == ScriptRequestType.RERUN and not requests._rerun_data.fragment_id_queue


def _request_run(session, page: tuple[str, str], fragment_id: str | None) -> None:
    """Ask the session to run this page (query string, script hash): its pace check alone (fragment_id, as the
    browser's timer of a fragment asks) or the whole page (None, as st.switch_page asks). No widget states: the
    browser's widgets keep their values. The browser's context (timezone, locale) is its last run's."""
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

    query, script = page
    state = session._client_state  # private: its last run's page and browser context
    runner = session._scriptrunner
    if runner is not None:  # a run under way: queued behind it
        context = state.context_info if state.HasField("context_info") else None
        if runner.request_rerun(RerunData(query_string=query, page_script_hash=script, fragment_id=fragment_id,
                                          is_auto_rerun=fragment_id is not None, context_info=context)):
            return
    request = ClientState()
    request.CopyFrom(state)
    request.ClearField("widget_states")
    request.ClearField("page_name")  # the page is told by its script's hash
    request.query_string, request.page_script_hash = query, script
    request.fragment_id, request.is_auto_rerun = fragment_id or "", fragment_id is not None
    session.request_rerun(request)  # no run under way: a new one


@st.cache_resource(show_spinner=False)
def pace_watcher() -> PaceWatcher:
    """The server process's one watcher of the classes its sessions follow, checking in its own thread."""
    store = open_store()
    watcher = PaceWatcher(read=lambda class_id, lesson_id: read_pace(store, class_id, lesson_id), rerun=_rerun_check,
                          move=_move_session)
    threading.Thread(target=watcher.run, name="lesson-pace", daemon=True).start()
    return watcher


__all__ = ["ClassPace", "Page", "PaceWatcher", "class_pace", "send_answer", "follow", "pace_watcher", "POLL_SECONDS",
           "WATCH_SECONDS"]
