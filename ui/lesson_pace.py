"""A student's side of a teacher-paced lesson (issue 25): where the class is, the answers sent, following Next.

The student's lesson panel (ui.lesson_panel) calls these three hooks; outside a class, or when the class runs
another lesson, they do nothing. The teacher's side is ui.board_lesson; both meet in the class store
(classroom.lessons_store).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import streamlit as st

from classroom import Refused
from ui.class_session import current, open_store
from ui.fragments import in_own_slot

POLL_SECONDS = 0.5  # a paced student looks for the teacher's Next this often: moved within 2 s even on a busy server
SENT = "lesson_pace_sent"  # session state: (lesson, step) -> (answer, measured) last stored, to spare the store a write


@dataclass(frozen=True)
class ClassPace:
    step: int  # 0-based step the teacher has the class on
    paced: bool  # True: the teacher moves everyone; False: own pace
    revealed: bool = False  # the teacher has shown that step's answer on the projector

    def revealed_on(self, step: int) -> bool:
        """Whether the teacher has revealed this step (0-based) on the board."""
        return self.revealed and self.step == step


def class_pace(lesson_id: str) -> ClassPace | None:
    """The class's place in this lesson, when this session joined a class whose teacher runs it now."""
    student = current()
    if student is None:
        return None
    try:
        state = open_store().lesson_state(student.class_id)
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
    pace = class_pace(lesson_id)
    if pace is not None and pace.paced and pace.step != step:
        go(pace.step)
    elif (pace is None) != (shown is None) or (pace and shown and (pace.paced, pace.revealed_on(step))
                                                != (shown.paced, shown.revealed_on(step))):
        st.rerun()  # the whole page: the panel redraws for the new pace (at their own pace Next is free again) or
        # to say the teacher has revealed the step


__all__ = ["ClassPace", "class_pace", "send_answer", "follow", "POLL_SECONDS"]
