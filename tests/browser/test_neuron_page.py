"""The Neuron page in headless Chromium: reached from the sidebar, its figures drawn, Play advances the epochs."""
import re

import pytest

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def epoch_shown(page) -> int:
    """The epoch slider's value, as the browser shows it."""
    return int(page.locator('input[type=range][aria-label="Epoch"]').input_value())


def test_neuron_page_from_the_sidebar_draws_every_figure(server_url, page):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server_url}/draw")
    wait_for_app(page)
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Neuron").click()
    page.wait_for_url(re.compile(r".*/neuron$"), timeout=60_000)
    page.get_by_role("heading", name="One neuron", exact=True).wait_for(timeout=60_000)
    wait_for_app(page)
    page.locator(".js-plotly-plot").nth(4).wait_for(timeout=90_000)  # σ, costs, perceptron, boundaries, losses
    assert_no_exception(page)
    assert page.locator(".js-plotly-plot").count() == 5
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text() == "0.5000"
    screenshot(page, "neuron")
    page.get_by_text("XOR", exact=True).first.click()  # the segmented control's option
    page.get_by_text("One hidden layer fixes it").wait_for(timeout=60_000)
    page.get_by_text("no line can get all four").wait_for(timeout=60_000)
    wait_for_app(page)
    # the 2-2-1 network's two lines: one more figure (stale copies may linger for a moment after the rerun)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length === 6", timeout=30_000)
    page.get_by_text("One hidden layer fixes it").scroll_into_view_if_needed()
    screenshot(page, "neuron_xor")


def test_play_advances_the_epochs(server_url, page):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server_url}/neuron")
    wait_for_app(page)
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=90_000)
    assert epoch_shown(page) == 0
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "() => Number(document.querySelector('input[type=range][aria-label=\"Epoch\"]')?.value) >= 30",
        timeout=60_000)
    page.get_by_role("button", name="Pause").click()
    wait_for_app(page)
    paused_at = epoch_shown(page)
    assert 30 <= paused_at < 300
    page.wait_for_timeout(1500)
    assert epoch_shown(page) == paused_at  # paused: no more ticks
    page.get_by_text(f"at epoch {paused_at}").wait_for(timeout=30_000)  # the table follows the slider
    assert_no_exception(page)
    page.get_by_text("Epoch", exact=True).scroll_into_view_if_needed()
    page.wait_for_function("() => !document.querySelector('[data-stale=true]')", timeout=30_000)
    screenshot(page, "neuron_playing")
