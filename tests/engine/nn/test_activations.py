"""The activation registry against torch autograd (σ'), numpy against torch (σ and σ'), and the failure flags."""
import numpy as np
import pytest
import torch

from engine.nn.activations import ACTIVATIONS, LEAKY_SLOPE, bounds, dies
from engine.nn.spec import ACTIVATION_NAMES

Z = np.concatenate((np.linspace(-6.0, 6.0, 49), [0.0, -1e-3, 1e-3, -40.0, 40.0]))


def test_the_registry_lists_the_names_the_specs_accept():
    assert tuple(ACTIVATIONS) == ACTIVATION_NAMES
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


def test_every_row_has_a_name_and_formulas_for_students():
    for act in ACTIVATIONS.values():
        assert act.label and act.formula and act.derivative
