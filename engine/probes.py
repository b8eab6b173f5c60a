"""Record z, a, δ = ∂C/∂z and the parameter gradients of every layer, and summarise them per layer."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .model import ACTIVATIONS, Net, loss_function, output_activation

SATURATION_MARGIN = 0.02  # a sigmoid/tanh unit within this of its bounds counts as saturated

# Per-layer summaries, in the order of the rows summarize() returns.
LAYER_STATS = (
    "delta_mean_abs",  # mean |δ^l| = mean |∂C_x/∂z^l| over samples and units
    "grad_norm",  # ‖∂C/∂W^l‖ (Frobenius)
    "act_mean",  # mean of a^l
    "act_std",  # std of a^l
    "saturated_frac",  # sigmoid/tanh: share of a^l near its bounds; ReLU: share of units dead on the whole batch
)


class Probe:
    """Forward hooks on every weight layer and activation; captures z^l, a^l and δ^l per sample.

    Use as a context manager: the hooks are removed on exit, whatever happens inside.
    """

    def __init__(self, model: Net):
        self.model = model
        self.zs: list[torch.Tensor | None] = []
        self.acts: list[torch.Tensor | None] = []
        self.grads: list[torch.Tensor | None] = []  # ∂C/∂z^l for the batch-mean cost C
        self._handles: list = []

    def __enter__(self) -> "Probe":
        n = len(self.model.linears)
        self.zs, self.grads, self.acts = [None] * n, [None] * n, [None] * (n - 1)
        try:
            for l, linear in enumerate(self.model.linears):
                self._handles.append(linear.register_forward_hook(self._z_hook(l)))
            for l, act in enumerate(self.model.acts):
                self._handles.append(act.register_forward_hook(self._a_hook(l)))
        except Exception:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _z_hook(self, l: int):
        def hook(module, inputs, z):
            # detach without a copy: nothing later modifies z in place
            self.zs[l] = z.detach()
            if z.requires_grad:
                z.register_hook(lambda g: self._store_grad(l, g))
        return hook

    def _store_grad(self, l: int, g: torch.Tensor) -> None:
        self.grads[l] = g.detach()

    def _a_hook(self, l: int):
        def hook(module, inputs, a):
            self.acts[l] = a.detach()
        return hook

    def check(self, backward: bool) -> None:
        """Fail loudly if a hook captured nothing (a layer skipped, or backward not run)."""
        missing = [l + 1 for l, z in enumerate(self.zs) if z is None]
        if backward:
            missing += [l + 1 for l, g in enumerate(self.grads) if g is None]
        if missing:
            raise RuntimeError(f"probe captured nothing for layer(s) {sorted(set(missing))}")


def _saturation(name: str, a: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Share of saturated (sigmoid, tanh, softmax) or dead (ReLU family) units in a layer."""
    bounds = ACTIVATIONS[name].bounds if name in ACTIVATIONS else (0.0, 1.0)
    if name in ("relu", "leaky_relu"):
        return (z <= 0).all(dim=0).float().mean()
    if bounds is None:
        return torch.zeros((), dtype=a.dtype)
    low, high = bounds
    return ((a <= low + SATURATION_MARGIN) | (a >= high - SATURATION_MARGIN)).float().mean()


@torch.no_grad()
def summarize(model: Net, probe: Probe) -> torch.Tensor:
    """One column per layer l = 1..L, one row per LAYER_STATS entry: shape (5, L)."""
    spec = model.spec
    batch = probe.zs[0].shape[0]
    names = list(spec.activations) + [spec.output_activation]
    grad_norms = torch._foreach_norm([linear.weight.grad for linear in model.linears])
    columns = []
    for l, z in enumerate(probe.zs):
        a = probe.acts[l] if l < len(probe.acts) else output_activation(spec, z)
        columns.append(torch.stack((
            probe.grads[l].abs().mean() * batch,  # δ of each sample's own cost: the mean cost divides by B
            grad_norms[l],
            a.mean(),
            a.std() if a.numel() > 1 else torch.zeros((), dtype=a.dtype),
            _saturation(names[l], a, z),
        )))
    return torch.stack(columns, dim=1)


@dataclass(frozen=True)
class LayerRecord:
    """Everything one layer did on one batch, as numpy arrays (rows = samples)."""

    layer: int  # l, 1-based; the output layer is L
    activation: str  # σ of this layer (softmax / sigmoid / linear for the output layer)
    z: np.ndarray  # (B, n_l) pre-activations
    a: np.ndarray  # (B, n_l) activations
    delta: np.ndarray  # (B, n_l) δ^l of each sample's own cost C_x
    grad_w: np.ndarray  # (n_l, n_(l-1)) ∂C/∂W^l of the batch-mean cost
    grad_b: np.ndarray  # (n_l,) ∂C/∂b^l


def record(model: Net, x: torch.Tensor, y: torch.Tensor) -> tuple[float, list[LayerRecord]]:
    """One forward and backward pass on (x, y) in eval mode; returns C and every layer's record."""
    was_training = model.training
    model.eval()
    model.zero_grad(set_to_none=True)
    try:
        with Probe(model) as probe:
            loss = loss_function(model.spec)(model(x), y)
            loss.backward()
        probe.check(backward=True)
        batch = x.shape[0]
        names = list(model.spec.activations) + [model.spec.output_activation]
        records = []
        for l, linear in enumerate(model.linears):
            z = probe.zs[l]
            a = probe.acts[l] if l < len(probe.acts) else output_activation(model.spec, z)
            records.append(LayerRecord(
                layer=l + 1, activation=names[l], z=z.clone().numpy(), a=a.clone().numpy(),
                delta=(probe.grads[l] * batch).numpy(),
                grad_w=linear.weight.grad.detach().clone().numpy(),
                grad_b=linear.bias.grad.detach().clone().numpy()))
        return loss.item(), records
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)


def layer_table(model: Net, x: torch.Tensor, y: torch.Tensor) -> list[dict]:
    """The gradients CLI's per-layer rows: δ, ‖∂C/∂W‖ and activation statistics, first hidden layer first."""
    was_training = model.training
    model.eval()
    model.zero_grad(set_to_none=True)
    try:
        with Probe(model) as probe:
            loss_function(model.spec)(model(x), y).backward()
        probe.check(backward=True)
        stats = summarize(model, probe).numpy()
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return [{"layer": l + 1, **{name: float(stats[i, l]) for i, name in enumerate(LAYER_STATS)}}
            for l in range(stats.shape[1])]


@torch.no_grad()
def activations(model: Net, x: torch.Tensor) -> dict:
    """Forward only, for display: conv feature maps and every layer's a^l for a (1, input_size) input."""
    was_training = model.training
    model.eval()
    try:
        maps = []
        if model.convs:
            height, width = model.spec.image_shape
            h = x.reshape(x.shape[0], 1, height, width)
            for conv, pool in zip(model.convs, model.pools):
                h = pool(torch.relu(conv(h)))
                maps.append(h[0].numpy().copy())  # (channels, H, W)
        with Probe(model) as probe:
            z_last = model(x)
        probe.check(backward=False)
        layers = [a[0].numpy().copy() for a in probe.acts]
        layers.append(output_activation(model.spec, z_last)[0].numpy().copy())
        return {"feature_maps": maps, "layers": layers}
    finally:
        model.train(was_training)


def gradient_profile(network, dataset: str, batch_size: int = 256, seed: int = 0) -> list[dict]:
    """The gradients command: a freshly initialised network's per-layer table on one batch of `dataset`."""
    from .data import load_dataset
    from .model import build_model
    from .spec import spec_for_dataset

    data = load_dataset(dataset, seed=seed)
    network = spec_for_dataset(network, data.n_inputs, data.n_outputs, data.task == "regression", data.image_shape)
    model = build_model(network, seed)
    order = np.random.default_rng(seed).permutation(len(data.x_train))[:batch_size]
    x = torch.tensor(data.x_train[order], dtype=torch.float32)
    y = torch.tensor(data.y_train[order], dtype=torch.float32 if network.regression else torch.long)
    return layer_table(model, x, y)
