"""Trainer: step(n) / run_for(seconds) on a NetworkSpec and a TrainSpec, with a per-layer history.

A step is a short recipe: a batch, forward and backward, the optimizer step, then the recorder and the
snapshots take what they need (engine/train/recorder.py, engine/train/snapshots.py). How a run ended is a record
(Finished, Divergence); engine/views/words.py words it.
"""
from __future__ import annotations

import contextlib
import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from ..data.augment import augment_images
from ..data.datasets import Dataset, load_dataset
from ..nn.explicit_step import ExplicitStep, supports
from ..nn.model import Net, as_targets, build_model, eval_mode, loss_function, predict_proba
from ..nn.optimizers import Optimizer
from ..nn.probes import Probe, record
from ..nn.spec import NetworkSpec, SpecError, TrainSpec, spec_for_dataset
from .history import History
from .recorder import EpochClock, RATIO_EVERY, Recorder
from .snapshots import Snapshots

EVAL_CHUNK = 2048  # samples per forward when evaluating (bounded memory for large sets)
TRAIN_EVAL_SAMPLES = 5000  # train loss/accuracy at epoch end are measured on at most this many samples
# what retune() may change during a run; decay (the convention) only changes the rate the kernels get, λ or λ/n
RETUNABLE = ("lr", "momentum", "batch_size", "weight_decay", "decay")
BACKWARDS = ("explicit", "autograd")  # BP1-BP4 written out (fully connected nets), or autograd with a Probe
# A run has diverged, besides a NaN/inf loss, when its loss explodes far above where it started:
SPIKE = 1e3  # one mini-batch's loss above 1000x the first step's: no training blip does that
BLOWN_UP = 10.0  # or the smoothed loss above 10x the first step's and still growing
SMOOTHING = 0.05  # weight of the newest step in the smoothed loss (about the last 20 steps)
GROWING_OVER = 20  # steps over which "still growing" is judged
CHANCE_MARGIN = 1.2  # at an epoch end: val accuracy within 1.2x of chance while the loss sits above the start


@dataclass(frozen=True)
class Finished:
    """A run that trained all its epochs."""
    epochs: int
    steps: int


@dataclass(frozen=True)
class Divergence:
    """Where a run's loss became NaN/inf or exploded, and the settings the advice about it is made from."""
    step: int  # the step whose loss diverged
    loss: float  # that loss: NaN, inf, or far above the start
    lr: float
    optimizer: str
    largest_grad: float  # the largest finite ‖∂C/∂W‖ recorded, NaN if none was
    start_loss: float | None = None  # the first step's loss, at the initial weights
    init: str | None = None  # None: not known, so the advice names both scaled inits
    activations: tuple[str, ...] = ()  # one per hidden layer


class DivergenceWatch:
    """Follows the mini-batch loss; says when it has exploded far above where the run started."""

    def __init__(self):
        self.start: float | None = None  # the first step's loss, at the initial weights
        self.smooth: float | None = None  # exponential moving average of the loss
        self.earlier: list[float] = []  # the smoothed loss of the last GROWING_OVER steps

    def exploded(self, loss: float) -> bool:
        """Record one step's loss; True when it (or its smoothed value, still rising) is far above the start."""
        if self.start is None:
            self.start = self.smooth = loss
            return False
        self.smooth = (1 - SMOOTHING) * self.smooth + SMOOTHING * loss
        self.earlier = (self.earlier + [self.smooth])[-GROWING_OVER:]
        growing = len(self.earlier) == GROWING_OVER and self.smooth > self.earlier[0]
        scale = max(self.start, 1e-12)
        return loss > SPIKE * scale or (self.smooth > BLOWN_UP * scale and growing)

    def stuck_at_chance(self, metrics: dict, network: NetworkSpec) -> bool:
        """Validation accuracy at chance while the training loss sits far above where the run started."""
        if network.regression or metrics["val_acc"] is None or self.start is None:
            return False
        chance = 1.0 / network.output_size
        return metrics["val_acc"] <= CHANCE_MARGIN * chance and metrics["train_loss"] > 2 * self.start


@torch.no_grad()
def evaluate(model: Net, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float | None]:
    """Mean loss and accuracy (None for regression) over (x, y), in eval mode."""
    cost = loss_function(model.spec)
    total_loss, correct = 0.0, 0
    with eval_mode(model):
        for start in range(0, len(x), EVAL_CHUNK):
            xb, yb = x[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]
            z = model(xb)
            total_loss += float(cost(z, yb)) * len(xb)
            if not model.spec.regression:
                correct += int((z.argmax(1) == yb).sum())
    n = max(len(x), 1)
    return total_loss / n, (None if model.spec.regression else correct / n)


class Batches:
    """Shuffled mini-batches of the training set, a new order every epoch (augmented if the spec says so)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, training: TrainSpec, image_shape: tuple | None):
        self.x, self.y = x, y
        self.size = min(training.batch_size, len(x))
        self.augment_shape = image_shape if training.augment else None
        self.generator = torch.Generator().manual_seed(training.seed + 1)  # shuffling and augmentation
        self.shuffle()

    def shuffle(self) -> None:
        self.order = torch.randperm(len(self.x), generator=self.generator)
        self.cursor = 0

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.x) / self.size)

    @property
    def epoch_done(self) -> bool:
        return self.cursor >= len(self.x)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        idx = self.order[self.cursor:self.cursor + self.size]
        self.cursor += self.size
        # index_select, not x[idx]: advanced indexing gathers rows several times slower on CPU
        x, y = self.x.index_select(0, idx), self.y.index_select(0, idx)
        if self.augment_shape is not None:
            x = augment_images(x, self.augment_shape, self.generator)
        return x, y


def shared_tensor(x: np.ndarray) -> torch.Tensor:
    """A float32 tensor over the dataset's own memory if it is read-only float32 (nothing writes to it), else a copy."""
    if x.dtype == np.float32 and x.flags.c_contiguous and not x.flags.writeable:
        with warnings.catch_warnings():  # torch warns that it cannot mark the tensor read-only: we never write
            warnings.simplefilter("ignore", UserWarning)
            return torch.from_numpy(x)
    return torch.tensor(x, dtype=torch.float32)


class PageViews:
    """What the pages read from a Trainer, as numpy: a^L, the weights, one batch's records, the weight path."""

    @property
    def snapshots(self) -> list[tuple[int, np.ndarray]]:
        """(step, flat parameters) along the run, the initial weights first."""
        return self.path.points

    def snapshot_now(self) -> None:
        """Record the current parameters as the path's last point (if not already)."""
        self.path.now(self.step_count)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """a^L for inputs (n, d) as numpy: class probabilities, or the fitted value for regression."""
        return predict_proba(self.model, torch.as_tensor(np.asarray(x), dtype=torch.float32)).numpy()

    def weights(self) -> list[np.ndarray]:
        """W^l of every weight layer, (n_l, n_(l-1)), as numpy copies."""
        return [linear.weight.detach().numpy().copy() for linear in self.model.linears]

    def inspect(self, samples: int = 256) -> list:
        """Every layer's z, a, δ and gradients now, on the first `samples` validation samples (a fixed batch)."""
        n = min(samples, len(self.x_val))
        return record(self.model, self.x_val[:n], self.y_val[:n])[1]


class Trainer(PageViews):
    """Trains one network on one dataset, one mini-batch at a time, recording every layer.

    backward: "explicit" (BP1-BP4 written out, straight into the record; fully connected nets only) or
    "autograd" (loss.backward() with a Probe); None picks explicit when the network allows it.
    snapshot_every: steps between parameter snapshots for the loss-surface path; None: never.
    """

    def __init__(self, network: NetworkSpec, training: TrainSpec, dataset: Dataset | None = None, *,
                 record: bool = True, backward: str | None = None, snapshot_every: int | None = 5,
                 max_snapshots: int = 60, max_points: int = 4000):
        self.training = training
        self.data = data = dataset if dataset is not None else load_dataset(
            training.dataset, train_size=training.train_size, val_fraction=training.val_fraction,
            noise=training.noise, seed=training.seed)
        self.network = spec_for_dataset(network, data.n_inputs, data.n_outputs, data.task == "regression",
                                        data.image_shape)
        self.model = build_model(self.network, training.seed)
        self.loss_fn = loss_function(self.network)
        self.backward = _choose_backward(backward, self.model)
        self._explicit = ExplicitStep(self.model) if self.backward == "explicit" else None
        self.optimizer = Optimizer(self.model.parameters(), training, len(data.x_train))  # n for Nielsen's λ/n
        self.x_train = shared_tensor(data.x_train)  # no copy: read-only, shared by every session's trainer
        self.y_train = as_targets(data.y_train, self.network.regression)
        self.x_val = shared_tensor(data.x_val)
        self.y_val = as_targets(data.y_val, self.network.regression)
        self.batches = Batches(self.x_train, self.y_train, training, self.network.image_shape)
        self.clock = EpochClock(self.batches.steps_per_epoch)
        self.record = record
        self.history = History(len(self.model.linears), max_points)
        self.recorder = Recorder(self.model, self.network, self.history, self.clock, enabled=record)
        self.path = Snapshots(self.model, snapshot_every, max_snapshots)  # for the loss-surface path
        self.step_count = 0
        self.watch = DivergenceWatch()
        self.status = "ready"  # ready | running | done | diverged
        self.ending: Finished | Divergence | None = None  # how the run ended, once it has

    # --- public API -------------------------------------------------------------------------------
    @property
    def epoch(self) -> float:
        """Epochs completed, fractional within the current epoch."""
        return self.clock.epoch(self.step_count)

    @property
    def batch_size(self) -> int:
        return self.batches.size

    @property
    def steps_per_epoch(self) -> int:
        return self.clock.steps_per_epoch

    @property
    def finished(self) -> bool:
        return self.status in ("done", "diverged")

    def step(self, n: int = 1) -> int:
        """Train up to n mini-batches; stops early when the run finishes or diverges. Returns steps taken."""
        return self._train_while(lambda taken: taken < n)

    def run_for(self, seconds: float) -> int:
        """Train for about `seconds` of wall time (at least one step); returns steps taken."""
        deadline = time.perf_counter() + seconds
        return self._train_while(lambda taken: taken == 0 or time.perf_counter() < deadline)

    def retune(self, training: TrainSpec) -> list[str]:
        """Apply a new η, momentum, batch size or weight decay (λ or convention) from the next step on; what changed."""
        changed = retunable_changes(self.training, training)
        if changed is None:  # data, optimizer, epochs, seed...: that needs a new Trainer
            raise ValueError(f"only {', '.join(RETUNABLE)} can change during a run; not "
                             f"{', '.join(fixed_changes(self.training, training))}")
        self.optimizer.retune(training)
        if "batch_size" in changed:
            self.recorder.retune()  # frees the old batch size's step buffers
            self.batches.size = min(training.batch_size, len(self.x_train))
            self.clock.rebase(self.step_count, self.batches.steps_per_epoch)
        self.training = training
        return changed

    def evaluate(self) -> dict:
        """Train and validation loss/accuracy now."""
        n = min(len(self.x_train), TRAIN_EVAL_SAMPLES)
        train_loss, train_acc = evaluate(self.model, self.x_train[:n], self.y_train[:n])
        val_loss, val_acc = evaluate(self.model, self.x_val, self.y_val)
        return {"train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss, "val_acc": val_acc}

    # --- one step ---------------------------------------------------------------------------------
    def _train_while(self, more) -> int:
        taken = 0
        while not self.finished and more(taken):
            self._one_step()
            taken += 1
        self.recorder.flush()
        return taken

    def _one_step(self) -> None:
        self.status = "running"
        x, y = self.batches.next()
        loss = self._forward_backward(x, y).item()
        if not math.isfinite(loss):
            return self._diverge(loss)
        self.recorder.before_update(self.step_count + 1, y, loss)
        if self.watch.exploded(loss):  # kept in the history, so the charts show the explosion; W is not moved
            self.step_count += 1
            return self._diverge(loss, self.step_count)
        self.optimizer.step()
        self.step_count += 1
        self.recorder.after_update()
        self.path.after_step(self.step_count)
        if self.batches.epoch_done:
            self._end_epoch()

    def _forward_backward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """C of the batch; every parameter's .grad set, and this step's a^l, z^L, ∂C/∂z^l in the recorder's rows."""
        model = self.model
        if not model.training:
            model.train()
        outputs, grads = self.recorder.rows(len(y))
        if self._explicit is not None:
            return self._explicit(x, y, outputs, grads)
        self.optimizer.zero_grad()
        with Probe(model) if self.record else contextlib.nullcontext() as probe:
            loss = self.loss_fn(model(x), y)
            loss.backward()
        if probe is not None:
            torch._foreach_copy_(outputs + grads, probe.outputs + probe.grads)
        return loss

    def _end_epoch(self) -> None:
        self.recorder.flush()
        self.batches.shuffle()
        metrics = self.evaluate()
        epoch = round(self.epoch)
        self.history.epochs.append({"epoch": epoch, "step": self.step_count, **metrics})
        if not all(v is None or math.isfinite(v) for v in metrics.values()) or \
                self.watch.stuck_at_chance(metrics, self.network):
            self._diverge(metrics["train_loss"])
        elif epoch >= self.training.epochs:
            self.status = "done"
            self.ending = Finished(epoch, self.step_count)

    def _diverge(self, loss: float, step: int | None = None) -> None:
        """Stop on a NaN/inf or exploded loss at `step` (default: the next), keep the history, record where."""
        self.recorder.flush()
        self.status = "diverged"
        self.ending = Divergence(step or self.step_count + 1, loss, self.training.lr, self.training.optimizer,
                                 _largest_finite(self.history.column("grad_norm", "max")), self.watch.start,
                                 self.network.init, tuple(self.network.activations))


def retunable_changes(old: TrainSpec, new: TrainSpec) -> list[str] | None:
    """The RETUNABLE fields that differ, or None when another field differs too: the run cannot take that live."""
    if fixed_changes(old, new):
        return None
    return [name for name in RETUNABLE if getattr(new, name) != getattr(old, name)]


def fixed_changes(old: TrainSpec, new: TrainSpec) -> list[str]:
    """The fields that differ and only a new Trainer can take (everything but RETUNABLE)."""
    return [name for name in new.__dataclass_fields__
            if name not in RETUNABLE and getattr(new, name) != getattr(old, name)]


def _largest_finite(values: np.ndarray) -> float:
    """The largest finite value, NaN if there is none."""
    finite = values[np.isfinite(values)] if len(values) else values
    return float(finite.max()) if len(finite) else math.nan


def _choose_backward(backward: str | None, model: Net) -> str:
    """The backward pass this network gets: explicit when asked for or by default when supported."""
    if backward is None:
        return "explicit" if supports(model) else "autograd"
    if backward not in BACKWARDS:
        raise SpecError(f"backward must be one of {', '.join(BACKWARDS)}; got {backward!r}")
    if backward == "explicit" and not supports(model):
        raise SpecError("the explicit backprop step covers fully connected networks; this one has a conv front end")
    return backward


__all__ = ["Trainer", "Finished", "Divergence", "evaluate", "RATIO_EVERY", "RETUNABLE", "BACKWARDS",
           "retunable_changes", "fixed_changes"]
