"""The Backprop page's lesson as records: BP1-BP4 worked on one digit, and what one descent step does."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn.activations import ACTIVATIONS, output_name
from ..nn.backprop import backprop_steps, cost, forward
from .backprop_check import compare, step_sweep

DIGITS = 10
SWEEP = np.logspace(-2, 2, 41)  # the η axis of the descent-step chart, 0.01 to 100
OVERSHOOT_RISE = 0.01  # a curve overshoots when it climbs back above its lowest by 1 % of its starting cost


@dataclass(frozen=True)
class LayerStep:
    """One layer's part of the backward pass on the one digit (layer l, 1-based)."""

    layer: int
    a: np.ndarray  # a^l, (n_l,)
    delta: np.ndarray  # δ^l = ∂C/∂z^l, (n_l,)
    back: np.ndarray | None  # (W^(l+1))^T δ^(l+1), (n_l,); None for the output layer
    sigma_prime: np.ndarray | None  # σ'(z^l), (n_l,); None for softmax with cross-entropy
    grad_w: np.ndarray  # ∂C/∂W^l = δ^l (a^(l-1))^T, (n_l, n_(l-1))
    grad_b: np.ndarray  # ∂C/∂b^l = δ^l, (n_l, 1)


@dataclass(frozen=True)
class Worked:
    """BP1-BP4 on one digit, with the arrays kept for the descent step."""

    weights: tuple[np.ndarray, ...]  # W^l, (n_l, n_(l-1)), float64 copies
    biases: tuple[np.ndarray, ...]  # b^l, (n_l, 1)
    activations: tuple[str, ...]  # σ of each hidden layer
    loss: str  # ce or mse
    layer_names: tuple[str, ...]  # σ of every layer, the output's (softmax or sigmoid) last
    x: np.ndarray  # a^0, the digit as (784, 1)
    y: np.ndarray  # the one-hot target, (10, 1)
    target: int
    zs: tuple[np.ndarray, ...]  # z^l for l = 1..L, each (n_l,)
    outs: tuple[np.ndarray, ...]  # a^l for l = 0..L, each (n_l,)
    steps: tuple[LayerStep, ...]  # layer L first, layer 1 last
    cost: float  # C on this digit
    predicted: int  # argmax of a^L
    top_units: tuple[int, ...]  # the 4 units of layer 1 with the largest |δ|, largest first
    top_grad_w: np.ndarray  # their rows of ∂C/∂W^1, (4, 784)
    top_delta: np.ndarray  # their δ^1, (4,)
    differences: dict  # {"float64"|"float32": {"delta"|"grad_w"|"grad_b": max |numpy − autograd|}}

    @property
    def n_layers(self) -> int:
        return len(self.weights)

    @property
    def grad_w(self) -> list[np.ndarray]:
        """∂C/∂W^l indexed like weights (layer 1 first)."""
        return [s.grad_w for s in self.steps[::-1]]

    @property
    def grad_b(self) -> list[np.ndarray]:
        """∂C/∂b^l indexed like biases (layer 1 first)."""
        return [s.grad_b for s in self.steps[::-1]]


@dataclass(frozen=True)
class Overshoot:
    """Whether a cost-after-one-step curve over η climbs again after its lowest point."""

    overshoots: bool
    best_eta: float  # the η of the lowest cost on the sweep


@dataclass(frozen=True)
class DescentStep:
    """One step w ← w − η ∂C/∂w for this digit's gradient: its cost and the other digits' mean cost."""

    eta: float
    n_others: int
    this_before: float
    this_after: float
    others_before: float
    others_after: float
    sweep: np.ndarray  # η values, (41,)
    this_curve: np.ndarray  # C on this digit after one step of each η, (41,)
    others_curve: np.ndarray  # mean C on the other digits after one step of each η, (41,)
    this: Overshoot
    others: Overshoot


def one_hot(labels, classes: int = DIGITS) -> np.ndarray:
    """(classes, m): one column per sample, 1 at its label."""
    return np.eye(classes)[np.asarray(labels, dtype=int)].T


def digit_image(pixels) -> np.ndarray:
    """Any 784 pixel values (a drawing or a validation row) as a (28, 28) float64 image."""
    return np.asarray(pixels, dtype=np.float64).reshape(28, 28)


def work_through(arrays: tuple, image: np.ndarray, target: int) -> Worked:
    """BP1-BP4 on one digit for a network's (weights, biases, activations, loss) from backprop_check.mlp_arrays."""
    weights, biases, activations, loss = arrays
    weights = tuple(w.copy() for w in weights)  # never touch the caller's (possibly cached) arrays
    biases = tuple(b.copy() for b in biases)
    x, y = digit_image(image).reshape(784, 1), one_hot([target])
    raw = backprop_steps(weights, biases, activations, x, y, loss)  # one dict per layer, layer L first
    zs, outs = forward(weights, biases, activations, x, loss)
    column = lambda v: None if v is None else v[:, 0]  # noqa: E731  (n_l, 1) -> (n_l,): one sample
    steps = tuple(LayerStep(s["layer"], column(s["a"]), column(s["delta"]), column(s["back"]),
                            column(s["sigma_prime"]), s["grad_w"], s["grad_b"]) for s in raw)
    reference = ([s["delta"] for s in raw[::-1]], [s["grad_w"] for s in raw[::-1]], [s["grad_b"] for s in raw[::-1]])
    first = steps[-1]
    top = np.argsort(-np.abs(first.delta))[:4]
    return Worked(
        weights=weights, biases=biases, activations=tuple(activations), loss=loss,
        layer_names=tuple(activations) + (output_name(loss),), x=x, y=y, target=int(target),
        zs=tuple(z[:, 0] for z in zs), outs=tuple(a[:, 0] for a in outs), steps=steps,
        cost=cost(weights, biases, activations, x, y, loss), predicted=int(np.argmax(outs[-1][:, 0])),
        top_units=tuple(int(u) for u in top), top_grad_w=first.grad_w[top], top_delta=first.delta[top],
        differences=compare(reference, weights, biases, activations, x, y, loss))


def overshoot(curve, start: float, sweep=SWEEP) -> Overshoot:
    """A curve overshoots when, after its lowest point, it climbs back by more than 1 % of the starting cost."""
    curve = np.asarray(curve, dtype=float)
    lowest = int(np.argmin(curve))
    return Overshoot(bool(curve[lowest:].max() > curve[lowest] + OVERSHOOT_RISE * start), float(sweep[lowest]))


def other_digits(x_val: np.ndarray, y_val: np.ndarray, exclude: int | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(x (784, n), one-hot y (10, n)): the first n validation digits except the one worked through."""
    keep = np.arange(len(x_val)) != (-1 if exclude is None else exclude)
    return x_val[keep][:n].T.astype(np.float64), one_hot(y_val[keep][:n])


def descent_step(worked: Worked, eta: float, x_others: np.ndarray, y_others: np.ndarray,
                 sweep=SWEEP) -> DescentStep:
    """C on this digit and on the others after one step of this digit's gradient, at η and over the sweep."""
    w, b, acts, loss = worked.weights, worked.biases, worked.activations, worked.loss
    grad_w, grad_b = worked.grad_w, worked.grad_b
    sweep = np.asarray(sweep, dtype=float)
    curves = {}
    for name, (x, y) in (("this", (worked.x, worked.y)), ("others", (x_others, y_others))):
        curves[name] = step_sweep(w, b, acts, grad_w, grad_b, np.append(sweep, eta), x, y, loss)
    others_before = cost(w, b, acts, x_others, y_others, loss)
    this_curve, others_curve = curves["this"][:-1], curves["others"][:-1]
    return DescentStep(
        eta=float(eta), n_others=x_others.shape[1], this_before=worked.cost, this_after=float(curves["this"][-1]),
        others_before=others_before, others_after=float(curves["others"][-1]), sweep=sweep,
        this_curve=this_curve, others_curve=others_curve, this=overshoot(this_curve, worked.cost, sweep),
        others=overshoot(others_curve, others_before, sweep))


# ---------------------------------------------------------------- BP1 and BP2 as Jacobian products

@dataclass(frozen=True)
class OutputJacobian:
    """BP1 written as the chain rule δ^L = (∂a^L/∂z^L)^T ∇_a C, checked against the short formula."""

    loss: str  # ce: softmax outputs, ∇_a C = −y/a; mse: sigmoid outputs, ∇_a C = a − y
    jacobian: np.ndarray  # ∂a^L/∂z^L, (n_L, n_L): diag(a) − a a^T for softmax, diag(σ'(z)) for sigmoid
    grad_a: np.ndarray  # ∇_a C, (n_L,)
    delta: np.ndarray  # (∂a/∂z)^T ∇_a C, (n_L,)
    formula: np.ndarray  # a − y (ce) or ∇_a C ⊙ σ'(z^L) (mse), (n_L,)
    difference: float  # max |delta − formula|
    off_diagonal: float  # the largest |∂a_j/∂z_k| with j ≠ k: 0 means σ' acts element by element


def output_jacobian(worked: Worked) -> OutputJacobian:
    """The output layer's Jacobian times ∇_a C on the worked digit, and how far it is from BP1's short form."""
    z, a, y = worked.zs[-1], worked.outs[-1], worked.y[:, 0]
    if worked.loss == "ce":
        jacobian = np.diag(a) - np.outer(a, a)  # ∂a_j/∂z_k = a_j (1[j=k] − a_k)
        safe = np.where(y > 0, a, 1.0)  # C = −Σ y_j ln a_j: only the target's term has a gradient
        grad_a = np.where(y > 0, -y / safe, 0.0)
        formula = a - y
    else:
        sigma_prime = ACTIVATIONS["sigmoid"].numpy_prime(z)
        jacobian = np.diag(sigma_prime)
        grad_a = a - y  # C = ½‖a − y‖²
        formula = grad_a * sigma_prime
    delta = jacobian.T @ grad_a
    off = jacobian - np.diag(np.diag(jacobian))
    return OutputJacobian(worked.loss, jacobian, grad_a, delta, formula, float(np.abs(delta - formula).max()),
                          float(np.abs(off).max()))


def layer_jacobian(w_next: np.ndarray, z: np.ndarray, activation: str) -> np.ndarray:
    """∂z^(l+1)/∂z^l = W^(l+1) diag(σ'(z^l)), (n_(l+1), n_l), for one sample's z^l."""
    return w_next * ACTIVATIONS[activation].numpy_prime(np.asarray(z, dtype=np.float64))[None, :]


@dataclass(frozen=True)
class ChainStep:
    """BP2 for hidden layer l on the worked digit: the chain rule's Jacobian product against the formula."""

    layer: int
    jacobian: np.ndarray  # ∂z^(l+1)/∂z^l, (n_(l+1), n_l)
    by_chain_rule: np.ndarray  # (∂z^(l+1)/∂z^l)^T δ^(l+1), (n_l,)
    by_formula: np.ndarray  # ((W^(l+1))^T δ^(l+1)) ⊙ σ'(z^l), (n_l,)
    difference: float  # max |by_chain_rule − by_formula|


def chain_rule(worked: Worked) -> tuple[ChainStep, ...]:
    """BP2 as a Jacobian-transpose product for every hidden layer, layer L−1 first, like worked.steps[1:]."""
    out = []
    for step in worked.steps[1:]:
        l = step.layer
        delta_next = worked.steps[worked.n_layers - l - 1].delta  # δ^(l+1)
        jacobian = layer_jacobian(worked.weights[l], worked.zs[l - 1], worked.activations[l - 1])
        by_chain = jacobian.T @ delta_next
        out.append(ChainStep(l, jacobian, by_chain, step.delta, float(np.abs(by_chain - step.delta).max())))
    return tuple(out)
