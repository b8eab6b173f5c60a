"""K-fold cross-validation: each fold's numbers are a real evaluation of a network trained without that fold."""
import numpy as np
import pytest
import torch

from engine.data.datasets import load_dataset
from engine.nn.spec import NetworkSpec, TrainSpec
from engine.train.capacity import SweepJob, sweep
from engine.train.kfold import KFoldJob, cross_validate, fold_dataset, fold_indices
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


# --- the resumable jobs the Train page advances one slice per tick ----------------------------------
def one_shot_folds(network, training, k, data):
    """Today's K-fold by hand: each fold's network trained epochs × steps_per_epoch steps in one call."""
    folds = []
    for i, held_out in enumerate(fold_indices(len(data.x_train), k, training.seed), start=1):
        trainer = Trainer(network, training, fold_dataset(data, held_out, i), record=False, snapshot_every=None)
        trainer.step(training.epochs * trainer.steps_per_epoch)
        scores = trainer.evaluate()
        folds.append((i, scores["val_acc"], scores["val_loss"], len(trainer.x_train), len(held_out)))
    return folds


def test_a_k_fold_job_advanced_one_step_at_a_time_gives_the_one_shot_numbers_exactly():
    data = load_dataset("moons", seed=TRAINING.seed)
    job = KFoldJob(NETWORK, TRAINING, 3, dataset=data)
    calls, seen = 0, set()
    while not job.advance(0.0):  # no time at all: one mini-batch per call
        calls += 1
        seen.add(job.done)
        assert job.current is None or job.current.step_count >= 1
    calls += 1
    per_fold = [TRAINING.epochs * -(-(len(data.x_train) - len(p)) // TRAINING.batch_size)
                for p in fold_indices(len(data.x_train), 3, TRAINING.seed)]
    assert calls == sum(per_fold)  # each advance(0) trained exactly one step, and no fold more than its epochs
    assert seen == {0, 1, 2} and job.current is None  # fold after fold, the trained network dropped
    result = job.result()
    assert [(f.fold, f.val_acc, f.val_loss, f.n_train, f.n_val) for f in result.folds] == \
        one_shot_folds(NETWORK, TRAINING, 3, data)  # the same floats, not approximately
    assert result == cross_validate(NETWORK, TRAINING, 3, dataset=data)


def test_one_advance_trains_one_fold_until_it_ends_and_the_next_one_later():
    data = load_dataset("moons", seed=TRAINING.seed)
    job = KFoldJob(NETWORK, TRAINING, 2, dataset=data)
    assert not job.advance(0.0) and job.done == 0 and job.current.step_count == 1 and job.fraction > 0
    job.current.step(job.current.training.epochs * job.current.steps_per_epoch - 2)  # one step left in fold 1
    assert not job.advance(0.0)  # that step ends fold 1; its deadline has passed, so fold 2 waits
    assert job.done == 1 and job.current is None and len(job.folds) == 1 and job.fraction == 0.5
    with pytest.raises(RuntimeError):
        job.result()  # not before every fold is trained
    assert job.advance(60.0) and job.fraction == 1.0 and len(job.result().folds) == 2


def test_a_sweep_job_in_slices_gives_the_one_shot_sweep():
    training = TrainSpec(dataset="moons", train_size=60, noise=0.3, epochs=2, lr=0.01, batch_size=16, seed=4)
    job = SweepJob(NETWORK, training, widths=(2, 16))
    widths = []
    while not job.advance(0.0):
        widths.append(job.width)
    assert set(widths) == {2, 16} and job.width is None
    data = load_dataset("moons", train_size=60, noise=0.3, seed=4)
    expected = []
    for width in (2, 16):  # today's sweep by hand
        trainer = Trainer(NetworkSpec(hidden=(width,), activations="relu", init="he"), training, data,
                          record=False, snapshot_every=None)
        trainer.step(training.epochs * trainer.steps_per_epoch)
        scores = trainer.evaluate()
        expected.append((1 - scores["train_acc"], 1 - scores["val_acc"]))
    result = job.result()
    assert list(zip(result.train_error, result.val_error)) == expected
    assert result == sweep(NETWORK, training, widths=(2, 16))


def test_the_one_shot_functions_report_progress_once_per_network():
    calls = []
    cross_validate(NETWORK, TRAINING, 3, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
