"""The Loss-surface page in Chromium: it renders, Compute draws the contour, 3-D and 1-D charts, no exception."""
from __future__ import annotations

import pytest

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser


def test_landscape_page_computes_and_draws(server_url, page):
    page.goto(f"{server_url}/landscape")
    wait_for_app(page)
    assert_no_exception(page)
    page.get_by_role("heading", name="Loss surface").wait_for(timeout=30_000)
    page.get_by_text("press Compute", exact=False).first.wait_for(timeout=30_000)
    screenshot(page, "landscape_before")

    page.get_by_role("button", name="Compute").click()
    charts = page.locator('[data-testid="stPlotlyChart"]')
    charts.first.wait_for(timeout=120_000)
    wait_for_app(page, timeout=120_000)
    assert_no_exception(page)
    assert page.locator('[data-testid="stMetric"]').count() == 4
    assert charts.count() >= 2  # contour and 3-D surface on the first tab
    assert page.locator(".js-plotly-plot .contour, .js-plotly-plot .contourlayer").count() >= 1
    charts.first.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # let WebGL draw the 3-D surface before the picture
    screenshot(page, "landscape_random")

    page.get_by_role("tab", name="Initial → trained (1-D)").click()
    page.wait_for_timeout(1000)
    assert_no_exception(page)
    charts.last.scroll_into_view_if_needed()
    screenshot(page, "landscape_line")

    page.get_by_role("tab", name="Training path (PCA)").click()
    page.get_by_text("path was not recorded", exact=False).wait_for(timeout=10_000)
    assert_no_exception(page)


def test_projector_shows_the_contour_map_without_scrolling(server_url, browser):
    from tests.browser.test_gradients_page import FOLD, assert_toolbars_clear_of_titles
    context = browser.new_context(viewport={"width": 1280, "height": FOLD})
    page = context.new_page()
    try:
        page.goto(f"{server_url}/landscape?lang=zh")
        wait_for_app(page)
        page.get_by_role("button", name="计算").click()
        contour = page.locator('[data-testid="stPlotlyChart"]').first
        contour.locator(".gtitle").wait_for(timeout=120_000)
        wait_for_app(page, timeout=120_000)
        assert_no_exception(page)
        assert contour.locator(".gtitle").text_content() == "等高线：网络周围的损失"
        box = contour.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= FOLD, box
        screenshot(page, "landscape_projector_zh")
        assert_toolbars_clear_of_titles(page, [contour])
    finally:
        context.close()
