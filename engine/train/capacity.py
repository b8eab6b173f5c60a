"""Model capacity: train the same network at several hidden widths and compare train and validation error."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from ..data.datasets import load_dataset
from ..nn.spec import NetworkSpec, TrainSpec
from ..text import N_
from .kfold import TrainerSequence
from .trainer import Trainer

WIDTHS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@dataclass(frozen=True)
class CapacitySweep:
    """Per hidden width: the error on the training set and on the validation set after the same training.

    Error is 1 − accuracy for classification, the loss for regression.
    """

    widths: tuple[int, ...]
    train_error: tuple[float, ...]
    val_error: tuple[float, ...]
    depth: int  # hidden layers, every one of the swept width
    metric: str  # "error rate" or "loss" (marked with N_: compare it, show it as _(metric))

    @property
    def best_width(self) -> int:
        """The width with the lowest validation error (the narrowest of ties)."""
        return self.widths[min(range(len(self.widths)), key=lambda i: (self.val_error[i], self.widths[i]))]


def _error(scores: dict, kind: str, regression: bool) -> float:
    return scores[f"{kind}_loss"] if regression else 1.0 - scores[f"{kind}_acc"]


class SweepJob(TrainerSequence):
    """The capacity sweep as a resumable job: advance(seconds) trains the current width's network a little.

    Every hidden layer is set to each width in turn (one hidden layer if the network has none), trained
    training.epochs epochs on the same data and seed; train error on the whole training set.
    """

    def __init__(self, network: NetworkSpec, training: TrainSpec, widths=WIDTHS):
        self.widths = tuple(int(w) for w in widths)
        if not self.widths:
            raise ValueError("give at least one width")
        self.network, self.training = network, training
        self.data = load_dataset(training.dataset, train_size=training.train_size,
                                 val_fraction=training.val_fraction, noise=training.noise, seed=training.seed)
        self.depth = max(len(network.hidden), 1)
        self.activations = network.activations if network.hidden else ("relu",)
        self.regression = self.data.task == "regression"
        self.train_error: list[float] = []
        self.val_error: list[float] = []
        super().__init__(len(self.widths))

    @property
    def width(self) -> int | None:
        """The width in training now (None once finished)."""
        return None if self.finished else self.widths[self.done]

    def _build(self, index: int) -> Trainer:
        spec = dataclasses.replace(self.network, hidden=(self.widths[index],) * self.depth,
                                   activations=self.activations)
        return Trainer(spec, self.training, self.data, record=False, snapshot_every=None)

    def _measure(self, index: int, trainer: Trainer) -> None:
        scores = trainer.evaluate()
        self.train_error.append(_error(scores, "train", self.regression))
        self.val_error.append(_error(scores, "val", self.regression))

    def result(self) -> CapacitySweep:
        """Every width's train and validation error (once finished)."""
        if not self.finished:
            raise RuntimeError(f"{self.done} of {self.total} widths are trained")
        return CapacitySweep(self.widths, tuple(self.train_error), tuple(self.val_error), self.depth,
                             N_("loss") if self.regression else N_("error rate"))


def sweep(network: NetworkSpec, training: TrainSpec, widths=WIDTHS,
          progress: Callable[[int, int], None] | None = None) -> CapacitySweep:
    """The whole sweep at once (SweepJob advanced to the end), with progress(done, total) after each width."""
    return SweepJob(network, training, widths).run(progress)
