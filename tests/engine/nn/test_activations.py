"""The activation registry against torch autograd (σ'), numpy against torch (σ and σ'), the failure kinds, and
the output layer's rule: the one place the specs, the model and the lessons read them from."""
import numpy as np
import pytest
import torch

from engine.nn import backprop as numpy_reference
from engine.nn.activations import (ACTIVATIONS, KINDS, LEAKY_SLOPE, LOSS_OUTPUTS, OUTPUTS, bounds, dies,
                                   output_name)
from engine.nn.model import build_model, output_a
from engine.nn.spec import ACTIVATION_NAMES, LOSS_NAMES, NetworkSpec

Z = np.concatenate((np.linspace(-6.0, 6.0, 49), [0.0, -1e-3, 1e-3, -40.0, 40.0]))


def test_the_registry_lists_the_names_the_specs_accept():
    assert tuple(ACTIVATIONS) == ACTIVATION_NAMES == ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
    assert LOSS_NAMES == tuple(LOSS_OUTPUTS) == ("ce", "mse")
    assert all(act.name == name for name, act in ACTIVATIONS.items())


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_sigma_prime_equals_autograd(name):
    act = ACTIVATIONS[name]
    z = torch.tensor(Z, requires_grad=True)
    act.torch(z).sum().backward()  # autograd's σ', including relu'(0) = 0 and leaky'(0) = 0.01
    np.testing.assert_allclose(act.torch_prime(z.detach()).numpy(), z.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(act.numpy_prime(Z), z.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_numpy_and_torch_agree_and_the_module_is_the_same_function(name):
    act = ACTIVATIONS[name]
    expected = act.torch(torch.tensor(Z)).numpy()
    np.testing.assert_allclose(act.numpy(Z), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(act.module()(torch.tensor(Z)).numpy(), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_in_place_forms_match_sigma_and_sigma_prime(name):
    """forward_ turns z into σ(z) in its own storage; backward_ turns g into g ⊙ σ'(z) from a = σ(z)."""
    act = ACTIVATIONS[name]
    z = torch.tensor(Z[Z != 0.0], dtype=torch.float32)  # away from the kink, where σ' from a is ambiguous
    a = z.clone()
    out = act.forward_(a)
    assert out.data_ptr() == a.data_ptr()
    np.testing.assert_allclose(out.numpy(), act.torch(z).numpy(), rtol=1e-6)
    g = torch.linspace(-1.0, 1.0, len(z))
    expected = (g * act.torch_prime(z)).numpy()
    np.testing.assert_allclose(act.backward_(g, a).numpy(), expected, rtol=1e-5, atol=1e-7)


def test_how_units_fail():
    assert bounds("sigmoid") == (0.0, 1.0) and bounds("tanh") == (-1.0, 1.0)
    assert bounds("relu") is bounds("leaky_relu") is bounds("linear") is None
    assert ACTIVATIONS["sigmoid"].saturates and not ACTIVATIONS["relu"].saturates
    assert [name for name in ACTIVATION_NAMES if dies(name)] == ["relu"]  # leaky ReLU passes 0.01·δ back
    assert ACTIVATIONS["leaky_relu"].numpy_prime(np.array([-5.0]))[0] == LEAKY_SLOPE
    assert bounds("softmax") == (0.0, 1.0) and not dies("softmax")  # the output layer's σ


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_best_z_is_where_sigma_prime_is_largest(name):
    act = ACTIVATIONS[name]
    assert act.numpy_prime(np.array([act.best_z]))[0] == pytest.approx(act.numpy_prime(Z).max())


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_each_rows_kind_is_what_its_sigma_prime_does(name):
    """saturates: σ' → 0 at both ends; dies: σ' = 0 for every z ≤ 0; none: σ' stays at least LEAKY_SLOPE."""
    act = ACTIVATIONS[name]
    prime = act.numpy_prime(Z)
    assert act.kind in KINDS
    if act.kind == "saturates":
        assert prime[np.abs(Z) == 40.0].max() < 1e-12 and act.bounds is not None and not act.dies
    elif act.kind == "dies":
        assert (prime[Z <= 0] == 0).all() and act.bounds is None
    else:
        assert prime.min() >= LEAKY_SLOPE and act.bounds is None and not act.dies


def test_every_row_has_a_label_and_a_symbol_for_students():
    for act in ACTIVATIONS.values():
        assert act.label and act.symbol.startswith("σ(z) = ")
    assert ACTIVATIONS["linear"].label == "linear (identity)"  # one label on every page
    assert f"{LEAKY_SLOPE:g}z" in ACTIVATIONS["leaky_relu"].symbol  # the symbol is written from the constant


@pytest.mark.parametrize("loss, regression, output", [("ce", False, "softmax"), ("mse", False, "sigmoid"),
                                                       ("mse", True, "linear")])
def test_the_output_rule_gives_softmax_for_ce_sigmoid_for_mse_linear_for_regression(loss, regression, output):
    assert output_name(loss, regression) == output
    spec = NetworkSpec(input_size=3, hidden=(4,), output_size=1 if regression else 3, loss=loss, regression=regression,
                       image_shape=None)
    assert spec.output_activation == output  # the spec asks the registry
    z = torch.randn(5, spec.output_size, dtype=torch.float64)
    expected = {"softmax": torch.softmax(z, 1), "sigmoid": torch.sigmoid(z), "linear": z}[output]
    torch.testing.assert_close(OUTPUTS[output].torch(z), expected)
    torch.testing.assert_close(output_a(spec, z), expected)  # and so does the model


@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_the_numpy_reference_uses_the_same_output_layer(loss):
    model = build_model(NetworkSpec(input_size=3, hidden=(4,), output_size=3, loss=loss, image_shape=None)).double()
    weights = [l.weight.detach().numpy() for l in model.linears]
    biases = [l.bias.detach().numpy()[:, None] for l in model.linears]
    x = np.random.default_rng(0).normal(size=(3, 5))
    _, outs = numpy_reference.forward(weights, biases, "relu", x, loss)
    with torch.no_grad():
        expected = output_a(model.spec, model(torch.from_numpy(x.T))).numpy().T
    np.testing.assert_allclose(outs[-1], expected, rtol=1e-12)
