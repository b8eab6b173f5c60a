"""Bounded damage from one student (issue 26): a victim's steps/s beside an ordinary student and beside an attacker.

One Streamlit worker (`streamlit run app.py`) on core 0, the browsers (Playwright's driver and Chromium) on core 1.
The victim trains VICTIM the whole time. Rounds alternate: an ordinary second student training the same link (the
baseline: the compute scheduler's fair share of two equal students, ui/compute.py), then one attack, then the
baseline again, and so on, so every attack is compared with the baselines measured just before and after it:

  full batch   the heaviest full-batch run the session memory budget allows (1 hidden layer of 1024, all 4000
               mnist5k samples a step: engine/train/budget.py lets no wider or deeper full batch through)
  landscape    the Loss surface page at its maximum grid (61 x 61) and 2000 samples, Compute pressed again and again
  start/pause  Start and Pause clicked in turn as fast as the page lets them be, for the whole window
  ten tabs     one student (one browser context: its cookies) training in ten tabs

Per attack: the victim's steps/s (its Step counter as its page shows it), the ratio to the mean of the baselines
either side, PASS when >= 0.5. Load averages are printed with every round (the machine is shared).

A run trains one slice per tick of its page, so a victim whose browser is starved trains less whatever the server
does. In a class every student has a device of their own; here the neighbour's and the attacker's pages are in a
second Chromium of their own, at a lower CPU priority (nice ATTACKER_NICE) on the browsers' core, so that what is
measured is the damage done through the server, not through a shared browser (its CPU use is printed too).
Usage: python -m bench.damage [--seconds 20] [--only landscape,...]; takes about 5 minutes.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout, sync_playwright

from bench.classroom import CHROMIUM, CHROMIUM_FLAGS, CLICK, READY, RECORDER, cpu_seconds, rate, step_at, tree
from serve.cluster import free_port

ROOT = Path(__file__).resolve().parent.parent
VICTIM = "/train?layers=16,16&ep=10000&ds=moons&lr=0.01&bs=8"  # small and quick: many steps a second to count;
# 100 steps an epoch, 10^6 in all: it never ends within a bench (at bs 64 it ended after 2-3 minutes, and the
# rounds after it measured a victim that had finished, not one that had been stopped)
FULL_BATCH = "/train?layers=1024&ds=mnist5k&bs=4000&opt=sgd&lr=0.0001&ep=10000"  # most work a step within 500 MB
ATTACKS = ("full batch", "landscape", "start/pause", "ten tabs")
VIEWPORT = {"width": 1300, "height": 900}
CLICK_ENABLED = """() => {  // Start if it can be pressed, else Pause: a student hammering both buttons
  for (const key of ['train_start', 'train_pause']) {
    const b = document.querySelector(`.st-key-${key} button`);
    if (b && !b.disabled) { b.click(); return key; }
  }
  return null;
}"""
STEPS = "() => window.__classroom.steps"  # the recorder's (ms, Step text) changes
CLICK_START_IF_STOPPED = """() => {  // true when the victim's Start could be pressed again (it had stopped)
  const b = document.querySelector('.st-key-train_start button');
  if (b && !b.disabled) { b.click(); return true; }
  return false;
}"""
IDLE = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"  # no script run in progress
ATTACKER_NICE = 10  # the second Chromium's niceness: the victim's browser stands for a device of its own


def lower(root: int) -> int:
    """Put a Chromium's processes at ATTACKER_NICE (Chromium sets its renderers' own priorities as they start, so
    this is done again once a round's pages are open); how many."""
    pids = tree(root)
    for pid in pids:
        try:
            os.setpriority(os.PRIO_PROCESS, pid, ATTACKER_NICE)
        except OSError:  # gone meanwhile
            pass
    return len(pids)


def chromium_browsers() -> set[int]:
    """The main process of every Chromium Playwright started on this machine (its other processes have a --type=)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"/chromium") and b"--remote-debugging-pipe" in argv \
                    and not any(a.startswith(b"--type=") for a in argv):
                pids.add(int(entry.name))
    return pids


class Worker:
    """`streamlit run app.py` on one core (its own process group), on a free loopback port."""

    def __init__(self, core: int | None, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", prefix="damage-worker-", suffix=".log", delete=False)
        pin = ["taskset", "-c", str(core)] if core is not None else []
        self.process = subprocess.Popen(
            pin + [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
                   "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(self.url + "/_stcore/health", timeout=2).read()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit("error: the worker did not start: " + Path(self.log.name).read_text()[-1500:])
                time.sleep(0.3)

    def pids(self) -> list[int]:
        return tree(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        os.unlink(self.log.name)


def open_pages(context, url: str, n: int = 1, ready: str = READY, timeout: float = 400.0) -> list:
    """n pages of this context at url, loading together, once their scripts have run (ready), each with the Step
    recorder installed (a loaded machine takes minutes)."""
    pages = [context.new_page() for _ in range(n)]
    for page in pages:
        page.goto(url, wait_until="commit", timeout=timeout * 1000)
    for page in pages:
        page.wait_for_function(ready, polling=500, timeout=timeout * 1000)
        page.evaluate(RECORDER)
    return pages


def open_page(context, url: str, ready: str = READY, timeout: float = 400.0):
    """One page of open_pages."""
    return open_pages(context, url, 1, ready, timeout)[0]


def start(page) -> None:
    page.evaluate(CLICK, "Start")


def moving(page, timeout: float = 60.0) -> bool:
    """Wait until this page's Step counter has changed twice (its run is built and training)."""
    try:
        page.wait_for_function("() => window.__classroom.steps.length > 2", polling=300, timeout=timeout * 1000)
        return True
    except PlaywrightTimeout:  # a run that never moves is reported by its rate, not fatal
        return False


class Round:
    """One measured window: the neighbour (or attacker) set up, the victim's steps counted, everything closed."""

    def __init__(self, browser, url: str, victim, seconds: float, server_pids: list[int],
                 browser_root: int | None = None):
        self.browser, self.url, self.victim, self.seconds = browser, url, victim, seconds
        self.server_pids, self.browser_root = server_pids, browser_root  # the attackers' Chromium's main process

    def measure(self, kind: str) -> dict:
        restarted = self.victim.evaluate(CLICK_START_IF_STOPPED)  # it lost its slot (said as "victim restarted")
        context = self.browser.new_context(viewport=VIEWPORT)
        try:
            act = getattr(self, "_" + kind.replace(" ", "_").replace("/", "_"))(context)
            if self.browser_root is not None:
                lower(self.browser_root)
            t0 = time.time() * 1000
            cpu0, others0 = cpu_seconds(self.server_pids), cpu_seconds(self._attackers_browser())
            extra = act(t0 / 1000 + self.seconds)
            t1 = time.time() * 1000
            cpu = (cpu_seconds(self.server_pids) - cpu0) / ((t1 - t0) / 1000)
            others = (cpu_seconds(self._attackers_browser()) - others0) / ((t1 - t0) / 1000)
            record = self.victim.evaluate(STEPS)
            if rate(record, t0, t1) == 0:  # what the victim's page showed, for the report
                shot = Path(tempfile.gettempdir()) / f"damage-victim-{kind.replace(' ', '-').replace('/', '-')}.png"
                self.victim.screenshot(path=str(shot), full_page=True)
                extra_shot = f"; victim's page: {shot}"
            else:
                extra_shot = ""
            return {"kind": kind, "rate": rate(record, t0, t1), "load": os.getloadavg()[0], "cpu": cpu,
                    "browser": others,
                    "extra": extra + ("; victim had stopped: restarted" if restarted else "") + extra_shot,
                    "step": step_at(record, t1)}
        finally:
            context.close()
            time.sleep(2)  # the closed tab's slot and ticks end before the next round

    def _attackers_browser(self) -> list[int]:
        """The attackers' Chromium processes now (renderers come and go with their tabs)."""
        return tree(self.browser_root) if self.browser_root is not None else []

    @staticmethod
    def _wait_until(end: float) -> None:
        time.sleep(max(0.0, end - time.time()))

    def _baseline(self, context):
        neighbour = open_page(context, self.url + VICTIM)
        start(neighbour)
        moving(neighbour)
        return lambda end: self._wait_until(end) or ""

    def _full_batch(self, context):
        attacker = open_page(context, self.url + FULL_BATCH)
        start(attacker)
        moving(attacker, timeout=300)

        def wait(end: float) -> str:
            self._wait_until(end)
            return f"attacker at step {step_at(attacker.evaluate(STEPS), time.time() * 1000)}"
        return wait

    def _landscape(self, context):
        attacker = context.new_page()
        attacker.goto(self.url + "/landscape", wait_until="commit")
        attacker.wait_for_selector(".st-key-land_compute button", timeout=400_000)
        for key in ("land_grid", "land_samples"):  # both sliders to their maximum: 61 points, 2000 samples
            attacker.locator(f".st-key-{key} input[type='range']").focus()
            attacker.keyboard.press("End")
            attacker.wait_for_function(IDLE, polling=200, timeout=60_000)
        attacker.wait_for_timeout(500)

        def hammer(end: float) -> str:
            computes = 0
            while time.time() < end:
                attacker.locator(".st-key-land_compute button").click()
                try:  # the run shows Streamlit's status widget after a moment; then wait for the whole compute
                    attacker.wait_for_function(f"() => !({IDLE})()", polling=100, timeout=3_000)
                except PlaywrightTimeout:
                    pass
                attacker.wait_for_function(IDLE, polling=200, timeout=300_000)
                computes += 1
            return f"{computes} computes"
        return hammer

    def _start_pause(self, context):
        attacker = open_page(context, self.url + VICTIM)

        def hammer(end: float) -> str:
            clicks = 0
            while time.time() < end:
                clicks += attacker.evaluate(CLICK_ENABLED) is not None
                attacker.wait_for_timeout(100)
            return f"{clicks} clicks"
        return hammer

    def _ten_tabs(self, context):
        tabs = open_pages(context, self.url + VICTIM, 1)  # the browser's cookie first, as a student's first tab
        tabs += open_pages(context, self.url + VICTIM, 9)
        for tab in tabs:
            start(tab)
        for tab in tabs:
            moving(tab, timeout=10)  # beyond MAX_TABS_TRAINING a tab is told "busy" and never moves

        def wait(end: float) -> str:
            self._wait_until(end)
            now = time.time() * 1000
            moved = [rate(tab.evaluate(STEPS), now - self.seconds * 1000, now)
                     for tab in tabs]
            return f"tabs {sum(moved):.0f} steps/s together ({sum(r > 0 for r in moved)} training)"
        return wait


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window of each round")
    parser.add_argument("--only", default=",".join(ATTACKS), help="comma list of attacks to run")
    args = parser.parse_args()
    attacks = [a.strip() for a in args.only.split(",") if a.strip()]
    cores = sorted(os.sched_getaffinity(0))
    server_core, browser_core = (cores[0], cores[1]) if len(cores) >= 2 else (None, None)
    worker = Worker(server_core)
    if browser_core is not None:
        os.sched_setaffinity(0, {browser_core})  # Playwright's driver and Chromium inherit it
    print(f"worker: streamlit run app.py on core {server_core}; browsers on core {browser_core}; "
          f"victim {VICTIM}; {args.seconds:.0f} s windows", flush=True)
    rounds = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)  # the victim's
            before = chromium_browsers()
            others = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)  # neighbours and attackers
            root = min(chromium_browsers() - before)
            print(f"the others' Chromium: {lower(root)} processes at nice {ATTACKER_NICE}; the victim's at 0",
                  flush=True)
            try:
                victim = open_page(browser.new_context(viewport=VIEWPORT), worker.url + VICTIM)
                start(victim)
                moving(victim)
                runner = Round(others, worker.url, victim, args.seconds, worker.pids(), root)
                for kind in [k for a in attacks for k in ("baseline", a)] + ["baseline"]:
                    r = runner.measure(kind)
                    rounds.append(r)
                    print(f"  {kind:12} victim {r['rate']:7.1f} steps/s  server CPU {r['cpu']:.2f}  "
                          f"their browser CPU {r['browser']:.2f}  load {r['load']:.1f}  {r['extra']}", flush=True)
            finally:
                others.close()
                browser.close()
    finally:
        worker.stop()
    report(rounds)


def report(rounds: list[dict]) -> None:
    """Each attack against the mean of the baselines just before and after it."""
    print("\nattack        victim steps/s  fair share (baselines either side)  ratio  verdict   load")
    for i, r in enumerate(rounds):
        if r["kind"] == "baseline":
            continue
        share = (rounds[i - 1]["rate"] + rounds[i + 1]["rate"]) / 2
        ratio = r["rate"] / share if share else 0.0
        print(f"{r['kind']:12}  {r['rate']:14.1f}  {share:9.1f} ({rounds[i - 1]['rate']:.1f}, "
              f"{rounds[i + 1]['rate']:.1f}){'':12}  {ratio:5.2f}  {'PASS' if ratio >= 0.5 else 'FAIL':7} "
              f"{r['load']:5.1f}")


if __name__ == "__main__":
    main()
