"""python -m serve --workers N --port P: the playground for a whole class on one machine.

N Streamlit workers (default: one per core, since Python's GIL lets one process use about one core) on
loopback ports, and HAProxy on --address:--port in front of them with cookie-based sticky sessions.
A worker or HAProxy that dies is restarted (serve/supervise.py); only a crash loop stops the class.
--store URL points every worker at one class store (PLAYGROUND_STORE): a SQLite file, or PostgreSQL for workers
on several machines. Ctrl-C (or SIGTERM) stops every process it started.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys

from pathlib import Path

from serve.claims import PortTaken, claim_port, release_port
from serve.cluster import Cluster, http_url, port_is_free
from serve.network import network_address, public_url
from serve.status import StatusPage
from serve.supervise import run

DEFAULT_ADDRESS = "0.0.0.0"  # every interface: the point is that students' devices on the network reach it
DEFAULT_PORT = 8501
HAPROXY_HELP = "HAProxy is not installed: apt-get install -y haproxy (Debian/Ubuntu), or pass --haproxy PATH"


STORE_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")  # what classroom.connect opens


def store_url(text: str) -> str:
    """--store's URL as the workers get it: sqlite:///PATH (made absolute: the workers run in the app's folder) or a
    postgresql:// URL naming a database. ValueError says what is wrong, in one line."""
    from sqlalchemy.engine import make_url  # the store's own parser (classroom.connect reads it the same way)
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text.strip())
    except ArgumentError:
        raise ValueError(f"--store must be sqlite:///PATH or postgresql://USER@HOST/DATABASE, not {text!r}") from None
    if url.drivername not in STORE_SCHEMES:
        raise ValueError(f"--store must be sqlite:///PATH or postgresql://USER@HOST/DATABASE, not a "
                         f"{url.drivername}:// URL")
    if url.drivername == "sqlite":
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            raise ValueError("--store sqlite:///PATH needs a file every worker can open, e.g. "
                             "sqlite:///class/classroom.db")
        path = Path(url.database).expanduser().absolute()
        if not path.parent.is_dir():
            raise ValueError(f"--store: the folder {path.parent} does not exist")
        if path.is_dir():
            raise ValueError(f"--store: {path} is a folder, not a database file")
        return f"sqlite:///{path}"
    if not url.database:
        raise ValueError("--store postgresql:// needs a database name, e.g. postgresql://teacher@db.school/playground")
    return text.strip()


def shown_store(url: str) -> str:
    """The store's URL without its password, to print."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage dump
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="python -m serve", description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="Streamlit processes (default: the number of cores, here %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="the port students open (default %(default)s)")
    parser.add_argument("--address", default=DEFAULT_ADDRESS,
                        help="where the proxy listens: %(default)s = every interface, so the class can reach it; "
                             "127.0.0.1 = this machine only")
    parser.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy", help="HAProxy binary")
    parser.add_argument("--status-port", type=int, default=0,
                        help="the teacher's status page on 127.0.0.1 (default: any free port, printed at start)")
    parser.add_argument("--store", help="the class store every worker uses (sets PLAYGROUND_STORE): sqlite:///PATH, "
                                        "or postgresql://USER@HOST/DATABASE for workers on several machines "
                                        "(default: $PLAYGROUND_STORE, else SQLite in the data folder)")
    args = parser.parse_args(argv)
    if args.store is not None:
        try:
            args.store = store_url(args.store)
        except ValueError as problem:
            parser.error(str(problem))
    if not 1 <= args.workers <= 64:
        parser.error(f"--workers must be between 1 and 64, not {args.workers}")
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be between 1 and 65535, not {args.port}")
    if not 0 <= args.status_port <= 65535:
        parser.error(f"--status-port must be a port number (1-65535), not {args.status_port}")
    try:
        free = port_is_free(args.address, args.port)
    except OSError as error:  # e.g. an address this machine does not have
        parser.error(f"cannot listen on {args.address}: {error.strerror}")
    if not free:
        parser.error(f"port {args.port} on {args.address} is already in use: choose another with --port")
    if not (os.path.isfile(args.haproxy) and os.access(args.haproxy, os.X_OK)):
        parser.error(HAPROXY_HELP)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:  # before anything listens: of two launchers started a moment apart, the second stops here
        lock = claim_port(args.port)
    except PortTaken as taken:
        by = f" (pid {taken.pid})" if taken.pid else ""
        print(f"error: port {args.port} is already used by another python -m serve{by}: choose another with --port",
              file=sys.stderr)
        return 2
    try:
        return serve(args)
    finally:
        release_port(lock)


def serve(args: argparse.Namespace) -> int:
    shared = args.address in ("0.0.0.0", "::")
    host = (network_address() if shared else args.address) or "127.0.0.1"
    students = public_url() or http_url(host, args.port)
    try:  # bound before the workers' ports are chosen, so none of them takes it
        status = StatusPage(args.status_port)
    except OSError as error:
        print(f"error: the status page cannot listen on 127.0.0.1:{args.status_port}: {error.strerror}",
              file=sys.stderr)
        return 2
    # the workers listen on loopback behind the proxy: told the proxy's address, their lesson links name it
    cluster = Cluster(args.workers, args.address, args.port, args.haproxy, public_url=students, store=args.store)

    def announce() -> None:
        workers = f"{args.workers} worker{'s' if args.workers > 1 else ''}"
        print(f"{workers} behind HAProxy on {args.address}:{args.port}. "
              f"Students open {students}/  (Ctrl-C stops everything)\n"
              f"Status for the teacher (this machine only): {status.url}"
              + (f"\nClass store: {shown_store(args.store)}" if args.store else ""), flush=True)

    return run(cluster, announce, status)


if __name__ == "__main__":
    sys.exit(main())
