"""The Train page's live charts as SVG (ui.live_charts): well-formed, escaped, the same ticks, names and colours as
the Plotly charts they stand in for, lines broken where a value cannot be drawn, and the δ heatmap's pixels."""
import base64
import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from ui import live_charts as live
from ui.i18n import speaking
from ui.theme import LAYER_COLORS, log_axis
from ui.train_figs import TRAIN, VAL, powers_of_ten

SVG = "{http://www.w3.org/2000/svg}"
EPOCHS = [{"step": 25, "train_loss": 0.3, "val_loss": 0.35, "train_acc": 0.9, "val_acc": 0.88},
          {"step": 50, "train_loss": 0.1, "val_loss": 0.2, "train_acc": 0.97, "val_acc": 0.94}]


def history(steps: int = 50, layers: int = 3, regression: bool = False) -> dict:
    rng = np.random.default_rng(0)
    delta = rng.uniform(1e-4, 1e-1, (steps, layers))
    return {"step": np.arange(1, steps + 1), "loss": np.exp(-np.linspace(0, 3, steps)) + 0.01,
            "batch_acc": np.full(steps, np.nan) if regression else rng.uniform(0.5, 1, steps),
            "delta_mean_abs": delta, "grad_norm": delta * 10}


def parsed(markup: str) -> ET.Element:
    """One picture (svg.live-chart), or a row of them with an HTML legend (div.live-charts)."""
    root = ET.fromstring(markup)  # raises on anything that is not well-formed XML
    if root.tag == "div":
        assert root.get("class") == "live-charts" and "flex-wrap:wrap" in root.get("style")
        pictures = [cell[0] for cell in root if cell.get("class") != "live-legend"]
    else:
        pictures = [root]
    assert pictures and all(p.tag == f"{SVG}svg" and p.get("class") == "live-chart" for p in pictures)
    return root


def texts(root: ET.Element) -> list[str]:
    """The pictures' texts and the legend's entries."""
    return ["".join(t.itertext()) for t in [*root.iter(f"{SVG}text"), *root.iter("span")]]


def charts(root: ET.Element) -> list[str]:
    return [p.get("data-chart") for p in root.iter(f"{SVG}svg") if p.get("class") == "live-chart"]


def lines(root: ET.Element, color: str | None = None) -> list[ET.Element]:
    return [p for p in root.iter(f"{SVG}polyline") if color is None or p.get("stroke") == color]


def test_the_loss_chart_has_both_panels_every_legend_entry_and_the_loss_axis_ticks_of_the_plotly_chart():
    h = history()
    root = parsed(live.loss_accuracy(h, EPOCHS, False))
    shown = texts(root)
    assert charts(root) == ["loss", "accuracy"]  # two pictures side by side, or one above the other on a phone
    for name in ("Loss C", "Accuracy", "mini-batch loss", "train loss", "validation loss", "mini-batch accuracy",
                 "train accuracy", "validation accuracy", "0%", "100%"):
        assert name in shown, name
    losses = np.concatenate([h["loss"], [0.3, 0.1], [0.35, 0.2]])
    axis = powers_of_ten(log_axis(losses))  # the Plotly chart's log ticks, those within the data's range
    inside = {text for value, text in zip(axis["tickvals"], axis["ticktext"]) if losses.min() <= value <= losses.max()}
    assert len(inside) >= 3 and inside <= set(shown)
    assert len(lines(root, TRAIN)) == 4 and len(lines(root, VAL)) == 2  # per step and per epoch, both panels
    assert len(root.findall(f".//{SVG}circle")) == 4 * len(EPOCHS)  # a marker at every epoch of 4 lines


def test_a_regression_run_draws_only_the_loss_panel():
    root = parsed(live.loss_accuracy(history(regression=True), EPOCHS, True))
    shown = texts(root)
    assert "Loss C" in shown and "Accuracy" not in shown and "validation accuracy" not in shown
    assert charts(root) == ["loss"]
    assert len(lines(root)) == 3


def test_a_retune_marker_is_a_dashed_line_at_its_step_with_its_label():
    root = parsed(live.loss_accuracy(history(), EPOCHS, False, marks=((20, "η 0.5"),)))
    assert "η 0.5" in texts(root)
    dashed = [l for l in root.iter(f"{SVG}line") if l.get("stroke-dasharray") == "5 3"]
    assert len(dashed) == 1
    left_edge = [l for l in root.iter(f"{SVG}line") if l.get("stroke") == live.AXIS_LINE][0]
    x0, x1 = float(left_edge.get("x1")), float(left_edge.get("x2"))  # the loss panel's step axis: 0 to 50
    assert float(dashed[0].get("x1")) == pytest.approx(x0 + 20 / 50 * (x1 - x0), abs=0.1)


def test_values_that_cannot_be_drawn_break_the_line_instead_of_breaking_the_chart():
    h = history()
    h["loss"][20], h["loss"][35] = np.nan, np.inf  # a diverging run's last steps
    markup = live.loss_accuracy(h, EPOCHS, False)
    root = parsed(markup)
    per_step = [p for p in lines(root, TRAIN) if p.get("stroke-width") == "1"]
    assert len(per_step) == 3 + 1  # the loss line in three pieces, and the accuracy line whole
    assert "nan" not in markup.lower() and "inf" not in markup.lower()


EMPTY = {  # each chart of a run with no steps yet, and the words it still shows
    "loss": (lambda h: live.loss_accuracy(h, [], False),
             ["Loss C", "Accuracy", "0%", "50%", "100%", "mini-batch loss", "validation accuracy"]),
    "delta": (live.delta_heatmap, ["layer 1", "layer 2", "output (l=3)", "mean |δ|"]),
    "lines": (lambda h: live.per_layer_lines(h, "grad_norm", "‖∂C/∂W‖", "norm"),
              ["‖∂C/∂W‖", "norm", "layer 1", "layer 2", "output (l=3)"]),
}


@pytest.mark.parametrize("chart", list(EMPTY))
def test_an_empty_run_draws_empty_axes(chart):
    draw, words = EMPTY[chart]
    root = parsed(draw({key: value[:0] for key, value in history().items()}))
    pictures = [p for p in root.iter(f"{SVG}svg") if p.get("class") == "live-chart"]
    assert len(pictures) == (2 if chart == "loss" else 1)
    for picture in pictures:
        shown = texts(picture)
        assert shown.count("step") == 1 and {"0", "0.5", "1"} <= set(shown)  # a step axis from 0 to 1, ticked
        if chart != "delta":  # a plot area's x axis line, across it
            axis = [l for l in picture.iter(f"{SVG}line") if l.get("stroke") == live.AXIS_LINE]
            assert len(axis) == 1 and float(axis[0].get("x1")) < float(axis[0].get("x2"))
    assert set(words) <= set(texts(root))
    # and no data: no line, no marker, no heatmap pixels
    assert lines(root) == [] and root.find(f".//{SVG}circle") is None and root.find(f".//{SVG}image") is None
    if chart == "delta":  # the colour bar still stands beside the empty plot
        assert [r.get("fill") for r in root.iter(f"{SVG}rect")] == ["url(#viridis-up)"]
    if chart == "lines":  # the legend still names each layer in its colour
        swatches = [l.get("stroke") for l in root.iter(f"{SVG}line") if l.get("stroke") in LAYER_COLORS]
        assert swatches == LAYER_COLORS[:3]


def heatmap_pixels(root: ET.Element) -> np.ndarray:
    image = root.find(f".//{SVG}image")
    data = re.match(r"data:image/png;base64,(.*)", image.get("href")).group(1)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))


def test_the_delta_heatmap_has_a_row_a_layer_on_viridis_with_the_log_colour_bar_of_the_plotly_chart():
    h = history(steps=40, layers=4)
    h["delta_mean_abs"][7, 2] = 1.0  # the largest value: Viridis's yellow
    h["delta_mean_abs"][30, 0] = 1e-6  # the smallest: its dark purple
    root = parsed(live.delta_heatmap(h))
    pixels = heatmap_pixels(root)
    assert pixels.shape == (4, 40, 3)  # layers down, steps across
    assert tuple(pixels[2, 7]) == (253, 231, 37) and tuple(pixels[0, 30]) == (68, 1, 84)
    shown = texts(root)
    assert ["layer 1", "layer 2", "layer 3", "output (l=4)"] == [t for t in shown if t.startswith(("layer", "out"))]
    assert set(powers_of_ten(log_axis(h["delta_mean_abs"].ravel()))["ticktext"]) <= set(shown)
    assert "Error signal δl = ∂C/∂zl" in shown  # the title's first line, its superscripts raised
    assert root.find(f".//{SVG}tspan").get("baseline-shift") == "super"


@pytest.mark.parametrize("low, high, dead", [(0.02, 0.9, False), (1e-9, 1.0, False), (1e-4, 0.1, True),
                                             (0.05, 60.0, True)])
def test_the_colour_bars_labels_never_overlap_in_the_picture_or_the_plotly_chart(low, high, dead):
    from ui.train_figs import delta_heatmap as plotly_heatmap

    h = history(steps=30, layers=1)  # the shortest bar: one layer
    h["delta_mean_abs"] = np.geomspace(low, high, 30)[:, None]
    if dead:  # a layer of dead ReLUs passes no error at all for a while: δ = 0, the bottom of the bar at 10^-30
        h["delta_mean_abs"][:5] = 0.0
    root = parsed(live.delta_heatmap(h))
    bar_x = max(float(t.get("x")) for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "start")
    ys = sorted(float(t.get("y")) for t in root.iter(f"{SVG}text")
                if t.get("text-anchor") == "start" and float(t.get("x")) == bar_x)
    assert len(ys) >= 2, ys  # a bar with at least its two ends read
    assert all(b - a >= live.TICK_SIZE + 2 for a, b in zip(ys, ys[1:])), ys
    fig = plotly_heatmap(h)
    trace = fig.data[0]
    ticks = np.asarray(trace.colorbar.tickvals, dtype=float)
    assert len(ticks) >= 2 and len(trace.colorbar.ticktext) == len(ticks)
    pixels = (ticks - trace.zmin) / (trace.zmax - trace.zmin) * (fig.layout.height - 80 - 60)
    assert np.all(np.diff(pixels) >= 14), pixels


def test_per_layer_lines_draw_one_line_a_layer_in_the_layer_colours_with_a_legend():
    root = parsed(live.per_layer_lines(history(layers=3), "grad_norm", "‖∂C/∂W<sup>l</sup>‖ per layer", "norm"))
    assert [p.get("stroke") for p in lines(root)] == LAYER_COLORS[:3]
    assert {"layer 1", "layer 2", "output (l=3)", "norm", "step"} <= set(texts(root))
    assert root.get("data-chart") == "grad_norm"


def test_text_is_escaped_and_only_superscripts_are_kept():
    root = parsed(live.per_layer_lines(history(), "grad_norm", "a <script>x</script> & δ<sup>l</sup>", "y"))
    assert "a <script>x</script> & δl" in texts(root)
    assert root.find(f".//{SVG}script") is None
    assert "<script>" not in root.get("aria-label")


def test_the_charts_speak_the_sessions_language():
    with speaking("zh"):
        root = parsed(live.loss_accuracy(history(), EPOCHS, False))
        delta = parsed(live.delta_heatmap(history()))
    assert {"损失 C", "小批量损失"} <= set(texts(root)) and "Loss C" not in texts(root)
    assert not any(t.startswith("layer") for t in texts(delta))


@pytest.mark.parametrize("low, high, most", [(0, 3886, 5), (0, 3886, 3), (0, 1, 5), (0, 13, 5), (0, 2e6, 4),
                                             (5, 6, 5)])
def test_nice_ticks_are_round_evenly_spaced_within_range_and_few(low, high, most):
    ticks = live.nice_ticks(low, high, most)
    assert 2 <= len(ticks) <= most and low <= ticks[0] and ticks[-1] <= high
    gaps = np.diff(ticks)
    assert np.allclose(gaps, gaps[0])
    mantissa = gaps[0] / 10 ** np.floor(np.log10(gaps[0]))
    assert round(mantissa, 6) in (1, 2, 5)


def test_step_labels_read_like_plotlys():
    assert [live.step_label(v) for v in (0, 800, 1500, 12_000, 2_000_000)] == ["0", "800", "1500", "12k", "2M"]


def merged_history(spike_at: int = 333) -> dict:
    """A long run's rows as the page draws them: History.as_dict() thinned, with a loss spike inside one row."""
    from engine.train.history import LAYER_FIELDS, History
    from engine.views.train import thinned

    h = History(2, max_points=100)
    for step in range(1, 2001):
        h.append(step, step / 100, 50.0 if step == spike_at else 1 / step ** 0.5, 0.5,
                 np.full((len(LAYER_FIELDS), 2), 1e-3 * (1 + step % 7)))
    return thinned(h.as_dict(), max_points=80)


def test_a_long_runs_lines_get_their_min_max_band_and_a_spike_stays_on_the_axis():
    rows = merged_history()
    assert rows["steps"].max() > 1
    loss = parsed(live.loss_accuracy(rows, EPOCHS, False))
    bands = [p for p in loss.iter(f"{SVG}polygon")]
    assert len(bands) == 1 and bands[0].get("fill") == TRAIN
    assert live.band(live.Frame(0, 0, 100, 100, (0, 10), (0, 1)), [1, 2], [0.2, 0.3], [0.8, 0.9], "#000") \
        .count("<polygon") == 1
    lines = parsed(live.per_layer_lines(rows, "grad_norm", "‖∂C/∂W‖", "norm"))
    assert len(list(lines.iter(f"{SVG}polygon"))) == 2  # one band a layer
    one_step_rows = history()
    assert not list(parsed(live.loss_accuracy(one_step_rows, EPOCHS, False)).iter(f"{SVG}polygon"))
