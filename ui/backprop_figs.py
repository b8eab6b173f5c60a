"""Figures for the Backprop page: the computational graph, unit values, BP1 and the output Jacobian, the Hadamard
product of BP2, gradients, the η sweep."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.nn.activations import output_name
from engine.views.backprop import DescentStep, OutputJacobian
from ui.i18n import _
from ui.theme import BLUE, DARK, GREEN, GREY, ORANGE, EDGE, figure_width, log_axis, style, wrap

MAX_ROWS, MAX_COLS = 48, 96  # a heatmap larger than this shows the units that matter most, not every unit


def unit_labels(n: int, digits: bool = False) -> list[str]:
    """Tick labels of a layer's units: 1..n for hidden layers, the digits 0..9 for the output layer."""
    return [str(j) for j in range(n)] if digits else [str(j) for j in range(1, n + 1)]


def _units_axis(n: int, digits: bool) -> tuple[list | np.ndarray, dict]:
    """Bar positions and x-axis settings: the digits as categories, hidden units 1..n on a number line."""
    if digits:
        return unit_labels(n, digits=True), dict(type="category")
    return np.arange(1, n + 1), dict(type="linear", dtick=1 if n <= 20 else None, range=[0.5, n + 0.5])


def _bars(fig: go.Figure, xs, values: np.ndarray, color: str, name: str, row: int = 1, col: int = 1) -> None:
    fig.add_trace(go.Bar(x=xs, y=values, marker_color=color, name=name,
                         hovertemplate="%{x}: %{y:.4g}<extra>" + name + "</extra>"), row=row, col=col)


def forward_layer(z: np.ndarray, a: np.ndarray, l: int, activation: str, digits: bool = False) -> go.Figure:
    """z^l and a^l = σ(z^l) of one layer, unit by unit (the output layer's units are the digits)."""
    xs, axis = _units_axis(len(z), digits)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=(
        f"z<sup>{l}</sup> = W<sup>{l}</sup>a<sup>{l - 1}</sup> + b<sup>{l}</sup>",
        f"a<sup>{l}</sup> = {activation}(z<sup>{l}</sup>)"))
    _bars(fig, xs, z, GREY, f"z{l}", col=1)
    _bars(fig, xs, a, BLUE, f"a{l}", col=2)
    fig.update_xaxes(title_text=_("digit") if digits else _("unit j of layer {l}").format(l=l), **axis)
    fig.update_layout(showlegend=False)
    return style(fig, height=300)


def bp1(a: np.ndarray, y: np.ndarray, delta: np.ndarray) -> go.Figure:
    """The output layer: a^L, the target y and δ^L side by side for the ten digits."""
    digits = unit_labels(len(a), digits=True)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=digits, y=a, name=_("a<sup>L</sup> (the network's output)"), marker_color=BLUE))
    fig.add_trace(go.Bar(x=digits, y=y, name=_("y (the target)"), marker_color=GREEN))
    fig.add_trace(go.Bar(x=digits, y=delta, name=_("δ<sup>L</sup> (the error)"), marker_color=ORANGE))
    fig.update_layout(barmode="group", title=_("BP1 at the output layer, digit by digit"))
    fig.update_xaxes(title_text=_("digit"), type="category")
    fig.update_yaxes(title_text=_("value"))
    return style(fig, height=360, legend_below=EDGE)


def hadamard(back: np.ndarray, sigma_prime: np.ndarray, delta: np.ndarray, l: int) -> go.Figure:
    """BP2 for layer l, unit by unit: (W^(l+1))^T δ^(l+1)  ⊙  σ'(z^l)  =  δ^l, three aligned rows."""
    xs, axis = _units_axis(len(delta), digits=False)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.11, subplot_titles=(
        _("(W<sup>{next}</sup>)<sup>T</sup> δ<sup>{next}</sup>: the error sent back to layer {l}").format(
            l=l, next=l + 1),
        _("⊙  σ'(z<sup>{l}</sup>): how much each unit lets through").format(l=l),
        _("=  δ<sup>{l}</sup>: the error of layer {l}").format(l=l)))
    _bars(fig, xs, back, GREY, _("sent back"), row=1)
    _bars(fig, xs, sigma_prime, GREEN, "σ'(z)", row=2)
    _bars(fig, xs, delta, ORANGE, "δ", row=3)
    fig.update_xaxes(**axis)
    fig.update_xaxes(title_text=_("unit j of layer {l}").format(l=l), row=3, col=1)
    fig.update_layout(showlegend=False, title=_("BP2 for layer {l}: multiply the rows element by element").format(l=l))
    fig = style(fig, height=580)  # room above for the title and the first panel title: fit_texts()
    return fig


def _strongest(values: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the `limit` entries with the largest |value|, in their original order."""
    return np.arange(len(values)) if len(values) <= limit else np.sort(np.argsort(-np.abs(values))[:limit])


def outer_product(delta: np.ndarray, a_prev: np.ndarray, grad_w: np.ndarray, l: int, digits: bool = False
                  ) -> go.Figure:
    """BP3 and BP4 for layer l: the column δ^l (= ∂C/∂b^l), the row (a^(l-1))^T and their product ∂C/∂W^l."""
    rows, cols = _strongest(delta, MAX_ROWS), _strongest(a_prev, MAX_COLS)
    row_labels = [unit_labels(len(delta), digits)[j] for j in rows]
    col_labels = [str(k + 1) for k in cols]
    fig = make_subplots(rows=2, cols=2, column_widths=[0.07, 0.93], row_heights=[0.1, 0.9],
                        horizontal_spacing=0.02, vertical_spacing=0.03, shared_yaxes=True, shared_xaxes=True)
    fig.add_trace(go.Heatmap(x=col_labels, y=["a"], z=a_prev[cols][None, :], colorscale="Greys", showscale=False,
                             hovertemplate=f"a<sup>{l - 1}</sup>" + "<sub>%{x}</sub> = %{z:.3g}<extra></extra>"),
                  row=1, col=2)
    bound = max(float(np.abs(grad_w).max()), float(np.abs(delta).max()), 1e-12)
    scale = dict(colorscale="RdBu_r", zmid=0, zmin=-bound, zmax=bound)  # red: positive gradient
    fig.add_trace(go.Heatmap(x=["δ"], y=row_labels, z=delta[rows][:, None], showscale=False, **scale,
                             hovertemplate=f"δ<sup>{l}</sup>" + "<sub>%{y}</sub> = %{z:.3g}<extra></extra>"),
                  row=2, col=1)
    fig.add_trace(go.Heatmap(x=col_labels, y=row_labels, z=grad_w[np.ix_(rows, cols)], colorbar=dict(title=_("value")),
                             **scale, hovertemplate="∂C/∂w<sub>%{y},%{x}</sub> = %{z:.3g}<extra></extra>"),
                  row=2, col=2)
    for r, c in ((1, 2), (2, 1), (2, 2)):
        fig.update_xaxes(type="category", row=r, col=c)
        fig.update_yaxes(type="category", autorange="reversed", row=r, col=c)
    fig.update_xaxes(showticklabels=False, row=1, col=2)
    fig.update_yaxes(showticklabels=False, row=1, col=2)
    fig.update_xaxes(showticklabels=False, row=2, col=1)
    if len(rows) <= 20:
        fig.update_yaxes(dtick=1, row=2, col=1)  # every unit labelled, not every other one
    if len(cols) <= 32:
        fig.update_xaxes(dtick=1, row=2, col=2)
    fig.add_annotation(text=f"a<sup>{l - 1}</sup>", x=0.0, y=1.0, xref="paper", yref="paper", xanchor="left",
                       yanchor="top", showarrow=False)
    fig.update_xaxes(title_text=f"δ<sup>{l}</sup>", row=2, col=1)
    inputs = (_("input k: unit of layer {prev} (strongest shown)") if len(cols) < len(a_prev)
              else _("input k: unit of layer {prev}"))
    fig.update_xaxes(title_text=inputs.format(prev=l - 1), row=2, col=2)
    fig.update_yaxes(title_text=_("digit") if digits else _("unit j of layer {l}").format(l=l), row=2, col=1)
    fig.update_layout(title=_("∂C/∂W<sup>{l}</sup> = δ<sup>{l}</sup> (a<sup>{prev}</sup>)<sup>T</sup>: row j is "
                              "δ<sub>j</sub> times the row a<sup>{prev}</sup> on top").format(l=l, prev=l - 1))
    return style(fig, height=120 + min(max(26 * len(rows), 200), 620))


def input_weight_gradients(rows: np.ndarray, units: list[int], deltas: np.ndarray) -> go.Figure:
    """The first layer's ∂C/∂W rows as 28x28 images: which pixels' weights each unit's gradient moves."""
    fig = make_subplots(rows=1, cols=len(units), horizontal_spacing=0.03,
                        subplot_titles=[_("unit {u}<br>δ = {d:.2g}").format(u=u, d=d) for u, d in zip(units, deltas)])
    bound = max(float(np.abs(rows).max()), 1e-12)
    for i, row in enumerate(rows):
        fig.add_trace(go.Heatmap(z=row.reshape(28, 28), colorscale="RdBu_r", zmid=0, zmin=-bound, zmax=bound,
                                 showscale=i == len(units) - 1, colorbar=dict(title="∂C/∂w"),
                                 hovertemplate=_("pixel (%{y}, %{x}): %{z:.3g}") + "<extra></extra>"), 1, i + 1)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    for i in range(2, len(units) + 1):  # every panel square, not just the first
        fig.update_yaxes(scaleanchor=f"x{i}", row=1, col=i)
    fig.update_layout(title=_("∂C/∂W<sup>1</sup>: each unit's 784 weight gradients as a 28x28 image"))
    fig = style(fig, height=360)  # room for the two-line panel titles under the figure title: fit_texts()
    return fig


def eta_sweep(step: DescentStep) -> go.Figure:
    """C after one step w ← w − η∂C/∂w over a range of η: on this digit (left) and on other digits (right)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.12, subplot_titles=(
        _("C on this digit"), _("mean C on {n} other digits").format(n=step.n_others)))
    panels = ((1, step.this_curve, step.this_before, step.this_after),
              (2, step.others_curve, step.others_before, step.others_after))
    for col, costs, start, end in panels:
        fig.add_trace(go.Scatter(x=step.sweep, y=costs, mode="lines", line=dict(color=BLUE, width=3),
                                 showlegend=col == 1, name=_("C after one step"),
                                 hovertemplate="η = %{x:.3g}: C = %{y:.4g}<extra></extra>"), row=1, col=col)
        fig.add_trace(go.Scatter(x=step.sweep[[0, -1]], y=[start, start], mode="lines", showlegend=col == 1,
                                 line=dict(color=DARK, dash="dash", width=2), name=_("C before the step"),
                                 hoverinfo="skip"), row=1, col=col)
        fig.add_trace(go.Scatter(x=[step.eta], y=[end], mode="markers",
                                 marker=dict(color=ORANGE, size=16, symbol="diamond"), name=_("your η"),
                                 showlegend=col == 1, hovertemplate=_("your η: C = %{y:.4g}") + "<extra></extra>"),
                      row=1, col=col)
        fig.update_xaxes(**log_axis(step.sweep, title_text=_("learning rate η")), row=1, col=col)
    top = max(float(np.max(step.this_curve)), step.this_before)
    fig.update_yaxes(title_text=_("cost C"), range=[-0.04 * top, 1.1 * top], row=1, col=1)
    others = np.append(step.others_curve, step.others_before)
    low, high = np.log10(others.min()), np.log10(others.max())
    fig.update_yaxes(**log_axis(others, title_text=_("cost C (log scale)"), range=[low - 0.1, high + 0.1]),
                     row=1, col=2)
    return style(fig, height=420, legend_below=EDGE)


# The output layer is named L (here L = 2), not 2: on the page a² is the worked network's second layer, which in
# 3Blue1Brown's 784-16-16-10 network is a hidden layer, so the graph's output must not be called a² too.
GRAPH_NODES = ("x", "z<sup>1</sup>", "a<sup>1</sup>", "z<sup>L</sup>", "a<sup>L</sup>", "C")


def _graph_labels(output: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the local derivative of each forward edge, the backward message along it) of the chain x → ... → C."""
    local = ("∂z¹/∂x = W¹", "∂a¹/∂z¹ = diag σ'(z¹)", "∂zᴸ/∂a¹ = Wᴸ",
             "∂aᴸ/∂zᴸ = diag(aᴸ) − aᴸaᴸᵀ" if output == "softmax" else "∂aᴸ/∂zᴸ = diag σ'(zᴸ)", "∂C/∂aᴸ = ∇<sub>a</sub>C")
    backward = ("", "δ¹ = diag σ'(z¹) (Wᴸ)ᵀδᴸ", "∂C/∂a¹ = (Wᴸ)ᵀδᴸ", "δᴸ = (∂aᴸ/∂zᴸ)ᵀ∇<sub>a</sub>C", "∇<sub>a</sub>C")
    return local, backward


def computational_graph_tall(output: str) -> go.Figure:
    """The computational graph top to bottom, for a phone: x at the top, C at the bottom, each edge's local
    derivative (black) and the backward message (orange, its arrow going up) written beside it."""
    local, backward = _graph_labels(output)
    ys = -np.arange(len(GRAPH_NODES)) * 2.0
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=np.zeros(len(ys)), y=ys, mode="markers+text", text=list(GRAPH_NODES),
                             textfont=dict(size=20, color="white"), hoverinfo="skip",
                             marker=dict(size=50, color=[GREY] + [BLUE, GREEN] * 2 + [ORANGE])))
    for i, (ahead, back) in enumerate(zip(local, backward)):
        y0, y1, middle = ys[i] - 0.45, ys[i + 1] + 0.45, (ys[i] + ys[i + 1]) / 2
        fig.add_annotation(x=0, y=y1, ax=0, ay=y0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=2, arrowsize=1.2, arrowwidth=2.5, arrowcolor=DARK, text="")
        fig.add_annotation(x=0.5, y=middle, text=ahead, showarrow=False, xanchor="left",
                           yanchor="bottom" if back else "middle", font=dict(color=DARK, size=15))
        if back:
            fig.add_annotation(x=-0.35, y=y0, ax=-0.35, ay=y1, xref="x", yref="y", axref="x", ayref="y",
                               showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=2.5, arrowcolor=ORANGE, text="")
            fig.add_annotation(x=0.5, y=middle, text=back, showarrow=False, xanchor="left", yanchor="top",
                               font=dict(color=ORANGE, size=15))
    fig.add_annotation(x=-0.6, y=ys[-1] - 0.9, xanchor="left", yanchor="top", showarrow=False, align="left",
                       text=_("black: forward, local derivatives; orange: backward, each message is the next one "
                              "times a local derivative, transposed"), font=dict(color=DARK, size=14))
    fig.update_xaxes(visible=False, range=[-0.7, 4.0])
    fig.update_yaxes(visible=False, range=[ys[-1] - 2.2, 0.8])
    fig.update_layout(showlegend=False, title=_("The computational graph of a two-layer network (output layer L = 2)"),
                      margin=dict(l=4, r=4))
    fig = style(fig, height=660)
    for annotation in fig.layout.annotations[-1:]:  # the key below the graph: as wide as the figure
        annotation.text = wrap(annotation.text, figure_width() - 16, 14)
    return fig


def computational_graph(output: str) -> go.Figure:
    """A two-layer network as a chain x → z¹ → a¹ → zᴸ → aᴸ → C (L = 2): forward edges labelled with their local
    derivatives (black, above), the backward pass's messages (orange, below). output: softmax or sigmoid."""
    xs = np.arange(len(GRAPH_NODES)) * 2.0
    local, backward = _graph_labels(output)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=xs, y=np.zeros(len(xs)), mode="markers+text", text=list(GRAPH_NODES),
                             textfont=dict(size=22, color="white"), hoverinfo="skip",
                             marker=dict(size=58, color=[GREY] + [BLUE, GREEN] * 2 + [ORANGE])))
    for i, (ahead, back) in enumerate(zip(local, backward)):
        x0, x1 = xs[i] + 0.33, xs[i + 1] - 0.33
        fig.add_annotation(x=x1, y=0, ax=x0, ay=0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=2, arrowsize=1.3, arrowwidth=2.5, arrowcolor=DARK, text="")
        fig.add_annotation(x=(xs[i] + xs[i + 1]) / 2, y=0.55 if i % 2 == 0 else 1.05, text=ahead, showarrow=False,
                           font=dict(color=DARK, size=16))
        if back:
            fig.add_annotation(x=x0, y=-0.45, ax=x1, ay=-0.45, xref="x", yref="y", axref="x", ayref="y",
                               showarrow=True, arrowhead=2, arrowsize=1.3, arrowwidth=2.5, arrowcolor=ORANGE, text="")
            fig.add_annotation(x=(xs[i] + xs[i + 1]) / 2, y=-0.8 if i % 2 == 1 else -1.25, text=back,
                               showarrow=False, font=dict(color=ORANGE, size=16))
    fig.add_annotation(x=xs[0] - 0.9, y=0.8, text=_("forward: local derivatives"), showarrow=False, xanchor="left",
                       font=dict(color=DARK, size=15), yanchor="bottom", yshift=40)
    fig.add_annotation(x=xs[0] - 0.9, y=-1.55,
                       text=_("backward: each message is the next one times a local derivative, transposed"),
                       showarrow=False, xanchor="left", font=dict(color=ORANGE, size=15))
    fig.update_xaxes(visible=False, range=[xs[0] - 1.0, xs[-1] + 1.0])
    fig.update_yaxes(visible=False, range=[-1.8, 1.6])
    fig.update_layout(showlegend=False, title=_("The computational graph of a two-layer network (output layer L = 2)"))
    return style(fig, height=380)


def output_jacobian(out: OutputJacobian) -> go.Figure:
    """∂a^L/∂z^L as a 10x10 heatmap over the digits: softmax fills every cell, sigmoid only the diagonal."""
    digits = unit_labels(len(out.delta), digits=True)
    bound = max(float(np.abs(out.jacobian).max()), 1e-12)
    fig = go.Figure(go.Heatmap(x=digits, y=digits, z=out.jacobian, colorscale="RdBu_r", zmid=0, zmin=-bound,
                               zmax=bound, colorbar=dict(title="∂a/∂z"),
                               hovertemplate="∂a<sub>%{y}</sub>/∂z<sub>%{x}</sub> = %{z:.3g}<extra></extra>"))
    fig.update_xaxes(title_text=_("z<sub>k</sub> of digit k"), type="category", constrain="domain")
    fig.update_yaxes(title_text=_("a<sub>j</sub> of digit j"), type="category", autorange="reversed", scaleanchor="x",
                     constrain="domain")
    output = output_name(out.loss)
    what = f"diag(a) − a aᵀ ({output})" if output == "softmax" else f"diag σ'(z) ({output})"
    fig.update_layout(title=f"∂a<sup>L</sup>/∂z<sup>L</sup> = {what}")
    return style(fig, height=460)
