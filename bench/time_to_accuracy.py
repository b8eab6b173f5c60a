"""Training time to 90% validation accuracy on mnist5k: this engine's Trainer against scikit-learn's MLPClassifier.

The same layers (784-128-64-10 ReLU) and mini-batch size (64) for both; everything else is each one's default:
the engine's default preset on the Train page (Adam, η = 0.003, He init, every layer recorded as the app does)
and scikit-learn's defaults (Adam, η = 0.001, Glorot init, L2 penalty 1e-4). The time to the target is
  (mini-batches until validation accuracy first reaches it) x (time per mini-batch), measured apart:
- mini-batches: validation accuracy is checked every 5 mini-batches, off the clock, for both (scikit-learn
  through `partial_fit` on 5 batches of a shuffled epoch at a time). Checking only at epoch ends would round
  both to whole epochs (1 or 2 here), which measures the rounding more than the training;
- time per mini-batch: whole epochs in each one's natural loop, side by side in this process on one thread
  each (the app gives each session one torch thread; scikit-learn's BLAS is limited to one too). The engine's
  epochs include its end-of-epoch evaluation on the train and validation sets; scikit-learn's do not.
It also prints scikit-learn given the engine's η, to show how much of the ratio is the learning rate.
Usage: python bench/time_to_accuracy.py [--seeds 8] [--target 0.9]
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from engine.data.datasets import load_dataset  # noqa: E402
from engine.train.trainer import Trainer, evaluate  # noqa: E402
from engine.views.presets import DEFAULT_PRESET, PRESETS  # noqa: E402

BATCH = 64
CHECK_EVERY = 5  # mini-batches between validation checks
MAX_STEPS = 3000
DEFAULT = PRESETS[DEFAULT_PRESET]


def trainer(data, seed: int, epochs: int = 100) -> Trainer:
    training = dataclasses.replace(DEFAULT.training, epochs=epochs, seed=seed)
    return Trainer(DEFAULT.network, training, data, snapshot_every=None)


def classifier(seed: int, lr: float | None = None):
    """scikit-learn's MLPClassifier with the engine's layers and batch size; its own η unless lr is given."""
    from sklearn.neural_network import MLPClassifier

    chosen = {} if lr is None else {"learning_rate_init": lr}
    return MLPClassifier(hidden_layer_sizes=DEFAULT.network.hidden, activation="relu", batch_size=BATCH,
                         random_state=seed, **chosen)  # solver: Adam, its default


def engine_steps(data, target: float, seed: int) -> int:
    """Mini-batches until the engine's validation accuracy first reaches target."""
    run = trainer(data, seed)
    while run.step_count < MAX_STEPS:
        run.step(CHECK_EVERY)
        if evaluate(run.model, run.x_val, run.y_val)[1] >= target:
            return run.step_count
    return MAX_STEPS


def sklearn_steps(data, target: float, seed: int, lr: float | None = None) -> int:
    """Mini-batches until scikit-learn's validation accuracy first reaches target."""
    model, rng, steps = classifier(seed, lr), np.random.default_rng(seed), 0
    while steps < MAX_STEPS:
        order = rng.permutation(len(data.x_train))
        for start in range(0, len(order), BATCH * CHECK_EVERY):
            chunk = order[start:start + BATCH * CHECK_EVERY]
            model.partial_fit(data.x_train[chunk], data.y_train[chunk], classes=np.arange(10))
            steps += -(-len(chunk) // BATCH)
            if model.score(data.x_val, data.y_val) >= target:
                return steps
    return MAX_STEPS


def engine_step_time(data, seed: int, epochs: int = 2) -> float:
    """Seconds per mini-batch over whole epochs, including the end-of-epoch evaluation."""
    run = trainer(data, seed, epochs)
    start = time.perf_counter()
    run.step(10**6)
    return (time.perf_counter() - start) / run.step_count


def sklearn_step_time(data, seed: int, epochs: int = 2) -> float:
    model = classifier(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        model.partial_fit(data.x_train, data.y_train, classes=np.arange(10))  # one epoch
    return (time.perf_counter() - start) / (epochs * -(-len(data.x_train) // BATCH))


def main() -> None:
    from sklearn.exceptions import ConvergenceWarning

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--target", type=float, default=0.9)
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    torch.set_num_threads(1)
    data = load_dataset("mnist5k")
    ours_lr, their_lr = DEFAULT.training.lr, classifier(0).learning_rate_init  # each one's default
    with threadpool_limits(1):
        engine_step_time(data, 0, 1), sklearn_step_time(data, 0, 1)  # warm up imports and caches
        mine, theirs, times = [], [], []
        for seed in range(args.seeds):
            mine.append(engine_steps(data, args.target, seed))
            theirs.append((sklearn_steps(data, args.target, seed),
                           sklearn_steps(data, args.target, seed, ours_lr)))
            times.append((engine_step_time(data, seed), sklearn_step_time(data, seed)))
            print(f"seed {seed}: mini-batches to {args.target:.0%}: engine {mine[-1]}, scikit-learn {theirs[-1][0]} "
                  f"(at η = {ours_lr:g}: {theirs[-1][1]});  ms per mini-batch: engine {times[-1][0] * 1e3:.3f}, "
                  f"scikit-learn {times[-1][1] * 1e3:.3f}", flush=True)
    steps_e, steps_s = statistics.median(mine), statistics.median(s for s, _ in theirs)
    steps_same = statistics.median(s for _, s in theirs)
    per_step = statistics.median(e / s for e, s in times)
    ms_e, ms_s = (statistics.median(t[i] for t in times) * 1e3 for i in (0, 1))
    print(f"784-128-64-10 ReLU, batch {BATCH}, one thread, medians of {args.seeds} seeds:")
    print(f"  engine       (Adam η = {ours_lr:g}): {steps_e:g} mini-batches x {ms_e:.3f} ms = {steps_e * ms_e:.0f} ms")
    print(f"  scikit-learn (Adam η = {their_lr:g}): {steps_s:g} mini-batches x {ms_s:.3f} ms = {steps_s * ms_s:.0f} ms")
    print(f"  time per mini-batch, engine/scikit-learn: {per_step:.2f}x")
    print(f"  at the same η = {ours_lr:g} scikit-learn needs {steps_same:g} mini-batches: "
          f"ratio {steps_e * per_step / steps_same:.2f}x")
    ratio = statistics.median(m * e / (s * t) for m, (s, _), (e, t) in zip(mine, theirs, times))
    print(f"ratio engine/scikit-learn, time to {args.target:.0%} {ratio:.2f}x (target <= 0.5x)")


if __name__ == "__main__":
    main()
