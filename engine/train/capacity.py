"""Model capacity: train the same network at several hidden widths and compare train and validation error."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

from ..data.datasets import load_dataset
from ..nn.spec import NetworkSpec, TrainSpec
from ..text import N_
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


def sweep(network: NetworkSpec, training: TrainSpec, widths=WIDTHS,
          progress: Callable[[int, int], None] | None = None) -> CapacitySweep:
    """Every hidden layer set to each width in turn (one hidden layer if the network has none), trained
    training.epochs epochs on the same data and seed; train error on the whole training set."""
    widths = tuple(int(w) for w in widths)
    if not widths:
        raise ValueError("give at least one width")
    data = load_dataset(training.dataset, train_size=training.train_size, val_fraction=training.val_fraction,
                        noise=training.noise, seed=training.seed)
    depth = max(len(network.hidden), 1)
    activations = network.activations if network.hidden else ("relu",)
    regression = data.task == "regression"
    train_error, val_error = [], []
    if progress is not None:
        progress(0, len(widths))
    for done, width in enumerate(widths, start=1):
        spec = dataclasses.replace(network, hidden=(width,) * depth, activations=activations)
        trainer = Trainer(spec, training, data, record=False, snapshot_every=None)
        trainer.step(training.epochs * trainer.steps_per_epoch)
        scores = trainer.evaluate()
        train_error.append(_error(scores, "train", regression))
        val_error.append(_error(scores, "val", regression))
        if progress is not None:
            progress(done, len(widths))
    return CapacitySweep(widths, tuple(train_error), tuple(val_error), depth,
                         N_("loss") if regression else N_("error rate"))
