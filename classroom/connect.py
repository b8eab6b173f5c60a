"""Where the store lives and how to reach it: the URL, the data folder, one engine per URL per process.

SQLite (the default) is shared by every worker of `python -m serve` on one machine: WAL mode lets the board read
while a student writes, busy_timeout makes a writer wait for the lock instead of failing, and write transactions
start with BEGIN IMMEDIATE so two writers never deadlock upgrading a read lock. PostgreSQL (by URL) is shared by
workers on several machines; psycopg 3 is its driver.
"""
from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

STORE_VARIABLE = "PLAYGROUND_STORE"  # a database URL: sqlite:///path or postgresql://user@host/db
DATA_VARIABLE = "PLAYGROUND_DATA"  # the data folder of the default SQLite file
BUSY_MS = 30_000  # a SQLite writer waits this long for the lock (200 students sending at once queue for ms)

_engines: dict[tuple[int, str], Engine] = {}  # (process id, URL) -> engine: a forked worker builds its own


def data_folder() -> Path:
    """PLAYGROUND_DATA, else $XDG_DATA_HOME/nn-playground, else ~/.local/share/nn-playground; created if missing."""
    named = os.environ.get(DATA_VARIABLE)
    if named:
        folder = Path(named).expanduser()
    else:
        base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
        folder = Path(base).expanduser() / "nn-playground"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_url(url: str | None = None) -> str:
    """The URL asked for (argument, else PLAYGROUND_STORE, else the data folder's classroom.db), driver named."""
    url = url or os.environ.get(STORE_VARIABLE) or f"sqlite:///{data_folder() / 'classroom.db'}"
    for plain in ("postgresql://", "postgres://"):  # SQLAlchemy would pick psycopg2, which is not installed
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def engine_for(url: str | None = None) -> Engine:
    """The process's engine for a URL, made on first use."""
    url = store_url(url)
    key = (os.getpid(), url)
    if key not in _engines:
        _engines[key] = _make_engine(url)
    return _engines[key]


def _make_engine(url: str) -> Engine:
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})  # the pool lends one thread at a time
        _sqlite_pragmas(engine)
        return engine
    if backend == "postgresql":
        # pre_ping: a connection the server dropped (restart, failover) is replaced, not handed to a page
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    raise ValueError(f"{STORE_VARIABLE} must be a sqlite:/// or postgresql:// URL, got {make_url(url).drivername}")


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL, busy_timeout and foreign keys on every connection; BEGIN IMMEDIATE for the store's writes."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # the driver issues no BEGIN of its own: on_begin does
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_MS}")  # first: switching a new file to WAL may wait too
        _until_unlocked(lambda: cursor.execute("PRAGMA journal_mode=WAL"))  # readers never wait for the writer
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")  # a result is on disk when send() returns
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        write = conn.get_execution_options().get("classroom_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def forget_engines() -> None:
    """Dispose of this process's engines (tests, and a store that must reconnect from scratch)."""
    for (pid, url), engine in list(_engines.items()):
        if pid == os.getpid():
            engine.dispose()
            del _engines[(pid, url)]


__all__ = ["STORE_VARIABLE", "DATA_VARIABLE", "data_folder", "store_url", "engine_for", "forget_engines"]


def _until_unlocked(statement, tries: int = 200, pause: float = 0.05) -> None:
    """Run a statement, again while SQLite says the database is locked: switching a new file to WAL takes an
    exclusive lock without calling the busy handler, so workers opening a fresh store at once can collide."""
    for attempt in range(tries):
        try:
            statement()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == tries - 1:
                raise
            time.sleep(pause)
