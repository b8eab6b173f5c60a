"""The textbooks' experiments, run again beside the numbers the books print: one row per experiment.

Each row holds the book's citation, the numbers it states and the settings we run; `run(seed)` measures ours
and compares them: agrees within ×k, or differs for a kind of reason. Kinds and numbers only:
engine/views/textbook_words.py words them.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..data.datasets import load_dataset
from ..nn.model import as_targets, build_model, count_parameters, loss_function
from ..nn.spec import NetworkSpec
from ..text import N_
from .backprop_check import SMALL_TRAINING, small_network
from .gradients import scalar_chain
from .neuron import ETA, STARTS, neuron_gradient, train_neuron

PAGES = ("gradients", "neuron", "backprop")  # the pages with a "From the textbooks" panel

# ---- Nielsen, chapter 5: the speed of learning ‖δ^l‖ = ‖∂C/∂b^l‖ of each hidden layer at init -------------
CH5_SPEEDS = {  # the book's numbers, first hidden layer first
    "784-30-30-10": (0.07, 0.31),
    "784-30-30-30-10": (0.012, 0.060, 0.283),
    "784-30-30-30-30-10": (0.003, 0.017, 0.070, 0.285),
}
CH5_IMAGES = 1000  # Nielsen averages ∂C/∂b over the first 1,000 training images
RATIO = " first/last"  # suffix of a network's key: its first hidden layer's speed over its last's


def _ratio_key(network: str) -> str:
    return network + RATIO


def nielsen_network(hidden: tuple[int, ...], seed: int) -> torch.nn.Module:
    """A sigmoid network with network2's default_weight_initializer: W ~ N(0, 1/n_in), b ~ N(0, 1).

    The engine's "lecun" init starts biases at 0; Nielsen's draws them N(0, 1). So this builds "normal"
    (N(0, 1) weights and biases) and divides each W^l by √n_in, which is exactly his initialiser.
    """
    model = build_model(NetworkSpec(hidden=hidden, activations="sigmoid", init="normal", loss="ce"), seed)
    with torch.no_grad():
        for linear in model.linears:
            linear.weight.div_(math.sqrt(linear.weight.shape[1]))
    return model


def speeds_at_init(hidden: tuple[int, ...], x: torch.Tensor, labels: torch.Tensor, seed: int) -> np.ndarray:
    """‖∂C/∂b^l‖ of each hidden layer, (depth,), for network2's cross-entropy on sigmoid outputs over (x, labels).

    C = mean over the images of −Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)], a = σ(z^L): network2's CrossEntropyCost,
    whose δ^L = a − y. ∂C/∂b^l is the mean δ^l over the batch (BP3).
    """
    model = nielsen_network(hidden, seed)
    z = model(x)  # (B, 10)
    y = F.one_hot(labels, z.shape[1]).to(z.dtype)
    cost = F.binary_cross_entropy_with_logits(z, y, reduction="none").sum(1).mean()
    grads = torch.autograd.grad(cost, [linear.bias for linear in model.linears[:-1]])
    return np.array([float(g.norm()) for g in grads])


def _ch5(seed: int) -> tuple[dict, float]:
    data = load_dataset("mnist5k", seed=seed)
    x = torch.tensor(data.x_train[:CH5_IMAGES], dtype=torch.float32)
    labels = torch.tensor(data.y_train[:CH5_IMAGES], dtype=torch.long)
    measured, factors = {}, []
    for network, book in CH5_SPEEDS.items():
        hidden = tuple(int(n) for n in network.split("-")[1:-1])
        speeds = speeds_at_init(hidden, x, labels, seed)
        measured[network] = [float(s) for s in speeds]
        measured[_ratio_key(network)] = float(speeds[0] / speeds[-1])
        factors.append(factor(measured[_ratio_key(network)], book[0] / book[-1]))
    return measured, max(factors)


# ---- Nielsen, chapter 3: one saturated sigmoid neuron, quadratic cost against cross-entropy ----------------
FALL = 0.1  # learning has "started" once the cost is 10 % below where it began
CH3_SLOW_ETA = 0.005  # the η of Nielsen's cross-entropy curves (he notes it is not the quadratic's 0.15)


def epochs_until_fall(costs: np.ndarray, fall: float = FALL) -> int:
    """The first epoch whose cost is `fall` below the starting cost (len(costs) if it never gets there)."""
    below = np.flatnonzero(costs < (1.0 - fall) * costs[0])
    return int(below[0]) if len(below) else len(costs)


def _ch3(seed: int) -> tuple[dict, float]:
    quadratic = train_neuron("quadratic", "saturated", eta=ETA)
    fast = train_neuron("cross_entropy", "saturated", eta=ETA)
    slow = train_neuron("cross_entropy", "saturated", eta=CH3_SLOW_ETA)
    w, b = STARTS["saturated"]
    measured = {
        "start_output": float(quadratic.a[0]),
        "quadratic_plateau": epochs_until_fall(quadratic.cost_value),
        "cross_entropy_plateau": epochs_until_fall(fast.cost_value),
        "cross_entropy_slow_plateau": epochs_until_fall(slow.cost_value),
        "quadratic_gradient": float(neuron_gradient("quadratic", w, b, 1.0, 0.0)[0]),  # ∂C/∂w at the start
        "cross_entropy_gradient": float(neuron_gradient("cross_entropy", w, b, 1.0, 0.0)[0]),
    }
    return measured, factor(measured["quadratic_plateau"], CH3_PUBLISHED["quadratic_plateau"])


CH3_PUBLISHED = {"start_output": 0.98, "quadratic_plateau": 150}


# ---- Dive into Deep Learning: 0.2^30 and 5^30, and the symmetry of a constant init --------------------------
D2L_DEPTH = 30
D2L_PUBLISHED = {"0.2^30": 1e-21, "5^30": 9e20}  # as the book rounds them


def _d2l_powers(seed: int) -> tuple[dict, float]:
    """One linear unit per layer (σ' = 1): δ at the bottom is δ at the top times w^30 (gradients.scalar_chain)."""
    measured = {f"{w:g}^{D2L_DEPTH}": float(scalar_chain(D2L_DEPTH, w, "linear").gain[0]) for w in (0.2, 5.0)}
    return measured, max(factor(measured[k], v) for k, v in D2L_PUBLISHED.items())


SYMMETRY_HIDDEN = (16, 16)
SYMMETRY_CONSTANT = 0.05  # every weight and bias of the constant start (not zero: zero is only one such start)
SYMMETRY_STEPS = 50
SYMMETRY_ETA = 0.5
SYMMETRY_BATCH = 64
STARTS_SYMMETRY = ("zeros", "constant", "random")  # random (Xavier) is the control: its units differ


def distinct_units(weights: np.ndarray, tolerance: float = 1e-9) -> int:
    """How many different rows W^l has: units with the same incoming weights compute the same function."""
    scale = max(float(np.abs(weights).max()), 1e-300)
    return len(np.unique(np.round(weights / scale / tolerance), axis=0))


def train_from(start: str, seed: int, steps: int = SYMMETRY_STEPS) -> tuple[torch.nn.Module, float]:
    """784-16-16-10 sigmoid, cross-entropy, `steps` plain SGD steps in float64 from one of STARTS_SYMMETRY.

    Returns the trained model and how far its first layer's weights moved (max |ΔW¹|, to show it learned).
    """
    spec = NetworkSpec(hidden=SYMMETRY_HIDDEN, activations="sigmoid", init="xavier", loss="ce")
    model = build_model(spec, seed).double()  # float64: equal units stay bit-for-bit equal, rounding aside
    if start != "random":
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(0.0 if start == "zeros" else SYMMETRY_CONSTANT)
    first = model.linears[0].weight.detach().clone()
    data = load_dataset("mnist5k", seed=seed)
    order = np.random.default_rng(seed).permutation(len(data.x_train))
    cost = loss_function(spec)
    for step in range(steps):
        rows = order[(step * SYMMETRY_BATCH) % len(order):][:SYMMETRY_BATCH]
        x = torch.tensor(data.x_train[rows], dtype=torch.float64)
        loss = cost(model(x), as_targets(data.y_train[rows], False))
        grads = torch.autograd.grad(loss, list(model.parameters()))
        with torch.no_grad():
            for p, g in zip(model.parameters(), grads):
                p.sub_(SYMMETRY_ETA * g)
    moved = float((model.linears[0].weight.detach() - first).abs().max())
    return model, moved


def _d2l_symmetry(seed: int) -> tuple[dict, float]:
    measured = {}
    for start in STARTS_SYMMETRY:
        model, moved = train_from(start, seed)
        hidden = model.linears[:-1]
        measured[f"distinct_{start}"] = max(distinct_units(l.weight.detach().numpy()) for l in hidden)
        measured[f"moved_{start}"] = moved
    return measured, factor(measured["distinct_constant"], 1) * factor(measured["distinct_zeros"], 1)


# ---- 3Blue1Brown: 784-16-16-10 sigmoid units with the quadratic cost ----------------------------------------
THREE_B1B_PUBLISHED = {"parameters": 13_002, "accuracy": 0.96}  # "about 96 % of new images", after full training


def _three_b1b(seed: int) -> tuple[dict, float]:
    """The Backprop page's network (backprop_check.small_network): its size, and its accuracy after brief training."""
    model = small_network(seed)
    data = load_dataset(SMALL_TRAINING["dataset"], seed=seed)
    with torch.no_grad():
        z = model(torch.tensor(data.x_val, dtype=torch.float32))
    measured = {"parameters": count_parameters(model), "accuracy": float((z.argmax(1).numpy() == data.y_val).mean()),
                "train_images": len(data.x_train), "epochs": SMALL_TRAINING["epochs"],
                "loss": model.spec.loss, "output": model.spec.output_activation}
    # compared on the error rate: 4 % against 11 % is ×2.8, where 96 % against 89 % would look like ×1.08
    return measured, factor(1.0 - measured["accuracy"], 1.0 - THREE_B1B_PUBLISHED["accuracy"])


# ---- the rows --------------------------------------------------------------------------------------------
def factor(ours: float, book: float) -> float:
    """How far apart two positive numbers are, as a ratio ≥ 1: max(ours/book, book/ours); inf if one is ≤ 0."""
    if ours <= 0 or book <= 0:
        return 1.0 if ours == book else math.inf
    return max(ours / book, book / ours)


@dataclass(frozen=True)
class Result:
    """Our measurement of one experiment beside the book's numbers."""

    id: str
    published: dict  # the book's numbers, by name (the experiment's)
    measured: dict  # ours: the same names and more
    factor: float  # max(ours/book, book/ours) of the compared number(s), ≥ 1
    agrees: bool  # factor ≤ the experiment's tolerance
    reason: str | None  # when it does not agree: the experiment's reason kind (textbook_words.REASONS)
    seconds: float


@dataclass(frozen=True)
class Experiment:
    """One experiment of a textbook: where the book states it, its numbers, our settings and how to measure."""

    id: str
    book: str  # nielsen | d2l | 3b1b (textbook_words.BOOKS)
    cite: str  # chapter and section (marked with N_: shown as _(cite))
    page: str  # the page whose panel lists it, one of PAGES
    published: dict  # the numbers the book states, by name
    settings: dict  # what we run
    tolerance: float  # agreement means within ×tolerance
    differs: str  # the reason kind when the numbers do not agree (textbook_words.REASONS)
    measure: Callable[[int], tuple[dict, float]] = field(repr=False)  # seed -> (measured, factor)

    def run(self, seed: int = 0) -> Result:
        """Measure ours (a few seconds at most) and compare."""
        start = time.perf_counter()
        measured, k = self.measure(seed)
        agrees = k <= self.tolerance
        return Result(self.id, dict(self.published), measured, float(k), agrees, None if agrees else self.differs,
                      time.perf_counter() - start)


EXPERIMENTS: dict[str, Experiment] = {e.id: e for e in (
    Experiment(
        "nielsen-ch5-speeds", "nielsen",
        N_("Nielsen, Neural Networks and Deep Learning, chapter 5, “The vanishing gradient problem”"),
        "gradients", {**{k: list(v) for k, v in CH5_SPEEDS.items()},
                      **{_ratio_key(k): v[0] / v[-1] for k, v in CH5_SPEEDS.items()}},
        {"networks": list(CH5_SPEEDS), "activation": "sigmoid", "init": "N(0,1/n_in) weights, N(0,1) biases",
         "cost": "cross-entropy on sigmoid outputs", "images": CH5_IMAGES, "dataset": "mnist5k"},
        3.0, "one_init", _ch5),
    Experiment(
        "nielsen-ch3-slowdown", "nielsen",
        N_("Nielsen, Neural Networks and Deep Learning, chapter 3, “The cross-entropy cost function”"),
        "neuron", dict(CH3_PUBLISHED),
        {"x": 1.0, "y": 0.0, "w": STARTS["saturated"][0], "b": STARTS["saturated"][1], "eta": ETA,
         "slow_eta": CH3_SLOW_ETA, "fall": FALL},
        1.5, "threshold", _ch3),
    Experiment(
        "d2l-powers", "d2l",
        N_("Dive into Deep Learning (Chinese 1st edition), §3.14.1 “Vanishing and exploding”"),
        "gradients", dict(D2L_PUBLISHED), {"depth": D2L_DEPTH, "weights": [0.2, 5.0], "activation": "linear"},
        1.1, "rounding", _d2l_powers),
    Experiment(
        "d2l-symmetry", "d2l",
        N_("Dive into Deep Learning, “Breaking the symmetry” (Chinese 1st edition §3.14.2; d2l.ai §5.4.2)"),
        "gradients", {"distinct_constant": 1, "distinct_zeros": 1},
        {"network": "784-16-16-10", "activation": "sigmoid", "constant": SYMMETRY_CONSTANT,
         "steps": SYMMETRY_STEPS, "eta": SYMMETRY_ETA, "batch": SYMMETRY_BATCH, "dtype": "float64"},
        1.0, "rounding", _d2l_symmetry),
    Experiment(
        "3b1b-network", "3b1b",
        N_("3Blue1Brown, Neural networks, chapters 1-2: “But what is a neural network?”, “Gradient descent, "
           "how neural networks learn”"),
        "backprop", dict(THREE_B1B_PUBLISHED),
        {"network": "784-16-16-10", "activation": "sigmoid", "loss": "mse", **SMALL_TRAINING},
        1.5, "brief_training", _three_b1b),
)}


def for_page(page: str) -> list[Experiment]:
    """The experiments a page's "From the textbooks" panel lists, in the table's order."""
    return [e for e in EXPERIMENTS.values() if e.page == page]


def run(experiment_id: str, seed: int = 0) -> Result:
    """Run one experiment by id (KeyError for an unknown id)."""
    return EXPERIMENTS[experiment_id].run(seed)
