"""NetworkSpec and TrainSpec: one frozen, validated description of a network and of its training."""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

from ..text import _
from .activations import ACTIVATIONS, LOSS_OUTPUTS, output_name

# Names shared by the widgets, the CLI choices and the URL (the tables in model.py use these keys).
ACTIVATION_NAMES = tuple(ACTIVATIONS)
INIT_NAMES = ("he", "xavier", "lecun", "normal", "small", "zeros")
LOSS_NAMES = tuple(LOSS_OUTPUTS)
OPTIMIZER_NAMES = ("sgd", "momentum", "adam")
DECAY_NAMES = ("d2l", "nielsen")  # weight decay's conventions: what λ is per (TrainSpec.decay)
POOL_NAMES = ("max", "avg", "l2")
DATASET_NAMES = ("mnist5k", "pendigits", "mnist5k+pendigits", "digits", "moons", "circles", "xor", "spiral",
                 "regression")

MAX_WIDTH = 1024
MAX_DEPTH = 50
MAX_CONV_LAYERS = 3
# (lowest, highest) of every numeric setting: the spec checks, the Train page's widgets and the URL clamp
# all read this one table, so a link can never hold a value the widgets refuse.
LIMITS = {
    "depth": (0, MAX_DEPTH), "width": (1, MAX_WIDTH), "dropout": (0.0, 0.9),
    "train_size": (10, 60_000),  # full MNIST's training split
    "noise": (0.0, 2.0), "lr": (1e-6, 100.0), "momentum": (0.0, 0.999), "batch_size": (1, 1_000_000),
    "epochs": (1, 10_000), "seed": (0, 2**31 - 1),
    "weight_decay": (0.0, 1000.0),  # λ: Nielsen's convention decays λ/n a step, so its λ is n times D2L's
}


class SpecError(ValueError):
    """A setting out of range, with a message a student can act on."""


def check_number(name: str, value, low, high, *, whole: bool = False, error: type[ValueError] = SpecError) -> None:
    """Raise `error` unless value is a finite number (an int if whole) with low <= value <= high.

    The one range check with its message: the specs use it, and the datasets with error=DatasetError.
    """
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
        raise error((_("{name} must be a whole number, got {value!r}") if whole
                     else _("{name} must be a number, got {value!r}")).format(name=name, value=value))
    if not math.isfinite(value) or not low <= value <= high:
        raise error(_("{name} must be {low}-{high}, got {value}").format(
            name=name, low=_num(low), high=_num(high), value=_num(value)))


def _num(value) -> str:
    """1000000 as '1000000', 0.001 as '0.001', 1e-06 as '1e-06'."""
    return str(value) if isinstance(value, int) else f"{value:g}"


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise SpecError(_("{name} must be one of {choices}; got {value!r}").format(
            name=name, choices=", ".join(choices), value=value))


def _as_tuple(value, cast) -> tuple:
    """Accept '128,64', [128, 64], (128, 64) or a single value; return a tuple ('' is the empty tuple)."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")] if value.strip() else []
        if not all(parts):  # ',,,' or '128,,64' is a typo, not a shorter network
            raise SpecError(_("{value!r} has an empty item between commas").format(value=value))
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = [value]
    return tuple(cast(p) for p in parts)


WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")  # ASCII digits only: int() also reads '١٢٨', '１２８' and '1_28'


def _int(value) -> int:
    if isinstance(value, str):
        if not WHOLE_NUMBER.fullmatch(value.strip()):
            raise SpecError(_("expected a whole number, got {value!r}").format(value=value))
        return int(value)
    return value


@dataclass(frozen=True)
class NetworkSpec:
    """The architecture: z^l = W^l a^(l-1) + b^l, a^l = σ_l(z^l) for each hidden layer, then an output layer."""

    input_size: int = 784
    hidden: tuple[int, ...] = (128, 64)  # n_l of each hidden layer, first hidden layer first
    activations: tuple[str, ...] = ("relu",)  # one per hidden layer; a single name applies to all
    output_size: int = 10
    init: str = "he"
    loss: str = "ce"  # ce: softmax + cross-entropy; mse: sigmoid (linear for regression) + ½‖a − y‖²
    dropout: float = 0.0  # probability of zeroing a hidden unit while training
    regression: bool = False  # True: one linear output unit fitting a number (needs loss mse)
    conv: tuple[int, ...] = ()  # channels of optional 5x5 conv layers before the MLP, each followed by 2x2 pooling
    pool: str = "max"
    image_shape: tuple[int, int] | None = (28, 28)  # needed by the conv front end

    def __post_init__(self) -> None:
        hidden = _as_tuple(self.hidden, _int)
        acts = _as_tuple(self.activations, str)
        if len(acts) == 1 and len(hidden) != 1:
            acts = acts * len(hidden)
        conv = _as_tuple(self.conv, _int)
        shape = tuple(_as_tuple(self.image_shape, _int)) if self.image_shape is not None else None
        object.__setattr__(self, "hidden", hidden)
        object.__setattr__(self, "activations", acts)
        object.__setattr__(self, "conv", conv)
        object.__setattr__(self, "image_shape", shape)

        check_number(_("input size"), self.input_size, 1, 100_000, whole=True)
        check_number(_("output size"), self.output_size, 1, 1000, whole=True)
        check_number(_("number of hidden layers"), len(hidden), *LIMITS["depth"], whole=True)
        for i, width in enumerate(hidden, start=1):
            check_number(_("width of hidden layer {i}").format(i=i), width, *LIMITS["width"], whole=True)
        if len(acts) != len(hidden):
            raise SpecError(_("give one activation per hidden layer: {layers} layers but {acts} activations").format(
                layers=len(hidden), acts=len(acts)))
        for act in acts:
            _check_choice(_("activation"), act, ACTIVATION_NAMES)
        _check_choice(_("init"), self.init, INIT_NAMES)
        _check_choice(_("loss"), self.loss, LOSS_NAMES)
        check_number(_("dropout"), self.dropout, *LIMITS["dropout"])
        if self.regression and (self.loss != "mse" or self.output_size != 1):
            raise SpecError(_("a regression network has one output and uses the mse loss"))
        check_number(_("number of conv layers"), len(conv), 0, MAX_CONV_LAYERS, whole=True)
        for i, channels in enumerate(conv, start=1):
            check_number(_("channels of conv layer {i}").format(i=i), channels, 1, 128, whole=True)
        _check_choice(_("pooling"), self.pool, POOL_NAMES)
        if conv:
            if shape is None or len(shape) != 2 or shape[0] * shape[1] != self.input_size:
                raise SpecError(_("a conv front end needs square image inputs; input size {size} "
                                  "does not match image shape {shape}").format(size=self.input_size, shape=shape))
            if min(shape) // 2 ** len(conv) < 1:
                raise SpecError(_("{steps} pooling steps shrink a {h}x{w} image to nothing").format(
                    steps=len(conv), h=shape[0], w=shape[1]))

    @property
    def widths(self) -> tuple[int, ...]:
        """n_l for l = 1..L: every hidden layer, then the output layer."""
        return self.hidden + (self.output_size,)

    @property
    def depth(self) -> int:
        """L, the number of weight layers (hidden + output)."""
        return len(self.hidden) + 1

    @property
    def output_activation(self) -> str:
        """The output non-linearity the loss implies: softmax, sigmoid or linear (the registry's rule)."""
        return output_name(self.loss, self.regression)

    def describe(self) -> str:
        """'784-128-64-10 relu' style summary."""
        sizes = "-".join(str(n) for n in (self.input_size,) + self.widths)
        acts = sorted(set(self.activations)) or ["none"]
        front = f"conv {','.join(map(str, self.conv))} + " if self.conv else ""
        return f"{front}{sizes} {'/'.join(acts)}"

    def to_dict(self) -> dict:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "NetworkSpec":
        return _from_dict(cls, data)


@dataclass(frozen=True)
class TrainSpec:
    """How to train: data, optimizer and its hyperparameters."""

    dataset: str = "mnist5k"  # a name from DATASET_NAMES or idx:FOLDER
    train_size: int | None = None  # None: the whole training split
    val_fraction: float = 0.2
    noise: float | None = None  # 2-D and regression sets only; None: the dataset's default
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9  # used by the momentum optimizer only
    batch_size: int = 64  # 1 = stochastic gradient descent; >= training-set size = full-batch
    epochs: int = 5
    weight_decay: float = 0.0  # λ, in the convention `decay` names
    # d2l: λ/2 ‖w‖² added to each mini-batch's cost, so w ← w − η(∇C₀ + λw) (Dive into Deep Learning 3.7);
    # nielsen: (λ/2n) Σw² over the n training samples, so w ← (1 − ηλ/n)w − η∇C₀ (Nielsen ch. 3). Weights only.
    decay: str = "d2l"
    seed: int = 0
    augment: bool = False  # random shifts, rotations, scaling and stroke width for image data

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, str) or not (
                self.dataset in DATASET_NAMES or (self.dataset.startswith("idx:") and len(self.dataset) > 4)):
            raise SpecError(_("dataset must be one of {names} or idx:FOLDER; got {dataset!r}").format(
                names=", ".join(DATASET_NAMES), dataset=self.dataset))
        if self.train_size is not None:
            check_number(_("training-set size"), self.train_size, *LIMITS["train_size"], whole=True)
        check_number(_("validation fraction"), self.val_fraction, 0.05, 0.5)
        if self.noise is not None:
            check_number(_("noise"), self.noise, *LIMITS["noise"])
        _check_choice(_("optimizer"), self.optimizer, OPTIMIZER_NAMES)
        check_number(_("learning rate"), self.lr, *LIMITS["lr"])
        check_number(_("momentum"), self.momentum, *LIMITS["momentum"])
        check_number(_("batch size"), self.batch_size, *LIMITS["batch_size"], whole=True)
        check_number(_("epochs"), self.epochs, *LIMITS["epochs"], whole=True)
        check_number(_("weight decay"), self.weight_decay, *LIMITS["weight_decay"])
        _check_choice(_("weight decay convention"), self.decay, DECAY_NAMES)
        check_number(_("seed"), self.seed, *LIMITS["seed"], whole=True)
        if not isinstance(self.augment, bool):
            raise SpecError(_("augment must be true or false, got {value!r}").format(value=self.augment))

    def to_dict(self) -> dict:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainSpec":
        return _from_dict(cls, data)


def _to_dict(spec) -> dict:
    """Plain JSON-able dict (tuples become lists)."""
    out = {}
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def _from_dict(cls, data: dict):
    """Build a spec from a plain dict, refusing unknown keys."""
    if not isinstance(data, dict):
        raise SpecError(_("expected a dict of settings, got {kind}").format(kind=type(data).__name__))
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise SpecError(_("unknown setting(s) for {spec}: {names}").format(
            spec=cls.__name__, names=", ".join(map(str, unknown))))
    try:
        return cls(**data)
    except TypeError as exc:  # e.g. a None where a number belongs
        raise SpecError(str(exc)) from None


def spec_for_dataset(spec: NetworkSpec, n_inputs: int, n_outputs: int, regression: bool,
                     image_shape: tuple[int, int] | None) -> NetworkSpec:
    """The same architecture resized to a dataset's inputs and outputs."""
    loss = "mse" if regression else spec.loss
    conv = spec.conv if image_shape is not None and image_shape[0] * image_shape[1] == n_inputs else ()
    if conv and min(image_shape) // 2 ** len(conv) < 1:
        conv = ()
    return dataclasses.replace(spec, input_size=n_inputs, output_size=n_outputs, regression=regression,
                               loss=loss, conv=conv, image_shape=image_shape)


# URL query parameters <-> specs: short keys a teacher can read and edit in a link.
URL_KEYS = {
    "ds": ("train", "dataset", str), "n": ("train", "train_size", int), "noise": ("train", "noise", float),
    "layers": ("network", "hidden", str), "act": ("network", "activations", str),
    "init": ("network", "init", str), "loss": ("network", "loss", str), "do": ("network", "dropout", float),
    "opt": ("train", "optimizer", str), "lr": ("train", "lr", float), "mom": ("train", "momentum", float),
    "bs": ("train", "batch_size", int), "ep": ("train", "epochs", int), "wd": ("train", "weight_decay", float),
    "wdc": ("train", "decay", str), "seed": ("train", "seed", int),
}
MAX_URL_VALUE = 300  # characters: nothing legitimate is longer


def to_params(network: NetworkSpec, training: TrainSpec) -> dict[str, str]:
    """The settings as short URL query parameters."""
    params = {}
    for key, (which, name, _cast) in URL_KEYS.items():
        value = getattr(network if which == "network" else training, name)
        if value is None:
            continue
        if isinstance(value, tuple):
            value = ",".join(map(str, value))
        params[key] = value if isinstance(value, str) else _num(value)
    return params


# URL key -> the LIMITS row its value is clamped to (layers is clamped by depth and width)
_URL_LIMITS = {"n": "train_size", "noise": "noise", "do": "dropout", "lr": "lr", "mom": "momentum",
               "bs": "batch_size", "ep": "epochs", "wd": "weight_decay", "seed": "seed"}


def clamp_params(params: dict) -> tuple[dict, list[str]]:
    """URL parameters with numbers outside LIMITS moved to the nearest limit, and one note per change."""
    out, notes = dict(params), []
    for key, row in _URL_LIMITS.items():
        if key not in params or len(str(params[key])) > MAX_URL_VALUE:
            continue  # from_params names a missing or overlong value
        cast = URL_KEYS[key][2]
        try:
            value = cast(str(params[key]))
        except ValueError:
            continue  # from_params names it
        low, high = LIMITS[row]
        if isinstance(value, float) and not math.isfinite(value):
            continue
        if not low <= value <= high:
            kept = low if value < low else high
            notes.append(_("{key}={value} is outside {low}-{high}: using {kept}").format(
                key=key, value=_num(value), low=_num(low), high=_num(high), kept=_num(kept)))
            out[key] = _num(kept)
    if "layers" in params and len(str(params["layers"])) <= MAX_URL_VALUE:
        try:
            hidden = _as_tuple(str(params["layers"]), _int)
        except SpecError:
            return out, notes
        low, high = LIMITS["width"]
        if len(hidden) > LIMITS["depth"][1]:
            notes.append(_("layers: {depth} hidden layers is more than {most}: using the first {most}").format(
                depth=len(hidden), most=LIMITS["depth"][1]))
            hidden = hidden[:LIMITS["depth"][1]]
        if any(not low <= w <= high for w in hidden):
            notes.append(_("layers: widths must be {low}-{high}: each is moved into that range").format(
                low=low, high=high))
            hidden = tuple(min(max(w, low), high) for w in hidden)
        out["layers"] = ",".join(map(str, hidden))
    return out, notes


def from_params(params: dict, base_network: NetworkSpec | None = None,
                base_training: TrainSpec | None = None) -> tuple[NetworkSpec, TrainSpec]:
    """Specs from URL query parameters over defaults; SpecError names the first bad parameter."""
    network = (base_network or NetworkSpec()).to_dict()
    training = (base_training or TrainSpec()).to_dict()
    for key, raw in params.items():
        if key not in URL_KEYS:
            continue  # other pages' or classroom parameters
        which, name, cast = URL_KEYS[key]
        raw = str(raw)
        if len(raw) > MAX_URL_VALUE:
            raise SpecError(_("URL parameter {key} is too long").format(key=key))
        try:
            value = cast(raw) if cast is not str else raw
        except ValueError:
            raise SpecError(_("URL parameter {key}={raw!r} is not a valid {kind}").format(
                key=key, raw=raw, kind=cast.__name__)) from None
        if name == "hidden" and raw.strip() == "":
            value = ()
        (network if which == "network" else training)[name] = value
    if network["hidden"] == () or network["hidden"] == "":
        network["activations"] = ()
    elif "layers" in params and "act" not in params and len(set(network["activations"])) == 1:
        network["activations"] = network["activations"][:1]  # the base's one activation, for any depth
    try:
        return NetworkSpec.from_dict(network), TrainSpec.from_dict(training)
    except SpecError as exc:
        raise SpecError(_("the link's settings are invalid: {error}").format(error=exc)) from None


__all__ = ["to_params", "from_params", "clamp_params", "LIMITS",
           "NetworkSpec", "TrainSpec", "SpecError", "check_number", "spec_for_dataset", "ACTIVATION_NAMES",
           "INIT_NAMES", "LOSS_NAMES", "OPTIMIZER_NAMES", "DECAY_NAMES", "POOL_NAMES", "DATASET_NAMES"]
