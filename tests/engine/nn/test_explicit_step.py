"""The explicit BP1-BP4 training step against autograd on the same network, and inside the Trainer."""
import numpy as np
import pytest
import torch

from engine.data.datasets import load_dataset
from engine.nn.activations import ACTIVATIONS
from engine.nn.explicit_step import ExplicitStep, supports
from engine.nn.model import build_model, loss_function
from engine.nn.probes import Probe
from engine.nn.spec import NetworkSpec, TrainSpec
from engine.train.trainer import Trainer


def autograd_step(model, x, y):
    """The reference: autograd's forward and backward on the model, recorded by a Probe."""
    model.zero_grad(set_to_none=True)
    with Probe(model) as probe:
        loss = loss_function(model.spec)(model(x), y)
        loss.backward()
    return (loss.item(), [t.clone() for t in probe.outputs], [g.clone() for g in probe.grads],
            [p.grad.clone() for p in model.parameters()])


def explicit_step(model, x, y):
    widths = model.spec.widths
    outputs = [torch.full((len(x), n), float("nan"), dtype=torch.float64) for n in widths]
    deltas = [torch.full((len(x), n), float("nan"), dtype=torch.float64) for n in widths]
    model.zero_grad(set_to_none=True)  # the step must allocate .grad itself
    loss = ExplicitStep(model)(x, y, outputs, deltas)
    return loss.item(), outputs, deltas, [p.grad.clone() for p in model.parameters()]


def assert_same(mine, reference):
    assert mine[0] == pytest.approx(reference[0], rel=1e-12)
    for got, want in zip(mine[1] + mine[2] + mine[3], reference[1] + reference[2] + reference[3], strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-13)


def batch(spec, n=9, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, spec.input_size, generator=generator, dtype=torch.float64)
    if spec.regression:
        return x, torch.randn(n, 1, generator=generator, dtype=torch.float64)
    return x, torch.randint(0, spec.output_size, (n,), generator=generator)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_every_activation_and_loss_matches_autograd(activation, loss):
    spec = NetworkSpec(input_size=6, hidden=(5, 4), activations=activation, output_size=3, init="xavier",
                       loss=loss)
    model = build_model(spec, seed=3).double()
    x, y = batch(spec)
    assert_same(explicit_step(model, x, y), autograd_step(model, x, y))


@pytest.mark.parametrize("spec", [
    NetworkSpec(input_size=4, hidden=(), output_size=3),  # no hidden layer: softmax regression
    NetworkSpec(input_size=4, hidden=(6, 5, 3), activations=("tanh", "relu", "sigmoid"), output_size=2),
    NetworkSpec(input_size=1, hidden=(8, 8), activations="tanh", output_size=1, loss="mse", regression=True),
], ids=["no-hidden", "mixed", "regression"])
def test_other_shapes_match_autograd(spec):
    model = build_model(spec, seed=1).double()
    x, y = batch(spec)
    assert_same(explicit_step(model, x, y), autograd_step(model, x, y))


def test_dropout_draws_the_same_masks_as_the_model_and_matches_autograd():
    spec = NetworkSpec(input_size=6, hidden=(40, 30), activations="relu", output_size=3, dropout=0.5)
    mine, reference = build_model(spec, seed=2).double(), build_model(spec, seed=2).double()
    x, y = batch(spec, n=16)
    ours, theirs = explicit_step(mine, x, y), autograd_step(reference, x, y)
    assert_same(ours, theirs)
    dropped = (ours[2][0] == 0) & (ours[1][0] > 0)  # δ^1 is zero where a live unit was dropped
    assert 0.3 < dropped.double().mean() / (ours[1][0] > 0).double().mean() < 0.7


def test_conv_networks_are_left_to_autograd():
    conv = build_model(NetworkSpec(hidden=(16,), conv=(4,)))
    assert not supports(conv) and supports(build_model(NetworkSpec()))
    with pytest.raises(ValueError, match="conv front end"):
        ExplicitStep(conv)


def test_trainer_on_the_explicit_step_follows_the_autograd_trainer():
    data = load_dataset("moons", seed=0)
    network = NetworkSpec(hidden=(16, 16), activations="tanh", dropout=0.2)
    training = TrainSpec(dataset="moons", optimizer="momentum", lr=0.1, batch_size=32, epochs=3)
    explicit = Trainer(network, training, data, snapshot_every=None)
    autograd = Trainer(network, training, data, backward="autograd", snapshot_every=None)  # what conv nets take
    assert explicit.backward == "explicit"
    for trainer in (explicit, autograd):
        trainer.step(40)
        trainer.inspect()  # drops .grad (zero_grad(set_to_none=True)) between steps, as the Train page does
        trainer.step(10**6)
    assert explicit.status == autograd.status == "done"
    for mine, theirs in zip(explicit.model.parameters(), autograd.model.parameters(), strict=True):
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-5)
    for column in ("loss", "delta_mean_abs", "grad_norm", "act_mean", "act_std", "saturated_frac", "dead_frac"):
        np.testing.assert_allclose(explicit.history.column(column), autograd.history.column(column),
                                   rtol=1e-3, atol=1e-6, err_msg=column)
    assert [e["val_acc"] for e in explicit.history.epochs] == [e["val_acc"] for e in autograd.history.epochs]


def test_trainer_without_recording_still_trains():
    data = load_dataset("moons", seed=0)
    training = TrainSpec(dataset="moons", optimizer="adam", lr=0.01, batch_size=32, epochs=5)
    trainer = Trainer(NetworkSpec(hidden=(16,), activations="relu"), training, data, record=False)
    trainer.step(10**6)
    assert trainer.status == "done" and trainer.history.epochs[-1]["val_acc"] > 0.8
    assert len(trainer.history.column("loss")) == 0  # nothing summarised

