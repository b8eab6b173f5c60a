"""Run snapshots: a Trainer as bytes and back, so a run goes on in another process from where it was saved.

A snapshot holds everything the next step depends on: the weights, the optimizer's state (Adam's m, v and t,
momentum's v), the step and epoch counters, the shuffling generator's state with this epoch's order and
position, the divergence watch, and everything the charts show (the history's rows, the epochs' metrics, the
last ‖ΔW‖/‖W‖). The loss-surface path's points go along while they are small (PATH_BYTES); a larger path
starts again at the snapshot's step. Restored on the same data, a run takes exactly the steps the original
would have (on the CPU).

The bytes are HEADER, a sha256 of the rest, then torch.save of tensors and plain values only, read back with torch.load(weights_only=True): no
object is ever unpickled. Every tensor's kind, type and shape is checked against a freshly built Trainer of the
snapshot's settings before any of it is used; anything else is refused with a ResumeError.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import math
import pickle
import warnings

import torch

from ..data.datasets import Dataset
from ..nn.checkpoint import BYTES_PER_PARAMETER, CheckpointError, _check_archive, parameter_count
from ..nn.spec import NetworkSpec, SpecError, TrainSpec
from .trainer import Divergence, Finished, Trainer

FORMAT = "nn-playground run snapshot"
VERSION = 1
HEADER = b"nn-playground run snapshot 1\n"  # then the sha256 of the rest (a damaged row is refused, not trained on)
MAX_BYTES = 20_000_000  # the class store's bound on a snapshot (classroom Limits.snapshot_bytes)
PATH_BYTES = 4_000_000  # the loss-surface path travels with the run while its points hold at most this
STATUSES = ("ready", "running", "done", "diverged")
KEYS = {"format", "version", "network", "training", "options", "model", "dropout_generator", "optimizer", "batches", "clock",
        "history", "recorder", "watch", "path", "step_count", "status", "ending", "extra"}


class ResumeError(ValueError):
    """Bytes that are not a run snapshot this engine can continue, with the reason."""


def estimated_bytes(trainer: Trainer) -> int:
    """At most about what snapshot_bytes(trainer) writes, however long the run: the parameters, the optimizer's
    buffers, the batch order, the history's rows when full and the path's points while they travel."""
    optimizer = trainer.optimizer
    buffers = optimizer.exp_avgs + optimizer.exp_avg_sqs + optimizer.velocities
    n = sum(p.numel() for p in optimizer.params) + sum(b.numel() for b in buffers)
    history, path = trainer.history, trainer.path
    path_bytes = 4 * path.n_params * path.limit
    return (4 * n + history._stats.nbytes + history._span.nbytes + 8 * len(trainer.batches.order)
            + (path_bytes if path_bytes <= PATH_BYTES else 0) + 100_000)


def snapshot_bytes(trainer: Trainer, extra: dict | None = None) -> bytes:
    """The run as bytes; `extra` (plain values: str, int, float, bool, None, lists and dicts of them) goes along."""
    trainer.recorder.flush()  # nothing pending: every step taken is in the history
    optimizer, batches, history = trainer.optimizer, trainer.batches, trainer.history
    n = len(history)
    path = trainer.path.points if trainer.path.bytes <= PATH_BYTES else []
    payload = {
        "format": FORMAT, "version": VERSION,
        "network": trainer.network.to_dict(), "training": trainer.training.to_dict(),
        "options": {"record": trainer.record, "backward": trainer.backward, "max_points": history.max_points,
                    "path_every": trainer.path.every, "path_limit": trainer.path.limit},
        "model": {name: t.detach().clone() for name, t in trainer.model.state_dict().items()},
        "dropout_generator": trainer.model.generator.get_state(),  # the masks' random stream
        "optimizer": {"steps": optimizer.steps, "momentum": optimizer.momentum,
                      "exp_avgs": _copies(optimizer.exp_avgs), "exp_avg_sqs": _copies(optimizer.exp_avg_sqs),
                      "state_steps": _copies(optimizer.state_steps), "velocities": _copies(optimizer.velocities)},
        "batches": {"generator": batches.generator.get_state(), "order": batches.order.clone(),
                    "cursor": batches.cursor, "size": batches.size},
        "clock": {"steps_per_epoch": trainer.clock.steps_per_epoch, "base_epoch": trainer.clock.base_epoch,
                  "base_step": trainer.clock.base_step},
        # the History's own arrays (engine/train/history.py): the rows as they are, not as the charts merge them
        "history": {"width": history.width, "rows": n, "span": torch.from_numpy(history._span[:n].copy()),
                    "stats": torch.from_numpy(history._stats[:, :n].copy()),
                    "sum": torch.from_numpy(history._sum.copy()), "latest": torch.from_numpy(history._latest.copy()),
                    "recent_loss": list(history._recent_loss), "epochs": [dict(e) for e in history.epochs]},
        "recorder": {"ratio": trainer.recorder.ratio.clone()},
        "watch": {"start": trainer.watch.start, "smooth": trainer.watch.smooth, "earlier": list(trainer.watch.earlier)},
        "path": [(step, torch.from_numpy(theta.copy())) for step, theta in path],
        "step_count": trainer.step_count, "status": trainer.status, "ending": _ending_dict(trainer.ending),
        "extra": dict(extra or {}),
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    body = buffer.getvalue()
    return HEADER + hashlib.sha256(body).digest() + body


def restore(data: bytes, dataset: Dataset | None = None, max_bytes: int = MAX_BYTES) -> tuple[Trainer, dict]:
    """The run a snapshot holds, ready for its next step, and the `extra` saved with it. Raises ResumeError.

    dataset: the snapshot's dataset if the caller has it loaded (else it is loaded from the training spec).
    """
    payload = _load(data, max_bytes)
    try:
        network = NetworkSpec.from_dict(payload["network"])
        training = TrainSpec.from_dict(payload["training"])
    except SpecError as exc:
        raise ResumeError(f"the snapshot's settings are invalid: {exc}") from None
    if parameter_count(network) * BYTES_PER_PARAMETER > max_bytes:  # before any of it is built
        raise ResumeError(f"the network {network.describe()} is larger than a snapshot may hold")
    options = _dict(payload, "options")
    try:
        trainer = Trainer(network, training, dataset, record=_of(options, "record", bool),
                          backward=_of(options, "backward", str), max_points=_of(options, "max_points", int),
                          snapshot_every=None)
    except (SpecError, ValueError) as exc:
        raise ResumeError(f"the snapshot's run cannot be built: {exc}") from None
    if trainer.network != network:
        raise ResumeError("the snapshot's network does not fit its dataset")
    try:
        _put_back(trainer, payload, options)
    except (KeyError, TypeError, IndexError, RuntimeError) as exc:
        raise ResumeError(f"the snapshot is damaged: {type(exc).__name__}: {str(exc)[:200]}") from None
    extra = payload["extra"]
    if not isinstance(extra, dict):
        raise ResumeError("the snapshot's extra entry must be a dict")
    return trainer, extra


def peek(data: bytes, max_bytes: int = MAX_BYTES) -> tuple[int, dict]:
    """(step, extra) of a snapshot, read as safely as restore reads it but without building its run."""
    payload = _load(data, max_bytes)
    extra = payload["extra"]
    if not isinstance(extra, dict):
        raise ResumeError("the snapshot's extra entry must be a dict")
    return _count(payload, "step_count"), extra


# --- reading ------------------------------------------------------------------------------------------------------
def _load(data: bytes, max_bytes: int) -> dict:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ResumeError(f"a snapshot is bytes, not {type(data).__name__}")
    if len(data) > max_bytes:
        raise ResumeError(f"the snapshot is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
    data = bytes(data)
    if not data.startswith(HEADER):
        raise ResumeError("not a run snapshot of this app")
    digest, data = data[len(HEADER):len(HEADER) + 32], data[len(HEADER) + 32:]
    if hashlib.sha256(data).digest() != digest:
        raise ResumeError("the snapshot is damaged (its checksum does not match)")
    try:
        _check_archive(data, max_bytes)  # the zip's directory only: nothing unpacks past max_bytes
    except CheckpointError as exc:
        raise ResumeError(f"not a run snapshot: {exc}") from None
    try:
        with warnings.catch_warnings():  # a sparse tensor's "beta" warning: refused below in our words
            warnings.simplefilter("ignore", UserWarning)
            payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ResumeError("refused: the snapshot holds Python objects other than tensors and plain values "
                          f"({str(exc).splitlines()[0][:200]})") from None
    except Exception as exc:  # a truncated or corrupted archive
        raise ResumeError(f"the snapshot could not be read: {type(exc).__name__}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ResumeError("not a run snapshot of this app")
    if payload.get("version") != VERSION:
        raise ResumeError(f"a run snapshot of version {payload.get('version')!r}; this app reads version {VERSION}")
    if set(payload) != KEYS:
        raise ResumeError(f"the snapshot's entries are not a run's: {sorted(map(str, set(payload) ^ KEYS))[:8]}")
    return payload


def _put_back(trainer: Trainer, payload: dict, options: dict) -> None:
    """Copy the snapshot's state into a fresh Trainer of its settings, every tensor checked against the fresh one's."""
    model = trainer.model
    state = _dict(payload, "model")
    fresh = model.state_dict()
    if set(state) != set(fresh):
        raise ResumeError("the snapshot's weights do not match its network")
    model.load_state_dict({name: _like(f"model.{name}", state[name], t) for name, t in fresh.items()})
    model.generator.set_state(_like("dropout_generator", payload["dropout_generator"], model.generator.get_state()))

    optimizer, saved = trainer.optimizer, _dict(payload, "optimizer")
    optimizer.steps = _count(saved, "steps")
    momentum = _of(saved, "momentum", float)
    if optimizer.name == "momentum":
        optimizer.momentum = momentum
    params = optimizer.params
    if optimizer.name == "adam":
        optimizer.exp_avgs = _tensors(saved, "exp_avgs", params)
        optimizer.exp_avg_sqs = _tensors(saved, "exp_avg_sqs", params)
        optimizer.state_steps = _tensors(saved, "state_steps", [torch.zeros(())] * len(params))
    if optimizer.name == "momentum" and saved["velocities"]:
        optimizer.velocities = _tensors(saved, "velocities", params)

    batches, saved = trainer.batches, _dict(payload, "batches")
    order = _like("batches.order", saved["order"], batches.order)
    if len(order) and (int(order.min()) < 0 or int(order.max()) >= len(order)):
        raise ResumeError("the snapshot's batch order is not an order of its training set")
    batches.generator.set_state(_like("batches.generator", saved["generator"], batches.generator.get_state()))
    batches.order, batches.cursor = order, _count(saved, "cursor", len(order))
    batches.size = _count(saved, "size", len(order), low=1)

    clock, saved = trainer.clock, _dict(payload, "clock")
    clock.steps_per_epoch = _count(saved, "steps_per_epoch", low=1)
    clock.base_epoch, clock.base_step = _number(saved, "base_epoch"), _count(saved, "base_step")

    _put_history(trainer.history, _dict(payload, "history"))
    trainer.recorder.ratio = _like("recorder.ratio", _dict(payload, "recorder")["ratio"], trainer.recorder.ratio)

    watch, saved = trainer.watch, _dict(payload, "watch")
    watch.start, watch.smooth = _maybe_number(saved, "start"), _maybe_number(saved, "smooth")
    watch.earlier = [_as_float(v, "watch.earlier") for v in _of(saved, "earlier", list)]

    trainer.step_count = _count(payload, "step_count")
    trainer.status = _of(payload, "status", str)
    if trainer.status not in STATUSES:
        raise ResumeError(f"unknown run status {trainer.status[:20]!r}")
    trainer.ending = _ending(payload["ending"])

    path = trainer.path
    path.every = options.get("path_every")
    if path.every is not None:
        path.every = _count(options, "path_every", low=1)
    path.limit = _count(options, "path_limit", low=2)
    points = _of(payload, "path", list)
    flat = torch.zeros(path.n_params)
    path.points = [(_as_count(step, "path step"), _like("path point", theta, flat).numpy()) for step, theta in points]
    path.now(trainer.step_count)  # a path too large to travel starts again here


def _put_history(history, saved: dict) -> None:
    n = _count(saved, "rows", history.max_points)
    width = _count(saved, "width", low=1)
    span = _like("history.span", saved["span"], torch.from_numpy(history._span[:n]))
    stats = _like("history.stats", saved["stats"], torch.from_numpy(history._stats[:, :n]))
    running = _like("history.sum", saved["sum"], torch.from_numpy(history._sum))
    latest = _like("history.latest", saved["latest"], torch.from_numpy(history._latest))
    history._span[:n], history._stats[:, :n] = span.numpy(), stats.numpy()
    history._sum, history._latest = running.numpy().copy(), latest.numpy().copy()
    history._n, history.width = n, width
    history._recent_loss.clear()
    history._recent_loss.extend(_as_float(v, "history.recent_loss") for v in _of(saved, "recent_loss", list))
    epochs = _of(saved, "epochs", list)
    if not all(isinstance(e, dict) and all(isinstance(k, str) for k in e) for e in epochs):
        raise ResumeError("the snapshot's epochs must be dicts of metrics")
    history.epochs = [dict(e) for e in epochs]


# --- checks -------------------------------------------------------------------------------------------------------
def _like(name: str, value, like: torch.Tensor) -> torch.Tensor:
    """value if it is a dense CPU tensor of like's type and shape, as a contiguous copy; else ResumeError."""
    if not isinstance(value, torch.Tensor):
        raise ResumeError(f"{name} must be a tensor, not {type(value).__name__}")
    if value.layout != torch.strided or value.device.type != "cpu":  # sparse or meta: no values to copy
        raise ResumeError(f"{name} is not a dense tensor")
    if value.dtype != like.dtype or tuple(value.shape) != tuple(like.shape):
        raise ResumeError(f"{name} is {str(value.dtype).removeprefix('torch.')} {tuple(value.shape)}; the run "
                          f"needs {str(like.dtype).removeprefix('torch.')} {tuple(like.shape)}")
    return value.contiguous().clone()


def _tensors(saved: dict, key: str, likes: list[torch.Tensor]) -> list[torch.Tensor]:
    values = _of(saved, key, list)
    if len(values) != len(likes):
        raise ResumeError(f"optimizer.{key} has {len(values)} tensors; the run needs {len(likes)}")
    return [_like(f"optimizer.{key}[{i}]", v, like) for i, (v, like) in enumerate(zip(values, likes))]


def _dict(saved: dict, key: str) -> dict:
    return _of(saved, key, dict)


def _of(saved: dict, key: str, kind: type):
    value = saved[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ResumeError(f"the snapshot's {key} must be {kind.__name__}, not {type(value).__name__}")
    return value


def _as_count(value, name: str, most: int | None = None, low: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (most is not None and value > most):
        raise ResumeError(f"the snapshot's {name} must be a whole number from {low}"
                          + (f" to {most}" if most is not None else ""))
    return value


def _count(saved: dict, key: str, most: int | None = None, low: int = 0) -> int:
    return _as_count(saved[key], key, most, low)


def _as_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ResumeError(f"the snapshot's {name} must be numbers")
    return float(value)


def _number(saved: dict, key: str) -> float:
    value = _as_float(saved[key], key)
    if not math.isfinite(value):
        raise ResumeError(f"the snapshot's {key} must be finite")
    return value


def _maybe_number(saved: dict, key: str) -> float | None:
    return None if saved[key] is None else _as_float(saved[key], key)


def _copies(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    return [t.detach().clone() for t in tensors]


ENDINGS = {"finished": Finished, "divergence": Divergence}


def _ending_dict(ending) -> dict | None:
    if ending is None:
        return None
    kind = next(name for name, cls in ENDINGS.items() if isinstance(ending, cls))
    fields = dataclasses.asdict(ending)
    if "activations" in fields:
        fields["activations"] = list(fields["activations"])
    return {"kind": kind, **fields}


def _ending(saved) -> Finished | Divergence | None:
    if saved is None:
        return None
    if not isinstance(saved, dict) or saved.get("kind") not in ENDINGS:
        raise ResumeError("the snapshot's ending is not one this app records")
    fields = {k: v for k, v in saved.items() if k != "kind"}
    if "activations" in fields:
        fields["activations"] = tuple(_of(fields, "activations", list))
    try:
        return ENDINGS[saved["kind"]](**fields)
    except TypeError as exc:
        raise ResumeError(f"the snapshot's ending is damaged: {exc}") from None


__all__ = ["FORMAT", "VERSION", "MAX_BYTES", "PATH_BYTES", "ResumeError", "estimated_bytes", "snapshot_bytes",
           "restore", "peek"]
