"""engine.views.gradients: profiles against autograd and the CLI, the textbook cases and their verdicts (Nielsen's
chapter 5 among them), his speeds of learning against the numpy reference, the scalar chain. The verdict on
hand-built rows is tested in test_verdicts.py, its words in test_words.py."""
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.__main__ import main as cli
from engine.data.datasets import load_dataset
from engine.views.gradients import (ProfileTrainer, activation_samples, fixed_batch, learning_speeds,
                                    profile_after_training, profile_at_init, scalar_chain)
from engine.nn.backprop import backprop, gradient_step
from engine.nn.model import INITS, build_model
from engine.nn.spec import INIT_NAMES, NetworkSpec, SpecError
from engine.views.verdicts import GAIN_LOW, KINDS, underflow_estimate
from engine.views.words import describe, diverged_profile_note, verdict_text

# The theory cases use the CLI's defaults: mnist5k, width 32, a batch of 256, seed 0 (and two more seeds).
WIDTH, BATCH = 32, 256
TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
             "leaky_relu": lambda z: F.leaky_relu(z, 0.01), "linear": lambda z: z}


# engine/nn/spec.py's INIT_NAMES must list "lecun" (INITS in engine/nn/model.py has it) for NetworkSpec to accept it
needs_lecun = pytest.mark.skipif("lecun" not in INIT_NAMES, reason="engine/nn/spec.py INIT_NAMES lacks lecun")
NIELSEN = 30  # the width of Nielsen's chapter 5 networks


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread, as the app runs (ui/bootstrap.py): several threads on a busy 2-core machine crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def net(activation: str, init: str, depth: int, width: int = WIDTH, loss: str = "ce") -> NetworkSpec:
    return NetworkSpec(hidden=(width,) * depth, activations=activation, init=init, loss=loss)


def deltas(profile) -> np.ndarray:
    return np.array([r["delta_mean_abs"] for r in profile.rows])


def reason(profile) -> str:
    """The verdict's reason, in English."""
    return describe(profile.verdict, profile.network)[1]


# ---------------------------------------------------------------- against autograd and the CLI


@pytest.mark.parametrize("activation,init,loss", [("sigmoid", "normal", "ce"), ("tanh", "xavier", "mse"),
                                                  ("relu", "he", "ce")])
def test_profile_equals_autograd_delta_on_a_small_net(activation, init, loss):
    profile = profile_at_init(net(activation, init, 3, width=6, loss=loss), "digits", batch_size=40, seed=2)
    network, x, y = fixed_batch(net(activation, init, 3, width=6, loss=loss), load_dataset("digits", seed=2), 40, 2)
    model = build_model(network, seed=2)
    # independent pass: plain tensor maths with the model's weights, δ of each sample's own cost C_x
    a, zs = x, []
    for l, linear in enumerate(model.linears):
        z = (a @ linear.weight.detach().T + linear.bias.detach()).requires_grad_(True)
        zs.append(z)
        a = TORCH_ACT[activation](z) if l < len(model.linears) - 1 else z
    onehot = F.one_hot(y, zs[-1].shape[1]).float()
    if loss == "ce":
        per_sample = -(F.log_softmax(zs[-1], 1) * onehot).sum(1)
    else:
        per_sample = 0.5 * ((torch.sigmoid(zs[-1]) - onehot) ** 2).sum(1)
    grads = torch.autograd.grad(per_sample.sum(), zs)
    expected = np.array([g.abs().mean().item() for g in grads])
    np.testing.assert_allclose(deltas(profile), expected, rtol=1e-5)
    assert len(profile.rows) == 4 and profile.rows[0]["layer"] == 1
    assert profile.loss == pytest.approx(per_sample.mean().item(), rel=1e-5)


def test_page_rows_equal_the_cli(capsys):
    spec = net("sigmoid", "normal", 5, width=16)
    page = profile_at_init(spec, "digits", batch_size=100, seed=1)
    page_rows = page.rows
    code = cli(["gradients", "--dataset", "digits", "--layers", "16,16,16,16,16", "--activation", "sigmoid",
                "--init", "normal", "--batch-size", "100", "--seed", "1", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    cli_rows = out["layers"]
    # the page and the CLI share one classifier and one describer: the same kind, ratio, gain and words
    assert out["verdict"] == {"kind": page.verdict.kind, "ratio": pytest.approx(page.verdict.ratio),
                              "gain": pytest.approx(page.verdict.per_layer),
                              "text": verdict_text(page.verdict, page.network)}
    assert out["verdict"]["gain"] == pytest.approx(out["verdict"]["ratio"] ** (1 / 4))  # 5 hidden layers: 4 steps
    assert out["verdict"]["ratio"] == pytest.approx(page_rows[0]["delta_mean_abs"] / page_rows[-2]["delta_mean_abs"])
    assert len(cli_rows) == len(page_rows)
    for mine, theirs in zip(page_rows, cli_rows):
        assert mine.keys() == theirs.keys()
        for key in mine:
            assert mine[key] == pytest.approx(theirs[key], rel=1e-12), key


def test_activation_samples_are_subsets_of_the_recorded_activations():
    network, x, y = fixed_batch(net("sigmoid", "normal", 3, width=8), load_dataset("digits"), 200, 0)
    samples = activation_samples(build_model(network, 0), x, y, max_values=300)
    assert [s.layer for s in samples] == [1, 2, 3]  # hidden layers only
    for s in samples:
        assert s.values.shape == (300,) and s.activation == "sigmoid"
        assert s.values.min() >= 0 and s.values.max() <= 1
    small = activation_samples(build_model(network, 0), x[:5], y[:5], max_values=300)
    assert small[0].values.shape == (5 * 8,)  # fewer entries than max_values: all of them


# ---------------------------------------------------------------- what theory says


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigmoid_xavier_depth_8_vanishes_by_more_than_100x(seed):
    profile = profile_at_init(net("sigmoid", "xavier", 8), "mnist5k", BATCH, seed)
    d = deltas(profile)
    assert d[0] / d[-1] < 1e-2
    assert profile.verdict.kind == "vanishing"
    # σ'(z) ≤ 1/4 and Xavier's std·√n = 1: each hidden layer passes on at most about a quarter
    assert profile.verdict.per_layer < 0.3
    assert "σ'(z) ≤ 1/4" in reason(profile)


@needs_lecun
@pytest.mark.parametrize("depth", [3, 4])
@pytest.mark.parametrize("seed", [0, 1])
def test_nielsens_sigmoid_networks_vanish_by_about_a_quarter_per_layer(depth, seed):
    # [784,30,30,30,10] and [784,30,30,30,30,10], sigmoid, his default init: his definition of the problem
    profile = profile_at_init(net("sigmoid", "lecun", depth, width=NIELSEN), "mnist5k", BATCH, seed)
    v = profile.verdict
    assert v.kind == "vanishing", verdict_text(v, profile.network)
    assert 0.15 < v.per_layer < 0.3  # σ'(z) ≤ 1/4 with std·√n = 1: about a quarter per BP2 step
    assert "σ'(z) ≤ 1/4 for sigmoid" in reason(profile) and "i.e. by ≤ 0.25" in reason(profile)
    assert "stays close to 1" not in reason(profile) and "cancel" not in reason(profile)


@pytest.mark.parametrize("depth", [3, 4, 8])
@pytest.mark.parametrize("seed", [0, 1])
def test_sigmoid_with_normal_weights_never_claims_saturation_cancels_a_blow_up_unless_the_gain_is_near_1(depth, seed):
    profile = profile_at_init(net("sigmoid", "normal", depth, width=NIELSEN), "mnist5k", BATCH, seed)
    v = profile.verdict
    assert "σ'(z) ≤ 1/4 for sigmoid" in reason(profile)
    if "cancel" in reason(profile):
        assert v.in_band and v.kind == "healthy"
    assert v.per_layer < GAIN_LOW and v.kind == "vanishing"  # Nielsen: |w σ'(z)| < 1/4 mostly, so δ shrinks


@pytest.mark.parametrize("activation,init", [("relu", "he"), ("tanh", "xavier"), ("leaky_relu", "he")])
@pytest.mark.parametrize("seed", [0, 1])
def test_variance_preserving_inits_are_healthy_by_their_gain(activation, init, seed):
    profile = profile_at_init(net(activation, init, 8), "mnist5k", BATCH, seed)
    assert profile.verdict.kind == "healthy" and 0.8 < profile.verdict.per_layer < 1.2
    assert "stays close to 1" in reason(profile)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tanh_normal_explodes(seed):
    profile = profile_at_init(net("tanh", "normal", 16), "mnist5k", BATCH, seed)
    d = deltas(profile)
    assert d[0] / d[-1] > 100
    assert profile.verdict.kind == "exploding"
    assert "std·√n" in reason(profile) and "saturated" in reason(profile)


@pytest.mark.parametrize("depth", [8, 30])
@pytest.mark.parametrize("seed", [0, 1])
def test_relu_he_stays_within_20x(depth, seed):
    profile = profile_at_init(net("relu", "he", depth), "mnist5k", BATCH, seed)
    d = deltas(profile)
    assert d.max() / d.min() < 20
    assert profile.verdict.kind == "healthy"


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_zero_init_is_symmetric_not_vanishing(activation):
    profile = profile_at_init(net(activation, "zeros", 4), "digits", 64, 0)
    d = deltas(profile)
    assert np.all(d[:-1] == 0) and d[-1] > 0
    assert profile.verdict.kind == "symmetric"
    assert "same update" in verdict_text(profile.verdict, profile.network) and "symmetry" in reason(profile)
    assert all(r["act_std"] == 0 for r in profile.rows[:-1])  # every unit of a layer computes the same a


def test_small_init_30_layers_names_float32_underflow():
    profile = profile_at_init(net("sigmoid", "small", 30), "mnist5k", BATCH, 0)
    v = profile.verdict
    assert v.kind == "vanishing" and v.ratio == 0
    d = [r["delta_mean_abs"] for r in profile.rows[:-1]]
    assert underflow_estimate(d) < 1e-45  # below float32's smallest number: stored as 0
    assert v.underflow < 1e-45
    headline = describe(v, profile.network)[0]
    assert "float32 underflow" in headline and "×10⁻⁵" in headline  # about 10⁻⁵⁶


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "linear"])
def test_every_activation_and_init_gets_a_verdict(activation):
    for init in [name for name in INITS if name in INIT_NAMES]:
        profile = profile_at_init(net(activation, init, 4, width=8), "moons", 50, 0)
        assert profile.verdict.kind in KINDS
        assert (profile.verdict.kind == "symmetric") == (init == "zeros")
        headline, why = describe(profile.verdict, profile.network)
        assert headline and why
        assert len(profile.samples) == 4 and len(profile.rows) == 5


# ---------------------------------------------------------------- Nielsen's speeds of learning


@needs_lecun
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_speeds_at_init_agree_with_nielsens_in_order_and_magnitude(seed):
    # the book: 0.003 0.017 0.070 0.285 (4 hidden layers, the last 95x the first) and 0.012 0.060 0.283 (24x)
    four = learning_speeds(net("sigmoid", "lecun", 4, width=NIELSEN), epochs=0, seed=seed).at_init
    three = learning_speeds(net("sigmoid", "lecun", 3, width=NIELSEN), epochs=0, seed=seed).at_init
    assert np.all(np.diff(four) > 0) and np.all(np.diff(three) > 0)  # the first hidden layer learns slowest
    assert 30 < four[-1] / four[0] < 300  # "roughly 100 times slower"
    assert 8 < three[-1] / three[0] < 80
    assert np.all(np.diff(four) / four[:-1] > 1.5)  # each layer down is slower by a clear factor (book: 4-6x)


def _reference_speeds(network, images, seed, lr, epochs):
    """‖∂C/∂b^l‖ per hidden layer by the numpy reference (engine/nn/backprop.py), with its own gradient steps."""
    data = load_dataset("mnist5k", seed=seed)
    resized, x, y = fixed_batch(network, data, images, seed)
    model = build_model(resized, seed)
    weights = [l.weight.detach().double().numpy() for l in model.linears]
    biases = [l.bias.detach().double().numpy()[:, None] for l in model.linears]
    onehot = np.eye(10)[y.numpy()].T
    speeds = []
    for epoch in range(epochs + 1):
        _, grad_w, grad_b = backprop(weights, biases, "sigmoid", x.double().numpy().T, onehot, "ce")
        speeds.append([np.linalg.norm(g) for g in grad_b[:-1]])
        weights, biases = gradient_step(weights, biases, grad_w, grad_b, lr)
    return np.array(speeds)


def test_speeds_are_the_bias_gradients_length_and_follow_full_batch_descent():
    network = net("sigmoid", "xavier", 3, width=12)
    result = learning_speeds(network, "mnist5k", images=200, epochs=3, lr=0.5, seed=1)
    assert result.curve.shape == (4, 3) and result.loss.shape == (4,) and result.images == 200 and result.lr == 0.5
    np.testing.assert_allclose(result.curve, _reference_speeds(network, 200, 1, 0.5, 3), rtol=2e-4)
    assert np.array_equal(result.at_init, result.curve[0])
    assert result.loss[-1] < result.loss[0]


def test_speeds_reject_bad_settings():
    with pytest.raises(SpecError, match="epochs must be"):
        learning_speeds(net("sigmoid", "xavier", 2, width=8), "digits", images=50, epochs=-1)
    with pytest.raises(SpecError, match="learning rate"):
        learning_speeds(net("sigmoid", "xavier", 2, width=8), "digits", images=50, epochs=1, lr=0.0)


# ---------------------------------------------------------------- the scalar chain


def test_scalar_chain_reproduces_d2l_with_no_activation():
    # Dive into Deep Learning's example: a product of 30 weights 0.2 or 5, no activation (σ' = 1)
    down, up = scalar_chain(30, 0.2, "linear"), scalar_chain(30, 5.0, "linear")
    np.testing.assert_allclose(down.sigma_prime, 1.0)
    assert down.gain[0] == pytest.approx(1.07e-21, rel=1e-2) and up.gain[0] == pytest.approx(9.31e20, rel=1e-2)


def test_scalar_chain_reproduces_the_textbook_numbers():
    vanish = scalar_chain(30, 0.8, "sigmoid")  # z = 0 everywhere: σ'(0) = 1/4, factor 0.8/4 = 0.2
    np.testing.assert_allclose(vanish.factors, 0.2)
    assert vanish.gain[0] == pytest.approx(0.2 ** 30) and 0.2 ** 30 == pytest.approx(1.07e-21, rel=1e-2)
    explode = scalar_chain(30, 20.0, "sigmoid")
    assert explode.gain[0] == pytest.approx(5.0 ** 30) and 5.0 ** 30 == pytest.approx(9.31e20, rel=1e-2)
    assert explode.gain[-1] == pytest.approx(5.0)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "linear"])
def test_scalar_chain_gain_equals_autograd(activation):
    depth, w, b, x = 6, 1.7, 0.3, 0.9
    chain = scalar_chain(depth, w, activation, bias=b, x=x)
    a, zs = torch.tensor(x, dtype=torch.float64), []
    for _ in range(depth):
        z = (w * a + b).requires_grad_(True) if not zs else w * a + b
        z.retain_grad()
        zs.append(z)
        a = TORCH_ACT[activation](z)
    a.backward()  # C = a^depth, so ∂C/∂a^depth = 1
    # δ^l = σ'(z^l) Π_{j>l} w σ'(z^j), so w δ^l is the product of the factors from l to the top
    expected = np.array([w * z.grad.item() for z in zs])
    np.testing.assert_allclose(chain.z, [z.item() for z in zs], rtol=1e-12)
    np.testing.assert_allclose(chain.gain, expected, rtol=1e-10)


def test_scalar_chain_rejects_bad_input():
    for args in [(0, 1.0), (5, math.nan), (5, 1.0, "softplus")]:
        with pytest.raises(SpecError):
            scalar_chain(*args)


# ---------------------------------------------------------------- after k training steps


def test_zero_steps_is_the_profile_at_init_and_training_changes_it():
    spec = net("relu", "he", 3, width=16)
    at_init = profile_at_init(spec, "digits", 128, 0)
    trainer = ProfileTrainer(spec, "digits", batch_size=128, seed=0, optimizer="sgd", lr=0.1)
    zero = trainer.advance_to(0)
    assert zero.steps == 0 and zero.profile.rows == at_init.rows
    later = trainer.advance_to(40)
    assert later.steps == 40 and later.profile.loss < at_init.loss
    again = trainer.advance_to(20)  # going back starts again from the same initial weights
    assert again.profile.rows == profile_after_training(spec, "digits", 20, batch_size=128, seed=0,
                                                        optimizer="sgd", lr=0.1).profile.rows


@needs_lecun
def test_a_run_stuck_at_chance_with_a_quiet_first_layer_is_named_vanishing():
    trainer = ProfileTrainer(net("sigmoid", "lecun", 4, width=NIELSEN), "mnist5k", batch_size=BATCH, seed=0,
                             optimizer="sgd", lr=0.03)
    assert not trainer.advance_to(0).profile.verdict.stalled  # at init a loss near chance is no news
    trained = trainer.advance_to(200)
    v = trained.profile.verdict
    assert trained.profile.loss == pytest.approx(math.log(10), abs=0.02)  # 2.30: it has learnt nothing
    assert (v.kind, v.stalled, v.chance) == ("vanishing", True, pytest.approx(math.log(10)))
    assert "The loss is still 2.30" in describe(v, trained.profile.network)[0]


def test_training_that_diverges_says_so():
    trained = profile_after_training(net("relu", "normal", 6), "digits", 30, batch_size=64, seed=0,
                                     optimizer="sgd", lr=50.0)
    assert trained.status == "diverged" and trained.steps < 30
    assert "diverged" in diverged_profile_note(trained) and "η = 50" in diverged_profile_note(trained)


def test_bad_settings_get_clear_errors():
    with pytest.raises(SpecError, match="batch size must be 1-100000"):
        profile_at_init(net("relu", "he", 2), "digits", batch_size=0)
    with pytest.raises(SpecError, match="training steps must be"):
        profile_after_training(net("relu", "he", 2), "digits", steps=-1)
    with pytest.raises(ValueError, match="unknown dataset"):
        profile_at_init(net("relu", "he", 2), "nope")
