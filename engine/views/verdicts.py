"""Every verdict and piece of advice the engine words for a person, in one place (English is the source text).

The gradients verdict (vanishing / exploding / healthy, and why, in BP2's terms) and what to do when
training diverges. The numbers come from the engine's records; only the wording lives here.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np

from ..nn.model import INITS
from ..nn.spec import NetworkSpec
from ..text import _

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
    """A plain-language reading of one profile."""

    kind: str  # one of KINDS
    ratio: float  # mean |δ^1| / mean |δ^(L-1)| (first / last hidden layer); 0 when no error reaches layer 1
    per_layer: float  # geometric-mean factor by which δ changes per hidden layer, ratio^(1/(hidden-1))
    # (headline, reason), worded when read: a verdict kept (cached, stored in a session) speaks the reader's language
    words: Callable[[], tuple[str, str]] = field(repr=False, compare=False)

    @property
    def headline(self) -> str:
        """What the flow does: 'Vanishing: layer 1 receives 2.0×10⁻⁶ of the error signal of layer 8 (...).'"""
        return self.words()[0]

    @property
    def reason(self) -> str:
        """Why, in the textbook's terms (σ' ≤ 1/4, weight scale std·√n, saturation, dead units)."""
        return self.words()[1]

    @property
    def text(self) -> str:
        """Headline and reason in one paragraph (the gradients CLI's verdict text)."""
        headline, reason = self.words()
        return sentences(headline, reason)

    def as_dict(self) -> dict:
        """The gradients JSON's verdict: {"kind", "ratio", "text"}."""
        return {"kind": self.kind, "ratio": self.ratio, "text": self.text}


def sentences(*parts: str) -> str:
    """Sentences in one paragraph: a space between English ones, none after Chinese full-width punctuation."""
    return re.sub(r"(?<=[。！？）])\s+", "", " ".join(p for p in parts if p).strip())


def sci(value: float) -> str:
    """2.04e-06 as '2.0×10⁻⁶', 37.2 as '37', 0.41 as '0.41'."""
    if value == 0 or not math.isfinite(value):
        return str(value)
    if 0.01 <= abs(value) < 1000:
        return f"{value:.2g}"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = value / 10 ** exponent
    if round(mantissa, 1) >= 10:
        mantissa, exponent = mantissa / 10, exponent + 1
    sup = str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{mantissa:.1f}×10{sup}"


def weight_scale(network: NetworkSpec) -> tuple[float, float, int]:
    """(std, std·√n, n) for a typical hidden-to-hidden W: BP2 multiplies δ by about std·√n·σ'(z) per layer."""
    n = int(np.median(network.hidden)) if network.hidden else network.output_size
    std = INITS[network.init].std(n, n)
    return std, std * math.sqrt(n), n


# ---------------------------------------------------------------- the gradients verdict


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


def verdict(rows: list[dict], network: NetworkSpec | None = None) -> Verdict:
    """symmetric / dead / vanishing / exploding / healthy from the per-layer rows (output layer last).

    `network` lets the reason name σ and the init (and recognise zero init). The words are put together
    each time they are read, in the language of the moment (engine.text).
    """
    rows = [dict(r) for r in rows]  # the verdict's own copy: its words are worded again from these
    kind, ratio, per_layer, _head, _why = _read(rows, network)
    return Verdict(kind, ratio, per_layer, partial(_words, rows, network))


def _words(rows: list[dict], network: NetworkSpec | None) -> tuple[str, str]:
    return _read(rows, network)[3:]


def _read(rows: list[dict], network: NetworkSpec | None) -> tuple[str, float, float, str, str]:
    """(kind, ratio, per_layer, headline, reason) in the current language."""
    if not rows:
        raise ValueError("the profile has no layers")
    hidden = rows[:-1] or rows
    deltas = [r["delta_mean_abs"] for r in hidden]
    first, last = deltas[0], deltas[-1]
    n_hidden = len(hidden)
    top = _("layer {n} (the last hidden layer)").format(n=n_hidden) if n_hidden > 1 else _("layer 1")
    if not all(math.isfinite(r["delta_mean_abs"]) for r in rows):
        return ("exploding", math.inf, math.inf, _("Exploding: the error signal overflowed (inf or NaN) on "
                       "its way from the output layer down to layer 1."), _reason("exploding", rows, network, math.inf))
    if last == 0:
        ratio = 1.0 if first == 0 else math.inf
    else:
        ratio = first / last
    per_layer = ratio ** (1 / (n_hidden - 1)) if n_hidden > 1 and math.isfinite(ratio) else ratio
    symmetric = (network.init == "zeros") if network is not None else (
        len(rows) > 1 and all(r["delta_mean_abs"] == 0 and r["act_std"] == 0 for r in hidden))
    dead_layers = [r["layer"] for r in hidden if r["dead_frac"] >= DEAD_LAYER]
    dead_share = _hidden_shares(rows)[1]
    if symmetric:
        return ("symmetric", ratio, per_layer,
                       _("Symmetric: every unit of a layer computes the same thing and gets the same update."),
                       _symmetric_reason(rows))
    if dead_layers or (ratio < VANISHING_BELOW and dead_share >= CROWDED):
        where = (_("every ReLU of layer {layer} is dead").format(layer=dead_layers[-1]) if dead_layers
                 else _("{share:.0%} of the hidden ReLUs are dead").format(share=dead_share))
        return ("dead", ratio, per_layer,
                       _("Dead: {where} (z ≤ 0 on every sample, so σ'(z) = 0): the error signal stops there.").format(
                           where=where),
                       _("BP2 multiplies δ by σ'(z) = 0 at a dead unit, so nothing passes below it and the weights "
                         "feeding it never change. Use a smaller learning rate, He init, or leaky ReLU (it passes "
                         "0.01·δ back for z ≤ 0 and cannot die)."))
    if ratio < VANISHING_BELOW:
        kind = "vanishing"
        if ratio == 0:
            estimate = underflow_estimate(deltas)
            head = _("Vanishing: layer 1 receives no error signal at all (δ¹ = 0), while {top} gets {last}.").format(
                top=top, last=sci(last))
            if math.isfinite(estimate) and estimate < FLOAT32_TINY:
                head += _(" δ¹ = 0 is float32 underflow: at the measured rate the true value is about "
                          "{estimate}, below float32's smallest number {tiny}.").format(
                              estimate=sci(estimate), tiny=sci(FLOAT32_TINY))
        else:
            head = _("Vanishing: layer 1 receives {ratio} of the error signal of {top}.").format(
                ratio=sci(ratio), top=top)
    elif ratio > EXPLODING_ABOVE:
        kind = "exploding"
        head = _("Exploding: layer 1 receives {ratio} times the error signal of {top}.").format(
            ratio=sci(ratio), top=top)
    elif n_hidden == 1:
        kind = "healthy"
        head = _("Healthy: one hidden layer has no chain of layers for δ to vanish or explode in.")
    else:
        kind = "healthy"
        head = _("Healthy: layer 1 receives {ratio} times the error signal of {top}: "
                 "within {bound:.0f}× either way.").format(ratio=sci(ratio), top=top, bound=EXPLODING_ABOVE)
    return kind, ratio, per_layer, head, _reason(kind, rows, network, per_layer)


def _symmetric_reason(rows: list[dict]) -> str:
    silent = all(r["delta_mean_abs"] == 0 for r in rows[:-1])
    flow = (_("With every weight 0, (W^(l+1))^T δ^(l+1) = 0: no error reaches the hidden layers at all. ")
            if silent else "")
    return flow + _("All weights start equal, so all units of a layer have the same z, the same a and the same "
                    "δ, and gradient descent gives them the same update: they stay copies of one another and the "
                    "layer acts like a single unit (zero init never breaks the symmetry). Use random weights such "
                    "as Xavier or He.")


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
    what: str  # "saturated" or "dead" (in the current language), whichever the share mostly is
    where: str  # what that means for σ'


def _reason(kind: str, rows: list[dict], network: NetworkSpec | None, per_layer: float) -> str:
    """The why, from the textbook's BP2: δ^l = ((W^(l+1))^T δ^(l+1)) ⊙ σ'(z^l)."""
    saturated, dead = _hidden_shares(rows)
    share = saturated + dead  # a unit is one or the other: relu dies, sigmoid/tanh saturate
    measured = (_("Measured: δ changes by ×{factor} per layer on average.").format(factor=sci(per_layer))
                if math.isfinite(per_layer) and per_layer > 0 else "")
    if network is None:
        parts = [_("{share:.0%} of hidden units are saturated or dead.").format(share=share)] \
            if share >= NOTABLE else []
        return sentences(*parts, measured)
    std, scale, n = weight_scale(network)
    mostly_dead = dead > saturated
    facts = _Facts(set(network.activations), network.init, std, scale,
                   _("the weight scale std·√n = {std:.3g}·√{n} = {scale:.3g}").format(std=std, n=n, scale=scale),
                   share, _("dead") if mostly_dead else _("saturated"),
                   _("z ≤ 0 on every sample, so σ'(z) = 0") if mostly_dead else _("a near its bounds, where σ'(z) ≈ 0"))
    parts = {"vanishing": _vanishing, "exploding": _exploding, "healthy": _healthy}[kind](facts)
    return sentences(*parts, measured)


def _vanishing(f: _Facts) -> list[str]:
    parts = []
    if "sigmoid" in f.acts:
        parts.append(_("σ'(z) ≤ 1/4 for the sigmoid, so each layer multiplies δ by at most ¼ × {scale_text}, "
                       "i.e. by ≤ {bound:.3g}.").format(scale_text=f.scale_text, bound=f.scale / 4))
    if f.scale < 0.5:
        parts.append(_("The weights are tiny: {scale_text}, so (W^(l+1))^T δ^(l+1) shrinks δ at every layer.").format(
            scale_text=f.scale_text))
    if f.share >= NOTABLE:
        parts.append(_("{share:.0%} of the hidden units are {what} ({where}).").format(
            share=f.share, what=f.what, where=f.where))
    if not parts:
        parts.append(_("BP2 multiplies δ by about std·√n·σ'(z) per layer, and here that is below 1 "
                       "({scale_text}).").format(scale_text=f.scale_text))
    return parts


def _exploding(f: _Facts) -> list[str]:
    if f.scale > 1.5:
        parts = [_("{Scale_text} is far above 1: each BP2 step multiplies δ by "
                   "about std·√n·√E[σ'(z)²], and the weights win over what σ'(z) takes away.").format(
                       Scale_text=_capital(f.scale_text))]
    else:
        parts = [_("BP2 multiplies δ by about std·√n·σ'(z) per layer, and here that is above 1 "
                   "({scale_text}).").format(scale_text=f.scale_text)]
    if f.share >= NOTABLE:
        parts.append(_("{share:.0%} of the hidden units are {what} ({where}): they hold some of it back.").format(
            share=f.share, what=f.what, where=f.where))
    return parts


def _capital(text: str) -> str:
    """text with its first letter upper-case (a phrase that starts a sentence; Chinese is left as it is)."""
    return text[:1].upper() + text[1:]


def _healthy(f: _Facts) -> list[str]:
    if f.scale > 1.5 and f.share >= NOTABLE:
        parts = [_("{Scale_text} would blow δ up, but {share:.0%} of the "
                   "hidden units are {what} ({where}), which holds it back: the two roughly cancel.").format(
                       Scale_text=_capital(f.scale_text), share=f.share, what=f.what, where=f.where)]
    else:
        parts = [_("BP2 multiplies δ by about std·√n·σ'(z) per layer, and that stays close to 1 "
                   "({scale_text}).").format(scale_text=f.scale_text)]
    if f.init == "he" and f.acts <= {"relu", "leaky_relu"}:
        parts.append(_("He's std = √(2/n) gives std·√n = √2, and ReLU passes δ on about half the units: "
                       "√2 · √½ = 1."))
    if f.share >= CROWDED:
        parts.append(_("Caution: with {share:.0%} of the units {what}, more layers would stop the signal.").format(
            share=f.share, what=f.what))
    return parts


# ---------------------------------------------------------------- training that diverged


def format_loss(value: float | None) -> str:
    """A loss as people read it: 0.2315, 12.41, 2.4e26 (not 237113821134164070347309056.000), inf, NaN."""
    if value is None:
        return "—"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-4):
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:.4f}"


def diverged_profile_note(steps: int, lr: float) -> str:
    """The Gradients page's note when its k training steps diverged."""
    return _("Training diverged after {steps} steps: the loss became infinite or NaN, or exploded far above where "
             "it started. Lower the learning rate η = {lr:g} or pick a gentler init; the profile shows the last "
             "weights.").format(steps=steps, lr=lr)


__all__ = ["Verdict", "KINDS", "VANISHING_BELOW", "EXPLODING_ABOVE", "CROWDED", "DEAD_LAYER", "underflow_estimate",
           "sci", "weight_scale", "verdict", "diverged_profile_note", "format_loss"]
