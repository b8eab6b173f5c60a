"""engine.backprop_lesson: the Backprop page's records, checked against the numpy reference and hand-made curves."""
import numpy as np
import pytest

from engine.backprop import backprop, cost, gradient_step
from engine.backprop_lesson import (SWEEP, descent_step, digit_image, one_hot, other_digits, output_activation,
                                    overshoot, work_through)


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


def test_the_output_activation_follows_the_loss():
    assert output_activation("ce") == "softmax" and output_activation("mse") == "sigmoid"


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
    assert worked.layer_names == ("tanh", output_activation(loss))
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
