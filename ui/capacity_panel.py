"""The Train page's "Capacity and validation" section: a width sweep (underfitting to overfitting) and K-fold
cross-validation, each trained on demand one slice per tick while it holds a training slot, kept until the settings
change."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Hashable

import streamlit as st

from engine.nn.spec import NetworkSpec, TrainSpec
from engine.train import capacity, kfold
from engine.train.kfold import TrainerSequence
from ui import capacity_figs as figs
from ui import classroom
from ui.classroom import CLOSED_TAB_SECONDS, busy_message
from ui.compute import SliceBudget
from ui.fragments import in_own_slot
from ui.i18n import _, language
from ui.lesson_measures import measured
from ui.train_run import CHUNK_SECONDS, MAX_SLICE_SECONDS, TICK_SECONDS, TRAIN_BUDGET, TrainRun, tick_seconds

WIDTH_CHOICES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
K_CHOICES = (3, 5, 10)
KEPT_RUNS = 32
SWEEP_KEY, KFOLD_KEY = "capacity_job", "kfold_job"  # the session-state keys of the two jobs (written only here)


class FinishedRuns:
    """The server's finished sweeps and K-fold runs by their settings, the oldest forgotten first (thread-safe)."""

    def __init__(self, size: int):
        self.size = size
        self._lock = threading.Lock()
        self._done: OrderedDict[Hashable, object] = OrderedDict()

    def get(self, key: Hashable) -> object | None:
        with self._lock:
            if key not in self._done:
                return None
            self._done.move_to_end(key)
            return self._done[key]

    def put(self, key: Hashable, value: object) -> None:
        with self._lock:
            self._done[key] = value
            self._done.move_to_end(key)
            while len(self._done) > self.size:
                self._done.popitem(last=False)


@st.cache_resource(show_spinner=False)
def finished_runs() -> FinishedRuns:
    """One per server: the same settings always give the same runs, so every session may reuse them."""
    return FinishedRuns(KEPT_RUNS)


@dataclass(eq=False)
class CapacityRun:
    """One of the section's two runs in this session (the sweep or the K-fold): its job, trained a slice per tick,
    and its last result."""
    key: str  # SWEEP_KEY or KFOLD_KEY
    job: TrainerSequence | None = None  # the job in training; None when none is
    runs_for: Hashable | None = None  # the job's settings, its key in finished_runs()
    settings: tuple[NetworkSpec, TrainSpec] | None = None  # the sidebar's settings the job was started with
    kept: tuple[tuple[NetworkSpec, TrainSpec], object] | None = None  # (the sidebar's settings, result) of the last
    slices: SliceBudget = field(default_factory=SliceBudget)  # CPU time owed, when the last slice began
    ticking: bool = False  # the page drew the progress with its timer
    busy: bool = False  # the button, or a tick, found every training slot taken: say so once
    freed: bool = False  # a closed tab's job was dropped (ClosedTabs): say so once

    @classmethod
    def of(cls, key: str) -> CapacityRun:
        """The session's run under this key, made on first use."""
        if st.session_state.get(key) is None:
            st.session_state[key] = cls(key)
        return st.session_state[key]

    def start(self, runs_for: Hashable, settings: tuple[NetworkSpec, TrainSpec],
              make: Callable[[], TrainerSequence]) -> None:
        """Train the job make() builds from the next tick on, holding a training slot; a server's earlier run of the
        same settings is shown at once instead."""
        done = finished_runs().get(runs_for)
        if done is not None:
            self.kept = (settings, done)
            return
        if not classroom.training_slots().acquire(classroom.session_token()):
            self.busy = True
            return
        try:
            job = make()  # loads the data and builds the first network: bad settings fail here
        except Exception:
            self._give_back()
            raise
        self.job, self.runs_for, self.settings, self.slices = job, runs_for, settings, SliceBudget()
        classroom.watch_this_tab(self)  # a closed tab's job is dropped (self.free) after CLOSED_TAB_SECONDS

    def stop(self) -> None:
        """Drop the job (the Stop button; also when the settings change) and give the slot back."""
        self.job = None
        self._give_back()

    def free(self) -> None:
        """A closed tab's job goes back to the class (ClosedTabs calls this from its thread)."""
        self.job, self.freed = None, True

    def _give_back(self) -> None:
        """Release this session's training slot unless it still trains something else."""
        if not TrainRun.of().running and not any(
                run is not None and run is not self and run.job is not None
                for run in (st.session_state.get(SWEEP_KEY), st.session_state.get(KFOLD_KEY))):
            classroom.training_slots().release(classroom.session_token())

    def waits(self) -> bool:
        """Whether this job waits for the tab's other training (one at a time: the Train run, the sweep, the K-fold)."""
        sweep = st.session_state.get(SWEEP_KEY)
        return TrainRun.of().running or (self.key == KFOLD_KEY and sweep is not None and sweep.job is not None)

    def timer(self) -> float | None:
        """The progress fragment's run_every for this page run (None: no timer)."""
        self.ticking = self.job is not None
        return tick_seconds(classroom.training_slots().busy()) if self.ticking else None

    def slice(self) -> bool:
        """One tick's training; False when the job ended instead (finished, or its slot was taken): show it."""
        job = self.job  # ClosedTabs may drop it from its thread meanwhile
        slots, token = classroom.training_slots(), classroom.session_token()
        if not slots.acquire(token):  # it expired while this tab slept, or the Train run's Pause released it
            self.job, self.busy = None, True
            return False
        training_now = slots.shares(token)  # a student's tabs share one student's part
        budget = self.slices.budget(TRAIN_BUDGET / TICK_SECONDS, tick_seconds(training_now), training_now)
        try:
            if not self.slices.train(job.advance, budget, token, CHUNK_SECONDS, MAX_SLICE_SECONDS, st.empty().empty):
                return True
        except Exception:  # shown once, not again on every tick (Streamlit's own stops are BaseExceptions)
            self.stop()
            raise
        result = job.result()
        finished_runs().put(self.runs_for, result)
        self.kept = (self.settings, result)
        self.stop()
        return False

    def result_for(self, network: NetworkSpec, training: TrainSpec) -> object | None:
        """The last result if it was run with these settings; a job of other settings is stopped."""
        if self.job is not None and self.settings != (network, training):
            self.stop()  # a run never outlives its settings
        return self.kept[1] if self.kept is not None and self.kept[0] == (network, training) else None

    def was_busy(self) -> bool:
        busy, self.busy = self.busy, False
        return busy

    def was_freed(self) -> bool:
        freed, self.freed = self.freed, False
        if freed:
            self._give_back()
        return freed


def _progress(run: CapacityRun, words: Callable[[TrainerSequence], str]) -> None:
    """The job's progress bar and Stop button, then one slice of its training: every tick (a fragment)."""
    job = run.job
    if job is None:
        if run.ticking:  # it finished, stopped or lost its slot: the whole page shows that, without the timer
            st.rerun()
        return
    st.progress(job.fraction, text=words(job))
    st.button(_("Stop"), key=f"{run.key}_stop", on_click=run.stop, icon=":material/stop:")
    if run.waits():
        st.caption(_("Waiting: this tab is training another network; this one goes on once that one stops or ends."))
    elif not run.slice():
        st.rerun()


def job_panel(run: CapacityRun, words: Callable[[TrainerSequence], str]) -> None:
    """What the run says once (busy, freed), then its progress, ticking while it trains."""
    if run.was_busy():
        st.warning(busy_message(), icon=":material/hourglass_top:")
    if run.was_freed():
        st.info(_("This tab was away for more than {seconds:.0f} seconds, so the server stopped this run and gave it "
                  "back to the class. Press the button to run it again.").format(seconds=CLOSED_TAB_SECONDS),
                icon=":material/info:")
    in_own_slot(st.fragment(_progress, run_every=run.timer()), run, words)  # the two jobs' fragments get different
    # ids from their different places on the page


def sweep_words(job: capacity.SweepJob) -> str:
    return _("Training width {width}: {done} of {total} widths done").format(width=job.width, done=job.done,
                                                                            total=job.total)


def kfold_words(job: kfold.KFoldJob) -> str:
    return _("Training fold {fold} of {k}").format(fold=min(job.done + 1, job.total), k=job.total)


def _sweep(network: NetworkSpec, training: TrainSpec) -> None:
    st.markdown(_("**Capacity sweep.** The same network with every hidden layer set to each width, trained for the "
                  "same epochs on the same data. Too narrow and both errors stay high (**underfitting**); too wide "
                  "for the data and the training error keeps falling while the validation error climbs again "
                  "(**overfitting**): the validation curve turns into a U, and its bottom is the capacity to pick."))
    widths = st.multiselect(_("Hidden widths"), WIDTH_CHOICES, default=list(WIDTH_CHOICES), key="capacity_widths",
                            placeholder=_("Choose options"), select_all=language() == "en")  # Streamlit's are English
    run = CapacityRun.of(SWEEP_KEY)
    if st.button(_("Run the sweep"), key="capacity_run", icon=":material/stacked_line_chart:",
                 help=_("Trains one network per width with the settings in the sidebar")):
        if not widths:
            st.error(_("Pick at least one width."))
        else:
            chosen = tuple(sorted(widths))
            run.start(("sweep", network, training, chosen), (network, training),
                      lambda: capacity.SweepJob(network, training, chosen))
    result = run.result_for(network, training)
    job_panel(run, sweep_words)
    if result is None:
        st.caption(_("Each width trains a full run with the sidebar's settings. Moons with 40 training samples, "
                     "noise 0.35 and 200 epochs shows the U in about half a minute; on MNIST it takes minutes."))
        return
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
    run = CapacityRun.of(KFOLD_KEY)
    if st.button(_("Run K-fold cross-validation"), key="kfold_run", icon=":material/view_week:",
                 help=_("Trains k networks with the settings in the sidebar")):
        run.start(("kfold", network, training, k), (network, training), lambda: kfold.KFoldJob(network, training, k))
    result = run.result_for(network, training)
    job_panel(run, kfold_words)
    if result is None:
        return
    accuracy = result.metric == "validation accuracy"
    values = [f.val_acc if accuracy else f.val_loss for f in result.folds]
    measured("train.kfold_mean", result.mean if accuracy else None)  # a lesson's reveal quotes them
    measured("train.kfold_std", result.std if accuracy else None)
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
