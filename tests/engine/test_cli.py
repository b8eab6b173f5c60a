"""Checkpoints (round trip, refusals) and the command line's contract (JSON fields, exit codes)."""
import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from tests import ROOT
from engine.nn.checkpoint import CheckpointError, from_bytes, load, save, to_bytes
from engine.nn.model import build_model
from engine.data.preprocess import NOT_AN_IMAGE
from engine.nn.spec import NetworkSpec



def test_round_trip_keeps_spec_weights_and_metrics(tmp_path):
    spec = NetworkSpec(hidden=(12, 7), activations=("tanh", "relu"), conv=(4,), dropout=0.1)
    model = build_model(spec, seed=3)
    save(model, tmp_path / "m.pt", train={"lr": 0.1}, metrics={"val_acc": 0.5})
    loaded, payload = load(tmp_path / "m.pt")
    assert loaded.spec == spec
    assert payload["metrics"] == {"val_acc": 0.5} and payload["format"] == 1
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)
    assert not list(tmp_path.glob("*.tmp"))  # the atomic write left nothing behind


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/pwned_by_checkpoint",))


def test_a_pickle_payload_is_refused_and_never_run(tmp_path):
    marker = Path("/tmp/pwned_by_checkpoint")
    marker.unlink(missing_ok=True)
    buffer = io.BytesIO()
    torch.save({"format": 1, "spec": NetworkSpec().to_dict(), "state_dict": {}, "x": Evil()}, buffer)
    with pytest.raises(CheckpointError, match="refused"):
        from_bytes(buffer.getvalue())
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="not a checkpoint saved by this app"):
        from_bytes(pickle.dumps(Evil()))
    assert not marker.exists()


@pytest.mark.parametrize("mutate, message", [
    (lambda p: p.update(format=2), "not a checkpoint of format 1"),
    (lambda p: p.update(spec={"hidden": [0]}), "network description is invalid"),
    (lambda p: p.update(spec={**p["spec"], "bogus": 1}), "unknown setting"),
    (lambda p: p["state_dict"].pop("linears.0.weight"), "do not match the network"),
    (lambda p: p["state_dict"].update({"linears.0.weight": torch.zeros(3, 3)}), "has shape"),
    (lambda p: p["state_dict"].update({"linears.0.bias": torch.full((16,), float("nan"))}), "NaN"),
    (lambda p: p.update(extra=1), "unexpected entries"),
])
def test_invalid_checkpoints_are_refused_with_a_reason(mutate, message):
    model = build_model(NetworkSpec(hidden=(16,)))
    payload = torch.load(io.BytesIO(to_bytes(model)), weights_only=True)
    mutate(payload)
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    with pytest.raises(CheckpointError, match=message):
        from_bytes(buffer.getvalue())


def test_truncated_oversized_and_random_files_are_refused():
    data = to_bytes(build_model(NetworkSpec(hidden=(16,))))
    with pytest.raises(CheckpointError):
        from_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="limit"):
        from_bytes(data, max_bytes=100)
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        from_bytes(os.urandom(5000))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("data.pkl", b"garbage")
    with pytest.raises(CheckpointError):
        from_bytes(archive.getvalue())


def cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("args, message", [
    (["train", "--layers", "0"], "width of hidden layer 1 must be 1-1024, got 0"),
    (["train", "--activation", "swish"], "activation must be one of"),
    (["train", "--lr", "nan"], "not a finite number"),
    (["train", "--optimizer", "rmsprop"], "invalid choice"),
    (["train", "--dataset", "cifar"], "dataset must be one of"),
    (["train", "--dataset", "idx:/no/such/folder"], "no MNIST files found in that folder"),
    (["predict", "--model", "/no/model.pt", __file__], "no checkpoint file"),
    (["gradients", "--batch-size", "0"], "batch size must be 1-100000"),
    (["landscape", "--grid", "1"], "grid must be 3-201"),
    (["train", "--kfold", "1"], "--kfold must be 2-20, got 1"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_error_line(args, message):
    result = cli(*args, "--json")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_train_json_contract(tmp_path):
    out = tmp_path / "m.pt"
    result = cli("train", "--dataset", "moons", "--layers", "8,8", "--activation", "tanh,relu", "--init",
                 "xavier", "--lr", "0.01", "--epochs", "3", "--batch-size", "32", "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) >= {"epochs", "delta_mean_abs", "seconds", "model"}
    assert [e["epoch"] for e in doc["epochs"]] == [1, 2, 3]
    assert set(doc["epochs"][0]) == {"epoch", "step", "train_loss", "train_acc", "val_loss", "val_acc"}
    assert len(doc["delta_mean_abs"]) == 3 and all(d > 0 for d in doc["delta_mean_abs"])
    assert doc["model"] == str(out) and load(out)[0].spec.hidden == (8, 8)
    assert "folds" not in doc  # only with --kfold


def test_train_kfold_json_contract(tmp_path):
    from engine.train.kfold import cross_validate
    from engine.nn.spec import NetworkSpec, TrainSpec

    result = cli("train", "--dataset", "moons", "--layers", "8", "--lr", "0.01", "--epochs", "2", "--batch-size",
                 "32", "--kfold", "3", "--out", str(tmp_path / "m.pt"), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [f["fold"] for f in doc["folds"]] == [1, 2, 3]
    assert all(set(f) == {"fold", "val_acc", "val_loss"} for f in doc["folds"])
    accs = [f["val_acc"] for f in doc["folds"]]
    assert doc["kfold_mean"] == pytest.approx(sum(accs) / 3) and doc["kfold_std"] >= 0
    # the same numbers as the engine's cross_validate (the Train page's K-fold)
    same = cross_validate(NetworkSpec(hidden=(8,), activations="relu", init="he"),
                          TrainSpec(dataset="moons", lr=0.01, epochs=2, batch_size=32), 3)
    assert accs == pytest.approx([f.val_acc for f in same.folds]) and doc["kfold_std"] == pytest.approx(same.std)


def test_gradients_json_has_the_verdict_contract():
    result = cli("gradients", "--dataset", "digits", "--layers", "16,16,16", "--init", "zeros", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["verdict"]["kind"] == "symmetric" and set(doc["verdict"]) == {"kind", "ratio", "text"}
    assert all({"saturated_frac", "dead_frac"} <= set(row) for row in doc["layers"])


def draw_digit(path, kind):
    image = Image.new("L", (200, 200), 255)  # black ink on white paper, like a photo
    pen = ImageDraw.Draw(image)
    if kind == "1":
        pen.line([(100, 30), (100, 170)], fill=0, width=16)
    elif kind == "0":
        pen.ellipse([55, 30, 145, 170], outline=0, width=16)
    image.save(path)


def test_predict_json_reads_digits_and_reports_blank_and_broken_files(tmp_path):
    draw_digit(tmp_path / "one.png", "1")
    draw_digit(tmp_path / "zero.png", "0")
    Image.new("L", (50, 50), 255).save(tmp_path / "blank.png")
    (tmp_path / "notes.png").write_text("not an image")
    files = [str(tmp_path / n) for n in ("one.png", "zero.png", "blank.png", "notes.png")]
    result = cli("predict", *files, "--json")
    assert result.returncode == 2  # one file could not be read: exit 2, one error line, every row in the JSON
    assert result.stderr.strip() == f"error: 1 of 4 images could not be read; {files[3]}: {NOT_AN_IMAGE}"
    rows = json.loads(result.stdout)
    assert [r["file"] for r in rows] == files
    assert rows[0]["label"] == 1 and rows[1]["label"] == 0
    assert len(rows[0]["probs"]) == 10 and abs(sum(rows[0]["probs"]) - 1) < 1e-4
    assert rows[2] == {"file": files[2], "label": None, "probs": None, "error": "blank"}
    assert rows[3]["label"] is None and "not an image" in rows[3]["error"]


def test_gradients_json_contract_and_vanishing_sigmoid():
    result = cli("gradients", "--layers", "32,32,32,32,32,32,32,32", "--activation", "sigmoid", "--init", "xavier",
                 "--json")
    assert result.returncode == 0, result.stderr
    layers = json.loads(result.stdout)["layers"]
    assert [r["layer"] for r in layers] == list(range(1, 10))
    assert set(layers[0]) == {"layer", "delta_mean_abs", "grad_norm", "act_mean", "act_std", "saturated_frac",
                              "dead_frac"}  # DESIGN.md
    assert layers[0]["delta_mean_abs"] < layers[-1]["delta_mean_abs"] / 100  # σ' ≤ 1/4 at every step back
    assert np.isfinite([r["grad_norm"] for r in layers]).all()
