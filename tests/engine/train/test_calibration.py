"""Temperature scaling and the expected calibration error, against torch and hand-computed values."""
import math

import numpy as np
import pytest
import torch

from engine.nn.checkpoint import CheckpointError, from_bytes, to_bytes
from engine.nn.model import build_model
from engine.nn.spec import NetworkSpec
from engine.train import calibration as C


def overconfident(n=2000, seed=0):
    """z^L of a 10-class model that is right 80 % of the time but says ~99 %: the true T is well above 1."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    guess = np.where(rng.random(n) < 0.8, y, rng.integers(0, 10, n))
    z = rng.normal(0, 1, (n, 10))
    z[np.arange(n), guess] += 8.0
    return z, y


def test_fit_temperature_matches_torch_lbfgs_on_log_t():
    z, y = overconfident()
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    zt, yt = torch.tensor(z), torch.tensor(y)
    opt = torch.optim.LBFGS([log_t], lr=0.5, max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(zt / log_t.exp(), yt)
        loss.backward()
        return loss

    opt.step(closure)
    expected = float(log_t.detach().exp())
    t = C.fit_temperature(z, y)
    assert t > 2  # over-confident: softened
    assert t == pytest.approx(expected, rel=1e-3)
    assert C.nll(z, y, t) < C.nll(z, y) and C.nll(z, y, t) <= C.nll(z, y, t * 1.01)
    assert C.nll(z, y) == pytest.approx(float(torch.nn.functional.cross_entropy(zt, yt)), rel=1e-12)


def test_temperature_scaling_cuts_the_ece_and_keeps_every_prediction():
    z, y = overconfident()
    t = C.fit_temperature(z, y)
    before, after = C.softmax(z), C.softmax(z, t)
    assert np.array_equal(before.argmax(1), after.argmax(1))
    assert C.expected_calibration_error(before, y) > 0.15
    assert C.expected_calibration_error(after, y) < 0.05


def test_ece_by_hand():
    # four predictions: two at 0.95 (one right), two at 0.55 (both right)
    probs = np.array([[0.95, 0.05], [0.05, 0.95], [0.55, 0.45], [0.45, 0.55]])
    y = np.array([0, 0, 0, 1])
    r = C.reliability(probs, y)
    assert r.count.tolist() == [0, 0, 0, 0, 0, 2, 0, 0, 0, 2]
    assert r.accuracy[9] == 0.5 and r.accuracy[5] == 1.0
    # (2/4)|0.5 - 0.95| + (2/4)|1 - 0.55|
    assert r.ece == pytest.approx(0.5 * 0.45 + 0.5 * 0.45)
    assert np.isnan(r.accuracy[0])
    assert C.reliability(np.array([[1.0, 0.0]]), np.array([0])).count[-1] == 1  # 1.0 lands in the last bin
    assert C.accuracy_below(probs, y, 0.6) == (1.0, 2)


def test_soften_from_probabilities_equals_softmax_of_z_over_t():
    z = np.array([[3.0, 1.0, -2.0, 0.5], [40.0, 0.0, 1.0, -5.0]])
    probs = C.softmax(z)
    assert np.allclose(C.soften(probs, 2.5), C.softmax(z, 2.5), atol=1e-7)
    assert np.allclose(C.soften(probs, 1.0), probs)
    assert np.allclose(C.softmax(z, 2.5)[0], torch.softmax(torch.tensor(z[0]) / 2.5, 0).numpy())


def test_fit_temperature_refuses_mismatched_input():
    with pytest.raises(ValueError, match="need"):
        C.fit_temperature(np.zeros((3, 10)), np.zeros(4, dtype=int))


def test_calibrate_a_model_and_store_t_in_its_checkpoint():
    model = build_model(NetworkSpec(hidden=(8,), input_size=4, output_size=3), seed=0)
    rng = np.random.default_rng(1)
    x = rng.normal(0, 3, (300, 4)).astype(np.float32)
    y = rng.integers(0, 3, 300)
    result = C.calibrate(model, x, y, "toy")
    assert result.nll_after <= result.nll_before and result.samples == 300
    assert result.temperature == pytest.approx(C.fit_temperature(C.logits(model, x), y))
    loaded, payload = from_bytes(to_bytes(model, calibration=result.to_dict()))
    assert C.temperature_of(payload, loaded) == pytest.approx(result.temperature)
    assert C.temperature_of(from_bytes(to_bytes(model))[1], loaded) == 1.0  # no entry: T = 1


@pytest.mark.parametrize("entry", [{"temperature": 0.0}, {"temperature": -1.0}, {"temperature": math.inf},
                                   {"temperature": math.nan}, {"temperature": "2"}, {"temperature": True}, {}, 3.0])
def test_a_bad_temperature_is_refused_with_a_reason(entry):
    model = build_model(NetworkSpec(hidden=(4,), input_size=4, output_size=3))
    reason = "calibration entry must be a dict" if not isinstance(entry, dict) else \
        "calibration temperature must be a positive number"
    with pytest.raises(CheckpointError, match=reason):
        from_bytes(to_bytes(model, calibration=entry))


def test_sigmoid_outputs_are_not_temperature_scaled():
    model = build_model(NetworkSpec(hidden=(4,), input_size=4, output_size=3, loss="mse"))
    assert C.temperature_of({"calibration": {"temperature": 2.0}}, model) == 1.0
    with pytest.raises(ValueError, match="softmax"):
        C.calibrate(model, np.zeros((5, 4), dtype=np.float32), np.zeros(5, dtype=int), "toy")
