"""K-fold cross-validation (D2L's K 折交叉验证): the training split cut into K folds, each the validation set once.

The dataset's own validation split is left out: K-fold estimates how well this network and training recipe
generalise from the training data alone, with a spread that a single split cannot give.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable, Iterator

import numpy as np

from .data import Dataset, load_dataset
from .spec import NetworkSpec, SpecError, TrainSpec
from .trainer import Trainer

K_RANGE = (2, 20)
Progress = Callable[[float, str], object]  # (share done in [0, 1], what is running): st.progress(...) fits


@dataclass(frozen=True)
class FoldResult:
    """One fold: trained on the other K − 1 folds, measured on this one."""

    fold: int  # 1-based
    val_acc: float | None  # accuracy on this fold; None for regression
    val_loss: float  # mean loss C on this fold (inf/NaN if the run diverged)
    status: str  # the Trainer's status at the end: done | diverged


@dataclass(frozen=True)
class KFoldResult:
    """Every fold's numbers and their mean and spread."""

    folds: tuple[FoldResult, ...]
    metric: str  # "val_acc" (classification) or "val_loss" (regression): what mean and std summarise
    mean: float  # mean of `metric` over the folds
    std: float  # sample standard deviation of `metric` over the folds (ddof = 1)


def split(n: int, k: int, seed: int) -> list[np.ndarray]:
    """Indices of K folds of a shuffled range(n), sizes differing by at most one."""
    if isinstance(k, bool) or not isinstance(k, int) or not K_RANGE[0] <= k <= K_RANGE[1]:
        raise SpecError(f"K (folds) must be {K_RANGE[0]}-{K_RANGE[1]}, got {k!r}")
    if n < k:
        raise SpecError(f"{k} folds need at least {k} training samples; there are {n}")
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(part) for part in np.array_split(order, k)]


def folds(network: NetworkSpec, training: TrainSpec, k: int, progress: Progress | None = None,
          dataset: Dataset | None = None) -> Iterator[FoldResult]:
    """Train K networks (same spec, same seed) and yield each fold's result as soon as it is measured."""
    data = dataset if dataset is not None else load_dataset(
        training.dataset, train_size=training.train_size, val_fraction=training.val_fraction,
        noise=training.noise, seed=training.seed)
    parts = split(len(data.x_train), k, training.seed)
    report = progress or (lambda share, text: None)
    for i, held_out in enumerate(parts):
        rest = np.concatenate([p for j, p in enumerate(parts) if j != i])
        fold_data = replace(data, name=f"{data.name} fold {i + 1}/{k}", x_train=data.x_train[rest],
                            y_train=data.y_train[rest], x_val=data.x_train[held_out], y_val=data.y_train[held_out])
        trainer = Trainer(network, training, fold_data, record=False, snapshot_every=None)
        total = trainer.steps_per_epoch * training.epochs
        report(i / k, f"Fold {i + 1} of {k}: training on {len(rest)} samples")
        while not trainer.finished:
            trainer.step(trainer.steps_per_epoch)
            report((i + min(trainer.step_count / total, 1.0)) / k,
                   f"Fold {i + 1} of {k}: epoch {round(trainer.epoch)} of {training.epochs}")
        measured = trainer.evaluate()
        yield FoldResult(i + 1, measured["val_acc"], measured["val_loss"], trainer.status)
    report(1.0, f"{k} folds done")


def summarise(results: list[FoldResult], regression: bool) -> KFoldResult:
    """Mean and sample std of the folds' validation accuracy (or loss, for regression)."""
    metric = "val_loss" if regression else "val_acc"
    values = np.array([getattr(r, metric) for r in results], dtype=float)
    mean = float(values.mean()) if len(values) else math.nan
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return KFoldResult(tuple(results), metric, mean, std)


def cross_validate(network: NetworkSpec, training: TrainSpec, k: int, progress: Progress | None = None,
                   dataset: Dataset | None = None) -> KFoldResult:
    """K-fold cross-validation of this network and training recipe; progress(share, text) after every epoch."""
    results = list(folds(network, training, k, progress, dataset))
    regression = results[0].val_acc is None
    return summarise(results, regression)


__all__ = ["FoldResult", "KFoldResult", "K_RANGE", "split", "folds", "summarise", "cross_validate"]
