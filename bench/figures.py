"""The Train page's charts, built as each refresh builds them, against the same figures built through Plotly's
checked objects (as they were built before): time per refresh and the ratios.

While a run trains, the page draws them as SVG pictures (ui.live_charts); paused, as Plotly charts built from
Plotly's dicts (theme.live_figure). A classroom's server builds the pictures for every student every 1.5 s, so
their cost decides how many students a core can keep up to date. Usage: python bench/figures.py [--repeats 30]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import plotly.graph_objects as go  # noqa: E402
import plotly.io as pio  # noqa: E402

from engine.train.trainer import Trainer  # noqa: E402
from engine.views.presets import DEFAULT_PRESET, PRESETS  # noqa: E402
from engine.views.train import thinned  # noqa: E402
from ui import live_charts as live  # noqa: E402
from ui import train_figs as figs  # noqa: E402


def refresh(history: dict, epochs: list, checked: bool) -> float:
    """Seconds to build the loss, δ and δ-per-layer charts and serialise them as Streamlit does (to_dict, to_json).

    checked: each figure is built again through Plotly's checked objects (go.Figure of the same dict), the
    cost every property check added when these charts were built with make_subplots and update_layout.
    """
    start = time.perf_counter()
    for fig in (figs.loss_accuracy(history, epochs, False), figs.delta_heatmap(history),
                figs.per_layer_lines(history, "delta_mean_abs", "δ", "mean |δ|")):
        if checked:
            fig = go.Figure(fig.to_dict())
        pio.to_json(fig.to_dict(), validate=False)
    return time.perf_counter() - start


def pictures(history: dict, epochs: list) -> float:
    """Seconds to draw the same three charts as the SVG pictures a training run shows."""
    start = time.perf_counter()
    live.loss_accuracy(history, epochs, False)
    live.delta_heatmap(history)
    live.per_layer_lines(history, "delta_mean_abs", "δ", "mean |δ|")
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
    svg, now, before = [], [], []
    for _ in range(args.repeats):  # interleaved, so the machine's noise hits all alike
        svg.append(pictures(history, epochs))
        now.append(refresh(history, epochs, False))
        before.append(refresh(history, epochs, True))
    p, a, b = statistics.median(svg), statistics.median(now), statistics.median(before)
    print(f"Train page chart refresh (loss, δ, δ per layer; {trainer.step_count} steps), against {b * 1000:.1f} ms "
          f"built through Plotly's checked objects:")
    print(f"  while training, SVG pictures:        {p * 1000:5.1f} ms  {p / b:.2f}x")
    print(f"  paused, Plotly charts from its dicts: {a * 1000:5.1f} ms  {a / b:.2f}x")


if __name__ == "__main__":
    main()
