"""N Streamlit workers on loopback ports and HAProxy in front: started together, stopped together."""
from __future__ import annotations

import ctypes
import errno
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from serve.config import WORKERS_VARIABLE, Worker, render
from serve.network import PUBLIC_URL_VARIABLE

ROOT = Path(__file__).resolve().parents[1]  # the repo: app.py and .streamlit/config.toml live here
HEALTH = "/_stcore/health"
START_SECONDS = 180.0  # a worker imports torch and loads the default model; on one busy core that takes a while
STOP_SECONDS = 10.0  # then SIGKILL


class Stop(Exception):
    """SIGINT or SIGTERM arrived: stop everything."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


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


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + HEALTH, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Cluster:
    """The processes of one `python -m serve`: workers first, the proxy once they answer."""

    def __init__(self, workers: int, address: str, port: int, haproxy: str, public_url: str | None = None):
        self.address, self.port, self.haproxy = address, port, haproxy
        self.public_url = public_url  # where students reach the proxy: the workers' PLAYGROUND_PUBLIC_URL
        self.workers = [Worker(f"w{i + 1}", "127.0.0.1", free_port()) for i in range(workers)]
        self.processes: dict[str, subprocess.Popen] = {}  # name -> process, workers then "haproxy"
        self._config_dir = tempfile.TemporaryDirectory(prefix="playground-serve-")

    def _spawn(self, name: str, command: list[str], **kwargs) -> None:
        self.processes[name] = subprocess.Popen(command, start_new_session=True,  # Ctrl-C reaches us only
                                                preexec_fn=_die_with_parent, **kwargs)

    def start(self) -> None:
        for w in self.workers:
            self._spawn(w.name, [sys.executable, "-m", "streamlit", "run", "app.py",
                                 "--server.address", w.host, "--server.port", str(w.port),
                                 "--server.headless", "true", "--browser.gatherUsageStats", "false"],
                        cwd=ROOT, stdout=subprocess.DEVNULL,  # its "open http://127.0.0.1:..." banner misleads
                        env={**os.environ, WORKERS_VARIABLE: str(len(self.workers)),  # they share the cores
                             **({PUBLIC_URL_VARIABLE: self.public_url} if self.public_url else {})})
        self._wait_healthy([f"http://{w.host}:{w.port}" for w in self.workers])
        config = Path(self._config_dir.name) / "haproxy.cfg"
        bind = f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"
        config.write_text(render(bind, self.workers))
        self._spawn("haproxy", [self.haproxy, "-db", "-f", str(config)])
        local = "127.0.0.1" if self.address in ("0.0.0.0", "::") else self.address
        self._wait_healthy([f"http://{'[' + local + ']' if ':' in local else local}:{self.port}"])

    def _wait_healthy(self, urls: list[str]) -> None:
        deadline = time.monotonic() + START_SECONDS
        waiting = list(urls)
        while waiting:
            self.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"no answer from {', '.join(waiting)} within {START_SECONDS:.0f} s")
            waiting = [u for u in waiting if not healthy(u)]
            if waiting:
                time.sleep(0.3)

    def check_alive(self) -> None:
        """Raise if any process has exited (the class would lose every session on it)."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with code {process.returncode}")

    def stop(self) -> None:
        """The proxy first (no new requests), then the workers; SIGKILL whatever outlives STOP_SECONDS."""
        order = ["haproxy"] + [w.name for w in self.workers]
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
        self._config_dir.cleanup()


def raise_stop(signum, frame) -> None:
    raise Stop(signal.Signals(signum).name)


def run(cluster: Cluster, announce) -> int:
    """Start, announce, supervise until a signal or a crash, stop. Returns the exit code."""
    signal.signal(signal.SIGINT, raise_stop)
    signal.signal(signal.SIGTERM, raise_stop)
    try:
        cluster.start()
        announce()
        while True:
            cluster.check_alive()
            time.sleep(0.5)
    except Stop:
        return 0
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the clean-up
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cluster.stop()
