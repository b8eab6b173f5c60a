"""engine.train.budget: a run's bytes from its specs, against what a real Trainer holds, and what fits a budget."""
import dataclasses

import pytest
import torch

from engine.data.datasets import load_dataset
from engine.nn.spec import NetworkSpec, TrainSpec
from engine.train.budget import Fit, estimate, parameter_count, session_budget, what_fits
from engine.train.trainer import Trainer


@pytest.fixture(scope="module")
def moons():
    return load_dataset("moons", n_points=600, seed=0)


def held_bytes(trainer: Trainer) -> dict[str, int]:
    """What a trained Trainer holds, counted tensor by tensor (the independent reference)."""
    params = list(trainer.model.parameters())
    opt = trainer.optimizer
    return {
        "parameters": sum(p.nbytes + (p.grad.nbytes if p.grad is not None else 0) for p in params),
        "optimizer": sum(t.nbytes for t in opt.exp_avgs + opt.exp_avg_sqs + opt.velocities),
        "recorder": trainer.recorder.buffer_bytes + sum(t.nbytes for t in trainer.recorder.before),
        "snapshots": trainer.path.bytes,
    }


def test_the_parameter_count_is_the_models_without_allocating_it():
    network = NetworkSpec(input_size=784, hidden=(300, 100), output_size=10)
    assert parameter_count(network) == 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10
    conv = NetworkSpec(hidden=(64,), conv=(8, 16))
    assert parameter_count(conv) == 8 * 25 + 8 + 16 * 8 * 25 + 16 + 16 * 7 * 7 * 64 + 64 + 64 * 10 + 10


@pytest.mark.parametrize("optimizer, batch", [("sgd", 32), ("momentum", 100), ("adam", 10_000)])
def test_the_estimate_covers_each_part_a_trained_trainer_holds(moons, optimizer, batch):
    training = TrainSpec(dataset="moons", optimizer=optimizer, batch_size=batch, epochs=200)
    trainer = Trainer(NetworkSpec(hidden=(40, 30)), training, moons, max_snapshots=12)
    trainer.step(3 * trainer.steps_per_epoch + 1)  # the full batch and the last one; the path full
    trainer.step(200)
    guess = estimate(trainer.network, training, len(trainer.x_train), max_snapshots=12)
    held = held_bytes(trainer)
    assert guess.n_params == sum(p.numel() for p in trainer.model.parameters())
    assert guess.parameters == held["parameters"] and guess.optimizer == held["optimizer"]
    assert guess.recorder == held["recorder"]  # both batch sizes' buffers and the copy of W, exactly
    assert held["snapshots"] <= guess.snapshots == 12 * 4 * guess.n_params
    assert guess.total > sum(held.values())  # plus a step's and an evaluation's working memory


def test_the_issues_full_batch_link_is_far_above_the_default_budget_and_a_smaller_one_fits(monkeypatch):
    monkeypatch.delenv("PLAYGROUND_SESSION_MB", raising=False)
    budget = session_budget()
    assert budget == 500 * 2**20
    deep = NetworkSpec(hidden=(1024,) * 50, activations="relu")  # the issue's 50 x 1024 on mnist5k, full batch
    training = TrainSpec(batch_size=1_000_000, optimizer="sgd")
    assert estimate(deep, training, 4000).total > 10 * budget
    fit = what_fits(deep, training, 4000, budget)
    assert fit.kind == "width" and 1 <= fit.value < 1024
    narrower = dataclasses.replace(deep, hidden=(fit.value,) * 50)
    assert estimate(narrower, training, 4000).total <= budget
    assert estimate(dataclasses.replace(deep, hidden=(fit.value + 1,) * 50), training, 4000).total > budget


def test_a_network_that_fits_at_a_smaller_batch_is_told_that_batch(monkeypatch):
    network = NetworkSpec(hidden=(256, 256), activations="relu")
    training = TrainSpec(batch_size=4000, optimizer="adam")
    budget = estimate(network, dataclasses.replace(training, batch_size=500), 4000).total
    fit = what_fits(network, training, 4000, budget)
    assert fit.kind == "batch" and 250 <= fit.value <= 500  # the epoch's last batch makes the bytes uneven in B
    assert estimate(network, dataclasses.replace(training, batch_size=fit.value), 4000).total <= budget
    assert what_fits(NetworkSpec(hidden=(1024,) * 8), training, 4000, 2**20) == Fit(None)  # not even 1 layer


@pytest.mark.parametrize("value, mb", [("200", 200), ("1.5", 1.5), ("nonsense", 500), ("-3", 500), ("inf", 500)])
def test_the_server_sets_the_budget_and_a_bad_value_means_the_default(monkeypatch, value, mb):
    monkeypatch.setenv("PLAYGROUND_SESSION_MB", value)
    assert session_budget() == int(mb * 2**20)
