"""The engine's optimizers step for step against torch.optim (the same fused kernels), bit for bit."""
import pytest
import torch

from engine.nn.optimizers import DECAY_LABELS, OPTIMIZER_LABELS, WEIGHT_DECAY_HELP, Optimizer, decay_rate
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
@pytest.mark.parametrize("train_size", [None, 200])  # d2l's λ ignores n
def test_every_step_equals_torch_optim(name, weight_decay, train_size):
    spec = TrainSpec(optimizer=name, lr=0.05, momentum=0.8, weight_decay=weight_decay, decay="d2l")
    mine, theirs = parameters(), parameters()
    ours, torchs = Optimizer(mine, spec, train_size), reference(name, theirs, spec)
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


def test_nielsen_step_is_the_hand_computed_shrink_then_gradient_step():
    # Nielsen ch. 3: C = C₀ + (λ/2n) Σw², so w ← (1 − ηλ/n)w − η∇C₀ for the weights and b ← b − η∇C₀ for the biases
    eta, lam, n = 0.1, 5.0, 50
    params = parameters()
    optimizer = Optimizer(params, TrainSpec(optimizer="sgd", lr=eta, weight_decay=lam, decay="nielsen"), train_size=n)
    expected = [p.detach().clone() for p in params]
    generator = torch.Generator().manual_seed(2)
    for _ in range(3):
        grads = [torch.randn(p.shape, generator=generator) for p in params]  # ∇C₀ of this mini-batch
        for p, g in zip(params, grads):
            p.grad = g.clone()
        optimizer.step()
        expected = [(1 - eta * lam / n) * w - eta * g if w.dim() > 1 else w - eta * g for w, g in zip(expected, grads)]
        for p, e in zip(params, expected, strict=True):
            torch.testing.assert_close(p.detach(), e, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(OPTIMIZER_LABELS))
def test_nielsen_lambda_is_d2l_lambda_over_n_bit_for_bit(name):
    n = 200
    nielsen, d2l = parameters(), parameters()
    ours = Optimizer(nielsen, TrainSpec(optimizer=name, lr=0.05, momentum=0.8, weight_decay=4.0, decay="nielsen"), n)
    theirs = Optimizer(d2l, TrainSpec(optimizer=name, lr=0.05, momentum=0.8, weight_decay=4.0 / n), n)
    generator = torch.Generator().manual_seed(3)
    for _ in range(4):
        grads = [torch.randn(p.shape, generator=generator) for p in nielsen]
        for optimizer, params in ((ours, nielsen), (theirs, d2l)):
            for p, g in zip(params, grads):
                p.grad = g.clone()
            optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(nielsen, d2l))
    assert not torch.equal(nielsen[0], parameters()[0])


def test_nielsen_needs_the_training_set_size_and_retune_switches_convention():
    spec = TrainSpec(optimizer="sgd", weight_decay=2.0, decay="nielsen")
    with pytest.raises(ValueError, match="training-set size"):
        Optimizer(parameters(), spec)
    assert decay_rate(spec, 400) == 2.0 / 400 and decay_rate(TrainSpec(weight_decay=2.0), None) == 2.0
    assert decay_rate(TrainSpec(decay="nielsen"), None) == 0.0  # no λ, no n needed
    optimizer = Optimizer(parameters(), spec, train_size=400)
    assert optimizer.weight_decay == 0.005
    optimizer.retune(TrainSpec(optimizer="sgd", weight_decay=2.0, decay="d2l"))
    assert optimizer.weight_decay == 2.0
    assert set(DECAY_LABELS) == {"d2l", "nielsen"} and "λ/2n Σw²" in DECAY_LABELS["nielsen"]
