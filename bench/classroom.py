"""A class at once: real Chromium students train through `python -m serve`, against one student alone.

The server (python -m serve --workers 2: two Streamlit workers and HAProxy) runs on core 0 and the browsers
(Playwright's driver and Chromium) on core 1, so each side's CPU use can be read apart. First one student
trains alone (the baseline, timed in this same run), then STUDENTS students press Start together on
/train?ep=200 (the default preset, a run far longer than the measurement) and train for --seconds; then all
press Pause together. Each page records in the browser, with timestamps, every change of the Step counter
it shows and every redraw of its loss chart, so the figures are what a student sees:

  steps/s per student       Step counter change over the window / window length
  chart refresh interval    the longest gap between two redraws of a student's loss chart
  Pause latency             click -> the last change of that student's Step counter
  memory                    resident memory of the serve process tree (workers + HAProxy)
  CPU                       each side's CPU seconds / wall seconds over the window (1.0 = one core busy)

Usage: python bench/classroom.py [--students 8] [--workers 2] [--seconds 25] [--baseline-seconds 10]
Needs HAProxy and Chromium (see README); takes about 2-3 minutes.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from serve.cluster import descendants, free_port  # noqa: E402  (the process tree and ports serve itself uses)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
PAGE = "/train?ep=200"  # the default preset with a run far longer than the benchmark

# In each page: record (epoch ms, Step text) whenever the Step counter changes and (epoch ms) whenever the loss
# chart's first line is redrawn with new data. A MutationObserver sees each DOM update as it lands.
RECORDER = """() => {
  const rec = window.__classroom = {steps: [], charts: []};
  let lastStep = null, lastLine = null;
  const read = () => {
    const now = performance.timeOrigin + performance.now();
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const label = m.querySelector('[data-testid="stMetricLabel"]');
      if (label && label.innerText.trim() === 'Step') {
        const value = m.querySelector('[data-testid="stMetricValue"]').innerText.trim();
        if (value !== lastStep) { lastStep = value; rec.steps.push([now, value]); }
        break;
      }
    }
    const line = document.querySelector('svg.live-chart[data-chart="loss"] polyline');  // the loss chart's first line
    const d = line ? line.getAttribute('points') : null;
    if (d && d !== lastLine) { lastLine = d; rec.charts.push(now); }
  };
  new MutationObserver(read).observe(document.body,
    {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['points']});
  read();
}"""

CLICK = """(name) => {  // the Train page's button by its key (train_start, train_pause), else by its label
  const button = document.querySelector(`.st-key-train_${name.toLowerCase()} button`)
    || [...document.querySelectorAll('button')].find(b => b.innerText.trim().endsWith(name));
  const at = performance.timeOrigin + performance.now();
  button.click();
  return at;
}"""


def tree(pid: int) -> list[int]:
    """pid and every process below it."""
    return [pid, *descendants(pid)]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            continue
    return total / TICKS_PER_SECOND


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def steps(text: str) -> int:
    return int(text.replace(",", "").replace("\u202f", "") or 0)


def step_at(record: list, t: float) -> int:
    """The Step counter the student saw at time t (ms)."""
    seen = [steps(v) for at, v in record if at <= t]
    return seen[-1] if seen else 0


def rate(record: list, t0: float, t1: float) -> float:
    return (step_at(record, t1) - step_at(record, t0)) / ((t1 - t0) / 1000)


def longest_gap(times: list[float], t0: float, t1: float) -> float:
    """Seconds of the longest stretch in [t0, t1] without a chart redraw."""
    marks = [t0] + [t for t in times if t0 < t < t1] + [t1]
    return max(b - a for a, b in zip(marks, marks[1:])) / 1000


class Server:
    """python -m serve on core 0 (when there are two), on a free loopback port."""

    def __init__(self, workers: int, core: int | None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="classroom-serve-", suffix=".log", delete=False)
        pin = ["taskset", "-c", str(core)] if core is not None else []
        self.process = subprocess.Popen(
            pin + [sys.executable, "-m", "serve", "--workers", str(workers), "--port", str(self.port),
                   "--address", "127.0.0.1"], cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 240
        while "Students open" not in Path(self.log.name).read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = Path(self.log.name).read_text()[-1500:]
                self.stop()
                raise SystemExit(f"error: serve did not start: {log}")
            time.sleep(0.3)

    def pids(self) -> list[int]:
        return tree(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        os.unlink(self.log.name)


READY = """() => [...document.querySelectorAll('button')].some(b => b.innerText.trim().endsWith('Start'))
  && !document.querySelector('[data-testid="stStatusWidget"]')"""  # the Train page has run: its Start button


def open_students(browser, url: str, n: int, timeout: float = 240.0) -> list:
    """n students on the Train page, each in its own browser context (its own cookies, so its own session)."""
    print(f"opening {n} student page(s) ...", file=sys.stderr, flush=True)
    pages = []
    for _ in range(n):
        page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
        page.goto(url + PAGE, wait_until="commit", timeout=timeout * 1000)  # the page itself is awaited below
        pages.append(page)
    deadline = time.monotonic() + timeout
    for i, page in enumerate(pages, 1):  # polled once a second in the page, bounded: a starved renderer fails
        try:
            page.wait_for_function(READY, polling=1000, timeout=max(1.0, deadline - time.monotonic()) * 1000)
        except PlaywrightTimeout:
            raise SystemExit(f"error: student {i} of {n}: the Train page did not load within {timeout:.0f} s "
                             f"(is the machine busy? load average {os.getloadavg()[0]:.0f})") from None
    for page in pages:
        page.evaluate(RECORDER)
    return pages


def train_together(pages: list, seconds: float) -> dict:
    """Start all, measure for `seconds` after a short warm-up, Pause all; the in-page records and times."""
    print(f"{len(pages)} student(s) press Start ...", file=sys.stderr, flush=True)
    starts = [page.evaluate(CLICK, "Start") for page in pages]
    deadline = time.monotonic() + 90  # the first ticks: trainers built, data loaded, first charts drawn
    while time.monotonic() < deadline and not all(
            page.evaluate("() => window.__classroom.steps.length > 1 && window.__classroom.charts.length > 0")
            for page in pages):
        time.sleep(0.5)
    t0 = time.time() * 1000
    time.sleep(seconds)
    t1 = time.time() * 1000
    pauses = [page.evaluate(CLICK, "Pause") for page in pages]
    quiet_since, deadline, last = time.monotonic(), time.monotonic() + 20, None
    while time.monotonic() - quiet_since < 3 and time.monotonic() < deadline:  # until no counter moved for 3 s
        now = [len(page.evaluate("() => window.__classroom.steps")) for page in pages]
        if now != last:
            last, quiet_since = now, time.monotonic()
        time.sleep(0.3)
    records = [page.evaluate("() => window.__classroom") for page in pages]
    return {"starts": starts, "t0": t0, "t1": t1, "pauses": pauses, "records": records}


def pause_latency(record: dict, clicked: float) -> float:
    changes = [at for at, _ in record["steps"] if at >= clicked]
    return (max(changes) - clicked) / 1000 if changes else 0.0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=25.0, help="measured window with everyone training")
    parser.add_argument("--baseline-seconds", type=float, default=10.0, help="measured window for one student")
    args = parser.parse_args()
    if not shutil.which("haproxy") and not Path("/usr/sbin/haproxy").exists():
        raise SystemExit("error: HAProxy is not installed: apt-get install -y haproxy")

    cores = sorted(os.sched_getaffinity(0))
    server_core, browser_core = (cores[0], cores[1]) if len(cores) >= 2 else (None, None)
    server = Server(args.workers, server_core)
    if browser_core is not None:
        os.sched_setaffinity(0, {browser_core})  # Playwright's driver and Chromium inherit it
    print(f"server: python -m serve --workers {args.workers} on core {server_core}; browsers on core {browser_core}"
          + ("" if browser_core is not None else " (one core: not pinned)"), flush=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                [alone] = open_students(browser, server.url, 1)
                solo = train_together([alone], args.baseline_seconds)
                alone.context.close()
                baseline = rate(solo["records"][0]["steps"], solo["t0"], solo["t1"])
                print(f"one student alone: {baseline:.1f} steps/s", flush=True)

                pages = open_students(browser, server.url, args.students)
                server_pids = server.pids()
                browser_pids = [pid for pid in tree(os.getpid()) if pid not in server_pids and pid != os.getpid()]
                cpu0 = cpu_seconds(server_pids), cpu_seconds(browser_pids), time.monotonic()
                memory = rss_mb(server_pids)
                run = train_together(pages, args.seconds)
                wall = time.monotonic() - cpu0[2]
                server_cpu = (cpu_seconds(server.pids()) - cpu0[0]) / wall
                browser_cpu = (cpu_seconds(browser_pids) - cpu0[1]) / wall
                memory = max(memory, rss_mb(server.pids()))
                exceptions = sum(page.locator('[data-testid="stException"]').count() for page in pages)
            finally:
                browser.close()
    finally:
        server.stop()

    report(args, run, baseline, memory, server_cpu, browser_cpu, exceptions)


def report(args, run: dict, baseline: float, memory: float, server_cpu: float, browser_cpu: float,
           exceptions: int) -> None:
    """Print each student's figures, the totals and the targets with pass/fail."""
    t0, t1 = run["t0"], run["t1"]
    rates = [rate(r["steps"], t0, t1) for r in run["records"]]
    gaps = [longest_gap(r["charts"], t0, t1) for r in run["records"]]
    latencies = [pause_latency(r, at) for r, at in zip(run["records"], run["pauses"])]
    total = sum(rates)
    print(f"\n{args.students} students together, {args.seconds:.0f} s window:")
    for i, (r, g, lat) in enumerate(zip(rates, gaps, latencies), 1):
        print(f"  student {i}: {r:6.1f} steps/s   longest chart gap {g:5.2f} s   Pause took {lat:5.2f} s")
    print(f"  total {total:.1f} steps/s = {total / baseline:.2f}x one student alone ({baseline:.1f} steps/s)")
    print(f"  server memory (workers + HAProxy + serve, RSS): {memory:.0f} MB")
    print(f"  load average during the run: {os.getloadavg()[0]:.1f} (other work on the machine slows both sides)")
    print(f"  CPU over the window (1.00 = one core): server {server_cpu:.2f}, browsers {browser_cpu:.2f}"
          + ("  <- the browsers' core is saturated: chart gaps and Pause times include their own rendering delay"
             if browser_cpu > 0.9 else ""))
    if exceptions:
        print(f"  {exceptions} pages show an exception")
    slowest, fastest = min(rates), max(rates)
    targets = [
        (f"all {args.students} live (each Step counter rose)", all(r > 0 for r in rates) and not exceptions),
        (f"slowest >= half the fastest ({slowest:.1f} vs {fastest:.1f} steps/s)", slowest >= fastest / 2),
        (f"total >= half of one student alone ({total:.1f} vs {baseline:.1f} steps/s)", total >= baseline / 2),
        (f"charts refreshed at least every 2 s (worst gap {max(gaps):.2f} s)", max(gaps) <= 2.0),
        (f"Pause median <= 1 s ({statistics.median(latencies):.2f} s)", statistics.median(latencies) <= 1.0),
    ]
    print("\ntargets:")
    for text, ok in targets:
        print(f"  {verdict(ok)}  {text}")


if __name__ == "__main__":
    main()
