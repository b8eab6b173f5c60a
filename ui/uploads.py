"""A file uploader's words in the session's language, what a page says about an uploaded file staying true
when the browser refuses the next one, and a per-tab budget for what the server holds of its uploads.

Streamlit writes an uploader's button and size limit in English, with no label to change them: CSS swaps them.
Streamlit refuses a file over server.maxUploadSize (or of a type not listed) in the browser, before anything
reaches the server: no run follows, so the page would go on showing what it said about the previous file as if
it were about the new one. CSS keeps the two apart: as soon as the uploader shows a refused file, the messages
about the earlier file are hidden and one sentence in the session's language says what happened.

Streamlit keeps every uploaded file in memory until its session ends, and its upload endpoint takes file after
file from one tab (issue 26, D7: 40 x 20 MB held 800 MB). UploadBudget stands in front of Streamlit's store of
uploads: a tab holds at most SESSION_FILES files and SESSION_MB megabytes; the next one is refused (HTTP 413,
the tab's uploader shows the sentence of refusal_note()), and a closed tab's files are dropped soon after.
"""
from __future__ import annotations

import html
import threading
import time
from typing import Callable

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime import Runtime
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from ui.i18n import DEFAULT, _, language

SESSION_FILES = 10  # uploaded files one tab may hold on the server at once (the app's uploaders take one each)
SESSION_MB = 50  # megabytes those files may take together (Streamlit's server.maxUploadSize bounds each file)
CLOSED_SECONDS = 20.0  # a closed tab's files are dropped this long after its browser left (a phone may come back)
SWEEP_SECONDS = 5.0  # how often closed tabs' files are looked for

ALERT_STYLE = ("background: rgba(255, 43, 43, 0.09); color: rgb(125, 53, 59); padding: 1rem; "
               "border-radius: 0.5rem; line-height: 1.6")  # the colours of Streamlit's st.error in the light theme


def uploader_notes(key: str, types: str) -> None:
    """Under the uploader with widget key `key`: Streamlit's words in it in the session's language, and the
    sentence shown while it holds a file the browser refused. `types` lists the files it takes, e.g. "PT"."""
    uploader_words(key, types)
    refusal_note(key, types)


def uploader_words(key: str, types: str) -> None:
    """Streamlit writes a file uploader's button and size limit in English: in another language, say them in it.

    CSS swaps the text of the uploader with this widget key (Streamlit offers no label for them); `types` is
    the list the limit names, e.g. "PT" or "PNG, JPG".
    """
    if language() == DEFAULT:
        return
    limit = _("{size}MB per file • {types}").format(size=st.get_option("server.maxUploadSize"), types=types)
    button = _("Upload")
    box = f".st-key-{key} [data-testid='stFileUploaderDropzone']"
    st.html(f"<style>{box} button p, {box} [data-testid='stFileUploaderDropzoneInstructions'] span {{font-size: 0}}"
            f"{box} button p::after {{content: '{button}'; font-size: 0.875rem}}"
            f"{box} [data-testid='stFileUploaderDropzoneInstructions'] span::after {{content: '{limit}'; "
            "font-size: 0.875rem}</style>")


def refusal_note(key: str, types: str) -> None:
    """The sentence shown under uploader `key` while it holds a file the browser refused."""
    refused = f".st-key-{key} [data-testid='stFileChip'][aria-invalid='true']"
    st.html(f"<style>.st-key-{key}_refused {{display: none}}"
            f"[data-testid='stMain']:has({refused}) .st-key-{key}_messages {{display: none}}"
            f"[data-testid='stMain']:has({refused}) .st-key-{key}_refused {{display: flex}}</style>")
    sentence = _("Your browser did not send that file, or the server refused it: it is larger than {limit} MB, not "
                 "a {types} file, or this tab already holds {files} uploaded files or {total} MB. Nothing was loaded "
                 "and nothing changed. Remove it (×) and choose another.").format(
                     limit=st.get_option("server.maxUploadSize"), types=types, files=SESSION_FILES, total=SESSION_MB)
    with st.container(key=f"{key}_refused"):  # drawn like st.error, but not one until the browser refuses a file
        st.html(f'<div role="alert" style="{ALERT_STYLE}">{html.escape(sentence)}</div>')


def messages_about(key: str) -> DeltaGenerator:
    """A container for what the page says about the file in uploader `key` (hidden while a refused file shows)."""
    return st.container(key=f"{key}_messages")


class UploadBudget:
    """Per-tab bounds in front of Streamlit's in-memory store of uploads (thread-safe: the server's upload requests,
    the sessions' threads and the sweeper all call it).

    install() replaces the store's add_file, which Streamlit's upload endpoint calls once it has read a file: a file
    that would take the tab past `files` files or `max_bytes` bytes is refused with HTTP 413 and nothing is kept.
    sweep() drops the files of tabs whose browser left `grace` seconds ago (Streamlit holds a closed tab's session,
    and so its files, for server.disconnectedSessionTTL).
    """

    def __init__(self, store: MemoryUploadedFileManager, files: int = SESSION_FILES, max_bytes: int = SESSION_MB << 20,
                 connected: Callable[[str], bool] = lambda session_id: True, grace: float = CLOSED_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.store, self.files, self.max_bytes = store, files, max_bytes
        self._connected, self._grace, self._clock = connected, grace, clock
        self._add = store.add_file  # Streamlit's own
        self._lock = threading.Lock()  # one check-and-add at a time: two uploads of a tab cannot both fit the last room
        self._left: dict[str, float] = {}  # session id -> when its browser was first seen gone

    def held(self, session_id: str) -> tuple[int, int]:
        """(files, bytes) the server holds for this tab."""
        with self.store._lock:  # Streamlit's own lock of the store (private)
            kept = list(self.store.file_storage.get(session_id, {}).values())
        return len(kept), sum(len(f.data) for f in kept)

    def add_file(self, session_id: str, file: UploadedFileRec) -> None:
        """Keep the file, or refuse it (HTTP 413) if the tab would hold more than its budget."""
        from starlette.exceptions import HTTPException  # Streamlit's server; its handler answers with this

        with self._lock:
            with self.store._lock:
                kept = self.store.file_storage.get(session_id, {})
                others = [f for file_id, f in kept.items() if file_id != file.file_id]  # a resend replaces itself
            count, size = len(others) + 1, sum(len(f.data) for f in others) + len(file.data)
            if count > self.files or size > self.max_bytes:
                raise HTTPException(status_code=413, detail=(
                    f"This tab already holds {len(others)} uploaded files ({(size - len(file.data)) >> 20} MB): at "
                    f"most {self.files} files and {self.max_bytes >> 20} MB. Remove one and try again."))
            self._add(session_id, file)

    def install(self) -> "UploadBudget":
        self.store.add_file = self.add_file  # the endpoint looks the method up on each upload
        self.store.upload_budget = self
        return self

    def sweep(self) -> list[str]:
        """Drop the files of each tab whose browser left `grace` seconds ago or more; their session ids."""
        now, dropped = self._clock(), []
        with self.store._lock:
            holding = list(self.store.file_storage)
        for session_id in holding:
            if self._connected(session_id):
                self._left.pop(session_id, None)
            elif now - self._left.setdefault(session_id, now) >= self._grace:
                self.store.remove_session_files(session_id)
                self._left.pop(session_id, None)
                dropped.append(session_id)
        for session_id in set(self._left) - set(holding):
            del self._left[session_id]
        return dropped

    def run(self, every: float = SWEEP_SECONDS) -> None:
        """Sweep every `every` seconds, for ever (a daemon thread of the server)."""
        while True:
            time.sleep(every)
            self.sweep()


_installing = threading.Lock()


def install_upload_budget() -> UploadBudget | None:
    """Put the per-tab budget in front of this server's store of uploads, once per process (configure_process calls
    it); None outside a server (AppTest, scripts) or if the store is not Streamlit's in-memory one."""
    if not Runtime.exists():
        return None
    store = Runtime.instance().uploaded_file_mgr
    if not isinstance(store, MemoryUploadedFileManager):
        return None
    with _installing:
        budget = getattr(store, "upload_budget", None)
        if budget is None:
            runtime = Runtime.instance()
            budget = UploadBudget(store, connected=runtime.is_active_session).install()
            threading.Thread(target=budget.run, name="upload-budget", daemon=True).start()
    return budget
