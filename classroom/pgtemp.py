"""A throwaway PostgreSQL server from Debian's binaries, for the tests and the benchmark (never the app).

    with TempPostgres() as pg:          # initdb into a temp folder, start on a Unix socket, stop and delete after
        url = pg.create_database("t1")  # postgresql+psycopg://postgres@/t1?host=SOCKDIR&port=PORT

Run as root it runs the server as the `postgres` user (PostgreSQL refuses root). `missing()` says why it cannot.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

BIN_VARIABLE = "PG_BIN"  # a folder holding initdb and pg_ctl; else the newest /usr/lib/postgresql/*/bin


def bin_dir() -> Path | None:
    named = os.environ.get(BIN_VARIABLE)
    if named:
        return Path(named) if (Path(named) / "initdb").is_file() else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[-3]))
    return Path(found[-1]).parent if found else None


def missing() -> str | None:
    """Why a temporary server cannot start here, or None."""
    if bin_dir() is None:
        return "no PostgreSQL server binaries (Debian: apt-get install postgresql)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, but there is no postgres user to run the server"
        if shutil.which("runuser") is None:
            return "running as root without runuser"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempPostgres:
    """One server in a temporary folder; `fast=True` turns fsync off (tests), False keeps it (benchmarks)."""

    def __init__(self, fast: bool = True):
        self.fast = fast
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="classroom-pg-"))
        self.data, self.socket_dir, self.log = self.root / "data", self.root / "sock", self.root / "server.log"

    def _run(self, *args: str) -> None:
        as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*as_owner, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}\n{log}")

    def start(self) -> "TempPostgres":
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in (self.root, self.socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)
        tools = bin_dir()
        self._run(str(tools / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync")
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses='' -c max_connections=200"
        if self.fast:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(str(tools / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        return self

    def restart(self) -> None:
        """Stop and start the server (what a store must survive)."""
        self._run(str(bin_dir() / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w",
                  "restart")  # -l: the new server must not hold our output pipe open

    def stop(self) -> None:
        if self.data.exists():
            try:
                self._run(str(bin_dir() / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except RuntimeError:
                pass  # never started: nothing to stop
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        self._admin("CREATE DATABASE {}", name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database and its connections (each is a ~8 MB copy of template1 on disk)."""
        self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)

    def _admin(self, statement: str, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(host=str(self.socket_dir), port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(sql.SQL(statement).format(sql.Identifier(name)))

    def __enter__(self) -> "TempPostgres":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


__all__ = ["TempPostgres", "missing", "bin_dir"]
