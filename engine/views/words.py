"""The sentences a person reads about a run, made from the engine's records with `_()`: how a run ended."""
from __future__ import annotations

import math

from ..text import _
from ..train.trainer import Divergence, Finished
from .verdicts import _capital, format_loss


def ending_message(ending: Finished | Divergence | None) -> str:
    """How the run ended, in the reader's language: "" while it has not."""
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
                         better="He" if relu else "Xavier", init=init))
    if optimizer == "sgd" and high_lr:
        fixes.append(_("or switch to adam, whose step per weight is bounded by about η"))
    if activations and all(a == "linear" for a in activations):
        fixes.append(_("note that linear layers let the output grow without bound"))
    return _("Training diverged at step {step}: {became}. Most likely {cause}{grown}. {fixes}.").format(
        step=step, became=became, cause=cause, grown=grown, fixes=_capital(_("; ").join(fixes)))


__all__ = ["ending_message", "divergence_advice"]
