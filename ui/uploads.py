"""A file uploader's words in the session's language, and what a page says about an uploaded file staying true
when the browser refuses the next one.

Streamlit writes an uploader's button and size limit in English, with no label to change them: CSS swaps them.
Streamlit refuses a file over server.maxUploadSize (or of a type not listed) in the browser, before anything
reaches the server: no run follows, so the page would go on showing what it said about the previous file as if
it were about the new one. CSS keeps the two apart: as soon as the uploader shows a refused file, the messages
about the earlier file are hidden and one sentence in the session's language says what happened.
"""
from __future__ import annotations

import html

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ui.i18n import DEFAULT, _, language

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
    sentence = _("Your browser did not send that file: it is larger than {limit} MB or not a {types} file. Nothing "
                 "was loaded and nothing changed. Remove it (×) and choose another.").format(
                     limit=st.get_option("server.maxUploadSize"), types=types)
    with st.container(key=f"{key}_refused"):  # drawn like st.error, but not one until the browser refuses a file
        st.html(f'<div role="alert" style="{ALERT_STYLE}">{html.escape(sentence)}</div>')


def messages_about(key: str) -> DeltaGenerator:
    """A container for what the page says about the file in uploader `key` (hidden while a refused file shows)."""
    return st.container(key=f"{key}_messages")
