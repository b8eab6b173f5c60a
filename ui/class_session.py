"""A student's class session: who they are in the class store, kept in st.session_state and in the link.

The student token is the session's only credential. It lives in st.session_state (one key) and in the URL as
`cls=<token>`, so that a reload, or a reconnect to another worker after one was killed, finds the student again
in the store (Store.student) with the same variant. The join link carries the code only: `/<page>?join=CODE`.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import classroom
from classroom import Refused
from ui.i18n import _
from ui.plain_text import plain

KEY = "class_student"  # session state: the ClassStudent of this session, if it joined a class
MOVED = "class_moved"  # session state: the restored-session sentence, until the class box has shown it once
IGNORED = "class_ignored"  # session state: a refusal of the link's `cls`, until shown once
VARIANTS = "class_variants"  # session state: experiment id -> this student's variant index
TOKEN_PARAM, JOIN_PARAM = "cls", "join"  # URL: the student's token after joining; the class code in a join link


@dataclass(frozen=True)
class ClassStudent:
    """This session's place in a class (the token is a secret: never shown, only kept in the URL and state)."""

    token: str  # the student token Store.join returned
    student_id: int
    class_id: int
    class_name: str  # the teacher's name for the class, plain text
    name: str | None  # the display name the student gave, plain text (None: none given)
    join_code: str  # the class's code, for the board and for rejoining


@st.cache_resource(show_spinner=False)
def open_store() -> classroom.Store:
    """One store per process (it holds only the engine), from $PLAYGROUND_STORE or the data folder."""
    return classroom.open_store()


def _session(store: classroom.Store, token: str, student) -> ClassStudent:
    info = store.class_info(student.class_id)
    return ClassStudent(token, student.id, info.id, info.name, student.name or None, info.join_code)


def current() -> ClassStudent | None:
    """This session's class student: from session state, else restored once from the link's `cls` token."""
    state = st.session_state
    if KEY in state:
        return state[KEY]
    token = st.query_params.get(TOKEN_PARAM)
    if not token:
        return None
    store = open_store()
    try:
        student = _session(store, token, store.student(token))
    except Refused as refused:  # a forged or stale token: drop it from the link, say so once, keep the page
        del st.query_params[TOKEN_PARAM]
        state[IGNORED] = (refused.kind, refused.detail)
        return None
    state[KEY] = student
    state[MOVED] = True  # a session that starts with a token: a reload, or a new worker after a crash
    return student


def join(code: str, name: str | None) -> ClassStudent:
    """Join a class by its code (Refused says why not); the session and the link keep the student."""
    store = open_store()
    student_id, token = store.join(code, name or None)
    student = _session(store, token, store.student(token))
    st.session_state[KEY] = student
    st.session_state.pop(MOVED, None)
    st.session_state.pop(VARIANTS, None)
    keep_in_link(student)
    return student


def leave() -> None:
    """Leave the class: forget the token here and in the link, and unlock the Train page's controls."""
    st.session_state.pop(KEY, None)
    st.session_state.pop(VARIANTS, None)
    for param in (TOKEN_PARAM, JOIN_PARAM, "lock"):
        if param in st.query_params:
            del st.query_params[param]
    st.session_state.pop("train_lesson", None)  # ui.classroom.lesson_rules reads the link again


def keep_in_link(student: ClassStudent | None = None) -> None:
    """Put `cls=<token>` back in the URL (a page switch drops the query)."""
    student = student or st.session_state.get(KEY)
    if student is not None and st.query_params.get(TOKEN_PARAM) != student.token:
        st.query_params[TOKEN_PARAM] = student.token


def link_params() -> dict[str, str]:
    """`cls=<token>` for a page that rewrites its whole query (the Train page's settings), if in a class."""
    student = st.session_state.get(KEY)
    return {TOKEN_PARAM: student.token} if student is not None else {}


def moved_message(student: ClassStudent) -> str:
    """What a restored session is told once, in its language (Markdown: the name is escaped)."""
    return _("Your connection moved to another server: you are still in the class as {name}, with your "
             "variant.").format(name=plain(student.name) if student.name else _("a student without a name"))


def current_experiment(student: ClassStudent):
    """The class's newest open experiment (classroom.Experiment), or None."""
    return next((e for e in open_store().experiments(student.class_id) if e.state == "open"), None)


@dataclass(frozen=True)
class Assigned:
    """The student's part of the current experiment."""

    experiment: object  # classroom.Experiment
    template: classroom.Template
    index: int | None  # the variant's index (None: the experiment has no variants, e.g. "collect our digits")
    settings: dict  # that variant's settings in the pages' URL vocabulary ({} without variants)


def assigned(student: ClassStudent, pick: int | None = None) -> Assigned | None:
    """The current experiment and this student's variant (asked once per experiment, then kept); None if none is
    open and none was seen. An experiment seen here and closed since is still returned (state "closed"). Refused (e.g. "expired", "not_joined") says why the student cannot take part."""
    known = st.session_state.setdefault(VARIANTS, {})  # experiment id -> variant index, to spare the store a write
    experiment = current_experiment(student)
    if experiment is None and known:  # closed meanwhile: keep showing it, so a send says it is closed
        experiment = open_store().experiment(max(known))
    if experiment is None:
        return None
    if experiment.id not in known or pick is not None:
        known[experiment.id] = (open_store().assignment(student.token, experiment.id, pick=pick)
                                if experiment.variants else None)
    index = known[experiment.id]
    settings = dict(experiment.variants[index]) if index is not None else {}
    return Assigned(experiment, classroom.template(experiment.template_id), index, settings)


__all__ = ["ClassStudent", "KEY", "MOVED", "IGNORED", "TOKEN_PARAM", "JOIN_PARAM", "open_store", "current", "join",
           "leave", "keep_in_link", "link_params", "moved_message", "current_experiment", "Assigned", "assigned"]
