"""engine.nn.backprop (numpy BP1-BP4) against torch autograd, hand-computed numbers and bad shapes."""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.nn.activations import ACTIVATIONS
from engine.nn.backprop import BackpropError, backprop, backprop_steps, cost, forward, gradient_step

TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
             "leaky_relu": lambda z: F.leaky_relu(z, 0.01), "linear": lambda z: z}
NAMES = list(ACTIVATIONS)


def torch_reference(weights, biases, names, x, y, loss):
    """Autograd on the same network in float64: per-sample δ from ΣC_x, gradients and cost from mean C_x."""
    def run():
        ws = [torch.tensor(w, requires_grad=True) for w in weights]
        bs = [torch.tensor(b, requires_grad=True) for b in biases]
        a, zs = torch.tensor(x), []
        for l, (w, b) in enumerate(zip(ws, bs)):
            z = w @ a + b
            z.retain_grad()
            zs.append(z)
            a = TORCH_ACT[names[l]](z) if l < len(names) else z
        z_out, target = zs[-1], torch.tensor(y)
        if loss == "ce":  # samples are columns here, cross_entropy wants them as rows
            per_sample = F.cross_entropy(z_out.T, target.argmax(0), reduction="none")
        else:
            per_sample = 0.5 * F.mse_loss(torch.sigmoid(z_out), target, reduction="none").sum(0)
        return ws, bs, zs, per_sample

    _, _, zs, per_sample = run()
    per_sample.sum().backward()  # ∂(Σ C_x)/∂z^l column x is ∂C_x/∂z^l: each sample's own δ
    deltas = [z.grad.numpy() for z in zs]
    ws, bs, _, per_sample = run()
    mean_cost = per_sample.mean()
    mean_cost.backward()
    return deltas, [w.grad.numpy() for w in ws], [b.grad.numpy() for b in bs], mean_cost.item()


def assert_close(actual, expected):
    """rtol 1e-10, and atol 1e-10 relative to the array's scale (sums of many terms round absolutely)."""
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-10 * scale)


@st.composite
def networks(draw):
    """Random depth, widths, batch, activations, loss; float64 weights/inputs; one-hot y."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    hidden = draw(st.lists(st.integers(1, 8), min_size=1, max_size=4))
    n_in, n_out, m = draw(st.integers(1, 8)), draw(st.integers(1, 8)), draw(st.integers(1, 5))
    per_layer = draw(st.booleans())
    activation = draw(st.lists(st.sampled_from(NAMES), min_size=len(hidden), max_size=len(hidden))) \
        if per_layer else draw(st.sampled_from(NAMES))
    loss = draw(st.sampled_from(["ce", "mse"]))
    scale = draw(st.sampled_from([0.1, 1.0, 2.0]))
    sizes = [n_in, *hidden, n_out]
    weights = [scale * rng.standard_normal((sizes[i + 1], sizes[i])) for i in range(len(sizes) - 1)]
    biases = [rng.standard_normal((sizes[i + 1], 1)) for i in range(len(sizes) - 1)]
    if draw(st.booleans()):  # exact zeros exercise relu'(0) and leaky_relu'(0)
        biases = [np.zeros_like(b) for b in biases]
        x = np.zeros((n_in, m)) if draw(st.booleans()) else rng.standard_normal((n_in, m))
    else:
        x = rng.standard_normal((n_in, m))
    y = np.eye(n_out)[:, rng.integers(0, n_out, m)]
    return weights, biases, activation, x, y, loss


@settings(max_examples=60, deadline=None)
@given(networks())
def test_backprop_equals_autograd(net):
    weights, biases, activation, x, y, loss = net
    names = [activation] * (len(weights) - 1) if isinstance(activation, str) else activation
    deltas, grad_w, grad_b = backprop(weights, biases, activation, x, y, loss)
    ref_deltas, ref_w, ref_b, ref_cost = torch_reference(weights, biases, names, x, y, loss)
    assert len(deltas) == len(grad_w) == len(grad_b) == len(weights)
    for l in range(len(weights)):
        assert deltas[l].shape == (weights[l].shape[0], x.shape[1])
        assert grad_w[l].shape == weights[l].shape and grad_b[l].shape == biases[l].shape
        assert_close(deltas[l], ref_deltas[l])
        assert_close(grad_w[l], ref_w[l])
        assert_close(grad_b[l], ref_b[l])
    assert math.isclose(cost(weights, biases, activation, x, y, loss), ref_cost, rel_tol=1e-10, abs_tol=1e-10)


def test_hand_computed_1_1_1_network():
    # x = 2, W¹ = 0.5, b¹ = 0, relu:  z¹ = 1, a¹ = 1, relu'(1) = 1
    # W² = 2, b² = -2, sigmoid output: z² = 0, a² = ½, σ'(0) = ¼; y = 1, C = ½(½ − 1)² = 0.125
    # BP1 δ² = (a² − y) σ'(z²) = (−½)(¼) = −0.125;  BP2 δ¹ = W² δ² relu'(z¹) = 2(−0.125)(1) = −0.25
    # BP3 ∂C/∂b² = −0.125, ∂C/∂b¹ = −0.25;  BP4 ∂C/∂W² = δ² a¹ = −0.125, ∂C/∂W¹ = δ¹ x = −0.5
    weights, biases = [np.array([[0.5]]), np.array([[2.0]])], [np.array([[0.0]]), np.array([[-2.0]])]
    x, y = np.array([[2.0]]), np.array([[1.0]])
    zs, activations = forward(weights, biases, "relu", x, "mse")
    assert [z.item() for z in zs] == [1.0, 0.0]
    assert [a.item() for a in activations] == [2.0, 1.0, 0.5]
    deltas, grad_w, grad_b = backprop(weights, biases, "relu", x, y, "mse")
    assert [d.item() for d in deltas] == [-0.25, -0.125]
    assert [g.item() for g in grad_w] == [-0.5, -0.125]
    assert [g.item() for g in grad_b] == [-0.25, -0.125]
    assert cost(weights, biases, "relu", x, y, "mse") == 0.125


def test_hand_computed_softmax_batch_of_two():
    # No hidden layer, W = 0, b = 0: softmax gives (½, ½) for both samples x = 1 and x = 3.
    # y = e1 then e2: BP1 δ = a − y = [[−½, ½], [½, −½]]; C = ln 2.
    # BP3 mean of δ over samples = (0, 0); BP4 δ xᵀ / 2 = ((−½ + 3/2)/2, (½ − 3/2)/2) = (½, −½)
    weights, biases = [np.zeros((2, 1))], [np.zeros((2, 1))]
    x, y = np.array([[1.0, 3.0]]), np.eye(2)
    deltas, grad_w, grad_b = backprop(weights, biases, [], x, y, "ce")
    np.testing.assert_array_equal(deltas[0], [[-0.5, 0.5], [0.5, -0.5]])
    np.testing.assert_array_equal(grad_w[0], [[0.5], [-0.5]])
    np.testing.assert_array_equal(grad_b[0], [[0.0], [0.0]])
    assert cost(weights, biases, "tanh", x, y, "ce") == pytest.approx(math.log(2), rel=1e-15)


def test_activation_table_values_and_kinks():
    z = np.array([-2.0, 0.0, 3.0])
    for name, act in ACTIVATIONS.items():
        f, f_prime = act.numpy, act.numpy_prime
        t = torch.tensor(z, requires_grad=True)
        TORCH_ACT[name](t).sum().backward()  # autograd's σ' including relu'(0) = 0, leaky'(0) = 0.01
        np.testing.assert_allclose(f(z), TORCH_ACT[name](torch.tensor(z)).numpy(), rtol=1e-15)
        np.testing.assert_allclose(f_prime(z), t.grad.numpy(), rtol=1e-13)  # 1 − tanh² cancels near 0
    assert ACTIVATIONS["relu"].numpy_prime(np.array([0.0]))[0] == 0.0
    assert ACTIVATIONS["leaky_relu"].numpy_prime(np.array([0.0]))[0] == 0.01


def test_sigmoid_and_softmax_are_stable_for_huge_z():
    sigmoid, sigmoid_prime = ACTIVATIONS["sigmoid"].numpy, ACTIVATIONS["sigmoid"].numpy_prime
    z = np.array([-1000.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any overflow RuntimeWarning fails the test
        np.testing.assert_array_equal(sigmoid(z), [0.0, 1.0])
        np.testing.assert_array_equal(sigmoid_prime(z), [0.0, 0.0])
        weights, biases = [np.array([[1000.0], [-1000.0]])], [np.zeros((2, 1))]
        c = cost(weights, biases, "relu", np.array([[1.0]]), np.array([[0.0], [1.0]]), "ce")
    assert c == pytest.approx(2000.0)  # -ln softmax = 2000 exactly, no log(0) = inf


def test_mixed_per_layer_activations_use_each_layer_own_sigma():
    rng = np.random.default_rng(1)
    sizes = [3, 4, 4, 2]
    weights = [rng.standard_normal((sizes[i + 1], sizes[i])) for i in range(3)]
    biases = [rng.standard_normal((sizes[i + 1], 1)) for i in range(3)]
    x, y = rng.standard_normal((3, 4)), np.eye(2)[:, [0, 1, 1, 0]]
    zs, activations = forward(weights, biases, ("tanh", "relu"), x, "ce")
    np.testing.assert_allclose(activations[1], np.tanh(zs[0]), rtol=1e-15)
    np.testing.assert_allclose(activations[2], np.maximum(zs[1], 0), rtol=1e-15)
    np.testing.assert_allclose(activations[3].sum(0), 1.0, rtol=1e-15)  # softmax output
    mixed = backprop(weights, biases, ["tanh", "relu"], x, y, "ce")
    ref = torch_reference(weights, biases, ["tanh", "relu"], x, y, "ce")
    for got, want in zip(mixed, ref[:3]):
        for g, w in zip(got, want):
            assert_close(g, w)
    same = backprop(weights, biases, "tanh", x, y, "ce")
    assert not np.allclose(same[1][0], mixed[1][0])  # the list really changes layer 2's σ


def test_backprop_steps_agree_with_backprop():
    rng = np.random.default_rng(2)
    sizes = [5, 3, 4, 3]
    weights = [rng.standard_normal((sizes[i + 1], sizes[i])) for i in range(3)]
    biases = [rng.standard_normal((sizes[i + 1], 1)) for i in range(3)]
    x, y = rng.standard_normal((5, 6)), np.eye(3)[:, [0, 1, 2, 0, 1, 2]]
    for loss in ("ce", "mse"):
        steps = backprop_steps(weights, biases, "sigmoid", x, y, loss)
        deltas, grad_w, grad_b = backprop(weights, biases, "sigmoid", x, y, loss)
        zs, activations = forward(weights, biases, "sigmoid", x, loss)
        assert [s["layer"] for s in steps] == [3, 2, 1]
        assert set(steps[0]) == {"layer", "z", "a", "sigma_prime", "back", "delta", "grad_w", "grad_b"}
        assert steps[0]["back"] is None
        assert (steps[0]["sigma_prime"] is None) == (loss == "ce")
        for s in steps:
            l = s["layer"]
            np.testing.assert_array_equal(s["z"], zs[l - 1])
            np.testing.assert_array_equal(s["a"], activations[l])
            np.testing.assert_array_equal(s["delta"], deltas[l - 1])
            np.testing.assert_array_equal(s["grad_w"], grad_w[l - 1])
            np.testing.assert_array_equal(s["grad_b"], grad_b[l - 1])
        for s in steps[1:]:  # BP2 term by term: back = (W^(l+1))ᵀ δ^(l+1), δ = back ⊙ σ'
            l = s["layer"]
            np.testing.assert_allclose(s["back"], weights[l].T @ deltas[l], rtol=1e-14)
            np.testing.assert_array_equal(s["delta"], s["back"] * s["sigma_prime"])
            z = zs[l - 1]
            np.testing.assert_allclose(s["sigma_prime"], ACTIVATIONS["sigmoid"].numpy_prime(z), rtol=1e-15)


def test_gradient_step_lowers_the_cost():
    rng = np.random.default_rng(3)
    sizes = [4, 6, 3]
    weights = [rng.standard_normal((sizes[i + 1], sizes[i])) for i in range(2)]
    biases = [rng.standard_normal((sizes[i + 1], 1)) for i in range(2)]
    x, y = rng.standard_normal((4, 8)), np.eye(3)[:, rng.integers(0, 3, 8)]
    for loss in ("ce", "mse"):
        before = cost(weights, biases, "tanh", x, y, loss)
        _, grad_w, grad_b = backprop(weights, biases, "tanh", x, y, loss)
        new_w, new_b = gradient_step(weights, biases, grad_w, grad_b, 0.05)
        after = cost(new_w, new_b, "tanh", x, y, loss)
        squared_norm = sum(float((g ** 2).sum()) for g in grad_w + grad_b)
        assert after < before
        # first order: C drops by about η‖∇C‖²
        assert before - after == pytest.approx(0.05 * squared_norm, rel=0.2)
        np.testing.assert_array_equal(new_w[0], weights[0] - 0.05 * grad_w[0])
    with pytest.raises(BackpropError, match="eta must be a finite number"):
        gradient_step(weights, biases, grad_w, grad_b, float("nan"))
    with pytest.raises(BackpropError, match=r"grad_w\[1\] has shape \(6, 3\) but weights\[1\] has \(3, 6\)"):
        gradient_step(weights, biases, [grad_w[0], grad_w[1].T], grad_b, 0.1)


def _net():
    return [np.zeros((15, 16)), np.zeros((10, 15))], [np.zeros((15, 1)), np.zeros((10, 1))]


@pytest.mark.parametrize("change, message", [
    (lambda w, b, x, y: ([w[0], np.zeros((10, 14))], b, x, y),
     r"weights\[1\] has shape \(10, 14\) but layer 1 has 15 units"),
    (lambda w, b, x, y: (w, b, np.zeros((17, 3)), y), r"weights\[0\] has shape \(15, 16\) but layer 0 has 17 units"),
    (lambda w, b, x, y: (w, [b[0], np.zeros(10)], x, y), r"biases\[1\] has shape \(10,\) but must be \(10, 1\)"),
    (lambda w, b, x, y: (w, b[:1], x, y), "got 2 weight matrices but 1 bias vectors"),
    (lambda w, b, x, y: ([], [], x, y), "at least one matrix"),
    (lambda w, b, x, y: (w, b, np.zeros(16), y), r"x must be a 2-D array, got shape \(16,\)"),
    (lambda w, b, x, y: (w, b, x, np.eye(10)[:, :2]), r"y has shape \(10, 2\) but must be \(10, 3\)"),
    (lambda w, b, x, y: (w, b, x, np.zeros((10, 3))), "each column of y must sum to 1"),
])
def test_shape_errors_name_the_array(change, message):
    w, b = _net()
    weights, biases, x, y = change(w, b, np.zeros((16, 3)), np.eye(10)[:, :3])
    with pytest.raises(BackpropError, match=message):
        backprop(weights, biases, "relu", x, y, "ce")


def test_bad_names_and_activation_counts():
    weights, biases = _net()
    x, y = np.zeros((16, 3)), np.eye(10)[:, :3]
    with pytest.raises(ValueError, match="activation must be one of sigmoid, tanh, relu, leaky_relu, linear"):
        backprop(weights, biases, "swish", x, y, "ce")
    with pytest.raises(ValueError, match=r"one name per hidden layer \(1\), got 2"):
        forward(weights, biases, ["relu", "tanh"], x, "ce")
    with pytest.raises(ValueError, match="loss must be one of ce, mse"):
        cost(weights, biases, "relu", x, y, "hinge")
    with pytest.raises(ValueError, match="loss must be one of ce, mse"):
        forward(weights, biases, "relu", x, "l1")


def test_inputs_are_not_modified():
    rng = np.random.default_rng(4)
    weights, biases = [rng.standard_normal((3, 2)), rng.standard_normal((2, 3))], [np.ones((3, 1)), np.ones((2, 1))]
    x, y = rng.standard_normal((2, 4)), np.eye(2)[:, [0, 1, 0, 1]]
    copies = [a.copy() for a in weights + biases + [x, y]]
    _, grad_w, grad_b = backprop(weights, biases, "linear", x, y, "mse")
    gradient_step(weights, biases, grad_w, grad_b, 0.5)
    for original, copy in zip(weights + biases + [x, y], copies):
        np.testing.assert_array_equal(original, copy)
