"""The store's tables (SQLAlchemy Core) and their versioned creation, safe when several workers start at once.

A fresh database gets every table of `metadata` and is stamped with the newest version. A database made by
older code gets each pending step of UPGRADES, in order, in the same transaction. Either way the work runs
under a lock (SQLite: BEGIN IMMEDIATE, PostgreSQL: pg_advisory_xact_lock), so the second worker to start
waits, then finds the schema current and does nothing.
"""
from __future__ import annotations

import time
from typing import Callable

from sqlalchemy import (Boolean, Column, Connection, Engine, Float, ForeignKey, Index, Integer, LargeBinary,
                        MetaData, String, Table, Text, UniqueConstraint, func, inspect, select, text)

metadata = MetaData()

HASH = 64  # hex sha256 of a token or key

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),  # one row per step applied
    Column("applied_at", Float, nullable=False),  # seconds since the epoch
)

classes = Table(
    "classes", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(80), nullable=False),
    Column("join_code", String(6), nullable=False, unique=True),  # never reused, so a stale link finds nothing
    Column("teacher_hash", String(HASH), nullable=False, unique=True),  # sha256 of the teacher key
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),  # the join code and every student write end here
)

experiments = Table(
    "experiments", metadata,
    Column("id", Integer, primary_key=True),
    Column("class_id", Integer, ForeignKey("classes.id"), nullable=False, index=True),
    Column("template_id", String(40), nullable=False),
    Column("title", String(120)),
    Column("variants", Text, nullable=False),  # JSON list of settings dicts (URL-parameter vocabulary)
    Column("pick", Boolean, nullable=False),  # True: a student may choose a variant; else round-robin only
    Column("state", String(10), nullable=False),  # "open" or "closed"
    Column("created_at", Float, nullable=False),
)

students = Table(
    "students", metadata,
    Column("id", Integer, primary_key=True),
    Column("class_id", Integer, ForeignKey("classes.id"), nullable=False, index=True),
    Column("token_hash", String(HASH), nullable=False, unique=True),  # sha256 of the session token
    Column("name", String(40), nullable=False),  # cleaned display name, may be ""
    Column("joined_at", Float, nullable=False),
    Column("window_start", Float, nullable=False),  # start of the current one-minute rate window
    Column("window_sends", Integer, nullable=False),  # results stored in that window
)

assignments = Table(
    "assignments", metadata,
    Column("experiment_id", Integer, ForeignKey("experiments.id"), primary_key=True),
    Column("student_id", Integer, ForeignKey("students.id"), primary_key=True),
    Column("variant", Integer, nullable=False),  # index into the experiment's variants
)

results = Table(
    "results", metadata,
    Column("id", Integer, primary_key=True),
    Column("experiment_id", Integer, ForeignKey("experiments.id"), nullable=False),
    Column("student_id", Integer, ForeignKey("students.id"), nullable=False),
    Column("run_id", String(64), nullable=False),  # the client's id of one run: one result per run
    Column("variant", Integer, nullable=False),  # the student's variant when it was sent
    Column("body", Text, nullable=False),  # results.to_json of the validated Result
    Column("sent_at", Float, nullable=False),
    UniqueConstraint("experiment_id", "run_id", name="one_result_per_run"),
    Index("results_by_experiment", "experiment_id", "variant"),
)

snapshots = Table(
    "snapshots", metadata,
    Column("key_hash", String(HASH), primary_key=True),  # sha256 of the run token
    Column("data", LargeBinary, nullable=False),  # a torch checkpoint's bytes, bounded by Limits.snapshot_bytes
    Column("saved_at", Float, nullable=False),
)

class_lessons = Table(  # issue 25: the guided lesson the teacher runs for the class now, at most one
    "class_lessons", metadata,
    Column("class_id", Integer, ForeignKey("classes.id"), primary_key=True),
    Column("lesson_id", String(64), nullable=False),  # a lessons/ file's id
    Column("steps", Integer, nullable=False),  # the lesson's step count: every step stored is below it
    Column("step", Integer, nullable=False),  # 0-based step the teacher has the class on
    Column("paced", Boolean, nullable=False),  # True: the teacher moves everyone; False: own pace
    Column("revealed", Boolean, nullable=False),  # the projector shows the current step's answer
    Column("started_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),  # last start, move, pace or reveal
)

lesson_answers = Table(  # one prediction per student per lesson step; a new one replaces it
    "lesson_answers", metadata,
    Column("id", Integer, primary_key=True),
    Column("class_id", Integer, ForeignKey("classes.id"), nullable=False),
    Column("lesson_id", String(64), nullable=False),
    Column("step", Integer, nullable=False),
    Column("student_id", Integer, ForeignKey("students.id"), nullable=False),
    Column("answer", Float, nullable=False),  # the option's index (choice) or the number predicted
    Column("measured", Float),  # what the student's own run measured, if it ran
    Column("answered_at", Float, nullable=False),
    UniqueConstraint("student_id", "lesson_id", "step", name="one_answer_per_step"),
    Index("answers_by_step", "class_id", "lesson_id", "step"),
)


def _lessons(conn: Connection) -> None:
    """Version 2 (issue 25): the class's current lesson and its students' answers."""
    class_lessons.create(conn)
    lesson_answers.create(conn)


SCHEMA_VERSION = 2  # the version `metadata` describes
# version -> the step from version - 1 (DDL through SQLAlchemy, e.g. `Column(...).create`-style ALTERs).
# Append one, never edit one: a database records which it ran. Change the Table above in the same commit.
UPGRADES: dict[int, Callable[[Connection], None]] = {2: _lessons}
ADVISORY_LOCK = 7_240_024  # any constant: the key PostgreSQL serialises schema work on


class SchemaError(RuntimeError):
    """The database was made by newer code than this one."""


def ensure_schema(engine: Engine, *, version: int = SCHEMA_VERSION,
                  upgrades: dict[int, Callable[[Connection], None]] | None = None) -> int:
    """Create or upgrade the tables under a lock, in one transaction; returns the version now stored."""
    upgrades = UPGRADES if upgrades is None else upgrades
    with engine.connect() as conn:
        conn.execution_options(classroom_write=True)  # SQLite: BEGIN IMMEDIATE (see store.connect)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
            current = _stored_version(conn)
            now = time.time()
            if current is None:
                metadata.create_all(conn)
                stamps = [{"version": v, "applied_at": now} for v in range(1, version + 1)]
                conn.execute(schema_version.insert(), stamps)
                return version
            if current > version:
                raise SchemaError(f"the classroom store holds schema version {current}, "
                                  f"newer than this code's {version}")
            for step in range(current + 1, version + 1):
                upgrades[step](conn)
                conn.execute(schema_version.insert(), {"version": step, "applied_at": now})
            return version


def _stored_version(conn: Connection) -> int | None:
    """The highest version recorded, or None for a database without one (creation is all or nothing)."""
    if not inspect(conn).has_table(schema_version.name):
        return None
    return conn.execute(select(func.max(schema_version.c.version))).scalar_one()


__all__ = ["metadata", "classes", "experiments", "students", "assignments", "results", "snapshots",
           "class_lessons", "lesson_answers", "schema_version", "SCHEMA_VERSION", "UPGRADES", "SchemaError", "ensure_schema"]
