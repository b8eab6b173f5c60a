"""K-fold cross-validation: split the training set into k folds, train k networks, each validated on one fold."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..data.datasets import Dataset, load_dataset
from ..nn.spec import NetworkSpec, TrainSpec
from ..text import N_, _
from .trainer import Trainer

K_RANGE = (2, 20)


@dataclass(frozen=True)
class Fold:
    """One fold's network, trained on the other k−1 folds and measured on this one."""

    fold: int  # 1..k
    val_acc: float | None  # None for regression
    val_loss: float
    n_train: int
    n_val: int


@dataclass(frozen=True)
class CrossValidation:
    """Every fold's validation score, with their mean and (population) standard deviation.

    mean and std are of the validation accuracy for classification, of the validation loss for regression.
    """

    k: int
    folds: tuple[Fold, ...]
    mean: float
    std: float
    metric: str  # "validation accuracy" or "validation loss" (marked with N_: compare it, show it as _(metric))


def fold_indices(n: int, k: int, seed: int) -> list[np.ndarray]:
    """k disjoint index arrays covering 0..n−1 after one shuffle; sizes differ by at most one."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not K_RANGE[0] <= k <= K_RANGE[1]:
        raise ValueError(_("k must be a whole number from {low} to {high}, got {k!r}").format(
            low=K_RANGE[0], high=K_RANGE[1], k=k))
    if n < k:
        raise ValueError(_("{k} folds need at least {k} training samples, got {n}").format(k=k, n=n))
    order = np.random.default_rng(seed).permutation(n)
    return np.array_split(order, k)


def fold_dataset(data: Dataset, held_out: np.ndarray, fold: int) -> Dataset:
    """The training set with one fold held out as the validation set."""
    keep = np.ones(len(data.x_train), dtype=bool)
    keep[held_out] = False
    return dataclasses.replace(data, name=f"{data.name} (fold {fold})", x_train=data.x_train[keep],
                               y_train=data.y_train[keep], x_val=data.x_train[held_out], y_val=data.y_train[held_out])


def cross_validate(network: NetworkSpec, training: TrainSpec, k: int = 5,
                   progress: Callable[[int, int], None] | None = None,
                   dataset: Dataset | None = None) -> CrossValidation:
    """Train training.epochs epochs on each of k splits of the training set (its validation split is not used)."""
    data = dataset if dataset is not None else load_dataset(
        training.dataset, train_size=training.train_size, val_fraction=training.val_fraction,
        noise=training.noise, seed=training.seed)
    parts = fold_indices(len(data.x_train), k, training.seed)
    folds = []
    if progress is not None:
        progress(0, k)
    for i, held_out in enumerate(parts, start=1):
        trainer = Trainer(network, training, fold_dataset(data, held_out, i), record=False, snapshot_every=None)
        trainer.step(training.epochs * trainer.steps_per_epoch)
        scores = trainer.evaluate()
        folds.append(Fold(i, scores["val_acc"], scores["val_loss"], len(trainer.x_train), len(held_out)))
        if progress is not None:
            progress(i, k)
    regression = data.task == "regression"
    values = np.array([f.val_loss if regression else f.val_acc for f in folds], dtype=float)
    return CrossValidation(k, tuple(folds), float(values.mean()), float(values.std()),
                           N_("validation loss") if regression else N_("validation accuracy"))
