"""What the pages measured, for a lesson's reveal: `measured("gradients.gain", 0.22)` from a page, read by the panel.

Names are "<page>.<measure>" as lessons.MEASURES lists them. Kept in the session, so a reveal shown on a later run
(or after a trip to another page) still has the numbers of the run the student made.
"""
from __future__ import annotations

import math

import streamlit as st

KEY = "lesson_measures"


def measured(name: str, value) -> None:
    """Publish one measured value (a number, or a kind such as "vanishing"); non-finite numbers are kept as None."""
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    elif hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    st.session_state.setdefault(KEY, {})[name] = value


def values() -> dict:
    """Every value measured in this session, by name."""
    return dict(st.session_state.get(KEY, {}))


def value(name: str):
    return st.session_state.get(KEY, {}).get(name)
