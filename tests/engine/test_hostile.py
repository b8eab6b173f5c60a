"""Hostile input to the engine and the command line: each is refused with one clear sentence, costs little
memory, and loses nothing (issue 16). Memory: in a fresh process, the peak RSS during the call (VmHWM, reset
just before it) minus the RSS before it."""
import gzip
import io
import json
import os
import stat
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from tests import ROOT
from engine.nn.checkpoint import (MAX_CHECKPOINT_BYTES, CheckpointError, from_bytes, parameter_count,
                               parameter_shapes, save, to_bytes)
from engine.data.datasets import load_dataset
from engine.data.idx import MAX_ELEMENTS, IdxError, load_idx_folder, read_idx
from engine.nn.model import build_model
from engine.data.preprocess import MAX_SIDE, ImageError, load_image, prepare
from engine.nn.spec import NetworkSpec

REFUSAL_MB = 10  # a refusal may cost this much memory at most (the attacks in the issue cost 0.9-8.8 GB)
BOUND_MB = 100  # reading the largest input we accept (decoding a photo, building a model) may cost this much
PROBE = """
import json, sys
sys.path.insert(0, {root!r})
{imports}


def kilobytes(field):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(field + ":"))


data = open({path!r}, "rb").read()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current RSS: imports' transient peak does not count
before = kilobytes("VmRSS")
try:
    result = {call}
    outcome = "ok " + repr(result)[:200]
except Exception as exc:
    outcome = f"{{type(exc).__name__}}: {{exc}}"
print(json.dumps({{"outcome": outcome, "growth_mb": (kilobytes("VmHWM") - before) / 1024}}))
"""


def probe(tmp_path, data: bytes, imports: str, call: str) -> tuple[str, float]:
    """Run `call` on `data` in a fresh Python; (its outcome or exception, peak RSS growth in MB)."""
    path = tmp_path / "probe.bin"
    path.write_bytes(data)
    code = PROBE.format(root=str(ROOT), imports=imports, path=str(path), call=call)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["outcome"], report["growth_mb"]


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


# ---------------------------------------------------------------- checkpoints (issue item 1)

MARK = 1_234_567  # a tensor length that appears only where the pickle records sizes


def zip_bomb(n_floats: int, spec: NetworkSpec = NetworkSpec()) -> bytes:
    """A deflate-compressed checkpoint whose one tensor is n_floats zeros (written in chunks, never held)."""
    buffer = io.BytesIO()
    torch.save({"format": 1, "spec": spec.to_dict(), "state_dict": {"linears.0.weight": torch.zeros(MARK)}}, buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as bomb:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("data/0"):
                chunk = bytes(1 << 22)
                with bomb.open(info.filename, "w", force_zip64=True) as f:
                    for _ in range(n_floats * 4 // len(chunk)):
                        f.write(chunk)
                    f.write(bytes(n_floats * 4 % len(chunk)))
            else:  # the pickle now describes n_floats elements
                bomb.writestr(info.filename, data.replace(struct.pack("<i", MARK), struct.pack("<i", n_floats)))
    return out.getvalue()


def giant_description() -> bytes:
    """The issue's 1.8 KB file: input 100000, conv 128,128,128, 50 hidden layers of 1024, 1000 outputs."""
    spec = {"input_size": 100_000, "hidden": [1024] * 50, "activations": ["relu"] * 50, "output_size": 1000,
            "init": "he", "loss": "ce", "dropout": 0.0, "regression": False, "conv": [128, 128, 128],
            "pool": "max", "image_shape": [250, 400]}
    buffer = io.BytesIO()
    torch.save({"format": 1, "spec": spec, "state_dict": {}}, buffer)
    return buffer.getvalue()


def test_a_compressed_checkpoint_of_a_huge_tensor_is_refused_before_unpacking(tmp_path):
    bomb = zip_bomb(60_000_000)  # 240 MB of zeros in about 1 MB
    assert len(bomb) < 2_000_000
    outcome, growth = probe(tmp_path, bomb, "from engine.nn.checkpoint import from_bytes", "from_bytes(data)")
    assert outcome == "CheckpointError: the archive unpacks to 240.0 MB; the limit is 50 MB", outcome
    assert growth < REFUSAL_MB, f"refusing cost {growth:.0f} MB"


def test_the_giant_description_is_refused_by_its_parameter_count_before_anything_is_built(tmp_path):
    data = giant_description()
    assert len(data) < 3000
    outcome, growth = probe(tmp_path, data, "from engine.nn.checkpoint import from_bytes", "from_bytes(data)")
    assert outcome.startswith("CheckpointError: the network conv 128,128,128 + 100000-1024-")
    assert outcome.endswith(f"parameters; the limit is {MAX_CHECKPOINT_BYTES // 4:,}"), outcome
    assert growth < REFUSAL_MB, f"refusing cost {growth:.0f} MB"
    twelve_wide = io.BytesIO()  # the Train page's largest network is more than its 20 MB upload can hold
    torch.save({"format": 1, "spec": NetworkSpec(hidden=(1024,) * 12).to_dict(), "state_dict": {}}, twelve_wide)
    with pytest.raises(CheckpointError, match="has 12,359,690 parameters; the limit is 5,000,000$"):
        from_bytes(twelve_wide.getvalue(), max_bytes=20_000_000)


def test_a_tensor_claiming_far_more_than_it_stores_is_refused_by_its_shape_before_it_is_read(tmp_path):
    payload = torch.load(io.BytesIO(to_bytes(build_model(NetworkSpec(hidden=(16,))))), weights_only=True)
    payload["state_dict"]["linears.0.bias"] = torch.zeros(1).expand(10**9)  # one float, stride 0
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    outcome, growth = probe(tmp_path, buffer.getvalue(), "from engine.nn.checkpoint import from_bytes", "from_bytes(data)")
    assert outcome == "CheckpointError: linears.0.bias has shape (1000000000,) but the network needs (16,)", outcome
    assert growth < REFUSAL_MB


def test_an_archive_lying_about_its_sizes_is_read_only_as_far_as_it_claims(tmp_path):
    """The size check trusts the zip's directory: torch's reader must stop at the declared size."""
    spec = NetworkSpec(input_size=10, hidden=(), output_size=10)
    honest = zipfile.ZipFile(io.BytesIO(to_bytes(build_model(spec))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for info in honest.infolist():
            z.writestr(info.filename, bytes(200_000_000) if info.filename.endswith("data/0") else honest.read(info))
    raw = bytearray(out.getvalue())
    entry = zipfile.ZipFile(io.BytesIO(bytes(raw))).getinfo(next(n for n in honest.namelist() if n.endswith("data/0")))
    declared = honest.getinfo(entry.filename).file_size  # the 10x10 weights' 400 bytes
    struct.pack_into("<I", raw, entry.header_offset + 22, declared)  # local header: uncompressed size
    central = raw.rfind(b"PK\x01\x02", 0, raw.rfind(entry.filename.encode()))
    struct.pack_into("<I", raw, central + 24, declared)  # central directory: uncompressed size
    outcome, growth = probe(tmp_path, bytes(raw), "from engine.nn.checkpoint import from_bytes",
                            "from_bytes(data)[0].spec.describe()")
    assert outcome == "ok '10-10 none'", outcome  # 400 bytes read; the other 199,999,600 never unpacked
    assert growth < BOUND_MB, f"reading cost {growth:.0f} MB"


@pytest.mark.parametrize("spec", [NetworkSpec(), NetworkSpec(hidden=(5, 3), conv=(4, 6), pool="avg"),
                                  NetworkSpec(input_size=2, hidden=(), output_size=2),
                                  NetworkSpec(input_size=64, hidden=(8,), conv=(2,), image_shape=(8, 8))])
def test_expected_shapes_by_arithmetic_match_the_built_network(spec):
    built = build_model(spec).state_dict()
    assert parameter_shapes(spec) == {name: tuple(t.shape) for name, t in built.items()}
    assert parameter_count(spec) == sum(t.numel() for t in built.values())


def test_checkpoint_with_the_other_entries_and_a_calibration_loads_and_a_bad_one_is_refused():
    model = build_model(NetworkSpec(hidden=(8,)))
    payload = torch.load(io.BytesIO(to_bytes(model, train={"lr": 0.1})), weights_only=True)
    for calibration, ok in [({"temperature": 1.7, "ece": 0.02}, True), ({"temperature": 0.0}, False),
                            ({"temperature": float("nan")}, False), ({"temperature": "hot"}, False), (3, False)]:
        payload["calibration"] = calibration
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        if ok:
            loaded, back = from_bytes(buffer.getvalue())
            assert back["calibration"]["temperature"] == 1.7
            assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))
        else:
            with pytest.raises(CheckpointError, match="calibration"):
                from_bytes(buffer.getvalue())


@pytest.mark.parametrize("command", ["predict", "landscape"])
def test_the_cli_refuses_hostile_checkpoints_with_one_line(tmp_path, command):
    bomb, giant = tmp_path / "bomb.pt", tmp_path / "giant.pt"
    bomb.write_bytes(zip_bomb(60_000_000))
    giant.write_bytes(giant_description())
    image = tmp_path / "digit.png"
    image.write_bytes(png(np.zeros((28, 28), np.uint8)))
    extra = [image] if command == "predict" else ["--grid", "3", "--samples", "10"]
    line = one_error_line(cli(command, "--model", bomb, *extra, "--json"))
    assert line == "error: the archive unpacks to 240.0 MB; the limit is 50 MB"
    line = one_error_line(cli(command, "--model", giant, *extra, "--json"))
    assert "parameters; the limit is 12,500,000" in line


# ---------------------------------------------------------------- images (items 2 and 13)


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def phone_photo(digit: bool) -> bytes:
    """A 4000x3000 JPEG of paper in uneven light with sensor noise, about 10 MB; with a dark 7 if digit."""
    width, height = 4000, 3000
    paper = Image.new("L", (width, height), 190)
    if digit:
        ImageDraw.Draw(paper).line([(1500, 800), (2500, 800), (1800, 2300)], fill=50, width=90)
    rng = np.random.default_rng(0)
    light = np.linspace(-15, 15, width, dtype=np.float32)[None, :] \
        + np.linspace(-8, 8, height, dtype=np.float32)[:, None]  # brighter to the right and below
    pixels = rng.standard_normal((height, width, 3), dtype=np.float32)
    pixels *= 9  # sensor noise
    pixels += (np.asarray(paper, np.float32) + light)[:, :, None]
    buffer = io.BytesIO()
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    photo.save(buffer, "JPEG", quality=94, subsampling=0)  # full-resolution colour, as good phones save
    return buffer.getvalue()


def test_a_5000x5000_png_is_refused_from_its_header_at_little_cost(tmp_path):
    data = png(np.zeros((5000, 5000, 4), np.uint8))
    assert len(data) < 200_000  # 100 MB of pixels in a small file
    outcome, growth = probe(tmp_path, data, "from engine.data.preprocess import load_image", "load_image(data)")
    assert outcome == ("ImageError: image is 5000x5000 pixels, too many to decode as PNG; the limit is "
                       "12,000,000 pixels (a JPEG may be larger)"), outcome
    assert growth < REFUSAL_MB, f"refusing cost {growth:.0f} MB"


def test_the_largest_png_accepted_is_decoded_within_the_bound(tmp_path):
    data = png(np.zeros((3000, 4000, 4), np.uint8))  # 12 million RGBA pixels, 48 MB decoded
    outcome, growth = probe(tmp_path, data, "from engine.data.preprocess import load_image", "load_image(data).shape")
    assert outcome == "ok (750, 1000, 4)", outcome
    assert growth < BOUND_MB, f"decoding cost {growth:.0f} MB"


def test_a_10_mb_phone_photo_is_accepted_and_decoded_small(tmp_path):
    data = phone_photo(digit=True)
    assert 9_000_000 < len(data) < 20_000_000  # the photo was 9.8 MB
    outcome, growth = probe(tmp_path, data, "from engine.data.preprocess import load_image",
                            "load_image(data).shape")
    assert outcome == "ok (750, 1000, 3)", outcome  # decoded at 1/4 scale: no side above MAX_SIDE
    assert growth < BOUND_MB, f"decoding cost {growth:.0f} MB"
    assert max(load_image(data).shape[:2]) <= MAX_SIDE
    prepared = prepare(load_image(data))
    assert prepared.status == "ok" and prepared.inverted


def test_a_photo_of_blank_paper_finds_no_digit(tmp_path):
    path = tmp_path / "paper.jpg"
    path.write_bytes(phone_photo(digit=False))
    assert prepare(load_image(path.read_bytes())).status == "blank"
    result = cli("predict", path, "--json")
    assert result.returncode == 0, result.stderr  # blank is an answer, not a failure
    assert json.loads(result.stdout) == [{"file": str(path), "label": None, "probs": None, "error": "blank"}]


def test_a_png_larger_than_max_side_is_shrunk_and_still_read():
    big = np.zeros((2000, 3000), np.uint8)
    big[500:1500, 1200:1300] = 255  # a one
    out = load_image(png(big))
    assert out.shape == (667, 1000)
    assert prepare(out).status == "ok"


@pytest.mark.parametrize("size", [(9000, 9000), (12_000, 12_000)], ids=["our-limit", "pillow-warning"])
def test_a_header_claiming_too_many_pixels_is_refused(size):
    data = bytearray(png(np.zeros((1, 1), np.uint8)))
    data[16:24] = struct.pack(">II", *size)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    with pytest.raises(ImageError, match="pixels"):
        load_image(bytes(data))


# ---------------------------------------------------------------- IDX files (item 4)


def idx_header(dims, code=0x08) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def test_a_label_file_claiming_a_billion_entries_is_refused_clearly_and_cheaply(tmp_path):
    data = idx_header((10**9,)) + bytes(60_000)
    outcome, growth = probe(tmp_path, data, "from engine.data.idx import read_idx",
                            f"read_idx({str(tmp_path / 'probe.bin')!r})")
    assert outcome == (f"IdxError: probe.bin: header declares 1000000000 items, more than the limit of "
                       f"{MAX_ELEMENTS}"), outcome
    assert growth < REFUSAL_MB


def test_a_plain_header_must_match_the_file_size_before_anything_is_read(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(idx_header((50_000_000,)) + bytes(60_000))
    with pytest.raises(IdxError, match=r"header says 50000000 = 50000000 bytes but the file holds 60000$"):
        read_idx(path)


def test_a_gzip_header_may_not_claim_more_than_deflate_can_hold(tmp_path):
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(idx_header((90_000, 28, 28)) + bytes(1000)))
    with pytest.raises(IdxError, match=r"header says 90000x28x28 = 70560000 bytes, more than a \d+-byte gzip"):
        read_idx(path)


def test_a_gzip_that_holds_more_than_its_header_says_is_read_only_one_byte_past_the_claim(tmp_path):
    data = gzip.compress(idx_header((1000,)) + bytes(300_000_000), compresslevel=1)  # 300 MB of zeros
    assert len(data) < 2_000_000
    outcome, growth = probe(tmp_path, data, "from engine.data.idx import read_idx",
                            f"read_idx({str(tmp_path / 'probe.bin')!r})")
    assert outcome == "IdxError: probe.bin: header says 1000 = 1000 bytes but the file holds more than 1000"
    assert growth < REFUSAL_MB


def test_a_gzip_that_holds_less_than_its_header_says_grows_only_with_its_data(tmp_path):
    data = gzip.compress(idx_header((60_000, 28, 28)) + os.urandom(5_000_000))  # claims 47 MB, holds 5 MB
    outcome, growth = probe(tmp_path, data, "from engine.data.idx import read_idx",
                            f"read_idx({str(tmp_path / 'probe.bin')!r})")
    assert outcome == "IdxError: probe.bin: header says 60000x28x28 = 47040000 bytes but the file holds 5000000"
    assert growth < 40  # the claim's 47 MB was never allocated


def test_the_cli_reports_a_hostile_idx_folder_in_one_line(tmp_path):
    folder = mnist_folder(tmp_path / "mnist")
    (folder / "train-labels-idx1-ubyte").write_bytes(idx_header((10**9,)) + bytes(12))
    line = one_error_line(cli("train", "--dataset", f"idx:{folder}", "--epochs", "1", "--out", tmp_path / "m.pt"))
    assert line == ("error: train-labels-idx1-ubyte: header declares 1000000000 items, more than the limit of "
                    f"{MAX_ELEMENTS}")
    assert not (tmp_path / "m.pt").exists()


# ---------------------------------------------------------------- IDX folders: no paths, allowed roots (item 7)


def mnist_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"train-images-idx3-ubyte": np.zeros((12, 28, 28), np.uint8), "train-labels-idx1-ubyte":
              np.arange(12, dtype=np.uint8) % 10, "t10k-images-idx3-ubyte": np.zeros((5, 28, 28), np.uint8),
              "t10k-labels-idx1-ubyte": np.arange(5, dtype=np.uint8)}
    for name, array in arrays.items():
        (folder / name).write_bytes(idx_header(array.shape) + array.tobytes())
    return folder


@pytest.mark.parametrize("folder", ["/etc/passwd", "/no/such/folder", "/etc", "~root", "a\0b", "../../../.."])
def test_an_idx_folder_message_never_echoes_a_path_or_tells_whether_it_exists(folder, monkeypatch):
    monkeypatch.delenv("PLAYGROUND_IDX_ROOTS", raising=False)
    with pytest.raises(IdxError) as err:
        load_dataset(f"idx:{folder}")
    assert str(err.value) == "no MNIST files found in that folder"  # the same words for every case


def test_allowed_roots_limit_idx_folders_and_symbolic_links_cannot_leave_them(tmp_path, monkeypatch):
    inside, outside = mnist_folder(tmp_path / "data" / "mnist"), mnist_folder(tmp_path / "elsewhere")
    (tmp_path / "data" / "link").symlink_to(outside)
    monkeypatch.setenv("PLAYGROUND_IDX_ROOTS", f"{tmp_path / 'data'}{os.pathsep}/srv/mnist")
    assert len(load_idx_folder(inside)[0]) == 12
    for folder in (outside, tmp_path / "data" / "link", tmp_path / "data" / "mnist" / ".." / ".." / "elsewhere"):
        with pytest.raises(IdxError, match="^no MNIST files found in that folder$"):
            load_idx_folder(folder)
    (inside / "train-images-idx3-ubyte").unlink()
    (inside / "train-images-idx3-ubyte").symlink_to(outside / "train-images-idx3-ubyte")  # a file leading out
    with pytest.raises(IdxError, match="^no file train-images-idx3-ubyte"):
        load_idx_folder(inside)
    for off in ("", "off"):
        monkeypatch.setenv("PLAYGROUND_IDX_ROOTS", off)
        with pytest.raises(IdxError, match="^this server does not read IDX folders"):
            load_dataset(f"idx:{outside}")


def test_the_cli_obeys_the_allowed_roots(tmp_path):
    folder = mnist_folder(tmp_path / "mnist")
    refused = cli("train", "--dataset", f"idx:{folder}", "--out", tmp_path / "m.pt",
                  env={"PLAYGROUND_IDX_ROOTS": "/srv"})
    assert one_error_line(refused) == "error: no MNIST files found in that folder"
    allowed = cli("train", "--dataset", f"idx:{folder}", "--layers", "4", "--epochs", "1", "--val-fraction", "0.2",
                  "--out", tmp_path / "m.pt", "--json", env={"PLAYGROUND_IDX_ROOTS": str(tmp_path)})
    assert allowed.returncode == 0, allowed.stderr
    assert (tmp_path / "m.pt").is_file()


# ---------------------------------------------------------------- train --out (item 5)


TRAIN_FAST = ["train", "--dataset", "moons", "--layers", "4", "--epochs", "1"]


def test_train_refuses_a_device_before_training_and_leaves_it_alone():
    before = os.stat("/dev/null")
    result = cli(*TRAIN_FAST, "--out", "/dev/null", "--json")
    assert one_error_line(result) == ("error: /dev/null is not a regular file (a device, pipe or socket); "
                                      "name a new file or a model file to replace")
    assert result.stdout == ""  # refused before the first epoch
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


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


def test_save_itself_refuses_a_folder_and_makes_a_new_folder(tmp_path):
    """save() checks the target too (again just before its rename): the target may change while a model trains."""
    (tmp_path / "became-a-folder").mkdir()
    with pytest.raises(CheckpointError, match="is a folder"):
        save(build_model(NetworkSpec(hidden=(4,))), tmp_path / "became-a-folder")
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".write-test-*"))
    save(build_model(NetworkSpec(hidden=(4,))), tmp_path / "new" / "model.pt")  # a new file in a new folder
    assert (tmp_path / "new" / "model.pt").is_file()


# ---------------------------------------------------------------- predict (item 6)


def test_predict_lists_every_file_and_exits_2_when_any_fails(tmp_path):
    good, broken, missing = tmp_path / "good.png", tmp_path / "broken.png", tmp_path / "missing.png"
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255
    good.write_bytes(png(digit))
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


def test_predict_with_a_model_of_the_wrong_input_size_says_so(tmp_path):
    moons = tmp_path / "moons.pt"
    save(build_model(NetworkSpec(input_size=2, hidden=(8,), output_size=2)), moons)
    image = tmp_path / "digit.png"
    image.write_bytes(png(np.zeros((28, 28), np.uint8)))
    result = cli("predict", "--model", moons, image, "--json")
    assert one_error_line(result) == ("error: this model reads 2 inputs, not a 28x28 image (784 pixels): "
                                      "use a model trained on MNIST-style digits")
    assert result.stdout == ""
