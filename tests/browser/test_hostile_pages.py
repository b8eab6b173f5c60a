"""Hostile links in Chromium: Markdown in a link value is shown as typed; no link, no remote image, no request."""
from urllib.parse import quote, urlparse

import pytest

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.browser

INJECTION = "**Sign in:** [here](http://host.invalid/login) ![x](http://host.invalid/x.png)"


def test_markdown_in_a_link_is_shown_as_typed_and_fetches_nothing(page, server_url):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{server_url}/train?layers={quote(INJECTION)}")
    wait_for_app(page)
    assert_no_exception(page)
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="could not be used").first
    alert.wait_for(timeout=30_000)
    assert INJECTION in alert.inner_text().replace("\u2060", "")  # the text, as typed (word joiners are invisible)
    links = page.locator('a[href*="host.invalid"]')
    assert links.count() == 0, [links.nth(i).evaluate("e => e.outerHTML") for i in range(links.count())]
    assert page.locator('img[src*="host.invalid"]').count() == 0
    assert page.locator('[data-testid="stAlert"] strong').count() == 0  # no bold from the link either
    assert not [url for url in requested if urlparse(url).hostname == "host.invalid"]
    screenshot(page, "hostile_markdown_link")
