"""While training, the Train page's live pictures (ui.live_charts) have what the paused Plotly charts have in their
toolbar: full screen and a download, here PNG and SVG (issue 23's presenter mode)."""
import struct

import pytest

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app
from tests.browser.test_train_page import metric_value, number, wait_until

pytestmark = pytest.mark.browser


def test_a_live_picture_goes_full_screen_and_downloads_as_png_and_svg(browser, server_url):
    context = browser.new_context(viewport={"width": 1280, "height": 720}, accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(f"{server_url}/train?ep=200")
        wait_for_app(page)
        page.get_by_role("button", name="Start").click()
        assert wait_until(lambda: number(metric_value(page, "Step")) > 20, 90)
        chart = page.locator('svg.live-chart[data-chart="delta"]')
        chart.wait_for(timeout=60_000)
        chart.hover()
        tools = page.locator("#live-tools")
        tools.wait_for(state="visible", timeout=10_000)
        assert tools.locator("button").evaluate_all("bs => bs.map(b => b.title)") == [
            "Full screen (Esc to leave)", "Download as PNG", "Download as SVG"]
        box, bar = chart.bounding_box(), tools.bounding_box()
        assert box["x"] <= bar["x"] and bar["x"] + bar["width"] <= box["x"] + box["width"] + 1  # over the picture

        with page.expect_download() as png:
            tools.locator('button[data-action="png"]').click()
        path = png.value.path()
        data = open(path, "rb").read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and png.value.suggested_filename.startswith("delta-step-")
        width, height = struct.unpack(">II", data[16:24])
        assert width >= 2 * 300 and height > 100  # twice the picture's own size

        chart.hover()
        with page.expect_download() as svg:
            tools.locator('button[data-action="svg"]').click()
        text = open(svg.value.path(), encoding="utf-8").read()
        assert text.startswith("<svg") and 'data-chart="delta"' in text and "font-family" in text

        chart.hover()
        tools.locator('button[data-action="fullscreen"]').click()
        assert wait_until(lambda: page.evaluate("() => !!document.fullscreenElement"), 10)
        steps = number(metric_value(page, "Step"))
        assert wait_until(lambda: number(metric_value(page, "Step")) > steps, 60)  # it goes on training
        shown = page.evaluate("() => document.fullscreenElement.querySelector('svg.live-chart').dataset.chart")
        assert shown == "delta"
        tall = page.evaluate("() => document.fullscreenElement.querySelector('svg.live-chart')"
                             ".getBoundingClientRect().height")
        assert tall > 0.8 * 720  # the picture fills the screen
        screenshot(page, "train_live_fullscreen")
        page.evaluate("() => document.exitFullscreen()")
        page.get_by_role("button", name="Pause").click()
        wait_for_app(page)
        assert_no_exception(page)
    finally:
        context.close()
