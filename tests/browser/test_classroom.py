"""A classroom on loopback: 8 headless-Chromium sessions press Start at once through `python -m serve`.

Two workers behind HAProxy, as a class would use them. Every session must train live (its Step counter
keeps rising), keep its own settings (no leaking between students, though they share two processes), and
the server's memory (workers + HAProxy) must stay under MEMORY_BOUND_MB for the whole run.
"""
import os
import re
import threading
import time
from pathlib import Path

import pytest

from tests.browser.conftest import _missing, assert_no_exception, free_port, screenshot, start_server, stop_server, \
    wait_for_app
from tests.browser.test_train_page import metric_value, number, wait_until
from tests.serve.test_serve import HAPROXY, Served, descendants

pytestmark = pytest.mark.browser

STUDENTS = 8
MEMORY_BOUND_MB = 2500  # RSS of 2 workers + HAProxy with 8 students training 784-(24..31)-10 networks


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:  # exited between listing and reading
        pass
    return 0.0


class PeakMemory(threading.Thread):
    """Samples the resident memory of a process and everything below it every 0.2 s until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, sum(rss_mb(p) for p in {self.pid, *descendants(self.pid)}))
            time.sleep(0.2)


@pytest.fixture
def classroom_server(tmp_path):
    if not os.path.exists(HAPROXY):
        _missing("HAProxy is not installed (apt-get install -y haproxy)")
    served = Served(tmp_path / "serve.log")  # python -m serve --workers 2 on a free loopback port
    yield served.url, served.process.pid
    served.interrupt()


def test_eight_students_train_at_once_without_leaking_settings(browser, classroom_server):
    url, pid = classroom_server
    memory = PeakMemory(pid)
    memory.start()
    contexts, pages = [], []
    try:
        for i in range(STUDENTS):
            context = browser.new_context(viewport={"width": 1300, "height": 900})
            context.set_default_timeout(240_000)  # 8 students training on 2 cores: the browser is slow too
            page = context.new_page()
            width = 24 + i  # each student's own network, in their own link
            contexts.append(context)
            # one page loads at a time (8 at once starve a busy machine's browser); all then train together
            page.goto(f"{url}/train?layers={width}&act=relu&lr=0.003&ep=500&seed={i}")
            wait_for_app(page, timeout=240_000)
            page.locator('[data-testid="stMetric"]').filter(has_text="Step").first.wait_for()
            assert metric_value(page, "Step") == "0"
            pages.append((page, width))
        for page, _ in pages:
            page.get_by_role("button", name="Start").click()

        # everyone trains live: each Step counter rises twice while the others train too (a loaded machine
        # may take minutes, so the waits are long: they end as soon as the counter has risen)
        for page, width in pages:
            assert wait_until(lambda: number(metric_value(page, "Step")) > 0, 300), width
        first = [number(metric_value(page, "Step")) for page, _ in pages]
        for (page, width), before in zip(pages, first):
            assert wait_until(lambda: number(metric_value(page, "Step")) > before, 300), width

        # nobody's settings leak into anybody else's session
        for page, width in pages:
            assert wait_until(lambda: page.get_by_text(f"784-{width}-10 relu").count() >= 1, 120), width
            assert page.locator('[data-testid="stNumberInput"]').filter(has_text="Layer 1 width") \
                .locator("input").input_value() == str(width)
            assert_no_exception(page)
        screenshot(pages[-1][0], "classroom_student8")
    finally:
        memory.running = False
        memory.join()
        for context in contexts:
            context.close()
    print(f"peak memory of 2 workers + HAProxy with {STUDENTS} students training: {memory.peak:.0f} MB")
    assert 0 < memory.peak < MEMORY_BOUND_MB


# --- the classroom link: an address students can open, and its QR code for the projector ------------------

PUBLIC = "http://192.168.77.10:8080"  # what a teacher would set; nothing is sent to it


def classroom_link(page, url: str, title: str = "Classroom link") -> tuple[str, str]:
    """Open the Train page, unfold the Classroom link panel: (the link shown, the text its QR code decodes to)."""
    import io

    import zxingcpp
    from PIL import Image

    page.goto(url, timeout=120_000)
    wait_for_app(page, timeout=120_000)
    panel = page.locator('[data-testid="stExpander"]').filter(has_text=title)
    panel.locator("summary").click(timeout=120_000)
    code = panel.locator('[data-testid="stCode"]')
    code.wait_for(timeout=20_000)
    qr = panel.locator('[data-testid="stImage"] img')
    qr.wait_for(timeout=60_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle(),
                           timeout=60_000)  # loaded and drawn, not just in the DOM
    qr.scroll_into_view_if_needed()
    for _ in range(20):  # a rerun (the page's width reported once) may redraw the panel under the first screenshot
        decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))]
        if decoded:
            break
        page.wait_for_timeout(500)
    assert len(decoded) == 1, decoded
    return code.inner_text().strip(), decoded[0]


@pytest.fixture
def public_url_server():
    port = free_port()
    proc = start_server(port, {"PLAYGROUND_PUBLIC_URL": PUBLIC + "/"})
    yield f"http://127.0.0.1:{port}"
    stop_server(proc)


def test_the_link_uses_the_teachers_public_url(page, public_url_server):
    link, decoded = classroom_link(page, f"{public_url_server}/train?layers=16,16&act=sigmoid")
    assert link.startswith(f"{PUBLIC}/train?") and "layers=16,16" in link and "act=sigmoid" in link, link
    assert decoded == link
    screenshot(page, "classroom_link_public_url")


def test_the_link_uses_the_network_address_not_localhost(page, server_url):
    from serve.network import network_address

    address = network_address()
    port = server_url.rsplit(":", 1)[1]
    link, decoded = classroom_link(page, f"http://localhost:{port}/train?layers=16,16")
    assert decoded == link
    if address:  # the machine has a network: students get it, never localhost
        assert link.startswith(f"http://{address}:{port}/train?"), link
        assert "localhost" not in link and "127.0.0.1" not in link
    else:  # no network at all: the loopback link comes with a warning that only this computer can open it
        assert link.startswith(f"http://localhost:{port}/train?")
        assert page.get_by_text("Only this computer can open this address").count() == 1
    screenshot(page, "classroom_link_network_address")


def test_the_link_panel_speaks_chinese_and_its_link_opens_in_chinese(page, server_url):
    link, decoded = classroom_link(page, f"{server_url}/train?layers=16,16&lang=zh", title="课堂链接")
    assert decoded == link and "lang=zh" in link, link
    panel = page.locator('[data-testid="stExpander"]').filter(has_text="课堂链接")
    assert panel.get_by_text("扫码打开链接").count() == 1
    lock = panel.locator('[data-testid="stMultiSelect"]').filter(has_text="锁定")
    html = lock.inner_html()
    assert "请选择" in html and "Choose options" not in html  # our placeholder, not Streamlit's English one
    lock.locator("input").first.click()
    options = page.get_by_role("option")
    options.first.wait_for(timeout=20_000)
    shown = options.all_inner_texts()
    assert "数据集与训练集大小" in shown and "学习率" in shown, shown
    assert not any("Select all" in text for text in shown), shown  # Streamlit's English bulk action is left out
    screenshot(page, "classroom_link_zh")
    page.keyboard.press("Escape")


# Before the page loads: every websocket the app opens is kept in window.__sockets, and while window.__away is
# set a new one goes to a closed port, as if the device had lost its network (the app keeps trying to reconnect).
AWAY = """(() => {
  const Real = window.WebSocket;
  window.__sockets = []; window.__away = false;
  window.WebSocket = function (url, protocols) {
    const socket = new Real(window.__away ? url.replace(/:\\d+\\//, ':9/') : url, protocols);
    window.__sockets.push(socket);
    return socket;
  };
  window.WebSocket.prototype = Real.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})()"""


def away(page, seconds: float) -> None:
    """The tab loses its connection to the server for `seconds`, then comes back to the same session."""
    page.evaluate("() => { window.__away = true; window.__sockets.forEach(s => s.close()); }")
    time.sleep(seconds)
    page.evaluate("() => { window.__away = false; }")


def test_a_tab_away_briefly_keeps_its_run_and_one_away_longer_takes_it_up_from_its_snapshot(browser, server_url):
    """ui.classroom.ClosedTabs: a run is freed CLOSED_TAB_SECONDS (20 s) after its browser left, not when
    Streamlit drops the session (2 minutes), its snapshot written then; a phone back sooner trains on; one back
    later is told why and trains on from that snapshot."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.add_init_script(AWAY)
        page.goto(f"{server_url}/train?ep=200&lr=0.01")
        wait_for_app(page)
        page.locator(".st-key-train_start button").click()
        assert wait_until(lambda: number(metric_value(page, "Step")) > 20, 60)
        away(page, 5)
        before = number(metric_value(page, "Step"))
        assert wait_until(lambda: number(metric_value(page, "Step")) > before + 20, 60)  # the same run, training
        assert "was away" not in page.locator('[data-testid="stMain"]').inner_text()
        left = number(metric_value(page, "Step"))
        away(page, 32)  # 20 s, then up to one 5 s sweep
        note = page.locator('[data-testid="stAlert"]').filter(has_text="was away for more than 20 seconds")
        assert wait_until(lambda: note.count() == 1, 60)
        said = note.inner_text()
        assert "trains on" in said, said  # taken up from the snapshot written when the run was given back
        back = int(re.search(r"at step ([\d,]+)", said).group(1).replace(",", ""))
        assert back >= left, (back, left)  # nothing trained before the tab left is lost
        assert wait_until(lambda: number(metric_value(page, "Step")) > back + 20, 60)  # and it trains on
        assert "0.01" in page.url  # the lesson's settings stay
        assert_no_exception(page)
        screenshot(page, "train_tab_back_after_its_run_was_freed")
    finally:
        context.close()
