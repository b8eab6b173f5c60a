"""K-fold cross-validation: split the training set into k folds, train k networks, each validated on one fold."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..data.datasets import Dataset, load_dataset
from ..nn.spec import NetworkSpec, TrainSpec
from ..text import N_, _
from .trainer import Trainer

K_RANGE = (2, 20)
RUN_SLICE_SECONDS = 1.0  # a one-shot run (the CLI) advances its job this long between two progress reports


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


class TrainerSequence:
    """A resumable job: `total` networks built and trained one after another, in slices (K-fold, capacity sweep)."""

    def __init__(self, total: int):
        """Called last by a subclass's __init__: the first network is built now, so bad settings fail at once."""
        self.total = total  # networks to train
        self.done = 0  # networks trained and measured
        self.current: Trainer | None = self._build(0)  # the network in training; None before it is built

    def _build(self, index: int) -> Trainer:
        """The index-th network's trainer (0-based)."""
        raise NotImplementedError

    def _measure(self, index: int, trainer: Trainer) -> None:
        """Keep what the index-th network scored, once it has finished training."""
        raise NotImplementedError

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    @property
    def fraction(self) -> float:
        """How much of the job is done, 0..1 (the network in training counts by its steps)."""
        part = 0.0
        if self.current is not None:
            planned = self.current.training.epochs * self.current.steps_per_epoch
            part = 1.0 if self.current.finished else min(self.current.step_count / planned, 1.0)
        return min((self.done + part) / self.total, 1.0)

    def advance(self, seconds: float) -> bool:
        """Train for about `seconds` of wall time (at least one step), moving on as each network finishes; True when
        every network is done."""
        deadline = time.perf_counter() + seconds
        while not self.finished:
            if self.current is None:
                self.current = self._build(self.done)
            self.current.run_for(max(deadline - time.perf_counter(), 0.0))
            if not self.current.finished:
                break  # out of time in the middle of this network
            self._measure(self.done, self.current)
            self.current, self.done = None, self.done + 1  # the trained network is dropped
            if time.perf_counter() >= deadline:
                break
        return self.finished

    def run(self, progress: Callable[[int, int], None] | None = None):
        """Advance to the end, calling progress(done, total) at the start and once per finished network; the result."""
        if progress is not None:
            progress(0, self.total)
        reported = 0
        while not self.finished:
            self.advance(RUN_SLICE_SECONDS)
            if progress is not None:
                for done in range(reported + 1, self.done + 1):
                    progress(done, self.total)
            reported = self.done
        return self.result()

    def result(self):
        raise NotImplementedError


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


class KFoldJob(TrainerSequence):
    """K-fold cross-validation as a resumable job: advance(seconds) trains the current fold's network a little."""

    def __init__(self, network: NetworkSpec, training: TrainSpec, k: int = 5, dataset: Dataset | None = None):
        self.network, self.training, self.k = network, training, k
        self.data = dataset if dataset is not None else load_dataset(
            training.dataset, train_size=training.train_size, val_fraction=training.val_fraction,
            noise=training.noise, seed=training.seed)
        self.parts = fold_indices(len(self.data.x_train), k, training.seed)  # checks k first
        self.folds: list[Fold] = []
        super().__init__(k)

    def _build(self, index: int) -> Trainer:
        return Trainer(self.network, self.training, fold_dataset(self.data, self.parts[index], index + 1),
                       record=False, snapshot_every=None)

    def _measure(self, index: int, trainer: Trainer) -> None:
        scores = trainer.evaluate()
        self.folds.append(Fold(index + 1, scores["val_acc"], scores["val_loss"], len(trainer.x_train),
                               len(self.parts[index])))

    def result(self) -> CrossValidation:
        """Every fold's score with their mean and standard deviation (once finished)."""
        if not self.finished:
            raise RuntimeError(f"{self.done} of {self.k} folds are trained")
        regression = self.data.task == "regression"
        values = np.array([f.val_loss if regression else f.val_acc for f in self.folds], dtype=float)
        return CrossValidation(self.k, tuple(self.folds), float(values.mean()), float(values.std()),
                               N_("validation loss") if regression else N_("validation accuracy"))


def cross_validate(network: NetworkSpec, training: TrainSpec, k: int = 5,
                   progress: Callable[[int, int], None] | None = None,
                   dataset: Dataset | None = None) -> CrossValidation:
    """Train training.epochs epochs on each of k splits of the training set (its validation split is not used)."""
    return KFoldJob(network, training, k, dataset).run(progress)
