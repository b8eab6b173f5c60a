"""Each store test runs twice: on SQLite in tmp_path and on a real PostgreSQL started for the session.

Without PostgreSQL's server binaries (Debian: postgresql) the PostgreSQL half skips on a developer's machine
but fails when CI is set.
"""
from __future__ import annotations

import itertools
import os

import pytest

from classroom import Limits, open_store
from classroom.connect import forget_engines
from classroom.pgtemp import TempPostgres, missing

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres():
    reason = missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL store tests cannot run in CI: {reason}")
        pytest.skip(reason)
    with TempPostgres(fast=True) as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """A fresh, empty database of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'classroom.db'}"
        forget_engines()
        return
    postgres, name = request.getfixturevalue("postgres"), f"test_{next(_databases)}"
    yield postgres.create_database(name)
    forget_engines()  # close this test's connections before the database goes
    postgres.drop_database(name)


class Clock:
    """Time the tests move by hand: expiry and the rate window without sleeping."""

    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(url, clock):
    return open_store(url, Limits(), clock)
