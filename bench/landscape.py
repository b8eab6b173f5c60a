"""Time the fast loss surface against a loop that copies θ + α d1 + β d2 into the model and runs one forward per point.

    python bench/landscape.py            # 41x41 grid, 1000 mnist5k samples, 784-128-64-10 relu MLP
    python bench/landscape.py --quick    # 11x11 grid, 200 samples: a smoke test
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.data.datasets import load_dataset  # noqa: E402
from engine.nn.model import build_model, loss_function  # noqa: E402
from engine.nn.spec import NetworkSpec  # noqa: E402
from engine.views.surface import evaluation_batch, random_directions, surface  # noqa: E402

TARGET_RATIO = 0.2  # the fast surface must take at most a fifth of the naive loop's time


@torch.no_grad()
def naive_surface(model, x, y, directions, grid: int, span: float) -> np.ndarray:
    """One forward per grid point: copy θ + α d1 + β d2 into the model's parameters, then C(model(x), y)."""
    params = list(model.parameters())
    theta = [p.detach().clone() for p in params]
    d1 = torch.split(torch.from_numpy(directions.d1), [p.numel() for p in params])
    d2 = torch.split(torch.from_numpy(directions.d2), [p.numel() for p in params])
    cost = loss_function(model.spec)
    axis = np.linspace(-span, span, grid)
    loss = np.empty((grid, grid))
    model.eval()
    try:
        for i, alpha in enumerate(axis):
            for j, beta in enumerate(axis):
                for p, t, u, v in zip(params, theta, d1, d2):
                    p.copy_(t + float(alpha) * u.view_as(t) + float(beta) * v.view_as(t))
                loss[i, j] = float(cost(model(x), y))
    finally:
        for p, t in zip(params, theta):
            p.copy_(t)
    return loss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="11x11 grid on 200 samples (smoke test)")
    parser.add_argument("--grid", type=int, default=None, help="grid points per axis (default 41, quick 11)")
    parser.add_argument("--samples", type=int, default=None, help="evaluation samples (default 1000, quick 200)")
    args = parser.parse_args(argv)
    grid = args.grid or (11 if args.quick else 41)
    samples = args.samples or (200 if args.quick else 1000)

    model = build_model(NetworkSpec(hidden=(128, 64), activations=("relu",)), seed=0)  # random He weights
    data = load_dataset("mnist5k")
    x, y = evaluation_batch(data.x_val, data.y_val, samples, regression=False)
    directions = random_directions(model, seed=0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {model.spec.describe()}, "
          f"{grid}x{grid} grid, {len(x)} samples, span 1")

    surface(model, x[:10], y[:10], directions, grid=3)  # warm up both paths (first-call overheads)
    naive_surface(model, x[:10], y[:10], directions, 3, 1.0)

    start = time.perf_counter()
    fast = surface(model, x, y, directions, grid=grid, span=1.0)
    fast_seconds = time.perf_counter() - start
    start = time.perf_counter()
    slow = naive_surface(model, x, y, directions, grid, 1.0)
    slow_seconds = time.perf_counter() - start

    diff = float(np.max(np.abs(fast.loss - slow)))
    ratio = fast_seconds / slow_seconds
    print(f"{'method':<34}{'seconds':>9}{'ms/point':>10}")
    print(f"{'fast (shared 1st layer, batched)':<34}{fast_seconds:9.3f}{1000 * fast_seconds / grid**2:10.3f}")
    print(f"{'naive (copy params, 1 forward/pt)':<34}{slow_seconds:9.3f}{1000 * slow_seconds / grid**2:10.3f}")
    print(f"ratio fast/naive = {ratio:.3f} (target <= {TARGET_RATIO}); max |Δloss| = {diff:.2e} "
          f"(loss {slow.min():.3f}-{slow.max():.3f})")
    ok = ratio <= TARGET_RATIO and diff <= 1e-3 * max(1.0, float(np.abs(slow).max()))
    print("PASS" if ok else "FAIL")
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    sys.exit(main())
