"""Train: build a network, press Start, and watch it learn, with the error δ of every layer, live."""
import copy
import time

import streamlit as st

from engine.nn.checkpoint import CheckpointError, from_bytes, to_bytes
from engine.data.datasets import DatasetError
from engine.data.idx import IdxError
from engine.nn.spec import SpecError, to_params
from engine.views.train import (Boundary, Gallery, RegressionFit, activation_values, latest_saturation, predictions,
                               readouts, thinned, weight_values)
from engine.train.trainer import RATIO_EVERY, RETUNABLE, Trainer
from engine.views.verdicts import format_loss
from engine.views.words import ending_message
from ui import live_charts as live
from ui import train_figs as figs
from ui.bootstrap import require_app_frame
from ui.capacity_panel import capacity_section
from ui.classroom import (CLOSED_TAB_SECONDS, busy_message, lesson_link_builder, session_token, training_slots,
                          watch_this_tab)
from ui.compute import INTERACTIVE, click_waiting, training_debt
from ui.i18n import N_, _, translator
from ui.plain_text import plain
from ui.state import set_active_model
from ui.train_controls import controls, init_state, remember_settings
from ui.uploads import messages_about, uploader_notes

require_app_frame()

TICK_SECONDS = 0.35  # the readouts and charts redraw this often while training (target: twice a second)
TRAIN_BUDGET = 0.2  # seconds of this thread's CPU time spent training per tick
CHUNK_SECONDS = 0.02  # a slice trains in chunks this long; a click is answered between two chunks
MAX_SLICE_SECONDS = 1.0  # wall-clock cap on a slice, so the readouts still move on a crowded server
CLASS_TICK_SECONDS = 1.5  # ... and when other sessions train on this worker too (target: charts every 2 s)
VIEWS = [N_("δ per layer"), N_("Gradients"), N_("Activations"), N_("Weights"), N_("Predictions")]  # keys: shown with _()


def build_trainer(network, training) -> Trainer | None:
    """A new Trainer for these settings, or None with the reason shown."""
    try:
        with st.spinner(_("Loading the data and building the network...")):
            return Trainer(network, training)
    except (SpecError, DatasetError, IdxError, ValueError) as exc:
        st.error(_("Cannot build this network: {reason}").format(reason=plain(exc)))
        return None


def trainer_for_settings(network, training) -> Trainer | None:
    """The session's trainer, built on first use."""
    if st.session_state.get("train_trainer") is None and network is not None:
        st.session_state.train_trainer = build_trainer(network, training)
        st.session_state.train_built_from = (network, training)  # the settings as the widgets gave them
        watch_this_tab(free_run)
    return st.session_state.get("train_trainer")


def free_run(state) -> None:
    """What a tab gives back CLOSED_TAB_SECONDS after it was closed (ui.classroom.ClosedTabs): its run. Its settings
    stay, and if it comes back (a phone that lost its Wi-Fi) the page says what happened."""
    state["train_trainer"] = None
    state["train_running"] = False
    state["train_retunes"] = []
    state["train_freed"] = True


# The buttons live in the live panel's fragment, so a click there reruns only the panel. Pause needs no more:
# the run stops and the readouts show it at once, however busy the page's browser is. Start, Step and Reset
# change the whole page (the panel's timer, what is below it), so their panel run asks for a full run
# (train_whole_page).
def on_start() -> None:
    """Start training if the server has a free slot (a classroom shares two cores)."""
    if training_slots().acquire(session_token()):
        st.session_state.train_running = True
        st.session_state.pop("train_last_slice", None)  # the first slice trains one tick's worth
        st.session_state.pop("train_owed", None)  # and nothing owed from before the Pause
    else:
        st.session_state.train_busy = True
    st.session_state.train_whole_page = True


def stop() -> None:
    st.session_state.train_running = False
    training_slots().release(session_token())


def on_pause() -> None:
    """Stop now; the panel's next timed tick runs the whole page once, which stops the timer."""
    stop()
    st.session_state.train_just_paused = True


def on_reset() -> None:
    stop()
    st.session_state.train_trainer = None
    st.session_state.train_retunes = []
    st.session_state.train_whole_page = True


def use_trained_model() -> None:
    """A copy of the network as it is now becomes the Draw and Backprop pages' model (before the sidebar draws)."""
    trainer = st.session_state.train_trainer
    set_active_model(copy.deepcopy(trainer.model),
                     _("trained on the Train page ({steps} steps)").format(steps=trainer.step_count))
    st.toast(_("The Draw and Backprop pages now use this model."))


def on_step() -> None:
    stop()
    st.session_state.train_step_once = True
    st.session_state.train_whole_page = True


# what the info box says when one of them changes during a run: one clause each, joined into one sentence
LIVE_CHANGES = {"lr": N_("η is now {value:g}"), "momentum": N_("momentum μ is now {value:g}"),
                "batch_size": N_("the batch size is now {value:g}"), "weight_decay": N_("weight decay is now {value:g}")}
LIVE_NAMES = {"lr": "η", "momentum": N_("momentum μ"), "batch_size": N_("batch size"),
              "weight_decay": N_("weight decay")}  # the loss chart's markers


def live_change(trainer: Trainer, network, training) -> bool:
    """Only η, momentum, batch size or weight decay differ from the run's settings: they apply at the next step."""
    built_network, built_training = st.session_state.get("train_built_from", (None, None))
    if network != built_network or training == built_training or built_training is None:
        return False
    return all(getattr(training, name) == getattr(built_training, name)
               for name in training.__dataclass_fields__ if name not in RETUNABLE)


def retune(trainer: Trainer, network, training) -> None:
    """Apply the new values to the run and remember (first step, new values) for the info box and the loss chart.

    The words are made when shown, so a change of language rewords the earlier retunes too.
    """
    changed = trainer.retune(training)
    st.session_state.train_built_from = (network, training)
    if not changed or trainer.step_count == 0:
        return  # nothing has been trained yet: the run simply starts with these values
    first = trainer.step_count + 1  # the first step taken with the new values
    values = tuple((name, getattr(training, name)) for name in changed)
    st.session_state.setdefault("train_retunes", []).append((first, values))


def retune_text(first: int, values: tuple) -> str:
    """The info box's sentence, e.g. "η is now 0.5 from step 2.", in the session's language."""
    changes = _(", ").join(_(LIVE_CHANGES[name]).format(value=value) for name, value in values)
    if changes[0].isascii():
        changes = changes[0].upper() + changes[1:]
    return _("{changes} from step {step:,}.").format(changes=changes, step=first)


def retune_label(values: tuple) -> str:
    """The loss chart marker's label, e.g. "η 0.5"."""
    return _(", ").join(f"{_(LIVE_NAMES[name])} {value:g}" for name, value in values)


def retune_marks() -> tuple[tuple[int, str], ...]:
    """(first step, label) of every change of η, momentum, batch size or weight decay: the loss chart's markers."""
    return tuple((step, retune_label(values)) for step, values in st.session_state.get("train_retunes", []))


def show_readouts(trainer: Trainer) -> None:
    """Step, Epoch, Train loss, Val accuracy, Val loss."""
    now = readouts(trainer)
    cols = st.columns(5)
    cols[0].metric(_("Step"), f"{now.step:,}")
    cols[1].metric(_("Epoch"), f"{now.epoch:.1f} / {now.epochs}")
    cols[2].metric(_("Train loss"), format_loss(now.train_loss),
                   help=_("Mean mini-batch loss over the last 20 steps"))
    if trainer.network.regression:
        cols[3].metric(_("Val accuracy"), _("n/a"), help=_("Regression has no accuracy: watch the validation loss"))
    else:
        cols[3].metric(_("Val accuracy"), "—" if now.val_acc is None else f"{now.val_acc:.1%}",
                       help=_("Measured at the end of every epoch on the validation set"))
    cols[4].metric(_("Val loss"), format_loss(now.val_loss))


def status_banner(trainer: Trainer) -> None:
    if trainer.status == "diverged":
        st.error(_("**Training stopped.** {advice} Then press Reset: the charts keep this run's history until you "
                   "do.").format(advice=ending_message(trainer.ending)), icon=":material/error:")
    elif trainer.status == "done":
        st.success(_("Done: {summary}. Press Reset to train again, or raise the epochs and Start.").format(
                   summary=ending_message(trainer.ending)),
                   icon=":material/check_circle:")


def predictions_view(trainer: Trainer) -> None:
    """Decision boundary (2-D), fitted curve (regression) or a gallery of validation digits."""
    shown = predictions(trainer)
    if isinstance(shown, RegressionFit):
        st.plotly_chart(figs.regression_fit(shown), key="train_fig_fit", theme=None)
    elif isinstance(shown, Boundary):
        st.plotly_chart(figs.decision_boundary(shown), key="train_fig_boundary", theme=None)
    elif isinstance(shown, Gallery):
        st.plotly_chart(figs.digit_gallery(shown), key="train_fig_gallery", theme=None)
    else:
        st.info(_("No picture for this dataset."))


LINES_KEYS = {"delta_mean_abs": "train_fig_delta_lines", "grad_norm": "train_fig_grad",
              "update_ratio": "train_fig_ratio"}  # the Plotly charts' keys


def lines_chart(place, history: dict, field: str, title: str, y_title: str, live_view: bool,
                half: bool = False) -> None:
    """One line per layer: a light picture while training (ui.live_charts), else Plotly's chart to hover over.

    half: the chart is in one of two columns (the picture's text is sized for its width).
    """
    if live_view:
        width = live.FULL_WIDTH // 2 if half else live.FULL_WIDTH
        place.markdown(live.per_layer_lines(history, field, title, y_title, width), unsafe_allow_html=True)
    else:
        place.plotly_chart(figs.per_layer_lines(history, field, title, y_title), key=LINES_KEYS[field], theme=None)


def detail_view(trainer: Trainer, history: dict, view: str, live_view: bool) -> None:
    n_layers = len(trainer.network.widths)
    names = [figs.layer_name(l, n_layers) for l in range(1, n_layers + 1)]
    if view == "δ per layer":
        lines_chart(st, history, "delta_mean_abs", _("Mean |δ<sup>l</sup>| per layer"), _("mean |δ|"), live_view)
        st.caption(_("Vanishing gradients: the first layers' lines sink far below the output's. Exploding: "
                     "they climb above it. BP2, δ<sup>l</sup> = ((W<sup>l+1</sup>)<sup>T</sup>δ<sup>l+1</sup>) ⊙ "
                     "σ'(z<sup>l</sup>), multiplies by a weight and a slope at every layer."), unsafe_allow_html=True)
    elif view == "Gradients":
        left, right = st.columns(2)
        lines_chart(left, history, "grad_norm", _("‖∂C/∂W<sup>l</sup>‖ per layer"), _("gradient norm"),
                    live_view, half=True)
        lines_chart(right, history, "update_ratio", _("Update / weight ratio ‖ΔW‖/‖W‖"), _("ratio"), live_view,
                    half=True)
        st.caption(_("A healthy update/weight ratio is around 10⁻³: much smaller and the layer is not learning, "
                     "much larger and the steps are too big. ‖ΔW‖ is measured every {every}th step (it moves "
                     "slowly), hence the steps in the line; everything else is measured every step.").format(
                         every=RATIO_EVERY))
    elif view == "Activations":
        left, right = st.columns([2, 1])
        left.plotly_chart(figs.distributions(activation_values(trainer), _("Activations a<sup>l</sup> "
                                             "(256 validation samples)"), "a", names), key="train_fig_acts", theme=None)
        activations = list(trainer.network.activations) + [trainer.network.output_activation]
        right.plotly_chart(figs.saturation_bars(latest_saturation(history, n_layers), names, activations),
                           key="train_fig_sat", theme=None)
    elif view == "Weights":
        st.plotly_chart(figs.distributions(weight_values(trainer), _("Weights W<sup>l</sup>"), "w", names),
                        key="train_fig_weights", theme=None)
    else:
        predictions_view(trainer)


def tick_seconds(training_now: int) -> float:
    """How often the live panel redraws: about three times a second alone, every CLASS_TICK_SECONDS in a class.

    Each redraw costs every student's browser a render of the page's whole tree (React, bench/browser_cost.py),
    and in a classroom bench eight browsers share one core: a class redraws less often.
    """
    return TICK_SECONDS if training_now <= 1 else CLASS_TICK_SECONDS


def train_slice(trainer: Trainer) -> None:
    """Train for this session's CPU budget since its last slice (ui.compute), in CHUNK_SECONDS pieces.

    CPU time, not wall time: with a classroom on the server, the other sessions' threads take the GIL for
    most of the wall clock, and a wall budget gave each student less the more students there were. The rate is
    TRAIN_BUDGET per TICK_SECONDS for a student alone, else an equal part of the worker's training share, so a
    class leaves the core room for clicks and charts. Before each chunk, training waits while another session's
    click is being answered; after it, if this session's own Pause, Step or Reset is waiting (click_waiting), a
    placeholder is touched: that is Streamlit's yield point, where the run stops at once instead of after the
    whole slice and the charts.
    """
    yield_point = st.empty()
    token, training_now = session_token(), training_slots().busy()
    now = time.monotonic()
    elapsed = now - st.session_state.get("train_last_slice", now - tick_seconds(training_now))
    st.session_state.train_last_slice = now
    budget = training_debt(st.session_state.get("train_owed", 0.0), TRAIN_BUDGET / TICK_SECONDS, elapsed,
                           training_now)
    cpu_start, wall_start = time.thread_time(), time.perf_counter()
    try:
        while not trainer.finished:
            INTERACTIVE.wait_turn(token)
            trainer.run_for(min(CHUNK_SECONDS, budget))
            if click_waiting():
                yield_point.empty()  # raises here, between two chunks, when a button outside this panel was clicked
                break  # a button of this panel: Streamlit runs the panel again for it once this run ends
            if (time.thread_time() - cpu_start >= budget
                    or time.perf_counter() - wall_start >= MAX_SLICE_SECONDS):
                break
    finally:  # also when a click stops the run: what was not trained is owed to the next slice
        st.session_state.train_owed = budget - (time.thread_time() - cpu_start)


def buttons_row(running: bool, note: tuple[str, str] | None) -> None:
    """Start, Pause, Step, Reset, and beside them why the settings or the run changed (note: text, icon)."""
    buttons = st.columns([1, 1, 1, 1, 3])
    buttons[0].button(_("Start"), key="train_start", type="primary", on_click=on_start, disabled=running,
                      icon=":material/play_arrow:", width="stretch")
    buttons[1].button(_("Pause"), key="train_pause", on_click=on_pause, disabled=not running,
                      icon=":material/pause:", width="stretch")
    buttons[2].button(_("Step"), key="train_step", on_click=on_step, disabled=running,
                      help=_("Train on one mini-batch"), icon=":material/skip_next:", width="stretch")
    buttons[3].button(_("Reset"), key="train_reset", on_click=on_reset, icon=":material/restart_alt:",
                      width="stretch", help=_("A new network with the current settings; the old run is dropped"))
    if note:
        text, icon = note
        buttons[4].info(text, icon=icon)
    if st.session_state.pop("train_busy", False):
        st.warning(busy_message(), icon=":material/hourglass_top:")


def live_panel(note: tuple[str, str] | None) -> None:
    """The buttons, the banner, the readouts and the charts, and one slice of training: every tick while training.

    A click on a button reruns only this panel (a fragment). Pause is done there; Start, Step and Reset, and the
    first tick after a Pause, run the whole page (train_whole_page, train_ticking).

    The charts are drawn before the slice, from the history so far: Streamlit sends them at once, so they reach
    the browser a steady tick apart however long the slice takes (up to MAX_SLICE_SECONDS on a busy server).
    The banner and readouts, above them, are drawn after it.
    """
    if st.session_state.pop("train_whole_page", False):
        st.rerun()
    running = st.session_state.train_running
    if not running and st.session_state.get("train_ticking") and not st.session_state.pop("train_just_paused", False):
        st.rerun()  # the tick after a Pause: the whole page, without the timer
    trainer = st.session_state.get("train_trainer")
    buttons_row(running, note)
    if trainer is None:
        return
    readouts = st.container()
    live_charts(trainer)
    if running:
        if not training_slots().acquire(session_token()):  # the slot expired while this tab slept
            st.session_state.train_running, st.session_state.train_busy = False, True
            st.rerun()
        train_slice(trainer)
        if trainer.finished:
            stop()
            st.rerun()  # the whole page, so the buttons show the run has stopped
    with readouts:
        status_banner(trainer)
        show_readouts(trainer)


def live_charts(trainer: Trainer) -> None:
    """The loss and δ charts and the detail view, in the live panel: one redraw of the page a tick, not two."""
    _ = translator()  # choices' labels keep this run's language
    history = thinned(trainer.history.as_dict())
    # while training, light pictures of the charts (a classroom's browsers redraw them every 1-2 s); paused,
    # Plotly's charts, to hover over and zoom into
    live_view = st.session_state.train_running
    loss, delta = st.columns([1.6, 1])  # side by side: both on a 1280x720 projector's first screen, with the buttons
    if live_view:
        loss.markdown(live.loss_accuracy(history, trainer.history.epochs, trainer.network.regression, retune_marks()),
                      unsafe_allow_html=True)
        delta.markdown(live.delta_heatmap(history), unsafe_allow_html=True)
        st.caption(_("Live view: pause to hover over the charts for their values and to zoom in."))
    else:
        loss.plotly_chart(figs.loss_accuracy(history, trainer.history.epochs, trainer.network.regression,
                                             retune_marks()), key="train_fig_loss", theme=None)
        delta.plotly_chart(figs.delta_heatmap(history), key="train_fig_delta", theme=None)
    st.session_state.setdefault("train_view", VIEWS[0])  # not default=: the view may come back from remember_settings
    view = st.segmented_control(_("Show"), VIEWS, key="train_view", format_func=_)
    remember_settings()  # a view picked in this fragment's own run is kept too
    detail_view(trainer, history, view or VIEWS[0], live_view)


def load_upload(uploaded) -> None:
    """A checkpoint uploaded here becomes the Draw and Backprop pages' model, or one clear message says why not."""
    try:
        model, payload = from_bytes(uploaded.getvalue(), max_bytes=20_000_000)
    except CheckpointError as exc:
        st.error(_("Could not load {file}: {reason}").format(file=plain(uploaded.name), reason=plain(exc)))
    else:
        set_active_model(model, _("uploaded {file}").format(file=uploaded.name))
        st.success(_("Loaded {file}: {network}. The Draw and Backprop pages now use it.").format(
            file=plain(uploaded.name), network=model.spec.describe()))


# --- the settings ----------------------------------------------------------------------------------
st.session_state.setdefault("train_running", False)
link_problem = init_state()

# less empty margin around the page: on a 1280x720 projector the buttons, readouts, loss and δ charts fit one screen.
# No fading: Streamlit fades what a run is about to redraw, and the live panel redraws every tick; that fade
# animated all the time, a third of the page's cost to its browser (bench/browser_cost.py).
st.html("<style>[data-testid='stMainBlockContainer'] {padding: 2.5rem 2rem 6rem} "
        "[data-testid='stElementContainer'] {transition: none !important; opacity: 1 !important}</style>")
st.title(_("Train a network and watch it learn"))
st.caption(_("Pick a preset or your own network in the sidebar, press **Start**, and watch the loss fall, "
             "the accuracy rise and the error signal δ<sup>l</sup> = ∂C/∂z<sup>l</sup> flow back through every "
             "layer."), unsafe_allow_html=True)
if link_problem:
    st.warning(plain(link_problem))
if st.session_state.pop("train_freed", False):
    st.info(_("This tab was away for more than {seconds:.0f} seconds, so the server gave its run back to the class. "
              "Your settings are kept: press Start to train again.").format(seconds=CLOSED_TAB_SECONDS),
            icon=":material/info:")

network, training, problem = controls()
if problem:
    stop()  # a run never outlives its settings: free the training slot
    st.error(plain(problem))
    st.stop()

# --- the run, and the note beside the buttons ------------------------------------------------------
trainer = st.session_state.get("train_trainer")
if trainer is not None and live_change(trainer, network, training):
    retune(trainer, network, training)
settings_changed = trainer is not None and st.session_state.get("train_built_from") != (network, training)
if settings_changed and trainer.step_count == 0:
    stop()
    st.session_state.train_trainer = trainer = None  # nothing to lose: follow the new settings
running = st.session_state.train_running
if settings_changed and trainer is not None:
    note = (_("Settings changed: press **Reset** to train a new network with them."), ":material/info:")
elif st.session_state.get("train_retunes") and trainer is not None:
    note = (retune_text(*st.session_state.train_retunes[-1]), ":material/tune:")
else:
    note = None

if running or st.session_state.pop("train_step_once", False):
    trainer = trainer_for_settings(network, training)
    if trainer is not None and not running:
        trainer.step(1)
if trainer is None:
    trainer = trainer_for_settings(network, training)
if trainer is None:  # its data could not be loaded (the message is above): the buttons, to try again
    buttons_row(False, note)
    st.stop()

# --- the live panel --------------------------------------------------------------------------------
# small, one line: the readouts and charts move up into a projector's first screen
st.markdown(":small[" + _("**{network}** on **{dataset}** — {description} ({train:,} training, {val:,} validation "
                          "samples)").format(network=trainer.network.describe(), dataset=plain(trainer.data.name),
                                             description=plain(_(trainer.data.description)),
                                             train=len(trainer.x_train), val=len(trainer.x_val)) + "]")
# this whole run draws the page: what the buttons' panel runs asked of it is done, and the timer is as set here
st.session_state.pop("train_whole_page", None)
st.session_state.pop("train_just_paused", None)
st.session_state.train_ticking = running
# with a classroom training at once, redraw less often: the server's cores go to training, the browsers' to the others
training_now = training_slots().busy()
st.fragment(live_panel, run_every=tick_seconds(training_now) if running else None)(note)

# --- keep what you trained -------------------------------------------------------------------------
st.divider()
st.subheader(_("Keep what you trained"))
left, middle, right = st.columns(3)
left.button(_("Use this model on the Draw page"), key="train_use_model", icon=":material/draw:",
            on_click=use_trained_model, disabled=trainer.data.image_shape != (28, 28) or trainer.step_count == 0,
            help=_("Only networks trained on 28x28 digits can read drawings"))
last_epoch = trainer.history.epochs[-1] if trainer.history.epochs else None
middle.download_button(_("Download the model (.pt)"), key="train_download_model", file_name="model.pt",
                       data=lambda: to_bytes(trainer.model, train=trainer.training.to_dict(), metrics=last_epoch),
                       mime="application/octet-stream", icon=":material/download:")
right.download_button(_("Download the history (.csv)"), key="train_download_csv", file_name="history.csv",
                      data=lambda: trainer.history.to_csv(), mime="text/csv", icon=":material/table:")
lesson_link_builder(to_params(network, training))
uploaded = st.file_uploader(_("Load a model saved from this app"), type=["pt"], key="train_upload",
                            help=_("Checkpoints are validated and never run code"))
uploader_notes("train_upload", "PT")
if uploaded is not None and st.session_state.get("train_uploaded_id") != uploaded.file_id:
    st.session_state.train_uploaded_id = uploaded.file_id  # load each upload once, not on every rerun
    with messages_about("train_upload"):
        load_upload(uploaded)
remember_settings()  # the link builder's choices too
capacity_section(network, training)  # underfitting, overfitting and K-fold cross-validation (ui/capacity_panel.py)
