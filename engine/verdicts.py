"""Every verdict and piece of advice the engine words for a person, in one place (English is the source text).

The gradients verdict (vanishing / exploding / healthy, and why, in BP2's terms) and what to do when
training diverges. The numbers come from the engine's records; only the wording lives here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .model import INITS
from .spec import NetworkSpec

# Verdict thresholds on ratio = mean |δ^1| / mean |δ^L| (first hidden layer over the output layer).
# 100x is two orders of magnitude: with one learning rate η, layer 1's weights then move 100x slower (or
# faster) than the output layer's. Well-initialised nets still spread by 3-30x (layers differ in fan-in,
# and the softmax output's δ^L = a − y is not multiplied by a σ'), so a tighter bound would cry wolf.
VANISHING_BELOW = 1e-2
EXPLODING_ABOVE = 1e2
NOTABLE = 0.1  # share of saturated / dead hidden units worth naming in a reason
CROWDED = 0.5  # share of saturated / dead hidden units worth a caution even when the flow is healthy


@dataclass(frozen=True)
class Verdict:
    """A plain-language reading of one profile."""

    kind: str  # "vanishing" | "exploding" | "healthy"
    ratio: float  # mean |δ^1| / mean |δ^L|; 0 when no error reaches layer 1, inf/nan on overflow
    per_layer: float  # geometric-mean factor by which δ changes per layer, ratio^(1/(L-1))
    headline: str  # "Vanishing: layer 1 receives 2.0×10⁻⁶ of the error signal of layer 9 (the output layer)."
    reason: str  # why, in the textbook's terms (σ' ≤ 1/4, weight scale std·√n, saturation, dead units)


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


# ---------------------------------------------------------------- the gradients verdict


def verdict(rows: list[dict], network: NetworkSpec | None = None) -> Verdict:
    """vanishing / exploding / healthy from the per-layer rows; `network` lets the reason name σ and the init."""
    if not rows:
        raise ValueError("the profile has no layers")
    first, last = rows[0]["delta_mean_abs"], rows[-1]["delta_mean_abs"]
    n_layers = len(rows)
    top = f"the output layer (layer {n_layers})"
    if not all(math.isfinite(r["delta_mean_abs"]) for r in rows):
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


def _hidden_shares(rows: list[dict]) -> tuple[float, float]:
    """(mean saturated share, mean dead share) over the hidden layers."""
    hidden = rows[:-1]
    if not hidden:
        return 0.0, 0.0
    return (float(np.mean([r["saturated_frac"] for r in hidden])), float(np.mean([r["dead_frac"] for r in hidden])))


@dataclass(frozen=True)
class _Facts:
    """What a reason is built from."""

    acts: set  # the hidden layers' σ names
    init: str
    std: float  # a typical hidden W's init std
    scale: float  # std·√n
    scale_text: str  # "the weight scale std·√n = 0.05·√32 = 0.283"
    share: float  # share of hidden units that are saturated or dead
    what: str  # "saturated" or "dead", whichever the share mostly is
    where: str  # what that means for σ'


def _reason(kind: str, rows: list[dict], network: NetworkSpec | None, per_layer: float) -> str:
    """The why, from the textbook's BP2: δ^l = ((W^(l+1))^T δ^(l+1)) ⊙ σ'(z^l)."""
    saturated, dead = _hidden_shares(rows)
    share = saturated + dead  # a unit is one or the other: relu dies, sigmoid/tanh saturate
    measured = (f"Measured: δ changes by ×{sci(per_layer)} per layer on average."
                if math.isfinite(per_layer) and per_layer > 0 else "")
    if network is None:
        parts = [f"{share:.0%} of hidden units are saturated or dead."] if share >= NOTABLE else []
        return " ".join(parts + [measured]).strip()
    if network.init == "zeros":
        return ("All weights start at 0, so (W^(l+1))^T δ^(l+1) = 0: no error reaches the hidden layers, "
                "and all units of a layer stay identical (zero init never breaks the symmetry). "
                "Use random weights such as Xavier or He.")
    std, scale, n = weight_scale(network)
    what = "dead" if dead > saturated else "saturated"
    facts = _Facts(set(network.activations), network.init, std, scale,
                   f"the weight scale std·√n = {std:.3g}·√{n} = {scale:.3g}", share, what,
                   "z ≤ 0 on every sample, so σ'(z) = 0" if what == "dead" else "a near its bounds, where σ'(z) ≈ 0")
    parts = {"vanishing": _vanishing, "exploding": _exploding, "healthy": _healthy}[kind](facts)
    return " ".join(parts + [measured]).strip()


def _vanishing(f: _Facts) -> list[str]:
    parts = []
    if "sigmoid" in f.acts:
        parts.append(f"σ'(z) ≤ 1/4 for the sigmoid, so each layer multiplies δ by at most ¼ × {f.scale_text}, "
                     f"i.e. by ≤ {f.scale / 4:.3g}.")
    if f.scale < 0.5:
        parts.append(f"The weights are tiny: {f.scale_text}, so (W^(l+1))^T δ^(l+1) shrinks δ at every layer.")
    if f.share >= NOTABLE:
        parts.append(f"{f.share:.0%} of the hidden units are {f.what} ({f.where}).")
    if not parts:
        parts.append(f"BP2 multiplies δ by about std·√n·σ'(z) per layer, and here that is below 1 "
                     f"({f.scale_text}).")
    return parts


def _exploding(f: _Facts) -> list[str]:
    if f.scale > 1.5:
        parts = [f"{f.scale_text[0].upper() + f.scale_text[1:]} is far above 1: (W^(l+1))^T δ^(l+1) "
                 f"multiplies δ by about that much at every layer, more than σ'(z) takes away."]
    else:
        parts = [f"BP2 multiplies δ by about std·√n·σ'(z) per layer, and here that is above 1 "
                 f"({f.scale_text})."]
    if f.share >= NOTABLE:
        parts.append(f"{f.share:.0%} of the hidden units are {f.what} ({f.where}): they hold some of it back.")
    return parts


def _healthy(f: _Facts) -> list[str]:
    if f.scale > 1.5 and f.share >= NOTABLE:
        parts = [f"{f.scale_text[0].upper() + f.scale_text[1:]} would blow δ up, but {f.share:.0%} of the "
                 f"hidden units are {f.what} ({f.where}), which holds it back: the two roughly cancel."]
    else:
        parts = [f"BP2 multiplies δ by about std·√n·σ'(z) per layer, and that stays close to 1 "
                 f"({f.scale_text})."]
    if f.init == "he" and f.acts <= {"relu", "leaky_relu"}:
        parts.append("He's std = √(2/n) gives std·√n = √2, and ReLU passes δ on about half the units: "
                     "√2 · √½ = 1.")
    if f.share >= CROWDED:
        parts.append(f"Caution: with {f.share:.0%} of the units {f.what}, more layers would stop the signal.")
    return parts


# ---------------------------------------------------------------- training that diverged


def divergence_advice(step: int, loss_value: float, lr: float, optimizer: str, largest_grad: float) -> str:
    """Why a run's loss became NaN/inf at `step`, most likely, and what to change."""
    cause = (f"the learning rate η = {lr:g} is too high"
             if lr >= 0.1 or optimizer == "adam" and lr >= 0.01 else "the gradients exploded")
    grown = f" (the largest ‖∂C/∂W‖ had reached {largest_grad:.3g})" if math.isfinite(largest_grad) else ""
    return (f"Training diverged at step {step}: the loss became {loss_value}. Most likely {cause}{grown}. "
            f"Lower the learning rate, use a smaller init (Xavier or He) or a gentler activation.")


def diverged_profile_note(steps: int, lr: float) -> str:
    """The Gradients page's note when its k training steps diverged."""
    return (f"Training diverged after {steps} steps: the loss became infinite or NaN. Lower the learning rate "
            f"η = {lr:g} or pick a gentler init; the profile shows the last weights.")


__all__ = ["Verdict", "VANISHING_BELOW", "EXPLODING_ABOVE", "CROWDED", "sci", "weight_scale", "verdict",
           "divergence_advice", "diverged_profile_note"]
