"""Time to 90% validation accuracy on mnist5k: this engine's Trainer against scikit-learn's MLPClassifier.

The same layers (784-128-64-10 ReLU) and mini-batch size (64) for both, and the same Adam with η = 0.001
(scikit-learn's default, and the engine's default preset on the Train page); the engine records every layer as
the app does. Both check validation accuracy after every epoch (their natural unit: `partial_fit`, the
history's epochs) and the clock includes that check and building the model. Both run on one thread (the app
gives each session one torch thread; scikit-learn's BLAS is limited to one too: with two each, the idle
threads of one spin on the core the other needs), in turns in this process, several rounds; the median ratio
is printed (target <= 0.5x).
Usage: python bench/time_to_accuracy.py [--rounds 5] [--target 0.9]
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

from engine.data import load_dataset  # noqa: E402
from engine.presets import DEFAULT_PRESET, PRESETS  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

MAX_EPOCHS = 30
DEFAULT = PRESETS[DEFAULT_PRESET]


def ours(data, target: float, seed: int) -> tuple[float, int]:
    start = time.perf_counter()
    training = dataclasses.replace(DEFAULT.training, epochs=MAX_EPOCHS, seed=seed)
    trainer = Trainer(DEFAULT.network, training, data, snapshot_every=10**9)
    while not trainer.finished:
        trainer.step(trainer.steps_per_epoch)
        if trainer.history.epochs[-1]["val_acc"] >= target:
            return time.perf_counter() - start, len(trainer.history.epochs)
    return float("nan"), MAX_EPOCHS


def sklearn(data, target: float, seed: int) -> tuple[float, int]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    start = time.perf_counter()
    model = MLPClassifier(hidden_layer_sizes=DEFAULT.network.hidden, activation="relu", batch_size=64,
                          learning_rate_init=DEFAULT.training.lr, random_state=seed)  # Adam: its default
    classes = np.arange(10)
    for epoch in range(1, MAX_EPOCHS + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(data.x_train, data.y_train, classes=classes)  # one epoch
        if model.score(data.x_val, data.y_val) >= target:
            return time.perf_counter() - start, epoch
    return float("nan"), MAX_EPOCHS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.9)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_dataset("mnist5k")
    mine, theirs = [], []
    with threadpool_limits(1):
        ours(data, args.target, 0), sklearn(data, args.target, 0)  # warm up imports and caches
        for seed in range(args.rounds):
            mine.append(ours(data, args.target, seed))
            theirs.append(sklearn(data, args.target, seed))
            (t_ours, e_ours), (t_sk, e_sk) = mine[-1], theirs[-1]
            print(f"seed {seed}: engine {t_ours:.3f} s ({e_ours} epochs)   scikit-learn {t_sk:.3f} s ({e_sk} epochs)"
                  f"   ratio {t_ours / t_sk:.2f}x")
    print(f"median time to {args.target:.0%} validation accuracy, 784-128-64-10 ReLU, batch 64, Adam η = "
          f"{DEFAULT.training.lr:g}, one thread: engine {statistics.median(t for t, _ in mine):.3f} s, "
          f"scikit-learn {statistics.median(t for t, _ in theirs):.3f} s")
    ratio = statistics.median(t / r for (t, _), (r, _) in zip(mine, theirs))
    print(f"ratio engine/scikit-learn {ratio:.2f}x (target <= 0.5x)")


if __name__ == "__main__":
    main()
