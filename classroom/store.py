"""The class's shared store: classes, experiments, students, results and run snapshots, one transaction a call.

Every method is one short transaction with bound parameters. Writes lock what they count (SQLite: the whole
database, BEGIN IMMEDIATE; PostgreSQL: the class, student and experiment rows, always in that order), so
round-robin, the class size and the rate limit hold across every worker. A refused write raises
results.Refused and stores nothing.
"""
from __future__ import annotations

import json
import os
import time
import weakref
from contextlib import contextmanager
from typing import Callable

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from .connect import engine_for
from .lessons_store import LessonPacing
from .records import ClassInfo, Experiment, Limits, StoredResult, Student
from .results import MAX_RUN_ID, Refused, from_json, to_json, validate
from .schema import assignments, classes, ensure_schema, experiments, results, snapshots, students
from .templates import check_variants, template
from .tokens import clean_name, digest, new_join_code, new_secret, normal_code, same

HOURS_VARIABLE = "PLAYGROUND_CLASS_HOURS"
RUN_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class Store(LessonPacing):
    """One database's classes; cheap to make, safe to share between the threads of a worker (the guided
    lesson's methods: classroom.lessons_store)."""

    def __init__(self, engine: Engine, limits: Limits = Limits(), clock: Callable[[], float] = time.time):
        self.engine, self.limits, self.clock = engine, limits, clock

    def close(self) -> None:
        """Close pooled connections (the engine reconnects if used again)."""
        self.engine.dispose()

    @contextmanager
    def _writing(self):
        with self.engine.connect() as conn:
            conn.execution_options(classroom_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _reading(self):
        with self.engine.connect() as conn:
            yield conn

    # ------------------------------------------------------------------ the teacher

    def create_class(self, name: str) -> tuple[int, str, str]:
        """A new class: (class_id, join_code, teacher_key). Only the creator's link carries the key."""
        name = clean_name(name, most=80)
        key, now = new_secret(), self.clock()
        for _attempt in range(10):  # a code collides with an earlier class about once in 10^6 classes
            code = new_join_code()
            try:
                with self._writing() as conn:
                    row = conn.execute(insert(classes).values(
                        name=name, join_code=code, teacher_hash=digest(key), created_at=now,
                        expires_at=now + self.limits.class_hours * 3600).returning(classes.c.id)).one()
                return row.id, code, key
            except IntegrityError:
                continue
        raise RuntimeError("no free join code after 10 tries")

    def teacher_class(self, teacher_key: str) -> ClassInfo:
        """The class this key opens; Refused("forged") for any other string."""
        if not isinstance(teacher_key, str) or not teacher_key:
            raise Refused("forged")
        with self._reading() as conn:
            row = conn.execute(select(classes.c.id, classes.c.teacher_hash)
                               .where(classes.c.teacher_hash == digest(teacher_key[:200]))).first()
        if row is None or not same(teacher_key, row.teacher_hash):
            raise Refused("forged")
        return self.class_info(row.id)

    def _check_teacher(self, conn, teacher_key, class_id: int):
        row = conn.execute(select(classes).where(classes.c.id == class_id)).first()
        if row is None or not same(teacher_key, row.teacher_hash):
            raise Refused("forged")
        return row

    def create_experiment(self, teacher_key: str, class_id: int, template_id: str, variants=None,
                          title: str | None = None, pick: bool = False) -> int:
        """A new open experiment of the class; variants default to the template's. Returns its id."""
        try:
            tmpl = template(template_id)
        except (KeyError, TypeError):
            raise Refused("unknown", "template") from None
        try:
            clean = check_variants(tmpl, tmpl.variants if variants is None else variants)
        except ValueError as exc:
            raise Refused("bad_variant", str(exc)[:200]) from None
        title = clean_name(title, most=120) or None
        with self._writing() as conn:
            cls = self._check_teacher(conn, teacher_key, class_id)
            if self.clock() >= cls.expires_at:
                raise Refused("expired")
            return conn.execute(insert(experiments).values(
                class_id=class_id, template_id=tmpl.id, title=title, variants=json.dumps(clean), pick=bool(pick),
                state="open", created_at=self.clock()).returning(experiments.c.id)).scalar_one()

    def close(self, teacher_key: str, experiment_id: int) -> None:
        """No more results; the board stays readable."""
        self._set_state(teacher_key, experiment_id, "closed")

    def reopen(self, teacher_key: str, experiment_id: int) -> None:
        self._set_state(teacher_key, experiment_id, "open")

    def _set_state(self, teacher_key: str, experiment_id: int, state: str) -> None:
        with self._writing() as conn:
            class_id = conn.execute(select(experiments.c.class_id)
                                    .where(experiments.c.id == experiment_id)).scalar_one_or_none()
            if class_id is None:
                raise Refused("forged")  # no hint whether the experiment exists
            self._check_teacher(conn, teacher_key, class_id)
            conn.execute(update(experiments).where(experiments.c.id == experiment_id).values(state=state))

    # ------------------------------------------------------------------ reading (board, join flow)

    def class_info(self, class_id: int) -> ClassInfo:
        with self._reading() as conn:
            row = conn.execute(select(classes).where(classes.c.id == class_id)).first()
            if row is None:
                raise Refused("unknown", "class")
            n = conn.execute(select(func.count()).where(students.c.class_id == class_id)).scalar_one()
        return ClassInfo(row.id, row.name, row.join_code, row.created_at, row.expires_at, n)

    def experiments(self, class_id: int) -> list[Experiment]:
        """The class's experiments, newest first."""
        with self._reading() as conn:
            rows = conn.execute(select(experiments).where(experiments.c.class_id == class_id)
                                .order_by(experiments.c.id.desc())).all()
        return [_experiment(row) for row in rows]

    def experiment(self, experiment_id: int) -> Experiment:
        with self._reading() as conn:
            row = conn.execute(select(experiments).where(experiments.c.id == experiment_id)).first()
        if row is None:
            raise Refused("unknown", "experiment")
        return _experiment(row)

    def results(self, experiment_id: int) -> list[StoredResult]:
        """Every result of the experiment, oldest first, with its student's display name."""
        with self._reading() as conn:
            rows = conn.execute(
                select(results.c.id, results.c.student_id, students.c.name, results.c.run_id, results.c.variant,
                       results.c.sent_at, results.c.body)
                .join(students, students.c.id == results.c.student_id)
                .where(results.c.experiment_id == experiment_id).order_by(results.c.id)).all()
        return [StoredResult(r.id, r.student_id, r.name, r.run_id, r.variant, r.sent_at, from_json(r.body))
                for r in rows]

    def counts(self, experiment_id: int) -> tuple[int, int, int]:
        """(joined the class, assigned a variant here, sent at least one result here)."""
        with self._reading() as conn:
            class_id = select(experiments.c.class_id).where(experiments.c.id == experiment_id).scalar_subquery()
            joined = conn.execute(select(func.count()).where(students.c.class_id == class_id)).scalar_one()
            assigned = conn.execute(select(func.count()).where(
                assignments.c.experiment_id == experiment_id)).scalar_one()
            sent = conn.execute(select(func.count(results.c.student_id.distinct())).where(
                results.c.experiment_id == experiment_id)).scalar_one()
        return joined, assigned, sent

    # ------------------------------------------------------------------ students

    def join(self, join_code: str, display_name: str | None = None) -> tuple[int, str]:
        """(student_id, student_token) for a live class's code; the token is the session's only credential."""
        code = normal_code(join_code)
        if code is None:
            raise Refused("unknown", "code")
        name, token, now = clean_name(display_name), new_secret(), self.clock()
        with self._writing() as conn:
            cls = conn.execute(select(classes.c.id, classes.c.expires_at).where(classes.c.join_code == code)
                               .with_for_update(key_share=True)).first()
            if cls is None:
                raise Refused("unknown", "code")
            if now >= cls.expires_at:
                raise Refused("expired")
            n = conn.execute(select(func.count()).where(students.c.class_id == cls.id)).scalar_one()
            if n >= self.limits.max_students:
                raise Refused("full")
            student_id = conn.execute(insert(students).values(
                class_id=cls.id, token_hash=digest(token), name=name, joined_at=now, window_start=now,
                window_sends=0).returning(students.c.id)).scalar_one()
        return student_id, token

    def student(self, student_token: str) -> Student:
        with self._reading() as conn:
            row = self._student(conn, student_token, lock=False)
        return Student(row.id, row.class_id, row.name)

    def _student(self, conn, token, lock: bool):
        """The token's student row (with its class's expiry); Refused("not_joined") for any other string."""
        if not isinstance(token, str) or not token:
            raise Refused("not_joined")
        query = (select(students, classes.c.expires_at).join(classes, classes.c.id == students.c.class_id)
                 .where(students.c.token_hash == digest(token[:200])))
        if lock:
            query = query.with_for_update(key_share=True, of=students)
        row = conn.execute(query).first()
        if row is None or not same(token, row.token_hash):
            raise Refused("not_joined")
        return row

    def _open_experiment(self, conn, student, experiment_id, lock: bool):
        query = select(experiments).where(experiments.c.id == experiment_id)
        row = conn.execute(query.with_for_update(key_share=True) if lock else query).first()
        if row is None or row.class_id != student.class_id:
            raise Refused("not_joined")  # the same refusal for another class's experiment and a made-up id
        if self.clock() >= student.expires_at:
            raise Refused("expired")
        if row.state != "open":
            raise Refused("closed")
        return row

    def assignment(self, student_token: str, experiment_id: int, pick: int | None = None) -> int:
        """The student's variant: round-robin at first ask, the same afterwards; `pick` chooses one if allowed."""
        with self._writing() as conn:
            student = self._student(conn, student_token, lock=True)
            exp = self._open_experiment(conn, student, experiment_id, lock=True)
            return self._assign(conn, exp, student.id, pick)

    def _assign(self, conn, exp, student_id: int, pick: int | None) -> int:
        where = (assignments.c.experiment_id == exp.id) & (assignments.c.student_id == student_id)
        held = conn.execute(select(assignments.c.variant).where(where)).scalar_one_or_none()
        n_variants = max(1, len(json.loads(exp.variants)))
        if pick is not None:
            if not exp.pick or isinstance(pick, bool) or not isinstance(pick, int) or not 0 <= pick < n_variants:
                raise Refused("bad_variant")
            if held is None:
                conn.execute(insert(assignments).values(experiment_id=exp.id, student_id=student_id, variant=pick))
            else:
                conn.execute(update(assignments).where(where).values(variant=pick))
            return pick
        if held is not None:
            return held
        taken = conn.execute(select(func.count()).where(assignments.c.experiment_id == exp.id)).scalar_one()
        conn.execute(insert(assignments).values(experiment_id=exp.id, student_id=student_id,
                                                variant=taken % n_variants))
        return taken % n_variants

    def send(self, student_token: str, experiment_id: int, run_id: str, payload: dict) -> int:
        """Store one run's result; returns its id. A second send of the same run replaces the first.

        Refused (nothing stored): not_joined, expired, closed, rate, not_yours, and validate()'s kinds.
        """
        if not isinstance(run_id, str) or not 0 < len(run_id) <= MAX_RUN_ID or not RUN_ID_CHARS.issuperset(run_id):
            raise Refused("bad_field", "run_id")
        with self._reading() as conn:  # refuse cheaply, without the write lock
            student = self._student(conn, student_token, lock=False)
            exp = self._open_experiment(conn, student, experiment_id, lock=False)
            self._window(student)
        body = to_json(validate(template(exp.template_id), payload))
        now = self.clock()
        with self._writing() as conn:
            student = self._student(conn, student_token, lock=True)
            exp = self._open_experiment(conn, student, experiment_id, lock=True)
            start, sends = self._window(student)
            conn.execute(update(students).where(students.c.id == student.id)
                         .values(window_start=start, window_sends=sends + 1))
            variant = self._assign(conn, exp, student.id, None)
            held = conn.execute(select(results.c.id, results.c.student_id).where(
                (results.c.experiment_id == exp.id) & (results.c.run_id == run_id))).first()
            if held is not None and held.student_id != student.id:
                raise Refused("not_yours", "run_id")
            if held is not None:
                conn.execute(update(results).where(results.c.id == held.id)
                             .values(variant=variant, body=body, sent_at=now))
                return held.id
            return conn.execute(insert(results).values(
                experiment_id=exp.id, student_id=student.id, run_id=run_id, variant=variant, body=body,
                sent_at=now).returning(results.c.id)).scalar_one()

    def _window(self, student) -> tuple[float, int]:
        """(start, sends so far) of the student's current one-minute window; Refused("rate") when it is full."""
        now = self.clock()
        if not student.window_start <= now < student.window_start + 60:
            return now, 0
        if student.window_sends >= self.limits.sends_per_minute:
            raise Refused("rate")
        return student.window_start, student.window_sends

    # ------------------------------------------------------------------ run snapshots (issue 26)

    def put_snapshot(self, run_token: str, data: bytes) -> None:
        """Keep a run's newest snapshot (a torch checkpoint's bytes), replacing the one before."""
        if not isinstance(run_token, str) or not 0 < len(run_token) <= 200:
            raise Refused("bad_field", "run_token")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise Refused("bad_field", "data")
        if len(data) > self.limits.snapshot_bytes:
            raise Refused("too_big", "snapshot")
        dialect_insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        row = dialect_insert(snapshots).values(key_hash=digest(run_token), data=bytes(data), saved_at=self.clock())
        with self._writing() as conn:
            conn.execute(row.on_conflict_do_update(index_elements=[snapshots.c.key_hash],
                                                   set_={"data": row.excluded.data, "saved_at": row.excluded.saved_at}))

    def get_snapshot(self, run_token: str) -> bytes | None:
        """The run's newest snapshot, or None."""
        if not isinstance(run_token, str) or not 0 < len(run_token) <= 200:
            return None
        with self._reading() as conn:
            return conn.execute(select(snapshots.c.data).where(
                snapshots.c.key_hash == digest(run_token))).scalar_one_or_none()

    def delete_snapshot(self, run_token: str) -> None:
        if isinstance(run_token, str) and 0 < len(run_token) <= 200:
            with self._writing() as conn:
                conn.execute(delete(snapshots).where(snapshots.c.key_hash == digest(run_token)))

    def prune_snapshots(self, max_age_seconds: float) -> int:
        """Delete snapshots older than max_age_seconds; returns how many."""
        with self._writing() as conn:
            return conn.execute(delete(snapshots).where(
                snapshots.c.saved_at < self.clock() - max_age_seconds)).rowcount


def _experiment(row) -> Experiment:
    return Experiment(row.id, row.class_id, row.template_id, row.title, tuple(json.loads(row.variants)),
                      bool(row.pick), row.state, row.created_at)


_ready: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose schema this process has ensured


def open_store(url: str | None = None, limits: Limits | None = None, clock: Callable[[], float] = time.time) -> Store:
    """The store at url (else PLAYGROUND_STORE, else SQLite in the data folder), its schema ensured."""
    engine = engine_for(url)
    if engine not in _ready:
        ensure_schema(engine)
        _ready.add(engine)
    if limits is None:
        limits = Limits(class_hours=float(os.environ.get(HOURS_VARIABLE, Limits.class_hours)))
    return Store(engine, limits, clock)


__all__ = ["Store", "Limits", "ClassInfo", "Experiment", "Student", "StoredResult", "open_store",
           "HOURS_VARIABLE"]
