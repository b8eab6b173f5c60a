"""The command line's contract (python -m engine): JSON fields, exit codes, one error line for bad or hostile
input (issue 16), and nothing written where it should not be. The engine behind it has its own tests."""
import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.__main__ import main
from engine.data.idx import MAX_ELEMENTS
from engine.data.preprocess import NOT_AN_IMAGE
from engine.nn.checkpoint import load, save
from engine.nn.model import build_model
from engine.nn.spec import INIT_NAMES, NetworkSpec, TrainSpec
from engine.train.kfold import cross_validate
from tests import ROOT
from tests.engine.data.test_idx import idx_header, mnist_folder
from tests.engine.data.test_preprocess import encode, phone_photo
from tests.engine.nn.test_checkpoint import EXOTIC_REFUSALS, exotic, giant_description, huge_weights, zip_bomb


def cli(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "engine", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def one_error_line(result, code=2) -> str:
    """The command failed with exit `code` and exactly one 'error: ...' line; returns that line."""
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


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
    line = one_error_line(result)
    assert message in line, line
    assert result.stdout == ""


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
    assert doc["verdict"]["kind"] == "symmetric" and set(doc["verdict"]) == {"kind", "ratio", "gain", "text"}
    assert all({"saturated_frac", "dead_frac"} <= set(row) for row in doc["layers"])


def test_gradients_without_hidden_layers_says_so():
    result = cli("gradients", "--dataset", "digits", "--layers", "none", "--json")
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)["verdict"]
    assert verdict["kind"] == "healthy" and "no hidden layer" in verdict["text"]
    assert "one hidden layer" not in verdict["text"]


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
    doc = json.loads(result.stdout)
    layers = doc["layers"]
    assert [r["layer"] for r in layers] == list(range(1, 10))
    # the verdict's numbers from the rows: first over last hidden layer's mean |δ|, and the gain of each of 7 steps
    ratio = layers[0]["delta_mean_abs"] / layers[7]["delta_mean_abs"]
    assert doc["verdict"]["ratio"] == pytest.approx(ratio, rel=1e-6)
    assert doc["verdict"]["gain"] == pytest.approx(ratio ** (1 / 7), rel=1e-6)
    assert doc["verdict"]["gain"] < 0.5  # δ more than halves at every step back
    assert set(layers[0]) == {"layer", "delta_mean_abs", "grad_norm", "act_mean", "act_std", "saturated_frac",
                              "dead_frac"}  # DESIGN.md
    assert layers[0]["delta_mean_abs"] < layers[-1]["delta_mean_abs"] / 100  # σ' ≤ 1/4 at every step back
    assert np.isfinite([r["grad_norm"] for r in layers]).all()


@pytest.mark.skipif("lecun" not in INIT_NAMES, reason="engine/nn/spec.py INIT_NAMES lacks lecun")
def test_gradients_names_nielsens_network_vanishing_by_its_gain():
    result = cli("gradients", "--layers", "30,30,30,30", "--activation", "sigmoid", "--init", "lecun", "--json")
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)["verdict"]
    assert verdict["kind"] == "vanishing" and 0.15 < verdict["gain"] < 0.3
    assert verdict["gain"] == pytest.approx(verdict["ratio"] ** (1 / 3), rel=1e-6)  # 4 hidden layers: 3 steps
    assert "σ'(z) ≤ 1/4 for sigmoid" in verdict["text"] and "stays close to 1" not in verdict["text"]


# ---------------------------------------------------------------- hostile checkpoints


@pytest.mark.hostile
@pytest.mark.parametrize("command", ["predict", "landscape"])
def test_the_cli_refuses_hostile_checkpoints_with_one_line(tmp_path, command):
    bomb, giant = tmp_path / "bomb.pt", tmp_path / "giant.pt"
    bomb.write_bytes(zip_bomb(60_000_000))
    giant.write_bytes(giant_description())
    image = tmp_path / "digit.png"
    image.write_bytes(encode(np.zeros((28, 28), np.uint8)))
    extra = [image] if command == "predict" else ["--grid", "3", "--samples", "10"]
    line = one_error_line(cli(command, "--model", bomb, *extra, "--json"))
    assert line == "error: the archive unpacks to 240.0 MB; the limit is 50 MB"
    line = one_error_line(cli(command, "--model", giant, *extra, "--json"))
    assert "parameters; the limit is 12,500,000" in line


# ---------------------------------------------------------------- IDX folders


@pytest.mark.hostile
def test_the_cli_reports_a_hostile_idx_folder_in_one_line(tmp_path):
    folder = tmp_path / "mnist"
    mnist_folder(folder)
    (folder / "train-labels-idx1-ubyte").write_bytes(idx_header((10**9,)) + bytes(12))
    line = one_error_line(cli("train", "--dataset", f"idx:{folder}", "--epochs", "1", "--out", tmp_path / "m.pt"))
    assert line == ("error: train-labels-idx1-ubyte: header declares 1000000000 items, more than the limit of "
                    f"{MAX_ELEMENTS}")
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.hostile
def test_the_cli_obeys_the_allowed_roots(tmp_path):
    folder = tmp_path / "mnist"
    mnist_folder(folder)
    refused = cli("train", "--dataset", f"idx:{folder}", "--out", tmp_path / "m.pt",
                  env={"PLAYGROUND_IDX_ROOTS": "/srv"})
    assert one_error_line(refused) == "error: no MNIST files found in that folder"
    allowed = cli("train", "--dataset", f"idx:{folder}", "--layers", "4", "--epochs", "1", "--val-fraction", "0.2",
                  "--out", tmp_path / "m.pt", "--json", env={"PLAYGROUND_IDX_ROOTS": str(tmp_path)})
    assert allowed.returncode == 0, allowed.stderr
    assert (tmp_path / "m.pt").is_file()


# ---------------------------------------------------------------- train --out


TRAIN_FAST = ["train", "--dataset", "moons", "--layers", "4", "--epochs", "1"]


@pytest.mark.hostile
def test_train_refuses_a_device_before_training_and_leaves_it_alone():
    before = os.stat("/dev/null")
    result = cli(*TRAIN_FAST, "--out", "/dev/null", "--json")
    assert one_error_line(result) == ("error: /dev/null is not a regular file (a device, pipe or socket); "
                                      "name a new file or a model file to replace")
    assert result.stdout == ""  # refused before the first epoch
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


@pytest.mark.hostile
def test_train_refuses_folders_pipes_links_and_unwritable_places(tmp_path):
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "precious.pt").write_bytes(b"keep me")
    (tmp_path / "link.pt").symlink_to(tmp_path / "precious.pt")
    (tmp_path / "file").write_text("x")
    unwritable = "/proc/model.pt" if os.geteuid() == 0 else "/model.pt"
    cases = {tmp_path / "folder": "is a folder; name a file such as",
             tmp_path / "pipe": "is not a regular file",
             tmp_path / "link.pt": "is a symbolic link",
             tmp_path / "file" / "model.pt": "cannot save to",
             unwritable: "cannot save to"}
    for out, words in cases.items():
        line = one_error_line(cli(*TRAIN_FAST, "--out", out))
        assert words in line, line
    assert (tmp_path / "folder").is_dir() and not any((tmp_path / "folder").iterdir())
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)
    assert (tmp_path / "link.pt").is_symlink() and (tmp_path / "precious.pt").read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder", "link.pt", "pipe", "precious.pt"]


# ---------------------------------------------------------------- predict


@pytest.mark.hostile
def test_predict_reports_a_photo_of_blank_paper_as_an_answer(tmp_path):
    path = tmp_path / "paper.jpg"
    path.write_bytes(phone_photo(digit=False))
    result = cli("predict", path, "--json")
    assert result.returncode == 0, result.stderr  # blank is an answer, not a failure
    assert json.loads(result.stdout) == [{"file": str(path), "label": None, "probs": None, "error": "blank"}]


@pytest.mark.hostile
def test_predict_lists_every_file_and_exits_2_when_any_fails(tmp_path):
    good, broken, missing = tmp_path / "good.png", tmp_path / "broken.png", tmp_path / "missing.png"
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255
    good.write_bytes(encode(digit))
    broken.write_bytes(b"not a picture at all")
    result = cli("predict", good, broken, missing, "--json")
    line = one_error_line(result)
    assert line == ("error: 2 of 3 images could not be read; "
                    f"{broken}: this file is not an image (PNG, JPEG, GIF, BMP or WebP)")
    rows = json.loads(result.stdout)
    assert [r["file"] for r in rows] == [str(good), str(broken), str(missing)]
    assert rows[0]["error"] is None and rows[0]["label"] in range(10)
    assert rows[1]["error"].startswith("this file is not an image") and rows[2]["error"] == "no such file"
    plain = cli("predict", good, missing, "/dev/zero", tmp_path)
    assert one_error_line(plain).startswith("error: 3 of 4 images could not be read;")
    assert plain.stdout.splitlines()[1:] == [f"{missing}: no such file", "/dev/zero: not a regular file",
                                             f"{tmp_path}: not a regular file"]


@pytest.mark.hostile
def test_predict_with_a_model_of_the_wrong_input_size_says_so(tmp_path):
    moons = tmp_path / "moons.pt"
    save(build_model(NetworkSpec(input_size=2, hidden=(8,), output_size=2)), moons)
    image = tmp_path / "digit.png"
    image.write_bytes(encode(np.zeros((28, 28), np.uint8)))
    result = cli("predict", "--model", moons, image, "--json")
    assert one_error_line(result) == ("error: this model reads 2 inputs, not a 28x28 image (784 pixels): "
                                      "use a model trained on MNIST-style digits")
    assert result.stdout == ""


# ---------------------------------------------------------------- speed (issue 23): nothing heavy around the work

NEVER_IMPORTED = """
import contextlib, io, sys
from engine.__main__ import main
for argv in sys.argv[1:]:
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(argv.split("|")) == 0, argv
print(sorted(m for m in ("torch._dynamo", "torch._inductor") if m in sys.modules))
"""


def test_no_command_imports_the_compiler_stack(tmp_path):
    """torch._dynamo costs about 1.3 s and 70 MB per process; building the model under torch.device("meta") pulled
    it in (its normal_ init on meta tensors runs torch._refs). Every command runs in one fresh process here."""
    draw_digit(tmp_path / "one.png", "1")
    commands = [f"predict|{tmp_path / 'one.png'}",
                "landscape|--grid|3|--samples|50",
                "gradients|--batch-size|32",
                f"train|--train-size|100|--layers|8|--epochs|1|--out|{tmp_path / 'm.pt'}",
                f"landscape|--model|{tmp_path / 'm.pt'}|--grid|3|--samples|50"]
    result = subprocess.run([sys.executable, "-c", NEVER_IMPORTED, *commands], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout


# ---------------------------------------------------------------- issue 26: the same bounds outside the browser


@pytest.mark.hostile
@pytest.mark.parametrize("kind", list(EXOTIC_REFUSALS))
def test_predict_refuses_sparse_meta_float8_integer_and_complex_checkpoints_in_one_line(tmp_path, kind):
    """D9: the first four exited 1 with a 22-115 line traceback (isfinite on a sparse, meta or float8 tensor)."""
    model = tmp_path / f"{kind}.pt"
    model.write_bytes(exotic(kind))
    image = tmp_path / "digit.png"
    image.write_bytes(encode(np.zeros((28, 28), np.uint8)))
    result = cli("predict", "--model", model, image, "--json")
    assert one_error_line(result) == f"error: {EXOTIC_REFUSALS[kind]}"
    assert result.stdout == ""


@pytest.mark.hostile
def test_predict_refuses_a_checkpoint_whose_finite_weights_overflow(tmp_path):
    """D13: weights of 3e38 gave exit 0 with label 0 and null probabilities."""
    model = tmp_path / "huge_weights.pt"
    model.write_bytes(huge_weights(3e38))
    draw_digit(tmp_path / "one.png", "1")
    result = cli("predict", "--model", model, tmp_path / "one.png", "--json")
    assert one_error_line(result) == ("error: the weights are too large for arithmetic: a forward pass overflows "
                                      "to infinity or NaN (the largest |w| is 3e+38)")
    assert result.stdout == ""


@pytest.mark.hostile
def test_gradients_refuses_a_profile_too_big_for_memory_before_building_it():
    """D10: 50 layers of 1024 on mnist5k+pendigits with --batch-size 100000 reached 9.8 GB and died in the
    allocator (exit 1). The batch really drawn is the training split, 9,994 samples; refused by arithmetic."""
    layers = ",".join(["1024"] * 50)
    result = cli("gradients", "--layers", layers, "--batch-size", "100000", "--dataset", "mnist5k+pendigits", "--json")
    line = one_error_line(result)
    assert line.startswith("error: this needs about ") and line.endswith(
        " GB of memory (50 hidden layers up to 1024 units wide on a batch of 9,994 samples); the limit is 2 GB: "
        "lower the batch size, the width or the depth"), line
    assert float(line.split("about ")[1].split(" GB")[0]) > 9.8  # what it reached before dying, and more
    assert result.stdout == ""


@pytest.mark.hostile
def test_torchs_allocator_error_becomes_one_not_enough_memory_line(monkeypatch, capsys):
    """The estimate is arithmetic; if the allocator fails anyway, the same one line, never its traceback."""
    import engine.views.gradients as gradients

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: "
                           "you tried to allocate 4194304000 bytes.")

    monkeypatch.setattr(gradients, "profile_at_init", out_of_memory)
    assert main(["gradients", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.err == ("error: not enough memory for this command; try a smaller network, batch, dataset "
                            "or grid\n")
    assert captured.out == ""

    def a_bug(*args, **kwargs):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    monkeypatch.setattr(gradients, "profile_at_init", a_bug)
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):  # a bug keeps its traceback
        main(["gradients", "--json"])


@pytest.mark.hostile
def test_a_folder_of_gzipped_doubles_or_absurd_images_exits_2_from_its_headers(tmp_path):
    """D11 through the CLI: the double_bomb and uint8 images of absurd dimensions, refused from their headers."""
    from tests.engine.data.test_idx import gzip_of_zeros, write_idx

    bomb = tmp_path / "double_bomb"
    bomb.mkdir()
    for stem, dims in [("train-images-idx3-ubyte", (2000, 28, 28)), ("train-labels-idx1-ubyte", (2000,)),
                       ("t10k-images-idx3-ubyte", (2000, 28, 28)), ("t10k-labels-idx1-ubyte", (2000,))]:
        gzip_of_zeros(bomb / (stem + ".gz"), dims, 0x0E)
    result = cli("train", "--dataset", f"idx:{bomb}", "--out", tmp_path / "m.pt", "--json")
    assert one_error_line(result) == "error: train images must hold unsigned bytes (type 0x08), got float64"
    absurd = tmp_path / "absurd"
    mnist_folder(absurd)
    (absurd / "train-images-idx3-ubyte").unlink()
    gzip_of_zeros(absurd / "train-images-idx3-ubyte.gz", (1, 8000, 8000), 0x08)
    write_idx(absurd / "train-labels-idx1-ubyte", np.zeros(1, np.uint8))
    for command in (["train", "--out", tmp_path / "m.pt"], ["gradients"]):
        result = cli(*command, "--dataset", f"idx:{absurd}", "--json")
        assert one_error_line(result) == "error: train images must be 28x28 pixels, got 8000x8000"
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.hostile
@pytest.mark.parametrize("bad", [["--layers", "abc"], ["--dataset", "cifar"], ["--dataset", "idx:/no/such"],
                                 ["--lr", "-1"]])
def test_a_refused_train_creates_no_folder(tmp_path, bad):
    """D14: `train --out x/new/dir/m.pt --layers abc` made x/new/dir/ and then failed."""
    one_error_line(cli(*TRAIN_FAST, *bad, "--out", tmp_path / "x" / "new" / "dir" / "m.pt", "--json"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.hostile
@pytest.mark.parametrize("args, message", [
    (["--layers", ",,,"], "error: ',,,' has an empty item between commas"),
    (["--layers", "8,,8"], "error: '8,,8' has an empty item between commas"),
    (["--layers", ""], "error: --layers is empty: give hidden widths such as 128,64, or --layers none for a "
                       "network without hidden layers"),
    (["--layers", "   "], "error: --layers is empty: give hidden widths such as 128,64, or --layers none for a "
                          "network without hidden layers"),
    (["--layers", "١٢٨"], "error: expected a whole number, got '١٢٨'"),
    (["--layers", "１２８"], "error: expected a whole number, got '１２８'"),
    (["--layers", "1_0"], "error: expected a whole number, got '1_0'"),
    (["--epochs", "١"], "error: argument --epochs: '١' is not a whole number (digits 0-9)"),
    (["--batch-size", "１６"], "error: argument --batch-size: '１６' is not a whole number (digits 0-9)"),
    (["--seed", "1_000"], "error: argument --seed: '1_000' is not a whole number (digits 0-9)"),
    (["--lr", "0.0_1"], "error: argument --lr: '0.0_1' is not a number (digits 0-9, '.', 'e')"),
    (["--lr", "٠.١"], "error: argument --lr: '٠.١' is not a number (digits 0-9, '.', 'e')"),
    (["--lr", "1e400"], "error: argument --lr: '1e400' is not a finite number"),
])
def test_train_takes_only_ascii_numbers_and_no_empty_layer_list(tmp_path, args, message):
    """D15: ',,,' and '' trained 0 hidden layers without a word; int() and float() read '١٢٨', '１２８', '1_000'."""
    result = cli(*TRAIN_FAST, *args, "--out", tmp_path / "m.pt", "--json")
    assert one_error_line(result) == message
    assert not (tmp_path / "m.pt").exists()


def test_layers_none_is_a_network_without_hidden_layers(tmp_path):
    result = cli(*TRAIN_FAST, "--layers", "none", "--out", tmp_path / "m.pt", "--json")
    assert result.returncode == 0, result.stderr
    assert load(tmp_path / "m.pt")[0].spec.hidden == ()


@pytest.mark.hostile
def test_an_error_line_cuts_a_long_value_to_80_characters(tmp_path):
    """D15: the error line repeated a 5000-character value."""
    line = one_error_line(cli(*TRAIN_FAST, "--layers", "x" * 5000, "--out", tmp_path / "m.pt"))
    assert line == "error: expected a whole number, got '" + "x" * 38 + "…" + "x" * 38 + "'"  # 79 characters
    line = one_error_line(cli(*TRAIN_FAST, "--activation", "a b " * 2000, "--out", tmp_path / "m.pt"))
    assert len(line) <= len("error: ") + 500 and line.endswith("…")
