"""The Train page's "Capacity and validation" section: a width sweep (underfitting to overfitting) and K-fold
cross-validation, each run on demand with a progress bar and kept until the settings change."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

import streamlit as st

from engine.nn.spec import NetworkSpec, TrainSpec
from engine.train import capacity, kfold
from ui import capacity_figs as figs
from ui.classroom import busy_message, session_token, training_slots
from ui.i18n import _, language
from ui.train_run import TrainRun

WIDTH_CHOICES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
K_CHOICES = (3, 5, 10)
KEPT_RUNS = 32
T = TypeVar("T")


class FinishedRuns:
    """The server's finished sweeps and K-fold runs by their settings, the oldest forgotten first (thread-safe)."""
    # not st.cache_data: that replays the progress bar's updates on a cache hit, against an earlier run's bar

    def __init__(self, size: int):
        self.size = size
        self._lock = threading.Lock()
        self._done: OrderedDict[Hashable, object] = OrderedDict()

    def get_or_run(self, key: Hashable, run: Callable[[], T]) -> T:
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
        value = run()  # outside the lock: other sessions' look-ups do not wait for this run
        with self._lock:
            self._done[key] = value
            self._done.move_to_end(key)
            while len(self._done) > self.size:
                self._done.popitem(last=False)
        return value


@st.cache_resource(show_spinner=False)
def finished_runs() -> FinishedRuns:
    return FinishedRuns(KEPT_RUNS)


def cached_sweep(network: NetworkSpec, training: TrainSpec, widths: tuple[int, ...], _progress=None):
    """One sweep per settings, shared by every session (the same settings always give the same runs)."""
    return finished_runs().get_or_run(("sweep", network, training, widths), lambda: capacity.sweep(
        network, training, widths=widths, progress=_progress))


def cached_cross_validation(network: NetworkSpec, training: TrainSpec, k: int, _progress=None):
    return finished_runs().get_or_run(("kfold", network, training, k), lambda: kfold.cross_validate(
        network, training, k=k, progress=_progress))


def _run_with_slot(text: str, run):
    """run(progress) holding a training slot, with a progress bar; None, said, when every slot is taken."""
    slots, token = training_slots(), session_token()
    if not slots.acquire(token):
        st.warning(busy_message(), icon=":material/hourglass_top:")
        return None
    bar = st.progress(0.0, text=text)

    def progress(done: int, total: int) -> None:
        slots.acquire(token)  # still working: keep the slot from expiring
        bar.progress(done / total,
                     text=_("{text}: {done} of {total} done").format(text=text, done=done, total=total))

    try:
        return run(progress)
    finally:
        bar.empty()
        if not TrainRun.of().running:  # a live run of this session keeps its slot
            slots.release(token)


def _sweep(network: NetworkSpec, training: TrainSpec) -> None:
    st.markdown(_("**Capacity sweep.** The same network with every hidden layer set to each width, trained for the "
                  "same epochs on the same data. Too narrow and both errors stay high (**underfitting**); too wide "
                  "for the data and the training error keeps falling while the validation error climbs again "
                  "(**overfitting**): the validation curve turns into a U, and its bottom is the capacity to pick."))
    widths = st.multiselect(_("Hidden widths"), WIDTH_CHOICES, default=list(WIDTH_CHOICES), key="capacity_widths",
                            placeholder=_("Choose options"), select_all=language() == "en")  # Streamlit's are English
    if st.button(_("Run the sweep"), key="capacity_run", icon=":material/stacked_line_chart:",
                 help=_("Trains one network per width with the settings in the sidebar")):
        if not widths:
            st.error(_("Pick at least one width."))
        else:
            text = _("Training {count} widths").format(count=len(widths))
            result = _run_with_slot(text, lambda progress: cached_sweep(
                network, training, tuple(sorted(widths)), _progress=progress))
            if result is not None:
                st.session_state.capacity_result = ((network, training), result)
    kept = st.session_state.get("capacity_result")
    if kept is None or kept[0] != (network, training):
        st.caption(_("Each width trains a full run with the sidebar's settings. Moons with 40 training samples, "
                     "noise 0.35 and 200 epochs shows the U in about half a minute; on MNIST it takes minutes."))
        return
    result = kept[1]
    st.plotly_chart(figs.capacity_curve(result.widths, result.train_error, result.val_error, result.metric,
                                        result.best_width), key="capacity_fig", theme=None)
    best = result.widths.index(result.best_width)
    low, widest, metric = result.val_error[best], result.widths[-1], _(result.metric)
    if result.val_error[-1] > low + 0.01:
        story = _("Past width {best} the extra capacity fits the training set (training {metric} {train:.3g} at "
                  "width {widest}) while the validation {metric} rises again to {val:.3g}: overfitting.").format(
            best=result.best_width, metric=metric, train=result.train_error[-1], widest=widest,
            val=result.val_error[-1])
    else:
        story = _("No overfitting with these settings: the validation {metric} does not rise again up to width "
                  "{widest}. Fewer training samples, more noise or more epochs make room for it.").format(
            metric=metric, widest=widest)
    st.caption(_("Lowest validation {metric} at width {best} ({low:.3g}). {story}").format(
        metric=metric, best=result.best_width, low=low, story=story))


def _kfold(network: NetworkSpec, training: TrainSpec) -> None:
    st.markdown(_("**K-fold cross-validation.** One validation split is a noisy judge on a small data set. Split "
                  "the training set into k folds, train k networks, each on k − 1 folds, and validate each on the "
                  "fold it never saw: the mean is a steadier estimate, the standard deviation says how much to "
                  "trust it."))
    k = st.selectbox(_("Folds k"), K_CHOICES, index=1, key="kfold_k")
    if st.button(_("Run K-fold cross-validation"), key="kfold_run", icon=":material/view_week:",
                 help=_("Trains k networks with the settings in the sidebar")):
        text = _("Training {k} folds").format(k=k)
        result = _run_with_slot(text, lambda progress: cached_cross_validation(
            network, training, k, _progress=progress))
        if result is not None:
            st.session_state.kfold_result = ((network, training), result)
    kept = st.session_state.get("kfold_result")
    if kept is None or kept[0] != (network, training):
        return
    result = kept[1]
    accuracy = result.metric == "validation accuracy"
    values = [f.val_acc if accuracy else f.val_loss for f in result.folds]
    cols = st.columns(3)
    cols[0].metric(_("Mean {metric}").format(metric=_(result.metric)), f"{result.mean:.3f}")
    cols[1].metric(_("Standard deviation"), f"{result.std:.3f}")
    cols[2].metric(_("Folds"), f"{result.k}")
    st.plotly_chart(figs.kfold_scores([f.fold for f in result.folds], values, result.mean, result.std,
                                      result.metric), key="kfold_fig", theme=None)
    st.caption(_("Each fold trained on {n_train:,} samples and was validated on about {n_val:,}; the page's own "
                 "validation split is not used here.").format(n_train=result.folds[0].n_train,
                                                              n_val=result.folds[0].n_val))


def capacity_section(network: NetworkSpec, training: TrainSpec) -> None:
    """The whole section, for the settings in the sidebar."""
    st.divider()
    st.subheader(_("Capacity and validation"))
    try:
        _sweep(network, training)
        _kfold(network, training)
    except ValueError as exc:  # SpecError, DatasetError and the folds' checks are all ValueErrors
        st.error(_("Cannot run this: {error}").format(error=exc))
