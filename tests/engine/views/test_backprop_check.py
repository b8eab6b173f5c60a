"""The Backprop page's engine side: a model's arrays for the numpy reference, checked against autograd."""
import numpy as np
import pytest
import torch

from engine.data.datasets import load_dataset
from engine.nn.backprop import backprop, cost, forward
from engine.nn.model import build_model
from engine.nn.probes import record
from engine.nn.spec import NetworkSpec
from engine.views.backprop_check import autograd_reference, compare, mlp_arrays, small_network, step_sweep


@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_a_models_arrays_give_the_probes_deltas_and_gradients(loss):
    model = build_model(NetworkSpec(input_size=12, hidden=(6, 5), activations=("tanh", "sigmoid"), output_size=4,
                                    loss=loss), seed=2).double()
    weights, biases, activations, model_loss = mlp_arrays(model)
    assert model_loss == loss and activations == ["tanh", "sigmoid"]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3))
    labels = np.array([0, 3, 1])
    y = np.eye(4)[labels].T  # (n_L, m) one-hot columns
    deltas, grad_w, grad_b = backprop(weights, biases, activations, x, y, loss)
    _, records = record(model, torch.tensor(x.T), torch.tensor(labels))
    for l, rec in enumerate(records):
        np.testing.assert_allclose(deltas[l], rec.delta.T, atol=1e-12)
        np.testing.assert_allclose(grad_w[l], rec.grad_w, atol=1e-12)
        np.testing.assert_allclose(grad_b[l][:, 0], rec.grad_b, atol=1e-12)


def test_compare_reports_float64_agreement_and_float32_rounding():
    model = build_model(NetworkSpec(hidden=(16, 16), activations="sigmoid"), seed=0)
    weights, biases, activations, loss = mlp_arrays(model)
    x = np.random.default_rng(1).random((784, 1))
    y = np.zeros((10, 1))
    y[3] = 1
    reference = backprop(weights, biases, activations, x, y, loss)
    diffs = compare(reference, weights, biases, activations, x, y, loss)
    assert max(diffs["float64"].values()) < 1e-12
    assert 1e-12 < max(diffs["float32"].values()) < 1e-5
    deltas, _, _ = autograd_reference(weights, biases, activations, x, y, loss)
    assert [d.shape for d in deltas] == [(16, 1), (16, 1), (10, 1)]


def test_a_conv_or_regression_model_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="conv front end"):
        mlp_arrays(build_model(NetworkSpec(conv=(4,), hidden=(8,))))
    with pytest.raises(ValueError, match="regression"):
        mlp_arrays(build_model(NetworkSpec(input_size=1, hidden=(8,), output_size=1, loss="mse", regression=True,
                                           image_shape=None)))


def test_step_sweep_is_the_cost_after_a_hand_made_step_and_leaves_the_weights_alone():
    rng = np.random.default_rng(4)
    weights = [rng.normal(size=(5, 3)), rng.normal(size=(2, 5))]
    biases = [rng.normal(size=(5, 1)), rng.normal(size=(2, 1))]
    copies = [w.copy() for w in weights]
    x, y = rng.normal(size=(3, 4)), np.array([[1, 0, 1, 0], [0, 1, 0, 1]], dtype=float)
    _, grad_w, grad_b = backprop(weights, biases, "relu", x, y, "ce")
    costs = step_sweep(weights, biases, "relu", grad_w, grad_b, [0.0, 0.5], x, y, "ce")
    stepped_w = [w - 0.5 * g for w, g in zip(weights, grad_w)]
    stepped_b = [b - 0.5 * g for b, g in zip(biases, grad_b)]
    assert costs[0] == pytest.approx(cost(weights, biases, "relu", x, y, "ce"), abs=1e-12)
    assert costs[1] == pytest.approx(cost(stepped_w, stepped_b, "relu", x, y, "ce"), abs=1e-12)
    assert costs[1] < costs[0]  # a small step along -∇C lowers C
    assert all(np.array_equal(w, c) for w, c in zip(weights, copies))


def test_the_small_network_is_3blue1browns_and_reads_digits():
    model = small_network(seed=0)
    assert model.spec.describe() == "784-16-16-10 sigmoid"
    data = load_dataset("mnist5k")
    weights, biases, activations, loss = mlp_arrays(model)
    x, labels = data.x_val.T.astype(np.float64), data.y_val
    _, outs = forward(weights, biases, activations, x, loss)
    assert (outs[-1].argmax(axis=0) == labels).mean() > 0.8  # trained: the page's numbers mean something
