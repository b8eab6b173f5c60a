"""Training throughput of the live Train page's trainer (recording every layer) against the bare trainer.

Both train the default preset on mnist5k in the page's rhythm, run_for(0.3 s) ticks, in turns in this
process with one torch thread (as in the app); steps per second are compared and the median ratio of
bare to recording throughput is printed (target <= 1.25x).
Usage: python bench/live_overhead.py [--rounds 10] [--tick 0.3]
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from engine.data.datasets import load_dataset  # noqa: E402
from engine.train.trainer import Trainer  # noqa: E402
from engine.views.presets import DEFAULT_PRESET, PRESETS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--tick", type=float, default=0.3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    preset = PRESETS[DEFAULT_PRESET]
    training = dataclasses.replace(preset.training, epochs=10_000)
    data = load_dataset(training.dataset)
    live = Trainer(preset.network, training, data, record=True)
    bare = Trainer(preset.network, training, data, record=False)
    live.run_for(0.2), bare.run_for(0.2)  # warm up
    ratios, live_rates, bare_rates = [], [], []
    for _ in range(args.rounds):
        bare_rate = bare.run_for(args.tick) / args.tick
        live_rate = live.run_for(args.tick) / args.tick
        bare_rates.append(bare_rate)
        live_rates.append(live_rate)
        ratios.append(bare_rate / live_rate)
    print(f"{preset.network.describe()} on {training.dataset}, {DEFAULT_PRESET}, ticks of {args.tick} s")
    print(f"bare trainer      {statistics.median(bare_rates):7.0f} steps/s")
    print(f"live recording    {statistics.median(live_rates):7.0f} steps/s (every layer's δ, gradient norm, "
          f"activation stats and saturation every step)")
    print(f"slowdown {statistics.median(ratios):.2f}x (target <= 1.25x)")


if __name__ == "__main__":
    main()
