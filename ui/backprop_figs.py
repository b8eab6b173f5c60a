"""Figures for the Backprop page: unit values, BP1, the Hadamard product of BP2, gradients, the η sweep."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.theme import style

BLUE, ORANGE, GREEN, GREY = "#3b5bdb", "#e8590c", "#2b8a3e", "#868e96"


def _bars(fig: go.Figure, values: np.ndarray, color: str, name: str, row: int | None = None) -> None:
    trace = go.Bar(x=np.arange(1, len(values) + 1), y=values, marker_color=color, name=name,
                   hovertemplate="unit %{x}: %{y:.4g}<extra>" + name + "</extra>")
    fig.add_trace(trace, row=row, col=1) if row else fig.add_trace(trace)


def forward_layer(z: np.ndarray, a: np.ndarray, l: int, activation: str) -> go.Figure:
    """z^l and a^l = σ(z^l) of one layer, unit by unit."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(f"z<sup>{l}</sup> = W<sup>{l}</sup>a<sup>{l - 1}</sup> + "
                                                         f"b<sup>{l}</sup>", f"a<sup>{l}</sup> = {activation}(z)"))
    fig.add_trace(go.Bar(x=np.arange(1, len(z) + 1), y=z, marker_color=GREY, name="z"), 1, 1)
    fig.add_trace(go.Bar(x=np.arange(1, len(a) + 1), y=a, marker_color=BLUE, name="a"), 1, 2)
    fig.update_xaxes(title_text="unit j")
    fig.update_layout(showlegend=False)
    return style(fig, height=280)


def bp1(a: np.ndarray, y: np.ndarray, delta: np.ndarray) -> go.Figure:
    """The output layer: a^L, the target y and δ^L side by side for the ten digits."""
    digits = [str(d) for d in range(len(a))]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=digits, y=a, name="a<sup>L</sup> (output)", marker_color=BLUE))
    fig.add_trace(go.Bar(x=digits, y=y, name="y (target)", marker_color=GREEN))
    fig.add_trace(go.Bar(x=digits, y=delta, name="δ<sup>L</sup>", marker_color=ORANGE))
    fig.update_layout(barmode="group", title="BP1 at the output layer")
    fig.update_xaxes(title_text="digit", type="category")
    return style(fig, height=330, legend_below=True)


def hadamard(back: np.ndarray, sigma_prime: np.ndarray, delta: np.ndarray, l: int) -> go.Figure:
    """BP2 for layer l, unit by unit: (W^(l+1))^T δ^(l+1)  ⊙  σ'(z^l)  =  δ^l."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.1, subplot_titles=(
        f"(W<sup>{l + 1}</sup>)<sup>T</sup> δ<sup>{l + 1}</sup>: the error sent back",
        f"⊙  σ'(z<sup>{l}</sup>): how much each unit lets through",
        f"=  δ<sup>{l}</sup>"))
    _bars(fig, back, GREY, "back", 1)
    _bars(fig, sigma_prime, GREEN, "σ'", 2)
    _bars(fig, delta, ORANGE, "δ", 3)
    fig.update_xaxes(title_text="unit j", row=3, col=1)
    fig.update_layout(showlegend=False, title=f"BP2 for layer {l}: element by element")
    return style(fig, height=520)


def gradient_heatmap(grad_w: np.ndarray, l: int) -> go.Figure:
    """BP4: ∂C/∂W^l = δ^l (a^(l-1))^T, one row per unit of layer l."""
    bound = max(float(np.abs(grad_w).max()), 1e-12)
    fig = go.Figure(go.Heatmap(z=grad_w, colorscale="RdBu", zmid=0, zmin=-bound, zmax=bound,
                               colorbar=dict(title="∂C/∂w"),
                               hovertemplate="w<sub>%{y},%{x}</sub>: %{z:.3g}<extra></extra>"))
    fig.update_layout(title=f"∂C/∂W<sup>{l}</sup> = δ<sup>{l}</sup>(a<sup>{l - 1}</sup>)<sup>T</sup>")
    fig.update_xaxes(title_text=f"input unit k (layer {l - 1})")
    fig.update_yaxes(title_text=f"unit j (layer {l})", autorange="reversed")
    return style(fig, height=340)


def input_weight_gradients(rows: np.ndarray, units: list[int]) -> go.Figure:
    """The first layer's ∂C/∂W rows as 28x28 images: which pixels each unit's weights move on."""
    fig = make_subplots(rows=1, cols=len(units), subplot_titles=[f"unit {u}" for u in units],
                        horizontal_spacing=0.03)
    bound = max(float(np.abs(rows).max()), 1e-12)
    for i, row in enumerate(rows):
        fig.add_trace(go.Heatmap(z=row.reshape(28, 28), colorscale="RdBu", zmid=0, zmin=-bound, zmax=bound,
                                 showscale=i == len(units) - 1, colorbar=dict(title="∂C/∂w"),
                                 hovertemplate="pixel (%{y}, %{x}): %{z:.3g}<extra></extra>"), 1, i + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    fig.update_layout(title="∂C/∂W<sup>1</sup>, one row per unit as a 28x28 image (units with the largest |δ|)")
    return style(fig, height=300)


def eta_sweep(etas: np.ndarray, costs: np.ndarray, before: float, chosen: float, after: float) -> go.Figure:
    """C after one step w ← w − η∂C/∂w, for a range of η: down, then overshoot."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=etas, y=costs, mode="lines", name="C after the step", line=dict(color=BLUE, width=3)))
    fig.add_hline(y=before, line=dict(color=GREY, dash="dash"), annotation_text="C before",
                  annotation_position="top left")
    fig.add_trace(go.Scatter(x=[chosen], y=[after], mode="markers", name="your η",
                             marker=dict(color=ORANGE, size=16, symbol="diamond")))
    fig.update_layout(title="One gradient-descent step on this example")
    fig.update_xaxes(type="log", title_text="learning rate η")
    fig.update_yaxes(type="log", title_text="cost C", exponentformat="power")
    return style(fig, height=360, legend_below=True)
