"""python -m serve: two Streamlit workers behind HAProxy on loopback, sticky by cookie, stopped by Ctrl-C.

Needs HAProxy (apt-get install -y haproxy) and, for the page check, Chromium: without them these tests
skip on a developer's machine but fail when CI is set.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from serve.config import COOKIE, Worker, render
from serve.network import network_address, student_url
from tests import ROOT
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, ROOT, _missing, assert_no_exception, free_port, \
    screenshot, wait_for_app
from serve.cluster import descendants
from tests.browser.test_draw_page import DIGITS, draw, prediction
from tests.browser.test_train_page import wait_until

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
WORKER_HEADER = "X-Playground-Worker"


def need_haproxy() -> None:
    if not os.path.exists(HAPROXY):
        _missing("HAProxy is not installed (apt-get install -y haproxy)")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def get(url: str, cookie: str | None = None):
    """(status, headers (case-insensitive), Set-Cookie values) of one GET, without a cookie jar."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.headers.get_all("Set-Cookie") or []


class Served:
    """One `python -m serve --workers 2` on a free loopback port."""

    def __init__(self, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with log.open("w") as out:  # a file, not a pipe nobody reads: a full pipe would block the workers
            self.process = subprocess.Popen(
                [sys.executable, "-m", "serve", "--workers", "2", "--port", str(self.port), "--address", "127.0.0.1"],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        started = wait_until(lambda: "Students open" in log.read_text() or self.process.poll() is not None, 200)
        if not started or self.process.poll() is not None:  # the banner comes once the proxy answers
            self.interrupt()
            raise RuntimeError(f"serve did not start: {log.read_text()[-2000:]}")

    def interrupt(self) -> tuple[int, set[int]]:
        """Ctrl-C: (exit code, the processes it had started)."""
        started = descendants(self.process.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        return code, started


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    need_haproxy()
    server = Served(tmp_path_factory.mktemp("serve") / "serve.log")
    yield server
    if server.process.poll() is None:
        server.interrupt()


# --- the configuration and the student's address: no processes -------------------------------------------

def test_the_generated_configuration_is_valid_haproxy(tmp_path):
    need_haproxy()
    config = tmp_path / "haproxy.cfg"
    config.write_text(render("127.0.0.1:8501", [Worker("w1", "127.0.0.1", 8502), Worker("w2", "10.0.0.7", 8501)]))
    check = subprocess.run([HAPROXY, "-c", "-f", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    text = config.read_text()
    assert f"cookie {COOKIE} insert indirect nocache" in text
    assert "server w2 10.0.0.7:8501 cookie w2" in text
    assert "timeout tunnel 8h" in text


def test_the_compose_files_proxy_configuration_is_the_template_for_its_workers():
    """deploy/haproxy.cfg is serve/haproxy.cfg.in filled in for compose.yaml's worker services, and valid."""
    need_haproxy()
    compose = (ROOT / "deploy" / "compose.yaml").read_text()
    names = re.findall(r"^  (w\d+): \*worker$", compose, re.MULTILINE)
    assert len(names) >= 2, names
    expected = render("0.0.0.0:8501", [Worker(n, n, 8501) for n in names], resolver="127.0.0.11:53")
    committed = ROOT / "deploy" / "haproxy.cfg"
    assert committed.read_text() == expected, "regenerate deploy/haproxy.cfg with python -m serve.config"
    check = subprocess.run([HAPROXY, "-c", "-f", str(committed)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr  # names resolve only inside Docker: warnings only
    assert '"8501:8501"' in compose and "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in compose


def test_the_config_command_prints_a_configuration_for_workers_elsewhere():
    result = subprocess.run([sys.executable, "-m", "serve.config", "--worker", "lab1=10.0.0.11:8501",
                             "--worker", "10.0.0.12:8502"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "server lab1 10.0.0.11:8501 cookie lab1" in result.stdout
    assert "server w2 10.0.0.12:8502 cookie w2" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "serve.config", "--worker", "10.0.0.12"], cwd=ROOT,
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and bad.stderr.startswith("error: --worker '10.0.0.12'")


def test_no_workers_is_refused():
    with pytest.raises(ValueError, match="at least one worker"):
        render("127.0.0.1:8501", [])


@pytest.mark.parametrize("page, public, address, expected", [
    ("http://localhost:8501/train?lr=0.5", None, "192.168.1.20", "http://192.168.1.20:8501/train?lr=0.5"),
    ("http://127.0.0.1:8600/train?lr=0.5", None, "10.0.0.5", "http://10.0.0.5:8600/train?lr=0.5"),
    ("http://[::1]:8501/train", None, "10.0.0.5", "http://10.0.0.5:8501/train"),
    ("http://localhost:8501/train?lr=0.5", "https://play.school.example/nn/", "10.0.0.5",
     "https://play.school.example/nn/train?lr=0.5"),
    ("http://localhost:8501/train", "192.168.1.20:8080", None, "http://192.168.1.20:8080/train"),
    ("http://teacher-laptop:8501/train", None, "10.0.0.5", "http://teacher-laptop:8501/train"),  # already reachable
    ("http://localhost:8501/train", None, None, "http://localhost:8501/train"),  # no network: nothing better
])
def test_the_students_link_uses_the_public_url_else_the_network_address(page, public, address, expected):
    assert student_url(page, public, address) == expected


def test_the_network_address_is_never_loopback():
    address = network_address()
    assert address is None or not (address.startswith("127.") or address in ("::1", "0.0.0.0"))


@pytest.mark.parametrize("argv, message", [
    (["--workers", "0"], "--workers must be between 1 and 64"),
    (["--port", "70000"], "--port must be between 1 and 65535"),
    (["--haproxy", "/nonexistent/haproxy", "--address", "127.0.0.1", "--port", str(free_port())],
     "apt-get install -y haproxy"),
    (["--address", "203.0.113.9"], "cannot listen on 203.0.113.9"),
])
def test_bad_input_gets_one_line_and_exit_code_2(argv, message):
    result = subprocess.run([sys.executable, "-m", "serve", *argv], cwd=ROOT, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


# --- two workers behind the proxy -------------------------------------------------------------------------

def test_health_answers_through_the_proxy(served):
    status, headers, _ = get(served.url + "/_stcore/health")
    assert status == 200
    assert headers[WORKER_HEADER] in ("w1", "w2")


def test_a_port_in_use_is_refused(served):
    result = subprocess.run([sys.executable, "-m", "serve", "--port", str(served.port), "--address", "127.0.0.1"],
                            cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "already in use" in result.stderr


def test_new_students_are_spread_and_each_keeps_its_worker(served):
    first = [get(served.url + "/") for _ in range(4)]
    workers = [headers[WORKER_HEADER] for _, headers, _ in first]
    assert set(workers) == {"w1", "w2"}, workers  # round robin for newcomers
    for (_, headers, cookies), worker in zip(first, workers):
        assert f"{COOKIE}={worker}; path=/" in "\n".join(cookies)  # the cookie names the worker that answered
    for worker in ("w1", "w2"):
        for _ in range(5):  # a returning browser carries the cookie: always the same worker, no new cookie
            status, headers, cookies = get(served.url + "/", cookie=f"{COOKIE}={worker}")
            assert status == 200 and headers[WORKER_HEADER] == worker
            assert not any(c.startswith(COOKIE) for c in cookies)


def in_own_thread(fn) -> None:
    """Run fn in a new thread and re-raise what it raised (Playwright's sync API wants a thread without a loop)."""
    failures = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001  (re-raised in the test's own thread)
            failures.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if failures:
        raise failures[0]


def test_a_page_works_through_the_proxy_in_chromium(served):
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -r requirements-dev.txt)")
    def drive() -> None:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                answered = []
                page.on("response", lambda r: answered.append(r.headers.get(WORKER_HEADER.lower())))
                page.goto(served.url + "/draw")
                wait_for_app(page)
                page.wait_for_selector("canvas.upper-canvas", timeout=30_000)
                time.sleep(1)
                digit, name, strokes = DIGITS[0]
                draw(page, strokes)  # the drawing travels over the websocket and the prediction comes back
                assert wait_until(lambda: prediction(page) == digit, 30), f"drew {name}, read {prediction(page)}"
                assert_no_exception(page)
                screenshot(page, "serve_draw_through_proxy")
                sticky = [c["value"] for c in context.cookies() if c["name"] == COOKIE]
                assert len(sticky) == 1 and sticky[0] in ("w1", "w2")
                assert set(filter(None, answered)) == {sticky[0]}, answered  # every request reached that worker
            finally:
                browser.close()

    # in its own thread: the browser tests' session-wide Playwright may already own this thread's event loop
    in_own_thread(drive)


def test_ctrl_c_stops_every_process(served):
    commands = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in descendants(served.process.pid)]
    configs = [Path(c[c.index(b"-f") + 1].decode()) for c in commands if b"-f" in c]
    assert len(configs) == 1 and configs[0].exists()
    code, started = served.interrupt()
    assert code == 0
    assert len(started) >= 3, started  # two workers and HAProxy
    assert wait_until(lambda: not any(alive(pid) for pid in started), 10), \
        [pid for pid in started if alive(pid)]
    assert not any(config.exists() for config in configs), configs  # the generated config is removed too


def test_the_workers_are_told_the_address_students_open(monkeypatch):
    """Behind the proxy the workers listen on loopback: PLAYGROUND_PUBLIC_URL tells their lesson links the proxy's."""
    import argparse

    import serve.__main__ as launcher
    from serve.cluster import Cluster
    from serve.network import PUBLIC_URL_VARIABLE

    made = []
    monkeypatch.delenv(PUBLIC_URL_VARIABLE, raising=False)
    monkeypatch.setattr(launcher, "parse", lambda argv: argparse.Namespace(workers=2, address="0.0.0.0", port=8501,
                                                                           haproxy="/usr/sbin/haproxy"))
    monkeypatch.setattr(launcher, "network_address", lambda: "192.168.1.20")
    monkeypatch.setattr(launcher, "Cluster", lambda *args, **kwargs: made.append((args, kwargs)))
    monkeypatch.setattr(launcher, "run", lambda cluster, announce: 0)
    assert launcher.main([]) == 0
    assert made[0][1] == {"public_url": "http://192.168.1.20:8501"}
    monkeypatch.setenv(PUBLIC_URL_VARIABLE, "https://playground.school.example/")
    launcher.main([])
    assert made[1][1] == {"public_url": "https://playground.school.example"}  # the teacher's own, passed on

    spawned = {}
    cluster = Cluster(2, "0.0.0.0", 8501, "/usr/sbin/haproxy", public_url="http://192.168.1.20:8501")
    monkeypatch.setattr(cluster, "_spawn", lambda name, command, **kwargs: spawned.__setitem__(name, kwargs))
    monkeypatch.setattr(cluster, "_wait_healthy", lambda urls: None)
    cluster.start()
    assert spawned["w1"]["env"][PUBLIC_URL_VARIABLE] == spawned["w2"]["env"][PUBLIC_URL_VARIABLE] \
        == "http://192.168.1.20:8501"
    cluster._config_dir.cleanup()
