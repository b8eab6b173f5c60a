"""Figures for the Train page: curves, δ per layer, gradients, distributions, decision boundary, digits."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from engine.nn.activations import ACTIVATIONS
from engine.views.train import Boundary, Gallery, RegressionFit
from ui.i18n import _
from ui.theme import BLUE, FONT_SIZE, GREEN, GREY, KIND_COLORS, LAYER_COLORS, LIGHT_GREY, ORANGE, live_figure, \
    log_axis, merged, style
from ui.theme import layout as theme_layout

TRAIN, VAL = BLUE, ORANGE
LOSS_HEIGHT = 340  # the loss and δ charts side by side: with the buttons and readouts, one 1280x720 screen


def layer_name(l: int, n_layers: int) -> str:
    return _("output (l={l})").format(l=l) if l == n_layers else _("layer {l}").format(l=l)


def powers_of_ten(axis: dict, most: int = 6) -> dict:
    """A log axis from log_axis with powers of ten only when it has more than `most` ticks (a short chart)."""
    ticks = list(zip(axis.get("tickvals", []), axis.get("ticktext", [])))
    if len(ticks) <= most:
        return axis
    kept = [(value, text) for value, text in ticks if abs(np.log10(value) - round(np.log10(value))) < 1e-9]
    if len(kept) < 2:
        return axis
    return {**axis, "tickvals": [value for value, text in kept], "ticktext": [text for value, text in kept]}


def spaced_ticks(axis: dict, lo: float, hi: float, length: float, gap: float) -> dict:
    """The ticks of a colour bar spanning log10 values lo..hi over `length` pixels that lie on it and stand at least
    `gap` pixels apart (from the bottom up: a short bar drops labels rather than print them over each other)."""
    kept, last = [], None
    span = max(hi - lo, 1e-12)
    for value, text in zip(axis.get("tickvals", []), axis.get("ticktext", [])):
        at = (np.log10(value) - lo) / span * length
        if -1e-9 <= at <= length + 1e-9 and (last is None or at - last >= gap):
            kept.append((value, text))
            last = at
    return {**axis, "tickvals": [v for v, _t in kept], "ticktext": [t for _v, t in kept]}


def smooth(values: np.ndarray, window: int = 10) -> np.ndarray:
    """Trailing moving average, so a noisy per-batch curve reads as a trend."""
    if len(values) < 2:
        return values
    kernel = np.ones(min(window, len(values))) / min(window, len(values))
    padded = np.concatenate((np.full(len(kernel) - 1, values[0]), values))
    return np.convolve(padded, kernel, mode="valid")


def has_bands(history: dict) -> bool:
    """Whether the rows merge several steps each (a long run): then each line gets its min-max band."""
    return "steps" in history and len(history["steps"]) > 0 and int(np.max(history["steps"])) > 1


def band(x, low, high, color: str, chart: int = 1, opacity: float = 0.18) -> list[dict]:
    """The min-max band of a line whose points each merge several steps: one closed shape, max forward, min back.

    A spike inside a merged stretch stays visible in the band while the line shows the stretch's mean.
    """
    axes = "" if chart == 1 else str(chart)
    x = np.asarray(x)
    return [dict(type="scatter", x=np.concatenate((x, x[::-1])), y=np.concatenate((high, low[::-1])), mode="lines",
                 fill="toself", fillcolor=color, line=dict(width=0), opacity=opacity, showlegend=False,
                 hoverinfo="skip", xaxis=f"x{axes}", yaxis=f"y{axes}")]


def side_by_side(titles: list[str], spacing: float = 0.12) -> dict:
    """The layout of 1 x len(titles) charts side by side, as make_subplots makes it: axes' domains, titles above."""
    n = len(titles)
    width = (1 - spacing * (n - 1)) / n
    layout = {"annotations": []}
    for i, title in enumerate(titles):
        left = i * (width + spacing)
        suffix = "" if i == 0 else str(i + 1)
        layout[f"xaxis{suffix}"] = dict(anchor=f"y{suffix}", domain=[left, left + width])
        layout[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}", domain=[0.0, 1.0])
        layout["annotations"].append(dict(text=title, x=left + width / 2, xref="paper", xanchor="center", y=1.0,
                                          yref="paper", yanchor="bottom", showarrow=False,
                                          font=dict(size=FONT_SIZE + 1)))
    return layout


def curve(x, y, name: str, color: str, chart: int = 1, per_epoch: bool = True, dash: str | None = None) -> dict:
    """One line of the loss chart: per epoch thick with markers, per step thin and faint."""
    axes = "" if chart == 1 else str(chart)
    return dict(type="scatter", x=x, y=y, name=name, xaxis=f"x{axes}", yaxis=f"y{axes}",
                mode="lines+markers" if per_epoch else "lines", opacity=1 if per_epoch else 0.35,
                line=dict(color=color, width=3 if per_epoch else 1, dash=dash))


def loss_accuracy(history: dict, epochs: list[dict], regression: bool,
                  marks: tuple[tuple[int, str], ...] = ()) -> go.Figure:
    """Mini-batch loss per step (in a long run each point a stretch's mean, with its min-max band), train and
    validation loss (and accuracy) per epoch.

    marks: (step, label) of the steps where η, momentum, batch size or weight decay changed, drawn as dashed
    lines. Redrawn every 1-2 s for every student: built from Plotly's dicts (theme.live_figure).
    """
    step, e_step = history["step"], [e["step"] for e in epochs]
    data = band(step, history["loss_min"], history["loss_max"], TRAIN) if has_bands(history) else []
    data += [curve(step, history["loss"], _("mini-batch loss"), TRAIN, per_epoch=False)] if len(step) else []
    data += [curve(e_step, [e["train_loss"] for e in epochs], _("train loss"), TRAIN),
             curve(e_step, [e["val_loss"] for e in epochs], _("validation loss"), VAL)]
    layout = side_by_side([_("Loss C")] if regression else [_("Loss C"), _("Accuracy")])
    if not regression:
        if len(step):
            data.append(curve(step, smooth(history["batch_acc"]), _("mini-batch accuracy"), TRAIN, 2, False))
        data += [curve(e_step, [e["train_acc"] for e in epochs], _("train accuracy"), TRAIN, 2, dash="dot"),
                 curve(e_step, [e["val_acc"] for e in epochs], _("validation accuracy"), VAL, 2, dash="dot")]
        layout = merged(layout, {"xaxis2": dict(title=dict(text=_("step"))),
                                 "yaxis2": dict(range=[0, 1.02], tickformat=".0%")})
    losses = np.concatenate([history["loss"], [e["train_loss"] for e in epochs], [e["val_loss"] for e in epochs]]
                            + ([history["loss_min"], history["loss_max"]] if has_bands(history) else []))
    layout = merged(layout, {"xaxis": dict(title=dict(text=_("step"))), "yaxis": powers_of_ten(log_axis(losses))})
    for at, label in marks:
        layout.setdefault("shapes", []).append(dict(type="line", x0=at, x1=at, xref="x", y0=0, y1=1,
                                                    yref="y domain", line=dict(color="#888", width=1, dash="dash")))
        layout["annotations"].append(dict(text=label, x=at, xref="x", xanchor="left", y=1, yref="y domain",
                                          yanchor="top", showarrow=False, font=dict(size=11)))
    # three legend entries a row: two rows in the page's 60% column, clear of the step axis's title
    legend = dict(y=-0.3, entrywidth=1 / 3, entrywidthmode="fraction", font=dict(size=FONT_SIZE - 3),
                  itemwidth=30)
    return live_figure(data, merged(theme_layout(LOSS_HEIGHT, legend_below=True), layout,
                                    dict(legend=legend, margin=dict(b=90))))


def log_delta(delta: np.ndarray) -> tuple[np.ndarray, float, float]:
    """log10 of mean |δ^l| (steps x layers) as layers x steps, and its colour range: the finite values' span,
    at least one decade wide. Shared by this heatmap and the picture a training run shows (ui.live_charts)."""
    n_layers = delta.shape[1] if delta.ndim == 2 else 0
    delta = np.asarray(delta, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = np.log10(delta[np.isfinite(delta) & (delta > 0)])
    # the range of the error signals there are: a layer that passes none (δ = 0, dead ReLUs) is drawn in the
    # darkest colour instead of stretching the bar down to 10^-30, where its labels would crowd at the top
    lo, hi = (float(positive.min()), float(positive.max())) if positive.size else (-3.0, 0.0)
    if hi - lo < 1:
        lo, hi = lo - 0.5, hi + 0.5
    logd = np.log10(np.clip(delta, 10.0 ** lo, None)).T if len(delta) else np.zeros((n_layers, 0))
    return logd, lo, hi


def delta_heatmap(history: dict) -> go.Figure:
    """Layers x steps heatmap of mean |δ^l| on a log colour scale: vanishing fades, exploding flares."""
    delta = history["delta_mean_abs"]  # (steps, L)
    n_layers = delta.shape[1] if delta.ndim == 2 else 0
    logd, lo, hi = log_delta(delta)
    height = max(LOSS_HEIGHT, 130 + 20 * n_layers)  # as tall as the loss chart beside it, or taller
    # the colour bar reads like every log axis, at their log10; its labels never overlap (bar: the plot's height)
    bar = spaced_ticks(powers_of_ten(log_axis(delta.ravel())), lo, hi, height - 80 - 60, FONT_SIZE + 3)
    heatmap = dict(
        type="heatmap", x=history["step"], y=[layer_name(l, n_layers) for l in range(1, n_layers + 1)], z=logd,
        zmin=lo, zmax=hi, colorscale="Viridis",
        colorbar=dict(title=dict(text=_("mean |δ|"), side="right"), thickness=12,
                      tickvals=np.log10(bar.get("tickvals", [])), ticktext=bar.get("ticktext", [])),
        hovertemplate=_("step %{x}<br>%{y}<br>log10 mean |δ| = %{z:.2f}") + "<extra></extra>")
    return live_figure([heatmap], merged(theme_layout(height), dict(
        # two title lines: the page shows this chart beside the loss chart, in 40% of the width
        title=dict(text=_("Error signal δ<sup>l</sup> = ∂C/∂z<sup>l</sup><br>in every layer (log colour)")),
        xaxis=dict(title=dict(text=_("step")), nticks=4),  # a narrow chart: a few upright step numbers
        yaxis=dict(autorange="reversed"), margin=dict(t=80))))


def per_layer_lines(history: dict, field: str, title: str, y_title: str, log: bool = True) -> go.Figure:
    """One line per layer over the steps (δ, gradient norm or update/weight ratio); in a long run each point is a
    stretch's mean, with its min-max band."""
    values = history[field]
    n_layers = values.shape[1] if values.ndim == 2 else 0
    bands, data = has_bands(history), []
    for l in range(n_layers):
        color = LAYER_COLORS[l % len(LAYER_COLORS)]
        if bands:
            data += band(history["step"], history[f"{field}_min"][:, l], history[f"{field}_max"][:, l], color,
                         opacity=0.1)  # fainter: several layers' bands overlap
        data.append(dict(type="scatter", x=history["step"], y=values[:, l], name=layer_name(l + 1, n_layers),
                         mode="lines", line=dict(color=color, width=2)))
    shown = np.concatenate([values.ravel()] + ([history[f"{field}_min"].ravel(), history[f"{field}_max"].ravel()]
                                               if bands else []))
    y_axis = log_axis(shown, title=dict(text=y_title)) if log else dict(title=dict(text=y_title))
    return live_figure(data, merged(theme_layout(340), dict(title=dict(text=title), xaxis=dict(
        title=dict(text=_("step"))), yaxis=y_axis)))


def distributions(samples: list[np.ndarray], title: str, x_title: str, names: list[str]) -> go.Figure:
    """One violin per layer (values of a^l or of W^l)."""
    fig = go.Figure()
    for l, values in enumerate(samples):
        fig.add_trace(go.Violin(y=values, name=names[l], box_visible=True, meanline_visible=True, points=False,
                                line_color=LAYER_COLORS[l % len(LAYER_COLORS)], spanmode="hard"))
    fig.update_layout(title=title, showlegend=False)
    fig.update_yaxes(title_text=x_title)
    return style(fig, height=340)


OUTPUT_GREY = LIGHT_GREY  # the output layer's bar: drawn, not judged


def saturation_bars(fractions: np.ndarray, names: list[str], activations: list[str]) -> go.Figure:
    """Share of saturated (sigmoid/tanh) or dead (ReLU) units per hidden layer, now, each bar in its activation's
    kind colour (ui.theme.KIND_COLORS); the output layer in grey.

    The output layer's share is drawn but not judged: a softmax or sigmoid output near 0 or 1 is a confident
    answer, which is what training is for.
    """
    names = [n.replace(" (", "<br>(") for n in names]  # "output<br>(l=3)": narrow bars, and 输出层 is wide
    labels = [f"{n}<br>{a}" for n, a in zip(names, activations)]
    colors = [KIND_COLORS[ACTIVATIONS[name].kind] for name in activations[:-1]] + [OUTPUT_GREY]
    labels[-1] = f"{names[-1]}<br>{activations[-1]}<br>" + _("(confident)")
    fig = go.Figure(go.Bar(x=labels, y=fractions, marker_color=colors, text=[f"{f:.0%}" for f in fractions],
                           textposition="outside", cliponaxis=False))
    fig.update_layout(title=_("Saturated or dead hidden units<br><sup>sigmoid/tanh saturate, ReLU dies.<br>Grey: the "
                              "output layer, not judged:<br>confident outputs are the goal</sup>"),
                      uniformtext=dict(minsize=12, mode="show"))
    fig.update_yaxes(range=[0, 1.15], tickformat=".0%", title_text=_("share of units"))
    fig.update_xaxes(tickangle=0)
    fig = style(fig, height=420)
    fig.update_layout(margin=dict(t=120))  # room for the three-line subtitle
    return fig


def decision_boundary(boundary: Boundary) -> go.Figure:
    """2-D data: P(class 1) as a heatmap with the training points on top."""
    xx, yy, prob, points, labels = boundary.xx, boundary.yy, boundary.prob, boundary.points, boundary.labels
    fig = go.Figure(go.Heatmap(x=xx, y=yy, z=prob, zmin=0, zmax=1, colorscale="RdBu", reversescale=True,
                               opacity=0.75, colorbar=dict(title=_("P(class 1)")), hoverinfo="skip"))
    fig.add_trace(go.Contour(x=xx, y=yy, z=prob, contours=dict(start=0.5, end=0.5, coloring="none"),
                             line=dict(color="black", width=3), showscale=False, hoverinfo="skip", showlegend=False))
    for cls, color in ((0, "#1864ab"), (1, ORANGE)):  # the colours of their regions: P(class 1) low blue, high red
        sel = labels == cls
        fig.add_trace(go.Scatter(x=points[sel, 0], y=points[sel, 1], mode="markers", name=_("class {cls}").format(cls=cls),
                                   marker=dict(color=color, size=7, line=dict(color="white", width=1))))
    fig.update_layout(title=_("Decision boundary (black line: P = 0.5)"))
    fig.update_xaxes(title_text="x₁", range=[xx.min(), xx.max()], constrain="domain")
    fig.update_yaxes(title_text="x₂", range=[yy.min(), yy.max()], scaleanchor="x", constrain="domain")
    return style(fig, height=520, legend_below=True)


def regression_fit(shown: RegressionFit) -> go.Figure:
    """Regression: the data and the network's curve over it."""
    x, y, grid, fit = shown.x, shown.y, shown.grid, shown.fit
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x[:, 0], y=y[:, 0], mode="markers", name=_("training data"),
                               marker=dict(color=GREY, size=7)))
    fig.add_trace(go.Scatter(x=grid, y=grid ** 2, mode="lines", name=_("truth y = x²"),
                             line=dict(color=GREEN, width=2, dash="dash")))
    fig.add_trace(go.Scatter(x=grid, y=fit, mode="lines", name=_("network"), line=dict(color=TRAIN, width=4)))
    fig.update_layout(title=_("Fitting y = x² + noise"))
    fig.update_xaxes(title_text="x")
    fig.update_yaxes(title_text="y")
    return style(fig, height=420, legend_below=True)


def digit_gallery(gallery: Gallery, columns: int = 12) -> go.Figure:
    """Validation digits with the current prediction; wrong ones framed in red."""
    images, image_shape, predicted, labels = gallery.images, gallery.image_shape, gallery.predicted, gallery.labels
    n = len(images)
    rows = int(np.ceil(n / columns))
    h, w = image_shape
    pad = max(1, h // 10)
    cell_h, cell_w = h + 2 * pad, w + 2 * pad
    rgb = np.full((rows * cell_h, columns * cell_w, 3), 255, dtype=np.uint8)  # white gaps
    annotations = []
    for i in range(n):
        r, c = divmod(i, columns)
        top, left = r * cell_h, c * cell_w
        wrong = predicted[i] != labels[i]
        rgb[top:top + cell_h, left:left + cell_w] = (224, 49, 49) if wrong else (222, 226, 230)
        ink = (np.clip(images[i].reshape(h, w), 0, 1) * 255).astype(np.uint8)
        rgb[top + pad:top + pad + h, left + pad:left + pad + w] = ink[..., None]
        annotations.append(dict(x=left + cell_w - pad, y=top + pad, text=f"<b>{predicted[i]}</b>",
                                showarrow=False, xanchor="right", yanchor="top",
                                font=dict(size=15, color="#ff8787" if wrong else "#8ce99a")))
    fig = go.Figure(go.Image(z=rgb, hoverinfo="skip"))
    fig.update_layout(annotations=annotations, title=_("Validation digits and the network's answer (red frame = wrong)"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, height=max(260, 80 + rows * 70))
