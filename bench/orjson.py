"""Plotly's two JSON engines side by side on the Train page's real charts: the standard library's json against
orjson (plotly.io.json.config.default_engine), in one process, interleaved.

Paused, the Train page sends its charts as Plotly JSON: st.plotly_chart calls fig.to_dict() and then
plotly.io.to_json(), whose engine is orjson when it is installed and json otherwise. This times both steps on the
charts of a real short run of the default preset (the loss, δ charts and each detail view's), and prints the
ratio for the serialisation alone and for what each chart costs the page. Usage:
python bench/orjson.py [--steps 600] [--repeats 30]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# run as `python bench/orjson.py`, this file's folder comes first on the path and its name would hide the package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import plotly  # noqa: E402
import plotly.io as pio  # noqa: E402

from engine.views.presets import DEFAULT_PRESET, PRESETS  # noqa: E402
from engine.views.train import (Gallery, activation_values, latest_saturation, predictions,  # noqa: E402
                                thinned, weight_values)
from engine.train.trainer import Trainer  # noqa: E402
from ui import train_figs as figs  # noqa: E402

ENGINES = ("json", "orjson")


def page_charts(trainer: Trainer) -> dict:
    """Every Plotly chart the paused Train page can show, by name, built as pages/train.py builds them."""
    history = thinned(trainer.history.as_dict())
    n_layers = len(trainer.network.widths)
    names = [figs.layer_name(l, n_layers) for l in range(1, n_layers + 1)]
    activations = list(trainer.network.activations) + [trainer.network.output_activation]
    shown = predictions(trainer)
    return {
        "loss": figs.loss_accuracy(history, trainer.history.epochs, trainer.network.regression, ()),
        "δ heatmap": figs.delta_heatmap(history),
        "δ per layer": figs.per_layer_lines(history, "delta_mean_abs", "δ", "mean |δ|"),
        "gradient norm": figs.per_layer_lines(history, "grad_norm", "‖∂C/∂W‖", "gradient norm"),
        "update ratio": figs.per_layer_lines(history, "update_ratio", "‖ΔW‖/‖W‖", "ratio"),
        "activations": figs.distributions(activation_values(trainer), "a", "a", names),
        "saturation": figs.saturation_bars(latest_saturation(history, n_layers), names, activations),
        "weights": figs.distributions(weight_values(trainer), "W", "w", names),
        "predictions": figs.digit_gallery(shown) if isinstance(shown, Gallery) else figs.decision_boundary(shown),
    }


def to_dicts(charts: list) -> tuple[list[dict], float]:
    """The charts as st.plotly_chart first turns them (fig.to_dict()), and the seconds that took."""
    start = time.perf_counter()
    dicts = [fig.to_dict() for fig in charts]
    return dicts, time.perf_counter() - start


def to_json(dicts: list[dict], engine: str) -> tuple[float, int]:
    """Seconds to serialise the dicts with plotly.io.to_json on this engine, as st.plotly_chart does; bytes sent."""
    pio.json.config.default_engine = engine
    start = time.perf_counter()
    texts = [pio.to_json(d, validate=False) for d in dicts]
    seconds = time.perf_counter() - start
    return seconds, sum(len(t.encode()) for t in texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600, help="training steps before the charts are built "
                        "(600: the most points a chart draws, engine.views.train.MAX_PLOT_POINTS)")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    try:
        import orjson
    except ImportError:
        sys.exit("orjson is not installed: pip install orjson, then run this again")
    preset = PRESETS[DEFAULT_PRESET]
    trainer = Trainer(preset.network, preset.training)
    trainer.step(args.steps)
    charts = page_charts(trainer)
    groups = {"paused, default view (loss, δ heatmap, δ per layer)":
              [charts["loss"], charts["δ heatmap"], charts["δ per layer"]],
              **{name: [fig] for name, fig in charts.items()}}
    dicts, _ = to_dicts(list(charts.values()))  # the first figure also sets the default template
    for engine in ENGINES:  # warm up both engines
        to_json(dicts, engine)
    same = {engine: [json.loads(pio.to_json(d, validate=False, engine=engine)) for d in dicts] for engine in ENGINES}
    assert same["json"] == same["orjson"], "the two engines send different charts"
    print(f"Plotly {plotly.__version__}'s JSON engines, json against orjson {orjson.__version__}, on the Train page's "
          f"charts ({preset.network.describe()}, {trainer.step_count} steps); median of {args.repeats}, ms:")
    print(f"  {'chart':52s} {'to_dict':>7s} {'json':>7s} {'orjson':>7s} {'faster':>7s}  {'with to_dict':>12s}  "
          f"{'bytes: json':>11s} {'orjson':>7s}")
    for name, group in groups.items():
        built, sent = [], {engine: [] for engine in ENGINES}
        for _ in range(args.repeats):  # interleaved, so the machine's noise hits both engines alike
            dicts, seconds = to_dicts(group)
            built.append(seconds)
            for engine in ENGINES:
                sent[engine].append(to_json(dicts, engine))
        d = statistics.median(built)
        (j, j_bytes), (o, o_bytes) = ((statistics.median(s for s, _ in sent[e]), sent[e][0][1]) for e in ENGINES)
        print(f"  {name:52s} {d * 1000:7.2f} {j * 1000:7.2f} {o * 1000:7.2f} {j / o:6.2f}x  {(d + j) / (d + o):11.2f}x  "
              f"{j_bytes:11d} {o_bytes:7d}")
    pio.json.config.default_engine = "auto"
    print("faster: plotly.io.to_json alone; with to_dict: the whole serialisation of st.plotly_chart")


if __name__ == "__main__":
    main()
