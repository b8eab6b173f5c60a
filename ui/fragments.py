"""Fragments, each in a slot of its own on the page.

Streamlit 1.67 can break a page whose fragment has siblings after it. When the fragment's timer fires (or a widget
inside it is used) during a full run of the page, its run waits for the full run and then starts by dropping, from
the messages not yet sent to the browser, the ones tagged with its fragment id (AppSession._clear_queue,
ForwardMsgQueue.clear with fragment_ids_this_run): among them the full run's block that holds the fragment at
[.., k]. The browser, at the full run's end, removes the fragment's old block from that parent as stale, so every later
sibling moves up one index; the fragment's run then draws its block at [.., k], onto the sibling that moved there
(same block type: its children are kept, its settings replaced), and removes that sibling's child blocks as not its
own. Seen on a student's lesson panel, under load: its columns (step bar, question, Next) gone until a reload.

In a container of its own, the fragment's block is its parent's only child: dropping it moves nothing.
"""
from __future__ import annotations

from typing import Callable, TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

T = TypeVar("T")


def in_own_slot(fragment: Callable[..., T], *args, **kwargs) -> T:
    """Call an st.fragment inside a container that holds nothing else; what its first run returns."""
    with st.container():
        return fragment(*args, **kwargs)


def full_run() -> bool:
    """Whether this run of the script runs the whole page (not one of its fragments alone); True outside Streamlit."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx is None or not ctx.fragment_ids_this_run


__all__ = ["full_run", "in_own_slot"]
