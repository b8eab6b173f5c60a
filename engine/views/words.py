"""The sentences a person reads, made from the engine's kinds and numbers with `_()` (English is the source text).

The gradients verdict (vanishing / exploding / healthy, and why, in BP2's terms), the Train page's warning when a
run's training shows vanishing gradients, how a run ended and what to do when training diverged, and the display
formatters for losses and tiny or huge numbers.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from ..nn.activations import ACTIVATIONS, LEAKY_SLOPE
from ..nn.model import INITS
from ..nn.spec import NetworkSpec
from ..text import _
from .verdicts import CROWDED, FLOAT32_TINY, GAIN_HIGH, GAIN_LOW, NOTABLE, Verdict, weight_scale

if TYPE_CHECKING:
    from ..train.trainer import Divergence, Finished
    from .gradients import Trained
    from .train import Judgement


# ---------------------------------------------------------------- numbers as people read them


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


def sentences(*parts: str) -> str:
    """Sentences in one paragraph: a space between English ones, none after Chinese full-width punctuation."""
    return re.sub(r"(?<=[。！？）])\s+", "", " ".join(p for p in parts if p).strip())


def _capital(text: str) -> str:
    """text with its first letter upper-case (a phrase that starts a sentence; Chinese is left as it is)."""
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------- the gradients verdict


def describe(verdict: Verdict, network: NetworkSpec | None = None) -> tuple[str, str]:
    """(headline, reason) in the current language: what the flow does, and why in BP2's terms.

    `network` lets the reason name σ and the init and quote the weight scale std·√n.
    """
    return _headline(verdict), _reason(verdict, network)


def verdict_text(verdict: Verdict, network: NetworkSpec | None = None) -> str:
    """Headline and reason in one paragraph (the gradients CLI's verdict text)."""
    return sentences(*describe(verdict, network))


def _headline(v: Verdict) -> str:
    """'Vanishing: layer 1 receives 2.0×10⁻⁶ of the error signal of layer 8 (...).', and why training stalled."""
    head = _flow_headline(v)
    if v.stalled:
        head += _(" The loss is still {loss:.3f}, where guessing gets {chance:.3f}: the run has learnt next to "
                  "nothing, because the first layers barely hear the error.").format(loss=v.loss, chance=v.chance)
    return head


def _flow_headline(v: Verdict) -> str:
    top = _("layer {n} (the last hidden layer)").format(n=v.hidden_layers) if v.hidden_layers > 1 else _("layer 1")
    if v.overflowed:
        return _("Exploding: the error signal overflowed (inf or NaN) on its way from the output layer down to "
                 "layer 1.")
    if v.kind == "symmetric":
        return _("Symmetric: every unit of a layer computes the same thing and gets the same update.")
    if v.kind == "dead":
        where = (_("every ReLU of layer {layer} is dead").format(layer=v.dead_layers[-1]) if v.dead_layers
                 else _("{share:.0%} of the hidden ReLUs are dead").format(share=v.dead))
        return _("Dead: {where} (z ≤ 0 on every sample, so σ'(z) = 0): the error signal stops there.").format(
            where=where)
    if v.kind == "vanishing":
        return _vanishing_headline(v, top)
    if v.kind == "exploding":
        return _("Exploding: layer 1 receives {ratio} times the error signal of {top}, ×{gain} per layer.").format(
            ratio=sci(v.ratio), top=top, gain=sci(v.per_layer))
    if v.hidden_layers == 0:
        return _("Healthy: with no hidden layer, δ exists only in the output layer (BP1), so there is no chain of "
                 "layers for it to vanish or explode in.")
    if v.hidden_layers == 1:
        return _("Healthy: one hidden layer has no chain of layers for δ to vanish or explode in.")
    if not v.in_band:  # two hidden layers: one BP2 step, too short a chain to vanish or explode in
        return _("Healthy: layer 1 receives {ratio} times the error signal of {top}, a single BP2 step away: too "
                 "short a chain to vanish or explode.").format(ratio=sci(v.ratio), top=top)
    return _("Healthy: each layer passes on ×{gain} of the error signal it receives (between {low:.2g} and "
             "{high:.2g}), and layer 1 receives {ratio} times the error signal of {top}.").format(
                 gain=sci(v.per_layer), low=GAIN_LOW, high=GAIN_HIGH, ratio=sci(v.ratio), top=top)


def _vanishing_headline(v: Verdict, top: str) -> str:
    if v.ratio > 0:
        return _("Vanishing: layer 1 receives {ratio} of the error signal of {top}, ×{gain} per layer.").format(
            ratio=sci(v.ratio), top=top, gain=sci(v.per_layer))
    head = _("Vanishing: layer 1 receives no error signal at all (δ¹ = 0), while {top} gets {last}.").format(
        top=top, last=sci(v.last_delta))
    if v.underflow is not None:
        head += _(" δ¹ = 0 is float32 underflow: at the measured rate the true value is about "
                  "{estimate}, below float32's smallest number {tiny}.").format(
                      estimate=sci(v.underflow), tiny=sci(FLOAT32_TINY))
    return head


def _reason(v: Verdict, network: NetworkSpec | None) -> str:
    """The why, from the textbook's BP2: δ^l = ((W^(l+1))^T δ^(l+1)) ⊙ σ'(z^l), always naming σ'(z)'s factor."""
    if v.kind == "symmetric":
        return _symmetric_reason(v)
    if v.kind == "dead":
        return _("BP2 multiplies δ by σ'(z) = 0 at a dead unit, so nothing passes below it and the weights "
                 "feeding it never change. Use a smaller learning rate, He init, or leaky ReLU (it passes "
                 "{slope:g}·δ back for z ≤ 0 and cannot die).").format(slope=LEAKY_SLOPE)
    measured = (_("Measured: δ changes by ×{factor} per layer on average.").format(factor=sci(v.per_layer))
                if math.isfinite(v.per_layer) and v.per_layer > 0 else "")
    if network is None:
        parts = [_("{share:.0%} of hidden units are saturated or dead.").format(share=v.share)] \
            if v.share >= NOTABLE else []
        return sentences(*parts, measured)
    facts = _Facts(v, network)
    lead = facts.sigma_prime(v.per_layer)  # first: it tells whether a bound per layer was already given
    if v.hidden_layers <= 1:  # no BP2 step between hidden layers: no gain was measured, so none is explained
        return sentences(*lead, *_caution(facts))
    parts = {"vanishing": _vanishing, "exploding": _exploding, "healthy": _healthy}[v.kind](facts)
    return sentences(*lead, *parts, measured)


def _symmetric_reason(v: Verdict) -> str:
    flow = (_("With every weight 0, (W^(l+1))^T δ^(l+1) = 0: no error reaches the hidden layers at all. ")
            if v.silent else "")
    return flow + _("All weights start equal, so all units of a layer have the same z, the same a and the same "
                    "δ, and gradient descent gives them the same update: they stay copies of one another and the "
                    "layer acts like a single unit (zero init never breaks the symmetry). Use random weights such "
                    "as Xavier or He.")


def _fraction(value: float) -> str:
    """0.25 as '1/4', 1.0 as '1' (σ' bounds read as the textbooks write them)."""
    return str(Fraction(value).limit_denominator(16))


class _Facts:
    """What a reason is built from: the verdict's shares and the network's σ, init and weight scale, worded."""

    def __init__(self, v: Verdict, network: NetworkSpec):
        std, scale, n = weight_scale(network)
        mostly_dead = v.dead > v.saturated
        self.acts = set(network.activations)  # the hidden layers' σ names
        self.init = network.init
        self.scale = scale  # std·√n of a typical hidden W
        self.scale_text = _("the weight scale std·√n = {std:.3g}·√{n} = {scale:.3g}").format(std=std, n=n,
                                                                                             scale=scale)
        self.share = v.share  # share of hidden units that are saturated or dead
        self.hidden = v.hidden_layers
        self.in_band = v.in_band
        self.gain = v.per_layer
        self.bound: float | None = None  # std·√n·max σ' on each BP2 step, when sigma_prime stated it
        self.what = _("dead") if mostly_dead else _("saturated")  # whichever the share mostly is
        self.where = (_("z ≤ 0 on every sample, so σ'(z) = 0") if mostly_dead  # what that means for σ'
                      else _("a near its bounds, where σ'(z) ≈ 0"))

    def sigma_prime(self, gain: float) -> list[str]:
        """σ'(z)'s factor for each hidden activation, read from the registry's σ'.

        With one saturating σ, also the bound std·√n·max σ' it puts on each BP2 step, unless the measured gain
        exceeds it: a reason never claims a factor the measurement contradicts.
        """
        parts = []
        for name in sorted(self.acts):
            act = ACTIVATIONS[name]
            label, peak = _(act.label), float(act.numpy_prime(np.float64(act.best_z)))
            low = float(act.numpy_prime(np.float64(-1.0)))  # σ' for z ≤ 0 (ReLU's 0, leaky ReLU's slope)
            if act.saturates and len(self.acts) == 1 and gain <= 1.2 * peak * self.scale:  # 1.2: "about"
                self.bound = peak * self.scale
                parts.append(_("σ'(z) ≤ {peak} for {activation}, so each layer multiplies δ by at most about "
                               "{peak} × {scale_text}, i.e. by ≤ {bound:.3g}.").format(
                                   peak=_fraction(peak), activation=label, scale_text=self.scale_text,
                                   bound=peak * self.scale))
            elif act.saturates:
                parts.append(_("σ'(z) ≤ {peak} for {activation}, and near 0 where a unit saturates.").format(
                    peak=_fraction(peak), activation=label))
            elif low == peak:
                parts.append(_("σ'(z) = {peak:g} for {activation}: it never shrinks δ.").format(
                    peak=peak, activation=label))
            elif low == 0:
                parts.append(_("σ'(z) is 0 or {peak:g} for {activation}: a unit passes δ on where z > 0 and stops "
                               "it where z ≤ 0.").format(peak=peak, activation=label))
            else:
                parts.append(_("σ'(z) is {low:g} or {peak:g} for {activation}: a unit passes δ on whole where "
                               "z > 0 and ×{low:g} where z ≤ 0.").format(low=low, peak=peak, activation=label))
        return parts


def _vanishing(f: _Facts) -> list[str]:
    parts = []
    if f.scale < 0.5:
        parts.append(_("The weights are tiny: {scale_text}, so (W^(l+1))^T δ^(l+1) shrinks δ at every layer.").format(
            scale_text=f.scale_text))
    if f.share >= NOTABLE:
        parts.append(_("{share:.0%} of the hidden units are {what} ({where}).").format(
            share=f.share, what=f.what, where=f.where))
    if not parts and f.bound is None:
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


def _healthy(f: _Facts) -> list[str]:
    if not f.in_band:  # fewer hidden layers than a chain (verdicts.CHAIN): one BP2 step, not yet compounded
        # σ's own bound predicts what more layers would do; one measured step (which also carries width changes,
        # 128 -> 64) does not
        parts = [_("Two hidden layers are a single BP2 step, so layer 1 loses that one factor only; every further "
                   "layer would multiply δ by at most about {bound:.3g} again, and δ would vanish.").format(
                       bound=f.bound) if f.bound is not None and f.bound < GAIN_LOW
                 else _("Two hidden layers are a single BP2 step (×{gain}): one factor, not a chain that compounds "
                        "layer after layer.").format(gain=sci(f.gain))]
    elif f.scale > 1.5 and f.share >= NOTABLE:
        parts = [_("{Scale_text} would blow δ up, but {share:.0%} of the "
                   "hidden units are {what} ({where}), which holds it back: the two roughly cancel.").format(
                       Scale_text=_capital(f.scale_text), share=f.share, what=f.what, where=f.where)]
    else:
        parts = [_("BP2 multiplies δ by about std·√n·σ'(z) per layer, and that stays close to 1 "
                   "({scale_text}).").format(scale_text=f.scale_text)]
    if f.init == "he" and f.acts <= {"relu", "leaky_relu"}:
        parts.append(_("He's std = √(2/n) gives std·√n = √2, and ReLU passes δ on about half the units: "
                       "√2 · √½ = 1."))
    return parts + _caution(f)


def _caution(f: _Facts) -> list[str]:
    if f.share < CROWDED:
        return []
    return [_("Caution: with {share:.0%} of the units {what}, more layers would stop the signal.").format(
        share=f.share, what=f.what)]


# ---------------------------------------------------------------- what training shows (the Train page)


def training_warning(j: Judgement) -> str:
    """The Train page's warning while a run is judged vanishing: its loss at chance and δ¹'s share, with numbers."""
    return _("Vanishing: after {steps:,} steps the loss is still {loss:.3f}, where guessing gets {chance:.3f}. "
             "Layer 1 receives {ratio} of the error signal of layer {last} (the last hidden layer; mean |δ| over "
             "the last {window} steps): the first layers barely hear the error, so they barely learn (Nielsen, "
             "ch. 5).").format(steps=j.step, loss=j.loss, chance=j.chance, ratio=sci(j.ratio), last=j.last_hidden,
                               window=j.window)


# ---------------------------------------------------------------- how a run ended


def diverged_profile_note(trained: Trained) -> str:
    """The Gradients page's note when its k training steps diverged, or ""."""
    if trained.status != "diverged":
        return ""
    return _("Training diverged after {steps} steps: the loss became infinite or NaN, or exploded far above where "
             "it started. Lower the learning rate η = {lr:g} or pick a gentler init; the profile shows the last "
             "weights.").format(steps=trained.steps, lr=trained.lr)


def ending_message(ending: Finished | Divergence | None) -> str:
    """How the run ended, in the reader's language: "" while it has not."""
    from ..train.trainer import Divergence, Finished  # the trainer's modules only where a run is worded

    if isinstance(ending, Finished):
        return _("finished {epochs} epochs ({steps} steps)").format(epochs=ending.epochs, steps=ending.steps)
    if isinstance(ending, Divergence):
        return divergence_advice(ending)
    return ""


def divergence_advice(d: Divergence) -> str:
    """Why a run's loss became NaN/inf or exploded far above its start, most likely, and what to change.

    The network's init and activations keep the advice to what would change something: no "use Xavier or He"
    to a network that already uses one of them.
    """
    loss_value, start_loss, lr, optimizer, largest_grad = d.loss, d.start_loss, d.lr, d.optimizer, d.largest_grad
    init, activations, step = d.init, d.activations, d.step
    if math.isfinite(loss_value) and start_loss:
        ratio = loss_value / start_loss
        times = f"{ratio:,.0f}" if ratio < 1e6 else format_loss(ratio)
        became = _("the loss reached {loss}, {times} times the {start:.3g} it started at").format(
            loss=format_loss(loss_value), times=times, start=start_loss)
    else:
        became = _("the loss became {loss}").format(loss=format_loss(loss_value))
    high_lr = lr >= 0.1 or optimizer == "adam" and lr >= 0.01
    cause = _("the learning rate η = {lr:g} is too high").format(lr=lr) if high_lr else _("the gradients exploded")
    grown = (_(" (the largest ‖∂C/∂W‖ had reached {grad:.3g})").format(grad=largest_grad)
             if math.isfinite(largest_grad) else "")
    fixes = [_("lower the learning rate (try η = {lr:g})").format(lr=lr / 10)]
    if init in ("normal", "small", "zeros") or init is None:
        relu = any(a in ("relu", "leaky_relu") for a in activations)
        fixes.append(_("use a scaled init (He for ReLU, Xavier for sigmoid/tanh)") if init is None or not activations
                     else _("use {better} initialisation instead of {init}").format(
                         better="He" if relu else "Xavier", init=_(INITS[init].short)))
    if optimizer == "sgd" and high_lr:
        fixes.append(_("or switch to adam, whose step per weight is bounded by about η"))
    if activations and all(a == "linear" for a in activations):
        fixes.append(_("note that linear layers let the output grow without bound"))
    return _("Training diverged at step {step}: {became}. Most likely {cause}{grown}. {fixes}.").format(
        step=step, became=became, cause=cause, grown=grown, fixes=_capital(_("; ").join(fixes)))


__all__ = ["sci", "format_loss", "sentences", "describe", "verdict_text", "training_warning",
           "diverged_profile_note", "ending_message", "divergence_advice"]
