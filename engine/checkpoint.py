"""Save and load models safely: {"format": 1, "spec": {...}, "state_dict": {...}}, never unpickling code."""
from __future__ import annotations

import io
import math
import os
import pickle
import tempfile
import zipfile
from pathlib import Path

import torch

from .model import Net, build_model
from .spec import NetworkSpec, SpecError

FORMAT = 1
MAX_CHECKPOINT_BYTES = 50_000_000  # a 1024-wide 50-layer MLP is ~200 MB; the app's upload limit is stricter
OPTIONAL_KEYS = {"train", "metrics", "calibration"}  # plain dicts beside the spec (how trained, scored, calibrated)


class CheckpointError(ValueError):
    """A file that is not a checkpoint of this app, with the reason."""


def to_bytes(model: Net, train: dict | None = None, metrics: dict | None = None,
             calibration: dict | None = None) -> bytes:
    """The checkpoint as bytes (for a download button)."""
    payload = {"format": FORMAT, "spec": model.spec.to_dict(),
               "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()}}
    if train is not None:
        payload["train"] = train
    if metrics is not None:
        payload["metrics"] = metrics
    if calibration is not None:  # {"temperature": T, ...} from engine/calibration.py
        payload["calibration"] = calibration
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return buffer.getvalue()


def save(model: Net, path: str | Path, train: dict | None = None, metrics: dict | None = None,
         calibration: dict | None = None) -> None:
    """Write atomically: a temporary file in the same folder, then rename over the target."""
    path = Path(path)
    data = to_bytes(model, train, metrics, calibration)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; a saved model is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def from_bytes(data: bytes, max_bytes: int = MAX_CHECKPOINT_BYTES) -> tuple[Net, dict]:
    """Load a checkpoint; returns the model (eval mode) and the whole payload. Raises CheckpointError."""
    if len(data) > max_bytes:
        raise CheckpointError(f"the file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise CheckpointError("this is not a checkpoint saved by this app (not a PyTorch zip archive)")
    try:
        # weights_only: only tensors and plain containers are rebuilt; any other object is refused
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError("refused: the file contains Python objects other than tensors and plain "
                              f"values, which this app never loads ({str(exc).splitlines()[0][:200]})") from None
    except Exception as exc:  # corrupted archive, truncated file, ...
        raise CheckpointError(f"the checkpoint could not be read: {type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:200] if str(exc) else 'corrupted file'}") from None
    return _validate(payload), payload


def load(path: str | Path, max_bytes: int = MAX_CHECKPOINT_BYTES) -> tuple[Net, dict]:
    """Load a checkpoint file (see from_bytes)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}")
    if path.stat().st_size > max_bytes:
        raise CheckpointError(f"{path} is {path.stat().st_size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
    return from_bytes(path.read_bytes(), max_bytes)


def _validate(payload) -> Net:
    """Check the format, the spec and every tensor's shape; build the model."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"not a checkpoint of format {FORMAT} (found format {found!r})")
    unknown = set(payload) - {"format", "spec", "state_dict"} - OPTIONAL_KEYS
    if unknown:
        raise CheckpointError(f"unexpected entries in the checkpoint: {', '.join(sorted(map(str, unknown)))}")
    if "calibration" in payload:
        _check_calibration(payload["calibration"])
    try:
        spec = NetworkSpec.from_dict(payload.get("spec"))
    except SpecError as exc:
        raise CheckpointError(f"the checkpoint's network description is invalid: {exc}") from None
    state = payload.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError("the checkpoint's state_dict must map names to tensors")
    model = build_model(spec)
    expected = model.state_dict()
    if set(state) != set(expected):
        missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
        raise CheckpointError(f"the weights do not match the network {spec.describe()}: "
                              f"missing {missing[:5]}, unexpected {extra[:5]}")
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise CheckpointError(f"{name} has shape {tuple(tensor.shape)} but the network needs "
                                  f"{tuple(expected[name].shape)}")
        if not torch.is_floating_point(tensor) or not torch.isfinite(tensor).all():
            raise CheckpointError(f"{name} holds non-numeric, NaN or infinite values")
    model.load_state_dict({k: v.float() for k, v in state.items()})
    model.eval()
    return model


def _check_calibration(entry) -> None:
    """The optional calibration entry: a dict whose "temperature" is a positive finite number."""
    t = entry.get("temperature") if isinstance(entry, dict) else None
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not (math.isfinite(t) and t > 0):
        raise CheckpointError(f"the checkpoint's calibration temperature must be a positive number, got {t!r}")
