"""Figures for the Gradients page: δ profiles, ‖∂C/∂W‖, activations, saturation, learning speeds, the scalar chain."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from engine.nn.activations import ACTIVATIONS
from ui.i18n import N_, _
from ui.theme import BLUE, GREEN, GREY, KIND_COLORS, LAYER_COLORS, LIGHT_GREY, ORANGE, EDGE, log_axis, style

CONFIG_COLORS = [BLUE, ORANGE]  # configuration A blue, B orange
CHAIN_COLOR = GREEN
CONFIG_PATTERNS = ["", "/"]  # the saturation bars' fill is the kind's colour: A plain, B hatched
# What each kind of activation (the registry's ACTIVATIONS[name].kind) makes of a unit at σ' ≈ 0
KIND_WORDS = {"saturates": N_("saturated"), "dies": N_("dead"), "none": N_("never saturates or dies")}


@dataclass(frozen=True)
class Series:
    """One line of a per-layer chart: a configuration at init or after training."""

    label: str  # legend text, e.g. "A: sigmoid + N(0,1)"
    rows: list  # the engine's per-layer rows (layer, delta_mean_abs, grad_norm, ..., saturated_frac)
    color: str
    dash: str = "solid"  # "dash" for the at-init line when the trained one is also shown


def _layer_axis(fig: go.Figure, n_layers: int) -> None:
    fig.update_xaxes(title_text=_("layer l   (1 = first hidden layer, {n} = output layer)").format(n=n_layers),
                     rangemode="tozero" if n_layers < 3 else "normal", dtick=1 if n_layers <= 20 else 5)


def _positive(values: list[float]) -> list[float | None]:
    """Log axes cannot show 0 or inf: those points become gaps (the hover and caption say why)."""
    return [v if math.isfinite(v) and v > 0 else None for v in values]


def per_layer_log(series: list[Series], field: str, title: str, y_title: str, height: int = 420) -> go.Figure:
    """One line per configuration of a per-layer field on a log y axis (mean |δ^l| or ‖∂C/∂W^l‖)."""
    fig = go.Figure()
    n_layers, everything = 1, []
    for s in series:
        layers = [r["layer"] for r in s.rows]
        values = [r[field] for r in s.rows]
        n_layers = max(n_layers, len(layers))
        everything += values
        fig.add_trace(go.Scatter(
            x=layers, y=_positive(values), name=s.label, mode="lines+markers",
            line=dict(color=s.color, width=3, dash=s.dash), marker=dict(size=7),
            customdata=values, hovertemplate=s.label + "<br>" + _("layer %{x}: %{customdata:.3g}") + "<extra></extra>"))
    fig.update_yaxes(**log_axis(everything, title_text=y_title))
    _layer_axis(fig, n_layers)
    fig.update_layout(title=title)
    return style(fig, height=height, legend_below=EDGE)


def delta_profile(series: list[Series], steps: int | None = None, height: int = 420) -> go.Figure:
    """Mean |δ^l| per layer: a falling line is a vanishing gradient, a rising one (towards layer 1) exploding.

    At initialisation, or (steps given) at init dotted and after that many training steps.
    """
    title = (_("Error signal per layer, at initialisation") if steps is None
             else _("Error signal per layer, at init (dotted) and after {steps} steps").format(steps=steps))
    return per_layer_log(series, "delta_mean_abs", title, _("mean |δ<sup>l</sup>|  (log scale)"), height=height)


def grad_norms(series: list[Series]) -> go.Figure:
    """‖∂C/∂W^l‖ per layer: how hard gradient descent pushes each layer's weights."""
    return per_layer_log(series, "grad_norm", _("Weight gradient per layer"), _("‖∂C/∂W<sup>l</sup>‖  (log scale)"))


def activation_violins(samples: list, title: str, color: str, height: int = 420) -> go.Figure:
    """One violin of a^l per hidden layer, with σ's bounds drawn: collapse to 0 and saturation at ±1 show."""
    fig = go.Figure()
    for s in samples:
        fig.add_trace(go.Violin(
            x=np.full(len(s.values), s.layer), y=s.values, name=_("layer {l}").format(l=s.layer), showlegend=False,
            line=dict(color=color, width=1.5), fillcolor=color, opacity=0.55, points=False, spanmode="hard",
            width=0.9, scalemode="width", meanline_visible=True, hoverinfo="skip"))
    names = {s.activation for s in samples}
    bounds = ACTIVATIONS[next(iter(names))].bounds if len(names) == 1 else None
    for level in bounds or ():
        fig.add_hline(y=level, line=dict(color=GREY, width=1.5, dash="dot"),
                      annotation_text=_("saturates at {level:g}").format(level=level), annotation_position="top left")
    n = len(samples)
    fig.update_xaxes(title_text=_("hidden layer l"), dtick=1 if n <= 20 else 5, range=[0.4, n + 0.6])
    fig.update_yaxes(title_text=_("activation a<sup>l</sup>"), zeroline=True, zerolinecolor=LIGHT_GREY)
    fig.update_layout(title=title, violingap=0.05)
    return style(fig, height=height)


def saturation_bars(series: list[Series], activations: list[str]) -> go.Figure:
    """Share of saturated (sigmoid/tanh) or dead (ReLU) units per hidden layer: one group of bars per configuration,
    each in its activation's kind colour (ui.theme.KIND_COLORS), configuration B hatched."""
    fig = go.Figure()
    for i, s in enumerate(series):
        hidden = s.rows[:-1]
        kind = ACTIVATIONS[activations[i]].kind
        word, color, pattern = _(KIND_WORDS[kind]), KIND_COLORS[kind], CONFIG_PATTERNS[i % len(CONFIG_PATTERNS)]
        fig.add_trace(go.Bar(
            x=[r["layer"] for r in hidden], y=[100 * (r["saturated_frac"] + r["dead_frac"]) for r in hidden],
            name=f"{s.label}: {word}", marker=dict(color=color, pattern=dict(shape=pattern)),
            hovertemplate=s.label + "<br>" + _("layer %{x}: %{y:.0f}%") + " " + word + "<extra></extra>"))
    fig.update_yaxes(title_text=_("% of units"), range=[0, 100], ticksuffix="%")
    n = max((len(s.rows) - 1 for s in series), default=1)
    fig.update_xaxes(title_text=_("hidden layer l"), dtick=1 if n <= 20 else 5)
    fig.update_layout(title=_("Saturated or dead units per layer (σ'(z) ≈ 0 there)"), barmode="group")
    return style(fig, height=380, legend_below=EDGE)


def learning_speed_figure(curve: np.ndarray, lr: float, images: int, height: int = 420) -> go.Figure:
    """Nielsen's speeds of learning ‖∂C/∂b^l‖ over epochs, one line per hidden layer in the layer colours, log y.

    curve is (epochs + 1, hidden layers), first hidden layer first; a single row (at init) is drawn as markers.
    """
    epochs = curve.shape[0] - 1
    fig = go.Figure()
    for l in range(curve.shape[1]):
        name = _("hidden layer {l}").format(l=l + 1)
        fig.add_trace(go.Scatter(
            x=np.arange(epochs + 1), y=_positive(curve[:, l].tolist()), name=name,
            mode="lines" if epochs else "markers", line=dict(color=LAYER_COLORS[l % len(LAYER_COLORS)], width=3),
            marker=dict(size=12), customdata=curve[:, l],
            hovertemplate=name + "<br>" + _("epoch %{x}: %{customdata:.3g}") + "<extra></extra>"))
    y_title = _("speed of learning ‖∂C/∂b<sup>l</sup>‖")
    fig.update_yaxes(**log_axis(curve.reshape(-1).tolist(), title_text=y_title))
    fig.update_xaxes(title_text=_("epoch (full-batch gradient descent, η = {lr:g}, {images} images)").format(
        lr=lr, images=images), rangemode="tozero")
    fig.update_layout(title=_("Speed of learning per hidden layer") if epochs
                      else _("Speed of learning per hidden layer, at initialisation"))
    return style(fig, height=height, legend_below=EDGE)


def chain_figure(gain: np.ndarray, w: float, activation: str, real: list | None = None,
                 real_label: str = "") -> go.Figure:
    """The scalar chain's Π w·σ'(z) from layer l to the top, next to the real network's mean |δ^l| / mean |δ^L|."""
    depth = len(gain)
    everything = np.abs(gain).tolist()
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=np.arange(1, depth + 1), y=_positive(np.abs(gain).tolist()), mode="lines+markers",
        name=_("one neuron per layer, w = {w:g}, {activation}").format(
            w=w, activation=_(ACTIVATIONS[activation].label)),
        line=dict(color=CHAIN_COLOR, width=3),
        customdata=gain, hovertemplate=_("layer %{x}: Π w·σ'(z) = %{customdata:.3g}") + "<extra></extra>"))
    if real:
        top = real[-2 if len(real) > 1 else -1]["delta_mean_abs"]  # the last hidden layer, as the verdict's ratio
        shares = [r["delta_mean_abs"] / top if top > 0 else math.nan for r in real[:-1]]
        everything += shares
        fig.add_trace(go.Scatter(
            x=[r["layer"] for r in real[:-1]], y=_positive(shares), mode="lines+markers",
            name=real_label or _("real network: mean |δ<sup>l</sup>| / mean |δ| of the last hidden layer"),
            line=dict(color=CONFIG_COLORS[0], width=3, dash="dash"),
            customdata=shares, hovertemplate=_("layer %{x}: %{customdata:.3g}") + "<extra></extra>"))
    fig.add_hline(y=1, line=dict(color=GREY, width=1.5, dash="dot"))
    fig.update_yaxes(**log_axis(everything + [1.0], title_text=_("share of the top error reaching layer l")))
    n = max(depth, len(real) - 1 if real else 0)
    fig.update_xaxes(title_text=_("layer l"), dtick=1 if n <= 20 else 5)
    fig.update_layout(title=_("How much of the error signal survives down to layer l"))
    return style(fig, height=420, legend_below=EDGE)


__all__ = ["Series", "CONFIG_COLORS", "KIND_WORDS", "delta_profile", "grad_norms", "per_layer_log", "activation_violins",
           "saturation_bars", "learning_speed_figure", "chain_figure"]
