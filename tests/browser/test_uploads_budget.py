"""D7 through the real endpoint (issue 26): one tab's uploads past its budget get HTTP 413 and the server's memory
stays bounded (ui/uploads.py UploadBudget, in front of Streamlit's in-memory upload store)."""
from __future__ import annotations

import os
import uuid

import pytest

from tests.browser.conftest import free_port, start_server, stop_server
from tests.ui.test_uploads_budget import MB, rss_mb
from ui.uploads import SESSION_FILES, SESSION_MB

pytestmark = pytest.mark.browser


def test_the_upload_endpoint_refuses_past_a_tabs_budget_and_memory_stays_bounded(browser):
    port = free_port()
    server = start_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(url + "/train", timeout=180_000)
        page.wait_for_selector('[data-testid="stMain"] h1', timeout=180_000)
        puts = []
        page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
        page.locator(".st-key-train_upload input[type=file]").set_input_files(
            files=[{"name": "first.pt", "mimeType": "application/octet-stream", "buffer": b"not a model"}])
        page.wait_for_function("() => true")
        for _ in range(100):
            if puts:
                break
            page.wait_for_timeout(200)
        assert puts, "the tab's upload was never sent"
        upload_url = puts[0].rsplit("/", 1)[0]  # /_stcore/upload_file/<session id>
        xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_streamlit_xsrf")
        page.wait_for_timeout(1000)
        before = rss_mb(server.pid)
        answers = []
        for _ in range(SESSION_FILES + 5):  # 5 MB each: past both the count and the bytes of the budget
            answer = page.request.put(f"{upload_url}/{uuid.uuid4()}", headers={"X-Xsrftoken": xsrf},
                                      multipart={"file": {"name": "flood.bin", "mimeType": "application/octet-stream",
                                                          "buffer": os.urandom(5 * MB)}})
            answers.append(answer.status)
        after = rss_mb(server.pid)
        context.close()
    finally:
        stop_server(server)
    kept = answers.count(204)
    print(f"answers {answers}; RSS {before:.0f} -> {after:.0f} MB")
    assert kept == min(SESSION_FILES - 1, SESSION_MB // 5 - 1) and set(answers[kept:]) == {413}, answers
    assert after - before < SESSION_MB + 30, (before, after)  # before the budget: +5 MB a file, 75 MB here
