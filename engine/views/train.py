"""What the Train page shows of a Trainer, as plain records: one view of the run per redraw (its charts' history, its
readouts and what training shows so far, from one copy), predictions, distributions."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..nn.spec import NetworkSpec
from ..train.history import merge_rows
from .verdicts import chance_loss, classify_training

MAX_PLOT_POINTS = 600  # steps drawn per chart: enough for the eye, light for the browser
RECENT_STEPS = 20  # the "Train loss" readout averages the mini-batch loss over this many last steps
# The training judgement (verdicts.classify_training) reads mean |δ| over the last JUDGED_OVER steps, not one noisy
# mini-batch, and only from JUDGE_AFTER steps on: at step 3 every run's loss is still at chance. 200 updates take a
# healthy network (He + ReLU, sgd η = 0.1, batches of 10) from 2.30 to below 1 on mnist5k, while Nielsen's sigmoid
# [30, 30, 30, 30] with LeCun's init sits at 2.3 with δ¹/δ⁴ ≈ 0.01 for hundreds of steps (tests/engine/views).
JUDGED_OVER = 50
JUDGE_AFTER = 200
GRID_POINTS = 90  # per axis of the 2-D decision-boundary grid
GRID_MARGIN = 0.3  # the boundary grid reaches this far beyond the training points
REGRESSION_RANGE = (-1.2, 1.2)  # x range of the fitted-curve plot (the regression set lives in [-1, 1])
REGRESSION_POINTS = 200
GALLERY_SIZE = 48  # validation digits in the gallery
INSPECT_SAMPLES = 256  # validation samples whose activations the distributions show
MAX_WEIGHTS_SHOWN = 20_000  # weights per layer in the distributions: a violin needs no more


@dataclass(frozen=True)
class Readouts:
    """The numbers above the charts; None where there is nothing to show yet."""

    step: int
    epoch: float
    epochs: int
    train_loss: float | None  # mean mini-batch loss over the last RECENT_STEPS steps
    val_acc: float | None  # at the last epoch end; None before one, or for regression
    val_loss: float | None  # at the last epoch end; None before one, or when it overflowed


@dataclass(frozen=True)
class RegressionFit:
    """The data and the network's curve over it."""

    x: np.ndarray  # training inputs, (n, 1)
    y: np.ndarray  # training targets, (n, 1)
    grid: np.ndarray  # x of the curve, (200,)
    fit: np.ndarray  # the network's output at grid, (200,)


@dataclass(frozen=True)
class Boundary:
    """2-D classification: P(class 1) on a grid around the training points."""

    xx: np.ndarray  # (90,)
    yy: np.ndarray  # (90,)
    prob: np.ndarray  # P(class 1), (90, 90): rows follow yy
    points: np.ndarray  # training inputs, (n, 2)
    labels: np.ndarray  # (n,)


@dataclass(frozen=True)
class Gallery:
    """Validation images with the network's answer."""

    images: np.ndarray  # (48, h*w)
    image_shape: tuple[int, int]
    predicted: np.ndarray  # (48,)
    labels: np.ndarray  # (48,)


@dataclass(frozen=True)
class Judgement:
    """What training shows so far, in a kind and the numbers its sentence needs (words.training_warning)."""

    kind: str | None  # verdicts.classify_training's: "vanishing", or None when there is nothing to name
    step: int  # the step judged at, the readouts' step
    loss: float  # the readouts' train loss: the mean mini-batch loss over the last RECENT_STEPS steps
    chance: float  # the loss of guessing (verdicts.chance_loss)
    ratio: float  # mean |δ¹| / mean |δ^(L-1)| over the last JUDGED_OVER steps (first / last hidden layer)
    last_hidden: int  # L-1: the last hidden layer's number
    window: int  # steps the δ means cover: JUDGED_OVER, or more when one history row holds more


@dataclass(frozen=True)
class RunView:
    """The run at one moment, as the page draws it: the charts' rows and the readouts, taken together, so the
    numbers above the charts are always those at the charts' last step."""

    history: dict[str, np.ndarray]  # at most MAX_PLOT_POINTS rows of History.as_dict() (thinned)
    epochs: tuple[dict, ...]  # the finished epochs' metrics, as History.epochs
    readouts: Readouts
    saturation: np.ndarray  # saturated plus dead share per layer at the last step, (n_layers,)
    status: str  # the trainer's: ready | running | done | diverged
    ending: object | None  # how the run ended (trainer.Finished or Divergence), once it has
    judgement: Judgement | None = None  # None: not judged (regression, a diverged run, before JUDGE_AFTER steps)


def thinned(history: dict[str, np.ndarray], max_points: int = MAX_PLOT_POINTS) -> dict[str, np.ndarray]:
    """At most max_points rows of History.as_dict(), each merging neighbouring rows (mean, min and max over them).

    Groups are evenly spaced, so every stretch of the run keeps its share of the points: the first steps and a
    spike in a merged stretch (its max) stay on the chart; the first and the last step are always there.
    """
    n = len(history["step"])
    if n <= max_points:
        return history
    starts = np.unique(np.linspace(0, n, max_points, endpoint=False).astype(int))
    return merge_rows(history, starts)


def view(trainer) -> RunView:
    """One view of the run now: the charts' rows and every readout from one copy of its history."""
    history = trainer.history
    full = history.as_dict()
    rows = thinned(full)
    epochs = tuple(dict(e) for e in history.epochs)
    last = epochs[-1] if epochs else None
    recent = history.recent_loss(RECENT_STEPS)
    val_loss = last["val_loss"] if last else None
    step = history.last_step if len(history) else trainer.step_count  # the charts' last step
    shown = Readouts(
        step=step, epoch=trainer.clock.epoch(step), epochs=trainer.training.epochs,
        train_loss=float(np.mean(recent)) if recent else None,
        val_acc=last["val_acc"] if last and not trainer.network.regression else None,
        val_loss=val_loss if val_loss is not None and math.isfinite(val_loss) else None)
    saturation = (np.nan_to_num(history.latest("saturated_frac")) + np.nan_to_num(history.latest("dead_frac"))
                  if len(history) else np.zeros(history.n_layers))
    judged = judge(full, shown, trainer.network, trainer.status)
    return RunView(rows, epochs, shown, saturation, trainer.status, trainer.ending, judged)


def judge(rows: dict[str, np.ndarray], now: Readouts, network: NetworkSpec, status: str) -> Judgement | None:
    """verdicts.classify_training on the history's rows (History.as_dict(), not thinned) and the readouts' loss.

    Only for a classifier with hidden layers, from JUDGE_AFTER steps on, while the run has not diverged (its red
    banner says why it stopped).
    """
    if (network.regression or not network.hidden or status == "diverged" or now.train_loss is None
            or now.step < JUDGE_AFTER):
        return None
    deltas, window = recent_mean(rows, "delta_mean_abs", JUDGED_OVER)  # (n_layers,): output layer last
    hidden = deltas[:-1]
    ratio = float(hidden[0] / hidden[-1]) if hidden[-1] > 0 else math.inf
    chance = chance_loss(network.loss, network.output_size)
    return Judgement(classify_training(now.train_loss, chance, deltas), now.step, now.train_loss, chance, ratio,
                     last_hidden=len(hidden), window=window)


def recent_mean(rows: dict[str, np.ndarray], field: str, steps: int) -> tuple[np.ndarray, int]:
    """(a field's mean over the rows within the last `steps` steps, the steps they cover): each row weighted by its
    steps, and at least the newest row (in a long run one row may hold more steps than asked)."""
    recent = rows["step_first"] > rows["step"][-1] - steps
    recent[-1] = True
    counts = rows["steps"][recent]
    return np.average(rows[field][recent], axis=0, weights=counts), int(counts.sum())


def readouts(trainer) -> Readouts:
    """Step, epoch, recent train loss and the last epoch's validation numbers of a Trainer."""
    return view(trainer).readouts


def predictions(trainer) -> RegressionFit | Boundary | Gallery | None:
    """The picture of what the network answers now: a fitted curve, a decision boundary, digits, or None."""
    data = trainer.data
    if trainer.network.regression:
        grid = np.linspace(*REGRESSION_RANGE, REGRESSION_POINTS)
        return RegressionFit(data.x_train, data.y_train, grid, trainer.predict(grid[:, None])[:, 0])
    if data.n_inputs == 2:
        lo, hi = data.x_train.min(0) - GRID_MARGIN, data.x_train.max(0) + GRID_MARGIN
        xx, yy = np.linspace(lo[0], hi[0], GRID_POINTS), np.linspace(lo[1], hi[1], GRID_POINTS)
        gx, gy = np.meshgrid(xx, yy)
        prob = trainer.predict(np.column_stack((gx.ravel(), gy.ravel())))[:, 1].reshape(gy.shape)
        return Boundary(xx, yy, prob, data.x_train, data.y_train)
    if data.image_shape is not None:
        images, labels = data.x_val[:GALLERY_SIZE], data.y_val[:GALLERY_SIZE]
        return Gallery(images, data.image_shape, trainer.predict(images).argmax(1), labels)
    return None


def latest_saturation(history: dict[str, np.ndarray], n_layers: int) -> np.ndarray:
    """Share of saturated (sigmoid/tanh) plus dead (ReLU) units per layer in the last row, (n_layers,); zeros before any."""
    if not len(history["step"]):
        return np.zeros(n_layers)
    return history["saturated_frac"][-1] + history["dead_frac"][-1]


def activation_values(trainer, samples: int = INSPECT_SAMPLES) -> list[np.ndarray]:
    """Every layer's a^l on the first validation samples, flattened: one array per layer."""
    return [r.a.ravel() for r in trainer.inspect(samples)]


def weight_values(trainer, max_values: int = MAX_WEIGHTS_SHOWN) -> list[np.ndarray]:
    """Every layer's W^l, flattened and cut to max_values: one array per layer."""
    return [w.ravel()[:max_values] for w in trainer.weights()]
