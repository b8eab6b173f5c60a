"""Per-session state shared by the pages: which model is active, and the shared sidebar."""
from __future__ import annotations

import copy
from pathlib import Path

import streamlit as st

from engine.checkpoint import CheckpointError, load
from engine.model import Net, count_parameters

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "assets" / "default.pt"


@st.cache_resource(show_spinner=False)
def _default_checkpoint() -> tuple[Net, dict]:
    """The shipped model, loaded once per server; never handed out directly (hooks are per session)."""
    return load(DEFAULT_MODEL_PATH)


def default_model() -> tuple[Net, dict]:
    """This session's own copy of the default model and its checkpoint payload."""
    if "default_model" not in st.session_state:
        model, payload = _default_checkpoint()
        st.session_state.default_model = (copy.deepcopy(model), payload)
    return st.session_state.default_model


def set_active_model(model: Net, label: str) -> None:
    """Make a model (e.g. the one trained on the Train page) the one Draw and Backprop use."""
    st.session_state.active_model = (model, label)


def use_default_model() -> None:
    st.session_state.pop("active_model", None)


def active_model() -> tuple[Net, str]:
    """(model, label): the session's chosen model, else the default one."""
    if "active_model" in st.session_state:
        return st.session_state.active_model
    model, payload = default_model()
    return model, "default model"


def default_model_summary() -> str:
    model, payload = default_model()
    metrics = payload.get("metrics") or {}
    acc = metrics.get("val_acc")
    score = f", {acc:.1%} validation accuracy" if isinstance(acc, float) else ""
    return f"{model.spec.describe()} ({count_parameters(model):,} parameters{score})"


def sidebar(pages: list) -> None:
    """The sidebar every page shares: the pages, and which model Draw and Backprop use."""
    with st.sidebar:
        for page in pages:
            st.page_link(page)
        st.divider()
        st.markdown("**Active model**")
        try:
            model, label = active_model()
        except CheckpointError as exc:
            st.error(f"The default model could not be loaded: {exc}")
            return
        if label == "default model":
            st.caption(f"Default: {default_model_summary()}")
        else:
            st.caption(f"{label}: {model.spec.describe()} ({count_parameters(model):,} parameters)")
            st.button("Use the default model", key="sidebar_use_default", on_click=use_default_model)


def current_trainer():
    """The Trainer the Train page built in this session, or None before it has built one."""
    return st.session_state.get("train_trainer")
