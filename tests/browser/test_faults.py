"""A worker dies in class: two Chromium students train through `python -m serve`, one on each worker, and
the worker of one is killed (kill -9).

The other student's run goes on (its Step keeps rising, its websocket is never closed); the killed worker's
student is moved to the live worker by HAProxy and its page comes back with the settings of its link.
"""
import os
import signal
import time

import pytest

from serve.config import COOKIE
from tests.browser.conftest import _missing, assert_no_exception, screenshot, wait_for_app
from tests.browser.test_train_page import metric_value, number, wait_until
from tests.serve.test_serve import HAPROXY, Served

pytestmark = pytest.mark.browser

LINK = "/train?layers=16,16&ep=2000&ds=moons"
RECONNECT_SECONDS = 10  # the killed worker's student is back on a live worker within this


@pytest.fixture
def served(tmp_path):
    if not os.path.exists(HAPROXY):
        _missing("HAProxy is not installed (apt-get install -y haproxy)")
    server = Served(tmp_path / "serve.log")  # python -m serve --workers 2 on a free loopback port
    yield server
    if server.process.poll() is None:
        server.interrupt()


class Student:
    """One browser (its own context and cookie jar) on the Train page, pinned to worker by the proxy's cookie."""

    def __init__(self, browser, url: str, worker: str):
        self.context = browser.new_context(viewport={"width": 1300, "height": 900})
        self.context.set_default_timeout(120_000)
        self.context.add_cookies([{"name": COOKIE, "value": worker, "url": url}])  # as if HAProxy had set it
        self.page = self.context.new_page()
        self.sockets, self.closed, self.answered = [], [], []  # websockets opened and closed; who answered
        self.page.on("websocket", self._opened)
        self.page.on("response", lambda r: self.answered.append(r.headers.get("x-playground-worker")))
        self.page.goto(url + LINK)
        wait_for_app(self.page)

    def _opened(self, socket) -> None:
        self.sockets.append(socket)
        socket.on("close", lambda s: self.closed.append(s))

    def step(self) -> float:
        return number(metric_value(self.page, "Step"))

    def worker(self) -> str:
        return next(c["value"] for c in self.context.cookies() if c["name"] == COOKIE)

    def width(self, layer: int) -> str:
        return self.page.locator('[data-testid="stNumberInput"]').filter(has_text=f"Layer {layer} width") \
            .locator("input").input_value()

    def connection_error(self) -> bool:
        return self.page.get_by_text("Connection error").count() > 0


def test_a_killed_workers_student_moves_and_the_other_never_notices(browser, served):
    stays = Student(browser, served.url, "w1")
    moves = Student(browser, served.url, "w2")
    try:
        for student in (stays, moves):
            student.page.get_by_role("button", name="Start").click()
        for student in (stays, moves):
            assert wait_until(lambda: student.step() > 0, 120)
        assert (stays.worker(), moves.worker()) == ("w1", "w2")
        status = served.status()  # the teacher's page: a tab (its websocket) on each worker
        assert status["w1"]["students"] >= 1 and status["w2"]["students"] >= 1, status

        os.kill(served.pid("w2"), signal.SIGKILL)
        killed, answered_before = time.monotonic(), len(moves.answered)
        samples = [(killed, stays.step())]  # (when, the survivor's Step)
        back = None  # when the moved student had a new websocket and a cookie naming w1
        while time.monotonic() - killed < 60 and (back is None or time.monotonic() - back < 5):
            samples.append((time.monotonic(), stays.step()))
            if back is None and len(moves.sockets) >= 2 and moves.worker() == "w1":
                back = time.monotonic()
            time.sleep(0.5)
        assert back is not None and back - killed <= RECONNECT_SECONDS, \
            f"the student of w2 was not back on w1 within {RECONNECT_SECONDS} s: back after {back and back - killed} s, " \
            f"{len(moves.sockets)} websockets, cookie {moves.worker()}"
        assert "w2 exited with code -9; restarting in 1 s (restart 1)" in served.text()

        # the student on w1 never noticed: one websocket, never closed, and its run kept training
        assert len(stays.sockets) == 1 and stays.closed == [] and not stays.connection_error()
        steps = [step for _, step in samples]
        assert steps == sorted(steps), samples  # never reset, never went back
        at_back = [step for when, step in samples if when <= back][-1]
        assert len(set(steps)) >= 3 and steps[-1] > at_back, samples  # rose on, also after w2's student moved

        # the moved student: its websocket to w2 closed, a new one through the proxy to w1, its link's network
        assert moves.closed and "w1" in moves.answered[answered_before:]
        wait_for_app(moves.page, timeout=60_000)
        assert wait_until(lambda: moves.width(1) == "16" and moves.width(2) == "16", 30)
        assert moves.page.get_by_text("2-16-16-2 relu").count() >= 1  # the link's network, on moons
        assert not moves.connection_error()
        assert_no_exception(moves.page)
        assert wait_until(lambda: (served.status()["w1"]["students"] or 0) >= 2, 10), served.status()
        screenshot(moves.page, "faults_moved_student")
    finally:
        stays.context.close()
        moves.context.close()
