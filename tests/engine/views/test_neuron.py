"""engine.views.neuron against exact values, torch autograd and brute force: the numbers the Neuron page states."""
import itertools
import math

import numpy as np
import pytest
import torch
from scipy.optimize import linprog

from engine.nn.activations import ACTIVATIONS
from engine.views import neuron


@pytest.fixture
def one_thread():
    """Train on one thread, as the app does (two threads on a shared two-core machine crawl)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---- activations ------------------------------------------------------------------------------------------
def test_textbook_values_of_sigma_and_its_slope():
    assert neuron.sigma("sigmoid", 0.0) == 0.5
    assert neuron.sigma_prime("sigmoid", 0.0) == 0.25  # σ'(0) = 1/4, the largest it gets
    assert neuron.sigma_prime("tanh", 0.0) == 1.0
    assert neuron.sigma("relu", -2.0) == 0.0 and neuron.sigma_prime("relu", -2.0) == 0.0
    assert neuron.sigma_prime("relu", 3.0) == 1.0
    assert neuron.sigma("leaky_relu", -2.0) == pytest.approx(-0.02) and neuron.sigma_prime("leaky_relu", -2.0) == 0.01
    assert neuron.sigma("step", 0.0) == 0.0 and neuron.sigma("step", 1e-9) == 1.0  # Nielsen: 1 only if z > 0
    assert neuron.sigma_prime("step", 0.7) == 0.0
    assert neuron.sigma("linear", -1.5) == -1.5 and neuron.sigma_prime("linear", -1.5) == 1.0


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "linear"])
def test_sigma_prime_is_the_autograd_derivative(name):
    z = torch.linspace(-5, 5, 41, dtype=torch.float64).add_(0.013).requires_grad_()  # off the kink at 0
    torch_fn = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
                "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.01), "linear": lambda t: t}[name]
    torch_fn(z).sum().backward()
    assert neuron.sigma_prime(name, z.detach().numpy()) == pytest.approx(z.grad.numpy(), abs=1e-12)
    assert neuron.sigma(name, z.detach().numpy()) == pytest.approx(torch_fn(z).detach().numpy(), abs=1e-12)


def test_saturates_dies_or_none_as_the_registry_says():
    kinds = {name: neuron.activation_curve(name).kind for name in neuron.NEURON_ACTIVATIONS}
    assert kinds == {"sigmoid": "saturates", "tanh": "saturates", "relu": "dies", "leaky_relu": "none",
                     "step": "flat", "linear": "none"}
    # the network activations are the registry's own rows; only the perceptron's step is the lesson's
    assert all(neuron.NEURON_ACTIVATIONS[name] is act for name, act in ACTIVATIONS.items())
    assert [name for name in neuron.NEURON_ACTIVATIONS if name not in ACTIVATIONS] == ["step"]
    sig = neuron.activation_curve("sigmoid")
    (_, low), (high, _) = sig.saturated
    # a within 0.02 of 0 or 1: σ(z) = 0.98 at z = ln 49 ≈ 3.89, symmetric
    assert high == pytest.approx(math.log(49), abs=2e-3) and low == pytest.approx(-math.log(49), abs=2e-3)
    assert sig.dead == ()
    relu = neuron.activation_curve("relu")
    assert relu.dead == ((-6.0, 0.0),) and relu.saturated == ()
    assert neuron.activation_curve("leaky_relu").dead == ()


# ---- one neuron learning ----------------------------------------------------------------------------------
def _autograd_gradient(cost: str, w: float, b: float) -> tuple[float, float]:
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    a = torch.sigmoid(wt * 1.0 + bt)
    c = 0.5 * (a - 0.0) ** 2 if cost == "quadratic" else torch.nn.functional.binary_cross_entropy(a, torch.tensor(0.0, dtype=torch.float64))
    c.backward()
    return float(wt.grad), float(bt.grad)


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("start", ["saturated", "unsaturated"])
def test_textbook_gradients_equal_autograd_along_the_whole_run(cost, start):
    history = neuron.train_neuron(cost, start, epochs=40)
    for e in (0, 1, 17, 40):
        gw, gb = _autograd_gradient(cost, history.w[e], history.b[e])
        assert history.dc_dw[e] == pytest.approx(gw, rel=1e-9)
        assert history.dc_db[e] == pytest.approx(gb, rel=1e-9)
    # gradient descent with η = 0.15: each row is the previous one minus η times its gradient
    assert history.w[1:] == pytest.approx(history.w[:-1] - 0.15 * history.dc_dw[:-1])


def test_cross_entropy_escapes_saturation_that_stalls_the_quadratic_cost():
    quadratic = neuron.train_neuron("quadratic", "saturated")
    cross_entropy = neuron.train_neuron("cross_entropy", "saturated")
    assert quadratic.a[0] == pytest.approx(0.98201379, abs=1e-8)  # σ(4), Nielsen's 0.98
    assert quadratic.sigma_prime[0] == pytest.approx(0.0176627, abs=1e-6)
    assert cross_entropy.dc_dw[0] / quadratic.dc_dw[0] == pytest.approx(1 / quadratic.sigma_prime[0])  # ≈ 57x
    assert cross_entropy.dc_dw[0] > 50 * quadratic.dc_dw[0]
    # the quadratic cost barely moves for the first 50 epochs; cross-entropy has fallen to a fortieth
    assert quadratic.cost_value[50] > 0.95 * quadratic.cost_value[0]
    assert cross_entropy.cost_value[50] < cross_entropy.cost_value[0] / 30
    unsaturated = neuron.train_neuron("quadratic", "unsaturated")
    assert unsaturated.a[0] == pytest.approx(0.8175745, abs=1e-6)  # σ(1.5), Nielsen's 0.82
    assert unsaturated.cost_value[50] < 0.3 * unsaturated.cost_value[0]  # unsaturated: no slow start


def test_bad_neuron_settings_get_one_clear_message():
    with pytest.raises(ValueError, match="cost must be"):
        neuron.train_neuron("hinge")
    with pytest.raises(ValueError, match="start must be"):
        neuron.train_neuron("quadratic", "lukewarm")


# ---- perceptrons ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("gate", ["AND", "OR", "NAND"])
def test_presets_compute_their_gates(gate):
    unit = neuron.perceptron(*neuron.GATE_PRESETS[gate])
    assert tuple(unit.outputs) == neuron.GATES[gate]
    assert unit.computes == gate
    assert neuron.rows_matching(unit.outputs, gate) == 4
    assert neuron.rows_matching(unit.outputs, "XOR") == {"AND": 1, "OR": 3, "NAND": 3}[gate]
    (x0, y0), (x1, y1) = unit.line
    w1, w2, b = neuron.GATE_PRESETS[gate]
    assert w1 * x0 + w2 * y0 + b == pytest.approx(0) and w1 * x1 + w2 * y1 + b == pytest.approx(0)


def test_the_shaded_region_is_where_the_unit_outputs_one():
    unit = neuron.perceptron(1.0, 1.0, -1.5)  # AND: the corner above x1 + x2 = 1.5
    assert sorted(unit.region) == sorted([(1.5, 0.0), (1.5, 1.5), (0.0, 1.5)])
    assert neuron.perceptron(0.0, 0.0, -1.0).region == () and neuron.perceptron(0.0, 0.0, -1.0).line is None


def test_no_line_computes_xor_but_the_2_2_1_network_does():
    grid = np.linspace(-3, 3, 25)
    for w1, w2, b in itertools.product(grid, grid, grid):
        assert tuple(neuron.perceptron(w1, w2, b).outputs) != neuron.GATES["XOR"]
    network = neuron.xor_network()
    assert tuple(network.outputs) == neuron.GATES["XOR"]
    assert network.hidden_outputs.tolist() == [[0, 1], [1, 1], [1, 1], [1, 0]]  # (OR, NAND)
    assert [u.computes for u in network.hidden] == ["OR", "NAND"]


# ---- why non-linear ---------------------------------------------------------------------------------------
def test_an_identity_network_is_one_matrix():
    collapsed = neuron.collapse((2, 3, 3, 2), seed=3)
    w1, w2, w3 = collapsed.weights
    assert collapsed.product == pytest.approx(w3 @ w2 @ w1)
    assert collapsed.product.shape == (2, 2)
    assert np.abs(collapsed.network_output - collapsed.collapsed_output).max() < 1e-6
    assert collapsed.max_difference < 1e-6
    assert np.abs(collapsed.bias).max() > 0.1  # the biases are folded in, not zero


def _separable(points: np.ndarray, labels: np.ndarray) -> bool:
    """Is there a line with y_i (w·x_i + b) ≥ 1 for every point? A linear-programming feasibility test."""
    signs = np.where(labels, 1.0, -1.0)
    a_ub = -signs[:, None] * np.column_stack([points, np.ones(len(points))])
    result = linprog(np.zeros(3), A_ub=a_ub, b_ub=-np.ones(len(points)), bounds=[(None, None)] * 3,
                     method="highs")
    return result.status == 0


def test_identity_boundary_is_a_straight_line_and_relu_bends_it(one_thread):
    straight = neuron.boundary(("linear", "linear"))
    curved = neuron.boundary(("relu", "linear"))
    g1, g2 = np.meshgrid(straight.boundary.xx, straight.boundary.yy)
    grid = np.column_stack([g1.ravel(), g2.ravel()])
    for b in (straight, curved):
        assert 0.01 < (b.boundary.prob > 0.5).mean() < 0.99  # both classes appear on the grid
    assert _separable(grid, (straight.boundary.prob > 0.5).ravel())
    assert not _separable(grid, (curved.boundary.prob > 0.5).ravel())
    assert curved.val_acc > straight.val_acc + 0.03  # the bend pays on moons
    assert straight.val_acc > 0.8


# ---- loss functions ---------------------------------------------------------------------------------------
def test_losses_and_their_slopes_for_target_one():
    assert list(neuron.NEURON_LOSSES) == ["l1", "quadratic", "cross_entropy"]
    l1, quad, ce = (neuron.loss_curve(name, 1.0) for name in neuron.NEURON_LOSSES)
    i = int(np.argmin(np.abs(l1.a - 0.25)))
    a = l1.a[i]
    assert l1.cost[i] == pytest.approx(1 - a) and l1.dc_da[i] == -1.0
    assert quad.cost[i] == pytest.approx(0.5 * (a - 1) ** 2) and quad.dc_da[i] == pytest.approx(a - 1)
    assert ce.cost[i] == pytest.approx(-math.log(a)) and ce.dc_da[i] == pytest.approx(-1 / a)
    # cross-entropy through a sigmoid: ∂C/∂z = ∂C/∂a · a(1 − a) = a − y for any target
    for y in (0.0, 0.3, 1.0):
        curve = neuron.loss_curve("cross_entropy", y)
        assert curve.dc_da * curve.a * (1 - curve.a) == pytest.approx(curve.a - y)
    # numeric slope of every loss equals its dc_da
    for curve in (quad, ce):
        assert np.gradient(curve.cost, curve.a)[20:-20] == pytest.approx(curve.dc_da[20:-20], rel=2e-3)


def test_kl_is_cross_entropy_minus_the_targets_entropy():
    for y in (1.0, 0.0, 0.3):
        ce = neuron.loss_curve("cross_entropy", y)
        assert neuron.kl_divergence(ce.a, y) == pytest.approx(ce.cost - neuron.target_entropy(y))
    assert neuron.target_entropy(1.0) == 0.0 and neuron.target_entropy(0.0) == 0.0
    assert f"{neuron.target_entropy(1.0):.3f}" == "0.000"  # the page prints it: no "-0.000"
    assert neuron.target_entropy(0.5) == pytest.approx(math.log(2))
    with pytest.raises(ValueError, match="target y"):
        neuron.loss_curve("quadratic", 1.5)
