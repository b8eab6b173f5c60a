"""The store's records: plain frozen values its methods return, and the limits it enforces."""
from __future__ import annotations

from dataclasses import dataclass

from .results import Result


@dataclass(frozen=True)
class Limits:
    max_students: int = 200  # per class
    sends_per_minute: int = 10  # results stored per student per minute, counted in the database
    class_hours: float = 12.0  # a class, its join code and its students' writes expire this long after creation
    snapshot_bytes: int = 20_000_000  # largest run snapshot (a torch checkpoint)


@dataclass(frozen=True)
class ClassInfo:
    id: int
    name: str
    join_code: str
    created_at: float  # seconds since the epoch
    expires_at: float
    students: int  # how many joined


@dataclass(frozen=True)
class Experiment:
    id: int
    class_id: int
    template_id: str
    title: str | None
    variants: tuple[dict[str, str], ...]  # settings per variant (the template's, or the teacher's)
    pick: bool  # True: students may choose their variant
    state: str  # "open" or "closed"
    created_at: float


@dataclass(frozen=True)
class Student:
    id: int
    class_id: int
    name: str  # cleaned, may be "": show as plain text


@dataclass(frozen=True)
class StoredResult:
    id: int
    student_id: int
    name: str
    run_id: str
    variant: int
    sent_at: float
    result: Result


__all__ = ["Limits", "ClassInfo", "Experiment", "Student", "StoredResult"]
