"""Record z, a, δ = ∂C/∂z and the parameter gradients of every layer, and summarise them per layer."""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch

from . import activations as registry
from .activations import SATURATION_MARGIN  # a unit within this of σ's bounds counts as saturated
from .model import Net, eval_mode, loss_function, output_a

# Per-layer summaries, in the order of the rows summarize() returns.
LAYER_STATS = (
    "delta_mean_abs",  # mean |δ^l| = mean |∂C_x/∂z^l| over samples and units
    "grad_norm",  # ‖∂C/∂W^l‖ (Frobenius)
    "act_mean",  # mean of a^l
    "act_std",  # std of a^l
    "saturated_frac",  # share of a^l near σ's bounds (sigmoid, tanh, the softmax/sigmoid output); else 0
    "dead_frac",  # ReLU: share of units with z ≤ 0 on the whole batch (σ' = 0: no δ passes); else 0
)


class Probe:
    """Captures z^l, a^l and δ^l = ∂C/∂z^l of every layer during one forward (and backward) pass.

    Use as a context manager around the forward pass; the model stops tracing on exit, whatever happens
    inside. The model's own forward appends (z, a) to a list rather than module hooks calling back into
    Python for every layer, and z.retain_grad() keeps ∂C/∂z in C++: recording runs every training step.
    Backward may run inside the block or after it.
    """

    def __init__(self, model: Net):
        self.model = model
        self._trace: list = []

    def __enter__(self) -> "Probe":
        if self.model.trace is not None:
            raise RuntimeError("the model is already being probed")
        self._trace = []
        # object.__setattr__: nn.Module.__setattr__ scans parameters and submodules first (~5 µs, every step)
        object.__setattr__(self.model, "trace", self._trace)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.model.trace is self._trace:
            object.__setattr__(self.model, "trace", None)

    @property
    def zs(self) -> list[torch.Tensor]:
        """z^l per layer, (B, n_l), detached."""
        return [z.detach() for z, _ in self._trace]

    @property
    def acts(self) -> list[torch.Tensor]:
        """a^l per hidden layer, (B, n_l), detached (the output layer's a^L is computed from z^L)."""
        return [a.detach() for _, a in self._trace[:-1]]

    @property
    def outputs(self) -> list[torch.Tensor]:
        """What summarize() reads: a^l of every hidden layer, then z^L (a^L = σ(z^L) is computed from it)."""
        return self.acts + [self._trace[-1][0].detach()]

    @property
    def grads(self) -> list[torch.Tensor | None]:
        """∂C/∂z^l of the batch-mean cost C, per layer (None before backward)."""
        return [z.grad for z, _ in self._trace]

    def check(self, backward: bool) -> None:
        """Fail loudly if the probe captured nothing (no forward in the block, or backward not run)."""
        expected = len(self.model.linears)
        if len(self._trace) != expected:
            raise RuntimeError(f"probe captured nothing for some layers: {len(self._trace)} of {expected}")
        if backward:
            missing = [l + 1 for l, g in enumerate(self.grads) if g is None]
            if missing:
                raise RuntimeError(f"probe captured nothing for layer(s) {missing}: was backward run?")


def _saturated_share(name: str, a: torch.Tensor) -> torch.Tensor:
    """Per step, for a (K, B, n) stack of a^l: the share of entries near σ's bounds (0 if σ never saturates)."""
    bounds = registry.bounds(name)
    if bounds is None:
        return a.new_zeros(a.shape[0])
    low, high = bounds
    middle, half = (low + high) / 2, (high - low) / 2
    return ((a - middle).abs() >= half - SATURATION_MARGIN).float().mean(dim=(1, 2))


def _dead_share(name: str, a: torch.Tensor) -> torch.Tensor:
    """Per step, for a (K, B, n) stack of a^l: the share of units with a = σ(z) ≤ 0 on every sample (ReLU only)."""
    if not registry.dies(name):
        return a.new_zeros(a.shape[0])
    return (a.amax(dim=1) <= 0).float().mean(dim=1)


def weight_grad_norms(model: Net) -> torch.Tensor:
    """‖∂C/∂W^l‖ for every layer, (L,), in one fused op (read it before the next backward)."""
    return torch.stack(torch._foreach_norm([linear.weight.grad for linear in model.linears]))


@torch.no_grad()
def summarize(spec, outputs: list[torch.Tensor], grads: list[torch.Tensor], grad_norms: torch.Tensor) -> torch.Tensor:
    """Per-layer summaries of K steps at once: (K, len(LAYER_STATS), L).

    outputs[l] is (K, B, n_l): Probe.outputs of K steps stacked (a^l of the hidden layers, z^L last);
    grads[l] the matching ∂C/∂z^l of the batch-mean cost, backward already run; grad_norms is (K, L).
    Recording runs every training step, so each layer's K steps are summarised together by a handful of ops.
    """
    names = list(spec.activations) + [spec.output_activation]
    columns = []
    for l, name in enumerate(names):
        a = outputs[l] if l < len(names) - 1 else output_a(spec, outputs[l])
        # sums and 2-norms, not var_mean or 1-norms: those take 10-30x longer on CPU at these sizes
        count = a[0].numel()
        mean = a.sum(dim=(1, 2)) / count
        std = torch.linalg.vector_norm(a - mean[:, None, None], 2, dim=(1, 2)) / math.sqrt(max(count - 1, 1))
        delta = grads[l].abs().sum(dim=(1, 2)) / a.shape[2]  # mean |δ_x| = B · mean |∂C/∂z| over B·n_l entries
        columns.append(torch.stack((delta, grad_norms[:, l], mean, std, _saturated_share(name, a),
                                    _dead_share(name, a)), dim=1))
    return torch.stack(columns, dim=2)  # (K, len(LAYER_STATS), L)


@contextlib.contextmanager
def _clearing_grads(model: Net):
    """Drop the parameters' .grad on the way out: a probe's backward must not leak into training."""
    try:
        yield
    finally:
        model.zero_grad(set_to_none=True)


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
    model.zero_grad(set_to_none=True)
    with eval_mode(model), _clearing_grads(model):
        with Probe(model) as probe:
            loss = loss_function(model.spec)(model(x), y)
            loss.backward()
        probe.check(backward=True)
        batch = x.shape[0]
        names = list(model.spec.activations) + [model.spec.output_activation]
        records = []
        for l, linear in enumerate(model.linears):
            z = probe.zs[l]
            a = probe.acts[l] if l < len(probe.acts) else output_a(model.spec, z)
            records.append(LayerRecord(
                layer=l + 1, activation=names[l], z=z.clone().numpy(), a=a.clone().numpy(),
                delta=(probe.grads[l] * batch).numpy(),
                grad_w=linear.weight.grad.detach().clone().numpy(),
                grad_b=linear.bias.grad.detach().clone().numpy()))
        return loss.item(), records


def layer_table(model: Net, x: torch.Tensor, y: torch.Tensor) -> list[dict]:
    """The gradients CLI's per-layer rows: δ, ‖∂C/∂W‖ and activation statistics, first hidden layer first."""
    model.zero_grad(set_to_none=True)
    with eval_mode(model), _clearing_grads(model):
        with Probe(model) as probe:
            loss_function(model.spec)(model(x), y).backward()
        probe.check(backward=True)
        stats = summarize(model.spec, [t[None] for t in probe.outputs], [g[None] for g in probe.grads],
                          weight_grad_norms(model)[None])[0].numpy()
    return [{"layer": l + 1, **{name: float(stats[i, l]) for i, name in enumerate(LAYER_STATS)}}
            for l in range(stats.shape[1])]


@torch.no_grad()
def activations(model: Net, x: torch.Tensor) -> dict:
    """Forward only, for display: conv feature maps and every layer's a^l for a (1, input_size) input."""
    maps = []
    with eval_mode(model), Probe(model) as probe:
        z_last = model.head(model.features(x, maps))  # forward(), keeping the conv feature maps
    probe.check(backward=False)
    layers = [a[0].numpy().copy() for a in probe.acts]
    layers.append(output_a(model.spec, z_last)[0].numpy().copy())
    return {"feature_maps": [m[0].numpy().copy() for m in maps], "layers": layers}  # maps: (C, H, W)

