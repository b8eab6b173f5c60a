"""The language in Chromium: a Chinese browser gets 简体中文, and switching to English keeps the trained run."""
import re

import pytest

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app
from tests.browser.test_train_page import number, pause, wait_until

pytestmark = pytest.mark.browser
CJK = re.compile(r"[\u4e00-\u9fff]")


def first_step_count(page) -> float:
    """The Train page's first readout, Step (its label is in the page's language)."""
    return number(page.locator('[data-testid="stMetricValue"]').first.inner_text())


def test_a_chinese_browser_trains_in_chinese_and_english_keeps_the_run(browser, server_url):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{server_url}/train?ep=200")  # no ?lang=: the browser's language decides
        wait_for_app(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_role("link", name="训练").wait_for(timeout=30_000)
        start = page.locator(".st-key-train_start button")
        assert CJK.search(start.inner_text()), start.inner_text()
        assert CJK.search(page.locator('[data-testid="stMetricLabel"]').first.inner_text())
        start.click()
        assert wait_until(lambda: first_step_count(page) > 30, 60)
        pause(page)
        held = first_step_count(page)
        page.wait_for_timeout(1000)
        assert first_step_count(page) == held  # paused
        screenshot(page, "train_zh")

        sidebar.get_by_role("radio", name="English").click()
        page.get_by_role("button", name="Start").wait_for(timeout=60_000)
        wait_for_app(page)
        assert "lang=en" in page.url
        assert page.locator('[data-testid="stMetricLabel"]').first.inner_text().strip() == "Step"
        assert first_step_count(page) == held  # the same run, in English
        sidebar.get_by_role("link", name="Train").wait_for(timeout=30_000)
        page.get_by_role("button", name="Start").click()
        assert wait_until(lambda: first_step_count(page) > held + 10, 60)  # and it trains on from there
        assert_no_exception(page)
    finally:
        context.close()
