"""What one student can cost a worker in memory (issue 26): the peak RSS of the worst run the budget allows.

Each case runs in a fresh Python (imports and the dataset loaded first, then the peak reset), so its growth is
what the run itself adds; printed against PLAYGROUND_SESSION_MB and the run's own estimate (engine/train/budget.py):
  worst link   the widest 50-layer network the budget allows, full batch, trained a few steps (the D4 link)
  surface      the Loss surface page's computation on that trained model, with its path (D2, D3)
  kfold        a 5-fold cross-validation of a small network (D5's link, 2 epochs)
Run: python -m bench.memory [--steps 6]. RSS of a real worker, and after its tab closes: bench/memory_server.py.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

from tests import ROOT

CASE = """
import json, sys, dataclasses
sys.path.insert(0, {root!r})
from engine.data.datasets import load_dataset
from engine.nn.spec import NetworkSpec, TrainSpec, spec_for_dataset
from engine.train.budget import estimate, session_budget, what_fits
from engine.train.trainer import Trainer
from engine.train.kfold import cross_validate
from engine.views.landscape import loss_landscape


def kilobytes(field):
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith(field + ":"))


training = TrainSpec(dataset="mnist5k", batch_size=1_000_000, optimizer="sgd", lr=1e-4, epochs=10_000)
data = load_dataset("mnist5k")
deep = spec_for_dataset(NetworkSpec(hidden=(1024,) * 50, activations="relu"), data.n_inputs, data.n_outputs, False,
                        data.image_shape)
fit = what_fits(deep, training, len(data.x_train), session_budget())
network = dataclasses.replace(deep, hidden=(fit.value,) * 50)
guess = estimate(network, training, len(data.x_train)).total
case = {case!r}
if case == "surface":  # train first, then measure only the page's computation
    trainer = Trainer(network, training, data)
    trainer.step({steps})
    trainer.snapshot_now()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak (VmHWM) starts at the current RSS
before = kilobytes("VmRSS")
if case == "worst link":
    trainer = Trainer(network, training, data)
    trainer.step({steps})
elif case == "surface":
    loss_landscape(trainer.model, data.x_val, data.y_val, grid=11, span=1.0, samples=100, seed=0,
                   snapshots=trainer.snapshots)
else:
    small = NetworkSpec(hidden=(256, 256, 256))
    cross_validate(small, dataclasses.replace(training, batch_size=64, epochs=2, optimizer="adam"), 5, dataset=data)
    guess = estimate(spec_for_dataset(small, data.n_inputs, data.n_outputs, False, data.image_shape),
                     dataclasses.replace(training, batch_size=64, optimizer="adam"), len(data.x_train)).total
print(json.dumps({{"growth_mb": (kilobytes("VmHWM") - before) / 1024, "idle_mb": before / 1024,
                  "estimate_mb": guess / 2**20, "budget_mb": session_budget() / 2**20,
                  "network": f"50 x {{fit.value}}"}}))
"""


def measure(case: str, steps: int) -> dict:
    code = CASE.format(root=str(ROOT), case=case, steps=steps)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6, help="full-batch steps of the worst link (default 6)")
    args = parser.parse_args()
    for case in ("worst link", "surface", "kfold"):
        r = measure(case, args.steps)
        verdict = "within" if r["growth_mb"] <= r["budget_mb"] else "OVER"
        print(f"{case:10}  {r['network']:9}  idle {r['idle_mb']:6.0f} MB  peak +{r['growth_mb']:6.0f} MB  "
              f"estimate {r['estimate_mb']:6.0f} MB  budget {r['budget_mb']:.0f} MB: {verdict}")


if __name__ == "__main__":
    main()
