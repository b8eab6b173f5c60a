"""The Gradients page's settings: defaults, a link's settings (a lesson or a class variant) with lock= and hide=,
and the settings in the links' vocabulary for Send to class.

A link names one network in engine.nn.spec.URL_KEYS ("layers", "act", "init", "loss", "ds", "bs", "seed", "opt",
"lr") plus "k", the training steps after which δ is profiled again (classroom.templates.PAGE_KEYS). It sets
configuration A; lock= and hide= take the Train page's control names (ui.classroom.LESSON_CONTROLS).
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from engine.nn.spec import DATASET_NAMES, URL_KEYS, NetworkSpec, SpecError, TrainSpec, clamp_params, from_params, \
    to_params
from engine.views.gradients import MAX_TRAIN_STEPS
from ui.classroom import ALL_CONTROLS, LESSON_CONTROLS
from ui.i18n import _

WIDTHS = (4, 8, 16, 30, 32, 64, 128, 256, 512)  # 30: Nielsen's networks
BATCHES = (16, 32, 64, 128, 256, 512, 1024)
MAX_DEPTH = 50
MAX_STEPS_SHOWN = 500  # the k slider's end, unless a link asks for more
OPTIMIZERS = ("sgd", "adam")
PAGE_KEYS = ("k",)  # what this page reads beyond URL_KEYS (classroom.templates.PAGE_KEYS["gradients"])
DEFAULTS = {"grad_depth": 30, "grad_width": 32, "grad_act_a": "sigmoid", "grad_init_a": "normal",
            "grad_compare": True, "grad_act_b": "relu", "grad_init_b": "he", "grad_loss": "ce",
            "grad_dataset": DATASET_NAMES[0], "grad_batch": 256, "grad_seed": 0,
            "grad_steps": 0, "grad_optimizer": "sgd", "grad_lr": 0.03}
CONTROL = {"grad_depth": "layers", "grad_width": "layers", "grad_act_a": "layers", "grad_init_a": "init",
           "grad_loss": "loss", "grad_dataset": "data", "grad_batch": "bs", "grad_seed": "seed",
           "grad_optimizer": "opt", "grad_lr": "lr",
           "grad_steps": "ep"}  # widget -> the lock=/hide= name that fixes it (k, how long it trains: as epochs)
LINK = "grad_link"  # session state: the Link last applied


@dataclass(frozen=True)
class Link:
    """A link's settings as the page's widget values, and which controls it locked or hid."""

    query: tuple  # the link's own parameters, sorted: a new link is applied once
    values: dict  # widget key -> value
    locked: frozenset  # control names (LESSON_CONTROLS): shown greyed out
    hidden: frozenset  # control names: not shown, the link's value kept

    def fixes(self, key: str) -> str | None:
        """ "hidden", "locked" or None for a widget key (a compare switch is locked with the layers)."""
        name = "layers" if key == "grad_compare" else CONTROL.get(key)
        return "hidden" if name in self.hidden else "locked" if name in self.locked else None


NO_LINK = Link((), {}, frozenset(), frozenset())


def _rules(params: dict) -> tuple[frozenset, frozenset]:
    def names(key: str) -> frozenset:
        raw = str(params.get(key, "")).strip()
        if raw == ALL_CONTROLS:  # a class variant: every setting fixed
            return frozenset(LESSON_CONTROLS)
        return frozenset(n.strip() for n in raw.split(",") if n.strip() in LESSON_CONTROLS)

    hidden = names("hide")
    return names("lock") | hidden, hidden


def link_values(params: dict) -> tuple[dict, list[str]]:
    """Widget values from a link's settings, and a note per setting changed to fit the page; SpecError if bad."""
    params, notes = clamp_params({k: v for k, v in params.items() if k in URL_KEYS})
    base_network = NetworkSpec(hidden=(DEFAULTS["grad_width"],) * DEFAULTS["grad_depth"],
                               activations=DEFAULTS["grad_act_a"], init=DEFAULTS["grad_init_a"], loss="ce")
    base_training = TrainSpec(dataset=DEFAULTS["grad_dataset"], batch_size=DEFAULTS["grad_batch"], seed=0,
                              optimizer="sgd", lr=DEFAULTS["grad_lr"])
    network, training = from_params(params, base_network, base_training)
    hidden = network.hidden or (DEFAULTS["grad_width"],)
    if not network.hidden:
        notes.append(_("this page needs at least one hidden layer: using 1"))
    if len(set(hidden)) > 1:
        notes.append(_("this page gives every hidden layer the same width: using {width}").format(width=hidden[0]))
    if len(set(network.activations)) > 1:
        notes.append(_("this page gives every hidden layer the same activation: using {name}").format(
            name=network.activations[0]))
    if len(hidden) > MAX_DEPTH:
        notes.append(_("at most {most} hidden layers here: using {most}").format(most=MAX_DEPTH))
    dataset = training.dataset
    if dataset not in DATASET_NAMES:
        notes.append(_("{dataset} cannot be profiled here: using {used}").format(dataset=dataset,
                                                                                used=DEFAULTS["grad_dataset"]))
        dataset = DEFAULTS["grad_dataset"]
    optimizer = training.optimizer
    if optimizer not in OPTIMIZERS:
        notes.append(_("this page trains with sgd or adam: using sgd"))
        optimizer = "sgd"
    values = {"grad_depth": min(len(hidden), MAX_DEPTH), "grad_width": hidden[0],
              "grad_act_a": (network.activations or (DEFAULTS["grad_act_a"],))[0], "grad_init_a": network.init,
              "grad_loss": network.loss, "grad_dataset": dataset, "grad_batch": training.batch_size,
              "grad_seed": training.seed, "grad_optimizer": optimizer, "grad_lr": training.lr,
              "grad_compare": False}  # a link names one configuration
    return values, notes


def _steps(raw) -> tuple[int | None, list[str]]:
    """The link's k as training steps, or None and a note."""
    text = str(raw).strip()
    if not text.isdigit():
        return None, [_("k={value} is not a number of training steps: ignored").format(value=text[:20])]
    steps = int(text)
    if steps > MAX_TRAIN_STEPS:
        return MAX_TRAIN_STEPS, [_("k={value} is more than {most} steps: using {most}").format(
            value=steps, most=MAX_TRAIN_STEPS)]
    return steps, []


def read_link() -> str | None:
    """Put a new link's settings into the widgets (once per link; kept when the page is opened again without one).

    Call before the widgets draw. Returns what a bad or adjusted link is told, if anything."""
    state = st.session_state
    params = {k: str(v) for k, v in st.query_params.items()}
    query = tuple(sorted((k, v) for k, v in params.items() if k in URL_KEYS or k in PAGE_KEYS
                         or k in ("lock", "hide")))
    held = state.get(LINK, NO_LINK)
    told = None
    if any(k in URL_KEYS or k in PAGE_KEYS for k, _v in query) and query != held.query:
        try:
            values, notes = link_values(params)
        except SpecError as exc:
            values, notes = {}, []
            told = _("This link's settings could not be used ({reason}); showing the default settings "
                     "instead.").format(reason=exc)
        if "k" in params:
            steps, more = _steps(params["k"])
            notes += more
            if steps is not None:
                values["grad_steps"] = steps
        locked, hidden = _rules(params)
        held = Link(query, values, locked, hidden)
        state[LINK] = held
        for key, value in values.items():
            state[key] = value
        if notes and told is None:
            told = _("This link's settings were changed to fit the page: {changes}.").format(
                changes=_("; ").join(notes))
    for key, value in (DEFAULTS | held.values).items():
        state.setdefault(key, value)  # Streamlit drops a widget's value while another page runs
    return told


def link() -> Link:
    """The link applied last (NO_LINK if none)."""
    return st.session_state.get(LINK, NO_LINK)


def widget(key: str, draw):
    """Draw a widget (draw(disabled) -> value) unless the link hid it, greyed out if it locked it; its value."""
    fixed = link().fixes(key)
    if fixed == "hidden":
        return st.session_state[key]
    return draw(fixed == "locked")


def with_value(options, value) -> list:
    """Options plus a value from a link that is not among them."""
    options = list(options)
    return options if value in options else sorted(options + [value])


def class_settings(network: NetworkSpec, dataset: str, batch: int, seed: int) -> dict[str, str]:
    """Configuration A's settings in the links' vocabulary, with the after-training controls' (for Send to class)."""
    state = st.session_state
    value = lambda key: state.get(key) if state.get(key) is not None else DEFAULTS[key]  # noqa: E731
    # (a segmented control clicked again is deselected: None, which the page reads as its default too)
    training = TrainSpec(dataset=dataset, batch_size=batch, seed=seed, optimizer=value("grad_optimizer"),
                         lr=float(value("grad_lr")))
    return {**to_params(network, training), "k": str(value("grad_steps"))}


__all__ = ["WIDTHS", "BATCHES", "DEFAULTS", "MAX_STEPS_SHOWN", "OPTIMIZERS", "Link", "read_link", "link",
           "widget", "with_value", "class_settings", "link_values"]
