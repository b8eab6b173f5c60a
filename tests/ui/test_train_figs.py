"""The Train page's live charts, built from Plotly's dicts: the same layout make_subplots gives, the retune
markers, and a figure Streamlit can send (to_dict, to_json) with NaN in a regression's accuracy."""
import json

import numpy as np
import plotly.io as pio
import pytest
from plotly.subplots import make_subplots

from ui import train_figs as figs
from ui.theme import FONT_SIZE


def history(steps: int = 50, layers: int = 3, regression: bool = False) -> dict:
    rng = np.random.default_rng(0)
    return {"step": np.arange(1, steps + 1), "loss": np.exp(-np.linspace(0, 3, steps)) + 0.01,
            "batch_acc": np.full(steps, np.nan) if regression else rng.uniform(0.5, 1, steps),
            "delta_mean_abs": rng.uniform(1e-4, 1e-1, (steps, layers))}


EPOCHS = [{"step": 25, "train_loss": 0.3, "val_loss": 0.35, "train_acc": 0.9, "val_acc": 0.88},
          {"step": 50, "train_loss": 0.1, "val_loss": 0.2, "train_acc": 0.97, "val_acc": 0.94}]


def sent(fig) -> dict:
    """The figure as Streamlit sends it to the browser."""
    return json.loads(pio.to_json(fig.to_dict(), validate=False))


@pytest.mark.parametrize("titles", [["Loss C"], ["Loss C", "Accuracy"]])
def test_side_by_side_is_make_subplots_layout(titles):
    made = make_subplots(rows=1, cols=len(titles), horizontal_spacing=0.12, subplot_titles=titles).layout
    ours = figs.side_by_side(titles)
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2")[:2 * len(titles)]:
        assert ours[axis]["domain"] == pytest.approx(list(made[axis].domain))
        assert ours[axis]["anchor"] == made[axis].anchor
    assert [(a["text"], a["x"]) for a in ours["annotations"]] == \
        [(a.text, pytest.approx(a.x)) for a in made.annotations]


def test_the_loss_chart_has_both_panels_and_marks_each_retune():
    fig = sent(figs.loss_accuracy(history(), EPOCHS, False, marks=((20, "η 0.5"),)))
    names = [t["name"] for t in fig["data"]]
    assert names == ["mini-batch loss", "train loss", "validation loss", "mini-batch accuracy", "train accuracy",
                     "validation accuracy"]
    assert {t["yaxis"] for t in fig["data"][3:]} == {"y2"}  # accuracy on the right-hand panel
    layout = fig["layout"]
    assert layout["yaxis"]["type"] == "log" and layout["yaxis2"]["tickformat"] == ".0%"
    [shape] = layout["shapes"]
    assert shape["x0"] == shape["x1"] == 20 and shape["line"]["dash"] == "dash"
    assert any(a["text"] == "η 0.5" and a["x"] == 20 for a in layout["annotations"])
    assert layout["template"]["layout"]["plot_bgcolor"] == "white"  # the app's white template
    # Plotly's nesting, not its Python shortcuts (font_size=): unchecked, plotly.js would ignore those
    assert layout["legend"]["font"]["size"] == FONT_SIZE - 3 and layout["hoverlabel"]["font"]["size"] == FONT_SIZE
    assert "font_size" not in json.dumps(fig)


def test_a_regression_loss_chart_has_one_panel_and_sends_its_nan_accuracy_as_json():
    fig = sent(figs.loss_accuracy(history(regression=True), EPOCHS, True))
    assert "xaxis2" not in fig["layout"] and [a["text"] for a in fig["layout"]["annotations"]] == ["Loss C"]


def test_the_delta_heatmap_names_every_layer_on_a_log_colour_bar():
    fig = sent(figs.delta_heatmap(history(layers=4)))
    assert "font_size" not in json.dumps(fig)
    [heatmap] = fig["data"]
    assert heatmap["y"] == ["layer 1", "layer 2", "layer 3", "output (l=4)"]
    assert heatmap["colorbar"]["ticktext"] and fig["layout"]["yaxis"]["autorange"] == "reversed"


def test_per_layer_lines_draw_one_line_a_layer_on_a_log_axis():
    fig = sent(figs.per_layer_lines(history(layers=3), "delta_mean_abs", "δ", "mean |δ|"))
    assert "font_size" not in json.dumps(fig)
    assert len(fig["data"]) == 3 and fig["layout"]["yaxis"]["type"] == "log"
    assert fig["layout"]["yaxis"]["title"]["text"] == "mean |δ|"


def test_saturation_bars_take_each_layers_kind_colour_and_grey_the_output():
    from engine.nn.activations import ACTIVATIONS
    from ui.theme import KIND_COLORS
    fig = figs.saturation_bars(np.array([0.1, 0.2, 0.0, 1.0]), ["layer 1", "layer 2", "layer 3", "output (l=4)"],
                               ["sigmoid", "relu", "leaky_relu", "softmax"])
    bar = fig.data[0]
    assert list(bar.marker.color) == [KIND_COLORS["saturates"], KIND_COLORS["dies"], KIND_COLORS["none"],
                                      figs.OUTPUT_GREY]  # a confident output is not judged
    assert [KIND_COLORS[ACTIVATIONS[a].kind] for a in ("sigmoid", "relu")] == list(bar.marker.color[:2])
    assert bar.x[-1].endswith("softmax<br>(confident)") and "hidden units" in fig.layout.title.text
    assert "confident outputs are the goal" in fig.layout.title.text


def test_the_gradients_saturation_bars_colour_by_kind_and_hatch_configuration_b():
    from ui.gradient_figs import Series, saturation_bars
    from ui.theme import KIND_COLORS
    rows = [{"layer": 1, "saturated_frac": 0.25, "dead_frac": 0.0},
            {"layer": 2, "saturated_frac": 0.5, "dead_frac": 0.0}]  # hidden layer 1, then the output layer
    series = [Series("A", rows, "#000000"), Series("B", rows, "#ffffff")]
    fig = saturation_bars(series, activations=["sigmoid", "relu"])
    assert [t.marker.color for t in fig.data] == [KIND_COLORS["saturates"], KIND_COLORS["dies"]]
    assert [t.marker.pattern.shape for t in fig.data] == ["", "/"]
    assert [t.name for t in fig.data] == ["A: saturated", "B: dead"] and list(fig.data[0].y) == [25.0]


def test_a_long_runs_loss_keeps_its_early_phase_and_spike_in_a_min_max_band():
    from tests.pages.test_train import numbers
    from tests.ui.test_live_charts import merged_history

    rows = merged_history(spike_at=5)
    fig = sent(figs.loss_accuracy(rows, [], False))
    band = next(t for t in fig["data"] if t.get("fill") == "toself")
    assert band["showlegend"] is False and band["hoverinfo"] == "skip"
    assert max(numbers(band["y"])) == 50.0  # step 5's spike, merged into the first point
    line = next(t for t in fig["data"] if t.get("name") == "mini-batch loss")
    assert numbers(line["x"])[0] == rows["step"][0] <= 2000 // 50  # the early phase is drawn
    lines = sent(figs.per_layer_lines(rows, "delta_mean_abs", "δ", "mean |δ|"))
    assert sum(t.get("fill") == "toself" for t in lines["data"]) == 2  # one band a layer
