"""Confidence that means what it says: temperature scaling (Guo et al., 2017) and the expected calibration error.

A network trained with cross-entropy keeps pushing z^L of the right digit up long after it reads the
training digits correctly, so on digits unlike its training set it is too sure. Temperature scaling
divides the output layer's z^L by one number T > 0 before the softmax, a^L = softmax(z^L / T), with T
fitted on validation data by minimising the negative log-likelihood. T > 1 softens every answer,
T < 1 sharpens it; the predicted digit never changes (z / T keeps the order of z).

Run `python -m engine.train.calibration MODEL.pt --dataset mnist5k+pendigits` to fit T on a dataset's
validation split and store it in the checkpoint.
"""
from __future__ import annotations

import argparse
import math
import sys
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..nn.model import Net

BINS = 10  # equal-width confidence bins for the ECE, as in Guo et al.
LOG_T_RANGE = (math.log(0.05), math.log(20.0))  # T searched in [0.05, 20]
GOLDEN = (math.sqrt(5) - 1) / 2
# The Draw page says "Not sure: 1 or 2?" when the calibrated top probability is under this. Measured
# by bench/handwriting.py on the default model's 2,500 validation digits (mnist5k and pendigits together)
# after calibration: the 58 answers under 70 % were right 60 % of the time (bins 0.4-0.7: 58-67 %), the rest
# 98.9 % (0.7-0.8: 78 %, 0.9-1: 99.7 %). Under 70 %, about two answers in five are wrong: name two digits.
# The figures are stored with T in the checkpoint (accuracy_below / accuracy_above) so the page quotes them.
UNSURE_BELOW = 0.7


# ---------------------------------------------------------------- z^L, softmax with a temperature, NLL


@torch.no_grad()
def logits(model: Net, x: np.ndarray, batch: int = 500) -> np.ndarray:
    """z^L of the output layer for (n, d) inputs, in eval mode: (n, classes) float64."""
    was_training = model.training
    model.eval()
    try:
        rows = [model(torch.tensor(x[i:i + batch], dtype=torch.float32)) for i in range(0, len(x), batch)]
    finally:
        model.train(was_training)
    return torch.cat(rows).double().numpy()


def softmax(z: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """a^L = softmax(z^L / T) along the last axis."""
    s = np.asarray(z, dtype=np.float64) / temperature
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def soften(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(z / T) from a = softmax(z): log a = z - log Σ e^z, and the constant cancels in the softmax."""
    if temperature == 1.0:
        return np.asarray(probs, dtype=np.float32)
    log_a = np.log(np.maximum(np.asarray(probs, dtype=np.float64), np.finfo(np.float64).tiny))
    return softmax(log_a, temperature).astype(np.float32)


def nll(z: np.ndarray, y: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood -ln a_y of the true digits under softmax(z / T)."""
    s = np.asarray(z, dtype=np.float64) / temperature
    top = s.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(s - top).sum(axis=1))
    return float(np.mean(log_norm - s[np.arange(len(y)), y]))


def fit_temperature(z: np.ndarray, y: np.ndarray, tol: float = 1e-5) -> float:
    """The T > 0 minimising the validation NLL: golden-section search on log T in [0.05, 20].

    The NLL is convex in 1/T (a log-sum-exp of a linear function minus a linear one), so it has one
    minimum along log T and golden-section search finds it.
    """
    z, y = np.asarray(z, dtype=np.float64), np.asarray(y, dtype=np.int64)
    if z.ndim != 2 or len(z) != len(y) or len(y) == 0:
        raise ValueError(f"need (n, classes) z^L and n labels, got {z.shape} and {y.shape}")
    lo, hi = LOG_T_RANGE
    a, b = hi - GOLDEN * (hi - lo), lo + GOLDEN * (hi - lo)
    fa, fb = nll(z, y, math.exp(a)), nll(z, y, math.exp(b))
    while hi - lo > tol:
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - GOLDEN * (hi - lo)
            fa = nll(z, y, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + GOLDEN * (hi - lo)
            fb = nll(z, y, math.exp(b))
    return math.exp((lo + hi) / 2)


# ---------------------------------------------------------------- how well confidence matches accuracy


@dataclass(frozen=True, eq=False)
class Reliability:
    """Predictions grouped by confidence into BINS equal-width bins (Guo et al.'s reliability diagram)."""

    edges: np.ndarray  # (BINS + 1,) 0, 0.1, ..., 1
    count: np.ndarray  # (BINS,) predictions whose top probability falls in the bin
    accuracy: np.ndarray  # (BINS,) share of them that were right (NaN for an empty bin)
    confidence: np.ndarray  # (BINS,) their mean top probability (NaN for an empty bin)

    @property
    def ece(self) -> float:
        """Expected calibration error: Σ_bins (n_b / n) |accuracy_b - confidence_b|."""
        full = self.count > 0
        gaps = np.abs(self.accuracy[full] - self.confidence[full])
        return float((self.count[full] * gaps).sum() / self.count.sum())


def reliability(probs: np.ndarray, y: np.ndarray, bins: int = BINS) -> Reliability:
    """Bin (n, classes) probabilities by their top value; a confidence of exactly 1 goes in the last bin."""
    probs, y = np.asarray(probs, dtype=np.float64), np.asarray(y)
    top = probs.max(axis=1)
    right = probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, top, side="right") - 1, 0, bins - 1)  # [lo, hi) bins, 1.0 in the last
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.bincount(which, weights=right, minlength=bins) / count
        confidence = np.bincount(which, weights=top, minlength=bins) / count
    return Reliability(edges, count, accuracy, confidence)


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = BINS) -> float:
    return reliability(probs, y, bins).ece


def accuracy_below(probs: np.ndarray, y: np.ndarray, threshold: float) -> tuple[float, int]:
    """(accuracy, count) of the predictions whose top probability is under `threshold`."""
    probs = np.asarray(probs)
    unsure = probs.max(axis=1) < threshold
    n = int(unsure.sum())
    return (float((probs[unsure].argmax(axis=1) == np.asarray(y)[unsure]).mean()) if n else math.nan), n


# ---------------------------------------------------------------- one checkpoint's temperature


def temperature_of(payload: dict | None, model: Net) -> float:
    """T stored in a checkpoint's payload, 1 when there is none or the outputs are not a softmax."""
    if model.spec.output_activation != "softmax" or not isinstance(payload, dict):
        return 1.0
    entry = payload.get("calibration")
    return float(entry["temperature"]) if isinstance(entry, dict) and "temperature" in entry else 1.0


@dataclass(frozen=True)
class Calibration:
    """T fitted on a validation set, and how well calibrated the model was before and after."""

    temperature: float
    dataset: str  # the validation data T was fitted on
    samples: int
    nll_before: float
    nll_after: float
    ece_before: float
    ece_after: float
    unsure_below: float = UNSURE_BELOW  # the Draw page's "Not sure" threshold on the calibrated top probability
    accuracy_below: float = math.nan  # share right among calibrated answers under it (NaN: none were)
    count_below: int = 0  # how many validation answers fell under it
    accuracy_above: float = math.nan  # share right among the others

    def to_dict(self) -> dict:
        return asdict(self)


def calibrate(model: Net, x: np.ndarray, y: np.ndarray, dataset: str) -> Calibration:
    """Fit T on (x, y) by minimising the NLL; report the NLL and ECE at T = 1 and at T."""
    if model.spec.output_activation != "softmax":
        raise ValueError("temperature scaling needs softmax outputs (a network trained with the ce loss)")
    z = logits(model, x)
    t = fit_temperature(z, y)
    calibrated = softmax(z, t)
    below, n_below = accuracy_below(calibrated, y, UNSURE_BELOW)
    above = calibrated.max(axis=1) >= UNSURE_BELOW
    above_acc = float((calibrated[above].argmax(axis=1) == y[above]).mean()) if above.any() else math.nan
    return Calibration(t, dataset, len(y), nll(z, y), nll(z, y, t), expected_calibration_error(softmax(z), y),
                       expected_calibration_error(calibrated, y), UNSURE_BELOW, below, n_below, above_acc)


def main(argv: list[str] | None = None) -> int:
    """python -m engine.train.calibration MODEL.pt [--dataset NAME]: fit T and store it in the checkpoint."""
    from ..nn.checkpoint import CheckpointError, load, save
    from ..data.datasets import load_dataset

    parser = argparse.ArgumentParser(prog="python -m engine.train.calibration", description=main.__doc__)
    parser.add_argument("model", help="checkpoint to calibrate (rewritten in place)")
    parser.add_argument("--dataset", default="mnist5k", help="fit T on this dataset's validation split")
    args = parser.parse_args(argv)
    try:
        model, payload = load(args.model)
        data = load_dataset(args.dataset)
        result = calibrate(model, data.x_val, data.y_val, args.dataset)
    except (CheckpointError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    save(model, args.model, train=payload.get("train"), metrics=payload.get("metrics"),
         calibration=result.to_dict())
    print(f"T = {result.temperature:.4f} on {result.samples} {args.dataset} validation digits: "
          f"NLL {result.nll_before:.4f} -> {result.nll_after:.4f}, ECE {result.ece_before:.4f} -> "
          f"{result.ece_after:.4f}; under {UNSURE_BELOW:.0%} ('Not sure'): {result.count_below} answers, "
          f"{result.accuracy_below:.1%} right, the rest {result.accuracy_above:.2%}; saved {args.model}")
    return 0


__all__ = ["BINS", "UNSURE_BELOW", "Calibration", "Reliability", "accuracy_below", "calibrate", "expected_calibration_error",
           "fit_temperature", "logits", "nll", "reliability", "soften", "softmax", "temperature_of"]


if __name__ == "__main__":
    sys.exit(main())
