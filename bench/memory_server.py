"""What one student's tab costs a real worker in memory, and whether closing the tab gives it back (issue 26).

One `streamlit run app.py` worker, its resident memory (RSS, /proc) sampled every 0.25 s:
  idle        after start-up; then a warm-up tab runs a small K-fold and the Loss surface on mnist5k and closes
              (the code, torch and the data loaded once per process): 30 s later, the pre-tab level
  worst link  the widest 50-layer network the session budget allows (bench/memory.py's), full batch, trained
  surface     Loss surface on that trained model (sidebar link: the same session), default grid
  kfold       back on the Train page, Pause, then "Run K-fold cross-validation" of that network for a while
  close       the tab closes; RSS every second for --after seconds (ClosedTabs frees a closed tab's run after 20 s)
The worst tab runs --tabs times (2 by default), one after another: what a first tab leaves and a second does not
add is a one-time cost of the process (code, caches, the allocator's pools); what each adds is a leak.
Each phase's peak is printed against the pre-tab level and PLAYGROUND_SESSION_MB (goal: peak <= budget above
it), and the RSS after the close against the pre-tab level (goal: back within 100 MB within 30 s).
Usage: python -m bench.memory_server [--train 20] [--after 45] [--tabs 2]; about 3 minutes a tab.
"""
from __future__ import annotations

import argparse
import os
import threading
import time

from playwright.sync_api import TimeoutError as PlaywrightTimeout, sync_playwright

from bench.classroom import CHROMIUM, CHROMIUM_FLAGS, CLICK, READY, rss_mb
from bench.damage import IDLE, VIEWPORT, Worker, open_page
from engine.train.budget import session_budget

WITHIN_MB = 100  # how close to the pre-tab level the worker must come back
BACK_WITHIN = 30.0  # seconds after the tab closed


def worst_link() -> str:
    """The Train page link of bench/memory.py's worst case: 50 layers as wide as the budget allows, full batch."""
    from engine.data.datasets import load_dataset
    from engine.nn.spec import NetworkSpec, TrainSpec, spec_for_dataset
    from engine.train.budget import what_fits

    training = TrainSpec(dataset="mnist5k", batch_size=1_000_000, optimizer="sgd", lr=1e-4, epochs=10_000)
    data = load_dataset("mnist5k")
    deep = spec_for_dataset(NetworkSpec(hidden=(1024,) * 50, activations="relu"), data.n_inputs, data.n_outputs,
                            False, data.image_shape)
    width = what_fits(deep, training, len(data.x_train), session_budget()).value
    return f"/train?layers={','.join([str(width)] * 50)}&act=relu&ds=mnist5k&bs=1000000&lr=0.0001&opt=sgd&ep=10000"


class Sampler:
    """The worker's RSS every `every` seconds in a thread: (seconds since start, MB)."""

    def __init__(self, pids: list[int], every: float = 0.25):
        self.pids, self.every, self.samples, self.t0 = pids, every, [], time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - self.t0, rss_mb(self.pids)))
            time.sleep(self.every)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def peak(self, since: float, until: float | None = None) -> float:
        until = self.now() if until is None else until
        return max((mb for t, mb in self.samples if since <= t <= until), default=rss_mb(self.pids))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def warm_up(browser, url: str) -> None:
    """A first tab through the same pages with the default small network (the code, torch and mnist5k loaded once
    per process, as in any class), then closed: the pre-tab level is what the worker holds after it."""
    context = browser.new_context(viewport=VIEWPORT)
    page = open_page(context, url + "/train?ds=mnist5k&layers=32")
    page.locator(".st-key-kfold_run button").first.click()
    time.sleep(5)
    page.get_by_role("link", name="Loss surface").first.click()
    page.wait_for_selector(".st-key-land_compute button", timeout=400_000)
    page.locator(".st-key-land_compute button").click()
    settle(page, timeout=600)
    context.close()


def settle(page, timeout: float = 300.0) -> None:
    """Until the page's script run is over (Streamlit's status widget gone)."""
    try:
        page.wait_for_function(f"() => !({IDLE})()", polling=100, timeout=3_000)
    except PlaywrightTimeout:
        pass
    page.wait_for_function(IDLE, polling=250, timeout=timeout * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=float, default=20.0, help="seconds the worst link trains")
    parser.add_argument("--kfold", type=float, default=15.0, help="seconds the K-fold runs")
    parser.add_argument("--after", type=float, default=45.0, help="seconds RSS is followed after the tab closes")
    parser.add_argument("--tabs", type=int, default=2,
                        help="worst-link tabs one after another (a second tells a one-time cost from a per-tab leak)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for the worker (e.g. MALLOC_ARENA_MAX=2), repeatable")
    args = parser.parse_args()
    budget_mb = session_budget() / 2**20
    link = worst_link()
    cores = sorted(os.sched_getaffinity(0))
    server_core, browser_core = (cores[0], cores[1]) if len(cores) >= 2 else (None, None)
    worker = Worker(server_core, dict(item.split("=", 1) for item in args.env))
    if browser_core is not None:
        os.sched_setaffinity(0, {browser_core})
    pids = worker.pids()
    sampler = Sampler(pids)
    results = []  # per tab: (label, phases, RSS when it closed, RSS after the close)
    print(f"worker on core {server_core}, browsers on core {browser_core}; session budget {budget_mb:.0f} MB; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                time.sleep(2)
                idle = rss_mb(pids)
                warm_up(browser, worker.url)
                time.sleep(30)  # its runs freed (ClosedTabs: 20 s after it left, swept every 5 s)
                before = rss_mb(pids)
                print(f"idle {idle:.0f} MB; after a warm-up tab and its close {before:.0f} MB", flush=True)

                for n in range(1, args.tabs + 1):
                    label = f"tab {n}" if args.tabs > 1 else ""
                    phases, pre_close, timeline = worst_tab(browser, worker.url + link, sampler, pids, args, label)
                    results.append((label, phases, pre_close, timeline))
            finally:
                browser.close()
    finally:
        sampler.stop()
        worker.stop()
    print(f"\nworker RSS: idle {idle:.0f} MB, pre-tab {before:.0f} MB (after a warm-up tab closed), "
          f"budget {budget_mb:.0f} MB, load {os.getloadavg()[0]:.1f}")
    for label, phases, pre_close, timeline in results:
        report(label, before, budget_mb, phases, pre_close, timeline)


def worst_tab(browser, url: str, sampler: Sampler, pids: list[int], args, label: str):
    """One tab through the worst link, its Loss surface and a K-fold, then closed: (phases' peaks, RSS when it
    closed, RSS every second for args.after seconds after)."""
    say = (lambda text: print(f"{label}: {text}", flush=True)) if label else (lambda text: print(text, flush=True))
    phases: dict[str, float] = {}
    timeline: list[tuple[float, float]] = []
    context = browser.new_context(viewport=VIEWPORT)
    t = sampler.now()
    try:
        page = open_page(context, url)
    except PlaywrightTimeout:
        context.pages[0].screenshot(path="/tmp/memory_server_timeout.png")
        raise
    page.evaluate(CLICK, "Start")
    time.sleep(args.train)
    page.evaluate(CLICK, "Pause")
    settle(page)
    phases["worst link"] = sampler.peak(t)
    say(f"worst link trained {args.train:.0f} s: peak {phases['worst link']:.0f} MB")

    t = sampler.now()
    page.get_by_role("link", name="Loss surface").first.click()
    page.wait_for_selector(".st-key-land_compute button", timeout=400_000)
    page.locator(".st-key-land_source button").nth(1).click()  # Model trained on the Train page
    settle(page)
    page.locator(".st-key-land_compute button").click()
    settle(page, timeout=600)
    phases["surface"] = sampler.peak(t)
    say(f"loss surface: peak {phases['surface']:.0f} MB")

    t = sampler.now()
    page.get_by_role("link", name="Train").first.click()
    page.wait_for_selector(".st-key-kfold_run button", timeout=400_000)
    settle(page)
    page.locator(".st-key-kfold_run button").first.click()  # (a stale copy may linger a moment)
    time.sleep(args.kfold)
    phases["kfold"] = sampler.peak(t)
    say(f"K-fold ran {args.kfold:.0f} s: peak {phases['kfold']:.0f} MB")

    closed_at, pre_close = sampler.now(), rss_mb(pids)
    context.close()
    while sampler.now() - closed_at < args.after:
        time.sleep(1.0)
        timeline.append((sampler.now() - closed_at, rss_mb(pids)))
    say(f"closed: {timeline[-1][1]:.0f} MB after {args.after:.0f} s")
    return phases, pre_close, timeline


def report(label: str, before: float, budget_mb: float, phases: dict, pre_close: float, timeline: list) -> None:
    if label:
        print(label)
    for name, peak in phases.items():
        growth = peak - before
        print(f"  {name:10}  peak {peak:6.0f} MB  = pre-tab +{growth:5.0f} MB  "
              f"{'PASS' if growth <= budget_mb else 'FAIL'} (<= budget {budget_mb:.0f} MB)")
    print(f"after the tab closed (RSS {pre_close:.0f} MB when it closed):")
    print("  " + "  ".join(f"+{t:.0f}s {mb:.0f}" for t, mb in timeline[::3]))
    back = next((t for t, mb in timeline if mb - before <= WITHIN_MB), None)
    ok = back is not None and back <= BACK_WITHIN
    print(f"  {'PASS' if ok else 'FAIL'}  back within {WITHIN_MB} MB of pre-tab ({before:.0f} MB) "
          + (f"after {back:.0f} s" if back is not None else f"never in {timeline[-1][0]:.0f} s")
          + f" (goal <= {BACK_WITHIN:.0f} s); last {timeline[-1][1]:.0f} MB")


if __name__ == "__main__":
    main()
