"""The Train page's run in the link and in words: run=<token> (the key of its snapshot in the class store), the
prune of old snapshots, and what a student is told when their run came back from one."""
from __future__ import annotations

import time

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.i18n import _

RUN_PARAM = "run"  # URL: the run's token, the key of its snapshot in the class store (a reload finds it there)
REMEMBERED = "run_link_token"  # session state: the run's token from the link, kept while the student is on other pages
PRUNE_EVERY = 600.0  # s between two prunes, by this process, of snapshots older than the class hours


def link_token() -> str | None:
    """The link's run token, if this is a page run with one."""
    if get_script_run_ctx() is None:
        return None
    token = st.query_params.get(RUN_PARAM)
    return token if isinstance(token, str) and 0 < len(token) <= 200 else None


def keep_in_link() -> None:
    """Every page, from the app's frame: `run=<token>` stays in the URL while this session has a run, as `cls=` does
    (a page switch drops the query). A session that starts on another page, because its worker died while the
    student was reading the Draw page, still finds the run when the student opens Train again."""
    if get_script_run_ctx() is None:
        return
    state = st.session_state
    run = state.get("train_run")
    if run is not None and run.looked:  # the Train page has looked: its token, or none after a Reset, is the truth
        token = run.token
    else:
        token = link_token() or state.get(REMEMBERED)
    if token:
        state[REMEMBERED] = token
        put_in_link(token)
    else:
        state.pop(REMEMBERED, None)


def put_in_link(token: str) -> None:
    """Keep `run=<token>` in the URL (ui.train_controls writes it with the settings from then on)."""
    if get_script_run_ctx() is not None and st.query_params.get(RUN_PARAM) != token:
        st.query_params[RUN_PARAM] = token


_pruned = [0.0]  # time.monotonic() of this process's last prune


def prune_now(store) -> None:
    """Delete, at most every PRUNE_EVERY s per process, the snapshots older than the class hours."""
    now = time.monotonic()
    if now - _pruned[0] >= PRUNE_EVERY:
        _pruned[0] = now
        store.prune_snapshots(store.limits.class_hours * 3600)


def resumed_text(step: int, seconds: float, training: bool) -> str:
    """What a student is told when their run came back from its snapshot (a reload, or a worker that died)."""
    if training:
        return _("Your run is back: this page reconnected to the server (after a reload, or because its server "
                 "process stopped) and the run trains on from its last snapshot, step {step:,}, saved {seconds:.0f} s "
                 "earlier. Its weights, optimizer state and charts were kept; only the steps after the snapshot were "
                 "lost.").format(step=step, seconds=seconds)
    return _("Your run is back: this page reconnected to the server (after a reload, or because its server process "
             "stopped) and the run was restored from its last snapshot, step {step:,}, saved {seconds:.0f} s earlier. "
             "Its weights, optimizer state and charts were kept. Press Start to train on.").format(
        step=step, seconds=seconds)


def back_after_away_text(step: int, training: bool) -> str:
    """What a student is told when their tab came back after the server gave its run back (ui.classroom.ClosedTabs)
    and the run was taken up again from the snapshot written when it was given back."""
    from ui.classroom import CLOSED_TAB_SECONDS

    if training:
        return _("This tab was away for more than {seconds:.0f} seconds, so the server gave its run back to the "
                 "class. It is back from the snapshot taken then, at step {step:,}, and trains on.").format(
            seconds=CLOSED_TAB_SECONDS, step=step)
    return _("This tab was away for more than {seconds:.0f} seconds, so the server gave its run back to the class. "
             "It is back from the snapshot taken then, at step {step:,}: press Start to train on.").format(
        seconds=CLOSED_TAB_SECONDS, step=step)


__all__ = ["RUN_PARAM", "PRUNE_EVERY", "link_token", "keep_in_link", "put_in_link", "prune_now", "resumed_text",
           "back_after_away_text"]
