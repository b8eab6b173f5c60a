"""The Backprop page's engine side: a network's arrays for the numpy reference, and autograd to check it."""
from __future__ import annotations

import numpy as np
import torch

from ..nn.activations import ACTIVATIONS
from ..nn.backprop import cost, gradient_step
from ..nn.model import Net
from ..nn.spec import NetworkSpec, TrainSpec


def mlp_arrays(model: Net) -> tuple[list[np.ndarray], list[np.ndarray], list[str], str]:
    """(weights (n_l, n_(l-1)), biases (n_l, 1), hidden activations, loss) as float64 copies."""
    if model.spec.conv:
        raise ValueError("the numpy reference covers fully connected networks; this one has a conv front end")
    if model.spec.regression:
        raise ValueError("the numpy reference covers classifiers (ce or mse on one-hot targets); "
                         "this one is a regression network")
    weights = [layer.weight.detach().double().numpy().copy() for layer in model.linears]
    biases = [layer.bias.detach().double().numpy().copy()[:, None] for layer in model.linears]
    return weights, biases, list(model.spec.activations), model.spec.loss


def autograd_reference(weights, biases, activation, x, y, loss: str, dtype=torch.float64):
    """δ per sample and the mean cost's gradients from PyTorch's autograd; same shapes as backprop()."""
    acts = [activation] * (len(weights) - 1) if isinstance(activation, str) else list(activation)
    ws = [torch.tensor(w, dtype=dtype, requires_grad=True) for w in weights]
    bs = [torch.tensor(b, dtype=dtype, requires_grad=True) for b in biases]
    a, y_t = torch.tensor(x, dtype=dtype), torch.tensor(y, dtype=dtype)
    zs = []
    for l, (w, b) in enumerate(zip(ws, bs)):
        z = w @ a + b  # (n_l, m): one column per sample
        zs.append(z)
        a = ACTIVATIONS[acts[l]].torch(z) if l < len(ws) - 1 else z
    if loss == "ce":
        per_sample = -(y_t * torch.log_softmax(zs[-1], dim=0)).sum(0)
    else:
        per_sample = 0.5 * ((torch.sigmoid(zs[-1]) - y_t) ** 2).sum(0)
    deltas = torch.autograd.grad(per_sample.sum(), zs, retain_graph=True)  # each sample's own δ_x
    grads = torch.autograd.grad(per_sample.mean(), ws + bs)  # C = mean of C_x
    n = len(ws)
    return ([d.double().numpy() for d in deltas], [g.double().numpy() for g in grads[:n]],
            [g.double().numpy() for g in grads[n:]])


def compare(reference: tuple, weights, biases, activation, x, y, loss: str) -> dict[str, dict[str, float]]:
    """Max |numpy reference − autograd| of δ, ∂C/∂W, ∂C/∂b, with autograd in float64 and in float32."""
    out = {}
    for name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        theirs = autograd_reference(weights, biases, activation, x, y, loss, dtype)
        out[name] = {label: max(float(np.abs(m - t).max()) for m, t in zip(mine, other))
                     for label, mine, other in zip(("delta", "grad_w", "grad_b"), reference, theirs)}
    return out


def step_sweep(weights, biases, activation, grad_w, grad_b, etas, x, y, loss: str) -> np.ndarray:
    """C on (x, y) after one step w ← w − η ∂C/∂w, one entry per η in etas; the inputs are not changed."""
    return np.array([cost(*gradient_step(weights, biases, grad_w, grad_b, float(eta)), activation, x, y, loss)
                     for eta in etas])


# 3Blue1Brown's videos fix no init, optimizer or η: Xavier, and Nielsen's plain SGD with η = 3 on mini-batches of 10
SMALL_TRAINING = {"dataset": "mnist5k", "optimizer": "sgd", "lr": 3.0, "batch_size": 10, "epochs": 4}


def small_network(seed: int = 0) -> Net:
    """3Blue1Brown's 784-16-16-10 network: sigmoid units up to the 10 outputs and the quadratic cost (loss mse),
    so BP1 is (a − y) ⊙ σ'(z^L). Trained for 4 epochs of mnist5k (a few seconds)."""
    from ..train.trainer import Trainer

    trainer = Trainer(NetworkSpec(hidden=(16, 16), activations="sigmoid", init="xavier", loss="mse"),
                      TrainSpec(seed=seed, **SMALL_TRAINING), record=False, snapshot_every=None)
    trainer.step(10**6)
    trainer.model.eval()
    return trainer.model
