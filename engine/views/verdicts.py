"""The gradients verdict as kinds and numbers: vanishing / exploding / healthy / symmetric / dead, from a profile.

`classify` reads a profile's per-layer rows (engine.nn.probes.layer_table) into a `Verdict`, judged by the
per-layer gain of BP2 and the end-to-end ratio; `classify_training` and `judge_training` add what training shows.
The sentences a person reads about it are made in engine/views/words.py (`describe`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from ..nn.model import INITS
from ..nn.spec import NetworkSpec

# Verdict thresholds. The kind is read from the per-layer gain g = (δ¹/δ^(L-1))^(1/(H-1)), the geometric mean of
# what one BP2 step multiplies mean |δ| by (H hidden layers, H-1 steps), and from the end-to-end ratio δ¹/δ^(L-1).
# Measured on mnist5k at init (widths 8-64, 3-16 layers, 2 seeds): variance-preserving inits keep g at 0.76-1.22
# (ReLU + He, tanh + Xavier, linear + Xavier); the sigmoid's σ' ≤ 1/4 gives 0.18-0.23 with LeCun's std·√n = 1, and
# 0.3-0.8 with N(0,1), whose larger weights buy back part of what saturation takes (0.45-0.62 at Nielsen's 30 units,
# 3-8 layers). GAIN_LOW lies below the first group even at width 8 and above most of the second. √½ (a step that
# halves δ's mean square: ReLU with LeCun or Xavier weights, He et al. 2015's case for He init, measured 0.4-0.8)
# sits on the edge, where depth decides through the end-to-end ratio. Four hidden layers of ×0.7 cost layer 1 a
# factor 3, fourteen layers a factor 100.
# GAIN_HIGH mirrors it on a log scale. The gain is judged from CHAIN hidden layers on: with one BP2 step there is
# no chain to compound, and that single factor also carries width changes (128 -> 64 units measures ×0.7 with He).
GAIN_LOW = 0.7
GAIN_HIGH = 1 / GAIN_LOW
CHAIN = 3
# End to end, whatever the depth: 100x is two orders of magnitude, with one learning rate η layer 1's weights then
# move 100x slower (or faster) than the top hidden layer's. A deep chain of gains just inside the band (0.8 over
# 30 layers) still vanishes by this rule. The output layer is left out: its δ^L = a − y (softmax with
# cross-entropy) is not multiplied by any σ' and would blur the chain's own gain.
VANISHING_BELOW = 1e-2
EXPLODING_ABOVE = 1e2
# During training: a loss still above AT_CHANCE × chance's (ln 10 for ten classes with cross-entropy) has learnt
# next to nothing; with δ¹ below STALLED_RATIO of the last hidden layer's, layer 1 learns 10x slower than the top:
# the run is stuck because its first layers barely hear the error, which is vanishing however the gain reads.
AT_CHANCE = 0.95
STALLED_RATIO = 0.1
NOTABLE = 0.1  # share of saturated / dead hidden units worth naming in a reason
CROWDED = 0.5  # share of saturated / dead hidden units worth a caution even when the flow is healthy
DEAD_LAYER = 0.99  # a hidden layer with this share of dead ReLUs passes (almost) no δ down: the signal stops
FLOAT32_TINY = 1.4e-45  # float32's smallest positive (subnormal) number: anything smaller rounds to 0
KINDS = ("vanishing", "exploding", "healthy", "symmetric", "dead")


@dataclass(frozen=True)
class Verdict:
    """What one gradient profile shows, in kinds and numbers (words.describe turns it into sentences)."""

    kind: str  # one of KINDS
    ratio: float  # mean |δ^1| / mean |δ^(L-1)| (first / last hidden layer); 0 when no error reaches layer 1,
    # inf when it overflowed
    per_layer: float  # the per-layer gain: the geometric-mean factor each BP2 step multiplies δ by,
    # ratio^(1/(hidden_layers-1)) (the gradients JSON's "gain")
    hidden_layers: int  # hidden layers δ passes down through (0 without any: then the output layer stands in)
    last_delta: float  # mean |δ| of the last hidden layer, the ratio's denominator
    saturated: float  # mean share of saturated units over the hidden layers
    dead: float  # mean share of dead units over the hidden layers
    dead_layers: tuple[int, ...]  # hidden layers (1-based) where at least DEAD_LAYER of the ReLUs are dead
    silent: bool  # no error reaches the hidden layers: every hidden layer's mean |δ| is 0
    overflowed: bool  # some layer's mean |δ| is inf or NaN
    underflow: float | None  # when float32 rounded δ¹ to 0: its true size at the measured per-layer rate
    loss: float | None = None  # C on the batch, when judged during training (judge_training), else None
    chance: float | None = None  # chance's loss (chance_loss), when judged during training, else None
    stalled: bool = False  # during training: the loss sits at chance while δ¹ ≪ δ^(L-1), so the kind is vanishing

    @property
    def in_band(self) -> bool:
        """The per-layer gain is within GAIN_LOW..GAIN_HIGH: BP2 keeps δ about the same size layer after layer."""
        return GAIN_LOW <= self.per_layer <= GAIN_HIGH

    @property
    def share(self) -> float:
        """Share of hidden units that are saturated or dead (a unit is one or the other)."""
        return self.saturated + self.dead


def classify(rows: list[dict], network: NetworkSpec | None = None) -> Verdict:
    """symmetric / dead / vanishing / exploding / healthy from the per-layer rows (output layer last).

    `network` recognises zero init (symmetric); without it, symmetry is read from the rows.
    """
    if not rows:
        raise ValueError("the profile has no layers")
    hidden = rows[:-1] or rows
    deltas = [r["delta_mean_abs"] for r in hidden]
    overflowed = not all(math.isfinite(r["delta_mean_abs"]) for r in rows)
    ratio, per_layer = (math.inf, math.inf) if overflowed else _flow(deltas)
    saturated, dead = _hidden_shares(rows)
    dead_layers = tuple(r["layer"] for r in hidden if r["dead_frac"] >= DEAD_LAYER)
    kind = "exploding" if overflowed else _kind(ratio, per_layer, len(hidden), dead, dead_layers,
                                                  _symmetric(rows, network))
    return Verdict(kind, ratio, per_layer, len(rows) - 1, deltas[-1], saturated, dead, dead_layers,
                   silent=all(r["delta_mean_abs"] == 0 for r in rows[:-1]), overflowed=overflowed,
                   underflow=_underflow(deltas) if ratio == 0 else None)


def _flow(deltas: list[float]) -> tuple[float, float]:
    """(ratio, per-layer gain) of the hidden layers' finite mean |δ|, first hidden layer first."""
    first, last = deltas[0], deltas[-1]
    if last == 0:
        ratio = 1.0 if first == 0 else math.inf
    else:
        ratio = first / last
    steps = len(deltas) - 1  # BP2 steps from the last hidden layer down to layer 1
    per_layer = ratio ** (1 / steps) if steps > 0 and math.isfinite(ratio) else ratio
    return ratio, per_layer


def _symmetric(rows: list[dict], network: NetworkSpec | None) -> bool:
    """Zero init of a network with hidden layers (softmax regression's output units differ by their targets);
    without a spec, every hidden layer silent and with one value of a per layer."""
    if network is not None:
        return network.init == "zeros" and len(rows) > 1
    return len(rows) > 1 and all(r["delta_mean_abs"] == 0 and r["act_std"] == 0 for r in rows[:-1])


def _kind(ratio: float, gain: float, hidden: int, dead: float, dead_layers: tuple[int, ...], symmetric: bool) -> str:
    """The verdict's kind, in order: symmetric, dead, then the per-layer gain and the end-to-end ratio."""
    if symmetric:
        return "symmetric"
    chain = hidden >= CHAIN
    vanishing = ratio < VANISHING_BELOW or (chain and gain < GAIN_LOW)
    if dead_layers or (vanishing and dead >= CROWDED):
        return "dead"
    if vanishing:
        return "vanishing"
    if ratio > EXPLODING_ABOVE or (chain and gain > GAIN_HIGH):
        return "exploding"
    return "healthy"


def _hidden_shares(rows: list[dict]) -> tuple[float, float]:
    """(mean saturated share, mean dead share) over the hidden layers."""
    hidden = rows[:-1]
    if not hidden:
        return 0.0, 0.0
    return (float(np.mean([r["saturated_frac"] for r in hidden])), float(np.mean([r["dead_frac"] for r in hidden])))


def _underflow(deltas: list[float]) -> float | None:
    """underflow_estimate when it is below float32's smallest number (δ¹ = 0 is then underflow), else None."""
    estimate = underflow_estimate(deltas)
    return estimate if math.isfinite(estimate) and estimate < FLOAT32_TINY else None


def underflow_estimate(deltas: list[float]) -> float:
    """The δ¹ float32 rounded to 0: the deepest non-zero mean |δ| carried down at the measured per-layer rate."""
    nonzero = [(l, d) for l, d in enumerate(deltas) if d > 0]
    if len(nonzero) < 2 or deltas[0] > 0:
        return math.nan
    (l0, d0), (l1, d1) = nonzero[0], nonzero[-1]
    if l1 == l0:
        return math.nan
    rate = (d0 / d1) ** (1 / (l1 - l0))  # per layer, measured where float32 still holds the numbers
    return d0 * rate ** l0


def weight_scale(network: NetworkSpec) -> tuple[float, float, int]:
    """(std, std·√n, n) for a typical hidden-to-hidden W: BP2 multiplies δ by about std·√n·σ'(z) per layer."""
    n = int(np.median(network.hidden)) if network.hidden else network.output_size
    std = INITS[network.init].std(n, n)
    return std, std * math.sqrt(n), n


def chance_loss(loss: str, classes: int) -> float:
    """The loss of guessing: predicting each class's share 1/classes for every sample (uniform classes).

    Cross-entropy: −ln(1/classes) = ln classes (2.303 for ten digits); quadratic ½‖a − y‖² with a = 1/classes
    everywhere: ½(1 − 1/classes) (0.45 for ten).
    """
    if classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {classes}")
    return math.log(classes) if loss == "ce" else 0.5 * (1 - 1 / classes)


def classify_training(recent_loss: float, chance: float, deltas: Sequence[float]) -> str | None:
    """"vanishing" when a run's loss sits at chance while δ¹ ≪ δ of the last hidden layer, else None.

    recent_loss: the training loss of the last steps (e.g. their mean); chance: chance_loss(...); deltas: mean |δ^l|
    per layer at the latest step, first hidden layer first, output layer last (a row of the history's
    delta_mean_abs). Fewer than two hidden layers have no chain to stall in.
    """
    hidden = list(deltas[:-1])
    if len(hidden) < 2 or not all(math.isfinite(d) for d in hidden) or not math.isfinite(recent_loss):
        return None
    ratio = hidden[0] / hidden[-1] if hidden[-1] > 0 else math.inf
    return "vanishing" if recent_loss >= AT_CHANCE * chance and ratio < STALLED_RATIO else None


def judge_training(verdict: Verdict, rows: list[dict], loss: float, chance: float) -> Verdict:
    """A profile's verdict after training: classify_training may turn a healthy one into vanishing (stalled)."""
    if verdict.kind not in ("healthy", "vanishing") or classify_training(
            loss, chance, [r["delta_mean_abs"] for r in rows]) is None:
        return replace(verdict, loss=loss, chance=chance)
    return replace(verdict, kind="vanishing", loss=loss, chance=chance, stalled=True)


def __getattr__(name: str):
    if name == "format_loss":  # re-exported for pages/train.py until it imports from words
        from .words import format_loss  # on first use: words imports this module, so not at import time
        return format_loss
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Verdict", "KINDS", "GAIN_LOW", "GAIN_HIGH", "CHAIN", "VANISHING_BELOW", "EXPLODING_ABOVE", "AT_CHANCE",
           "STALLED_RATIO", "NOTABLE", "CROWDED", "DEAD_LAYER", "FLOAT32_TINY", "classify", "classify_training",
           "judge_training", "chance_loss", "underflow_estimate", "weight_scale"]
