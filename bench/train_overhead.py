"""Cost of a fully instrumented Trainer step against a bare PyTorch loop on the same model and batch.

The bare loop is the usual forward, loss.backward() (autograd) and optimizer step, with the engine's optimizer.
The Trainer steps a fully connected network by BP1-BP4 written out (engine/nn/explicit_step.py), which writes every
layer's a^l, z^L and δ^l straight into its record; that is what pays for the recording.
Both run side by side in this process, interleaved in rounds, and the median per-round ratio is printed
(absolute times on a shared 2-core machine are noisy; the ratio is what is stable). Target: <= 1.15x.
Usage: python bench/train_overhead.py [--rounds 15] [--steps 200] [--batch-size 64] [--threads 1]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from engine.data.datasets import load_dataset  # noqa: E402
from engine.nn.model import build_model, loss_function  # noqa: E402
from engine.nn.optimizers import Optimizer  # noqa: E402
from engine.nn.spec import NetworkSpec, TrainSpec  # noqa: E402
from engine.train.trainer import RATIO_EVERY, Trainer  # noqa: E402


def bare_loop(network: NetworkSpec, training: TrainSpec, x: torch.Tensor, y: torch.Tensor):
    """The baseline: forward, loss, backward, optimizer step; nothing recorded."""
    model = build_model(network, training.seed)
    cost = loss_function(network)
    optimizer = Optimizer(model.parameters(), training)  # the same optimizer
    batch = training.batch_size
    generator = torch.Generator().manual_seed(1)
    order = torch.randperm(len(x), generator=generator)
    cursor = 0

    def run(steps: int) -> None:
        nonlocal cursor, order
        for _ in range(steps):
            if cursor + batch > len(x):
                order, cursor = torch.randperm(len(x), generator=generator), 0
            idx = order[cursor:cursor + batch]
            cursor += batch
            optimizer.zero_grad()
            loss = cost(model(x[idx]), y[idx])
            loss.backward()
            loss.item()  # the trainer reads the loss every step too (divergence check)
            optimizer.step()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the app uses 1 per session)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    network = NetworkSpec(hidden=(128, 64), activations="relu", init="he")
    training = TrainSpec(dataset="mnist5k", batch_size=args.batch_size, epochs=10_000, lr=1e-3)
    data = load_dataset("mnist5k")
    trainer = Trainer(network, training, data, snapshot_every=None)
    unrecorded = Trainer(network, training, data, snapshot_every=None, record=False)  # for the breakdown only
    for run in (trainer, unrecorded):
        run.evaluate = lambda: {"train_loss": 0.0, "train_acc": 0.0, "val_loss": 0.0, "val_acc": 0.0}
    bare = bare_loop(trainer.network, training, trainer.x_train, trainer.y_train)

    bare(20), trainer.step(20), unrecorded.step(20)  # warm up all three
    ratios, bare_ms, full_ms, plain_ms = [], [], [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        bare(args.steps)
        t1 = time.perf_counter()
        trainer.step(args.steps)
        t2 = time.perf_counter()
        unrecorded.step(args.steps)
        t3 = time.perf_counter()
        bare_ms.append((t1 - t0) / args.steps * 1e3)
        full_ms.append((t2 - t1) / args.steps * 1e3)
        plain_ms.append((t3 - t2) / args.steps * 1e3)
        ratios.append(full_ms[-1] / bare_ms[-1])
    print(f"model {trainer.network.describe()}, batch {args.batch_size}, the engine's fused Adam (all), "
          f"{args.threads} torch thread(s), medians of {args.rounds} rounds")
    print(f"bare PyTorch step (autograd)     {statistics.median(bare_ms):.3f} ms")
    print(f"trainer step, nothing recorded   {statistics.median(plain_ms):.3f} ms (BP1-BP4 written out)")
    print(f"instrumented trainer step        {statistics.median(full_ms):.3f} ms (δ, ‖∂C/∂W‖, a stats, saturation "
          f"per layer every step; ‖ΔW‖/‖W‖ every {RATIO_EVERY}th): recording costs "
          f"{statistics.median(f / p for f, p in zip(full_ms, plain_ms)):.2f}x")
    print(f"ratio instrumented/bare {statistics.median(ratios):.3f}x (target <= 1.15x)")

if __name__ == "__main__":
    main()
