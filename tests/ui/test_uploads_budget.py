"""D7 (issue 26): a tab's uploads held by the server are bounded (count and bytes), and a closed tab's are dropped.

First UploadBudget on Streamlit's own in-memory store of uploads; then through the real upload endpoint of a
`streamlit run app.py` server: a Chromium tab uploads one model on the Train page, then the test PUTs more files
to that tab's upload URL (as the attack's put_flood.py did from the student's own tab) until the budget refuses,
and reads the server's RSS before and after.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from starlette.exceptions import HTTPException
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from ui.uploads import SESSION_FILES, SESSION_MB, UploadBudget

MB = 1 << 20


def rec(size: int, file_id: str | None = None) -> UploadedFileRec:
    return UploadedFileRec(file_id or uuid.uuid4().hex, "x.pt", "application/octet-stream", b"0" * size)


def test_a_tab_holds_at_most_its_files_and_the_next_is_refused():
    store = MemoryUploadedFileManager("/upload")
    budget = UploadBudget(store, files=3, max_bytes=10 * MB).install()
    for _ in range(3):
        store.add_file("tab", rec(MB))
    with pytest.raises(HTTPException) as refused:
        store.add_file("tab", rec(1))
    assert refused.value.status_code == 413 and "at most 3 files" in refused.value.detail
    assert budget.held("tab") == (3, 3 * MB)
    store.add_file("other tab", rec(MB))  # another tab has its own budget
    assert budget.held("other tab") == (1, MB)


def test_bytes_are_bounded_and_a_removed_file_makes_room():
    store = MemoryUploadedFileManager("/upload")
    budget = UploadBudget(store, files=10, max_bytes=10 * MB).install()
    first = rec(6 * MB)
    store.add_file("tab", first)
    with pytest.raises(HTTPException):
        store.add_file("tab", rec(5 * MB))
    store.add_file("tab", rec(6 * MB, first.file_id))  # the same file sent again replaces itself
    assert budget.held("tab") == (1, 6 * MB)
    store.remove_file("tab", first.file_id)  # the uploader's ×
    store.add_file("tab", rec(5 * MB))
    assert budget.held("tab") == (1, 5 * MB)


def test_a_closed_tabs_files_are_dropped_after_the_grace():
    store = MemoryUploadedFileManager("/upload")
    now, connected = [0.0], {"open": True, "closed": False}
    budget = UploadBudget(store, connected=connected.get, grace=20, clock=lambda: now[0]).install()
    store.add_file("open", rec(MB))
    store.add_file("closed", rec(MB))
    assert budget.sweep() == []  # just left: kept (a phone may come back)
    now[0] = 19
    assert budget.sweep() == []
    now[0] = 21
    assert budget.sweep() == ["closed"]
    assert budget.held("closed") == (0, 0) and budget.held("open") == (1, MB)
    assert store.get_stats() and store._total_bytes == MB and store._file_count == 1  # Streamlit's own counts


# --- through the real endpoint ------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")
