"""Save and load models safely: {"format": 1, "spec": {...}, "state_dict": {...}}, never unpickling code."""
from __future__ import annotations

import errno
import io
import math
import os
import pickle
import re
import stat
import tempfile
import warnings
import zipfile
from pathlib import Path

import torch

from ..text import _
from .model import Net, build_model
from .spec import NetworkSpec, SpecError

FORMAT = 1
MAX_CHECKPOINT_BYTES = 50_000_000  # a 1024-wide 50-layer MLP is ~200 MB; the app's upload limit is stricter
MAX_ENTRIES = 1000  # files in the archive: one per tensor plus a handful (a 50-layer conv net has ~110)
MAX_PICKLE_BYTES = 1_000_000  # the archive's data.pkl: a few KB of names, spec and metrics
BYTES_PER_PARAMETER = 4  # the app saves float32: a file of max_bytes holds at most max_bytes / 4 parameters


class CheckpointError(ValueError):
    """A file that is not a checkpoint of this app, with the reason."""


def _plain_dict(name: str, value) -> None:
    """An optional entry holding a dict of plain values."""
    if not isinstance(value, dict):
        raise CheckpointError(_("the checkpoint's {name} entry must be a dict, got {kind}").format(
            name=name, kind=type(value).__name__))


def _calibration(name: str, value) -> None:
    """The calibration entry: a dict whose temperature T is a positive finite number."""
    _plain_dict(name, value)
    temperature = value.get("temperature")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not math.isfinite(temperature) or temperature <= 0:
        raise CheckpointError(_("the checkpoint's calibration temperature must be a positive number, "
                                "got {value!r}").format(value=temperature))


# Entries stored beside the spec, each with its check: one more optional entry is one more line here.
OPTIONAL_KEYS = {
    "train": _plain_dict,  # how it was trained (a TrainSpec dict)
    "metrics": _plain_dict,  # how it scored (the last epoch's row)
    "calibration": _calibration,  # {"temperature": T > 0, ...}: softmax(z / T) matches the accuracy
}


def to_bytes(model: Net, train: dict | None = None, metrics: dict | None = None,
             calibration: dict | None = None) -> bytes:
    """The checkpoint as bytes (for a download button)."""
    payload = {"format": FORMAT, "spec": model.spec.to_dict(),
               "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()}}
    if train is not None:
        payload["train"] = train
    if metrics is not None:
        payload["metrics"] = metrics
    if calibration is not None:  # {"temperature": T, ...} from engine/train/calibration.py
        payload["calibration"] = calibration
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def check_target(path: str | Path, make_folder: bool = False) -> Path:
    """Refuse a save target that is not a new or regular file in a writable folder; returns the path.

    Called before training (nothing is lost to a bad --out) and again just before the rename. Only save() makes
    missing folders (make_folder): a run refused or stopped after this check leaves no empty folders behind, so
    before training the nearest folder that exists is the one tested for writing.
    """
    path = Path(path)
    try:
        info = path.lstat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise CheckpointError(f"cannot save to {path}: {exc.strerror or exc}") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise CheckpointError(f"{path} is a folder; name a file such as {path / 'model.pt'}")
        if stat.S_ISLNK(info.st_mode):
            raise CheckpointError(f"{path} is a symbolic link; name the file it points to, or a new file")
        if not stat.S_ISREG(info.st_mode):
            raise CheckpointError(f"{path} is not a regular file (a device, pipe or socket); "
                                  "name a new file or a model file to replace")
    folder = path.parent
    try:
        if make_folder:
            folder.mkdir(parents=True, exist_ok=True)
        else:
            while not folder.exists() and folder != folder.parent:  # the folder save() would make its folders in
                folder = folder.parent
            if not folder.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)  # the only sure test, even as root
    except OSError as exc:
        raise CheckpointError(f"cannot save to {path}: {exc.strerror or exc}") from None
    os.close(fd)
    os.unlink(probe)
    return path


def save(model: Net, path: str | Path, train: dict | None = None, metrics: dict | None = None,
         calibration: dict | None = None) -> None:
    """Write atomically: a temporary file in the same folder, then rename over the target (a regular file)."""
    path = check_target(path, make_folder=True)
    data = to_bytes(model, train, metrics, calibration)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; a saved model is an ordinary file
        check_target(path)  # again: the target may have changed while we trained
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def from_bytes(data: bytes, max_bytes: int = MAX_CHECKPOINT_BYTES) -> tuple[Net, dict]:
    """Load a checkpoint; returns the model (eval mode) and the whole payload. Raises CheckpointError.

    Every check that bounds memory runs before the step it protects: the archive's entry sizes before
    torch.load, the description's parameter count before any shape is compared, every tensor's shape
    before a tensor is read or the model is built.
    """
    if len(data) > max_bytes:
        raise CheckpointError(_("the file is {size:.1f} MB; the limit is {limit:.0f} MB").format(
            size=len(data) / 1e6, limit=max_bytes / 1e6))
    _check_archive(data, max_bytes)
    try:
        # weights_only: only tensors and plain containers are rebuilt; any other object is refused. Rebuilding a
        # sparse CSR tensor warns "support is in beta state" on stderr: _validate refuses it in its own words.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(_("refused: the file contains Python objects other than tensors and plain "
                                "values, which this app never loads ({detail})").format(
                                    detail=str(exc).splitlines()[0][:200])) from None
    except Exception as exc:  # corrupted archive, truncated file, a zip inside a zip, entries outside its folder
        raise CheckpointError(_("the checkpoint could not be read: {kind}: {detail}").format(
            kind=type(exc).__name__, detail=_reader_detail(exc) or _("corrupted file"))) from None
    return _validate(payload, max_bytes), payload


# PyTorch's archive reader ends some messages with a request to report them ("(Could this error message be
# improved? If so, please report an enhancement request to PyTorch.)") and starts others with a source location
# ("[enforce fail at inline_container.cc:180] ."): neither helps someone whose file was refused.
_TORCH_NOISE = re.compile(r"\s*\(Could this error message be improved\?.*$|^\s*\[enforce fail at [^\]]*\]\s*\.?\s*")


def _reader_detail(exc: Exception) -> str:
    """The first line of a reader's error, without PyTorch's report request, at most 200 characters."""
    lines = str(exc).strip().splitlines()
    return _TORCH_NOISE.sub("", lines[0]).strip()[:200] if lines else ""


def load(path: str | Path, max_bytes: int = MAX_CHECKPOINT_BYTES) -> tuple[Net, dict]:
    """Load a checkpoint file (see from_bytes)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(_("no checkpoint file at {path}").format(path=path))
    if path.stat().st_size > max_bytes:
        raise CheckpointError(_("{path} is {size:.1f} MB; the limit is {limit:.0f} MB").format(
            path=path, size=path.stat().st_size / 1e6, limit=max_bytes / 1e6))
    return from_bytes(path.read_bytes(), max_bytes)


def _check_archive(data: bytes, max_bytes: int) -> None:
    """Read the zip's directory only: refuse archives that would unpack to more than max_bytes."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise CheckpointError(_("this is not a checkpoint saved by this app (not a PyTorch zip archive)")) from None
    if len(entries) > MAX_ENTRIES:
        raise CheckpointError(_("the archive holds {count} files; a checkpoint has at most {most}").format(
            count=len(entries), most=MAX_ENTRIES))
    unpacked = sum(e.file_size for e in entries)  # torch's reader allocates exactly these sizes
    if unpacked > max_bytes:
        raise CheckpointError(_("the archive unpacks to {size:.1f} MB; the limit is {limit:.0f} MB").format(
            size=unpacked / 1e6, limit=max_bytes / 1e6))
    for e in entries:
        if e.compress_type != zipfile.ZIP_STORED and e.file_size > 100 * max(e.compress_size, 1) + 10_000:
            ratio = e.file_size // max(e.compress_size, 1)
            raise CheckpointError(_("the archive entry {entry} expands {ratio}-fold; "
                                    "this app never compresses checkpoints").format(entry=e.filename[:80], ratio=ratio))
        if e.filename.endswith("data.pkl") and e.file_size > MAX_PICKLE_BYTES:
            raise CheckpointError(_("the checkpoint's description is {size:.1f} MB; the limit is {limit:.0f} MB")
                                  .format(size=e.file_size / 1e6, limit=MAX_PICKLE_BYTES / 1e6))


def parameter_shapes(spec: NetworkSpec) -> dict[str, tuple[int, ...]]:
    """The state_dict's names and shapes for a spec, by arithmetic (what model.Net builds; nothing allocated)."""
    shapes: dict[str, tuple[int, ...]] = {}
    channels, n_in = 1, spec.input_size
    if spec.conv:
        height, width = spec.image_shape
        for i, out_channels in enumerate(spec.conv):
            shapes[f"convs.{i}.weight"] = (out_channels, channels, 5, 5)  # 5x5 kernels, padding 2
            shapes[f"convs.{i}.bias"] = (out_channels,)
            channels, height, width = out_channels, height // 2, width // 2  # 2x2 pooling
        n_in = channels * height * width
    sizes = (n_in,) + spec.widths
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes[f"linears.{i}.weight"] = (b, a)  # W^l: (n_l, n_(l-1))
        shapes[f"linears.{i}.bias"] = (b,)
    return shapes


def parameter_count(spec: NetworkSpec) -> int:
    """Number of weights and biases the spec describes (Python ints: no overflow)."""
    return sum(math.prod(shape) for shape in parameter_shapes(spec).values())


def _validate(payload, max_bytes: int = MAX_CHECKPOINT_BYTES) -> Net:
    """Check the format, the optional entries, the spec, its size and every tensor's shape; then build the model."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(_("not a checkpoint of format {format} (found format {found!r})").format(
            format=FORMAT, found=found))
    unknown = set(payload) - {"format", "spec", "state_dict"} - set(OPTIONAL_KEYS)
    if unknown:
        raise CheckpointError(_("unexpected entries in the checkpoint: {names}").format(
            names=", ".join(sorted(map(str, unknown)))))
    for key, check in OPTIONAL_KEYS.items():
        if key in payload:
            check(key, payload[key])
    try:
        spec = NetworkSpec.from_dict(payload.get("spec"))
    except SpecError as exc:
        raise CheckpointError(_("the checkpoint's network description is invalid: {error}").format(error=exc)) from None
    n_params, limit = parameter_count(spec), max_bytes // BYTES_PER_PARAMETER
    if n_params > limit:
        raise CheckpointError(_("the network {network} has {count:,} parameters; the limit is {limit:,}").format(
            network=spec.describe(), count=n_params, limit=limit))
    state = payload.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(_("the checkpoint's state_dict must map names to tensors"))
    expected = parameter_shapes(spec)
    if set(state) != set(expected):
        missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
        raise CheckpointError(_("the weights do not match the network {network}: "
                                "missing {missing}, unexpected {unexpected}").format(
                                    network=spec.describe(), missing=missing[:5],
                                    unexpected=[str(k)[:40] for k in extra[:5]]))
    for name, tensor in state.items():  # kinds first: no operation runs on a sparse, meta or float8 tensor
        _check_kind(name, tensor)
    for name, tensor in state.items():  # shapes next: a stride-0 tensor may claim far more than it stores
        if tuple(tensor.shape) != expected[name]:
            raise CheckpointError(_("{name} has shape {shape} but the network needs {needed}").format(
                name=name, shape=tuple(tensor.shape), needed=expected[name]))
    weights = {}
    for name, tensor in state.items():  # as float32, the model's type: a float64 1e300 becomes inf here
        weights[name] = tensor.to(torch.float32, memory_format=torch.contiguous_format).clone()
        if not torch.isfinite(weights[name]).all():
            raise CheckpointError(_("{name} holds non-numeric, NaN or infinite values").format(name=name))
    model = _build(spec, weights)
    _check_forward(model, weights)
    return model


# The tensor types a checkpoint may hold: this app saves float32; half, bfloat16 and double convert exactly or
# to the nearest float32. Everything else (integers, bool, complex, float8, quantized) is refused by name.
WEIGHT_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.float64)


def _check_kind(name: str, tensor: torch.Tensor) -> None:
    """Refuse, before any operation on it, a tensor that is not dense, on the CPU and of a WEIGHT_DTYPES type.

    torch.load(weights_only=True) rebuilds sparse (COO, CSR, CSC, BSR, BSC), meta and float8 tensors, on which
    isfinite, clone or a matrix product raise NotImplementedError or RuntimeError instead of a CheckpointError.
    """
    if tensor.layout != torch.strided:
        raise CheckpointError(_("the checkpoint holds a sparse tensor ({name}, layout {layout}); "
                                "this app saves dense tensors only").format(
                                    name=name, layout=str(tensor.layout).removeprefix("torch.")))
    if tensor.device.type != "cpu":  # map_location="cpu" moves real tensors; a meta tensor has no values to move
        raise CheckpointError(_("the checkpoint holds a {device} tensor ({name}), which has a shape but no "
                                "values").format(device=tensor.device.type, name=name))
    if tensor.dtype not in WEIGHT_DTYPES:
        raise CheckpointError(_("the checkpoint holds a tensor of type {dtype} ({name}); weights must be "
                                "float32 (float16, bfloat16 and float64 are converted)").format(
                                    dtype=str(tensor.dtype).removeprefix("torch."), name=name))


def _check_forward(model: Net, weights: dict[str, torch.Tensor]) -> None:
    """Refuse finite weights whose forward pass overflows (e.g. |w| = 3e38): every prediction would be NaN.

    Two inputs, a blank one and uniform noise in [0, 1) like pixels, from a private generator (the global RNG
    is not moved); in eval mode, so dropout is off.
    """
    generator = torch.Generator().manual_seed(0)
    x = torch.cat([torch.zeros(1, model.spec.input_size),
                   torch.rand(1, model.spec.input_size, generator=generator)])
    with torch.no_grad():
        z = model(x)  # (2, n_L) output pre-activations
    if not torch.isfinite(z).all():
        largest = max(float(w.abs().max()) for w in weights.values() if w.numel())
        raise CheckpointError(_("the weights are too large for arithmetic: a forward pass overflows to infinity "
                                "or NaN (the largest |w| is {largest:.3g})").format(largest=largest))


def _build(spec: NetworkSpec, state: dict[str, torch.Tensor]) -> Net:
    """The network with the checkpoint's validated tensors as its weights, in eval mode.

    Built on the CPU, not under `with torch.device("meta")`: Net's normal_ init on meta tensors runs torch._refs,
    which imports torch._dynamo (1.3 s and 70 MB per process). The throwaway init costs at most max_bytes, the
    bound parameter_count was checked against; fork_rng: nn.Linear's own init must not move the global RNG.
    """
    with torch.random.fork_rng(devices=()):
        model = build_model(spec)
    model.load_state_dict(state, assign=True)  # state: float32 contiguous copies (_validate made them)
    model.eval()
    return model


