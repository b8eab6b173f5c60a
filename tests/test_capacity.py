"""The capacity sweep: train and validation error against hidden width, from real runs."""
import pytest

from engine.capacity import best_width, sweep, widened
from engine.spec import NetworkSpec, SpecError, TrainSpec
from engine.trainer import Trainer


def test_widened_keeps_depth_and_activations():
    net = NetworkSpec(hidden=(128, 64), activations=("relu", "tanh"))
    assert widened(net, 8).hidden == (8, 8) and widened(net, 8).activations == ("relu", "tanh")
    assert widened(NetworkSpec(hidden=(), activations=()), 4).hidden == (4,)


def test_sweep_measures_each_width_like_a_trainer_and_wide_beats_narrow():
    network = NetworkSpec(hidden=(32,), activations="relu", init="he")
    training = TrainSpec(dataset="digits", optimizer="adam", lr=0.01, batch_size=32, epochs=50, seed=0)
    seen = []
    result = sweep(network, training, widths=(1, 4, 32), epochs=4, progress=lambda s, t: seen.append(s))
    assert result.widths == (1, 4, 32) and result.epochs == 4 and result.measure == "error rate"
    assert result.train_error[0] > 0.5 and result.train_error[-1] < 0.1  # 1 unit underfits, 32 fit
    assert result.val_error[-1] < result.val_error[0]
    assert best_width(result) == 32
    assert seen[0] == 0.0 and seen[-1] == 1.0
    # the same numbers as training width 4 by hand
    trainer = Trainer(widened(network, 4), TrainSpec(**{**training.to_dict(), "epochs": 4}), record=False,
                      snapshot_every=None)
    while not trainer.finished:
        trainer.step(trainer.steps_per_epoch)
    m = trainer.evaluate()
    assert result.val_error[1] == pytest.approx(1 - m["val_acc"]) and result.train_error[1] == pytest.approx(
        1 - m["train_acc"])


def test_sweep_refuses_bad_widths():
    with pytest.raises(SpecError, match="widths"):
        sweep(NetworkSpec(), TrainSpec(dataset="moons"), widths=(0, 4))
    with pytest.raises(SpecError, match="widths"):
        sweep(NetworkSpec(), TrainSpec(dataset="moons"), widths=())
