"""The Train page's controls: widgets <-> NetworkSpec/TrainSpec, presets and the URL."""
from __future__ import annotations

import dataclasses
import re

import streamlit as st

from engine.data.datasets import DATASETS, DatasetError, load_dataset
from engine.nn.model import ACTIVATIONS, INITS, LOSS_LABELS, LOSSES, REGRESSION_LOSS_LABEL
from engine.views.presets import DEFAULT_PRESET, PRESETS
from engine.nn.spec import (DECAY_NAMES, LIMITS, URL_KEYS, OPTIMIZER_NAMES, NetworkSpec, SpecError, TrainSpec,
                         clamp_params, from_params, to_params)
from engine.nn.optimizers import (DECAY_HELP, DECAY_LABELS, OPTIMIZER_LABELS, OPTIMIZER_SHORT, WEIGHT_DECAY_HELP,
                                  learning_rates)
from ui.class_session import link_params as class_params
from ui.classroom import lesson_params, lesson_rules
from ui.i18n import N_, _, translator, url_params
from ui.lesson_walk import walk_params
from ui.train_run import TrainRun
from ui.train_run import link_params as run_params

MAX_LAYERS_IN_UI = LIMITS["depth"][1]  # every depth the engine trains, e.g. a 20-layer sigmoid lesson
# η: the one ladder's 1s and 3s from 1e-4 to 10, and 0.5 (the deep sigmoid preset's η)
LEARNING_RATES = [lr for lr in learning_rates(1e-4, 10.0) if f"{lr:e}"[0] in "13" or lr == 0.5]
BATCH_SIZES = [1, 2, 5, 10, 16, 20, 32, 64, 128, 256, 512, 1024]
FULL_BATCH = 1_000_000  # larger than any training set: one step per epoch
# λ: up to 0.1 nothing shows on the overfitting preset (Adam decays ηλw a step); λ = 3 keeps its validation loss
# near its lowest, 10 already costs accuracy (bench/regularisation.py). Nielsen's λ is n times D2L's for the same
# decay (λ/n a step), hence the top of the range: on 200 training samples D2L's λ = 3 is Nielsen's λ = 600.
WEIGHT_DECAYS = [0.0, 1e-5, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0]
DATASET_LABELS = {name: description for name, (load, description) in DATASETS.items()}  # shown "name: description"
DATASET_LABELS["idx"] = N_("full MNIST from IDX files in a folder")
TWO_D = {"moons", "circles", "xor", "spiral", "regression"}
VIEWS = [N_("δ per layer"), N_("Gradients"), N_("Activations"), N_("Weights"), N_("Predictions")]  # shown with _()
SAVED = "train_saved_settings"  # a copy of the widgets' values in plain session state (see remember_settings)
KEPT = {"train_preset", "train_dataset", "train_idx_folder", "train_use_subset", "train_train_size",
        "train_custom_noise", "train_noise", "train_depth", "train_init", "train_loss", "train_dropout",
        "train_optimizer", "train_momentum", "train_lr", "train_batch", "train_epochs", "train_wd", "train_wdc",
        "train_seed",
        "train_view", "train_link_lock", "train_link_hide"}  # the last three: the page's view, the link builder's
PER_LAYER = re.compile(r"train_(width|act)_\d+")


def _with(options: list, value) -> list:
    """Options plus a value from a preset or link that is not among them."""
    return options if value in options else sorted(options + [value])


def apply(network: NetworkSpec, training: TrainSpec) -> None:
    """Set every widget from specs (a preset or a link); call before the widgets are drawn."""
    state = st.session_state
    if training.dataset.startswith("idx:"):
        state.train_dataset, state.train_idx_folder = "idx", training.dataset[4:]
    else:
        state.train_dataset = training.dataset
    state.train_use_subset = training.train_size is not None
    state.train_train_size = training.train_size or 200
    state.train_noise = training.noise if training.noise is not None else 0.2
    state.train_custom_noise = training.noise is not None
    state.train_depth = min(len(network.hidden), MAX_LAYERS_IN_UI)
    for i, (width, act) in enumerate(zip(network.hidden, network.activations)):
        state[f"train_width_{i}"], state[f"train_act_{i}"] = width, act
    state.train_init, state.train_loss, state.train_dropout = network.init, network.loss, network.dropout
    state.train_optimizer, state.train_lr = training.optimizer, training.lr
    state.train_momentum, state.train_epochs, state.train_seed = training.momentum, training.epochs, training.seed
    state.train_batch = "full" if training.batch_size >= FULL_BATCH else training.batch_size
    state.train_wd, state.train_wdc = training.weight_decay, training.decay


def apply_preset() -> None:
    """on_change of the preset box: load the preset's settings and forget the old run (and its training slot)."""
    if any(lesson_rules()):  # a lesson link fixed some settings: a preset must not change them
        st.session_state.train_preset = None
        return
    preset = PRESETS[st.session_state.train_preset]
    apply(preset.network, preset.training)
    TrainRun.of().reset()


APPLIED = ("train_dataset", "train_depth", "train_init", "train_loss", "train_optimizer", "train_lr", "train_epochs",
           "train_seed", "train_batch", "train_wd")  # what apply() sets, without which a widget shows its first option


def remember_settings() -> None:
    """Copy the widgets' values where Streamlit keeps them: it deletes a widget's state when a page without it runs."""
    state = st.session_state
    state[SAVED] = {key: state[key] for key in list(state.keys()) if key in KEPT or PER_LAYER.fullmatch(key)}


def init_state() -> str | None:
    """Settings before the widgets draw (the session's, the URL's or the preset's); what a bad link was told, if any."""
    state = st.session_state
    if SAVED in state:  # back from another page: put back what Streamlit dropped meanwhile
        for key, value in state[SAVED].items():
            state.setdefault(key, value)
    if all(key in state for key in APPLIED):
        return None
    # a first run, or one whose settings went missing (a first run cut short by a rerun the browser asked for left
    # some keys unset, and the widgets fell to their first options: layers none, η 0.0001, batch 1, 1 epoch)
    st.session_state.setdefault("train_preset", DEFAULT_PRESET)
    preset = PRESETS[DEFAULT_PRESET]
    params = dict(st.query_params)
    if any(key in params for key in URL_KEYS):
        params, changes = clamp_params(params)
        try:
            network, training = from_params(params, preset.network, preset.training)
        except SpecError as exc:
            apply(preset.network, preset.training)
            return _("This link's settings could not be used ({reason}); showing the default settings "
                     "instead.").format(reason=exc)
        training, fewer = _fit_train_size(training)
        apply(network, training)
        st.session_state.train_preset = None
        changes += fewer
        if changes:
            return _("This link's settings were changed to fit the page: {changes}.").format(
                changes=_("; ").join(changes))
        return None
    apply(preset.network, preset.training)
    return None


def _fit_train_size(training: TrainSpec) -> tuple[TrainSpec, list[str]]:
    """A link's training-set size cut to what a built-in dataset holds, with a note; IDX folders are not read here."""
    if training.train_size is None or training.dataset not in DATASETS:
        return training, []
    try:
        available = len(load_dataset(training.dataset, val_fraction=training.val_fraction, noise=training.noise,
                                     seed=training.seed).x_train)  # cached: the page loads it next anyway
    except DatasetError:
        return training, []  # the page says what is wrong when it builds the trainer
    if training.train_size <= available:
        return training, []
    note = _("n={n} is more than the {available} training samples of {dataset}: using {available}").format(
        n=training.train_size, available=available, dataset=training.dataset)
    return dataclasses.replace(training, train_size=available), [note]


def _layers(locked: bool) -> tuple[list[int], list[str]]:
    """Depth, then one width and one activation per hidden layer."""
    _ = translator()  # choices' labels keep this run's language
    depth = st.number_input(_("Hidden layers"), 0, MAX_LAYERS_IN_UI, key="train_depth", disabled=locked,
                            help=_("0 = no hidden layer: softmax regression (one linear layer, softmax over the "
                                   "classes, cross-entropy) on the classification sets, linear regression on the "
                                   "regression set; more layers = deeper network"))
    widths, acts = [], []
    for i in range(depth):
        st.session_state.setdefault(f"train_width_{i}", st.session_state.get(f"train_width_{i - 1}", 32))
        st.session_state.setdefault(f"train_act_{i}", st.session_state.get(f"train_act_{i - 1}", "relu"))
        left, right = st.columns([1, 1.3])
        widths.append(left.number_input(_("Layer {l} width").format(l=i + 1), *LIMITS["width"],
                                        key=f"train_width_{i}", disabled=locked))
        acts.append(right.selectbox(_("Layer {l} σ").format(l=i + 1), list(ACTIVATIONS), key=f"train_act_{i}",
                                    disabled=locked, format_func=lambda n: _(ACTIVATIONS[n].label)))
    return widths, acts


class _Lesson:
    """Which controls a classroom link locked or hid; a hidden control keeps the link's value."""

    def __init__(self):
        self.locked, self.hidden = lesson_rules()

    def widget(self, name: str, draw, key: str):
        """Draw the widget (disabled if locked) unless hidden; return its value either way."""
        if name in self.hidden:
            return st.session_state[key]
        return draw(disabled=name in self.locked)


def _data_section(lesson: "_Lesson", state) -> dict:
    """The Data expander: TrainSpec's dataset (idx:FOLDER, "" while the folder is missing), train_size and noise."""
    _ = translator()  # choices' labels keep this run's language
    with st.expander(_("Data"), expanded=True):
        if "data" in lesson.hidden:
            dataset, subset = state.train_dataset, state.train_use_subset
            folder = state.get("train_idx_folder", "")
        else:
            off = "data" in lesson.locked
            dataset = st.selectbox(_("Dataset"), list(DATASET_LABELS), key="train_dataset", disabled=off)
            st.caption(_(DATASET_LABELS[dataset]))  # the box shows the name, which fits; the caption wraps
            folder = (st.text_input(_("IDX folder"), key="train_idx_folder", disabled=off,
                                    placeholder=_("/path/to/mnist (train-images-idx3-ubyte(.gz), ...)"))
                      if dataset == "idx" else "")
            subset = st.toggle(_("Use only part of the training set"), key="train_use_subset", disabled=off,
                               help=_("A small training set shows overfitting"))
            if subset:
                st.number_input(_("Training samples"), *LIMITS["train_size"], key="train_train_size", disabled=off)
        if dataset == "idx":
            dataset = f"idx:{folder.strip()}" if folder.strip() else ""
        train_size = state.train_train_size if subset else None
        noise = None
        if dataset in TWO_D and st.toggle(_("Set the noise"), key="train_custom_noise"):
            noise = st.slider(_("Noise"), *LIMITS["noise"], key="train_noise", step=0.01)
    return dict(dataset=dataset, train_size=train_size, noise=noise)


def _network_section(lesson: "_Lesson", state, dataset: str) -> dict:
    """The Network expander: NetworkSpec's hidden widths, activations, init, loss and dropout."""
    _ = translator()  # choices' labels keep this run's language
    with st.expander(_("Network"), expanded=True):
        if "layers" in lesson.hidden:
            widths = [state[f"train_width_{i}"] for i in range(state.train_depth)]
            acts = [state[f"train_act_{i}"] for i in range(state.train_depth)]
        else:
            widths, acts = _layers("layers" in lesson.locked)
        init = lesson.widget("init", lambda disabled: st.selectbox(
            _("Initialisation"), list(INITS), key="train_init", disabled=disabled,
            format_func=lambda n: _(INITS[n].short)), "train_init")
        st.caption(_(INITS[init].label))
        if dataset == "regression":  # one linear output: the quadratic cost is the only one that fits
            st.selectbox(_("Loss"), [REGRESSION_LOSS_LABEL], disabled=True, key="train_loss_regression",
                         format_func=_)
            if state.get("train_loss", "mse") != "mse":
                st.warning(_("The regression set uses the quadratic cost ½(a − y)² on its linear output: "
                             "cross-entropy needs classes, so the quadratic cost is what trains here."))
            loss = "mse"
        else:
            loss = lesson.widget("loss", lambda disabled: st.selectbox(
                _("Loss"), list(LOSS_LABELS), key="train_loss", disabled=disabled,
                format_func=lambda n: _(LOSSES[n].short)), "train_loss")
            st.caption(_(LOSS_LABELS[loss]))
        dropout = lesson.widget("dropout", lambda disabled: st.slider(
            _("Dropout"), *LIMITS["dropout"], key="train_dropout", step=0.05, disabled=disabled), "train_dropout")
    return dict(hidden=tuple(widths), activations=tuple(acts), init=init, loss=loss, dropout=float(dropout))


def _training_section(lesson: "_Lesson", state) -> dict:
    """The Training expander: TrainSpec's optimizer, momentum, lr, batch_size, epochs, weight_decay, decay, seed."""
    _ = translator()  # choices' labels keep this run's language
    with st.expander(_("Training"), expanded=True):
        optimizer = lesson.widget("opt", lambda disabled: st.selectbox(
            _("Optimizer"), OPTIMIZER_NAMES, key="train_optimizer", disabled=disabled,
            format_func=lambda n: _(OPTIMIZER_SHORT[n])), "train_optimizer")
        st.caption(_(OPTIMIZER_LABELS[optimizer]))
        momentum = state.train_momentum
        if optimizer == "momentum":
            momentum = lesson.widget("opt", lambda disabled: st.slider(
                _("Momentum μ"), *LIMITS["momentum"], key="train_momentum", step=0.001, disabled=disabled),
                "train_momentum")
        lr = lesson.widget("lr", lambda disabled: st.select_slider(
            _("Learning rate η"), _with(LEARNING_RATES, state.train_lr), key="train_lr", disabled=disabled,
            format_func=lambda v: f"{v:g}"), "train_lr")
        current = state.train_batch
        sizes = BATCH_SIZES if current == "full" else _with(BATCH_SIZES, current)
        batch = lesson.widget("bs", lambda disabled: st.select_slider(
            _("Batch size"), sizes + ["full"], key="train_batch", disabled=disabled,
            format_func=lambda v: _("full") if v == "full" else str(v),
            help=_("1 = stochastic gradient descent; full = batch GD")), "train_batch")
        epochs = lesson.widget("ep", lambda disabled: st.number_input(
            _("Epochs"), *LIMITS["epochs"], key="train_epochs", disabled=disabled), "train_epochs")
        weight_decay = lesson.widget("wd", lambda disabled: st.select_slider(
            _("Weight decay λ"), _with(WEIGHT_DECAYS, state.train_wd), key="train_wd", disabled=disabled,
            format_func=lambda v: f"{v:g}", help=_(WEIGHT_DECAY_HELP) + "\n\n" + _(DECAY_HELP)), "train_wd")
        decay = lesson.widget("wd", lambda disabled: st.radio(  # what λ means: locked and hidden with it
            _("Weight decay convention"), DECAY_NAMES, key="train_wdc", disabled=disabled,
            format_func=lambda n: _(DECAY_LABELS[n]), help=_(DECAY_HELP)), "train_wdc")
        seed = lesson.widget("seed", lambda disabled: st.number_input(
            _("Seed"), *LIMITS["seed"], key="train_seed", disabled=disabled), "train_seed")
    return dict(optimizer=optimizer, momentum=float(momentum), lr=float(lr),
                batch_size=FULL_BATCH if batch == "full" else int(batch), epochs=int(epochs),
                weight_decay=float(weight_decay), decay=decay, seed=int(seed))


def controls() -> tuple[NetworkSpec, TrainSpec]:
    """Draw the settings in the sidebar and return their specs; SpecError says what a student can change."""
    _ = translator()  # choices' labels keep this run's language
    lesson = _Lesson()
    state = st.session_state
    with st.sidebar:
        lesson.widget("preset", lambda disabled: st.selectbox(
            _("Preset"), list(PRESETS), key="train_preset", on_change=apply_preset, format_func=_,
            placeholder=_("custom settings"), disabled=disabled or bool(lesson.locked),
            help=_("Load a lesson's network and training in one click")),
            "train_preset")
        if lesson.locked and "preset" not in lesson.hidden:
            st.caption(_("Presets are off: this lesson link fixes some settings, and a preset would change them."))
        if state.train_preset:
            st.caption(_(PRESETS[state.train_preset].lesson))
        data = _data_section(lesson, state)
        layers = _network_section(lesson, state, data["dataset"])
        steps = _training_section(lesson, state)
    remember_settings()
    if not data["dataset"]:
        raise SpecError(_("Type the folder that holds the MNIST IDX files."))
    network, training = NetworkSpec(**layers), TrainSpec(**data, **steps)
    st.query_params.from_dict({**to_params(network, training), **lesson_params(), **url_params(),
                               **class_params(), **walk_params(), **run_params()})  # cls=: a class student's
    # token stays in the link, lesson= and step= while a lesson is open, run= (the key of this run's snapshot)
    return network, training


def view_choice() -> str:
    """The "Show" picker above the detail chart; its choice is kept like the settings."""
    _ = translator()  # choices' labels keep this run's language
    st.session_state.setdefault("train_view", VIEWS[0])  # not default=: the view may come back from remember_settings
    view = st.segmented_control(_("Show"), VIEWS, key="train_view", format_func=_)
    remember_settings()  # a view picked in the live panel's own run is kept too
    return view or VIEWS[0]
