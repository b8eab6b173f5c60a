"""Reading real handwriting, and how honest the confidence is: the default model on mnist5k's validation
digits and on the held-out pendigits (real pen-written digits drawn as canvas strokes), accuracy and
expected calibration error (10 equal bins) before (T = 1) and after temperature scaling, side by side.
Targets: mnist5k >= 98 %, pendigits >= 97 %, ECE after <= 0.03 on both.
Usage: python bench/handwriting.py [--model assets/default.pt] [--baseline OLD.pt]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from engine.train.calibration import (UNSURE_BELOW, accuracy_below, expected_calibration_error, logits,  # noqa: E402
                                reliability, softmax, temperature_of)
from engine.data.datasets import load_dataset  # noqa: E402
from engine.nn.checkpoint import load  # noqa: E402

MODEL = Path(__file__).resolve().parent.parent / "assets" / "default.pt"
SETS = ("mnist5k", "pendigits")
TARGET_ACC = {"mnist5k": 0.98, "pendigits": 0.97}
TARGET_ECE = 0.03


def evaluate(path: Path, data) -> dict:
    """Accuracy, ECE at T = 1 and at the checkpoint's T, and the calibrated probabilities, per validation set."""
    model, payload = load(path)
    t = temperature_of(payload, model)
    out = {"T": t}
    for name in SETS:
        x, y = data.validation_part(name)
        z = logits(model, x)
        raw, calibrated = softmax(z), softmax(z, t)
        out[name] = {"acc": float((z.argmax(1) == y).mean()), "ece_before": expected_calibration_error(raw, y),
                     "ece_after": expected_calibration_error(calibrated, y), "mean_conf": float(raw.max(1).mean()),
                     "probs": calibrated, "y": y}
    return out


def mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--baseline", type=Path, default=None, help="another checkpoint, e.g. the previous default")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_dataset("mnist5k+pendigits")
    rows = [("model", evaluate(args.model, data))]
    if args.baseline:
        rows.append(("baseline", evaluate(args.baseline, data)))
    for label, result in rows:
        print(f"{label}: T = {result['T']:.3f}")
        for name in SETS:
            r = result[name]
            acc_ok = r["acc"] >= TARGET_ACC[name]
            print(f"  {name:9s} validation ({len(r['y'])}): accuracy {r['acc']:.2%} (target {TARGET_ACC[name]:.0%}: "
                  f"{mark(acc_ok)}); mean confidence at T=1 {r['mean_conf']:.2%}; ECE {r['ece_before']:.4f} "
                  f"at T=1 -> {r['ece_after']:.4f} at T (target {TARGET_ECE}: {mark(r['ece_after'] <= TARGET_ECE)})")
    best = rows[0][1]
    probs = np.concatenate([best[n]["probs"] for n in SETS])
    y = np.concatenate([best[n]["y"] for n in SETS])
    table = reliability(probs, y)
    print("calibrated confidence bins, both validation sets together (the Draw page's 'Not sure' threshold):")
    for lo, hi, n, acc, conf in zip(table.edges[:-1], table.edges[1:], table.count, table.accuracy,
                                    table.confidence):
        if n:
            print(f"  {lo:.1f}-{hi:.1f}: {n:5d} predictions, accuracy {acc:7.2%}, mean confidence {conf:7.2%}")
    acc, n = accuracy_below(probs, y, UNSURE_BELOW)
    above = probs.max(1) >= UNSURE_BELOW
    print(f"  top probability under {UNSURE_BELOW:.0%} ('Not sure'): {n} of {len(y)} predictions, "
          f"{acc:.1%} right; at or above: {(probs[above].argmax(1) == y[above]).mean():.2%} right")


if __name__ == "__main__":
    main()
