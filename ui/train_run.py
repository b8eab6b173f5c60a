"""The Train page's run: one object in session state, from Start to Reset, with its retunes, its CPU slices and
its snapshots in the class store (engine/train/resume.py; a reload or another worker takes the run up from them)."""
from __future__ import annotations

import enum
import logging
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx  # (no session state in ClosedTabs' thread)

from classroom import Refused
from classroom.tokens import new_secret
from engine.data.datasets import DatasetError, load_dataset
from engine.data.idx import IdxError
from engine.nn.optimizers import DECAY_LABELS
from engine.nn.spec import NetworkSpec, SpecError, TrainSpec, spec_for_dataset
from engine.train.budget import Fit, estimate, session_budget, what_fits
from engine.train.resume import estimated_bytes, restore, snapshot_bytes
from engine.train.trainer import Trainer, retunable_changes
from ui import classroom
from ui.class_session import open_store
from ui.compute import SliceBudget
from ui.i18n import N_, _
from ui.plain_text import plain
from ui.run_links import RUN_PARAM, back_after_away_text, link_token, prune_now, put_in_link, resumed_text

KEY = "train_run"  # the one session-state key the run lives under
TICK_SECONDS = 0.35  # the live panel redraws this often while one student trains alone (about three times a second)
CLASS_TICK_SECONDS = 1.5  # ... and when other sessions train on this worker too (target: charts every 2 s)
TRAIN_BUDGET = 0.2  # seconds of this thread's CPU time spent training per TICK_SECONDS
CHUNK_SECONDS = 0.02  # a slice trains in chunks this long; a click is answered between two chunks
MAX_SLICE_SECONDS = 1.0  # wall-clock cap on a slice, so the readouts still move on a crowded server
# what the info box says when one of them changes during a run: one clause each, joined into one sentence
LIVE_CHANGES = {"lr": N_("η is now {value:g}"), "momentum": N_("momentum μ is now {value:g}"),
                "batch_size": N_("the batch size is now {value:g}"),
                "weight_decay": N_("weight decay is now {value:g}"),
                "decay": N_("the weight decay convention is now {value}")}  # value: the convention's label
LIVE_NAMES = {"lr": "η", "momentum": N_("momentum μ"), "batch_size": N_("batch size"),
              "weight_decay": N_("weight decay"), "decay": N_("weight decay")}  # the loss chart's markers
DECAY_SHORT = {"d2l": "D2L", "nielsen": "Nielsen"}  # a convention on a marker: the book's name
SAVE_EVERY = 10.0  # s of wall time between two snapshots of a training run (issue 26: at most 30 s may be lost)
log = logging.getLogger(__name__)


class Tick(enum.Enum):
    """Where the live panel's timer stands, between the page's runs and the panel's own (a fragment)."""
    STILL = "still"  # the page drew the panel without a timer: not training
    TICKING = "ticking"  # the page drew it with the timer; a tick that finds the run stopped runs the whole page
    PAUSED = "paused"  # Pause was answered in the panel; the timer's next tick runs the whole page, which stops it
    WHOLE_PAGE = "whole page"  # Start, Step or Reset: the panel's run hands over to a run of the whole page


@dataclass(eq=False)
class TrainRun:
    """This session's run on the Train page: its trainer, whether it trains, and what the page owes it."""
    trainer: Trainer | None = None
    running: bool = False
    built_from: tuple[NetworkSpec, TrainSpec] | None = None  # the settings the trainer follows, as the widgets gave
    retunes: list[tuple[int, tuple]] = field(default_factory=list)  # (first step, ((name, value), ...)) per retune
    slices: SliceBudget = field(default_factory=SliceBudget)  # CPU time owed, when the last slice began
    tick: Tick = Tick.STILL
    step_once: bool = False  # Step was pressed: the page's next run trains one mini-batch
    busy: bool = False  # Start found every training slot taken: say so once
    freed: bool = False  # a closed tab's run was given back (ClosedTabs): say so once
    token: str | None = None  # run=<token> in the link: the key of this run's snapshot in the class store
    saved: float | None = None  # time.monotonic() of the last snapshot written
    unsaved: int | None = None  # bytes of a snapshot too big for the store (the run goes on unsaved): say so once
    resumed: tuple[int, float, bool] | None = None  # (step, s since saved, training) of a restored run: say so once
    lost: bool = False  # the link's snapshot could not be restored: say so once
    looked: bool = False  # the link's run= was looked up (once per session)
    class_run: str | None = None  # the run's id on the class board (ui.class_send), kept with its snapshot
    told: dict = field(default_factory=dict)  # the notes said in this run of the page (say_again puts them back)

    @classmethod
    def of(cls, state: MutableMapping | None = None) -> TrainRun:
        """The session's run (st.session_state unless another state is given), made on first use."""
        state = st.session_state if state is None else state
        if state.get(KEY) is None:
            state[KEY] = cls()
        return state[KEY]

    # --- the buttons (callbacks of the live panel's buttons, or of the preset box) ------------------------------
    def start(self) -> None:
        """Train from the next tick on, if the server has a free training slot (a classroom shares its cores)."""
        if classroom.training_slots().acquire(classroom.session_token()):
            self.running = True
            self.slices = SliceBudget()  # the first slice trains one tick's worth, nothing owed from before
        else:
            self.busy = True
        self.tick = Tick.WHOLE_PAGE

    def stop(self) -> None:
        """Stop training and give the training slot back."""
        self.running = False
        classroom.training_slots().release(classroom.session_token())

    def pause(self) -> None:
        """Stop now; the readouts say so in this panel run, and the timer's next tick stops the timer."""
        self.stop()
        self.save(force=True)
        if self.tick is Tick.TICKING:
            self.tick = Tick.PAUSED

    def step(self) -> None:
        """Stop; the page's next run trains one mini-batch."""
        self.stop()
        self.step_once = True
        self.tick = Tick.WHOLE_PAGE

    def reset(self) -> None:
        """Drop the run, its retunes and its snapshot: the page's next run builds a new network from the settings."""
        self.stop()
        self.forget()
        self.trainer, self.retunes = None, []
        self.tick = Tick.WHOLE_PAGE

    def free(self) -> None:
        """A closed tab's run goes back to the class (ClosedTabs calls this from its thread); the settings stay.

        Its snapshot is written first, as it is now (training or not): if the tab comes back, the page's next run
        takes the run up from it where it stopped, training again if it was, and says why (resume). A run with no
        snapshot (too big for the store) starts again from its settings."""
        self.save(force=True)
        self.trainer, self.running, self.retunes, self.freed = None, False, [], True
        self.looked = False  # resume() looks for the snapshot again

    # --- the page's run ---------------------------------------------------------------------------------------
    def sync(self, network: NetworkSpec, training: TrainSpec) -> bool:
        """Follow the sidebar's settings; True when the kept run was built from other settings (Reset follows them)."""
        if self.trainer is None or self.built_from is None:
            return False
        built_network, built_training = self.built_from
        if network == built_network and training != built_training \
                and retunable_changes(built_training, training) is not None:
            self._retune(network, training)  # only η, μ, batch size or weight decay: they apply at the next step
        if self.built_from == (network, training):
            return False
        if self.trainer.step_count == 0:
            self.stop()
            self.forget()
            self.trainer = None  # nothing to lose: follow the new settings
            return False
        return True

    def _retune(self, network: NetworkSpec, training: TrainSpec) -> None:
        """Apply the new values and remember (first step, values) for the info box and the loss chart's markers."""
        changed = self.trainer.retune(training)
        self.built_from = (network, training)
        if changed and self.trainer.step_count > 0:  # before the first step the run simply starts with these values
            self.retunes.append((self.trainer.step_count + 1, tuple((name, getattr(training, name))
                                                                    for name in changed)))

    def ready(self, network: NetworkSpec, training: TrainSpec) -> Trainer | None:
        """The trainer, built on first use, after a pressed Step's mini-batch; None when it cannot be built (said)."""
        if self.trainer is None:
            self.trainer = build_trainer(network, training)
            self.built_from = (network, training)  # the settings as the widgets gave them
            classroom.watch_this_tab(self)  # a closed tab's run is freed (self.free) after CLOSED_TAB_SECONDS
            if self.trainer is not None:
                self.token, self.saved = new_secret(), None  # a new run, a new key: no one else's snapshot
                put_in_link(self.token)
                if estimated_bytes(self.trainer) > open_store().limits.snapshot_bytes:
                    self.unsaved = estimated_bytes(self.trainer)  # said once, on this page run
        if self.step_once and not self.running:
            self.step_once = False
            if self.trainer is not None:
                self.trainer.step(1)
                self.save()
        return self.trainer

    def timer(self) -> float | None:
        """The live panel's run_every for this page run (None: no timer); what the panel's runs asked of it is done."""
        self.tick = Tick.TICKING if self.running else Tick.STILL
        # every redraw costs each browser a render of the page (bench/browser_cost.py): a class redraws less often
        return tick_seconds(classroom.training_slots().busy()) if self.running else None

    # --- the live panel's run ---------------------------------------------------------------------------------
    def hands_over(self) -> bool:
        """True when this panel run should give way to a run of the whole page (after Start, Step, Reset or a Pause)."""
        if self.tick is Tick.PAUSED and not self.running:
            self.tick = Tick.TICKING  # this run answers the Pause; the timer's next tick runs the whole page
            return False
        return self.tick is Tick.WHOLE_PAGE or (self.tick is Tick.TICKING and not self.running)

    def slice(self) -> bool:
        """One tick's training; False when the run stopped instead (its slot expired, or it finished): show it."""
        if not classroom.training_slots().acquire(classroom.session_token()):  # it expired while this tab slept
            self.running, self.busy = False, True
            return False
        self._train_slice()
        if self.trainer.finished:
            self.stop()
            self.save(force=True)
            return False
        self.save()
        return True

    def _train_slice(self) -> None:
        """Train for this session's CPU budget since its last slice (ui.compute), in CHUNK_SECONDS pieces; this
        session's own Pause, Step or Reset ends the slice at once."""
        yield_point = st.empty()  # a button outside the panel was hit: Streamlit stops the run at its .empty()
        token = classroom.session_token()
        training_now = classroom.training_slots().shares(token)  # a student's tabs share one student's part
        budget = self.slices.budget(TRAIN_BUDGET / TICK_SECONDS, tick_seconds(training_now), training_now)
        trainer = self.trainer

        def advance(seconds: float) -> bool:
            trainer.run_for(seconds)
            return trainer.finished

        self.slices.train(advance, budget, token, CHUNK_SECONDS, MAX_SLICE_SECONDS, yield_point.empty)

    # --- its snapshots in the class store (a reload, or another worker after a crash, takes the run up again) ---
    def save(self, force: bool = False, now: float | None = None) -> bool:
        """Write the run's snapshot if SAVE_EVERY has passed since the last (or force: paused, finished, freed).

        True when written. A snapshot over the store's limit is not written: the run goes on, and the page says
        once that a reload would start it again. A store that fails is logged, never the student's problem.
        """
        now = time.monotonic() if now is None else now
        trainer = self.trainer
        if trainer is None or self.token is None or self.unsaved is not None:
            return False
        if not force and self.saved is not None and now - self.saved < SAVE_EVERY:
            return False
        self.saved = now
        store = open_store()
        limit = store.limits.snapshot_bytes
        try:
            if estimated_bytes(trainer) > limit:  # not even serialised: a large run would pay for it every 10 s
                raise Refused("too_big", "snapshot")
            store.put_snapshot(self.token, snapshot_bytes(trainer, self._extra()))
        except Refused:
            self.unsaved = estimated_bytes(trainer)
            return False
        except Exception:  # noqa: BLE001  (the database is away or locked: the run trains on, the next save retries)
            log.exception("could not save the run's snapshot")
            return False
        prune_now(store)
        return True

    def _extra(self) -> dict:
        """What the page keeps beside the engine's run: when, whether it trained, its settings as given, retunes,
        and its id on the class board (a result sent again after a resume replaces the one sent before)."""
        if get_script_run_ctx() is not None:  # not from ClosedTabs' thread: it has no session state
            from ui.class_send import TRAIN_RUN  # (ui.class_send imports the Train page's modules)
            held = st.session_state.get(TRAIN_RUN)
            if held is not None and held[0] is self.trainer:
                self.class_run = held[1]
        network, training = self.built_from
        return {"saved_at": time.time(), "running": self.running, "network": network.to_dict(),
                "training": training.to_dict(), "class_run": self.class_run,
                "retunes": [[first, [[name, value] for name, value in values]] for first, values in self.retunes]}

    def forget(self) -> None:
        """Delete the run's snapshot and its token (Reset, or a new run): nothing can take it up again."""
        if self.token is not None:
            try:
                open_store().delete_snapshot(self.token)
            except Exception:  # noqa: BLE001  (pruned with the old ones later)
                log.exception("could not delete the run's snapshot")
        self.token, self.saved, self.unsaved, self.class_run = None, None, None, None

    def resume(self) -> bool:
        """Once per session: take up the run of the link's `run=` from its snapshot, training again if it was.
        True when a run was restored; a token without a snapshot is no error. Each run of the page calls it first."""
        self.told = {}
        if self.looked or self.trainer is not None:
            return False
        self.looked = True
        token = self.token or link_token()
        if not token:
            return False
        store = open_store()
        try:
            data = store.get_snapshot(token)
        except Exception:  # noqa: BLE001
            log.exception("could not read the run's snapshot")
            return False
        if data is None:  # nothing saved under it (yet): the run built next gets a token of its own
            self.token = None
            return False
        try:
            trainer, extra = restore(data, max_bytes=store.limits.snapshot_bytes)
            built_from = (NetworkSpec.from_dict(extra["network"]), TrainSpec.from_dict(extra["training"]))
            retunes = [(int(first), tuple((str(name), value) for name, value in values))
                       for first, values in extra["retunes"]]
            saved_at, training = float(extra["saved_at"]), bool(extra["running"])
        except Exception as exc:  # noqa: BLE001  (ResumeError, a dataset gone, a damaged extra: a new run, said)
            log.warning("a run snapshot was refused: %s", exc)
            self.token, self.lost = token, True
            self.forget()
            return False
        self.trainer, self.built_from, self.retunes, self.token = trainer, built_from, retunes, token
        self.saved = time.monotonic()
        class_run = extra.get("class_run")
        self.class_run = class_run if isinstance(class_run, str) else None
        if self.class_run is not None and get_script_run_ctx() is not None:
            from ui.class_send import TRAIN_RUN
            st.session_state[TRAIN_RUN] = (trainer, self.class_run)  # the same run on the class board
        self.resumed = (trainer.step_count, max(0.0, time.time() - saved_at), training and not trainer.finished)
        put_in_link(token)
        classroom.watch_this_tab(self)
        if self.resumed[2]:
            self.start()  # as it was: training (or told busy, like any Start)
        return True

    # --- what the page says about it --------------------------------------------------------------------------
    def was_resumed(self, away: bool = False) -> str | None:
        """The sentence for a run just taken up from its snapshot (once), in the session's language; away: this
        session's own run, given back while its tab was away (free)."""
        if self.resumed is None:
            return None
        (step, seconds, training), self.told["resumed"], self.resumed = self.resumed, self.resumed, None
        return back_after_away_text(step, training) if away else resumed_text(step, seconds, training)

    def was_unsaved(self) -> str | None:
        """Once: why this run has no snapshot (too big for the store), so a reload would start it again."""
        if self.unsaved is None or self.unsaved < 0:
            return None
        size, self.unsaved = self.unsaved, -1  # -1: said; still unsaved
        return _("This run is too large to be saved on the server (about {size}; the limit is {limit}), so if this "
                 "page reloads or the server restarts, it starts again from step 0.").format(
            size=size_text(size), limit=size_text(open_store().limits.snapshot_bytes))

    def was_lost(self) -> bool:
        """Whether the link's snapshot could not be restored, since the page last asked."""
        lost, self.lost = self.lost, False
        if lost:
            self.told["lost"] = True
        return lost

    def was_busy(self) -> bool:
        """Whether Start found the server full since the page last asked."""
        busy, self.busy = self.busy, False
        return busy

    def was_freed(self) -> bool:
        """Whether the run went back to the class while the tab was away, since the page last asked."""
        freed, self.freed = self.freed, False
        if freed:
            self.told["freed"] = True
        return freed

    def say_again(self) -> None:
        """The page reruns itself before its browser saw this run (the run stopped in the run's own slice): what
        this run said once (resumed, freed, lost) is said again by the next."""
        for name, value in self.told.items():
            setattr(self, name, value)
        self.told = {}

    def last_retune(self) -> str | None:
        """The info box's sentence about the latest retune, in the session's language; None without one."""
        return retune_text(*self.retunes[-1]) if self.retunes and self.trainer is not None else None

    def marks(self) -> tuple[tuple[int, str], ...]:
        """(first step, label) of every retune: the loss chart's markers."""
        return tuple((first, retune_label(values)) for first, values in self.retunes)


def link_params() -> dict[str, str]:
    """`run=<token>` for the Train page's query, while this session's run has one (never in links for others)."""
    token = TrainRun.of().token
    return {RUN_PARAM: token} if token else {}


def build_trainer(network: NetworkSpec, training: TrainSpec) -> Trainer | None:
    """A new Trainer for these settings, or None with the reason shown (also: more memory than a student may use)."""
    try:
        with st.spinner(_("Loading the data and building the network...")):
            data = load_dataset(training.dataset, train_size=training.train_size, val_fraction=training.val_fraction,
                                noise=training.noise, seed=training.seed)
            too_big = over_budget(spec_for_dataset(network, data.n_inputs, data.n_outputs,
                                                   data.task == "regression", data.image_shape),
                                  training, len(data.x_train))
            if too_big is not None:
                st.error(too_big)
                return None
            return Trainer(network, training, data)
    except (SpecError, DatasetError, IdxError, ValueError) as exc:
        st.error(_("Cannot build this network: {reason}").format(reason=plain(exc)))
        return None


def over_budget(network: NetworkSpec, training: TrainSpec, n_train: int) -> str | None:
    """Why this run may not be built on this server (more than a session's memory), and what fits; None: it fits."""
    budget = session_budget()
    need = estimate(network, training, n_train).total
    if need <= budget:
        return None
    return too_big_text(need, budget, network, min(training.batch_size, n_train),
                        what_fits(network, training, n_train, budget))


def too_big_text(need: int, budget: int, network: NetworkSpec, batch: int, fit: Fit) -> str:
    """The refusal, e.g. "This network needs about 1.9 GB (50 hidden layers of up to 1,024 units, batch 12,000) ..."."""
    depth, widest = len(network.hidden), max(network.hidden, default=0)
    advice = {
        "batch": _("use a batch size of at most {value:,}, or fewer or narrower layers"),
        "width": _("use fewer or narrower layers (at this batch size, {depth} hidden layers of at most {value:,} "
                   "units fit) or a smaller batch"),
        "layers": _("use at most {value} hidden layers of these widths, with a small batch"),
    }.get(fit.kind, _("use fewer or narrower layers or a smaller batch"))
    return _("This network needs about {need} ({depth} hidden layers of up to {width:,} units, batch {batch:,}); "
             "this server allows {budget} per student: {advice}.").format(
        need=size_text(need), depth=depth, width=widest, batch=batch, budget=size_text(budget),
        advice=advice.format(value=fit.value, depth=depth))


def size_text(size: int) -> str:
    """Bytes for a person: "1.9 GB", "500 MB"."""
    if size >= 2**30:
        return _("{gb:.1f} GB").format(gb=size / 2**30)
    return _("{mb:,.0f} MB").format(mb=size / 2**20)


def tick_seconds(training_now: int) -> float:
    """How often the live panel redraws: TICK_SECONDS alone, CLASS_TICK_SECONDS with others training too."""
    return TICK_SECONDS if training_now <= 1 else CLASS_TICK_SECONDS


def retune_text(first: int, values: tuple) -> str:
    """The info box's sentence, e.g. "η is now 0.5 from step 2.", made when shown (a new language rewords it)."""
    changes = _(", ").join(_(LIVE_CHANGES[name]).format(value=_(DECAY_LABELS[value]) if name == "decay" else value)
                           for name, value in values)
    if changes[0].isascii():
        changes = changes[0].upper() + changes[1:]
    return _("{changes} from step {step:,}.").format(changes=changes, step=first)


def retune_label(values: tuple) -> str:
    """The loss chart marker's label, e.g. "η 0.5"."""
    return _(", ").join(f"{_(LIVE_NAMES[name])} {DECAY_SHORT[value] if name == 'decay' else format(value, 'g')}"
                        for name, value in values)
