"""Model capacity: train and validation error against hidden width, each width trained the same short way.

Too narrow and both errors stay high (underfitting); wide enough and the training error keeps falling while
the validation error stops improving or turns back up (overfitting): D2L's 欠拟合 / 过拟合 curve from real runs.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from .data import Dataset, load_dataset
from .spec import NetworkSpec, SpecError, TrainSpec
from .trainer import Trainer

WIDTHS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
SWEEP_EPOCHS = 10  # every width trains this many epochs (fewer if the recipe asks for fewer)
MAX_WIDTH = 1024
Progress = Callable[[float, str], object]  # (share done in [0, 1], what is running): st.progress(...) fits


@dataclass(frozen=True)
class CapacityResult:
    """Errors per hidden width after the same training."""

    widths: tuple[int, ...]
    train_error: tuple[float, ...]  # 1 − training accuracy (classification) or training loss (regression)
    val_error: tuple[float, ...]  # the same on the validation split
    epochs: int  # epochs each width was trained
    measure: str  # "error rate" or "loss": what the errors are
    statuses: tuple[str, ...]  # each run's Trainer status: done | diverged


def widened(network: NetworkSpec, width: int) -> NetworkSpec:
    """The same network with every hidden layer `width` units wide (one hidden layer if it had none)."""
    depth = max(len(network.hidden), 1)
    activations = network.activations if network.hidden else ("relu",)
    return replace(network, hidden=(width,) * depth, activations=activations)


def sweep(network: NetworkSpec, training: TrainSpec, widths: tuple[int, ...] = WIDTHS,
          progress: Progress | None = None, epochs: int = SWEEP_EPOCHS, dataset: Dataset | None = None
          ) -> CapacityResult:
    """Train the network at each width for min(epochs, training.epochs) epochs; deterministic (same seed): cacheable."""
    widths = tuple(widths)
    if not widths or any(isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= MAX_WIDTH for w in widths):
        raise SpecError(f"widths must be whole numbers 1-{MAX_WIDTH}, got {widths!r}")
    data = dataset if dataset is not None else load_dataset(
        training.dataset, train_size=training.train_size, val_fraction=training.val_fraction,
        noise=training.noise, seed=training.seed)
    recipe = replace(training, epochs=max(1, min(epochs, training.epochs)))
    report = progress or (lambda share, text: None)
    train_error, val_error, statuses = [], [], []
    for i, width in enumerate(widths):
        report(i / len(widths), f"Width {width}: training {recipe.epochs} epochs")
        trainer = Trainer(widened(network, width), recipe, data, record=False, snapshot_every=None)
        while not trainer.finished:
            trainer.step(trainer.steps_per_epoch)
        m = trainer.evaluate()
        regression = m["val_acc"] is None
        train_error.append(m["train_loss"] if regression else 1.0 - m["train_acc"])
        val_error.append(m["val_loss"] if regression else 1.0 - m["val_acc"])
        statuses.append(trainer.status)
    report(1.0, f"{len(widths)} widths done")
    measure = "loss" if data.task == "regression" else "error rate"
    return CapacityResult(widths, tuple(map(float, train_error)), tuple(map(float, val_error)), recipe.epochs,
                          measure, tuple(statuses))


def best_width(result: CapacityResult) -> int:
    """The width with the lowest validation error."""
    return result.widths[int(np.nanargmin(result.val_error))]


__all__ = ["CapacityResult", "WIDTHS", "SWEEP_EPOCHS", "widened", "sweep", "best_width"]
