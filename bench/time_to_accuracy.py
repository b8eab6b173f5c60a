"""Time to 90% validation accuracy on mnist5k: this engine's Trainer against scikit-learn's MLPClassifier.

Same layers (784-128-64-10 ReLU), same mini-batch size (64), Adam with η = 0.001 for both; both evaluate
the validation set after every epoch and the clock includes that. The two run in turns in this process,
several rounds, and the median ratio is printed (target <= 0.5x).
Usage: python bench/time_to_accuracy.py [--rounds 5] [--target 0.9]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from engine.data import load_dataset  # noqa: E402
from engine.spec import NetworkSpec, TrainSpec  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

MAX_EPOCHS = 30


def ours(data, target: float, seed: int) -> tuple[float, int]:
    start = time.perf_counter()
    trainer = Trainer(NetworkSpec(hidden=(128, 64), activations="relu", init="he"),
                      TrainSpec(dataset="mnist5k", optimizer="adam", lr=1e-3, batch_size=64, epochs=MAX_EPOCHS,
                                seed=seed), data, snapshot_every=10**9)
    while not trainer.finished:
        trainer.step(trainer.steps_per_epoch)
        if trainer.history.epochs[-1]["val_acc"] >= target:
            return time.perf_counter() - start, len(trainer.history.epochs)
    return float("nan"), MAX_EPOCHS


def sklearn(data, target: float, seed: int) -> tuple[float, int]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    start = time.perf_counter()
    model = MLPClassifier(hidden_layer_sizes=(128, 64), activation="relu", solver="adam", batch_size=64,
                          learning_rate_init=1e-3, max_iter=1, random_state=seed, shuffle=True)
    classes = np.arange(10)
    for epoch in range(1, MAX_EPOCHS + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(data.x_train, data.y_train, classes=classes) if epoch > 1 else \
                model.fit(data.x_train, data.y_train)
        if model.score(data.x_val, data.y_val) >= target:
            return time.perf_counter() - start, epoch
    return float("nan"), MAX_EPOCHS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.9)
    args = parser.parse_args()
    data = load_dataset("mnist5k")
    ours(data, args.target, 0), sklearn(data, args.target, 0)  # warm up imports and caches
    ratios, mine, theirs = [], [], []
    for seed in range(args.rounds):
        t_ours, e_ours = ours(data, args.target, seed)
        t_sk, e_sk = sklearn(data, args.target, seed)
        mine.append((t_ours, e_ours))
        theirs.append((t_sk, e_sk))
        ratios.append(t_ours / t_sk)
        print(f"seed {seed}: engine {t_ours:.2f} s ({e_ours} epochs)   scikit-learn {t_sk:.2f} s ({e_sk} epochs)   "
              f"ratio {t_ours / t_sk:.2f}x")
    print(f"median time to {args.target:.0%} validation accuracy: engine {statistics.median(t for t, _ in mine):.2f} s, "
          f"scikit-learn MLPClassifier {statistics.median(t for t, _ in theirs):.2f} s")
    print(f"ratio engine/scikit-learn {statistics.median(ratios):.2f}x (target <= 0.5x)")


if __name__ == "__main__":
    main()
