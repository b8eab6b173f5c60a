"""N Streamlit workers on loopback ports and HAProxy in front: how each is started, checked and stopped."""
from __future__ import annotations

import csv
import ctypes
import errno
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from serve.claims import make_run_folder
from serve.config import WORKERS_VARIABLE, Worker, render
from serve.network import PUBLIC_URL_VARIABLE

STORE_VARIABLE = "PLAYGROUND_STORE"  # classroom.connect's: the class store's URL, told to every worker by --store

ROOT = Path(__file__).resolve().parents[1]  # the repo: app.py and .streamlit/config.toml live here
HEALTH = "/_stcore/health"
STOP_SECONDS = 10.0  # then SIGKILL
HAPROXY = "haproxy"  # the proxy's name among the cluster's processes
BACKEND, FRONTEND = "workers", "playground"  # their names in serve/haproxy.cfg.in

def free_port(host: str = "127.0.0.1", taken: frozenset[int] | set[int] = frozenset()) -> int:
    """A port free now on host, other than `taken` (ports promised to processes that have not bound them yet: the
    kernel may hand out a free port again, and the proxy's own port is free until HAProxy starts)."""
    while True:
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in taken:
            return port


def descendants(pid: int) -> list[int]:
    """Every process below pid, read from /proc (what a cluster started, for its tests and benchmark)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def port_is_free(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as HAProxy binds: TIME_WAIT does not count
        try:
            s.bind((address, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise  # not an address of this machine, a privileged port, ...: the caller says so
    return True


def _die_with_parent() -> None:
    """In the child, before exec: a SIGTERM when `python -m serve` dies, even by SIGKILL (Linux prctl)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def http_url(host: str, port: int) -> str:
    """http://host:port, with an IPv6 address in brackets (http://[::1]:8501)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url + HEALTH, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def listening(host: str, port: int, timeout: float = 2.0) -> bool:
    """Whether something accepts TCP connections on host:port (HAProxy is up: its port is bound)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class Cluster:
    """The processes of one `python -m serve`: a Streamlit worker per name w1..wN, and HAProxy.

    Each can be (re)started on its own: a worker keeps its port, HAProxy its configuration, so a restarted
    process takes the place of the dead one. The supervisor (serve/supervise.py) decides when.
    """

    def __init__(self, workers: int, address: str, port: int, haproxy: str, public_url: str | None = None,
                 store: str | None = None):
        self.address, self.port, self.haproxy = address, port, haproxy
        self.public_url = public_url  # where students reach the proxy: the workers' PLAYGROUND_PUBLIC_URL
        self.store = store  # --store: the workers' PLAYGROUND_STORE (else they inherit ours, or use the default)
        taken = {port}  # the proxy binds it only when it starts, after the workers' ports are chosen
        self.workers = []
        for i in range(workers):
            self.workers.append(Worker(f"w{i + 1}", "127.0.0.1", free_port(taken=taken)))
            taken.add(self.workers[-1].port)
        self.processes: dict[str, subprocess.Popen] = {}  # name -> its current process
        self.folder = make_run_folder()  # named after our pid: a later launcher removes it if we are SIGKILLed
        self.stats_socket = self.folder / "haproxy.sock"
        self.config = self.folder / "haproxy.cfg"
        bind = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        self.config.write_text(render(bind, self.workers, stats_socket=str(self.stats_socket)))
        self.local = "127.0.0.1" if address in ("0.0.0.0", "::") else address  # where this machine reaches the proxy
        # one cookie secret for every worker of this launch: a student moved to another worker (its own died) keeps
        # a valid XSRF cookie, so an upload still works; new each launch, never written to a file
        self.cookie_secret = os.environ.get("STREAMLIT_SERVER_COOKIE_SECRET") or secrets.token_hex(32)

    @property
    def names(self) -> list[str]:
        return [w.name for w in self.workers] + [HAPROXY]

    def worker(self, name: str) -> Worker:
        return next(w for w in self.workers if w.name == name)

    def spawn(self, name: str) -> subprocess.Popen:
        """Start (or start again) the worker or HAProxy called name. Call it from the main thread only:
        PDEATHSIG fires when the thread that started a child ends."""
        if name == HAPROXY:
            return self._spawn(name, [self.haproxy, "-db", "-f", str(self.config)])
        w = self.worker(name)
        return self._spawn(name, [sys.executable, "-m", "streamlit", "run", "app.py",
                                  "--server.address", w.host, "--server.port", str(w.port),
                                  "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                           cwd=ROOT, stdout=subprocess.DEVNULL,  # its "open http://127.0.0.1:..." banner misleads
                           env={**os.environ, WORKERS_VARIABLE: str(len(self.workers)),  # they share the cores
                                "STREAMLIT_SERVER_COOKIE_SECRET": self.cookie_secret,
                                **({PUBLIC_URL_VARIABLE: self.public_url} if self.public_url else {}),
                                **({STORE_VARIABLE: self.store} if self.store else {})})

    def _spawn(self, name: str, command: list[str], **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(command, start_new_session=True,  # Ctrl-C reaches us only
                                   preexec_fn=_die_with_parent, **kwargs)
        self.processes[name] = process
        return process

    def answers(self, name: str) -> bool:
        """Worker: its /_stcore/health says ok. HAProxy: its port accepts connections."""
        if name == HAPROXY:
            return listening(self.local, self.port)
        w = self.worker(name)
        return healthy(http_url(w.host, w.port))

    def proxy_stats(self) -> dict[str, dict[str, str]] | None:
        """HAProxy's `show stat` on its stats socket, one row per worker ("haproxy": the students' side).

        Each row has HAProxy's columns: status (UP, DOWN, ...), scur (open connections), ... None while
        HAProxy is down."""
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(str(self.stats_socket))
                s.sendall(b"show stat\n")
                chunks = []
                while chunk := s.recv(65536):
                    chunks.append(chunk)
        except OSError:
            return None
        rows = {}
        for row in csv.DictReader(b"".join(chunks).decode(errors="replace").lstrip("# ").splitlines()):
            if row.get("pxname") == BACKEND and row.get("svname") not in ("BACKEND", "FRONTEND"):
                rows[row["svname"]] = row
            elif row.get("pxname") == FRONTEND and row.get("svname") == "FRONTEND":
                rows[HAPROXY] = row
        return rows

    def routes(self) -> bool:
        """Whether HAProxy sends students to every worker (its checks mark one up within a second of answering)."""
        stats = self.proxy_stats() or {}
        return all(stats.get(w.name, {}).get("status") == "UP" for w in self.workers)

    def describe(self, name: str) -> str:
        """Where name listens, for the status page: 127.0.0.1:40123, or the students' address for HAProxy."""
        if name == HAPROXY:
            return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"
        w = self.worker(name)
        return f"{w.host}:{w.port}"

    def stop(self) -> None:
        """The proxy first (no new requests), then the workers; SIGKILL whatever outlives STOP_SECONDS."""
        order = [HAPROXY] + [w.name for w in self.workers]
        running = [self.processes[n] for n in order if n in self.processes and self.processes[n].poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
