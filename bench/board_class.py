"""A class on the board: real Chromium students join by code, run a depth-sweep variant and send (issue 24).

The server (python -m serve --workers 2, its class store a SQLite file in a temp folder: PLAYGROUND_STORE,
shared by both workers) runs on core 0, the browsers (Playwright's driver and Chromium) on core 1, as in
bench/classroom.py. A teacher starts a class and a depth sweep on the Board page (/board: "Start a class",
Template "Depth sweep", "Start this experiment") and keeps the board open. Each student, in a browser context of
its own (its own cookies, so HAProxy spreads them over both workers), opens /train?join=CODE, joins with a name
in the sidebar's "Join a class" form, presses "Open my variant" (the Train page with the variant's settings
locked) and presses Start; its run (the depth template's 5 epochs, 315 steps) ends and sends its result by itself
(with --steps N it also presses "Send to class" at step N). Measured in the browsers, with timestamps:

  stored        when the store first held each student's result (its sent_at; a thread polls it every 0.1 s)
  Sent ✓        each student page: when "Sent ✓" first shows
  board         the teacher page: when its class chart first draws a dot for every student (medians not counted)
  latency       board - the last stored result (the last send; the target), and board - the last "Sent ✓"
  blank         the longest time a new class chart stood with no dot drawn yet, after the first dot
  CPU           each side's CPU seconds / wall seconds from Start to the board's last dot (1.0 = one core busy)

First one student does it alone (its own class and board: the baseline, in this same run), then STUDENTS together.
Target (issue 24): 8 students join, each sends, the board shows all 8 within 2 s of the last send.

Usage: python bench/board_class.py [--students 8] [--workers 2] [--steps 30] [--join-timeout 240]
Needs HAProxy and Chromium (see README); takes 3-6 minutes (more when the machine is busy).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import TimeoutError as PlaywrightTimeout, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/: `classroom` is the store package, bench.classroom the other bench
import classroom  # noqa: E402
from bench.classroom import CHROMIUM, CHROMIUM_FLAGS, CLICK, READY, Server, cpu_seconds, tree, verdict  # noqa: E402
from classroom.connect import forget_engines  # noqa: E402

TARGET_S = 2.0  # issue 24: the board shows every result within 2 s of the last send
TEMPLATE = "depth"
SCREEN = {"viewport": {"width": 1300, "height": 900}}

# The teacher's page: (epoch ms, dots shown, dots in the first chart) whenever either changes. A student's dot is a
# circle (its path has arcs); a variant's median is a "line-ew" bar (no arc) and is not counted. When a result
# arrives Streamlit puts a new class chart before the old one until Plotly has drawn it: "shown" is the larger
# count (what the room sees), "first" the new chart's (0 while it is drawn: the board's blank moment).
BOARD_RECORDER = """() => {
  const rec = window.__board = {changes: []};
  let last = '';
  const read = () => {
    const dots = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].map(chart =>
      [...chart.querySelectorAll('path.point')].filter(p => /A/.test(p.getAttribute('d') || '')).length);
    const shown = Math.max(0, ...dots), first = dots.length ? dots[0] : 0;
    if (shown + ',' + first !== last) {
      last = shown + ',' + first;
      rec.changes.push([Date.now(), shown, first]);
    }
  };
  new MutationObserver(read).observe(document.body,
    {subtree: true, childList: true, attributes: true, attributeFilter: ['d']});
  read();
}"""

# A student's page after Start: follow the Step counter; at `steps` (if not 0) press Send to class (again if no
# answer within 20 s: a resend replaces the same run's result); keep when "Sent ✓" first shows. The run's own end
# sends it too. Times are Date.now(), the wall clock the store's sent_at is read from (time.time()).
STUDENT_RECORDER = """(steps) => {
  const rec = window.__student = {step: 0, clicks: [], sent: null};
  const now = () => Date.now();
  const read = () => {
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const label = m.querySelector('[data-testid="stMetricLabel"]');
      if (label && label.innerText.trim() === 'Step') {
        rec.step = parseInt(m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/\\D/g, '') || '0');
        break;
      }
    }
    const panel = document.querySelector('.st-key-class_send_train');
    if (rec.sent === null && panel && panel.innerText.includes('Sent \u2713')) rec.sent = now();
    const waited = rec.clicks.length ? now() - rec.clicks[rec.clicks.length - 1] : Infinity;
    if (steps > 0 && rec.sent === null && rec.step >= steps && waited > 20000) {
      const button = document.querySelector('.st-key-class_send button');
      if (button && !button.disabled) { rec.clicks.push(now()); button.click(); }
    }
  };
  new MutationObserver(read).observe(document.body, {subtree: true, childList: true, characterData: true});
  setInterval(read, 1000);  // a resend is due even when nothing on the page changes
  read();
}"""


def choose(page, label: str, option: str, tries: int = 5) -> None:
    """Pick an option of a selectbox (again if a rerun closed its list before the click)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label)
    for _ in range(tries):
        box.locator("input").first.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=5_000)
        except PlaywrightTimeout:
            continue
        if box.locator("input").first.input_value() == option:
            return
    raise SystemExit(f"error: the Board page: could not choose {option!r} in {label!r}")


def idle(page, timeout: float = 120.0) -> None:
    """The page's script has run: a title and no 'Running...' status."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout * 1000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                           polling=500, timeout=timeout * 1000)


def teacher_board(browser, url: str, store: classroom.Store, name: str):
    """The teacher on /board: start a class, start a depth sweep, keep the board open with its dot recorder.
    Returns (page, join code, experiment id)."""
    page = browser.new_context(**SCREEN).new_page()
    try:
        page.goto(f"{url}/board?lang=en", timeout=180_000)
        idle(page)
        page.get_by_label("Class name").fill(name)
        page.get_by_role("button", name="Start a class").click()
        page.locator(".board-code").wait_for(timeout=60_000)
        idle(page)
        choose(page, "Template", "Depth sweep")
        page.get_by_role("button", name="Start this experiment").click()
        page.get_by_text("Depth sweep: open").first.wait_for(timeout=60_000)
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=60_000)
    except PlaywrightTimeout as exc:
        raise SystemExit(f"error: the Board page did not start a class and a depth sweep: {exc}") from None
    key = parse_qs(urlsplit(page.url).query)["teacher"][0]
    info = store.teacher_class(key)
    code = re.sub(r"\s", "", page.locator(".board-code").inner_text())
    [experiment] = store.experiments(info.id)
    if code != info.join_code or experiment.template_id != TEMPLATE:
        raise SystemExit(f"error: the board shows code {code} / {experiment.template_id}, the store "
                         f"{info.join_code} / {TEMPLATE}")
    page.evaluate(BOARD_RECORDER)
    return page, code, experiment.id


def join(browser, url: str, code: str, names: list[str], timeout: float = 240.0) -> list[tuple]:
    """Each student opens /train?join=CODE, joins with a name and opens its variant: [(page, variant line)]."""
    print(f"{len(names)} student(s) join class {code} ...", file=sys.stderr, flush=True)
    pages = []
    for _ in names:
        page = browser.new_context(**SCREEN).new_page()
        page.goto(f"{url}/train?join={code}&lang=en", wait_until="commit", timeout=timeout * 1000)
        pages.append(page)
    deadline = time.monotonic() + timeout
    left = lambda: max(1.0, deadline - time.monotonic()) * 1000  # noqa: E731  (ms to the shared deadline)
    sidebar = lambda page: page.locator('[data-testid="stSidebar"]')  # noqa: E731
    try:
        for page, name in zip(pages, names):
            sidebar(page).get_by_role("textbox", name="Your name (optional)").fill(name, timeout=left())
            sidebar(page).get_by_role("button", name="Join", exact=True).click(timeout=left())
        lines = []
        for page in pages:
            box = page.locator(".st-key-class_box")
            box.locator(".st-key-class_open button").wait_for(timeout=left())
            lines.append(next((line for line in box.inner_text().splitlines() if line.startswith("Variant")), "?"))
            box.locator(".st-key-class_open button").click(timeout=left())
        for page in pages:  # the variant's Train page, its controls locked, with the class's send panel
            page.wait_for_url(lambda address: "/train?" in address and "cls=" in address, timeout=left())
            page.locator(".st-key-class_send button").wait_for(timeout=left())
            page.wait_for_function(READY, polling=1000, timeout=left())
    except PlaywrightTimeout as exc:
        raise SystemExit(f"error: joining and opening the variant did not finish within {timeout:.0f} s "
                         f"(load average {os.getloadavg()[0]:.0f}): {exc}") from None
    return list(zip(pages, lines))


class FirstWrites(threading.Thread):
    """Polls the store every 0.1 s beside the browsers: when each student's first result was written (sent_at, epoch
    s). A thread, because a resend replaces a result's sent_at and the pages' evaluate calls may take seconds."""

    def __init__(self, store: classroom.Store, experiment: int):
        super().__init__(daemon=True)
        self.store, self.experiment, self.first, self.done = store, experiment, {}, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.1):
            for r in self.store.results(self.experiment):
                self.first.setdefault(r.name, r.sent_at)


def train_and_send(teacher, students: list, store: classroom.Store, experiment: int, steps: int,
                   timeout: float = 150.0) -> dict:
    """Start all, each sends (its run's end, or Send at `steps`); until the board shows every student's dot (or
    timeout). The in-page records, and when the store first held each student's result."""
    for page, _line in students:
        page.evaluate(STUDENT_RECORDER, steps)
    print(f"{len(students)} student(s) press Start ...", file=sys.stderr, flush=True)
    writes = FirstWrites(store, experiment)
    writes.start()
    starts = [page.evaluate(CLICK, "Start") for page, _line in students]
    deadline, done = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        board = teacher.evaluate("() => window.__board.changes")
        sent = [page.evaluate("() => window.__student.sent") for page, _line in students]
        if all(sent) and max(dots for _at, dots, _first in board) >= len(students):
            done = done or time.monotonic()
            if time.monotonic() - done > 2:  # a little after: the CPU window ends with the board's last dot
                break
        time.sleep(0.25)
    writes.done.set()
    writes.join()
    return {"starts": starts, "board": teacher.evaluate("() => window.__board.changes"),
            "students": [page.evaluate("() => window.__student") for page, _line in students],
            "written": writes.first,
            "lines": [line for _page, line in students]}


def latency(run: dict, n: int) -> tuple[float | None, float | None]:
    """Seconds from the store's last write (the last send) to the board's n-th dot, and from the last "Sent ✓"."""
    shown = next((at for at, dots, _first in run["board"] if dots >= n), None)
    sent = [s["sent"] for s in run["students"]]
    if shown is None or not all(sent) or len(run["written"]) < n:
        return None, None
    return shown / 1000 - max(run["written"].values()), (shown - max(sent)) / 1000


def longest_blank(board: list) -> float:
    """Seconds of the longest stretch, after the first dot, in which the newest class chart had no dot drawn."""
    blank, since = 0.0, None
    started = False
    for at, shown, first in board:
        started = started or shown > 0
        if started and first == 0 and since is None:
            since = at
        elif first > 0 and since is not None:
            blank, since = max(blank, (at - since) / 1000), None
    return blank


def lesson(browser, url: str, store: classroom.Store, n: int, steps: int, name: str, pids=None,
           join_timeout: float = 240.0) -> dict:
    """One class of n students from the teacher's first click to the board's last dot; CPU when pids are given."""
    teacher, code, experiment = teacher_board(browser, url, store, name)
    students = join(browser, url, code, [f"Student {i + 1}" for i in range(n)], join_timeout)
    if pids:
        server_pids, browser_pids = pids()
        cpu0 = cpu_seconds(server_pids), cpu_seconds(browser_pids), time.monotonic()
    run = train_and_send(teacher, students, store, experiment, steps)
    if pids:
        wall = time.monotonic() - cpu0[2]
        run["cpu"] = ((cpu_seconds(server_pids) - cpu0[0]) / wall, (cpu_seconds(browser_pids) - cpu0[1]) / wall)
    run["counts"] = store.counts(experiment)  # (joined, assigned, sent)
    run["variants"] = Counter(r.variant for r in store.results(experiment))
    run["n_variants"] = len(store.experiment(experiment).variants)
    run["exceptions"] = sum(p.locator('[data-testid="stException"]').count() for p in [teacher] + [p for p, _ in students])
    run["code"] = code
    for page in [teacher] + [page for page, _line in students]:
        page.context.close()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=0, help="each student also presses Send to class once its "
                        "Step counter shows this step (0: only its run's end sends, once)")
    parser.add_argument("--join-timeout", type=float, default=240.0, help="seconds for the students to join and "
                        "open their variant (a machine with a load average of 50 needs 600)")
    args = parser.parse_args()
    if not shutil.which("haproxy") and not Path("/usr/sbin/haproxy").exists():
        raise SystemExit("error: HAProxy is not installed: apt-get install -y haproxy")
    app = (ROOT / "app.py").read_text(encoding="utf-8")
    if 'url_path="board"' not in app or "class_box" not in app:
        raise SystemExit("error: app.py does not register the Board page (url_path=\"board\") or call class_box()")

    folder = tempfile.mkdtemp(prefix="board-class-")
    store_url = f"sqlite:///{folder}/classroom.db"
    os.environ["PLAYGROUND_STORE"] = store_url  # serve's workers inherit it: both read and write this one file
    cores = sorted(os.sched_getaffinity(0))
    server_core, browser_core = (cores[0], cores[1]) if len(cores) >= 2 else (None, None)
    server = None
    try:
        server = Server(args.workers, server_core)
        if browser_core is not None:
            os.sched_setaffinity(0, {browser_core})  # Playwright's driver and Chromium inherit it
        print(f"server: python -m serve --workers {args.workers} on core {server_core}, store {store_url}; "
              f"browsers on core {browser_core}" + ("" if browser_core is not None else " (one core: not pinned)"),
              flush=True)
        store = classroom.open_store(store_url)

        def pids():
            server_pids = server.pids()
            return server_pids, [p for p in tree(os.getpid()) if p not in server_pids and p != os.getpid()]

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                alone = lesson(browser, server.url, store, 1, args.steps, "Baseline: one student",
                               join_timeout=args.join_timeout)
                print(f"one student alone: board {fmt(latency(alone, 1)[0])} after its send", flush=True)
                run = lesson(browser, server.url, store, args.students, args.steps, "Period 3", pids,
                             args.join_timeout)
            finally:
                browser.close()
    finally:
        if server is not None:
            server.stop()
        forget_engines()
        shutil.rmtree(folder, ignore_errors=True)
    report(args, run, alone)


def fmt(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.2f} s"


def report(args, run: dict, alone: dict) -> None:
    """Print each student's send, the board's latency against one student alone, CPU, and the targets."""
    n = args.students
    joined, assigned, sent = run["counts"]
    from_store, from_sent = latency(run, n)
    base_store, base_sent = latency(alone, 1)
    t0 = min(run["starts"])
    at = lambda ms: "never" if ms is None else f"{(ms - t0) / 1000:5.1f} s"  # noqa: E731  (since the first Start)
    how = f"each presses Send at step {args.steps}, a run's end sends too" if args.steps else "each run's end sends it"
    print(f"\n{n} students, class {run['code']} ({how}); times since Start:")
    for i, (s, line) in enumerate(zip(run["students"], run["lines"]), 1):
        clicked = f"pressed Send at {at(s['clicks'][0])}" if s["clicks"] else "sent by its run's end"
        stored = run["written"].get(f"Student {i}")
        print(f"  student {i}: {line:<50} step {s['step']:>4}  {clicked:<22} first stored at "
              f"{at(stored * 1000 if stored else None)}, Sent ✓ shown at {at(s['sent'])}")
    print(f"  joined {joined}/{n}, assigned {assigned}, sent {sent}; results per variant "
          + ", ".join(f"{v + 1}: {run['variants'].get(v, 0)}" for v in range(run["n_variants"])))
    shown, last = [], None
    for when, dots, _first in run["board"]:
        if when >= t0 and dots != last:
            shown.append(f"{dots} at {at(when).strip()}")
            last = dots
    print("  the board's dots: " + ", ".join(shown))
    ratio = from_store / base_store if from_store is not None and base_store else None
    print(f"  board shows all {n}: {fmt(from_store)} after the last send (the store's last write), {fmt(from_sent)} "
          f"after the last Sent ✓ shown to a student; one student alone: {fmt(base_store)} ({fmt(base_sent)})"
          + (f" -> {ratio:.2f}x" if ratio is not None else ""))
    print(f"  the newest class chart was blank (drawn anew, no dot yet) for at most {longest_blank(run['board']):.2f} s "
          f"(one student alone: {longest_blank(alone['board']):.2f} s)")
    server_cpu, browser_cpu = run["cpu"]
    print(f"  load average: {os.getloadavg()[0]:.1f} (other work on the machine slows both sides)")
    print(f"  CPU from Start to the board's last dot (1.00 = one core): server {server_cpu:.2f}, "
          f"browsers {browser_cpu:.2f}")
    if run["exceptions"] or alone["exceptions"]:
        print(f"  {run['exceptions'] + alone['exceptions']} pages show an exception")
    each = n // run["n_variants"]
    targets = [
        (f"joined {joined}/{n} and sent {sent}/{n}", joined == n and sent == n and not run["exceptions"]),
        (f"round-robin: each of the {run['n_variants']} variants sent by {each} or {each + 1} students",
         all(each <= run["variants"].get(v, 0) <= each + 1 for v in range(run["n_variants"]))),
        (f"board shows all {n} within {TARGET_S:.0f} s of the last send ({fmt(from_store)})",
         from_store is not None and from_store <= TARGET_S),
    ]
    print("\ntargets:")
    for text, ok in targets:
        print(f"  {verdict(ok)}  {text}")


if __name__ == "__main__":
    main()
