"""engine.train.resume: a restored run takes the very steps the original would have, with the same history;
anything but a run snapshot of this app is refused with a ResumeError, and nothing in it is ever executed."""
import hashlib
import io
import os
import pickle
import zipfile

import numpy as np
import pytest
import torch

from engine.data.datasets import load_dataset
from engine.nn.spec import NetworkSpec, TrainSpec
from engine.train.resume import HEADER, PATH_BYTES, ResumeError, estimated_bytes, peek, restore, snapshot_bytes
from engine.train.trainer import Finished, Trainer


@pytest.fixture(scope="module")
def moons():
    return load_dataset("moons", n_points=400, seed=0)


def run(moons, optimizer="adam", steps=37, **network):
    """A run stopped mid-epoch (37 steps of 10 per epoch at batch 32: the order and cursor matter)."""
    trainer = Trainer(NetworkSpec(**{"hidden": (8, 8), "activations": "tanh", **network}),
                      TrainSpec(dataset="moons", optimizer=optimizer, lr=0.05, batch_size=32, epochs=50, seed=3),
                      moons)
    trainer.step(steps)
    return trainer


def same_history(a: Trainer, b: Trainer) -> None:
    rows_a, rows_b = a.history.as_dict(), b.history.as_dict()
    assert rows_a.keys() == rows_b.keys()
    for key in rows_a:
        np.testing.assert_array_equal(rows_a[key], rows_b[key], err_msg=key)
    assert a.history.epochs == b.history.epochs
    assert a.history.recent_loss(64) == b.history.recent_loss(64)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_restored_run_continues_with_the_originals_next_losses(moons, optimizer):
    original = run(moons, optimizer, dropout=0.2)
    data = snapshot_bytes(original, extra={"saved_at": 12.5, "running": True})
    copy, extra = restore(data, moons)
    assert extra == {"saved_at": 12.5, "running": True} and peek(data) == (37, extra)
    assert copy.step_count == 37 and copy.epoch == pytest.approx(original.epoch)
    same_history(original, copy)
    original.step(45)  # across an epoch end: the next shuffle comes from the saved generator
    copy.step(45)
    same_history(original, copy)  # every loss, δ and metric of the 45 steps, bit for bit
    for a, b in zip(original.weights(), copy.weights()):
        np.testing.assert_array_equal(a, b)


def test_a_retuned_run_keeps_its_new_settings_and_clock(moons):
    original = run(moons, "momentum")
    changed = TrainSpec(**{**original.training.to_dict(), "lr": 0.2, "batch_size": 16})
    original.retune(changed)
    original.step(5)
    copy, _ = restore(snapshot_bytes(original), moons)
    assert copy.training == changed and copy.batch_size == 16 and copy.optimizer.lr == 0.2
    assert copy.epoch == pytest.approx(original.epoch)
    original.step(30)
    copy.step(30)
    same_history(original, copy)


def test_a_finished_run_stays_finished_and_the_data_is_loaded_when_not_given():
    trainer = Trainer(NetworkSpec(hidden=(4,)), TrainSpec(dataset="xor", lr=0.1, batch_size=64, epochs=2, seed=1))
    trainer.step(10_000)
    assert trainer.status == "done"
    copy, _ = restore(snapshot_bytes(trainer))  # its dataset rebuilt from the training spec
    assert copy.status == "done" and copy.finished and copy.ending == trainer.ending
    assert isinstance(copy.ending, Finished) and copy.step(5) == 0


def test_the_loss_surface_path_goes_along_while_small(moons):
    original = run(moons, steps=40)
    copy, _ = restore(snapshot_bytes(original), moons)
    assert [s for s, _ in copy.snapshots] == [s for s, _ in original.snapshots] == list(range(0, 41, 5))
    np.testing.assert_array_equal(copy.snapshots[-1][1], original.snapshots[-1][1])
    copy.step(5)
    assert copy.snapshots[-1][0] == 45  # and goes on every `every` steps
    assert original.path.bytes < PATH_BYTES


def test_the_size_estimate_bounds_the_bytes_however_long_the_run(moons):
    trainer = Trainer(NetworkSpec(hidden=(64, 64)), TrainSpec(dataset="moons", batch_size=1, epochs=50), moons,
                      max_points=200)
    estimate = estimated_bytes(trainer)
    trainer.step(1200)  # the history's rows fill up and merge, the path thins
    assert len(trainer.history) >= 100 and len(snapshot_bytes(trainer)) <= estimate
    assert len(snapshot_bytes(trainer)) > estimate / 4


# --- refused -------------------------------------------------------------------------------------------------------
def test_corrupted_bytes_are_refused_with_a_reason(moons):
    data = bytearray(snapshot_bytes(run(moons)))
    with pytest.raises(ResumeError, match="not a run snapshot"):
        restore(b"hello", moons)
    with pytest.raises(ResumeError, match="damaged"):
        restore(bytes(data[: len(data) // 2]), moons)  # truncated
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)  # zeroed inside a stored tensor or the zip's records
    with pytest.raises(ResumeError, match="checksum"):
        restore(bytes(data), moons)


def test_a_checkpoint_is_not_a_run_snapshot(moons):
    from engine.nn.checkpoint import to_bytes
    with pytest.raises(ResumeError, match="not a run snapshot of this app"):
        restore(to_bytes(run(moons).model), moons)


class Boom:
    def __reduce__(self):
        return (os.system, ("touch /tmp/resume-pwned",))


def test_a_pickled_object_is_never_executed(moons, tmp_path):
    buffer = io.BytesIO()
    torch.save({"format": "nn-playground run snapshot", "version": 1, "extra": Boom()}, buffer)
    with pytest.raises(ResumeError, match="refused"):
        restore(sealed(buffer.getvalue()), moons)
    assert not os.path.exists("/tmp/resume-pwned")


def sealed(body: bytes) -> bytes:
    """body with a valid header and checksum: what someone who can write the store could make."""
    return HEADER + hashlib.sha256(body).digest() + body


def hacked(trainer: Trainer, change) -> bytes:
    """The trainer's snapshot with one entry changed by change(payload), sealed again."""
    payload = torch.load(io.BytesIO(snapshot_bytes(trainer)[len(HEADER) + 32:]), weights_only=True)
    change(payload)
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return sealed(buffer.getvalue())


@pytest.mark.parametrize("change, reason", [
    (lambda p: p["model"].update({"linears.0.weight": torch.zeros(3, 3)}), "model.linears.0.weight"),
    (lambda p: p["model"].update({"linears.0.weight": p["model"]["linears.0.weight"].double()}), "float64"),
    (lambda p: p["model"].update({"linears.0.weight": p["model"]["linears.0.weight"].to_sparse()}), "dense"),
    (lambda p: p["optimizer"].update({"exp_avgs": []}), "exp_avgs"),
    (lambda p: p["batches"].update({"order": p["batches"]["order"] + 10_000}), "batch order"),
    (lambda p: p["batches"].update({"cursor": -1}), "cursor"),
    (lambda p: p["history"].update({"rows": 10**9}), "rows"),
    (lambda p: p.update({"status": "hacked"}), "status"),
    (lambda p: p.update({"step_count": "many"}), "step_count"),
    (lambda p: p.update({"network": {**p["network"], "hidden": [1024] * 50, "activations": ["tanh"] * 50}}), "larger than a snapshot"),
    (lambda p: p.update({"training": {"dataset": "/etc/passwd"}}), "settings are invalid"),
    (lambda p: p.update({"surprise": 1}), "entries"),
    (lambda p: p.update({"version": 99}), "version"),
])
def test_a_hostile_snapshot_is_refused_before_use(moons, change, reason):
    with pytest.raises(ResumeError, match=reason):
        restore(hacked(run(moons, steps=3), change), moons)


def test_a_zip_bomb_is_refused_from_its_directory(moons):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", b"\0" * 30_000_000)
    with pytest.raises(ResumeError, match="not a run snapshot"):
        restore(sealed(buffer.getvalue()), moons)


def test_bytes_over_the_limit_are_refused_unread(moons):
    with pytest.raises(ResumeError, match="limit"):
        restore(b"\0" * 101, moons, max_bytes=100)
    with pytest.raises(ResumeError, match="bytes"):
        restore(pickle.dumps({}).decode("latin-1"), moons)
