"""Faults in class: kill -9 one worker, then HAProxy, under `python -m serve --workers 2`, and time the recovery.

Clients are HTTP stand-ins for students: each GETs /_stcore/health through HAProxy every 50 ms and keeps the
cookie the proxy sets, as a browser does, so half of them live on each worker. For each fault (--rounds
times, on a fresh set of clients):

  seen          kill -> the launcher's line saying so (`w2 exited with code -9; restarting in 1 s ...`)
  backoff       the wait the launcher announced before the restart
  own health    kill -> the restarted process answers (a worker: its own port; HAProxy: the students' port)
  new students  kill -> the first cookie-less request the proxy routes to the restarted worker
  gap others    the longest wait between two answers for a client of the worker that was not killed
  gap moved     the same for a client of the killed worker (it is moved to the live one)
  failed        requests that got no answer (or not 200), others / moved

Steps lost per student and results lost need run snapshots and the class board's store (classroom/): until
the Train page resumes a run from a snapshot, a moved student's run starts again at step 0, so these two
columns say "n/a until run snapshots" rather than a number.

Each kill is a row; kills within STABLE_SECONDS of a restart find the backoff doubled (1, 2, 4 s), as a class
would see them. Usage: python bench/faults.py [--clients 8] [--rounds 3]   (needs HAProxy; about 1 minute)
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from serve.cluster import descendants, free_port  # noqa: E402  (the process tree and ports serve itself uses)
from serve.config import COOKIE  # noqa: E402
from serve.supervise import STABLE_SECONDS  # noqa: E402

PERIOD = 0.05  # s between two requests of one client
WORKER_HEADER = "X-Playground-Worker"
NOT_YET = "n/a until run snapshots"


def get(url: str, cookie: str | None, timeout: float = 5.0):
    """(status, answering worker, new cookie or None)."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        cookies = [c.split(";")[0] for c in response.headers.get_all("Set-Cookie") or [] if c.startswith(COOKIE)]
        return response.status, response.headers[WORKER_HEADER], (cookies[-1] if cookies else None)


class Client(threading.Thread):
    """One student stand-in: a request every PERIOD, its answers as (time, ok, worker)."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.cookie, self.running, self.events = url + "/_stcore/health", None, True, []

    def run(self) -> None:
        while self.running:
            try:
                status, worker, cookie = get(self.url, self.cookie)
                self.cookie = cookie or self.cookie
                self.events.append((time.monotonic(), status == 200, worker))
            except OSError:
                self.events.append((time.monotonic(), False, None))
            time.sleep(PERIOD)

    def worker_at(self, moment: float) -> str | None:
        return next((w for t, ok, w in reversed(self.events) if t <= moment and ok), None)

    def gap(self, start: float, end: float) -> float:
        """The longest time between two answers from start (the kill) to end."""
        times = [start] + [t for t, ok, _ in self.events if ok and start < t <= end] + [end]
        return max(b - a for a, b in zip(times, times[1:]))

    def failed(self, start: float, end: float) -> int:
        return sum(1 for t, ok, _ in self.events if not ok and start < t <= end)


class Serve:
    """python -m serve --workers 2 on a free loopback port, its output in a file."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix="bench-faults-", suffix=".log")[1])
        with self.log.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "serve", "--workers", "2", "--port",
                                             str(self.port), "--address", "127.0.0.1"],
                                            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        self.wait_for("Students open", 0, 240)
        text = self.log.read_text()
        self.status_url = text.split("Status for the teacher (this machine only): ")[1].split()[0]

    def wait_for(self, line: str, count: int, timeout: float) -> float:
        """Wait until line is in the log more than count times; the moment it was seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log.read_text().count(line) > count:
                return time.monotonic()
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.02)
        raise TimeoutError(f"no {line!r} within {timeout} s")

    def status(self) -> dict:
        with urllib.request.urlopen(self.status_url + "status.json", timeout=5) as response:
            return {row["name"]: row for row in json.load(response)}

    def pid(self, name: str) -> int:
        port = self.status()[name]["listens"].rsplit(":", 1)[1]
        for pid in descendants(self.process.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:  # exited while we looked
                continue
            if (name == "haproxy") == command[0].endswith(b"haproxy") and (name == "haproxy" or port.encode() in command):
                return pid
        raise LookupError(name)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        self.log.unlink()


def until(predicate, timeout: float, interval: float = 0.02) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(interval)
    raise TimeoutError


def answers(url: str, worker: str | None = None) -> bool:
    try:
        status, answered, _ = get(url + "/_stcore/health", None, timeout=1)
    except OSError:
        return False
    return status == 200 and (worker is None or answered == worker)


def round_of(serve: Serve, fault: str, clients: int) -> dict:
    """One kill of fault (w2 or haproxy) under clients clients; the row's numbers in seconds."""
    crowd = [Client(serve.url) for _ in range(clients)]
    for client in crowd:
        client.start()
    until(lambda: all(c.cookie for c in crowd), 30)
    time.sleep(1)
    restarts = serve.status()[fault]["restarts"]
    victim = serve.pid(fault)
    killed = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    seen = serve.wait_for(f"{fault} exited with code -9", restarts, 30)
    up = serve.wait_for(f"{fault} up (restart {restarts + 1})", 0, 240)
    if fault == "haproxy":
        own = until(lambda: answers(serve.url), 30)
        first_new = own
    else:
        port = int(serve.status()[fault]["listens"].rsplit(":", 1)[1])
        own = until(lambda: answers(f"http://127.0.0.1:{port}"), 30)
        first_new = until(lambda: answers(serve.url, fault), 30)
    end = max(up, first_new) + 2
    time.sleep(max(0.0, end - time.monotonic()))
    for client in crowd:
        client.running = False
    for client in crowd:
        client.join(10)
    moved = [c for c in crowd if fault == "haproxy" or c.worker_at(killed) == fault]
    others = [c for c in crowd if c not in moved]
    said = re.findall(rf"^{fault} exited with code -9; restarting in ([0-9.]+) s", serve.log.read_text(), re.M)
    return {"backoff": float(said[-1]), "seen": seen - killed, "own": own - killed, "new": first_new - killed,
            "gap_others": max((c.gap(killed, end) for c in others), default=None),
            "gap_moved": max(c.gap(killed, end) for c in moved),
            "failed_others": sum(c.failed(killed, end) for c in others),
            "failed_moved": sum(c.failed(killed, end) for c in moved)}


def cell(value) -> str:
    return "-" if value is None else str(value) if isinstance(value, int) else f"{value:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="students' stand-ins, half on each worker")
    parser.add_argument("--rounds", type=int, default=3, help="kills of each process")
    args = parser.parse_args()
    serve = Serve()
    try:
        rows = {}
        for fault in ("w2", "haproxy"):
            rows[fault] = [round_of(serve, fault, args.clients) for _ in range(args.rounds)]
            until(lambda: all(r["state"] == "up" for r in serve.status().values()), 60)
            time.sleep(2)
    finally:
        serve.stop()
    print(f"python -m serve --workers 2, {args.clients} clients polling every {PERIOD * 1000:.0f} ms; times in s "
          f"from the kill. Kills {STABLE_SECONDS:.0f} s apart or more restart after 1 s; closer ones back off.\n")
    columns = ["backoff", "seen", "own", "new", "gap_others", "gap_moved", "failed_others", "failed_moved"]
    header = ["kill -9", "backoff", "seen", "own health", "new students", "gap others", "gap moved",
              "failed others", "failed moved", "steps lost per student", "results lost"]
    table = [[fault] + [cell(run[key]) for key in columns] + [NOT_YET, NOT_YET]
             for fault, runs in rows.items() for run in runs]
    widths = [max(len(str(row[i])) for row in [header] + table) for i in range(len(header))]
    for row in [header] + table:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
