"""Figures for the Draw page: probabilities, the 28x28 input, every layer's activations, feature maps."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from ui.theme import style

CHOSEN, OTHER = "#3b5bdb", "#adb5bd"
STRONGEST = 5  # units marked in each layer


def probability_bars(probs: np.ndarray) -> go.Figure:
    """P(digit) for 0-9; the predicted digit in colour."""
    label = int(np.argmax(probs))
    fig = go.Figure(go.Bar(
        x=[str(d) for d in range(len(probs))], y=probs,
        marker_color=[CHOSEN if d == label else OTHER for d in range(len(probs))],
        text=[f"{p:.0%}" if p >= 0.005 else "" for p in probs], textposition="outside",
        hovertemplate="digit %{x}: %{y:.1%}<extra></extra>"))
    fig.update_layout(title="How sure is the network? a<sup>L</sup> = softmax(z<sup>L</sup>)")
    fig.update_xaxes(title_text="digit", type="category")
    fig.update_yaxes(range=[0, 1.12], tickformat=".0%", title_text="probability")
    return style(fig, height=330)


def input_image(pixels: np.ndarray) -> go.Figure:
    """The 28x28 input exactly as the network receives it (x = a<sup>0</sup>, 784 numbers)."""
    fig = go.Figure(go.Heatmap(z=pixels, colorscale="Gray", zmin=0, zmax=1, showscale=False,
                               hovertemplate="row %{y}, column %{x}: %{z:.2f}<extra></extra>"))
    fig.update_layout(title="What the network sees: 28x28")
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x", constrain="domain")
    fig = style(fig, height=330)
    fig.update_layout(margin=dict(l=10, r=10, t=60, b=10))
    return fig


def _grid(n: int) -> tuple[int, int]:
    """Rows and columns for n units laid out as a near-square-ish grid, at most 16 wide."""
    cols = min(n, 16)
    return math.ceil(n / cols), cols


def layer_activations(values: np.ndarray, title: str, labels: list[str] | None = None) -> go.Figure:
    """One layer's a^l as a grid of cells, unit 1 top left, always in the same place; strongest marked.

    `labels` names each cell (the output layer's digits); otherwise cells are numbered units.
    """
    n = len(values)
    rows, cols = _grid(n)
    grid = np.full(rows * cols, np.nan)
    grid[:n] = values
    grid = grid.reshape(rows, cols)
    units = np.arange(1, rows * cols + 1).reshape(rows, cols)
    fig = go.Figure(go.Heatmap(z=grid, customdata=units, colorscale="Viridis", zmin=0,
                               zmax=max(float(np.nanmax(values)), 1e-6), xgap=2, ygap=2,
                               colorbar=dict(title="a", thickness=14, nticks=4 if rows > 1 else 3),
                               hovertemplate="unit %{customdata}: a = %{z:.3f}<extra></extra>"))
    top = np.argsort(values)[::-1][:min(1 if labels else STRONGEST, n)]
    top = top[values[top] > 0.05 * values.max()] if values.max() > 0 else top[:0]  # only units that fired
    names = labels or [str(u + 1) for u in range(n)]
    fig.add_trace(go.Scatter(x=top % cols, y=top // cols, mode="markers", hoverinfo="skip", showlegend=False,
                             marker=dict(symbol="circle-open", size=30, color="#e8590c", line=dict(width=4))))
    if labels or n <= 16:
        # dark text on the bright (yellow-green) end of Viridis, white on the dark end: readable on every cell
        bright = values > 0.6 * max(float(values.max()), 1e-6)
        fig.add_trace(go.Scatter(x=np.arange(n) % cols, y=np.arange(n) // cols, mode="text", text=names,
                                 textfont=dict(size=18, color=np.where(bright, "#212529", "white").tolist()),
                                 hoverinfo="skip", showlegend=False))
    fig.update_layout(title=title)
    fig.update_xaxes(visible=False, range=[-0.5, cols - 0.5])
    fig.update_yaxes(visible=False, autorange="reversed")
    return style(fig, height=max(210, 100 + 42 * rows))


def feature_maps(maps: np.ndarray, title: str, show: int = 16, cols: int = 8) -> go.Figure:
    """The first `show` channels of one conv layer's output (channels, H, W), tiled as one image.

    One heatmap of tiles separated by blank gaps draws in a few ms; a subplot per filter took ~100 ms a
    figure, on every stroke.
    """
    channels = min(show, len(maps))
    cols = min(channels, cols)
    rows = math.ceil(channels / cols)
    _, h, w = maps.shape
    gap_x, gap_y = max(1, w // 7), max(2, round(h * 0.35))  # blank columns between tiles, room for labels above
    step_x, step_y = w + gap_x, h + gap_y
    sheet = np.full((rows * step_y, cols * step_x - gap_x), np.nan, dtype=np.float32)
    filters = np.full(sheet.shape, -1, dtype=np.int32)  # which filter each pixel belongs to, for the hover
    tops, lefts = [], []
    for c in range(channels):
        top, left = (c // cols) * step_y + gap_y, (c % cols) * step_x
        sheet[top:top + h, left:left + w] = maps[c]
        filters[top:top + h, left:left + w] = c + 1
        tops.append(top)
        lefts.append(left)
    zmax = max(float(maps[:channels].max()), 1e-6)  # one colour scale for all tiles: strengths compare
    fig = go.Figure(go.Heatmap(z=sheet, customdata=filters, colorscale="Viridis", zmin=0, zmax=zmax,
                               colorbar=dict(title="a", thickness=14, nticks=4),
                               hovertemplate="filter %{customdata}: %{z:.2f}<extra></extra>", hoverongaps=False))
    # filter numbers as one text trace above the tiles (32 layout annotations cost ~60 ms to style)
    fig.add_trace(go.Scatter(x=np.array(lefts) + (w - 1) / 2, y=np.array(tops) - 0.5,
                             text=[str(c + 1) for c in range(channels)], mode="text", textposition="top center",
                             textfont=dict(size=14), hoverinfo="skip", showlegend=False))
    fig.update_layout(title=title)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    pixel = 780 / sheet.shape[1]  # screen px per map pixel: the plot area is ~780 px wide beside the colour bar
    fig = style(fig, height=int(90 + pixel * sheet.shape[0]))
    fig.update_layout(margin=dict(l=20, r=20, t=60, b=10))
    return fig
