"""Hostile links in Chromium: Markdown in a link value is shown as typed; no link, no remote image, no request."""
from urllib.parse import quote, urlparse

import pytest
from playwright.sync_api import expect

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


def test_a_closed_tab_gives_its_training_slot_to_the_next_student_at_once(browser):
    from tests.browser.conftest import free_port, start_server, stop_server
    port = free_port()
    proc = start_server(port, {"PLAYGROUND_MAX_TRAINING": "1"})
    try:
        url = f"http://127.0.0.1:{port}/train?layers=16&ep=500"
        first = browser.new_context(viewport={"width": 1300, "height": 900})
        page = first.new_page()
        page.goto(url)
        wait_for_app(page)
        page.get_by_role("button", name="Start").click()
        page.get_by_role("button", name="Pause").wait_for(timeout=30_000)  # training: the one slot is taken
        first.close()  # the student closes the tab mid-run

        second = browser.new_context(viewport={"width": 1300, "height": 900})
        other = second.new_page()
        other.goto(url)
        wait_for_app(other)
        other.get_by_role("button", name="Start").click()
        other.locator(".st-key-train_pause button:enabled").wait_for(timeout=60_000)  # Start's run: training
        # Start took the slot at once: a Start that found it taken says so and never trains (a later Start would),
        # however long a busy machine takes to show the steps
        assert other.get_by_text("The server is busy").count() == 0
        step = other.locator('[data-testid="stMetric"]').filter(has_text="Step").first \
            .locator('[data-testid="stMetricValue"]')
        expect(step).not_to_have_text("0", timeout=60_000)
        assert other.get_by_text("The server is busy").count() == 0  # it is training, and was never refused
        second.close()
    finally:
        stop_server(proc)


def upload(page, key: str, name: str, data: bytes) -> None:
    page.locator(f".st-key-{key} input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}])


@pytest.mark.parametrize("path, key, broken, refused", [
    ("/train", "train_upload", "broken.pt", "huge.pt"),
    ("/draw", "draw_upload", "broken.png", "huge.png"),
])
def test_a_file_the_browser_refuses_hides_what_was_said_about_the_one_before(page, server_url, path, key, broken,
                                                                          refused):
    """Streamlit refuses a file over the upload limit in the browser: no run follows. The page must not go on
    showing the earlier file's error as if it were about the new one; it says that this one was not sent."""
    page.goto(server_url + path)
    wait_for_app(page)
    if key == "draw_upload":
        page.get_by_role("radio", name="Upload a photo").click()
        wait_for_app(page)
    note = page.locator(f".st-key-{key}_refused")
    upload(page, key, broken, b"not what it claims to be")
    earlier = page.locator(f".st-key-{key}_messages [data-testid='stAlert']").filter(has_text=broken)
    earlier.wait_for(timeout=30_000)
    assert not note.is_visible()  # nothing refused yet

    upload(page, key, refused, b"0" * 21_000_000)  # over the 20 MB limit of .streamlit/config.toml
    note.get_by_text("Your browser did not send that file").wait_for(timeout=30_000)
    assert not earlier.is_visible()
    note.scroll_into_view_if_needed()
    screenshot(page, f"refused_{key}")
    page.get_by_role("button", name=f"Remove {refused}").click()  # back to the earlier file alone
    earlier.wait_for(timeout=30_000)
    assert not note.is_visible()
    assert_no_exception(page)
