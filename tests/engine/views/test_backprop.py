"""engine.views.backprop: the Backprop page's records, checked against the numpy reference and hand-made curves."""
import numpy as np
import pytest

from engine.nn.activations import ACTIVATIONS, output_name
from engine.nn.backprop import backprop, cost, gradient_step
from engine.views.backprop import (SWEEP, chain_rule, descent_step, digit_image, layer_jacobian, one_hot,
                                    other_digits, output_jacobian, overshoot, work_through)


def tiny_network(loss: str = "ce", seed: int = 0) -> tuple:
    """784-5-10 with random weights, in the (weights, biases, activations, loss) form of mlp_arrays."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 0.05, (5, 784)), rng.normal(0, 0.5, (10, 5))]
    biases = [rng.normal(0, 0.1, (5, 1)), rng.normal(0, 0.1, (10, 1))]
    return weights, biases, ["tanh"], loss


def digit(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).random((28, 28))


def test_one_hot_has_one_column_per_label():
    y = one_hot([3, 0])
    assert y.shape == (10, 2)
    assert y[3, 0] == 1 and y[0, 1] == 1 and y.sum() == 2


def test_the_output_layer_is_the_registrys_rule_for_the_loss():
    for loss, output in (("ce", "softmax"), ("mse", "sigmoid")):
        assert work_through(tiny_network(loss), digit(), target=3).layer_names[-1] == output == output_name(loss)


def test_digit_image_reads_784_values_as_a_float64_square():
    image = digit_image(np.arange(784, dtype=np.float32))
    assert image.shape == (28, 28) and image.dtype == np.float64 and image[1, 0] == 28


@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_worked_example_matches_the_numpy_reference(loss):
    arrays = tiny_network(loss)
    worked = work_through(arrays, digit(), target=7)
    x, y = digit().reshape(784, 1), one_hot([7])
    deltas, grad_w, grad_b = backprop(*arrays[:3], x, y, loss)
    assert worked.cost == cost(*arrays[:3], x, y, loss)
    assert worked.layer_names == ("tanh", output_name(loss))
    assert [s.layer for s in worked.steps] == [2, 1]  # output layer first
    np.testing.assert_array_equal(worked.steps[0].delta, deltas[1][:, 0])
    np.testing.assert_array_equal(worked.grad_w[0], grad_w[0])
    np.testing.assert_array_equal(worked.grad_b[1], grad_b[1])
    assert worked.steps[0].back is None and worked.steps[1].back.shape == (5,)
    assert worked.predicted == int(np.argmax(worked.outs[-1]))
    order = np.argsort(-np.abs(deltas[0][:, 0]))[:4]
    assert worked.top_units == tuple(order)
    np.testing.assert_array_equal(worked.top_grad_w, grad_w[0][order])
    assert worked.differences["float64"]["grad_w"] < 1e-12


def test_working_through_never_touches_the_callers_arrays():
    arrays = tiny_network()
    before = [w.copy() for w in arrays[0]]
    worked = work_through(arrays, digit(), target=2)
    worked.weights[0][0, 0] = 99.0
    np.testing.assert_array_equal(arrays[0][0], before[0])


def test_overshoot_on_hand_made_curves():
    sweep = [0.1, 1.0, 10.0, 100.0]
    rises = overshoot([1.0, 0.5, 0.2, 0.6], start=1.0, sweep=sweep)
    assert rises.overshoots and rises.best_eta == 10.0
    falls = overshoot([1.0, 0.5, 0.3, 0.2], start=1.0, sweep=sweep)
    assert not falls.overshoots and falls.best_eta == 100.0
    assert not overshoot([1.0, 0.5, 0.2, 0.205], start=1.0, sweep=sweep).overshoots  # a rise under 1 % of C
    assert overshoot([1.0, 0.5, 0.2, 0.215], start=1.0, sweep=sweep).overshoots


def test_other_digits_leave_out_the_worked_one():
    x_val = np.arange(5 * 784, dtype=np.float32).reshape(5, 784)
    y_val = np.array([0, 1, 2, 3, 4])
    xs, ys = other_digits(x_val, y_val, exclude=1, n=3)
    assert xs.shape == (784, 3) and xs.dtype == np.float64
    np.testing.assert_array_equal(xs[0], [0, 2 * 784, 3 * 784])
    np.testing.assert_array_equal(ys.argmax(0), [0, 2, 3])
    assert other_digits(x_val, y_val, exclude=None, n=5)[0].shape == (784, 5)


def test_descent_step_costs_follow_gradient_step():
    arrays = tiny_network()
    worked = work_through(arrays, digit(), target=4)
    rng = np.random.default_rng(3)
    x_others, y_others = rng.random((784, 6)), one_hot(rng.integers(0, 10, 6))
    step = descent_step(worked, 1.0, x_others, y_others)
    stepped = gradient_step(worked.weights, worked.biases, worked.grad_w, worked.grad_b, 1.0)
    assert step.this_after == pytest.approx(cost(*stepped, ["tanh"], worked.x, worked.y, "ce"), rel=1e-12)
    assert step.others_after == pytest.approx(cost(*stepped, ["tanh"], x_others, y_others, "ce"), rel=1e-12)
    assert step.others_before == cost(*arrays[:3], x_others, y_others, "ce")
    assert step.this_before == worked.cost and step.n_others == 6
    assert step.this_curve.shape == step.others_curve.shape == SWEEP.shape
    assert step.this_curve[20] == pytest.approx(step.this_after, rel=1e-12)  # SWEEP[20] is η = 1
    assert step.this_curve[0] < worked.cost  # a small step down this digit's own gradient lowers its cost


def three_layer_network(loss: str, seed: int = 5) -> tuple:
    """784-6-4-10 with random weights and two different hidden activations."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 0.05, (6, 784)), rng.normal(0, 0.6, (4, 6)), rng.normal(0, 0.6, (10, 4))]
    biases = [rng.normal(0, 0.1, (6, 1)), rng.normal(0, 0.1, (4, 1)), rng.normal(0, 0.1, (10, 1))]
    return weights, biases, ["tanh", "sigmoid"], loss


def numerical_jacobian(f, z: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂z by central differences, one column per input."""
    columns = []
    for k in range(len(z)):
        step = np.zeros_like(z)
        step[k] = h
        columns.append((f(z + step) - f(z - step)) / (2 * h))
    return np.stack(columns, axis=1)


@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_bp2_is_the_transposed_jacobian_of_the_next_layer_times_its_delta(loss):
    arrays = three_layer_network(loss)
    worked = work_through(arrays, digit(), target=6)
    chain = chain_rule(worked)
    assert [c.layer for c in chain] == [2, 1]
    for c in chain:
        l = c.layer
        w_next, b_next, act = worked.weights[l], worked.biases[l][:, 0], ACTIVATIONS[worked.activations[l - 1]]
        numeric = numerical_jacobian(lambda z: w_next @ act.numpy(z) + b_next, worked.zs[l - 1])
        np.testing.assert_allclose(c.jacobian, numeric, atol=1e-8)  # ∂z^(l+1)/∂z^l = W^(l+1) diag(σ'(z^l))
        assert c.difference < 1e-15
        np.testing.assert_allclose(c.by_chain_rule, worked.steps[worked.n_layers - l].delta, rtol=0, atol=1e-15)
    assert not np.allclose(chain[0].by_chain_rule, 0)  # the check compares real, non-zero errors


def test_layer_jacobian_scales_the_columns_of_w_by_sigma_prime():
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    z = np.array([0.0, -1.0])  # relu'(0) = 0, relu'(-1) = 0: both columns vanish
    np.testing.assert_array_equal(layer_jacobian(w, z, "relu"), np.zeros((2, 2)))
    np.testing.assert_allclose(layer_jacobian(w, np.zeros(2), "sigmoid"), w * 0.25)


def test_softmax_with_cross_entropy_gives_a_minus_y_through_its_full_jacobian():
    worked = work_through(three_layer_network("ce"), digit(), target=2)
    out = output_jacobian(worked)
    a, y = worked.outs[-1], worked.y[:, 0]
    softmax = lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum()  # noqa: E731
    np.testing.assert_allclose(out.jacobian, numerical_jacobian(softmax, worked.zs[-1]), atol=1e-8)
    np.testing.assert_allclose(out.jacobian, np.diag(a) - np.outer(a, a), rtol=0, atol=0)
    assert out.off_diagonal > 1e-3  # softmax mixes the units: no element-wise σ'
    assert out.grad_a[2] == pytest.approx(-1 / a[2]) and np.count_nonzero(out.grad_a) == 1
    np.testing.assert_allclose(out.delta, a - y, atol=1e-15)
    np.testing.assert_allclose(out.delta, worked.steps[0].delta, atol=1e-15)
    assert out.difference < 1e-15


def test_sigmoid_outputs_with_the_quadratic_cost_have_a_diagonal_jacobian():
    worked = work_through(three_layer_network("mse"), digit(), target=2)
    out = output_jacobian(worked)
    assert out.off_diagonal == 0
    np.testing.assert_allclose(np.diag(out.jacobian), worked.steps[0].sigma_prime, rtol=0, atol=0)
    np.testing.assert_allclose(out.delta, worked.steps[0].delta, atol=1e-15)
    np.testing.assert_allclose(out.grad_a, worked.outs[-1] - worked.y[:, 0])
