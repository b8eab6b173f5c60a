"""Per-session state shared by the pages: which model is active, and the shared sidebar."""
from __future__ import annotations

import copy
from pathlib import Path

import streamlit as st

from engine.nn.checkpoint import CheckpointError, load
from engine.nn.model import Net, count_parameters
from ui.i18n import _, language_switch
from ui.plain_text import plain
from ui.train_run import TrainRun

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "assets" / "default.pt"
DEFAULT_LABEL = "default model"  # active_model()'s label for the shipped model; shown as _("default model")


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
    """Make a model (e.g. the one trained on the Train page) the one Draw and Backprop use.

    The label may quote a file name, so it is kept Markdown-escaped: every caption shows it as typed.
    """
    st.session_state.active_model = (model, plain(label))


def use_default_model() -> None:
    st.session_state.pop("active_model", None)


def active_model() -> tuple[Net, str]:
    """(model, label): the session's chosen model, else the default one."""
    if "active_model" in st.session_state:
        return st.session_state.active_model
    model, payload = default_model()
    return model, DEFAULT_LABEL


def reads_digits(spec) -> bool:
    """True if a network takes a 28x28 image (784 inputs) and answers with the ten digits."""
    return spec.input_size == 28 * 28 and spec.output_size == 10 and not spec.regression


def digit_model_or_notice() -> tuple[Net, str]:
    """The active model if it reads 28x28 digits; else say why not, offer to switch, and use the default model."""
    model, label = active_model()
    if reads_digits(model.spec):
        return model, label
    st.warning(_("The active model ({label}: {network}) does not read 28x28 digits: it takes {inputs} inputs and "
                 "gives {outputs} outputs. This page uses the default digit model instead.").format(
        label=shown_label(label), network=model.spec.describe(), inputs=model.spec.input_size,
        outputs=model.spec.output_size), icon=":material/warning:")
    st.button(_("Use the default model everywhere"), key="state_use_default", on_click=use_default_model,
              help=_("Make the default model the active one again (the Train page can train a digit model too)"))
    return default_model()[0], DEFAULT_LABEL


def shown_label(label: str) -> str:
    """A model's label as the reader sees it: the default model's in the session's language."""
    return _("default model") if label == DEFAULT_LABEL else label


def default_model_summary() -> str:
    model, payload = default_model()
    metrics = payload.get("metrics") or {}
    acc = metrics.get("val_acc")
    if isinstance(acc, float):
        return _("{network} ({count:,} parameters, {acc:.1%} validation accuracy)").format(
            network=model.spec.describe(), count=count_parameters(model), acc=acc)
    return _("{network} ({count:,} parameters)").format(network=model.spec.describe(), count=count_parameters(model))


def sidebar(pages: list) -> None:
    """The sidebar every page shares: the pages, and which model Draw and Backprop use."""
    with st.sidebar:
        language_switch()
        for page in pages:
            st.page_link(page)
        st.divider()
        st.markdown("**{}**".format(_("Active model")))
        try:
            model, label = active_model()
        except CheckpointError as exc:
            st.error(_("The default model could not be loaded: {error}").format(error=plain(str(exc))))
            return
        if label == DEFAULT_LABEL:
            st.caption(_("Default: {summary}").format(summary=default_model_summary()))
        else:
            st.caption(_("{label}: {network} ({count:,} parameters)").format(
                label=label, network=model.spec.describe(), count=count_parameters(model)))
            st.button(_("Use the default model"), key="sidebar_use_default", on_click=use_default_model)


def current_trainer():
    """The Trainer the Train page built in this session, or None before it has built one."""
    return TrainRun.of().trainer
