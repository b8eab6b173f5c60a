"""One neuron, the first chapter of every textbook: activations and σ', one neuron learning, perceptrons,
why a network needs a non-linearity, and the loss functions. Plain records out; no words, no figures."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..data.datasets import load_dataset
from ..nn.activations import ACTIVATIONS, SATURATION_MARGIN
from ..nn.model import build_model
from ..nn.spec import NetworkSpec, TrainSpec
from ..text import N_
from ..train.trainer import Trainer
from .train import Boundary


@dataclass(frozen=True)
class Unit:
    """A σ this lesson shows that no network uses: the fields of a registry row that the lesson reads."""

    name: str
    label: str  # marked with N_: shown as _(unit.label)
    symbol: str  # σ(z) for figure titles (marked with N_: it has words)
    kind: str  # "flat": σ' = 0 everywhere
    bounds: tuple[float, float] | None
    numpy: Callable[[np.ndarray], np.ndarray]  # σ(z)
    numpy_prime: Callable[[np.ndarray], np.ndarray]  # σ'(z)


# Rosenblatt's perceptron: σ'(z) is 0 everywhere except z = 0, where it is undefined (shown as 0)
STEP = Unit("step", N_("step (perceptron)"), N_("σ(z) = 1 if z > 0, else 0"), "flat", None,
            lambda z: (z > 0).astype(float), np.zeros_like)
# The lesson's activations in the order shown: the registry's rows (σ, σ', kind, label, symbol), and the step
NEURON_ACTIVATIONS = {name: STEP if name == "step" else ACTIVATIONS[name]
                      for name in ("sigmoid", "tanh", "relu", "leaky_relu", "step", "linear")}
Z_RANGE = (-6.0, 6.0)
ETA = 0.15  # Nielsen's learning rate in chapter 3's one-neuron example
STARTS = {"saturated": (2.0, 2.0), "unsaturated": (0.6, 0.9)}  # (w, b): a = 0.98 and a = 0.82 for x = 1
NEURON_EPOCHS = 300  # as in Nielsen's plots
GATES = {  # target truth tables on the inputs (0,0), (0,1), (1,0), (1,1)
    "AND": (0, 0, 0, 1), "OR": (0, 1, 1, 1), "NAND": (1, 1, 1, 0), "XOR": (0, 1, 1, 0),
}
GATE_PRESETS = {"AND": (1.0, 1.0, -1.5), "OR": (1.0, 1.0, -0.5), "NAND": (-2.0, -2.0, 3.0)}  # (w1, w2, b); NAND is Nielsen's
INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # (4, 2), one row per input pair


def sigma(name: str, z: np.ndarray | float) -> np.ndarray:
    """a = σ(z) for any of NEURON_ACTIVATIONS; step(z) = 1 if z > 0 else 0 (Nielsen's perceptron)."""
    return np.asarray(NEURON_ACTIVATIONS[name].numpy(np.asarray(z, dtype=float)), dtype=float)


def sigma_prime(name: str, z: np.ndarray | float) -> np.ndarray:
    """σ'(z) of any of NEURON_ACTIVATIONS, the shape of z."""
    z = np.asarray(z, dtype=float)
    return np.asarray(NEURON_ACTIVATIONS[name].numpy_prime(z), dtype=float) * np.ones_like(z)


@dataclass(frozen=True)
class ActivationCurve:
    """σ and σ' of one activation on a grid of z, with where it saturates or dies."""

    name: str
    kind: str  # the registry's saturates | dies | none, or the step's flat
    z: np.ndarray  # (n,) grid over Z_RANGE
    a: np.ndarray  # (n,) σ(z)
    da: np.ndarray  # (n,) σ'(z)
    saturated: tuple  # ((z_low, z_high), ...) where a is within SATURATION_MARGIN of σ's bounds
    dead: tuple  # ((z_low, z_high),) where σ'(z) = 0 and stays 0 (ReLU's z < 0), else ()


def activation_curve(name: str, n: int = 601) -> ActivationCurve:
    """The curve of σ and σ' over Z_RANGE and its saturated / dead intervals."""
    if name not in NEURON_ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(NEURON_ACTIVATIONS)}; got {name!r}")
    low, high = Z_RANGE
    z = np.linspace(low, high, n)
    k = NEURON_ACTIVATIONS[name].kind
    saturated, dead = (), ()
    if k == "saturates":
        lo, hi = NEURON_ACTIVATIONS[name].bounds
        # σ is increasing: solve σ(z) = lo + margin and σ(z) = hi − margin on a fine grid
        fine = np.linspace(low, high, 20001)
        a = sigma(name, fine)
        z_low = float(fine[np.argmax(a > lo + SATURATION_MARGIN)])
        z_high = float(fine[np.argmax(a >= hi - SATURATION_MARGIN)])
        saturated = ((low, z_low), (z_high, high))
    elif k == "dies":
        dead = ((low, 0.0),)
    return ActivationCurve(name, k, z, sigma(name, z), sigma_prime(name, z), saturated, dead)


# ---- One sigmoid neuron learning (Nielsen, chapter 3) ------------------------------------------------------
@dataclass(frozen=True)
class NeuronHistory:
    """A single sigmoid neuron a = σ(w·x + b) trained by gradient descent on one example; row e = epoch e."""

    cost: str  # "quadratic" C = ½(a − y)², or "cross_entropy" C = −[y ln a + (1 − y) ln(1 − a)]
    x: float
    y: float
    eta: float
    w: np.ndarray  # (E+1,) the weight before epoch e's step
    b: np.ndarray  # (E+1,)
    z: np.ndarray  # (E+1,) w·x + b
    a: np.ndarray  # (E+1,) σ(z)
    sigma_prime: np.ndarray  # (E+1,) σ'(z) = a(1 − a)
    cost_value: np.ndarray  # (E+1,) C at epoch e
    error: np.ndarray  # (E+1,) a − y, the factor both gradients share
    dc_dw: np.ndarray  # (E+1,) ∂C/∂w: (a − y)σ'(z)x for quadratic, (a − y)x for cross-entropy
    dc_db: np.ndarray  # (E+1,) ∂C/∂b: the same without the x


def neuron_cost(cost: str, a: np.ndarray | float, y: float) -> np.ndarray:
    """C of one output a for the target y."""
    return NEURON_LOSSES[cost].cost(np.asarray(a, dtype=float), y)


def neuron_gradient(cost: str, w: float, b: float, x: float, y: float) -> tuple[float, float]:
    """(∂C/∂w, ∂C/∂b) by the textbook's formulas: σ'(z) appears for the quadratic cost, cancels for cross-entropy."""
    a = float(sigma("sigmoid", w * x + b))
    slope = a * (1.0 - a) if cost == "quadratic" else 1.0  # σ'(z), or 1 where it cancelled
    return (a - y) * slope * x, (a - y) * slope


def train_neuron(cost: str, start: str = "saturated", epochs: int = NEURON_EPOCHS, eta: float = ETA,
                 x: float = 1.0, y: float = 0.0) -> NeuronHistory:
    """Gradient descent w ← w − η ∂C/∂w, b ← b − η ∂C/∂b for `epochs` epochs from one of STARTS."""
    if cost not in ("quadratic", "cross_entropy"):
        raise ValueError(f"cost must be quadratic or cross_entropy; got {cost!r}")
    if start not in STARTS:
        raise ValueError(f"start must be one of {', '.join(STARTS)}; got {start!r}")
    w_now, b_now = STARTS[start]
    rows = []
    for _ in range(epochs + 1):
        gw, gb = neuron_gradient(cost, w_now, b_now, x, y)
        rows.append((w_now, b_now, gw, gb))
        w_now, b_now = w_now - eta * gw, b_now - eta * gb
    w, b, gw, gb = (np.array(col) for col in zip(*rows))
    z = w * x + b
    a = sigma("sigmoid", z)
    return NeuronHistory(cost, x, y, eta, w, b, z, a, sigma_prime("sigmoid", z), neuron_cost(cost, a, y), a - y,
                         gw, gb)


# ---- Perceptrons ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Perceptron:
    """A step unit output = step(w1 x1 + w2 x2 + b) on the four binary inputs, and its line w·x + b = 0."""

    w: tuple[float, float]
    b: float
    z: np.ndarray  # (4,) w·x + b for INPUTS
    outputs: np.ndarray  # (4,) 0 or 1
    line: tuple | None  # ((x1, x2), (x1, x2)): the line's ends clipped to LINE_BOX; None if w = 0
    region: tuple  # ((x1, x2), ...) polygon of LINE_BOX where the output is 1 (empty if nowhere)
    computes: str | None  # the name of the GATES entry these outputs match, or None


LINE_BOX = (-0.5, 1.5)  # the square the line is clipped to (the unit square with a margin, as drawn)


def _clip_line(w1: float, w2: float, b: float, box: tuple[float, float] = LINE_BOX) -> tuple | None:
    """The ends of w1 x1 + w2 x2 + b = 0 inside box x box, or None when the line misses it (or w = 0)."""
    low, high = box
    ends = []
    if abs(w2) > 1e-12:
        for x1 in (low, high):
            x2 = -(w1 * x1 + b) / w2
            if low - 1e-9 <= x2 <= high + 1e-9:
                ends.append((x1, x2))
    if abs(w1) > 1e-12:
        for x2 in (low, high):
            x1 = -(w2 * x2 + b) / w1
            if low - 1e-9 <= x1 <= high + 1e-9:
                ends.append((x1, x2))
    unique = []
    for p in ends:
        if all(abs(p[0] - q[0]) > 1e-9 or abs(p[1] - q[1]) > 1e-9 for q in unique):
            unique.append(p)
    return (unique[0], unique[1]) if len(unique) >= 2 else None


def _clip_polygon(polygon: list, w1: float, w2: float, b: float) -> list:
    """The part of a convex polygon where w1 x1 + w2 x2 + b > 0 (Sutherland-Hodgman, one half-plane)."""
    side = [w1 * x1 + w2 * x2 + b for x1, x2 in polygon]
    out = []
    for i, (p, sp) in enumerate(zip(polygon, side)):
        q, sq = polygon[i - 1], side[i - 1]  # the edge q -> p
        if (sp > 0) != (sq > 0):
            t = sq / (sq - sp)
            out.append((q[0] + t * (p[0] - q[0]), q[1] + t * (p[1] - q[1])))
        if sp > 0:
            out.append(p)
    return out


def _box() -> list:
    low, high = LINE_BOX
    return [(low, low), (high, low), (high, high), (low, high)]


def rows_matching(outputs: np.ndarray, gate: str) -> int:
    """How many of the four rows of a truth table agree with the gate's."""
    return int(sum(int(o) == t for o, t in zip(outputs, GATES[gate])))


def gate_of(outputs: np.ndarray) -> str | None:
    """Which of GATES a 4-row truth table is, if any."""
    row = tuple(int(v) for v in outputs)
    return next((name for name, table in GATES.items() if table == row), None)


def perceptron(w1: float, w2: float, b: float) -> Perceptron:
    """The step unit's truth table on (0,0), (0,1), (1,0), (1,1) and its separating line."""
    z = INPUTS @ np.array([w1, w2], dtype=float) + b
    outputs = sigma("step", z).astype(int)
    region = tuple(_clip_polygon(_box(), w1, w2, b))
    return Perceptron((float(w1), float(w2)), float(b), z, outputs, _clip_line(w1, w2, b), region, gate_of(outputs))


@dataclass(frozen=True)
class XorNetwork:
    """A 2-2-1 step network with hand-set weights: XOR(x) = AND(OR(x), NAND(x))."""

    hidden: tuple  # (Perceptron for OR, Perceptron for NAND): the two lines
    output: tuple[tuple[float, float], float]  # (w, b) of the output unit, AND of the hidden outputs
    hidden_outputs: np.ndarray  # (4, 2) h = (OR, NAND) for each input pair
    outputs: np.ndarray  # (4,) XOR
    region: tuple  # ((x1, x2), ...) polygon of LINE_BOX where the network outputs 1: between the two lines


def xor_network() -> XorNetwork:
    """One hidden layer of two step units, OR and NAND, then AND: it computes XOR."""
    or_unit, nand_unit = perceptron(*GATE_PRESETS["OR"]), perceptron(*GATE_PRESETS["NAND"])
    h = np.stack([or_unit.outputs, nand_unit.outputs], axis=1).astype(float)  # (4, 2)
    w1, w2, b = GATE_PRESETS["AND"]
    out = sigma("step", h @ np.array([w1, w2]) + b).astype(int)
    band = _box()
    for unit in (or_unit, nand_unit):  # AND of the two units: both half-planes
        band = _clip_polygon(band, *unit.w, unit.b)
    return XorNetwork((or_unit, nand_unit), ((w1, w2), b), h.astype(int), out, tuple(band))


# ---- Why non-linear ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Collapsed:
    """A network with identity activations as one affine map: W = W^L ... W^1, b folded the same way."""

    weights: tuple  # W^l, (n_l, n_(l-1)), l = 1..L
    biases: tuple  # b^l, (n_l,)
    product: np.ndarray  # (n_L, n_0) W^L ... W^1
    bias: np.ndarray  # (n_L,) W^L(...(W^2 b^1 + b^2)...) + b^L
    x: np.ndarray  # (k, n_0) sample inputs
    network_output: np.ndarray  # (k, n_L) the network's forward pass, layer by layer
    collapsed_output: np.ndarray  # (k, n_L) x W^T + b with the one matrix
    max_difference: float  # max |network − collapsed|


def collapse(sizes: tuple[int, ...] = (2, 3, 3, 2), seed: int = 0, samples: int = 5) -> Collapsed:
    """Build the engine's network with identity activations, multiply its matrices, compare the two maps."""
    spec = NetworkSpec(input_size=sizes[0], hidden=sizes[1:-1], activations="linear", output_size=sizes[-1],
                       init="normal", image_shape=None)  # normal: N(0,1) weights and biases, nothing zero
    model = build_model(spec, seed).double()
    weights = tuple(layer.weight.detach().numpy().copy() for layer in model.linears)
    biases = tuple(layer.bias.detach().numpy().copy() for layer in model.linears)
    product, bias = np.eye(sizes[0]), np.zeros(sizes[0])
    for w, b in zip(weights, biases):
        product, bias = w @ product, w @ bias + b
    x = np.random.default_rng(seed).normal(size=(samples, sizes[0]))
    with torch.no_grad():
        network_output = model(torch.from_numpy(x)).numpy()
    collapsed_output = x @ product.T + bias
    return Collapsed(weights, biases, product, bias, x, network_output, collapsed_output,
                     float(np.abs(network_output - collapsed_output).max()))


@dataclass(frozen=True)
class TrainedBoundary:
    """A small network trained on a 2-D set, and its decision boundary on a grid (the Train page's record)."""

    activations: tuple[str, ...]  # one per hidden layer
    boundary: Boundary  # xx, yy (g,) the grid; prob (g, g) a^L of class 1, rows = yy; the points shown and labels
    val_acc: float
    steps: int
    seconds: float


BOUNDARY_HIDDEN = (16, 16)
BOUNDARY_TRAINING = dict(dataset="moons", optimizer="adam", lr=0.03, batch_size=64, epochs=20)


def boundary(activations: tuple[str, ...] = ("linear", "linear"), seed: int = 0, grid: int = 80,
             shown: int = 400) -> TrainedBoundary:
    """Train BOUNDARY_HIDDEN on moons with these hidden activations (engine Trainer) and map its a^L on a grid."""
    if len(activations) != len(BOUNDARY_HIDDEN):
        raise ValueError(f"give {len(BOUNDARY_HIDDEN)} activations, one per hidden layer")
    start = time.perf_counter()
    training = TrainSpec(seed=seed, **BOUNDARY_TRAINING)
    data = load_dataset(training.dataset, seed=seed)
    network = NetworkSpec(hidden=BOUNDARY_HIDDEN, activations=activations, init="xavier", loss="ce")
    trainer = Trainer(network, training, data, record=False)
    trainer.step(training.epochs * trainer.steps_per_epoch)
    x, y = data.x_train, data.y_train
    pad = 0.5
    x1 = np.linspace(x[:, 0].min() - pad, x[:, 0].max() + pad, grid)
    x2 = np.linspace(x[:, 1].min() - pad, x[:, 1].max() + pad, grid)
    g1, g2 = np.meshgrid(x1, x2)
    prob = trainer.predict(np.stack([g1.ravel(), g2.ravel()], axis=1))[:, 1].reshape(grid, grid)
    val_acc = trainer.evaluate()["val_acc"]
    shape = Boundary(x1, x2, prob.astype(float), x[:shown].copy(), y[:shown].copy())
    return TrainedBoundary(tuple(activations), shape, float(val_acc), trainer.step_count, time.perf_counter() - start)


# ---- Loss functions ---------------------------------------------------------------------------------------
def _cross_entropy(a: np.ndarray, y: float) -> np.ndarray:
    return -(y * np.log(a) + (1.0 - y) * np.log(1.0 - a))


@dataclass(frozen=True)
class NeuronLoss:
    """One of this lesson's costs of a single output a ∈ (0, 1) against a target y, and its slope."""

    name: str
    label: str  # marked with N_: shown as _(loss.label)
    symbol: str  # C(a) in Unicode
    cost: Callable[[np.ndarray, float], np.ndarray]  # C(a)
    slope: Callable[[np.ndarray, float], np.ndarray]  # ∂C/∂a


# The lesson's own losses (not the networks' ce / mse): one row each, in the order shown
NEURON_LOSSES = {loss.name: loss for loss in (
    NeuronLoss("l1", "L1", "|a − y|", lambda a, y: np.abs(a - y), lambda a, y: np.sign(a - y)),
    NeuronLoss("quadratic", N_("quadratic"), "½(a − y)²", lambda a, y: 0.5 * (a - y) ** 2, lambda a, y: a - y),
    NeuronLoss("cross_entropy", N_("cross-entropy"), "−[y ln a + (1 − y) ln(1 − a)]", _cross_entropy,
               lambda a, y: -y / a + (1.0 - y) / (1.0 - a)),
)}


@dataclass(frozen=True)
class LossCurve:
    """C(a) and ∂C/∂a of one loss for a single output a ∈ (0, 1) and a target y."""

    name: str  # a key of NEURON_LOSSES
    y: float
    a: np.ndarray  # (n,) outputs in (0, 1)
    cost: np.ndarray  # (n,) C
    dc_da: np.ndarray  # (n,) ∂C/∂a


def loss_curve(name: str, y: float = 1.0, n: int = 499) -> LossCurve:
    """L1 |a − y|, quadratic ½(a − y)², cross-entropy −[y ln a + (1 − y) ln(1 − a)] and their slopes."""
    if not 0.0 <= y <= 1.0:
        raise ValueError(f"the target y must be between 0 and 1; got {y}")
    if name not in NEURON_LOSSES:
        raise ValueError(f"loss must be one of {', '.join(NEURON_LOSSES)}; got {name!r}")
    a = np.linspace(0.002, 0.998, n)
    loss = NEURON_LOSSES[name]
    return LossCurve(name, float(y), a, loss.cost(a, y), loss.slope(a, y))


def target_entropy(y: float) -> float:
    """H(y) = −[y ln y + (1 − y) ln(1 − y)]: KL(y ‖ a) = cross-entropy − H(y); 0 for a one-hot target."""
    return float(-sum(p * np.log(p) for p in (y, 1.0 - y) if p > 0)) + 0.0  # + 0.0: never print "-0.000"


def kl_divergence(a: np.ndarray, y: float) -> np.ndarray:
    """KL(y ‖ a) = y ln(y/a) + (1 − y) ln((1 − y)/(1 − a)) for a two-class output a."""
    a = np.asarray(a, dtype=float)
    return sum(p * np.log(p / q) for p, q in ((y, a), (1.0 - y, 1.0 - a)) if p > 0)
