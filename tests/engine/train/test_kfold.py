"""K-fold cross-validation: each fold's numbers are a real evaluation of a network trained without that fold."""
import numpy as np
import pytest
import torch

from engine.data.datasets import load_dataset
from engine.nn.spec import NetworkSpec, TrainSpec
from engine.train.kfold import cross_validate, fold_dataset, fold_indices
from engine.train.trainer import Trainer, evaluate

NETWORK = NetworkSpec(hidden=(16,), activations="relu", init="he")
TRAINING = TrainSpec(dataset="moons", optimizer="adam", lr=0.01, batch_size=32, epochs=3, seed=2)


def test_each_fold_is_trained_without_its_own_samples_and_measured_on_them():
    data = load_dataset("moons", seed=TRAINING.seed)
    result = cross_validate(NETWORK, TRAINING, 3, dataset=data)
    held_out = fold_indices(len(data.x_train), 3, TRAINING.seed)[0]
    # the same training by hand: train on the other folds, evaluate on this one
    trainer = Trainer(NETWORK, TRAINING, fold_dataset(data, held_out, 1), record=False, snapshot_every=None)
    trainer.step(TRAINING.epochs * trainer.steps_per_epoch)
    loss, acc = evaluate(trainer.model, torch.tensor(data.x_train[held_out]), torch.tensor(data.y_train[held_out]))
    first = result.folds[0]
    assert first.val_acc == pytest.approx(acc) and first.val_loss == pytest.approx(loss)
    assert first.n_val == len(held_out) and first.n_train == len(data.x_train) - len(held_out)
    assert result.mean == pytest.approx(np.mean([f.val_acc for f in result.folds]))
