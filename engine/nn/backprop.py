"""numpy reference of forward propagation and the four backprop equations BP1-BP4."""
from __future__ import annotations

import math

import numpy as np

from .activations import ACTIVATIONS, output_name, sigmoid_np
from .spec import LOSS_NAMES

# Notation (DESIGN.md): weights[l-1] is W^l, shape (n_l, n_(l-1)); biases[l-1] is b^l, shape (n_l, 1);
# x is (n_0, m) with one column per sample; y is (n_L, m). Python lists are 0-based, layers 1-based.

Array = np.ndarray


class BackpropError(ValueError):
    """Inputs that do not fit together, with a message saying which array and which shape."""


def _log_softmax(z: Array) -> Array:
    """ln softmax over each column, shifted by the column max so exp never overflows; (n_L, m)."""
    shifted = z - z.max(axis=0, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))


def _softmax(z: Array) -> Array:
    return np.exp(_log_softmax(z))


# ---------------------------------------------------------------- validation

def _matrix(value, name: str) -> Array:
    """A float64 2-D copy of value, or a BackpropError naming it."""
    arr = np.array(value, dtype=np.float64)
    if arr.ndim != 2:
        raise BackpropError(f"{name} must be a 2-D array, got shape {arr.shape}")
    return arr


def _hidden_activations(activation, hidden_layers: int) -> list[str]:
    """One name for every hidden layer, or a list with one name per hidden layer."""
    names = [activation] * hidden_layers if isinstance(activation, str) else list(activation)
    if len(names) != hidden_layers:
        raise BackpropError(f"activation needs one name per hidden layer ({hidden_layers}), got {len(names)}")
    for name in names:
        if name not in ACTIVATIONS:
            raise BackpropError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {name!r}")
    return names


def _check_network(weights, biases, activation, x) -> tuple[list[Array], list[Array], list[str], Array]:
    """float64 copies of weights, biases and x after checking each layer's shape against the last."""
    if len(weights) == 0:
        raise BackpropError("weights must hold at least one matrix (the output layer)")
    if len(biases) != len(weights):
        raise BackpropError(f"got {len(weights)} weight matrices but {len(biases)} bias vectors")
    x = _matrix(x, "x")
    ws, bs = [], []
    units = x.shape[0]  # n_(l-1): units in the layer feeding W^l
    for i, (w, b) in enumerate(zip(weights, biases)):
        w, b = _matrix(w, f"weights[{i}]"), np.array(b, dtype=np.float64)
        if w.shape[1] != units:
            raise BackpropError(f"weights[{i}] has shape {w.shape} but layer {i} has {units} units")
        if b.shape != (w.shape[0], 1):  # a 1-D bias would broadcast silently into the wrong shape
            raise BackpropError(f"biases[{i}] has shape {b.shape} but must be ({w.shape[0]}, 1)")
        ws.append(w)
        bs.append(b)
        units = w.shape[0]
    return ws, bs, _hidden_activations(activation, len(ws) - 1), x


def _check_targets(y, loss: str, n_out: int, m: int) -> Array:
    """y as float64 (n_L, m); with ce every column must be a probability vector (one-hot)."""
    if loss not in LOSS_NAMES:
        raise BackpropError(f"loss must be one of {', '.join(LOSS_NAMES)}; got {loss!r}")
    y = _matrix(y, "y")
    if y.shape != (n_out, m):
        raise BackpropError(f"y has shape {y.shape} but must be ({n_out}, {m}): one column per sample of x")
    if loss == "ce" and not np.allclose(y.sum(axis=0), 1.0, rtol=0, atol=1e-9):
        # BP1's δ^L = a^L − y relies on Σ_j y_j = 1
        raise BackpropError("with ce each column of y must sum to 1 (one-hot)")
    return y


# ---------------------------------------------------------------- forward pass and cost

def _forward(ws: list[Array], bs: list[Array], names: list[str], x: Array, loss: str):
    """zs[l] = W a + b, (n_(l+1), m); activations[0] = x and activations[l+1] = σ(zs[l])."""
    zs, activations = [], [x]
    output = output_name(loss)  # softmax with ce, sigmoid with mse
    for l, (w, b) in enumerate(zip(ws, bs)):
        z = w @ activations[-1] + b  # (n_l, m); b broadcasts over the m columns
        if l < len(names):
            a = ACTIVATIONS[names[l]].numpy(z)
        else:
            a = _softmax(z) if output == "softmax" else sigmoid_np(z)  # output layer
        zs.append(z)
        activations.append(a)
    return zs, activations


def forward(weights, biases, activation, x, loss: str) -> tuple[list[Array], list[Array]]:
    """(zs, activations): z^l for l = 1..L and a^l for l = 0..L (a^0 = x)."""
    ws, bs, names, x = _check_network(weights, biases, activation, x)
    if loss not in LOSS_NAMES:
        raise BackpropError(f"loss must be one of {', '.join(LOSS_NAMES)}; got {loss!r}")
    return _forward(ws, bs, names, x, loss)


def _cost(z_out: Array, a_out: Array, y: Array, loss: str) -> float:
    """C = mean over samples of C_x; ce from log-softmax so ln never sees an underflowed 0."""
    if loss == "ce":
        per_sample = -(y * _log_softmax(z_out)).sum(axis=0)  # C_x = -Σ y ln a, (m,)
    else:
        per_sample = 0.5 * ((a_out - y) ** 2).sum(axis=0)  # C_x = ½‖a − y‖², (m,)
    return float(per_sample.mean())


def cost(weights, biases, activation, x, y, loss: str) -> float:
    """The mean cost C of the batch."""
    ws, bs, names, x = _check_network(weights, biases, activation, x)
    y = _check_targets(y, loss, ws[-1].shape[0], x.shape[1])
    zs, activations = _forward(ws, bs, names, x, loss)
    return _cost(zs[-1], activations[-1], y, loss)


# ---------------------------------------------------------------- backward pass

def backprop_steps(weights, biases, activation, x, y, loss: str) -> list[dict]:
    """One record per layer from L down to 1: z, a, σ'(z), (W^(l+1))^T δ^(l+1), δ and the gradients.

    "sigma_prime" of the output layer is None with ce: softmax's σ' is a matrix, not a Hadamard factor.
    """
    ws, bs, names, x = _check_network(weights, biases, activation, x)
    y = _check_targets(y, loss, ws[-1].shape[0], x.shape[1])
    zs, activations = _forward(ws, bs, names, x, loss)
    m = x.shape[1]
    L = len(ws)
    steps: list[dict] = []
    delta = None
    for l in range(L, 0, -1):  # 1-based layer index, output layer first
        z, a, a_prev = zs[l - 1], activations[l], activations[l - 1]
        if l == L:
            back = None
            if loss == "ce":
                sigma_prime = None
                delta = a - y  # BP1 for softmax + cross-entropy: ∇_a C and softmax's Jacobian collapse to a − y
            else:
                sigma_prime = ACTIVATIONS["sigmoid"].numpy_prime(z)
                delta = (a - y) * sigma_prime  # BP1: δ^L = ∇_a C ⊙ σ'(z^L), ∇_a C = a − y
        else:
            sigma_prime = ACTIVATIONS[names[l - 1]].numpy_prime(z)
            back = ws[l].T @ delta  # (W^(l+1))^T δ^(l+1), (n_l, m)
            delta = back * sigma_prime  # BP2: δ^l = ((W^(l+1))^T δ^(l+1)) ⊙ σ'(z^l)
        grad_b = delta.mean(axis=1, keepdims=True)  # BP3: ∂C/∂b^l = δ^l, averaged over samples; (n_l, 1)
        grad_w = delta @ a_prev.T / m  # BP4: ∂C/∂W^l = δ^l (a^(l-1))^T, averaged over samples; (n_l, n_(l-1))
        steps.append({"layer": l, "z": z, "a": a, "sigma_prime": sigma_prime, "back": back,
                      "delta": delta, "grad_w": grad_w, "grad_b": grad_b})
    return steps


def backprop(weights, biases, activation, x, y, loss: str) -> tuple[list[Array], list[Array], list[Array]]:
    """(deltas, grad_w, grad_b) indexed like weights: entry l-1 belongs to layer l."""
    steps = backprop_steps(weights, biases, activation, x, y, loss)[::-1]  # layer 1 first
    return ([s["delta"] for s in steps], [s["grad_w"] for s in steps], [s["grad_b"] for s in steps])


def gradient_step(weights, biases, grad_w, grad_b, eta: float) -> tuple[list[Array], list[Array]]:
    """One step of gradient descent, w ← w − η ∂C/∂w and b ← b − η ∂C/∂b; the inputs are not changed."""
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not math.isfinite(eta):
        raise BackpropError(f"eta must be a finite number, got {eta!r}")
    if not len(weights) == len(biases) == len(grad_w) == len(grad_b):
        raise BackpropError(f"got {len(weights)} weights, {len(biases)} biases, "
                            f"{len(grad_w)} weight gradients and {len(grad_b)} bias gradients")
    new_w, new_b = [], []
    for i, (w, b, gw, gb) in enumerate(zip(weights, biases, grad_w, grad_b)):
        w, b, gw, gb = (np.asarray(v, dtype=np.float64) for v in (w, b, gw, gb))
        if gw.shape != w.shape:
            raise BackpropError(f"grad_w[{i}] has shape {gw.shape} but weights[{i}] has {w.shape}")
        if gb.shape != b.shape:
            raise BackpropError(f"grad_b[{i}] has shape {gb.shape} but biases[{i}] has {b.shape}")
        new_w.append(w - eta * gw)
        new_b.append(b - eta * gb)
    return new_w, new_b

