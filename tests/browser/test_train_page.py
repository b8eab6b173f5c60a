"""Train page in Chromium: Start makes Step and Val accuracy advance live; Pause holds them."""
import re
import time

import pytest

from tests.browser.conftest import (assert_no_exception, free_port, screenshot, start_server, stop_server,
                                    wait_for_app)

pytestmark = pytest.mark.browser


def metric_value(page, label: str) -> str:
    block = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return block.locator('[data-testid="stMetricValue"]').inner_text().strip()


def number(text: str) -> float:
    return float(re.sub(r"[^0-9.]", "", text) or "nan")


def pause(page) -> None:
    """Press Pause and wait for its run to draw the page: Start is enabled again only then, so the Step shown is
    the run's last (1.5 s after the click was not always enough on a busy machine)."""
    page.locator(".st-key-train_pause button").click()
    start = page.locator(".st-key-train_start button")
    assert wait_until(start.is_enabled, 60)
    wait_for_app(page)


def wait_until(predicate, timeout: float, interval: float = 0.25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_start_trains_live_and_pause_holds(page, server_url):
    # 200 epochs: the default 10 finish in about a second, before Pause could be pressed
    page.goto(f"{server_url}/train?ep=200")
    wait_for_app(page)
    assert metric_value(page, "Step") == "0"
    page.get_by_role("button", name="Start").click()

    # the live fragment redraws while training: Step keeps rising, and accuracy appears after an epoch
    assert wait_until(lambda: number(metric_value(page, "Step")) > 0, 30)
    first = number(metric_value(page, "Step"))
    assert wait_until(lambda: number(metric_value(page, "Step")) > first, 30)
    assert wait_until(lambda: metric_value(page, "Val accuracy") not in ("—", ""), 60)
    assert wait_until(lambda: number(metric_value(page, "Val accuracy")) > 85, 60)
    screenshot(page, "train_running")

    pause(page)
    held = metric_value(page, "Step")
    time.sleep(2.0)
    assert metric_value(page, "Step") == held
    assert_no_exception(page)
    page.get_by_text("Show").first.scroll_into_view_if_needed()
    screenshot(page, "train_paused")


def test_the_trained_model_becomes_active_everywhere_and_can_be_dropped(page, server_url):
    page.goto(f"{server_url}/train")
    wait_for_app(page)
    page.get_by_role("button", name="Step once").click()
    wait_for_app(page)
    use = page.get_by_role("button", name="Use this model on the Draw page")
    assert wait_until(lambda: use.is_enabled(), 20)
    use.click()
    wait_for_app(page)
    page.get_by_role("link", name="Draw").click()
    wait_for_app(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert wait_until(lambda: "trained on the Train page (1 steps): 784-128-64-10 relu" in sidebar.inner_text(), 20)
    page.get_by_role("button", name="Use the default model").click()
    wait_for_app(page)
    assert wait_until(lambda: "Default: conv 32,64" in sidebar.inner_text(), 10)
    assert_no_exception(page)


def test_a_first_visitor_by_a_deep_link_gets_the_apps_frame(page):
    """A fresh server whose first visitor opens /train: the page comes with app.py's sidebar and page links."""
    port = free_port()
    proc = start_server(port)  # its own server: the shared one has long since run app.py's navigation
    try:
        page.goto(f"http://127.0.0.1:{port}/train")
        wait_for_app(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert wait_until(lambda: "Active model" in sidebar.inner_text(), 30)
        titles = ("Draw", "Train", "Gradients", "Loss surface", "Backprop")
        # the links are drawn by the same run as the caption, but a loaded browser may show one before the other
        assert wait_until(lambda: all(sidebar.get_by_role("link", name=t, exact=True).count() == 1 for t in titles),
                          30), [sidebar.get_by_role("link", name=t, exact=True).count() for t in titles]
        assert page.locator('[data-testid="stMain"] h1').first.inner_text().startswith("Train a network")
        assert_no_exception(page)
        screenshot(page, "train_deep_link")
    finally:
        stop_server(proc)


def test_a_diverging_run_ends_red_with_advice(page, server_url):
    # /train?lr=50&opt=sgd: the loss explodes ~2,500-fold in two steps; the page must not end in a green Done
    page.goto(f"{server_url}/train?lr=50&opt=sgd")
    wait_for_app(page)
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Training diverged at step").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    banner = page.locator('[data-testid="stAlert"]').filter(has_text="Training stopped").first.inner_text()
    assert "η = 50 is too high" in banner and "try η = 5" in banner
    assert page.get_by_text("Done: finished").count() == 0
    assert len(metric_value(page, "Train loss")) <= 10  # a readable number, never 27 digits
    screenshot(page, "train_diverged")


def test_saturation_bars_grey_the_output_layer(page, server_url):
    page.goto(f"{server_url}/train?ep=1")
    wait_for_app(page)
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Done: finished").first.wait_for(timeout=90_000)
    page.get_by_text("Activations", exact=True).first.click()
    page.get_by_text("hidden units").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert_no_exception(page)
    assert page.get_by_text("confident outputs are the goal").count() >= 1
    screenshot(page, "train_saturation")


def test_raising_eta_while_running_applies_to_the_same_run(page, server_url):
    """As in TensorFlow Playground: η changes at the next step, and the run keeps its step count."""
    page.goto(f"{server_url}/train?ep=200")
    wait_for_app(page)
    page.get_by_role("button", name="Start").click()
    assert wait_until(lambda: number(metric_value(page, "Step")) > 50, 30)
    before = number(metric_value(page, "Step"))
    eta = page.get_by_role("slider", name="Learning rate η")
    eta.focus()
    eta.press("ArrowRight")  # up from 0.001 (how far one key press moves depends on the slider's width)
    note = page.locator('[data-testid="stAlert"]').filter(has_text="η is now")
    assert wait_until(lambda: note.count() == 1, 20)
    assert float(re.search(r"η is now ([\d.e-]+) from", note.inner_text()).group(1)) > 0.001
    assert "Settings changed" not in page.locator('[data-testid="stMain"]').inner_text()
    from_step = number(re.search(r"from step ([\d,]+)", note.inner_text()).group(1))
    assert from_step > before  # the run went on: not a new network at step 0
    assert wait_until(lambda: number(metric_value(page, "Step")) > from_step + 20, 30)  # and keeps training
    assert page.get_by_role("button", name="Pause").is_enabled()
    assert_no_exception(page)
    screenshot(page, "train_eta_raised")
    page.get_by_role("button", name="Pause").click()
    wait_for_app(page)


# The button labels cut short with "…" inside the elements `selector` picks: each label's own width on one line
# against the width its button gives it.
CLIPPED = """(selector) => [...document.querySelectorAll(selector)].flatMap(
  el => [...el.querySelectorAll('button [data-testid="stMarkdownContainer"]')]).filter(label => {
    const box = label.getBoundingClientRect().width;  // 0: a copy not shown
    const probe = document.createElement('span');  // the label's own width, on one line and never cut
    probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap';
    probe.style.font = getComputedStyle(label.querySelector('p') || label).font;
    probe.textContent = label.textContent;
    document.body.appendChild(probe);
    const wide = probe.getBoundingClientRect().width;
    probe.remove();
    return box > 0 && wide > box + 0.1;  // a fraction of a pixel too narrow already shows "…"
  }).map(label => label.textContent)"""


def test_on_a_1280x720_projector_the_loss_and_delta_charts_show_without_scrolling(browser, server_url):
    """Once training runs, the loss and δ charts' titles and at least their top halves are on the first screen."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{server_url}/train?ep=200")
        wait_for_app(page)
        page.get_by_role("button", name="Start").click()
        assert wait_until(lambda: number(metric_value(page, "Step")) > 20, 60)
        charts = page.locator("svg.live-chart")  # while training: ui.live_charts's pictures
        for title in ("Loss C", "Error signal δ"):
            chart = charts.filter(has_text=title).first
            text = chart.locator("text").filter(has_text=title).first
            text.wait_for(timeout=60_000)  # the title is drawn (a loaded server can take a while)
            heading = text.bounding_box()
            box = chart.bounding_box()
            assert heading is not None and box is not None, f"{title}: not drawn"
            assert 0 <= heading["y"] and heading["y"] + heading["height"] <= 720, (title, heading)
            assert box["y"] >= 0 and box["y"] + box["height"] / 2 <= 720, (title, box)
        pause = page.get_by_role("button", name="Pause")
        button = pause.bounding_box()
        assert button["y"] >= 0 and button["y"] + button["height"] <= 720  # the controls stay on screen
        assert page.evaluate(CLIPPED, ".st-key-train_start, .st-key-train_pause, .st-key-train_step, "
                                      ".st-key-train_reset") == []  # every label whole ("Step o…" was cut)
        screenshot(page, "train_projector_1280x720")
        pause.click()
        wait_for_app(page)
        assert_no_exception(page)
    finally:
        context.close()
