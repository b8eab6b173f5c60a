"""engine.nn.probes: recorded δ and gradients against an independent autograd pass, per-layer summaries, hooks."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.nn.activations import ACTIVATIONS
from engine.nn.model import build_model, predict_proba
from engine.nn.probes import LAYER_STATS, Probe, activations, layer_table, record
from engine.nn.spec import NetworkSpec

TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
             "leaky_relu": lambda z: F.leaky_relu(z, 0.01), "linear": lambda z: z}


def reference_deltas(model, x, y):
    """Independent pass with the model's weights: z^l retained, δ of each sample's own cost from ΣC_x."""
    spec = model.spec
    a, zs = x, []
    for l, linear in enumerate(model.linears):
        z = a @ linear.weight.detach().T + linear.bias.detach()
        z.requires_grad_(True)
        zs.append(z)
        a = TORCH_ACT[spec.activations[l]](z) if l < len(model.linears) - 1 else z
    z_last = zs[-1]
    if spec.loss == "ce":
        per_sample = -(F.log_softmax(z_last, 1) * F.one_hot(y, z_last.shape[1])).sum(1)
    else:
        per_sample = 0.5 * ((torch.sigmoid(z_last) - F.one_hot(y, z_last.shape[1]).to(x.dtype)) ** 2).sum(1)
    grads = torch.autograd.grad(per_sample.sum(), zs)
    return [g.numpy() for g in grads]


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_recorded_delta_and_gradients_equal_autograd(activation, loss):
    spec = NetworkSpec(input_size=6, hidden=(5, 4), activations=activation, output_size=3, init="xavier",
                       loss=loss)
    model = build_model(spec, seed=3).double()
    torch.manual_seed(0)
    x = torch.randn(7, 6, dtype=torch.float64)
    y = torch.randint(0, 3, (7,))
    cost, records = record(model, x, y)
    expected = reference_deltas(model, x, y)
    for rec, delta in zip(records, expected):
        np.testing.assert_allclose(rec.delta, delta, rtol=1e-12, atol=1e-14)
        # BP3 and BP4: the gradients of the mean cost
        np.testing.assert_allclose(rec.grad_b, delta.mean(0), rtol=1e-12, atol=1e-14)
    a_prev = [x.numpy()] + [r.a for r in records[:-1]]
    for rec, a in zip(records, a_prev):
        np.testing.assert_allclose(rec.grad_w, rec.delta.T @ a / len(x), rtol=1e-10, atol=1e-14)
    # autograd on the model itself agrees with the recorded parameter gradients
    model.zero_grad()
    F_cost = torch.nn.functional
    z = model(x)
    c = F_cost.cross_entropy(z, y) if loss == "ce" else 0.5 * ((torch.sigmoid(z) - F_cost.one_hot(y, 3)) ** 2).sum(1).mean()
    c.backward()
    assert math.isclose(cost, c.item(), rel_tol=1e-12)
    for rec, linear in zip(records, model.linears):
        np.testing.assert_allclose(rec.grad_w, linear.weight.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_probe_removes_its_hooks_even_on_error():
    model = build_model(NetworkSpec(input_size=4, hidden=(3,), output_size=2))
    with pytest.raises(RuntimeError, match="boom"):
        with Probe(model):
            raise RuntimeError("boom")
    assert all(not m._forward_hooks for m in model.modules())


def test_probe_fails_loudly_when_backward_never_ran():
    model = build_model(NetworkSpec(input_size=4, hidden=(3,), output_size=2))
    with Probe(model) as probe:
        model(torch.randn(2, 4))
    with pytest.raises(RuntimeError, match="captured nothing"):
        probe.check(backward=True)


def test_summaries_match_the_records():
    spec = NetworkSpec(input_size=5, hidden=(6, 4), activations=("sigmoid", "relu"), output_size=3)
    model = build_model(spec, seed=1)
    x, y = torch.randn(9, 5), torch.randint(0, 3, (9,))
    _, records = record(model, x, y)
    rows = layer_table(model, x, y)
    assert [r["layer"] for r in rows] == [1, 2, 3]
    for row, rec in zip(rows, records):
        assert row["delta_mean_abs"] == pytest.approx(float(np.abs(rec.delta).mean()), rel=1e-5)
        assert row["grad_norm"] == pytest.approx(float(np.linalg.norm(rec.grad_w)), rel=1e-5)
        assert row["act_mean"] == pytest.approx(float(rec.a.mean()), rel=1e-5, abs=1e-7)
    sigmoid_layer = records[0].a
    assert rows[0]["saturated_frac"] == pytest.approx(float(((sigmoid_layer <= 0.02) | (sigmoid_layer >= 0.98)).mean()))
    assert rows[0]["dead_frac"] == 0.0  # a sigmoid unit saturates, it cannot die
    dead = float((records[1].z <= 0).all(axis=0).mean())
    assert rows[1]["dead_frac"] == pytest.approx(dead)
    assert rows[1]["saturated_frac"] == 0.0  # ReLU has no upper bound to saturate at
    assert LAYER_STATS == ("delta_mean_abs", "grad_norm", "act_mean", "act_std", "saturated_frac", "dead_frac")


@pytest.mark.parametrize("activation, dead", [("relu", 1.0), ("leaky_relu", 0.0), ("tanh", 0.0)])
def test_only_relu_units_die(activation, dead):
    """Every unit gets z < 0 on every sample: ReLU passes no δ back (dead); leaky ReLU still passes 0.01·δ."""
    model = build_model(NetworkSpec(input_size=3, hidden=(4,), activations=activation, output_size=2))
    with torch.no_grad():
        model.linears[0].weight.fill_(0.0)
        model.linears[0].bias.fill_(-0.01)
    rows = layer_table(model, torch.randn(16, 3), torch.randint(0, 2, (16,)))
    assert rows[0]["dead_frac"] == dead
    assert rows[0]["saturated_frac"] == 0.0  # tanh(-0.01) is far from ±1
    assert rows[1]["dead_frac"] == 0.0  # the softmax output layer never dies


def test_activations_for_display_and_conv_feature_maps():
    spec = NetworkSpec(conv=(4,), hidden=(8,), output_size=10)
    model = build_model(spec)
    out = activations(model, torch.rand(1, 784))
    assert out["feature_maps"][0].shape == (4, 14, 14)
    assert [len(a) for a in out["layers"]] == [8, 10]
    assert out["layers"][-1].sum() == pytest.approx(1.0, abs=1e-5)
    probs = predict_proba(model, torch.rand(3, 784))
    assert probs.shape == (3, 10) and torch.allclose(probs.sum(1), torch.ones(3))
