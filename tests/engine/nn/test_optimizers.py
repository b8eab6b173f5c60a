"""The engine's optimizers step for step against torch.optim (the same fused kernels), bit for bit."""
import pytest
import torch

from engine.nn.optimizers import OPTIMIZER_LABELS, WEIGHT_DECAY_HELP, Optimizer
from engine.nn.spec import TrainSpec


def parameters(seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=generator, requires_grad=True) for shape in ((7, 5), (7,), (3, 7), (3,))]


def reference(name, params, spec):
    """torch.optim with weight decay on the weights (matrices) only: AdamW for adam, SGD's L2 otherwise."""
    groups = [{"params": [p for p in params if p.dim() > 1], "weight_decay": spec.weight_decay},
              {"params": [p for p in params if p.dim() == 1], "weight_decay": 0.0}]
    if name == "adam":
        return torch.optim.AdamW(groups, lr=spec.lr, fused=True)
    momentum = spec.momentum if name == "momentum" else 0.0
    return torch.optim.SGD(groups, lr=spec.lr, momentum=momentum, fused=True)


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



@pytest.mark.parametrize("name", list(OPTIMIZER_LABELS))
def test_weight_decay_shrinks_weights_and_leaves_biases_alone(name):
    spec = TrainSpec(optimizer=name, lr=0.1, momentum=0.8, weight_decay=0.5)
    params = parameters()
    before = [p.detach().clone() for p in params]
    optimizer = Optimizer(params, spec)
    for _ in range(3):
        optimizer.zero_grad()
        for p in params:
            p.grad = torch.zeros_like(p)  # no gradient from C: only the decay moves anything
        optimizer.step()
    weight, bias = params[0], params[1]
    assert torch.equal(bias, before[1]) and torch.equal(params[3], before[3])  # biases untouched
    assert weight.abs().sum() < 0.9 * before[0].abs().sum()  # weights shrank towards 0


def test_adam_decay_is_decoupled_not_l2():
    # AdamW: with ∇C = 0 Adam's own step is 0, and w shrinks by exactly (1 − ηλ) per step. L2 inside Adam
    # would instead normalise λw by √v and move every weight by about η.
    spec = TrainSpec(optimizer="adam", lr=0.01, weight_decay=0.1)
    params = parameters()
    before = params[0].detach().clone()
    optimizer = Optimizer(params, spec)
    for p in params:
        p.grad = torch.zeros_like(p)
    optimizer.step()
    torch.testing.assert_close(params[0].detach(), before * (1 - 0.01 * 0.1))
    assert "AdamW" in WEIGHT_DECAY_HELP and "never the biases" in WEIGHT_DECAY_HELP
