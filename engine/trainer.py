"""Trainer: step(n) / run_for(seconds) on a NetworkSpec and a TrainSpec, with a per-layer history."""
from __future__ import annotations

import contextlib
import math
import time

import numpy as np
import torch

from .augment import augment_images
from .data import Dataset, load_dataset
from .explicit_step import ExplicitStep, supports
from .history import History
from .model import Net, build_model, loss_function
from .optimizers import Optimizer
from .probes import Probe, summarize, weight_grad_norms
from .spec import NetworkSpec, TrainSpec, spec_for_dataset

FLUSH_EVERY = 8  # steps summarised together (probes.summarize): 16 or 32 measured no faster (bigger, colder buffers)
RATIO_EVERY = 16  # the update/weight ratio moves slowly: measured every 16th step, carried in between
EVAL_CHUNK = 2048  # samples per forward when evaluating (bounded memory for large sets)
TRAIN_EVAL_SAMPLES = 5000  # train loss/accuracy at epoch end are measured on at most this many samples


@torch.no_grad()
def evaluate(model: Net, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float | None]:
    """Mean loss and accuracy (None for regression) over (x, y), in eval mode."""
    was_training = model.training
    model.eval()
    cost = loss_function(model.spec)
    total_loss, correct = 0.0, 0
    try:
        for start in range(0, len(x), EVAL_CHUNK):
            xb, yb = x[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]
            z = model(xb)
            total_loss += float(cost(z, yb)) * len(xb)
            if not model.spec.regression:
                correct += int((z.argmax(1) == yb).sum())
    finally:
        model.train(was_training)
    n = max(len(x), 1)
    return total_loss / n, (None if model.spec.regression else correct / n)


def _targets(y: np.ndarray, regression: bool) -> torch.Tensor:
    return torch.tensor(y, dtype=torch.float32) if regression else torch.tensor(y, dtype=torch.long)


class _StepBuffer:
    """FLUSH_EVERY steps of one batch size, as one (K, B, n_l) tensor per layer for Probe.outputs and grads.

    The explicit step writes each step's a^l, z^L and δ^l straight into its rows (an autograd step copies
    them in right after backward, while still in the CPU cache); the summaries then read contiguous blocks.
    """

    def __init__(self, widths: tuple[int, ...], batch: int):
        self.outputs = [torch.empty(FLUSH_EVERY, batch, n) for n in widths]
        self.grads = [torch.empty(FLUSH_EVERY, batch, n) for n in widths]
        # step k's rows: ([a^1, ..., z^L], [∂C/∂z^1, ..., ∂C/∂z^L]), each (B, n_l)
        self.steps = [([t[k] for t in self.outputs], [t[k] for t in self.grads]) for k in range(FLUSH_EVERY)]

    def first(self, k: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The first k steps' outputs and gradients, (k, B, n_l) per layer (views: read before overwriting)."""
        return [t[:k] for t in self.outputs], [t[:k] for t in self.grads]


class Trainer:
    """Trains one network on one dataset, one mini-batch at a time, recording every layer."""

    def __init__(self, network: NetworkSpec, training: TrainSpec, dataset: Dataset | None = None, *,
                 record: bool = True, snapshot_every: int = 5, max_snapshots: int = 60, max_points: int = 4000):
        self.training = training
        self.data = dataset if dataset is not None else load_dataset(
            training.dataset, train_size=training.train_size, val_fraction=training.val_fraction,
            noise=training.noise, seed=training.seed)
        data = self.data
        self.network = spec_for_dataset(network, data.n_inputs, data.n_outputs, data.task == "regression",
                                        data.image_shape)
        self.model = build_model(self.network, training.seed)
        self.loss_fn = loss_function(self.network)
        # fully connected: BP1-BP4 written out, straight into the step buffer; conv front end: autograd + Probe
        self._explicit = ExplicitStep(self.model) if supports(self.model) else None
        self.optimizer = Optimizer(self.model.parameters(), training)
        self.x_train = torch.tensor(data.x_train, dtype=torch.float32)  # a private copy: the dataset is shared
        self.y_train = _targets(data.y_train, self.network.regression)
        self.x_val = torch.tensor(data.x_val, dtype=torch.float32)
        self.y_val = _targets(data.y_val, self.network.regression)
        self.generator = torch.Generator().manual_seed(training.seed + 1)  # shuffling and augmentation
        self.batch_size = min(training.batch_size, len(self.x_train))
        self.steps_per_epoch = math.ceil(len(self.x_train) / self.batch_size)
        self.record = record
        self.history = History(len(self.model.linears), max_points)
        self.snapshot_every, self.max_snapshots = max(1, snapshot_every), max(2, max_snapshots)
        self.snapshots: list[tuple[int, np.ndarray]] = []  # (step, flat parameters) for the loss-surface path
        self.step_count = 0
        self.status = "ready"  # ready | running | done | diverged
        self.message = ""
        self._order = torch.randperm(len(self.x_train), generator=self.generator)
        self._cursor = 0
        self._weights = [linear.weight for linear in self.model.linears]  # W^l, l = 1..L
        self._before = [torch.empty_like(w) for w in self._weights]  # W^l before a step
        self._pending: list[tuple] = []  # (y, ‖∂C/∂W^l‖, loss, update ratio) of steps not yet summarised
        self._buffers: dict[int, _StepBuffer] = {}  # by batch size: the full one, and a smaller last batch
        self._buffer: _StepBuffer | None = None  # the one the pending steps are in
        self._ratio = torch.full((len(self.model.linears),), math.nan)  # last measured ‖ΔW^l‖ / ‖W^l‖
        self._take_snapshot()

    # --- public API -------------------------------------------------------------------------------
    @property
    def epoch(self) -> float:
        """Epochs completed, fractional within the current epoch."""
        return self.step_count / self.steps_per_epoch

    @property
    def finished(self) -> bool:
        return self.status in ("done", "diverged")

    def step(self, n: int = 1) -> int:
        """Train up to n mini-batches; stops early when the run finishes or diverges. Returns steps taken."""
        taken = 0
        while taken < n and not self.finished:
            self._one_step()
            taken += 1
        self._flush()
        return taken

    def run_for(self, seconds: float) -> int:
        """Train for about `seconds` of wall time; returns steps taken."""
        deadline = time.perf_counter() + seconds
        taken = 0
        while not self.finished and (taken == 0 or time.perf_counter() < deadline):
            self._one_step()
            taken += 1
        self._flush()
        return taken

    def evaluate(self) -> dict:
        """Train and validation loss/accuracy now."""
        n = min(len(self.x_train), TRAIN_EVAL_SAMPLES)
        train_loss, train_acc = evaluate(self.model, self.x_train[:n], self.y_train[:n])
        val_loss, val_acc = evaluate(self.model, self.x_val, self.y_val)
        return {"train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss, "val_acc": val_acc}

    # --- one step ---------------------------------------------------------------------------------
    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        idx = self._order[self._cursor:self._cursor + self.batch_size]
        self._cursor += self.batch_size
        # index_select, not x[idx]: advanced indexing gathers rows several times slower on CPU
        x, y = self.x_train.index_select(0, idx), self.y_train.index_select(0, idx)
        if self.training.augment and self.network.image_shape is not None:
            x = augment_images(x, self.network.image_shape, self.generator)
        return x, y

    def _one_step(self) -> None:
        self.status = "running"
        x, y = self._next_batch()
        model = self.model
        if not model.training:
            model.train()
        outputs, grads = self._rows(len(y))  # where this step's a^l, z^L and ∂C/∂z^l go
        if self._explicit is not None:
            loss = self._explicit(x, y, outputs, grads)
        else:
            self.optimizer.zero_grad()
            probe = Probe(model) if self.record else None
            with probe or contextlib.nullcontext():
                loss = self.loss_fn(model(x), y)
                loss.backward()
            if self.record:
                torch._foreach_copy_(outputs + grads, probe.outputs + probe.grads)
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            self._flush()
            self._diverge(loss_value)
            return
        measure_ratio = self.record and self.step_count % RATIO_EVERY == 0
        weights = self._weights
        if measure_ratio:
            torch._foreach_copy_(self._before, weights)
        if self.record:  # ‖∂C/∂W^l‖ now, while the gradients are hot
            self._pending.append((y, weight_grad_norms(model), loss_value, self._ratio))
        self.optimizer.step()
        self.step_count += 1
        if measure_ratio:
            with torch.no_grad():
                torch._foreach_sub_(self._before, weights)  # now −ΔW^l
                moved = torch.stack(torch._foreach_norm(self._before))
                self._ratio = moved / torch.stack(torch._foreach_norm(weights)).clamp_min(1e-12)  # ‖ΔW‖/‖W‖
            self._pending[-1] = self._pending[-1][:3] + (self._ratio,)
        if len(self._pending) >= FLUSH_EVERY:
            self._flush()
        if self.step_count % self.snapshot_every == 0:
            self._take_snapshot()
        if self._cursor >= len(self.x_train):
            self._end_epoch()

    def _rows(self, batch: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The next free step's rows in the buffer for this batch size: a^l and z^L, and ∂C/∂z^l."""
        if self._buffer is None or self._buffer.outputs[0].shape[1] != batch:
            self._flush()  # the pending steps had another batch size
            if batch not in self._buffers:
                self._buffers[batch] = _StepBuffer(self.network.widths, batch)
            self._buffer = self._buffers[batch]
        return self._buffer.steps[len(self._pending)]  # without recording: always the first

    def _flush(self) -> None:
        """Summarise the pending steps into the history."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        ys, grad_norms, losses, ratios = zip(*pending)
        outputs, grads = self._buffer.first(len(pending))
        stats = summarize(self.network, outputs, grads, torch.stack(grad_norms))  # (K, 5, L)
        with torch.no_grad():
            rows = torch.cat((stats, torch.stack(ratios)[:, None, :]), dim=1).numpy()
            if self.network.regression:
                accuracy = [math.nan] * len(pending)
            else:  # outputs[-1] is z^L
                accuracy = (outputs[-1].argmax(-1) == torch.stack(ys)).float().mean(1).tolist()
        first = self.step_count - len(pending) + 1
        for k in range(len(pending)):
            step = first + k
            self.history.append(step, step / self.steps_per_epoch, losses[k], accuracy[k], rows[k])

    def _end_epoch(self) -> None:
        self._flush()
        self._order = torch.randperm(len(self.x_train), generator=self.generator)
        self._cursor = 0
        metrics = self.evaluate()
        epoch = round(self.epoch)
        self.history.epochs.append({"epoch": epoch, "step": self.step_count, **metrics})
        if not all(v is None or math.isfinite(v) for v in metrics.values()):
            self._diverge(metrics["train_loss"])
        elif epoch >= self.training.epochs:
            self.status = "done"
            self.message = f"finished {epoch} epochs ({self.step_count} steps)"

    def _diverge(self, loss_value: float) -> None:
        """Stop on a NaN/inf loss, keep the history, and say why it probably happened."""
        self.status = "diverged"
        grad_norms = self.history.column("grad_norm")
        largest = float(np.nanmax(grad_norms[-1])) if len(grad_norms) else math.nan
        cause = (f"the learning rate η = {self.training.lr:g} is too high"
                 if self.training.lr >= 0.1 or self.training.optimizer == "adam" and self.training.lr >= 0.01
                 else "the gradients exploded")
        grown = f" (the largest ‖∂C/∂W‖ had reached {largest:.3g})" if math.isfinite(largest) else ""
        self.message = (f"Training diverged at step {self.step_count + 1}: the loss became {loss_value}. "
                        f"Most likely {cause}{grown}. Lower the learning rate, use a smaller init "
                        f"(Xavier or He) or a gentler activation.")

    # --- parameter snapshots for the loss-surface path ----------------------------------------------
    def _take_snapshot(self) -> None:
        flat = torch.cat([p.detach().reshape(-1) for p in self.model.parameters()]).numpy().copy()
        self.snapshots.append((self.step_count, flat))
        if len(self.snapshots) > self.max_snapshots:
            # keep the first (the initial weights), thin the rest by two, and snapshot half as often
            self.snapshots = self.snapshots[:1] + self.snapshots[2::2]
            self.snapshot_every *= 2

    def snapshot_now(self) -> None:
        """Record the current parameters as the path's last point (if not already)."""
        if not self.snapshots or self.snapshots[-1][0] != self.step_count:
            self._take_snapshot()

    # --- numpy views for the pages ------------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        """a^L for inputs (n, d) as numpy: class probabilities, or the fitted value for regression."""
        from .model import predict_proba

        return predict_proba(self.model, torch.as_tensor(np.asarray(x), dtype=torch.float32)).numpy()

    def weights(self) -> list[np.ndarray]:
        """W^l of every weight layer, (n_l, n_(l-1)), as numpy copies."""
        return [linear.weight.detach().numpy().copy() for linear in self.model.linears]

    def inspect(self, samples: int = 256) -> list:
        """Every layer's z, a, δ and gradients now, on the first `samples` validation samples (a fixed batch)."""
        from .probes import record

        n = min(samples, len(self.x_val))
        return record(self.model, self.x_val[:n], self.y_val[:n])[1]
