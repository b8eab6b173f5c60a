"""The optimizers sgd, momentum and adam: torch's fused update kernels, one call per step for every W^l and b^l.

torch.optim's classes run these same kernels (with fused=True) but spend about as long again in Python
bookkeeping every step (parameter groups, lazy state, profiler records); on this app's small networks that
was 50 µs of a 0.8 ms step. Tests check every step against torch.optim, bit for bit.

Weight decay shrinks the weights W^l only, never the biases b^l (a bias does not make a network more
complex, and decaying it pulls units towards z = 0 for nothing). sgd and momentum add it to the gradient,
∇C + λw (L2 regularisation, torch.optim.SGD(weight_decay)); adam decays decoupled from its adaptive step,
w ← w − ηλw (AdamW, Loshchilov & Hutter): with L2 inside Adam the penalty's gradient would be divided by
√v like any other and weights with large gradients would hardly decay at all.

What λ means is TrainSpec.decay's convention. d2l (Dive into Deep Learning): λ/2 ‖w‖² is added to every
mini-batch's cost, so each step is w ← w − η(∇C₀ + λw), the kernels' own weight_decay = λ. nielsen (Neural
Networks and Deep Learning, ch. 3): C = C₀ + (λ/2n) Σw² with n the training-set size, so each step is
w ← (1 − ηλ/n)w − η∇C₀: the same kernels with weight_decay = λ/n (decay_rate). Both shrink the same weights.
"""
from __future__ import annotations

from typing import Iterable

import torch

from ..text import N_
from .spec import TrainSpec

# The learning rates η the pages offer: one log-spaced ladder, 1, 2, 3 and 5 in every decade from 1e-4 to 100
# (written as decimal strings, so 0.3 is the float 0.3 a link's "lr=0.3" reads as). Each page takes its own
# stretch of it with learning_rates(low, high).
LEARNING_RATES = tuple(float(f"{m}e{e}") for e in range(-4, 2) for m in (1, 2, 3, 5)) + (100.0,)
ADAM_BETAS = (0.9, 0.999)  # β1, β2: the running averages of ∇C and (∇C)²
ADAM_EPS = 1e-8

# Marked with N_: shown as _(OPTIMIZER_LABELS[name]) and _(WEIGHT_DECAY_HELP)
OPTIMIZER_LABELS = {"sgd": N_("SGD: w ← w − η∇C"), "momentum": N_("SGD with momentum: v ← μv + ∇C, w ← w − ηv"),
                    "adam": N_("Adam: per-weight step sizes from running gradient moments")}
OPTIMIZER_SHORT = {"sgd": N_("SGD"), "momentum": N_("SGD with momentum"), "adam": N_("Adam")}  # in the Train box
# What the weight-decay control does with each optimizer (the Train page's help, the README)
WEIGHT_DECAY_HELP = N_("Weight decay λ shrinks the weights W, never the biases. With sgd and momentum it is L2: "
                        "λw is added to the gradient. With adam it is decoupled (AdamW): w ← w − ηλw besides Adam's "
                        "own step.")
# The conventions of TrainSpec.decay, labelled by the cost they add (the Train page's choice)
DECAY_LABELS = {"d2l": N_("λ/2 ‖w‖² per mini-batch (D2L)"),
                "nielsen": N_("λ/2n Σw² over the training set (Nielsen)")}
DECAY_HELP = N_("What λ means. D2L: λ/2 ‖w‖² is added to every mini-batch's cost, so each step shrinks w by ηλw. "
                "Nielsen: λ/2n Σw² with n the training-set size, so each step shrinks w by ηλw/n: the same λ "
                "decays n times less, and Nielsen's λ = 5 on 50,000 images is D2L's λ = 0.0001.")


def decay_rate(spec: TrainSpec, train_size: int | None) -> float:
    """The kernels' weight_decay for spec's λ: λ itself (d2l), or λ/n for the n training samples (nielsen)."""
    if spec.decay == "d2l" or spec.weight_decay == 0:
        return spec.weight_decay
    if not train_size:
        raise ValueError("Nielsen's weight decay λ/n needs the training-set size n")
    return spec.weight_decay / train_size


def learning_rates(low: float, high: float) -> list[float]:
    """The ladder's η from low to high, both included: one page's choices."""
    chosen = [lr for lr in LEARNING_RATES if low <= lr <= high]
    if not chosen or chosen[0] != low or chosen[-1] != high:
        raise ValueError(f"{low:g} and {high:g} must both be on the learning-rate ladder")
    return chosen


class Optimizer:
    """spec.optimizer (validated by TrainSpec) over a fixed list of parameters; reads each .grad at step().

    train_size: n, the training set's size, which Nielsen's convention divides λ by (not needed for d2l).
    """

    def __init__(self, params: Iterable[torch.Tensor], spec: TrainSpec, train_size: int | None = None):
        name = spec.optimizer
        self.train_size = train_size
        self.name, self.lr, self.weight_decay = name, spec.lr, decay_rate(spec, train_size)  # the kernels' λ
        self.momentum = spec.momentum if name == "momentum" else 0.0
        self.params = list(params)
        # weights (matrices, conv kernels) decay; biases (vectors) never do
        self.decays = [p.dim() > 1 for p in self.params]
        self.steps = 0
        zeros = [torch.zeros_like(p) for p in self.params] if name == "adam" else []
        self.exp_avgs, self.exp_avg_sqs = zeros, [torch.zeros_like(p) for p in zeros]  # Adam's m and v
        self.state_steps = [torch.zeros(()) for _ in zeros]  # Adam's t, one per parameter as the kernel wants
        # momentum's v, set to the first gradient on the first step
        self.velocities = [torch.empty_like(p) for p in self.params] if self.momentum else []

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """w ← w − η · (the optimizer's direction), for every parameter that has a gradient."""
        if any(p.grad is None for p in self.params):
            raise RuntimeError("optimizer step without gradients: run backward first")
        if self.name == "adam":
            torch._foreach_add_(self.state_steps, 1)
        for decay in (True, False):  # one fused call for the weights (decayed), one for the biases
            idx = [i for i, d in enumerate(self.decays) if d == decay]
            if not idx:
                continue
            pick = lambda tensors: [tensors[i] for i in idx] if tensors else []  # noqa: E731  (sgd: no state)
            params, grads = pick(self.params), [self.params[i].grad for i in idx]
            weight_decay = self.weight_decay if decay else 0.0
            if self.name == "adam":
                # decoupled: w ← (1 − η·weight_decay)w, then Adam's step. With nielsen's λ/n that is exactly
                # Nielsen's (1 − ηλ/n) shrink; only the −η∇C₀ beside it is Adam's normalised step instead.
                torch._fused_adamw_(params, grads, pick(self.exp_avgs), pick(self.exp_avg_sqs), [],
                                    pick(self.state_steps), lr=self.lr, beta1=ADAM_BETAS[0], beta2=ADAM_BETAS[1],
                                    weight_decay=weight_decay, eps=ADAM_EPS, amsgrad=False, maximize=False)
            else:
                torch._fused_sgd_(params, grads, pick(self.velocities), weight_decay=weight_decay,
                                  momentum=self.momentum, lr=self.lr, dampening=0.0, nesterov=False,
                                  maximize=False, is_first_step=self.steps == 0)
        self.steps += 1

    def retune(self, spec: TrainSpec) -> None:
        """spec's η, μ and weight decay (λ, convention) from the next step on; m, v and the velocities are kept."""
        self.lr, self.weight_decay, momentum = spec.lr, decay_rate(spec, self.train_size), spec.momentum
        if self.name == "momentum":
            if momentum and not self.velocities:  # the run started at μ = 0: v starts at 0 (v ← μ·0 + ∇C)
                self.velocities = [torch.zeros_like(p) for p in self.params]
            self.momentum = momentum
