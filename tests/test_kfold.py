"""K-fold cross-validation: the folds partition the training split, each fold's numbers are a real evaluation."""
import math

import numpy as np
import pytest
import torch

from engine.data import load_dataset
from engine.kfold import cross_validate, folds, split, summarise
from engine.spec import NetworkSpec, SpecError, TrainSpec
from engine.trainer import Trainer, evaluate

NETWORK = NetworkSpec(hidden=(16,), activations="relu", init="he")
TRAINING = TrainSpec(dataset="moons", optimizer="adam", lr=0.01, batch_size=32, epochs=3, seed=2)


def test_split_partitions_every_sample_once():
    parts = split(103, 5, seed=0)
    assert len(parts) == 5 and sorted(len(p) for p in parts) == [20, 20, 21, 21, 21]
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(103))
    assert [p.tolist() for p in split(103, 5, seed=0)] == [p.tolist() for p in parts]  # deterministic
    with pytest.raises(SpecError, match="K"):
        split(100, 1, seed=0)
    with pytest.raises(SpecError, match="at least 5"):
        split(4, 5, seed=0)


def test_cross_validate_reports_k_folds_with_mean_std_and_progress():
    seen = []
    result = cross_validate(NETWORK, TRAINING, 4, progress=lambda share, text: seen.append((share, text)))
    assert [f.fold for f in result.folds] == [1, 2, 3, 4] and result.metric == "val_acc"
    accs = [f.val_acc for f in result.folds]
    assert all(0.5 < a <= 1.0 for a in accs)  # moons are learnable in 3 epochs
    assert result.mean == pytest.approx(np.mean(accs)) and result.std == pytest.approx(np.std(accs, ddof=1))
    shares = [s for s, _ in seen]
    assert shares[0] == 0.0 and shares[-1] == 1.0 and shares == sorted(shares)
    assert any("Fold 4 of 4" in text for _, text in seen)
    assert all(f.status == "done" for f in result.folds)


def test_each_fold_is_trained_without_its_own_samples_and_measured_on_them():
    data = load_dataset("moons", seed=TRAINING.seed)
    first = next(folds(NETWORK, TRAINING, 3, dataset=data))
    parts = split(len(data.x_train), 3, TRAINING.seed)
    held_out, rest = parts[0], np.concatenate(parts[1:])  # the other folds, in order
    assert not set(held_out) & set(rest)
    # the same training by hand: train on the other folds, evaluate on this one
    fold_data = data.__class__(**{**data.__dict__, "x_train": data.x_train[rest], "y_train": data.y_train[rest],
                                  "x_val": data.x_train[held_out], "y_val": data.y_train[held_out]})
    trainer = Trainer(NETWORK, TRAINING, fold_data, record=False, snapshot_every=None)
    while not trainer.finished:
        trainer.step(trainer.steps_per_epoch)
    loss, acc = evaluate(trainer.model, torch.tensor(data.x_train[held_out]), torch.tensor(data.y_train[held_out]))
    assert first.val_acc == pytest.approx(acc) and first.val_loss == pytest.approx(loss)


def test_regression_folds_summarise_the_loss():
    result = cross_validate(NetworkSpec(hidden=(8,), activations="tanh", init="xavier", loss="mse"),
                            TrainSpec(dataset="regression", optimizer="adam", lr=0.01, batch_size=20, epochs=2), 3)
    assert result.metric == "val_loss" and all(f.val_acc is None for f in result.folds)
    assert result.mean == pytest.approx(np.mean([f.val_loss for f in result.folds]))
    assert math.isfinite(result.std)
    single = summarise(list(result.folds[:1]), regression=True)
    assert single.std == 0.0
