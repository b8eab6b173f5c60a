"""Figures for the Draw page: probabilities, the 28x28 input, every layer's activations, feature maps."""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from engine.nn.activations import label as activation_label
from ui.i18n import N_, _
from ui.theme import BLACK, BLUE, LIGHT_GREY, ORANGE, style

CHOSEN, OTHER = BLUE, LIGHT_GREY
STRONGEST = 5  # units marked in each layer


def probability_bars(probs: np.ndarray, output: str = "softmax", temperature: float = 1.0,
                     unsure: tuple[int, int] | None = None) -> go.Figure:
    """a^L for 0-9: softmax probabilities (with the calibration T) or sigmoid outputs; the answer in colour.

    `unsure`: the two candidates of a "Not sure" answer, both coloured.
    """
    label = int(np.argmax(probs))
    chosen = set(unsure) if unsure else {label}
    fig = go.Figure(go.Bar(
        x=[str(d) for d in range(len(probs))], y=probs,
        marker_color=[CHOSEN if d in chosen else OTHER for d in range(len(probs))],
        text=[f"{p:.0%}" if p >= 0.005 else "" for p in probs], textposition="outside",
        hovertemplate=_("digit %{x}: %{y:.1%}") + "<extra></extra>"))
    if output == "softmax":
        # three short lines, not one long one: a phone's chart is 358 px wide
        formula = ("a<sup>L</sup> = softmax(z<sup>L</sup>)" if temperature == 1.0 else
                   f"a<sup>L</sup> = softmax(z<sup>L</sup> / T), T = {temperature:.2f}")
        title = (_("How sure is the network?") + "<br>" + formula + "<br><sup>"
                 + _("probabilities: the ten bars add up to 100 %") + "</sup>")
        axis = _("probability")
    else:
        title = (_("The ten outputs a<sup>L</sup> = σ(z<sup>L</sup>)") + "<br><sup>"
                 + _("sigmoid outputs of an mse network: each 0-1 on its own, they need not add up to 1") + "</sup>")
        axis = _("output a<sup>L</sup><sub>j</sub>")
    fig.update_layout(title=title)
    fig.update_xaxes(title_text=_("digit"), type="category")
    fig.update_yaxes(range=[0, 1.12], tickformat=".0%", title_text=axis)
    fig = style(fig, height=380)
    return fig


# engine.views.draw.architecture's pooling rows by the spec's pool name (max, avg, l2)
POOLING = {"max": N_("max pooling 2x2: each map halves to {h}x{w}; no parameters"),
           "avg": N_("avg pooling 2x2: each map halves to {h}x{w}; no parameters"),
           "l2": N_("l2 pooling 2x2: each map halves to {h}x{w}; no parameters")}


def architecture_text(rows: list[dict]) -> str:
    """engine.views.draw.architecture as a numbered Markdown list a student can recount the parameters from."""
    lines = []
    for row in rows:
        kind = row["kind"]
        if kind == "conv":
            lines.append(_("convolution {n_in}→{n_out}: {n_out} filters of {k}x{k}x{n_in} weights and a bias each "
                           "= {n_out} x ({k}·{k}·{n_in} + 1) = **{params:,}** parameters; output {n_out} maps of "
                           "{h}x{w}, then ReLU").format(k=row["kernel"], n_in=row["in"], n_out=row["out"],
                                                        params=row["params"], h=row["size"][0], w=row["size"][1]))
        elif kind == "pool":
            pooling = POOLING[row["name"]]
            lines.append(_(pooling).format(h=row["size"][0], w=row["size"][1]))
        elif kind == "flatten":
            lines.append(_("flatten: the maps laid end to end as one vector of **{units:,}** numbers, the $a^0$ of "
                           "the dense layers").format(units=row["units"]))
        else:
            lines.append(_("dense {n_in:,}→{n_out}: $W^l$ is {n_out}x{n_in:,} and $b^l$ has {n_out} entries = "
                           "{n_out} x ({n_in:,} + 1) = **{params:,}** parameters, then {activation}").format(
                n_in=row["in"], n_out=row["out"], params=row["params"],
                activation=_(activation_label(row["activation"]))))
    total = sum(row.get("params", 0) for row in rows)
    return ("\n".join(f"{i}. {line}" for i, line in enumerate(lines, start=1)) + "\n\n"
            + _("In all **{total:,}** parameters.").format(total=total))


def input_image(pixels: np.ndarray) -> go.Figure:
    """The 28x28 input exactly as the network receives it (x = $a^0$, 784 numbers)."""
    fig = go.Figure(go.Heatmap(z=pixels, colorscale="Gray", zmin=0, zmax=1, showscale=False,
                               hovertemplate=_("row %{y}, column %{x}: %{z:.2f}") + "<extra></extra>"))
    fig.update_layout(title=_("What the network sees") + "<br><sup>28x28</sup>")  # fits a third of 1280 px
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     scaleanchor="x", constrain="domain")
    fig = style(fig, height=356)
    fig.update_layout(margin=dict(l=10, r=10, b=10))  # the title's lines: fit_texts()
    return fig


def _grid(n: int) -> tuple[int, int]:
    """Rows and columns for n units laid out as a near-square-ish grid, at most 16 wide."""
    cols = min(n, 16)
    return math.ceil(n / cols), cols


def layer_activations(values: np.ndarray, title: str, labels: list[str] | None = None) -> go.Figure:
    """One layer's a^l as a grid of cells, unit 1 top left, always in the same place; strongest marked.

    `title` may have a second, smaller line ("...<br><sup>...</sup>").

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
                               hovertemplate=_("unit %{customdata}: a = %{z:.3f}") + "<extra></extra>"))
    top = np.argsort(values)[::-1][:min(1 if labels else STRONGEST, n)]
    top = top[values[top] > 0.05 * values.max()] if values.max() > 0 else top[:0]  # only units that fired
    names = labels or [str(u + 1) for u in range(n)]
    fig.add_trace(go.Scatter(x=top % cols, y=top // cols, mode="markers", hoverinfo="skip", showlegend=False,
                             marker=dict(symbol="circle-open", size=30, color=ORANGE, line=dict(width=4))))
    if labels or n <= 16:
        # dark text on the bright (yellow-green) end of Viridis, white on the dark end: readable on every cell
        bright = values > 0.6 * max(float(values.max()), 1e-6)
        fig.add_trace(go.Scatter(x=np.arange(n) % cols, y=np.arange(n) // cols, mode="text", text=names,
                                 textfont=dict(size=18, color=np.where(bright, BLACK, "white").tolist()),
                                 hoverinfo="skip", showlegend=False))
    fig.update_layout(title=title)
    fig.update_xaxes(visible=False, range=[-0.5, cols - 0.5])
    fig.update_yaxes(visible=False, autorange="reversed")
    fig = style(fig, height=max(236, 126 + 42 * rows))
    return fig


def feature_maps(maps: np.ndarray, title: str, show: int = 16, cols: int = 8) -> go.Figure:
    """The first `show` channels of one conv layer's output (channels, H, W), tiled as one image.

    One heatmap of tiles separated by blank gaps draws in a few ms; a subplot per filter took ~100 ms a
    figure, on every stroke.
    """
    channels = min(show, len(maps))
    cols = min(channels, cols)
    rows = math.ceil(channels / cols)
    h, w = maps.shape[1:]
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
                               hovertemplate=_("filter %{customdata}: %{z:.2f}") + "<extra></extra>",
                               hoverongaps=False))
    # filter numbers as one text trace above the tiles (32 layout annotations cost ~60 ms to style)
    fig.add_trace(go.Scatter(x=np.array(lefts) + (w - 1) / 2, y=np.array(tops) - 0.5,
                             text=[str(c + 1) for c in range(channels)], mode="text", textposition="top center",
                             textfont=dict(size=14), hoverinfo="skip", showlegend=False))
    fig.update_layout(title=title)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    pixel = 780 / sheet.shape[1]  # screen px per map pixel: the plot area is ~780 px wide beside the colour bar
    fig = style(fig, height=int(116 + pixel * sheet.shape[0]))
    fig.update_layout(margin=dict(l=20, r=20, b=10))
    return fig


# ---------------------------------------------------------------- the Clear button, cleared in the browser

# Clear must empty the canvas at the moment it is pressed. Mounting a fresh canvas from the server (a new
# widget key) arrives one rerun later and wipes any stroke drawn in between; instead, this script presses
# the canvas's own "Reset canvas & history" button in the browser, before Streamlit even sees the click.
# The canvas stays mounted, so a stroke drawn right after Clear lands on it and is sent after the reset.
_CLEAR_JS = """
export default function ({ parentElement, data }) {
  const doc = parentElement.ownerDocument;
  const win = doc.defaultView;
  if (win.__playgroundClearHook === data.button) return;  // one listener per page, whatever reruns
  win.__playgroundClearHook = data.button;
  const findDeep = (root, selector) => {  // the canvas lives in a shadow root
    const hit = root.querySelector(selector);
    if (hit) return hit;
    for (const node of root.querySelectorAll("*")) {
      const found = node.shadowRoot && findDeep(node.shadowRoot, selector);
      if (found) return found;
    }
    return null;
  };
  doc.addEventListener("click", (event) => {
    if (!(event.target instanceof Element) || !event.target.closest(data.button)) return;
    const scope = doc.querySelector(data.canvas) || doc;
    const reset = findDeep(scope, data.reset);
    if (reset) reset.click();
  }, true);
}
"""


def clear_hook(button_key: str, canvas_key: str) -> None:
    """Make the st.button with `button_key` clear the st_canvas with `canvas_key` in the browser, at once."""
    hook = st.components.v2.component("playground_clear_hook", js=_CLEAR_JS, html="")
    hook(key=f"{button_key}_hook", data={"button": f".st-key-{button_key} button", "canvas": f".st-key-{canvas_key}",
                                         "reset": '[aria-label="Reset canvas & history"]'}, height=0)
