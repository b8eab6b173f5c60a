"""The class's guided lesson (issue 25): the step the teacher has the class on, and every student's prediction.

Store inherits these methods. The teacher starts one lesson at a time for the class, moves it step by step (or
lets the students go at their own pace) and reveals each step's answer; a student's answer to a step replaces
the one before, so the board counts every student once. The store knows a lesson only by its id and its number
of steps: the lessons themselves are files the pages read (package `lessons`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from numbers import Real

from sqlalchemy import delete, func, insert, select, update

from .results import Refused
from .schema import class_lessons, lesson_answers, students

LESSON_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # a lessons/ file's stem
MAX_STEPS = 50  # steps a lesson may have (the built-in ones have 5-8)
MAX_ANSWER = 1e300  # |answer| and |measured|: finite and below this


@dataclass(frozen=True)
class LessonState:
    """The lesson a class runs now."""

    class_id: int
    lesson_id: str
    steps: int  # the lesson's number of steps
    step: int  # 0-based step the teacher has the class on
    paced: bool  # True: the teacher moves everyone; False: own pace
    revealed: bool  # the current step's answer is on the projector
    started_at: float  # seconds since the epoch
    updated_at: float  # last start, move, pace or reveal


@dataclass(frozen=True)
class Answer:
    """One student's prediction for one step."""

    student_id: int
    name: str  # plain text, may be ""
    answer: float  # the option's index (choice) or the number predicted
    measured: float | None  # what that student's run measured, if sent
    answered_at: float


def check_lesson_id(lesson_id) -> str:
    if not isinstance(lesson_id, str) or not LESSON_ID.fullmatch(lesson_id):
        raise Refused("bad_field", "lesson_id")
    return lesson_id


def check_step(step, steps: int = MAX_STEPS) -> int:
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < steps:
        raise Refused("bad_number", "step")
    return step


def check_number(value, field: str, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise Refused("bad_number", field)
    value = float(value)
    if not math.isfinite(value) or abs(value) > MAX_ANSWER:
        raise Refused("bad_number", field)
    return value


class LessonPacing:
    """Store's lesson methods (they use its _writing, _reading, _check_teacher, _student and clock)."""

    # ------------------------------------------------------------------ the teacher

    def start_lesson(self, teacher_key: str, class_id: int, lesson_id: str, steps: int, paced: bool = True) -> None:
        """Run lesson_id (of `steps` steps) for the class from its first step, replacing any lesson it ran.

        Answers the class gave to this lesson before are kept (a restarted lesson shows them again)."""
        check_lesson_id(lesson_id)
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 < steps <= MAX_STEPS:
            raise Refused("bad_number", "steps")
        now = self.clock()
        with self._writing() as conn:
            cls = self._check_teacher(conn, teacher_key, class_id)
            if now >= cls.expires_at:
                raise Refused("expired")
            values = dict(lesson_id=lesson_id, steps=steps, step=0, paced=bool(paced), revealed=False,
                          started_at=now, updated_at=now)
            held = conn.execute(select(class_lessons.c.class_id).where(class_lessons.c.class_id == class_id)
                                .with_for_update()).first()
            if held is None:
                conn.execute(insert(class_lessons).values(class_id=class_id, **values))
            else:
                conn.execute(update(class_lessons).where(class_lessons.c.class_id == class_id).values(**values))

    def move_lesson(self, teacher_key: str, class_id: int, step: int) -> LessonState:
        """Put the class on `step` (every paced student follows); the step's answer is hidden again."""
        return self._change_lesson(teacher_key, class_id, step=step, revealed=False)

    def set_paced(self, teacher_key: str, class_id: int, paced: bool) -> LessonState:
        """True: the teacher moves everyone; False: the students go at their own pace."""
        return self._change_lesson(teacher_key, class_id, paced=bool(paced))

    def reveal_lesson(self, teacher_key: str, class_id: int, revealed: bool = True) -> LessonState:
        """Show (or hide) the current step's answer on the projector."""
        return self._change_lesson(teacher_key, class_id, revealed=bool(revealed))

    def stop_lesson(self, teacher_key: str, class_id: int) -> None:
        """The class runs no lesson any more (its answers stay, for a restart)."""
        with self._writing() as conn:
            self._check_teacher(conn, teacher_key, class_id)
            conn.execute(delete(class_lessons).where(class_lessons.c.class_id == class_id))

    def _change_lesson(self, teacher_key: str, class_id: int, **values) -> LessonState:
        with self._writing() as conn:
            self._check_teacher(conn, teacher_key, class_id)
            row = conn.execute(select(class_lessons).where(class_lessons.c.class_id == class_id)
                               .with_for_update()).first()
            if row is None:
                raise Refused("closed", "lesson")
            if "step" in values:
                check_step(values["step"], row.steps)
            values["updated_at"] = self.clock()
            conn.execute(update(class_lessons).where(class_lessons.c.class_id == class_id).values(**values))
            row = conn.execute(select(class_lessons).where(class_lessons.c.class_id == class_id)).one()
        return _state(row)

    # ------------------------------------------------------------------ reading (board, students' pages)

    def lesson_state(self, class_id: int) -> LessonState | None:
        """The lesson the class runs now, or None."""
        with self._reading() as conn:
            row = conn.execute(select(class_lessons).where(class_lessons.c.class_id == class_id)).first()
        return None if row is None else _state(row)

    def answers(self, class_id: int, lesson_id: str, step: int) -> list[Answer]:
        """Every student's answer to one step, first answered first."""
        with self._reading() as conn:
            rows = conn.execute(
                select(lesson_answers.c.student_id, students.c.name, lesson_answers.c.answer,
                       lesson_answers.c.measured, lesson_answers.c.answered_at)
                .join(students, students.c.id == lesson_answers.c.student_id)
                .where((lesson_answers.c.class_id == class_id) & (lesson_answers.c.lesson_id == lesson_id)
                       & (lesson_answers.c.step == step))
                .order_by(lesson_answers.c.answered_at, lesson_answers.c.id)).all()
        return [Answer(r.student_id, r.name, r.answer, r.measured, r.answered_at) for r in rows]

    def answer_counts(self, class_id: int, lesson_id: str) -> dict[int, int]:
        """step -> students who answered it (steps nobody answered are left out)."""
        with self._reading() as conn:
            rows = conn.execute(
                select(lesson_answers.c.step, func.count())
                .where((lesson_answers.c.class_id == class_id) & (lesson_answers.c.lesson_id == lesson_id))
                .group_by(lesson_answers.c.step)).all()
        return {step: n for step, n in rows}

    # ------------------------------------------------------------------ students

    def answer(self, student_token: str, lesson_id: str, step: int, answer: float,
               measured: float | None = None) -> None:
        """Keep the student's prediction for a step of the lesson their class runs now, replacing an earlier one.

        Refused (nothing stored): not_joined, expired, closed (the class runs no such lesson), bad_field,
        bad_number (step outside the lesson, answer or measured not finite)."""
        check_lesson_id(lesson_id)
        answer = check_number(answer, "answer")
        measured = check_number(measured, "measured", optional=True)
        now = self.clock()
        with self._writing() as conn:
            student = self._student(conn, student_token, lock=True)
            if now >= student.expires_at:
                raise Refused("expired")
            running = conn.execute(select(class_lessons).where(class_lessons.c.class_id == student.class_id)
                                   .with_for_update(key_share=True)).first()
            if running is None or running.lesson_id != lesson_id:
                raise Refused("closed", "lesson")
            check_step(step, running.steps)
            where = ((lesson_answers.c.student_id == student.id) & (lesson_answers.c.lesson_id == lesson_id)
                     & (lesson_answers.c.step == step))
            values = dict(answer=answer, measured=measured, answered_at=now)
            if conn.execute(update(lesson_answers).where(where).values(**values)).rowcount == 0:
                conn.execute(insert(lesson_answers).values(class_id=student.class_id, lesson_id=lesson_id, step=step,
                                                           student_id=student.id, **values))


def _state(row) -> LessonState:
    return LessonState(row.class_id, row.lesson_id, row.steps, row.step, bool(row.paced), bool(row.revealed),
                       row.started_at, row.updated_at)


__all__ = ["LessonPacing", "LessonState", "Answer", "LESSON_ID", "MAX_STEPS", "check_lesson_id", "check_step",
           "check_number"]
