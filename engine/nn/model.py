"""Build a network from a NetworkSpec; the init and loss tables; eval_mode and the targets' dtype."""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .activations import ACTIVATIONS, OUTPUTS  # the one activation registry (ACTIVATIONS also read from here by ui/)
from ..text import N_
from .spec import LOSS_NAMES, NetworkSpec


@dataclass(frozen=True)
class Init:
    """A weight initialisation: the std of W^l's entries from its fan-in and fan-out."""

    std: Callable[[int, int], float]
    label: str  # the init widgets' full label (marked with N_: shown as _(init.label))
    short: str  # in legends and verdict titles (marked with N_: shown as _(init.short))
    bias_std: float = 0.0  # biases start at zero except in Nielsen's two schemes (normal, lecun): N(0,1)


INITS: dict[str, Init] = {
    "he": Init(lambda fan_in, fan_out: math.sqrt(2.0 / fan_in), N_("He: N(0, 2/n_in)"), N_("He")),
    "xavier": Init(lambda fan_in, fan_out: math.sqrt(2.0 / (fan_in + fan_out)), N_("Xavier: N(0, 2/(n_in+n_out))"),
                   N_("Xavier")),
    # LeCun's weights (Efficient BackProp, 1998: std·√n_in = 1) with N(0,1) biases, as Nielsen's network2.py
    # default_weight_initializer draws them (his chapter 5 measures the vanishing gradient with it)
    "lecun": Init(lambda fan_in, fan_out: math.sqrt(1.0 / fan_in),
                  N_("LeCun: N(0, 1/n_in) weights, N(0, 1) biases (Nielsen's default)"), N_("LeCun"), 1.0),
    "normal": Init(lambda fan_in, fan_out: 1.0, N_("N(0, 1) weights and biases (Nielsen's first network)"),
                   N_("N(0, 1)"), 1.0),
    "small": Init(lambda fan_in, fan_out: 0.01, N_("small: N(0, 0.01²)"), N_("small N(0, 0.01²)")),
    "zeros": Init(lambda fan_in, fan_out: 0.0, N_("zeros: every unit in a layer stays identical"), N_("zeros")),
}
INIT_ORDER = ("zeros", "small", "normal", "lecun", "xavier", "he")  # the widgets' order: from broken to modern

POOLS: dict[str, Callable[[], nn.Module]] = {
    "max": lambda: nn.MaxPool2d(2),
    "avg": lambda: nn.AvgPool2d(2),
    "l2": lambda: nn.LPPool2d(2, 2),
}


def _ce(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Softmax + cross-entropy, C_x = -Σ y ln a, averaged over the batch."""
    return F.cross_entropy(z, y)


def _mse(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Sigmoid outputs + ½‖a − y‖² against one-hot targets, averaged over the batch."""
    target = F.one_hot(y, z.shape[1]).to(z.dtype)
    return 0.5 * (torch.sigmoid(z) - target).pow(2).sum(1).mean()


def _regression_mse(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Linear output + ½(a − y)², averaged over the batch."""
    return 0.5 * (z - y).pow(2).sum(1).mean()


@dataclass(frozen=True)
class Loss:
    """A cost C(z^L, y), averaged over the batch, and how it is shown to students."""

    cost: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    label: str  # the loss widgets' full label (marked with N_: shown as _(loss.label))
    short: str  # a word or two (marked with N_: shown as _(loss.short))


LOSSES: dict[str, Loss] = dict(zip(LOSS_NAMES, (
    Loss(_ce, N_("cross-entropy −Σ y ln a (softmax outputs), averaged over the batch"), N_("cross-entropy")),
    # the textbooks' ½: not PyTorch's MSELoss, which averages (a − y)² over every entry without the ½
    Loss(_mse, N_("quadratic ½‖a − y‖² averaged over the batch (sigmoid outputs; not PyTorch's MSELoss)"),
         N_("quadratic")),
)))
REGRESSION_LOSS_LABEL = N_("quadratic ½(a − y)², linear output")  # the regression set's one cost
LOSS_LABELS = {name: loss.label for name, loss in LOSSES.items()}  # the loss widget's labels


def target_dtype(regression: bool) -> torch.dtype:
    """Targets are class indices (long) for classifiers, numbers (float) for regression."""
    return torch.float32 if regression else torch.long


def as_targets(y, regression: bool) -> torch.Tensor:
    """y as a tensor of the network's target dtype (a copy)."""
    return torch.tensor(y, dtype=target_dtype(regression))


def loss_function(spec: NetworkSpec) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """C(z^L, y) for this network: mean over the batch."""
    return _regression_mse if spec.regression else LOSSES[spec.loss].cost


def output_a(spec: NetworkSpec, z: torch.Tensor) -> torch.Tensor:
    """a^L from z^L, (B, n_L): the registry's output σ for this network (softmax, sigmoid or linear)."""
    return OUTPUTS[spec.output_activation].torch(z)



class SeededDropout(nn.Module):
    """Dropout drawing its masks from the network's own generator, so runs are reproducible per session."""

    def __init__(self, p: float, generator: torch.Generator):
        super().__init__()
        self.p, self.generator = p, generator

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return a
        keep = torch.rand(a.shape, generator=self.generator) >= self.p
        return a * keep / (1.0 - self.p)


class Net(nn.Module):
    """An optional conv front end, then hidden layers a^l = σ(W^l a^(l-1) + b^l), then the output layer z^L."""

    def __init__(self, spec: NetworkSpec, seed: int = 0):
        super().__init__()
        self.spec = spec
        self.generator = torch.Generator().manual_seed(seed)
        self.convs = nn.ModuleList()
        self.pools = nn.ModuleList()
        channels, n_in = 1, spec.input_size
        if spec.conv:
            height, width = spec.image_shape
            for out_channels in spec.conv:
                self.convs.append(nn.Conv2d(channels, out_channels, 5, padding=2))
                self.pools.append(POOLS[spec.pool]())
                channels, height, width = out_channels, height // 2, width // 2
            n_in = channels * height * width
        sizes = (n_in,) + spec.widths
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.acts = nn.ModuleList(ACTIVATIONS[name].module() for name in spec.activations)
        self.dropout = SeededDropout(spec.dropout, self.generator)
        self.trace = None  # set by probes.Probe: a list that forward() fills with (z^l, a^l) per layer
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Initialise every W^l and b^l by the spec's scheme, from the network's own generator."""
        init = INITS[self.spec.init]
        for conv in self.convs:  # the conv front end always uses He: it is ReLU
            fan_in = conv.in_channels * 25
            conv.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=self.generator)
            conv.bias.zero_()
        for linear in self.linears:
            fan_out, fan_in = linear.weight.shape
            linear.weight.normal_(0.0, 1.0, generator=self.generator).mul_(init.std(fan_in, fan_out))
            linear.bias.normal_(0.0, 1.0, generator=self.generator).mul_(init.bias_std)

    def features(self, x: torch.Tensor, maps: list | None = None) -> torch.Tensor:
        """The conv front end: (B, input_size) -> (B, n_in of the first linear layer).

        If `maps` is a list, each conv layer's pooled output (B, channels, H, W) is appended to it.
        """
        if not self.convs:
            return x
        height, width = self.spec.image_shape
        h = x.reshape(x.shape[0], 1, height, width)
        for conv, pool in zip(self.convs, self.pools):
            h = pool(F.relu(conv(h)))
            if maps is not None:
                maps.append(h)
        return h.flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, input_size) -> z^L, (B, output_size)."""
        return self.head(self.features(x))

    def head(self, a: torch.Tensor) -> torch.Tensor:
        """The fully connected layers: conv features (or the input) -> z^L."""
        trace = self.trace
        for linear, act in zip(self.linears, self.acts):  # the hidden layers: acts has one fewer entry
            z = linear(a)
            a = act(z)
            if trace is not None:
                _keep(trace, z, a)
            a = self.dropout(a)
        z = self.linears[-1](a)
        if trace is not None:
            _keep(trace, z, None)
        return z


def _keep(trace: list, z: torch.Tensor, a: torch.Tensor | None) -> None:
    """Record (z^l, a^l) for a probe; keep ∂C/∂z^l after backward (it is δ^l up to the batch size)."""
    if z.requires_grad:
        z.retain_grad()
    trace.append((z, a))


def build_model(spec: NetworkSpec, seed: int = 0) -> Net:
    """A freshly initialised network; the same seed gives the same weights."""
    return Net(spec, seed)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """model.eval() inside the block (no dropout), its previous mode restored on the way out."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@torch.no_grad()
def predict_proba(model: Net, x: torch.Tensor) -> torch.Tensor:
    """a^L for a batch, in eval mode (no dropout)."""
    with eval_mode(model):
        return output_a(model.spec, model(x))


def flat_parameters(model: Net) -> np.ndarray:
    """All parameters in model.parameters() order, (n_params,) float32 (the Trainer's snapshot layout)."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).numpy().copy()
