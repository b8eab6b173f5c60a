"""The engine's optimizers step for step against torch.optim (the same fused kernels), bit for bit."""
import pytest
import torch

from engine.optimizers import OPTIMIZER_LABELS, Optimizer
from engine.spec import TrainSpec


def parameters(seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=generator, requires_grad=True) for shape in ((7, 5), (7,), (3, 7), (3,))]


def reference(name, params, spec):
    if name == "adam":
        return torch.optim.Adam(params, lr=spec.lr, weight_decay=spec.weight_decay, fused=True)
    momentum = spec.momentum if name == "momentum" else 0.0
    return torch.optim.SGD(params, lr=spec.lr, momentum=momentum, weight_decay=spec.weight_decay, fused=True)


@pytest.mark.parametrize("name", list(OPTIMIZER_LABELS))
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_every_step_equals_torch_optim(name, weight_decay):
    spec = TrainSpec(optimizer=name, lr=0.05, momentum=0.8, weight_decay=weight_decay)
    mine, theirs = parameters(), parameters()
    ours, torchs = Optimizer(mine, spec), reference(name, theirs, spec)
    generator = torch.Generator().manual_seed(1)
    for _ in range(6):
        grads = [torch.randn(p.shape, generator=generator) for p in mine]
        for optimizer, params in ((ours, mine), (torchs, theirs)):
            optimizer.zero_grad()
            for p, g in zip(params, grads):
                p.grad = g.clone()
            optimizer.step()
        for a, b in zip(mine, theirs, strict=True):
            assert torch.equal(a, b)
    assert not torch.equal(mine[0], parameters()[0])  # and they did move


def test_step_without_gradients_says_so_and_changes_nothing():
    params = parameters()
    before = [p.detach().clone() for p in params]
    optimizer = Optimizer(params, TrainSpec(optimizer="adam"))
    with pytest.raises(RuntimeError, match="without gradients"):
        optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(params, before))

