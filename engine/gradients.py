"""Vanishing and exploding gradients: per-layer profiles at init and after training, a verdict, the scalar chain."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .data import Dataset, load_dataset
from .model import ACTIVATIONS, INITS, LEAKY_SLOPE, Net, build_model
from .probes import layer_table, record
from .spec import NetworkSpec, SpecError, TrainSpec, spec_for_dataset
from .trainer import Trainer

# Verdict thresholds on ratio = mean |δ^1| / mean |δ^L| (first hidden layer over the output layer).
# 100x is two orders of magnitude: with one learning rate η, layer 1's weights then move 100x slower (or
# faster) than the output layer's. Well-initialised nets still spread by 3-30x (layers differ in fan-in,
# and the softmax output's δ^L = a − y is not multiplied by a σ'), so a tighter bound would cry wolf.
VANISHING_BELOW = 1e-2
EXPLODING_ABOVE = 1e2
CROWDED = 0.5  # share of saturated / dead hidden units worth a caution even when the flow is healthy
ACTIVATION_SAMPLES = 600  # values of a^l kept per layer for the distribution plot
MAX_TRAIN_STEPS = 5000
TRAIN_BATCH = 64  # mini-batch of the k training steps (the profile itself uses the fixed batch)

# σ'(z) in numpy for the scalar chain, and the z where σ' is largest (the chain's best case).
DERIVATIVES = {
    "sigmoid": lambda z: (s := 1.0 / (1.0 + np.exp(-z))) * (1.0 - s),
    "tanh": lambda z: 1.0 - np.tanh(z) ** 2,
    "relu": lambda z: (z > 0).astype(float),
    "leaky_relu": lambda z: np.where(z > 0, 1.0, LEAKY_SLOPE),
    "linear": lambda z: np.ones_like(z),
}
FUNCTIONS = {"sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)), "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0),
             "leaky_relu": lambda z: np.where(z > 0, z, LEAKY_SLOPE * z), "linear": lambda z: z}
BEST_Z = {"sigmoid": 0.0, "tanh": 0.0, "relu": 1.0, "leaky_relu": 1.0, "linear": 0.0}


@dataclass(frozen=True)
class Verdict:
    """A plain-language reading of one profile."""

    kind: str  # "vanishing" | "exploding" | "healthy"
    ratio: float  # mean |δ^1| / mean |δ^L|; 0 when no error reaches layer 1, inf/nan on overflow
    per_layer: float  # geometric-mean factor by which δ changes per layer, ratio^(1/(L-1))
    headline: str  # "Vanishing: layer 1 receives 2.0×10⁻⁶ of the error signal of layer 9 (the output layer)."
    reason: str  # why, in the textbook's terms (σ' ≤ 1/4, weight scale std·√n, saturation, dead units)


@dataclass(frozen=True)
class ActivationSample:
    """Some values of a^l on the fixed batch, for a distribution plot."""

    layer: int  # l, 1-based
    activation: str  # σ of this layer
    values: np.ndarray  # (k,) a subsample of the (B, n_l) entries of a^l


@dataclass(frozen=True)
class Profile:
    """A network's gradient picture on one fixed batch."""

    network: NetworkSpec  # resized to the dataset's inputs and outputs
    rows: list  # engine.probes.layer_table rows (the gradients CLI's numbers), first hidden layer first
    samples: list  # ActivationSample per hidden layer
    verdict: Verdict
    loss: float  # C on the fixed batch


@dataclass(frozen=True)
class Trained:
    """The same network's profile after k training steps."""

    profile: Profile
    steps: int  # steps actually taken (fewer if training diverged)
    status: str  # the Trainer's status: ready | running | done | diverged
    message: str  # why training stopped early, or ""


@dataclass(frozen=True)
class Chain:
    """A one-neuron-per-layer chain z^l = w a^(l-1) + b^l, a^l = σ(z^l), l = 1..depth."""

    z: np.ndarray  # (depth,) pre-activations
    sigma_prime: np.ndarray  # (depth,) σ'(z^l)
    factors: np.ndarray  # (depth,) w·σ'(z^l)
    gain: np.ndarray  # (depth,) Π_{j=l..depth} w·σ'(z^j): the share of the top error reaching δ^l


# ---------------------------------------------------------------- the fixed batch and the profiles


def fixed_batch(network: NetworkSpec, data: Dataset, batch_size: int, seed: int):
    """(network resized to data, x (B, d), y): the same batch `python -m engine gradients` draws."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 100_000:
        raise SpecError(f"batch size must be 1-100000, got {batch_size!r}")
    network = spec_for_dataset(network, data.n_inputs, data.n_outputs, data.task == "regression", data.image_shape)
    order = np.random.default_rng(seed).permutation(len(data.x_train))[:batch_size]
    x = torch.tensor(data.x_train[order], dtype=torch.float32)
    y = torch.tensor(data.y_train[order], dtype=torch.float32 if network.regression else torch.long)
    return network, x, y


def activation_samples(model: Net, x: torch.Tensor, y: torch.Tensor, max_values: int = ACTIVATION_SAMPLES,
                       seed: int = 0) -> list[ActivationSample]:
    """A fixed random subsample of every hidden layer's a^l (engine.probes.record on the batch)."""
    return _samples(record(model, x, y)[1], max_values, seed)


def _samples(records: list, max_values: int, seed: int) -> list[ActivationSample]:
    rng = np.random.default_rng(seed)
    out = []
    for r in records[:-1]:  # hidden layers only: the output layer is softmax / sigmoid / linear
        flat = r.a.reshape(-1)
        keep = rng.choice(flat.size, size=min(max_values, flat.size), replace=False)
        out.append(ActivationSample(r.layer, r.activation, flat[np.sort(keep)].astype(np.float32)))
    return out


def _profile(model: Net, x: torch.Tensor, y: torch.Tensor, seed: int) -> Profile:
    rows = layer_table(model, x, y)
    loss, records = record(model, x, y)
    samples = _samples(records, ACTIVATION_SAMPLES, seed)
    return Profile(model.spec, rows, samples, verdict(rows, model.spec), loss)


def profile_at_init(network: NetworkSpec, dataset: str = "mnist5k", batch_size: int = 256,
                    seed: int = 0) -> Profile:
    """A freshly initialised network on the fixed batch: the CLI's rows, activation samples and a verdict."""
    data = load_dataset(dataset, seed=seed)
    network, x, y = fixed_batch(network, data, batch_size, seed)
    return _profile(build_model(network, seed), x, y, seed)


class ProfileTrainer:
    """One network trained in place, profiled on the fixed batch after any number of steps."""

    def __init__(self, network: NetworkSpec, dataset: str = "mnist5k", *, batch_size: int = 256, seed: int = 0,
                 optimizer: str = "sgd", lr: float = 0.03):
        self.data = load_dataset(dataset, seed=seed)
        _, self.x, self.y = fixed_batch(network, self.data, batch_size, seed)
        self.network, self.seed = network, seed
        # the Trainer builds its model with build_model(resized network, seed): the same initial weights
        self.training = TrainSpec(dataset=dataset, optimizer=optimizer, lr=lr, batch_size=TRAIN_BATCH,
                                  epochs=10_000, seed=seed)
        self.trainer = self._fresh()
        self._last: tuple[int, Trained] | None = None  # (steps asked, result): reused when nothing changed

    def _fresh(self) -> Trainer:
        return Trainer(self.network, self.training, self.data, record=False, snapshot_every=10**9)

    def advance_to(self, steps: int) -> Trained:
        """Train until `steps` steps are done (from the start again if already past them), then profile."""
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_TRAIN_STEPS:
            raise SpecError(f"training steps must be 0-{MAX_TRAIN_STEPS}, got {steps!r}")
        if self._last is not None and self._last[0] == steps:
            return self._last[1]
        if steps < self.trainer.step_count:
            self.trainer = self._fresh()
        self.trainer.step(steps - self.trainer.step_count)
        taken, message = self.trainer.step_count, ""
        if self.trainer.status == "diverged":
            message = (f"Training diverged after {taken} steps: the loss became infinite or NaN. Lower the "
                       f"learning rate η = {self.training.lr:g} or pick a gentler init; the profile shows the "
                       f"last weights.")
        profile = _profile(self.trainer.model, self.x, self.y, self.seed)
        self._last = (steps, Trained(profile, taken, self.trainer.status, message))
        return self._last[1]


def profile_after_training(network: NetworkSpec, dataset: str = "mnist5k", steps: int = 100, *,
                           batch_size: int = 256, seed: int = 0, optimizer: str = "sgd",
                           lr: float = 0.03) -> Trained:
    """Train k mini-batch steps (Trainer, same seed, same initial weights), then profile the same fixed batch."""
    trainer = ProfileTrainer(network, dataset, batch_size=batch_size, seed=seed, optimizer=optimizer, lr=lr)
    return trainer.advance_to(steps)


# ---------------------------------------------------------------- the verdict


def sci(value: float) -> str:
    """2.04e-06 as '2.0×10⁻⁶', 37.2 as '37', 0.41 as '0.41'."""
    if value == 0 or not math.isfinite(value):
        return str(value)
    if 0.01 <= abs(value) < 1000:
        return f"{value:.2g}"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = value / 10 ** exponent
    sup = str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{mantissa:.1f}×10{sup}"


def weight_scale(network: NetworkSpec) -> tuple[float, float, int]:
    """(std, std·√n, n) for a typical hidden-to-hidden W: BP2 multiplies δ by about std·√n·σ'(z) per layer."""
    n = int(np.median(network.hidden)) if network.hidden else network.output_size
    std = INITS[network.init].std(n, n)
    return std, std * math.sqrt(n), n


def verdict(rows: list[dict], network: NetworkSpec | None = None) -> Verdict:
    """vanishing / exploding / healthy from the per-layer rows; `network` lets the reason name σ and the init."""
    if not rows:
        raise ValueError("the profile has no layers")
    first, last = rows[0]["delta_mean_abs"], rows[-1]["delta_mean_abs"]
    n_layers = len(rows)
    top = f"the output layer (layer {n_layers})"
    deltas = [r["delta_mean_abs"] for r in rows]
    if not all(math.isfinite(d) for d in deltas):
        return Verdict("exploding", math.inf, math.inf, f"Exploding: the error signal overflowed (inf or NaN) on "
                       f"its way from {top} down to layer 1.", _reason("exploding", rows, network, math.inf))
    if last == 0:
        ratio = 1.0 if first == 0 else math.inf
    else:
        ratio = first / last
    per_layer = ratio ** (1 / (n_layers - 1)) if n_layers > 1 and math.isfinite(ratio) else ratio
    if ratio < VANISHING_BELOW:
        kind = "vanishing"
        head = (f"Vanishing: layer 1 receives no error signal at all (δ¹ = 0), while {top} gets {sci(last)}."
                if ratio == 0 else f"Vanishing: layer 1 receives {sci(ratio)} of the error signal of {top}.")
    elif ratio > EXPLODING_ABOVE:
        kind = "exploding"
        head = f"Exploding: layer 1 receives {sci(ratio)} times the error signal of {top}."
    else:
        kind = "healthy"
        head = (f"Healthy: layer 1 receives {sci(ratio)} times the error signal of {top}: "
                f"within {EXPLODING_ABOVE:.0f}× either way.")
    return Verdict(kind, ratio, per_layer, head, _reason(kind, rows, network, per_layer))


def _hidden_share(rows: list[dict]) -> float:
    hidden = rows[:-1]
    return float(np.mean([r["saturated_frac"] for r in hidden])) if hidden else 0.0


def _reason(kind: str, rows: list[dict], network: NetworkSpec | None, per_layer: float) -> str:
    """The why, from the textbook's BP2: δ^l = ((W^(l+1))^T δ^(l+1)) ⊙ σ'(z^l)."""
    share = _hidden_share(rows)
    measured = (f"Measured: δ changes by ×{sci(per_layer)} per layer on average."
                if math.isfinite(per_layer) and per_layer > 0 else "")
    if network is None:
        parts = [f"{share:.0%} of hidden units are saturated or dead."] if share >= 0.1 else []
        return " ".join(parts + [measured]).strip()
    acts = set(network.activations)
    std, scale, n = weight_scale(network)
    scale_text = f"the weight scale std·√n = {std:.3g}·√{n} = {scale:.3g}"
    parts = []
    if network.init == "zeros":
        parts.append("All weights start at 0, so (W^(l+1))^T δ^(l+1) = 0: no error reaches the hidden layers, "
                     "and all units of a layer stay identical (zero init never breaks the symmetry). "
                     "Use random weights such as Xavier or He.")
        return " ".join(parts)
    what = "dead" if acts & {"relu", "leaky_relu"} else "saturated"
    where = "z ≤ 0 on every sample, so σ'(z) = 0" if what == "dead" else "a near its bounds, where σ'(z) ≈ 0"
    if kind == "vanishing":
        if "sigmoid" in acts:
            parts.append(f"σ'(z) ≤ 1/4 for the sigmoid, so each layer multiplies δ by at most ¼ × {scale_text}, "
                         f"i.e. by ≤ {scale / 4:.3g}.")
        if scale < 0.5:
            parts.append(f"The weights are tiny: {scale_text}, so (W^(l+1))^T δ^(l+1) shrinks δ at every layer.")
        if share >= 0.1:
            parts.append(f"{share:.0%} of the hidden units are {what} ({where}).")
        if not parts:
            parts.append(f"BP2 multiplies δ by about std·√n·σ'(z) per layer, and here that is below 1 "
                         f"({scale_text}).")
    elif kind == "exploding":
        if scale > 1.5:
            parts.append(f"{scale_text[0].upper() + scale_text[1:]} is far above 1: (W^(l+1))^T δ^(l+1) "
                         f"multiplies δ by about that much at every layer, more than σ'(z) takes away.")
        else:
            parts.append(f"BP2 multiplies δ by about std·√n·σ'(z) per layer, and here that is above 1 "
                         f"({scale_text}).")
        if share >= 0.1:
            parts.append(f"{share:.0%} of the hidden units are {what} ({where}): they hold some of it back.")
    else:
        if scale > 1.5 and share >= 0.1:
            parts.append(f"{scale_text[0].upper() + scale_text[1:]} would blow δ up, but {share:.0%} of the "
                         f"hidden units are {what} ({where}), which holds it back: the two roughly cancel.")
        else:
            parts.append(f"BP2 multiplies δ by about std·√n·σ'(z) per layer, and that stays close to 1 "
                         f"({scale_text}).")
        if network.init == "he" and acts <= {"relu", "leaky_relu"}:
            parts.append("He's std = √(2/n) gives std·√n = √2, and ReLU passes δ on about half the units: "
                         "√2 · √½ = 1.")
        if share >= CROWDED:
            parts.append(f"Caution: with {share:.0%} of the units {what}, more layers would stop the signal.")
    return " ".join(parts + [measured]).strip()


# ---------------------------------------------------------------- the scalar chain


def scalar_chain(depth: int, w: float, activation: str = "sigmoid", bias: float | None = None,
                 x: float = 1.0) -> Chain:
    """One neuron per layer, the same w everywhere: δ^1 = δ^top · Π w·σ'(z^l) (Nielsen's 0.2^30 / 5^30 example).

    bias=None picks each b^l so that z^l sits where σ' is largest (0 for sigmoid/tanh, 1 for the ReLUs):
    the best case, e.g. sigmoid with w = 0.8 gives exactly 0.8·¼ = 0.2 per layer.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 1000:
        raise SpecError(f"depth must be 1-1000, got {depth!r}")
    if activation not in DERIVATIVES:
        raise SpecError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
    for name, value in (("w", w), ("x", x)) + ((("bias", bias),) if bias is not None else ()):
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SpecError(f"{name} must be a finite number, got {value!r}")
    sigma, sigma_prime = FUNCTIONS[activation], DERIVATIVES[activation]
    z = np.empty(depth)
    a = float(x)
    with np.errstate(over="ignore"):  # exp(-z) may overflow to inf for huge |z|: σ is then exactly 0 or 1
        for l in range(depth):
            z[l] = BEST_Z[activation] if bias is None else w * a + bias
            a = float(sigma(np.float64(z[l])))
        s = sigma_prime(z)
        factors = w * s
        gain = np.cumprod(factors[::-1])[::-1]  # gain[l] = Π_{j ≥ l} factors[j]
    return Chain(z, s, factors, gain)


__all__ = ["Verdict", "ActivationSample", "Profile", "Trained", "Chain", "ProfileTrainer", "fixed_batch",
           "activation_samples", "profile_at_init", "profile_after_training", "verdict", "sci", "weight_scale",
           "scalar_chain", "VANISHING_BELOW", "EXPLODING_ABOVE", "TRAIN_BATCH"]
