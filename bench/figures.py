"""The Train page's live charts, built as each chart refresh builds them, against the same charts with the
template named on every figure (how ui.theme.style did it before): time per refresh and the ratio.

A classroom's server builds these for every student every 1-2 s, so their cost decides how many students a
core can keep up to date. Usage: python bench/figures.py [--repeats 30]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import plotly.io as pio  # noqa: E402

from engine.presets import DEFAULT_PRESET, PRESETS  # noqa: E402
from engine.train_view import thinned  # noqa: E402
from engine.trainer import Trainer  # noqa: E402
from ui import theme  # noqa: E402
from ui import train_figs as figs  # noqa: E402


def refresh(history: dict, epochs: list, named: bool) -> float:
    """Seconds to build the loss and δ charts and serialise them as Streamlit does (to_dict, to_json)."""
    start = time.perf_counter()
    for fig in (figs.loss_accuracy(history, epochs, False), figs.delta_heatmap(history)):
        if named:
            fig.update_layout(template=theme.TEMPLATE)  # the old style(): the template named on each figure
        pio.to_json(fig.to_dict(), validate=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    preset = PRESETS[DEFAULT_PRESET]
    trainer = Trainer(preset.network, preset.training)
    trainer.run_for(3.0)
    history, epochs = thinned(trainer.history.as_dict()), trainer.history.epochs
    refresh(history, epochs, False)  # the first figure sets the default template
    now, before = [], []
    for _ in range(args.repeats):  # interleaved, so the machine's noise hits both alike
        now.append(refresh(history, epochs, False))
        before.append(refresh(history, epochs, True))
    a, b = statistics.median(now), statistics.median(before)
    print(f"Train page chart refresh (loss + δ, {trainer.step_count} steps): {a * 1000:.1f} ms against "
          f"{b * 1000:.1f} ms with the template named on each figure: {a / b:.2f}x")


if __name__ == "__main__":
    main()
