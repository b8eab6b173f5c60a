"""A classroom on loopback: 8 headless-Chromium sessions each press Start on the Train page at once.

Every session must train live (its Step counter keeps rising), keep its own settings (no leaking between
students), and the server's memory must stay under MEMORY_BOUND_MB for the whole run.
"""
import threading
import time
from pathlib import Path

import pytest

from tests.browser.conftest import assert_no_exception, free_port, screenshot, start_server, stop_server, wait_for_app
from tests.browser.test_train_page import metric_value, number, wait_until

pytestmark = pytest.mark.browser

STUDENTS = 8
MEMORY_BOUND_MB = 1500  # server RSS with 8 students training 784-(24..31)-10 networks (measured: ~800 MB)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakMemory(threading.Thread):
    """Samples a process's resident memory every 0.2 s until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.2)


@pytest.fixture
def classroom_server():
    port = free_port()
    proc = start_server(port, {"PLAYGROUND_MAX_TRAINING": str(STUDENTS)})
    yield f"http://127.0.0.1:{port}", proc.pid
    stop_server(proc)


def test_eight_students_train_at_once_without_leaking_settings(browser, classroom_server):
    url, pid = classroom_server
    memory = PeakMemory(pid)
    memory.start()
    contexts, pages = [], []
    try:
        for i in range(STUDENTS):
            context = browser.new_context(viewport={"width": 1300, "height": 900})
            page = context.new_page()
            width = 24 + i  # each student's own network, in their own link
            page.goto(f"{url}/train?layers={width}&act=relu&lr=0.003&ep=500&seed={i}")
            contexts.append(context)
            pages.append((page, width))
        for page, _ in pages:
            wait_for_app(page)
            assert metric_value(page, "Step") == "0"
        for page, _ in pages:
            page.get_by_role("button", name="Start").click()

        # everyone trains live: each Step counter rises twice while the others train too
        for page, width in pages:
            assert wait_until(lambda: number(metric_value(page, "Step")) > 0, 60), width
        first = [number(metric_value(page, "Step")) for page, _ in pages]
        time.sleep(3)
        for (page, width), before in zip(pages, first):
            assert wait_until(lambda: number(metric_value(page, "Step")) > before, 30), width

        # nobody's settings leak into anybody else's session
        for page, width in pages:
            assert page.get_by_text(f"784-{width}-10 relu").count() >= 1, width
            assert page.locator('[data-testid="stNumberInput"]').filter(has_text="Layer 1 width") \
                .locator("input").input_value() == str(width)
            assert_no_exception(page)
        screenshot(pages[-1][0], "classroom_student8")
    finally:
        memory.running = False
        memory.join()
        for context in contexts:
            context.close()
    print(f"peak server memory with {STUDENTS} students training: {memory.peak:.0f} MB")
    assert 0 < memory.peak < MEMORY_BOUND_MB
