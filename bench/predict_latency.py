"""Draw page latency: preprocessing + prediction + every layer's activations for one drawing, against the
bare model forward on the same 28x28 input, side by side (median of many runs, one torch thread as in
the app). Target: <= 20 ms per drawing.
Usage: python bench/predict_latency.py [--runs 200]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from engine.data.preprocess import prepare  # noqa: E402
from engine.nn.checkpoint import load  # noqa: E402
from engine.views.draw import predict_image  # noqa: E402

MODEL = Path(__file__).resolve().parent.parent / "assets" / "default.pt"


def drawing() -> np.ndarray:
    """A 308x308 RGBA canvas with a 7 in white strokes on black, as the browser sends it."""
    image = Image.new("RGBA", (308, 308), (0, 0, 0, 255))
    ImageDraw.Draw(image).line([(80, 70), (230, 70), (140, 270)], fill="white", width=20, joint="curve")
    return np.asarray(image)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load(MODEL)[0]
    canvas = drawing()
    x = torch.tensor(prepare(canvas).pixels.reshape(1, -1))
    full_ms, bare_ms = [], []
    with torch.no_grad():
        for _ in range(10):
            predict_image(model, canvas), model(x)  # warm up
        for _ in range(args.runs):
            t0 = time.perf_counter()
            prediction = predict_image(model, canvas)
            t1 = time.perf_counter()
            model(x)
            t2 = time.perf_counter()
            full_ms.append((t1 - t0) * 1e3)
            bare_ms.append((t2 - t1) * 1e3)
    full, bare = statistics.median(full_ms), statistics.median(bare_ms)
    print(f"default model {model.spec.describe()}, canvas 308x308 RGBA, 1 torch thread, {args.runs} runs")
    print(f"bare forward on the 28x28 input          {bare:6.2f} ms")
    print(f"preprocess + predict + every layer       {full:6.2f} ms   (read as {prediction.label})")
    print(f"ratio {full / bare:.2f}x; {'meets' if full <= 20 else 'MISSES'} the 20 ms target")


if __name__ == "__main__":
    main()
