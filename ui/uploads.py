"""What a page says about an uploaded file stays true when the browser refuses the next one.

Streamlit refuses a file over server.maxUploadSize (or of a type not listed) in the browser, before anything
reaches the server: no run follows, so the page would go on showing what it said about the previous file as if
it were about the new one. CSS keeps the two apart: as soon as the uploader shows a refused file, the messages
about the earlier file are hidden and one sentence in the session's language says what happened.
"""
from __future__ import annotations

import html

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ui.i18n import _


ALERT_STYLE = ("background: rgba(255, 43, 43, 0.09); color: rgb(125, 53, 59); padding: 1rem; "
               "border-radius: 0.5rem; line-height: 1.6")  # the colours of Streamlit's st.error in the light theme


def refusal_note(key: str, types: str) -> None:
    """Under the uploader with widget key `key`: the sentence shown while it holds a file the browser refused."""
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
