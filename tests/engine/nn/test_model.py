"""engine.nn.model: initial weights with the statistics each init promises, seeds, sizes, and the output layer."""
import math

import numpy as np
import pytest
import torch

from engine.nn.model import INITS, build_model, count_parameters, output_a
from engine.nn.probes import record
from engine.nn.spec import INIT_NAMES, NetworkSpec

needs_lecun = pytest.mark.skipif("lecun" not in INIT_NAMES, reason="engine/nn/spec.py INIT_NAMES lacks lecun")


@pytest.mark.parametrize("init, expected_std", [
    ("he", lambda n_in, n_out: math.sqrt(2 / n_in)),
    ("xavier", lambda n_in, n_out: math.sqrt(2 / (n_in + n_out))),
    ("normal", lambda n_in, n_out: 1.0),
    # Nielsen's network2 default_weight_initializer: randn(y, x)/√x weights, randn(y, 1) biases
    pytest.param("lecun", lambda n_in, n_out: math.sqrt(1 / n_in), marks=needs_lecun),
    ("small", lambda n_in, n_out: 0.01),
])
def test_init_statistics(init, expected_std):
    model = build_model(NetworkSpec(input_size=400, hidden=(300, 200), output_size=10, init=init), seed=0)
    for linear in model.linears:
        n_out, n_in = linear.weight.shape
        w = linear.weight.detach()
        assert abs(float(w.mean())) < 0.05 * expected_std(n_in, n_out) + 1e-4
        assert float(w.std()) == pytest.approx(expected_std(n_in, n_out), rel=0.05)
    biases = torch.cat([linear.bias.detach() for linear in model.linears])
    assert float(biases.std()) == pytest.approx(INITS[init].bias_std, abs=0.1)


def test_every_init_has_a_label_and_a_short_name_and_the_widgets_list_them_all():
    from engine.nn.model import INIT_ORDER
    assert set(INIT_ORDER) == set(INITS)
    assert INITS["lecun"].std(784, 30) == pytest.approx(1 / 28) and INITS["lecun"].bias_std == 1.0
    assert all(init.label and init.short for init in INITS.values())


def test_zero_init_keeps_every_unit_of_a_layer_identical():
    spec = NetworkSpec(input_size=4, hidden=(3,), activations="sigmoid", output_size=2, init="zeros")
    model = build_model(spec)
    _, records = record(model, torch.randn(5, 4), torch.tensor([0, 1, 0, 1, 1]))
    hidden = records[0]
    assert np.all(hidden.a == hidden.a[:, :1])  # symmetry: all units equal
    assert np.all(hidden.grad_w == 0)  # and they receive no signal to break it


def test_same_seed_same_weights_different_seed_different_weights():
    spec = NetworkSpec(input_size=10, hidden=(8,), output_size=3)
    a, b, c = build_model(spec, 1), build_model(spec, 1), build_model(spec, 2)
    assert torch.equal(a.linears[0].weight, b.linears[0].weight)
    assert not torch.equal(a.linears[0].weight, c.linears[0].weight)


def test_parameter_count_of_3blue1brown_network():
    model = build_model(NetworkSpec(hidden=(16, 16), activations="sigmoid"))
    assert count_parameters(model) == 13_002


def test_the_written_out_softmax_equals_torch_softmax_even_for_huge_logits():
    spec = NetworkSpec(hidden=(4,), input_size=2, output_size=10)
    z = torch.randn(3, 64, 10) * torch.tensor([1.0, 50.0, 1e4])[:, None, None]  # ordinary, large, overflowing exp
    a = output_a(spec, z)
    assert torch.isfinite(a).all()
    torch.testing.assert_close(a, torch.softmax(z, dim=-1), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(a.sum(-1), torch.ones(3, 64))
