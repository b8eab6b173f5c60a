"""The gradients verdict as kinds and numbers: vanishing / exploding / healthy / symmetric / dead, from a profile.

`classify` reads a profile's per-layer rows (engine.nn.probes.layer_table) into a `Verdict`; the sentences a
person reads about it are made in engine/views/words.py (`describe`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..nn.model import INITS
from ..nn.spec import NetworkSpec

# Verdict thresholds on ratio = mean |δ^1| / mean |δ^(L-1)| (first hidden layer over the last hidden layer).
# 100x is two orders of magnitude: with one learning rate η, layer 1's weights then move 100x slower (or
# faster) than the top hidden layer's. Well-initialised nets still spread by 3-30x (layers differ in fan-in
# and in how many units pass δ on), so a tighter bound would cry wolf. The output layer is left out: its
# δ^L = a − y (softmax with cross-entropy) is not multiplied by any σ' and would blur the chain's own gain.
VANISHING_BELOW = 1e-2
EXPLODING_ABOVE = 1e2
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
    hidden_layers: int  # hidden layers δ passes down through (1 for a profile of one layer)
    last_delta: float  # mean |δ| of the last hidden layer, the ratio's denominator
    saturated: float  # mean share of saturated units over the hidden layers
    dead: float  # mean share of dead units over the hidden layers
    dead_layers: tuple[int, ...]  # hidden layers (1-based) where at least DEAD_LAYER of the ReLUs are dead
    silent: bool  # no error reaches the hidden layers: every hidden layer's mean |δ| is 0
    overflowed: bool  # some layer's mean |δ| is inf or NaN
    underflow: float | None  # when float32 rounded δ¹ to 0: its true size at the measured per-layer rate

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
    kind = "exploding" if overflowed else _kind(ratio, dead, dead_layers, _symmetric(rows, network))
    return Verdict(kind, ratio, per_layer, len(hidden), deltas[-1], saturated, dead, dead_layers,
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
    """Zero init; without a spec, every hidden layer silent and with one value of a per layer."""
    if network is not None:
        return network.init == "zeros"
    return len(rows) > 1 and all(r["delta_mean_abs"] == 0 and r["act_std"] == 0 for r in rows[:-1])


def _kind(ratio: float, dead: float, dead_layers: tuple[int, ...], symmetric: bool) -> str:
    """The verdict's kind, in order: symmetric, dead, then the ratio against the thresholds."""
    if symmetric:
        return "symmetric"
    if dead_layers or (ratio < VANISHING_BELOW and dead >= CROWDED):
        return "dead"
    if ratio < VANISHING_BELOW:
        return "vanishing"
    if ratio > EXPLODING_ABOVE:
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


def __getattr__(name: str):
    if name == "format_loss":  # re-exported for pages/train.py until it imports from words
        from .words import format_loss  # on first use: words imports this module, so not at import time
        return format_loss
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Verdict", "KINDS", "VANISHING_BELOW", "EXPLODING_ABOVE", "NOTABLE", "CROWDED", "DEAD_LAYER",
           "FLOAT32_TINY", "classify", "underflow_estimate", "weight_scale"]
