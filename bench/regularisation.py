"""Can the Train page's weight decay (either convention) and dropout show an effect on overfitting, within range?

For the overfitting preset and the default preset: the preset as it is (the baseline, no regularisation), the
baseline again with another seed (how much a row moves by chance), then weight decay λ over the widget's range
in each convention (d2l: λ/2 ‖w‖² per mini-batch; nielsen: λ/2n Σw² over the n training samples), then dropout
over its range. Every run trains the preset's own epochs in this process, and each row is read against the
baseline beside it: the overfitting signature is the gap between training and validation (accuracy and loss)
and the validation loss turning back up (final minus its lowest epoch), and what counts in the end is the
validation accuracy. Usage: python bench/regularisation.py [--presets overfitting,default] [--epochs N]
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from engine.nn.spec import DECAY_NAMES, LIMITS, NetworkSpec, TrainSpec  # noqa: E402
from engine.train.trainer import Trainer  # noqa: E402
from engine.views.presets import DEFAULT_PRESET, PRESETS  # noqa: E402

MEASURED = {"overfitting": "Overfitting: 200 samples, no regularisation", "default": DEFAULT_PRESET}
LAMBDAS = (0.01, 0.1, 1.0, 3.0, 10.0, 100.0, 1000.0)  # across the weight-decay widget's ladder (0.1 was its top)
DROPOUTS = (0.2, 0.5, 0.8)  # across the dropout slider, LIMITS["dropout"]
ADVISED = (("wd d2l λ=3", {"weight_decay": 3.0}, {}), ("dropout 0.5", {}, {"dropout": 0.5}),
           ("dropout 0.8", {}, {"dropout": 0.8}))  # (label, TrainSpec changes, NetworkSpec changes), over seeds
SEEDS = (0, 1, 2)


def measure(network: NetworkSpec, training: TrainSpec) -> dict:
    """Train to the end (nothing recorded); the last epoch's row, the lowest validation loss and how it ended."""
    trainer = Trainer(network, training, record=False, snapshot_every=None)
    while not trainer.finished:
        trainer.step(100_000)
    rows = trainer.history.epochs or [trainer.evaluate()]  # diverged within the first epoch: the weights now
    return {**rows[-1], "min_val_loss": min(r["val_loss"] for r in rows), "status": trainer.status}


def settings(network: NetworkSpec, training: TrainSpec) -> list[tuple[str, NetworkSpec, TrainSpec]]:
    """(label, network, training) of every run: baseline, its other seed, weight decay, dropout."""
    runs = [("baseline (none)", network, training),
            ("baseline, seed 1", network, dataclasses.replace(training, seed=1))]
    for decay in DECAY_NAMES:
        runs += [(f"wd {decay} λ={lam:g}", network, dataclasses.replace(training, weight_decay=lam, decay=decay))
                 for lam in LAMBDAS]
    runs += [(f"dropout {p:g}", dataclasses.replace(network, dropout=p), training) for p in DROPOUTS]
    return runs


def table(name: str, network: NetworkSpec, training: TrainSpec) -> None:
    """Train every setting on one preset and print its row beside the baseline's."""
    n_train = training.train_size or "all"
    print(f"\n{name}: {network.describe()}, {training.optimizer} η={training.lr:g}, n={n_train}, "
          f"batch {training.batch_size}, {training.epochs} epochs")
    print(f"{'setting':<22}{'train acc':>10}{'val acc':>9}{'Δval acc':>10}{'acc gap':>9}{'÷base':>8}"
          f"{'val loss':>10}{'loss gap':>10}{'÷base':>8}{'rise':>7}{'÷base':>8}  end")
    base = None
    for label, net, train in settings(network, training):
        row = measure(net, train)
        acc_gap = row["train_acc"] - row["val_acc"]
        loss_gap = row["val_loss"] - row["train_loss"]
        rise = row["val_loss"] - row["min_val_loss"]  # how far validation loss turned back up
        if base is None:
            base = {"val_acc": row["val_acc"], "acc_gap": acc_gap, "loss_gap": loss_gap, "rise": rise}
        ratio = lambda value, key: f" {value / base[key]:7.2f}" if base[key] > 1e-9 else f"{'-':>8}"  # noqa: E731
        print(f"{label:<22}{row['train_acc']:10.3f}{row['val_acc']:9.3f}"
              f"{100 * (row['val_acc'] - base['val_acc']):+9.1f}p{acc_gap:9.3f}{ratio(acc_gap, 'acc_gap')}"
              f"{row['val_loss']:10.3f}{loss_gap:10.3f}{ratio(loss_gap, 'loss_gap')}"
              f"{rise:7.3f}{ratio(rise, 'rise')}  {row['status']}", flush=True)


def over_seeds(name: str, network: NetworkSpec, training: TrainSpec) -> None:
    """The advised settings against the baseline, paired seed by seed: is the effect larger than a seed's?"""
    print(f"\n{name}, seeds {', '.join(map(str, SEEDS))} (each row against the baseline of its own seed): "
          "Δval acc in points, rise and loss gap as ÷base")
    base = {seed: measure(network, dataclasses.replace(training, seed=seed)) for seed in SEEDS}
    print(f"{'baseline (none)':<22}" + "".join(
        f"  seed {s}: val acc {b['val_acc']:.3f}, rise {b['val_loss'] - b['min_val_loss']:.3f}, "
        f"loss gap {b['val_loss'] - b['train_loss']:.3f}" for s, b in base.items()))
    for label, train_changes, network_changes in ADVISED:
        cells = []
        for seed, b in base.items():
            row = measure(dataclasses.replace(network, **network_changes),
                          dataclasses.replace(training, seed=seed, **train_changes))
            rise, base_rise = row["val_loss"] - row["min_val_loss"], b["val_loss"] - b["min_val_loss"]
            gap, base_gap = row["val_loss"] - row["train_loss"], b["val_loss"] - b["train_loss"]
            cells.append(f"  seed {seed}: {100 * (row['val_acc'] - b['val_acc']):+.1f}p, rise {rise / base_rise:.2f}, "
                         f"loss gap {gap / base_gap:.2f}")
        print(f"{label:<22}" + "".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default=",".join(MEASURED), help="which of: " + ", ".join(MEASURED))
    parser.add_argument("--epochs", type=int, default=None, help="fewer epochs than the preset's (said in the output)")
    args = parser.parse_args()
    torch.set_num_threads(1)  # a shared machine: one core, the same for every row
    print(f"weight decay λ tried: {', '.join(f'{lam:g}' for lam in LAMBDAS)} in each convention "
          f"(the spec allows {LIMITS['weight_decay'][0]:g}-{LIMITS['weight_decay'][1]:g}); "
          f"dropout tried: {', '.join(f'{p:g}' for p in DROPOUTS)} (allowed {LIMITS['dropout'][0]:g}-"
          f"{LIMITS['dropout'][1]:g}).")
    print("Δval acc: percentage points against the baseline; ÷base: the row's gap or rise over the baseline's "
          "(below 1: regularisation closed it); rise: final validation loss minus its lowest epoch's.")
    start = time.perf_counter()
    for key in args.presets.split(","):
        preset = PRESETS[MEASURED[key]]
        training = preset.training
        if args.epochs is not None and args.epochs < training.epochs:
            print(f"(fewer epochs than the preset's {training.epochs}: {args.epochs})")
            training = dataclasses.replace(training, epochs=args.epochs)
        table(MEASURED[key], preset.network, training)
        if key == "overfitting":
            over_seeds(MEASURED[key], preset.network, training)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
