"""Train: build a network, press Start, and watch it learn, with the error δ of every layer, live."""
import copy

import streamlit as st

from engine.nn.checkpoint import CheckpointError, from_bytes, to_bytes
from engine.nn.model import count_parameters
from engine.nn.spec import SpecError, to_params
from engine.views.train import RunView, view
from engine.views.words import ending_message, format_loss, training_warning
from ui import live_charts as live
from ui import train_figs as figs
from ui.bootstrap import require_app_frame
from ui.capacity_panel import capacity_section
from ui.class_send import send_panel
from ui.classroom import CLOSED_TAB_SECONDS, busy_message, lesson_link_builder
from ui.fragments import full_run, in_own_slot
from ui.i18n import _
from ui.lesson_measures import measured
from ui.plain_text import plain
from ui.state import set_active_model
from ui.theme import CHART_CONFIG
from ui.train_controls import controls, init_state, remember_settings, view_choice
from ui.train_run import TrainRun
from ui.train_views import detail_view
from ui.uploads import messages_about, uploader_notes

require_app_frame()

SHOW_JUDGEMENT = {"vanishing": "warning"}  # the alert per kind of training judgement, as the Gradients page's verdicts


def use_trained_model() -> None:
    """A copy of the network as it is now becomes the Draw and Backprop pages' model (before the sidebar draws)."""
    trainer = TrainRun.of().trainer
    set_active_model(copy.deepcopy(trainer.model),
                     _("trained on the Train page ({steps} steps)").format(steps=trainer.step_count))
    st.toast(_("The Draw and Backprop pages now use this model."))


def show_readouts(shown: RunView, regression: bool) -> None:
    """Step, Epoch, Train loss, Val accuracy, Val loss: at the charts' last step."""
    now = shown.readouts
    last = shown.epochs[-1] if shown.epochs else {}
    val_losses = [e["val_loss"] for e in shown.epochs if e.get("val_loss") is not None]
    for name, value in (("step", now.step), ("epoch", now.epoch), ("train_loss", now.train_loss),
                        ("val_acc", now.val_acc), ("val_loss", now.val_loss), ("train_acc", last.get("train_acc")),
                        ("best_val_loss", min(val_losses) if val_losses else None)):
        measured(f"train.{name}", value)  # a lesson's reveal quotes them (ui/lesson_measures.py)
    cols = st.columns(5)
    cols[0].metric(_("Step"), f"{now.step:,}")
    cols[1].metric(_("Epoch"), f"{now.epoch:.1f} / {now.epochs}")
    cols[2].metric(_("Train loss"), format_loss(now.train_loss),
                   help=_("Mean mini-batch loss over the last 20 steps"))
    if regression:
        cols[3].metric(_("Val accuracy"), _("n/a"), help=_("Regression has no accuracy: watch the validation loss"))
    else:
        cols[3].metric(_("Val accuracy"), "—" if now.val_acc is None else f"{now.val_acc:.1%}",
                       help=_("Measured at the end of every epoch on the validation set"))
    cols[4].metric(_("Val loss"), format_loss(now.val_loss))


def status_banner(shown: RunView) -> None:
    if shown.status == "diverged":
        st.error(_("**Training stopped.** {advice} Then press Reset: the charts keep this run's history until you "
                   "do.").format(advice=ending_message(shown.ending)), icon=":material/error:")
    elif shown.status == "done":
        st.success(_("Done: {summary}. Press Reset to train again, or raise the epochs and Start.").format(
                   summary=ending_message(shown.ending)),
                   icon=":material/check_circle:")


def training_judgement(shown: RunView) -> None:
    """While the run's loss sits at chance and δ¹ ≪ δ^(L-1) (engine.views.train.judge): a warning that says so."""
    judged = shown.judgement
    if judged is not None and judged.kind is not None:
        getattr(st, SHOW_JUDGEMENT[judged.kind])(training_warning(judged), icon=":material/trending_flat:")


def buttons_row(run: TrainRun, note: tuple[str, str] | None) -> None:
    """Start, Pause, Step, Reset, and beside them why the settings or the run changed (note: text, icon)."""
    buttons = st.columns([1, 1, 1.4, 1, 2.6])  # "Step once" whole at 1280 px beside the sidebar
    buttons[0].button(_("Start"), key="train_start", type="primary", on_click=run.start, disabled=run.running,
                      icon=":material/play_arrow:", width="stretch")
    buttons[1].button(_("Pause"), key="train_pause", on_click=run.pause, disabled=not run.running,
                      icon=":material/pause:", width="stretch")
    buttons[2].button(_("Step once"), key="train_step", on_click=run.step, disabled=run.running,
                      help=_("Train on one mini-batch"), icon=":material/skip_next:", width="stretch")
    buttons[3].button(_("Reset"), key="train_reset", on_click=run.reset, icon=":material/restart_alt:",
                      width="stretch", help=_("A new network with the current settings; the old run is dropped"))
    if note:
        text, icon = note
        buttons[4].info(text, icon=icon)
    if run.was_busy():
        st.warning(busy_message(), icon=":material/hourglass_top:")


def live_panel(note: tuple[str, str] | None) -> None:
    """The buttons, the readouts and the charts of one view of the run, then one slice of training: every tick."""
    run = TrainRun.of()
    if run.hands_over():  # a fragment: a click on Pause reruns only it; Start, Step and Reset the whole page
        st.rerun()
    buttons_row(run, note)
    if run.trainer is None:
        return
    shown = view(run.trainer)  # one copy of the history a tick: the readouts and the charts cannot disagree
    status_banner(shown)
    show_readouts(shown, run.trainer.network.regression)
    training_judgement(shown)
    live_charts(run, shown)  # before the slice: Streamlit sends them at once, a steady tick apart however long it takes
    if run.running and not run.slice():
        if full_run():
            run.say_again()  # its notes (the run taken up again after a tab was away) would be gone unseen
        st.rerun()  # the whole page, so the buttons, the banner and the readouts show the run has stopped


def live_charts(run: TrainRun, shown: RunView) -> None:
    """The loss and δ charts and the detail view, in the live panel: one redraw of the page a tick, not two."""
    trainer, live_view = run.trainer, run.running  # while training, light pictures; paused, Plotly's charts
    history, epochs = shown.history, list(shown.epochs)
    loss, delta = st.columns([1.6, 1])  # side by side: both on a 1280x720 projector's first screen, with the buttons
    if live_view:
        loss.markdown(live.loss_accuracy(history, epochs, trainer.network.regression, run.marks()),
                      unsafe_allow_html=True)
        delta.markdown(live.delta_heatmap(history), unsafe_allow_html=True)
        st.caption(_("Live view: pause to hover over the charts for their values and to zoom in."))
    else:
        loss.plotly_chart(figs.loss_accuracy(history, epochs, trainer.network.regression, run.marks()),
                          key="train_fig_loss", theme=None, config=CHART_CONFIG)
        delta.plotly_chart(figs.delta_heatmap(history), key="train_fig_delta", theme=None, config=CHART_CONFIG)
    detail_view(trainer, shown, view_choice(), live_view)


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
run = TrainRun.of()
link_problem = init_state()

# less empty margin around the page: on a 1280x720 projector the buttons, readouts, loss and δ charts fit one screen.
# No fading: Streamlit fades what a run is about to redraw, and the live panel redraws every tick; that fade
# animated all the time, a third of the page's cost to its browser (bench/browser_cost.py).
st.html("<style>[data-testid='stMainBlockContainer'] {padding: 2.5rem 2rem 6rem} "
        "[data-testid='stElementContainer'] {transition: none !important; opacity: 1 !important}</style>")
st.title(_("Train a network and watch it learn"))
live.chart_tools()  # full screen and PNG/SVG downloads for the pictures drawn while training
st.caption(_("Pick a preset or your own network in the sidebar, press **Start**, and watch the loss fall, "
             "the accuracy rise and the error signal δ<sup>l</sup> = ∂C/∂z<sup>l</sup> flow back through every "
             "layer."), unsafe_allow_html=True)
if link_problem:
    st.warning(plain(link_problem))
run.resume()  # a reload, another worker after a crash, or this tab back after its run was given back (run.free)
freed = run.was_freed()
if resumed := run.was_resumed(away=freed):
    st.info(resumed, icon=":material/restore:")
if run.was_lost():
    st.warning(_("Your earlier run could not be restored from its snapshot, so a new one starts from your settings."),
               icon=":material/history_toggle_off:")
if freed and not resumed:  # no snapshot to take up (a run too big for the store): a new run
    st.info(_("This tab was away for more than {seconds:.0f} seconds, so the server gave its run back to the class. "
              "Your settings are kept: press Start to train again.").format(seconds=CLOSED_TAB_SECONDS),
            icon=":material/info:")

try:
    network, training = controls()
except SpecError as problem:
    run.stop()  # a run never outlives its settings: free the training slot
    st.error(plain(problem))
    st.stop()

# --- the run, and the note beside the buttons ------------------------------------------------------
if run.sync(network, training):  # η, μ, batch size and weight decay are taken live; anything else waits for Reset
    note = (_("Settings changed: press **Reset** to train a new network with them."), ":material/info:")
elif retuned := run.last_retune():
    note = (retuned, ":material/tune:")
else:
    note = None
trainer = run.ready(network, training)
if trainer is None:  # its data could not be loaded (the message is above): the buttons, to try again
    buttons_row(run, note)
    st.stop()
if unsaved := run.was_unsaved():
    st.warning(unsaved, icon=":material/cloud_off:")
measured("train.parameters", count_parameters(trainer.model))  # a lesson's reveal quotes it

# --- the live panel --------------------------------------------------------------------------------
# small, one line: the readouts and charts move up into a projector's first screen
st.markdown(":small[" + _("**{network}** on **{dataset}** — {description} ({train:,} training, {val:,} validation "
                          "samples)").format(network=trainer.network.describe(), dataset=plain(trainer.data.name),
                                             description=plain(_(trainer.data.description)),
                                             train=len(trainer.x_train), val=len(trainer.x_val)) + "]")
in_own_slot(st.fragment(live_panel, run_every=run.timer()), note)  # while training, a class's pages redraw less often
send_panel("train", trainer=trainer, network=network, training=training)  # in a class: Send to class

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
                      data=lambda: trainer.history.to_csv(), mime="text/csv", icon=":material/table:",
                      help=_("One row per stretch of steps, from step_first to step_last (steps says how many), with "
                             "the mean, min and max of every value over it. A short run has one row per step; a long "
                             "one keeps at most {rows:,} rows, each covering more steps, so no part of the run is "
                             "dropped.").format(rows=trainer.history.max_points))
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
