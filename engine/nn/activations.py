"""The one activation registry: per name σ and σ' (torch and numpy), how the unit fails, its label and symbol.

Every module looks activations up here by name: the model's layers, the explicit BP1-BP4 step (in-place
forms), the numpy reference, the autograd check, the gradients page's scalar chain, the probes'
saturated / dead counts, and every page's labels and figures. The output layer's σ (softmax, sigmoid or
linear) and which loss it goes with are here too. σ' at a kink is the one torch autograd uses:
relu'(0) = 0, leaky_relu'(0) = LEAKY_SLOPE.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..text import N_

aten = torch.ops.aten

LEAKY_SLOPE = 0.01  # leaky_relu's σ'(z) for z ≤ 0 (torch's default negative slope)
SATURATION_MARGIN = 0.02  # a unit whose a is within this of σ's bounds counts as saturated
KINDS = ("saturates", "dies", "none")  # how a unit of an activation stops learning; also its colour key in ui/


@dataclass(frozen=True)
class Activation:
    """One non-linearity σ, value and derivative side by side, and how a unit using it stops learning."""

    name: str
    label: str  # display name (marked with N_: shown as _(activation.label))
    symbol: str  # σ(z) in Unicode, for figure titles
    bounds: tuple[float, float] | None  # output range it saturates towards (σ' → 0 there), None: never saturates
    dies: bool  # True: σ'(z) = 0 for every z ≤ 0, so a unit with z ≤ 0 on every sample passes no δ back
    best_z: float  # a z where σ' is largest (the scalar chain's best case)
    torch: Callable[[torch.Tensor], torch.Tensor]  # σ(z)
    torch_prime: Callable[[torch.Tensor], torch.Tensor]  # σ'(z)
    numpy: Callable[[np.ndarray], np.ndarray]  # σ(z)
    numpy_prime: Callable[[np.ndarray], np.ndarray]  # σ'(z)
    forward_: Callable[[torch.Tensor], torch.Tensor]  # z -> σ(z) in place (the explicit step's buffer row)
    backward_: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (g, a = σ(z)) -> g ⊙ σ'(z) in place
    module: Callable[[], nn.Module]  # the layer a Net uses

    @property
    def saturates(self) -> bool:
        return self.bounds is not None

    @property
    def kind(self) -> str:
        """One of KINDS: "saturates" (σ' → 0 towards its bounds), "dies" (σ' = 0 for z ≤ 0) or "none"."""
        return "saturates" if self.saturates else "dies" if self.dies else "none"


def sigmoid_np(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1/(1+e^-z) without overflow: only e^-|z| is ever computed."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_prime_np(z: np.ndarray) -> np.ndarray:
    s = sigmoid_np(z)
    return s * (1.0 - s)


def _sigmoid_prime(z: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(z)
    return s * (1 - s)


# backward_ uses autograd's own backward kernels (g ← g ⊙ σ'(z) from a = σ(z), in place), so rounding matches it
ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (
    Activation(
        name="sigmoid", label=N_("sigmoid"), symbol="σ(z) = 1/(1 + e⁻ᶻ)", bounds=(0.0, 1.0), dies=False, best_z=0.0,
        torch=torch.sigmoid, torch_prime=_sigmoid_prime, numpy=sigmoid_np, numpy_prime=_sigmoid_prime_np,
        forward_=torch.Tensor.sigmoid_,
        backward_=lambda g, a: aten.sigmoid_backward.grad_input(g, a, grad_input=g),  # σ' = a(1 − a)
        module=nn.Sigmoid),
    Activation(
        name="tanh", label=N_("tanh"), symbol="σ(z) = tanh z", bounds=(-1.0, 1.0), dies=False, best_z=0.0,
        torch=torch.tanh, torch_prime=lambda z: 1 - torch.tanh(z) ** 2,
        numpy=np.tanh, numpy_prime=lambda z: 1.0 - np.tanh(z) ** 2,
        forward_=torch.Tensor.tanh_,
        backward_=lambda g, a: aten.tanh_backward.grad_input(g, a, grad_input=g),  # σ' = 1 − a²
        module=nn.Tanh),
    Activation(
        name="relu", label=N_("ReLU"), symbol="σ(z) = max(0, z)", bounds=None, dies=True, best_z=1.0,
        torch=torch.relu, torch_prime=lambda z: (z > 0).to(z.dtype),
        numpy=lambda z: np.maximum(z, 0.0), numpy_prime=lambda z: np.where(z > 0, 1.0, 0.0),
        forward_=torch.Tensor.relu_,
        backward_=lambda g, a: aten.threshold_backward.grad_input(g, a, 0, grad_input=g),  # σ' = 1 where a > 0
        module=nn.ReLU),
    Activation(
        name="leaky_relu", label=N_("leaky ReLU"), symbol=f"σ(z) = max({LEAKY_SLOPE:g}z, z)", bounds=None,
        dies=False, best_z=1.0,  # never dies: for z ≤ 0 it still passes LEAKY_SLOPE·δ back
        torch=lambda z: F.leaky_relu(z, LEAKY_SLOPE),
        torch_prime=lambda z: torch.where(z > 0, torch.ones_like(z), torch.full_like(z, LEAKY_SLOPE)),
        numpy=lambda z: np.where(z > 0, z, LEAKY_SLOPE * z), numpy_prime=lambda z: np.where(z > 0, 1.0, LEAKY_SLOPE),
        forward_=lambda z: F.leaky_relu_(z, LEAKY_SLOPE),
        backward_=lambda g, a: aten.leaky_relu_backward.grad_input(g, a, LEAKY_SLOPE, True, grad_input=g),
        module=lambda: nn.LeakyReLU(LEAKY_SLOPE)),
    Activation(
        name="linear", label=N_("linear (identity)"), symbol="σ(z) = z", bounds=None, dies=False, best_z=0.0,
        torch=lambda z: z, torch_prime=torch.ones_like,
        numpy=lambda z: np.array(z, dtype=float, copy=True), numpy_prime=lambda z: np.ones_like(z, float),
        forward_=lambda z: z, backward_=lambda g, a: g,
        module=nn.Identity),
)}



def _softmax(z: torch.Tensor) -> torch.Tensor:
    """softmax over the last dim, written out: torch.softmax over 10 classes takes ~5x longer on CPU."""
    e = (z - z.amax(dim=-1, keepdim=True)).exp()
    return e / e.sum(dim=-1, keepdim=True)


@dataclass(frozen=True)
class Output:
    """The output layer's σ: a^L from z^L (one row per sample), and where it saturates."""

    name: str
    label: str  # display name (marked with N_: shown as _(output.label))
    bounds: tuple[float, float] | None  # a softmax/sigmoid output near 0 or 1 is a confident answer, not judged
    torch: Callable[[torch.Tensor], torch.Tensor]  # z^L (B, n_L) -> a^L (B, n_L)


OUTPUTS: dict[str, Output] = {o.name: o for o in (
    Output("softmax", N_("softmax"), (0.0, 1.0), _softmax),
    Output("sigmoid", N_("sigmoid"), (0.0, 1.0), torch.sigmoid),
    Output("linear", N_("linear (identity)"), None, lambda z: z),
)}
# Each classification loss with its output σ: cross-entropy on softmax, the quadratic cost on sigmoids.
# A regression network's one output is linear, whatever the loss (it is always mse).
LOSS_OUTPUTS = {"ce": "softmax", "mse": "sigmoid"}


def output_name(loss: str, regression: bool = False) -> str:
    """The output layer's σ for a loss: softmax (ce), sigmoid (mse) or linear (regression)."""
    return "linear" if regression else LOSS_OUTPUTS[loss]


def label(name: str) -> str:
    """The display name (an N_ message) of a hidden or an output activation."""
    return ACTIVATIONS[name].label if name in ACTIVATIONS else OUTPUTS[name].label


def bounds(name: str) -> tuple[float, float] | None:
    """Where σ saturates, for a hidden activation or an output activation (softmax / sigmoid / linear)."""
    return ACTIVATIONS[name].bounds if name in ACTIVATIONS else OUTPUTS[name].bounds


def dies(name: str) -> bool:
    """True if units of this σ can die (z ≤ 0 on every sample, σ' = 0): relu only."""
    return name in ACTIVATIONS and ACTIVATIONS[name].dies


__all__ = ["Activation", "ACTIVATIONS", "KINDS", "LEAKY_SLOPE", "LOSS_OUTPUTS", "Output", "OUTPUTS",
           "SATURATION_MARGIN", "bounds", "dies", "output_name", "sigmoid_np"]
