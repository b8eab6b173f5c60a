"""What one student's Train page costs its own browser while training: alone, and in a class.

The classroom bench (bench/classroom.py) runs eight Chromium students on one core: once their renderers
saturate it, its chart gaps and Pause times are mostly the browsers waiting for that core. This bench measures
what decides that: the CPU time each page's renderer process uses per second of training (Chromium's own
count, SystemInfo.getProcessInfo of the DevTools protocol), and that of the browser's shared processes (browser,
GPU, network: software compositing without a GPU), for one student alone and for --students students sharing
one Streamlit worker (the cadence of a class: the live panel, readouts and charts, every 1.5 s). Their ratio is
printed, and how many such students one core can keep up with.

The server (one Streamlit worker) runs on core 0 and the browsers on core 1, as in bench/classroom.py.
Usage: python bench/browser_cost.py [--students 2] [--seconds 15]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.classroom import CHROMIUM, CHROMIUM_FLAGS, CLICK, READY  # noqa: E402  (the same browsers and clicks)
from serve.cluster import free_port  # noqa: E402

PAGE = "/train?ep=500"  # the default preset, a run far longer than the measurement


def start_server(core: int | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    pin = ["taskset", "-c", str(core)] if core is not None else []
    process = subprocess.Popen(pin + [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                      "--server.address", "127.0.0.1", "--server.headless", "true"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, f"http://127.0.0.1:{port}"


def cpu_times(browser_session) -> dict[tuple[str, int], float]:
    """CPU seconds so far of each of the browser's processes, by (type, id)."""
    processes = browser_session.send("SystemInfo.getProcessInfo")["processInfo"]
    return {(p["type"], p["id"]): p["cpuTime"] for p in processes}


def measure(browser, url: str, students: int, seconds: float) -> tuple[list[float], float]:
    """CPU seconds per second of each renderer, and of the browser's other processes together, while all
    `students` train together."""
    pages = []
    for _ in range(students):
        page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
        page.goto(url + PAGE, timeout=240_000)
        pages.append(page)
    for page in pages:
        page.wait_for_function(READY, polling=1000, timeout=240_000)
    for page in pages:
        page.evaluate(CLICK, "Start")
    time.sleep(5)  # trainers built, first charts drawn
    session = browser.new_browser_cdp_session()
    before, t0 = cpu_times(session), time.monotonic()
    time.sleep(seconds)
    after, wall = cpu_times(session), time.monotonic() - t0
    for page in pages:
        page.evaluate(CLICK, "Pause")
        page.context.close()
    used = {key: after[key] - before.get(key, 0.0) for key in after}
    renderers = sorted((v / wall for (kind, _), v in used.items() if kind == "renderer"), reverse=True)[:students]
    shared = sum(v for (kind, _), v in used.items() if kind != "renderer") / wall
    return renderers, shared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2,
                        help="students sharing one worker: at least 2, and few enough not to fill the browsers' core")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    server_core, browser_core = (cores[0], cores[1]) if len(cores) >= 2 else (None, None)
    server, url = start_server(server_core)
    if browser_core is not None:
        os.sched_setaffinity(0, {browser_core})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                [alone], alone_shared = measure(browser, url, 1, args.seconds)
                together, shared = measure(browser, url, max(2, args.students), args.seconds)
            finally:
                browser.close()
    finally:
        server.terminate()
        server.wait(30)
    each = statistics.median(together)
    per_student = each + shared / len(together)
    print("CPU per second of training (1.00 = a whole core), the browsers on their own core:")
    print(f"  one student alone (the live panel three times a second): renderer {alone:.2f}, "
          f"browser's shared processes {alone_shared:.2f}")
    print(f"  {len(together)} students on one worker (the live panel every 1.5 s): renderer "
          f"{each:.2f} each (median; {min(together):.2f}-{max(together):.2f}), shared processes {shared:.2f} "
          f"in all: {each / alone:.2f}x alone per renderer")
    print(f"  one core keeps up with about {1 / per_student:.1f} such students' pages; eight need "
          f"{8 * per_student:.1f} cores")


if __name__ == "__main__":
    main()
