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

Each kill is a row; kills within STABLE_SECONDS of a restart find the backoff doubled (1, 2, 4 s), as a class
would see them.

Then real students (--students, Chromium through Playwright, half on each worker) join a class whose experiment
runs on the Train page, open their variant's link, press Start and Send to class, and train on; w2 is killed
once more. Per student of w2:

  step shown    the Step its page showed when w2 was killed (drawn before each tick's slice: a slice behind)
  snapshot step  the step of its run's last snapshot in the class store (written every 10 s while training)
  steps/s        its speed over the 5 s before the kill
  snapshot age   how old that snapshot was at the kill, in s (the issue's bound: 30)
  steps lost     what the student trains again: steps/s x age (at least step shown - snapshot step)
  recovered      kill -> its page says the run is back and its Step rises from the snapshot's on, in s

and for the class: the results sent before the kill that are still in the store after it ("results lost",
goal 0), and the slowest Step of a student of w1 while w2's came back (steps/s; goal: never stops).

Usage: python bench/faults.py [--clients 8] [--rounds 3] [--students 4]   (needs HAProxy, and Chromium with
Playwright for the students; about 3 minutes)
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from serve.cluster import descendants, free_port  # noqa: E402  (the process tree and ports serve itself uses)
from serve.config import COOKIE  # noqa: E402
from serve.supervise import STABLE_SECONDS  # noqa: E402

PERIOD = 0.05  # s between two requests of one client
WORKER_HEADER = "X-Playground-Worker"
STUDENT_SETTINGS = {"ds": "moons", "layers": "16,16", "ep": "2000", "lr": "0.01"}  # trains through the kill
RESUMED = "Your run is back"  # what the Train page says when it took a run up from its snapshot
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


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
        self.folder = Path(tempfile.mkdtemp(prefix="bench-faults-"))
        self.log = self.folder / "serve.log"
        self.store_url = f"sqlite:///{self.folder / 'classroom.db'}"  # the class store: results and run snapshots
        with self.log.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "serve", "--workers", "2", "--port",
                                             str(self.port), "--address", "127.0.0.1"],
                                            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PLAYGROUND_STORE": self.store_url})
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
        shutil.rmtree(self.folder, ignore_errors=True)


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


class Student:
    """One Chromium student of the class on the Train page, pinned to a worker by the proxy's cookie."""

    def __init__(self, browser, serve: Serve, store, experiment: int, code: str, number: int, worker: str):
        self.name, self.worker = f"s{number}", worker
        _, self.token = store.join(code, self.name)
        settings = store.experiment(experiment).variants[store.assignment(self.token, experiment)]
        query = urllib.parse.urlencode({**settings, "lock": "all", "cls": self.token}, safe=",")
        self.context = browser.new_context(viewport={"width": 1300, "height": 900})
        self.context.set_default_timeout(120_000)
        self.context.add_cookies([{"name": COOKIE, "value": worker, "url": serve.url}])  # as HAProxy would set it
        self.page = self.context.new_page()
        self.page.goto(f"{serve.url}/train?{query}")
        self.page.wait_for_selector('[data-testid="stMain"] h1', timeout=120_000)

    def step(self) -> float:
        """The page's Step readout; NaN while the page is being redrawn."""
        try:
            block = self.page.locator('[data-testid="stMetric"]').filter(has_text="Step").first
            return float(re.sub(r"[^0-9.]", "", block.locator('[data-testid="stMetricValue"]').inner_text(
                timeout=2000)) or "nan")
        except Exception:  # noqa: BLE001
            return float("nan")

    def run_token(self) -> str | None:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.page.url).query).get("run", [None])[0]

    def click(self, key: str) -> None:
        self.page.locator(f".st-key-{key} button").click()

    def resumed(self) -> bool:
        return self.page.get_by_text(RESUMED).count() > 0


def snapshot_of(store, student: Student) -> tuple[int, float] | None:
    """(step, saved_at) of the student's run's snapshot, None before the first."""
    from engine.train.resume import peek
    token = student.run_token()
    data = store.get_snapshot(token) if token else None
    if data is None:
        return None
    step, extra = peek(data)
    return step, extra["saved_at"]


def students_round(serve: Serve, count: int) -> dict:
    """count Chromium students of a class train and send a result; w2 is killed; what each of w2's lost."""
    from playwright.sync_api import sync_playwright

    import classroom

    store = classroom.open_store(serve.store_url)
    class_id, code, key = store.create_class("Fault bench")
    variants = [{**STUDENT_SETTINGS, "seed": str(i)} for i in range(count)]
    experiment = store.create_experiment(key, class_id, "custom_train", variants=variants)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        crowd = [Student(browser, serve, store, experiment, code, i + 1, "w1" if i % 2 == 0 else "w2")
                 for i in range(count)]
        for student in crowd:
            student.click("train_start")
        until(lambda: all(s.step() > 0 for s in crowd), 120, 0.5)
        for student in crowd:
            student.click("class_send")
        until(lambda: len(store.results(experiment)) >= count, 60, 0.5)
        until(lambda: all(snapshot_of(store, s) for s in crowd), 60, 0.5)
        moved = [s for s in crowd if s.worker == "w2"]
        others = [s for s in crowd if s not in moved]
        before = {s.name: [] for s in moved}  # (time, Step) of w2's students, for their speed before the kill
        pause_until = time.monotonic() + 5  # into the snapshots' 10 s interval, as a crash would come
        while time.monotonic() < pause_until:
            for student in moved:
                before[student.name].append((time.monotonic(), student.step()))
            time.sleep(0.25)
        sent = {r.id for r in store.results(experiment)}
        speed = {name: (sum(rates(rows)) / len(rates(rows)) if rates(rows) else math.nan)
                 for name, rows in before.items()}  # steps/s
        at_kill = {s.name: s.step() for s in moved}
        snapshots = {s.name: snapshot_of(store, s) for s in moved}
        killed_wall = time.time()
        killed = time.monotonic()
        os.kill(serve.pid("w2"), signal.SIGKILL)
        recovered, seen, samples = {}, {}, {s.name: [(killed, s.step())] for s in others}
        while len(recovered) < len(moved) and time.monotonic() - killed < 120:
            for student in others:
                samples[student.name].append((time.monotonic(), student.step()))
            for student in moved:
                if student.name in recovered or not student.resumed():
                    continue
                step, low = student.step(), snapshots[student.name][0]
                if step >= low and (student.name in seen and step > seen[student.name][1]):
                    recovered[student.name] = seen[student.name][0] - killed  # first seen back at the step
                elif step >= low and student.name not in seen:
                    seen[student.name] = (time.monotonic(), step)
            time.sleep(0.25)
        time.sleep(2)
        kept = {r.id for r in store.results(experiment)}
        slowest = min((rate for rows in samples.values() for rate in rates(rows)), default=None)
        browser.close()
    rows = []
    for s in moved:
        step, saved_at = snapshots[s.name]
        age = killed_wall - saved_at
        # the readout is drawn before each tick's slice trains: the run was a slice ahead of it at the kill, so
        # what was lost is the student's speed times the snapshot's age (never less than the readout shows)
        lost = max(at_kill[s.name] - step, speed[s.name] * age)
        rows.append({"student": s.name, "worker": s.worker, "at_kill": at_kill[s.name], "snapshot": step,
                     "speed": speed[s.name], "lost": lost, "age": age, "recovered": recovered.get(s.name)})
    return {"rows": rows, "sent": len(sent), "results_lost": len(sent - kept), "slowest_other": slowest}


def rates(samples: list[tuple[float, float]], window: float = 3.0) -> list[float]:
    """Steps/s over every stretch of `window` s of (time, Step) samples (the readout moves once a tick)."""
    readable = [(t, step) for t, step in samples if step == step]  # not NaN
    out = []
    for i, (t0, s0) in enumerate(readable):
        later = next(((t, s) for t, s in readable[i:] if t >= t0 + window), None)
        if later is not None:
            out.append((later[1] - s0) / (later[0] - t0))
    return out


def cell(value) -> str:
    return "-" if value is None else str(value) if isinstance(value, int) else f"{value:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="students' stand-ins, half on each worker")
    parser.add_argument("--rounds", type=int, default=3, help="kills of each process")
    parser.add_argument("--students", type=int, default=4, help="Chromium students on the Train page (0: none)")
    args = parser.parse_args()
    serve = Serve()
    try:
        rows = {}
        for fault in ("w2", "haproxy"):
            rows[fault] = [round_of(serve, fault, args.clients) for _ in range(args.rounds)]
            until(lambda: all(r["state"] == "up" for r in serve.status().values()), 60)
            time.sleep(2)
        time.sleep(STABLE_SECONDS if args.rounds and args.students else 0)  # w2's next restart after 1 s again
        students = students_round(serve, args.students) if args.students else None
    finally:
        serve.stop()
    if args.rounds:
        print(f"python -m serve --workers 2, {args.clients} clients polling every {PERIOD * 1000:.0f} ms; times in s "
              f"from the kill. Kills {STABLE_SECONDS:.0f} s apart or more restart after 1 s; closer ones back off.\n")
        columns = ["backoff", "seen", "own", "new", "gap_others", "gap_moved", "failed_others", "failed_moved"]
        header = ["kill -9", "backoff", "seen", "own health", "new students", "gap others", "gap moved",
                  "failed others", "failed moved"]
        print_table(header, [[fault] + [cell(run[key]) for key in columns] for fault, runs in rows.items()
                             for run in runs])
    if students:
        print(f"\n{args.students} students on the Train page ({STUDENT_SETTINGS}), half on each worker, each sent a "
              f"result; kill -9 w2. Steps lost = steps/s x the snapshot's age at the kill; times in s.\n")
        header = ["student", "worker", "step shown at kill", "snapshot step", "steps/s", "snapshot age",
                  "steps lost", "recovered"]
        whole = lambda v: cell(int(round(v))) if v == v else "-"  # noqa: E731  (a readout, NaN when not read)
        print_table(header, [[r["student"], r["worker"], whole(r["at_kill"]), cell(r["snapshot"]),
                             whole(r["speed"]), cell(r["age"]), whole(r["lost"]), cell(r["recovered"])]
                            for r in students["rows"]])
        recovered = [r["recovered"] for r in students["rows"]]
        print(f"\ntime to recover (slowest student of w2): "
              f"{'not within 120 s' if None in recovered else f'{max(recovered):.2f} s'}; "
              f"results lost: {students['results_lost']} of {students['sent']}; slowest steps/s of a student of w1 "
              f"meanwhile: {cell(students['slowest_other'])}")
    return 0


def print_table(header: list[str], table: list[list]) -> None:
    widths = [max(len(str(row[i])) for row in [header] + table) for i in range(len(header))]
    for row in [header] + table:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    raise SystemExit(main())
