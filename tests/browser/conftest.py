"""A live `streamlit run app.py` on a free loopback port, and headless Debian Chromium driven by Playwright.

Without Chromium or Playwright these tests skip on a developer's machine but fail when CI is set.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests import ROOT
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = ROOT / "screenshots"
SERVER_LOGS = Path(tempfile.gettempdir()) / "nn-playground-test-servers"  # each test server's output


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, extra_env: dict | None = None) -> subprocess.Popen:
    """streamlit run app.py on 127.0.0.1:port; returns once the health endpoint answers.

    Its output goes to a file (SERVER_LOGS/streamlit-<port>.log), not a pipe: a pipe nobody reads fills after
    64 KB of log lines, and then the server's next log line blocks the thread that writes it."""
    env = {**os.environ, **(extra_env or {})}
    SERVER_LOGS.mkdir(parents=True, exist_ok=True)
    log = SERVER_LOGS / f"streamlit-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 180  # the health check answers as soon as it can: a loaded machine gets longer
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {log.read_bytes().decode(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not start within 180 s")


def served_with_store(folder: Path):
    """streamlit run app.py with its own class store in folder (a generator for a fixture): yields (url, store), so
    a test's simulated class and the pages share one store."""
    import classroom

    store_url = f"sqlite:///{folder / 'class.db'}"
    port = free_port()
    proc = start_server(port, {"PLAYGROUND_STORE": store_url, "PLAYGROUND_PUBLIC_URL": ""})
    yield f"http://127.0.0.1:{port}", classroom.open_store(store_url)
    stop_server(proc)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def server_url():
    port = free_port()
    proc = start_server(port)
    yield f"http://127.0.0.1:{port}"
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _missing(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    context.close()


def wait_for_app(page, timeout: float = 120_000) -> None:
    """Wait until the script has finished running (no 'Running...' status) and no exception is shown."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout)  # every page has a title: it has run
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)


def assert_no_exception(page) -> None:
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
