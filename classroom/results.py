"""What a student may send: the Result record, its validation (everything bounded), and the refusals.

A payload is a plain dict the page builds from its run:

    {"numbers": {"final_loss": 0.31, "val_acc": 0.91},   # named finite numbers (NUMBERS holds the names)
     "deltas": [3e-4, 0.01, 0.2],                         # mean |δ| per layer, first hidden layer first
     "verdict": "vanishing",                              # engine.views.verdicts.KINDS
     "curve": [2.3, 1.1, 0.6],                            # the loss, thinned with thin() to <= MAX_CURVE points
     "digits": [{"label": 3, "pixels": 28x28 or 784 numbers in [0, 1]}]}   # "collect our digits" only

Each template names the parts and numbers it needs; anything else is refused, nothing is stored.
"""
from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from numbers import Real

import numpy as np

from .templates import Template

# Why a write was refused: ui/ words each kind (English and Chinese); `detail` names the field, never a sentence.
REFUSALS = (
    "bad_number",  # NaN, inf, out of range or not a number
    "too_big",  # a list, string or snapshot over its bound
    "bad_field",  # unknown or missing field, wrong type, bad run id
    "bad_name",  # a display name longer than MAX_NAME after cleaning
    "bad_variant",  # a variant index out of range, or picking in an experiment that assigns
    "rate",  # more than Limits.sends_per_minute results from one student in a minute
    "closed",  # the experiment is closed
    "full",  # the class has Limits.max_students students
    "forged",  # a teacher key that is not this class's
    "expired",  # the class (and its join code) has expired
    "unknown",  # no class with this join code, no such experiment or template
    "not_joined",  # a student token unknown here, or of another class
    "not_yours",  # a run id another student already used in this experiment
)

NUMBERS = {  # name -> (lowest, highest) a result may carry
    "final_loss": (0.0, 1e6), "train_loss": (0.0, 1e6), "val_loss": (0.0, 1e6),
    "train_acc": (0.0, 1.0), "val_acc": (0.0, 1.0),
    "ratio_init": (0.0, 1e300), "ratio_trained": (0.0, 1e300),  # δ¹/δ^L: mean |δ| of first / last hidden layer
    "steps": (0.0, 1e7), "epochs": (0.0, 1e4), "seconds": (0.0, 1e6),
}
DERIVED = {"gap": ("train_acc", "val_acc")}  # name -> (a, b): a - b, computed here, never sent
MAX_DELTAS = 52  # 50 hidden layers + output + one spare
MAX_CURVE = 200
MAX_DIGITS = 30  # three of each digit
PIXELS = 28 * 28
MAX_RUN_ID = 64


class Refused(Exception):
    """A write the store will not do; kind is one of REFUSALS, detail names the field or limit."""

    def __init__(self, kind: str, detail: str = ""):
        assert kind in REFUSALS, kind
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind, self.detail = kind, detail


@dataclass(frozen=True)
class Result:
    """One run's numbers, as stored: what the template needs, never the model."""

    numbers: dict[str, float] = field(default_factory=dict)  # name -> finite value, DERIVED ones included
    deltas: tuple[float, ...] = ()  # mean |δ| per layer, first hidden layer first, output layer last
    verdict: str | None = None  # the gradients verdict's kind
    curve: tuple[float, ...] = ()  # loss over the run, thinned
    labels: tuple[int, ...] = ()  # "collect our digits": the digit each drawing shows
    pixels: bytes = b""  # those drawings, len(labels) x 28 x 28 uint8 (255 = full ink), row-major


def thin(values, points: int = 100) -> list[float]:
    """At most `points` values, evenly spaced, first and last kept (the loss curve a result carries)."""
    values = list(values)
    if len(values) <= points:
        return values
    step = (len(values) - 1) / (points - 1)
    return [values[round(i * step)] for i in range(points)]


def validate(template: Template, payload) -> Result:
    """The clean Result of a payload, or Refused naming the first thing wrong."""
    if not isinstance(payload, dict):
        raise Refused("bad_field", "payload")
    allowed = {"numbers", "deltas", "verdict", "curve", "digits"}
    extra = sorted(str(k)[:40] for k in payload if k not in allowed)
    if extra:
        raise Refused("bad_field", extra[0])
    numbers = _numbers(payload.get("numbers", {}), template)
    deltas = tuple(_series(payload.get("deltas", ()), "deltas", MAX_DELTAS, 0.0, 1e300))
    curve = tuple(_series(payload.get("curve", ()), "curve", MAX_CURVE, 0.0, 1e6))
    verdict = _verdict(payload.get("verdict"))
    labels, pixels = _digits(payload.get("digits", ()))
    held = {"deltas": deltas, "curve": curve, "verdict": verdict, "digits": labels}
    missing = [part for part in template.parts if not held[part]]
    if missing:
        raise Refused("bad_field", missing[0])
    return Result(numbers, deltas, verdict, curve, labels, pixels)


def _numbers(raw, template: Template) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise Refused("bad_field", "numbers")
    if len(raw) > len(NUMBERS):
        raise Refused("too_big", "numbers")
    out = {}
    for name, value in raw.items():
        if name not in NUMBERS:
            raise Refused("bad_field", str(name)[:40])
        out[name] = _number(value, name, *NUMBERS[name])
    for name in template.numbers:
        if name in DERIVED:
            a, b = DERIVED[name]
            if a in out and b in out:
                out[name] = out[a] - out[b]
        if name not in out:
            raise Refused("bad_field", name)
    return out


def _number(value, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise Refused("bad_number", name)
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high:
        raise Refused("bad_number", name)
    return value


def _series(raw, name: str, most: int, low: float, high: float) -> list[float]:
    if isinstance(raw, np.ndarray):
        if raw.size > most:
            raise Refused("too_big", name)
        raw = raw.ravel().tolist()
    if not isinstance(raw, (list, tuple)):
        raise Refused("bad_field", name)
    if len(raw) > most:
        raise Refused("too_big", name)
    return [_number(v, name, low, high) for v in raw]


def _verdict(raw) -> str | None:
    if raw is None:
        return None
    from engine.views.verdicts import KINDS  # the engine's one list; imported here so the store loads no torch
    if not isinstance(raw, str) or raw not in KINDS:
        raise Refused("bad_field", "verdict")
    return raw


def _digits(raw) -> tuple[tuple[int, ...], bytes]:
    if not isinstance(raw, (list, tuple)):
        raise Refused("bad_field", "digits")
    if len(raw) > MAX_DIGITS:
        raise Refused("too_big", "digits")
    labels, images = [], []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"label", "pixels"}:
            raise Refused("bad_field", "digits")
        label = item["label"]
        if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label <= 9:
            raise Refused("bad_field", "label")
        pixels = item["pixels"]
        size = getattr(pixels, "size", None) if isinstance(pixels, np.ndarray) else _nested_len(pixels)
        if size != PIXELS:
            raise Refused("bad_field" if size is not None and size < PIXELS else "too_big", "pixels")
        try:
            arr = np.asarray(pixels, dtype=np.float64).reshape(PIXELS)
        except (TypeError, ValueError):
            raise Refused("bad_number", "pixels") from None
        if not np.isfinite(arr).all() or arr.min() < 0.0 or arr.max() > 1.0:
            raise Refused("bad_number", "pixels")
        labels.append(int(label))
        images.append(np.round(arr * 255.0).astype(np.uint8))
    return tuple(labels), b"".join(image.tobytes() for image in images)


def _nested_len(pixels) -> int | None:
    """How many numbers a 784-list or a 28x28 list of lists holds, counting no deeper (None: neither shape)."""
    if not isinstance(pixels, (list, tuple)):
        return None
    if pixels and isinstance(pixels[0], (list, tuple, np.ndarray)):
        return len(pixels) * len(pixels[0]) if len(pixels) <= 28 else PIXELS + 1
    return len(pixels)


def to_json(result: Result) -> str:
    """The stored body: plain JSON (never NaN: validate refused it), drawings as base64."""
    body = {"numbers": result.numbers, "deltas": result.deltas, "verdict": result.verdict, "curve": result.curve}
    if result.labels:
        body["labels"] = result.labels
        body["pixels"] = base64.b64encode(result.pixels).decode("ascii")
    return json.dumps(body, allow_nan=False, separators=(",", ":"))


def from_json(text: str) -> Result:
    body = json.loads(text)
    return Result(body["numbers"], tuple(body["deltas"]), body["verdict"], tuple(body["curve"]),
                  tuple(body.get("labels", ())), base64.b64decode(body.get("pixels", "")))


__all__ = ["Result", "Refused", "REFUSALS", "NUMBERS", "DERIVED", "validate", "thin", "to_json", "from_json",
           "MAX_CURVE", "MAX_DELTAS", "MAX_DIGITS"]
