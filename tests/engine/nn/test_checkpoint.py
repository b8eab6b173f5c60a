"""engine.nn.checkpoint: the round trip keeps everything, and every file that is not one of our checkpoints is
refused with its reason; hostile ones (issue 16) before they cost memory, measured in a fresh process."""
import io
import os
import pickle
import struct
import zipfile
from pathlib import Path

import pytest
import torch

from engine.nn.checkpoint import (MAX_CHECKPOINT_BYTES, CheckpointError, check_target, from_bytes, load,
                                  parameter_count, parameter_shapes, save, to_bytes)
from engine.nn.model import build_model
from engine.nn.spec import NetworkSpec
from tests.memory import BOUND_MB, REFUSAL_MB, probe

LOADER = "from engine.nn.checkpoint import from_bytes"


# ---------------------------------------------------------------- hostile checkpoints (also fed to the CLI)

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
    """Issue 16's 1.8 KB file: input 100000, conv 128,128,128, 50 hidden layers of 1024, 1000 outputs."""
    spec = {"input_size": 100_000, "hidden": [1024] * 50, "activations": ["relu"] * 50, "output_size": 1000,
            "init": "he", "loss": "ce", "dropout": 0.0, "regression": False, "conv": [128, 128, 128],
            "pool": "max", "image_shape": [250, 400]}
    buffer = io.BytesIO()
    torch.save({"format": 1, "spec": spec, "state_dict": {}}, buffer)
    return buffer.getvalue()


def exotic(kind: str) -> bytes:
    """A real checkpoint whose first weight matrix is a tensor kind torch.load(weights_only=True) rebuilds
    but no operation of ours handles (issue 26, D9): sparse COO or CSR, meta, float8, integers, complex."""
    payload = payload_of(build_model(NetworkSpec(input_size=4, hidden=(3,), output_size=2)))
    weight = payload["state_dict"]["linears.0.weight"]  # (3, 4)
    payload["state_dict"]["linears.0.weight"] = {
        "sparse_coo": lambda: weight.to_sparse(), "sparse_csr": lambda: weight.to_sparse_csr(),
        "meta": lambda: torch.empty(3, 4, device="meta"), "float8": lambda: weight.to(torch.float8_e4m3fn),
        "int": lambda: (weight * 10).to(torch.int32), "complex": lambda: weight.to(torch.complex64)}[kind]()
    return resaved(payload)


EXOTIC_REFUSALS = {
    "sparse_coo": "the checkpoint holds a sparse tensor (linears.0.weight, layout sparse_coo); "
                  "this app saves dense tensors only",
    "sparse_csr": "the checkpoint holds a sparse tensor (linears.0.weight, layout sparse_csr); "
                  "this app saves dense tensors only",
    "meta": "the checkpoint holds a meta tensor (linears.0.weight), which has a shape but no values",
    "float8": "the checkpoint holds a tensor of type float8_e4m3fn (linears.0.weight); weights must be float32 "
              "(float16, bfloat16 and float64 are converted)",
    "int": "the checkpoint holds a tensor of type int32 (linears.0.weight); weights must be float32 "
           "(float16, bfloat16 and float64 are converted)",
    "complex": "the checkpoint holds a tensor of type complex64 (linears.0.weight); weights must be float32 "
               "(float16, bfloat16 and float64 are converted)",
}


def huge_weights(value: float = 3e38) -> bytes:
    """A 784-16-10 checkpoint with every weight `value`: finite, but z^1 overflows float32 (issue 26, D13)."""
    payload = payload_of(build_model(NetworkSpec(hidden=(16,))))
    for name, tensor in payload["state_dict"].items():
        payload["state_dict"][name] = torch.full_like(tensor, value) if name.endswith("weight") else tensor
    return resaved(payload)


def resaved(payload: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def payload_of(model) -> dict:
    """A real checkpoint's payload, to be tampered with."""
    return torch.load(io.BytesIO(to_bytes(model)), weights_only=True)


# ---------------------------------------------------------------- round trip and refusals


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


def test_loading_leaves_the_global_random_state_alone():
    """The network is built on the CPU before the checkpoint's weights replace its own: nn.Linear's init draws
    from the global generator, which a load must not move (a seeded run after loading stays reproducible)."""
    data = to_bytes(build_model(NetworkSpec(hidden=(16,)), seed=4))
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    loaded, _payload = from_bytes(data)
    assert torch.equal(torch.rand(3), expected)
    assert not loaded.training and all(p.device.type == "cpu" for p in loaded.parameters())


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/pwned_by_checkpoint",))


def test_a_pickle_payload_is_refused_and_never_run(tmp_path):
    marker = Path("/tmp/pwned_by_checkpoint")
    marker.unlink(missing_ok=True)
    with pytest.raises(CheckpointError, match="refused"):
        from_bytes(resaved({"format": 1, "spec": NetworkSpec().to_dict(), "state_dict": {}, "x": Evil()}))
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
    payload = payload_of(build_model(NetworkSpec(hidden=(16,))))
    mutate(payload)
    with pytest.raises(CheckpointError, match=message):
        from_bytes(resaved(payload))


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


@pytest.mark.hostile
def test_checkpoint_with_the_other_entries_and_a_calibration_loads_and_a_bad_one_is_refused():
    model = build_model(NetworkSpec(hidden=(8,)))
    payload = torch.load(io.BytesIO(to_bytes(model, train={"lr": 0.1})), weights_only=True)
    for calibration, ok in [({"temperature": 1.7, "ece": 0.02}, True), ({"temperature": 0.0}, False),
                            ({"temperature": float("nan")}, False), ({"temperature": "hot"}, False), (3, False)]:
        payload["calibration"] = calibration
        if ok:
            loaded, back = from_bytes(resaved(payload))
            assert back["calibration"]["temperature"] == 1.7
            assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values()))
        else:
            with pytest.raises(CheckpointError, match="calibration"):
                from_bytes(resaved(payload))


@pytest.mark.hostile
@pytest.mark.parametrize("spec", [NetworkSpec(), NetworkSpec(hidden=(5, 3), conv=(4, 6), pool="avg"),
                                  NetworkSpec(input_size=2, hidden=(), output_size=2),
                                  NetworkSpec(input_size=64, hidden=(8,), conv=(2,), image_shape=(8, 8))])
def test_expected_shapes_by_arithmetic_match_the_built_network(spec):
    built = build_model(spec).state_dict()
    assert parameter_shapes(spec) == {name: tuple(t.shape) for name, t in built.items()}
    assert parameter_count(spec) == sum(t.numel() for t in built.values())


# ---------------------------------------------------------------- hostile files: refused before they cost memory


@pytest.mark.hostile
def test_a_compressed_checkpoint_of_a_huge_tensor_is_refused_before_unpacking(tmp_path):
    bomb = zip_bomb(60_000_000)  # 240 MB of zeros in about 1 MB
    assert len(bomb) < 2_000_000
    outcome, growth = probe(tmp_path, bomb, LOADER, "from_bytes(data)")
    assert outcome == "CheckpointError: the archive unpacks to 240.0 MB; the limit is 50 MB", outcome
    assert growth < REFUSAL_MB, f"refusing cost {growth:.0f} MB"


@pytest.mark.hostile
def test_the_giant_description_is_refused_by_its_parameter_count_before_anything_is_built(tmp_path):
    data = giant_description()
    assert len(data) < 3000
    outcome, growth = probe(tmp_path, data, LOADER, "from_bytes(data)")
    assert outcome.startswith("CheckpointError: the network conv 128,128,128 + 100000-1024-")
    assert outcome.endswith(f"parameters; the limit is {MAX_CHECKPOINT_BYTES // 4:,}"), outcome
    assert growth < REFUSAL_MB, f"refusing cost {growth:.0f} MB"
    # the Train page's largest network is more than its 20 MB upload can hold
    twelve_wide = resaved({"format": 1, "spec": NetworkSpec(hidden=(1024,) * 12).to_dict(), "state_dict": {}})
    with pytest.raises(CheckpointError, match="has 12,359,690 parameters; the limit is 5,000,000$"):
        from_bytes(twelve_wide, max_bytes=20_000_000)


@pytest.mark.hostile
def test_a_tensor_claiming_far_more_than_it_stores_is_refused_by_its_shape_before_it_is_read(tmp_path):
    payload = payload_of(build_model(NetworkSpec(hidden=(16,))))
    payload["state_dict"]["linears.0.bias"] = torch.zeros(1).expand(10**9)  # one float, stride 0
    outcome, growth = probe(tmp_path, resaved(payload), LOADER, "from_bytes(data)")
    assert outcome == "CheckpointError: linears.0.bias has shape (1000000000,) but the network needs (16,)", outcome
    assert growth < REFUSAL_MB


@pytest.mark.hostile
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
    outcome, growth = probe(tmp_path, bytes(raw), LOADER, "from_bytes(data)[0].spec.describe()")
    assert outcome == "ok '10-10 none'", outcome  # 400 bytes read; the other 199,999,600 never unpacked
    assert growth < BOUND_MB, f"reading cost {growth:.0f} MB"


# ---------------------------------------------------------------- save: the target is checked


@pytest.mark.hostile
def test_save_itself_refuses_a_folder_and_makes_a_new_folder(tmp_path):
    """save() checks the target too (again just before its rename): the target may change while a model trains."""
    (tmp_path / "became-a-folder").mkdir()
    with pytest.raises(CheckpointError, match="is a folder"):
        save(build_model(NetworkSpec(hidden=(4,))), tmp_path / "became-a-folder")
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".write-test-*"))
    save(build_model(NetworkSpec(hidden=(4,))), tmp_path / "new" / "model.pt")  # a new file in a new folder
    assert (tmp_path / "new" / "model.pt").is_file()


# ---------------------------------------------------------------- tensor kinds and sizes no operation handles


@pytest.mark.hostile
@pytest.mark.parametrize("kind", list(EXOTIC_REFUSALS))
def test_sparse_meta_float8_integer_and_complex_tensors_are_refused_by_kind(kind):
    """Before issue 26 the first four raised NotImplementedError or RuntimeError from isfinite (a traceback on
    the Train page, whose upload shows only CheckpointError's sentence)."""
    with pytest.raises(CheckpointError) as err:
        from_bytes(exotic(kind))
    assert str(err.value) == EXOTIC_REFUSALS[kind]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_half_bfloat16_and_double_weights_load_as_float32(dtype):
    model = build_model(NetworkSpec(hidden=(8,)), seed=2)
    payload = payload_of(model)
    payload["state_dict"] = {k: v.to(dtype) for k, v in payload["state_dict"].items()}
    loaded, _payload = from_bytes(resaved(payload))
    for name, tensor in loaded.state_dict().items():
        assert tensor.dtype == torch.float32 and tensor.is_contiguous()
        assert torch.equal(tensor, payload["state_dict"][name].to(torch.float32))


def test_a_double_too_large_for_float32_is_refused_as_infinite():
    payload = payload_of(build_model(NetworkSpec(hidden=(8,))))
    payload["state_dict"]["linears.1.bias"] = torch.full((10,), 1e300, dtype=torch.float64)  # finite as double
    with pytest.raises(CheckpointError, match=r"^linears.1.bias holds non-numeric, NaN or infinite values$"):
        from_bytes(resaved(payload))


@pytest.mark.hostile
def test_finite_weights_whose_forward_overflows_are_refused():
    """3e38 is a finite float32, but Σ w·x over 784 pixels is not: every prediction would be NaN (D13: the Draw
    page showed "0 · nan% sure" and the CLI printed label 0 with null probabilities)."""
    with pytest.raises(CheckpointError) as err:
        from_bytes(huge_weights(3e38))
    assert str(err.value) == ("the weights are too large for arithmetic: a forward pass overflows to infinity "
                              "or NaN (the largest |w| is 3e+38)")
    model, _payload = from_bytes(huge_weights(1e3))  # large, yet every output is a number: accepted
    assert torch.isfinite(model(torch.rand(5, 784))).all()


@pytest.mark.hostile
def test_pytorchs_report_request_never_reaches_the_message():
    """A zip whose entries lie outside the archive's folder (zip-slip names) or a zip inside a zip."""
    honest = zipfile.ZipFile(io.BytesIO(to_bytes(build_model(NetworkSpec(input_size=4, hidden=(3,), output_size=2)))))
    slip, nested = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(slip, "w") as z:
        for info in honest.infolist():
            z.writestr("../../" + info.filename, honest.read(info))
    with zipfile.ZipFile(nested, "w") as z:
        z.writestr("inner.pt", to_bytes(build_model(NetworkSpec(hidden=(3,)))))
    for data in (slip.getvalue(), nested.getvalue()):
        with pytest.raises(CheckpointError) as err:
            from_bytes(data)
        message = str(err.value)
        assert message.startswith("the checkpoint could not be read: RuntimeError: "), message
        assert "Could this error message be improved" not in message and "enforce fail" not in message, message


@pytest.mark.hostile
def test_checking_a_target_makes_no_folder_and_save_makes_it(tmp_path):
    """The CLI checks --out before training; a run refused or stopped later must leave no empty folders (D14)."""
    target = tmp_path / "x" / "new" / "dir" / "m.pt"
    assert check_target(target) == target
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match=r"^cannot save to .*: Not a directory$"):
        check_target(tmp_path / "file" / "deeper" / "m.pt")
    save(build_model(NetworkSpec(hidden=(4,))), target)
    assert target.is_file()
