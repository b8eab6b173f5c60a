"""What a training run will hold in memory, from its specs alone, and a per-session budget a server sets.

A run's bytes (float32 throughout): the parameters W, b and their gradients; the optimizer's state (Adam's m and
v, momentum's v); the recorder's copy of W for ‖ΔW‖/‖W‖ and its step buffers (a^l and δ^l of FLUSH_EVERY
steps of the batch, engine/train/recorder.py); one step's own work on the batch; an evaluation chunk; the
loss-surface path's snapshots (engine/train/snapshots.py, a fixed budget that scales with the model). The
dataset is not counted: it is loaded once and shared by every session's trainer.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

from ..nn.checkpoint import parameter_count  # from the spec's shapes: nothing is allocated
from ..nn.memory import conv_unit_count
from ..nn.spec import NetworkSpec, TrainSpec
from .recorder import FLUSH_EVERY, StepBuffer
from .snapshots import BUDGET_BYTES, FLOAT_BYTES, snapshot_limit

SESSION_VARIABLE = "PLAYGROUND_SESSION_MB"  # the server's per-session budget in MB (set by whoever starts it)
DEFAULT_SESSION_MB = 500
MB = 2**20
OPTIMIZER_COPIES = {"sgd": 0, "momentum": 1, "adam": 2}  # float32 tensors the size of the parameters
STEP_WORK = 3  # one step's temporaries per unit of the batch beyond the buffer's rows: z, σ'(z), autograd's graph
EVAL_CHUNK = 2048  # the trainer's evaluation chunk (trainer.EVAL_CHUNK): two layers' outputs live at once


def session_budget() -> int:
    """The bytes one session's run may hold: PLAYGROUND_SESSION_MB (default 500 MB; unreadable -> the default)."""
    try:
        mb = float(os.environ.get(SESSION_VARIABLE, DEFAULT_SESSION_MB))
    except ValueError:
        mb = DEFAULT_SESSION_MB
    return int((mb if math.isfinite(mb) and mb > 0 else DEFAULT_SESSION_MB) * MB)


@dataclass(frozen=True)
class RunEstimate:
    """A run's memory by part, in bytes, from its specs."""
    n_params: int
    parameters: int  # W, b and ∂C/∂W, ∂C/∂b
    optimizer: int  # Adam's m, v or momentum's v
    recorder: int  # the step buffers (the full batch and the epoch's last one) and the copy of W
    step: int  # one step's work on the batch: the inputs, the temporaries
    evaluation: int  # an evaluation chunk's activations
    snapshots: int  # the loss-surface path, at its fullest

    @property
    def total(self) -> int:
        return self.parameters + self.optimizer + self.recorder + self.step + self.evaluation + self.snapshots


def estimate(network: NetworkSpec, training: TrainSpec, n_train: int, *, record: bool = True,
             snapshot_budget: int | None = BUDGET_BYTES, max_snapshots: int = 60) -> RunEstimate:
    """The bytes a Trainer of `network` (sized for its dataset: spec_for_dataset) on n_train samples will hold."""
    n_params = parameter_count(network)
    widths = network.widths
    batch = max(1, min(training.batch_size, n_train))
    last = n_train % batch  # the epoch's smaller last batch, 0 if none
    steps = FLUSH_EVERY if record else 1
    buffers = StepBuffer.bytes_for(widths, batch, steps) + StepBuffer.bytes_for(widths, last, steps)
    weights = n_params - sum(widths)  # W without the biases: the recorder's copy for ‖ΔW‖/‖W‖
    per_sample = network.input_size * (2 if training.augment else 1) + STEP_WORK * (sum(widths) +
                                                                                    conv_unit_count(network))
    evaluation = min(EVAL_CHUNK, n_train) * (2 * max(widths) + conv_unit_count(network) + network.input_size)
    snapshots = snapshot_limit(n_params, max_snapshots, snapshot_budget)
    return RunEstimate(
        n_params=n_params,
        parameters=2 * FLOAT_BYTES * n_params,
        optimizer=OPTIMIZER_COPIES.get(training.optimizer, 2) * FLOAT_BYTES * n_params,
        recorder=buffers + (FLOAT_BYTES * weights if record else 0),
        step=FLOAT_BYTES * batch * per_sample,
        evaluation=FLOAT_BYTES * evaluation,
        snapshots=FLOAT_BYTES * n_params * snapshots,
    )


@dataclass(frozen=True)
class Fit:
    """What would fit the budget instead: a kind (batch, width, layers) and its value; kind None: nothing does."""
    kind: str | None
    value: int = 0


def what_fits(network: NetworkSpec, training: TrainSpec, n_train: int, budget: int, **options) -> Fit:
    """The largest batch that fits with this network; else the widest layers at this depth and batch; else depth."""
    def fits(net: NetworkSpec, batch: int) -> bool:
        return estimate(net, dataclasses.replace(training, batch_size=batch), n_train, **options).total <= budget

    batch = max(1, min(training.batch_size, n_train))
    if fits(network, 1):
        return Fit("batch", _largest(lambda b: fits(network, b), 1, batch))
    if network.hidden:
        depth = len(network.hidden)
        narrow = lambda w: dataclasses.replace(network, hidden=(w,) * depth)  # noqa: E731
        if fits(narrow(1), batch):
            return Fit("width", _largest(lambda w: fits(narrow(w), batch), 1, max(network.hidden)))
        shallow = lambda d: dataclasses.replace(network, hidden=network.hidden[:d],  # noqa: E731
                                                activations=network.activations[:d])
        if fits(shallow(0), 1):
            return Fit("layers", _largest(lambda d: fits(shallow(d), 1), 0, depth))
    return Fit(None)


def _largest(ok, low: int, high: int) -> int:
    """A large n in [low, high] with ok(n), given ok(low) (binary search: the largest when ok is monotone)."""
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if ok(middle) else (low, middle - 1)
    return low


__all__ = ["SESSION_VARIABLE", "DEFAULT_SESSION_MB", "RunEstimate", "Fit", "session_budget", "parameter_count",
           "estimate", "what_fits"]
