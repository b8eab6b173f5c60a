"""Figures for the Neuron page: σ and σ', one neuron's two costs, perceptron lines, boundaries, loss curves."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go  # pandas is imported before plotly once per process: ui.bootstrap
from plotly.subplots import make_subplots

from engine.views.neuron import NEURON_ACTIVATIONS, NEURON_LOSSES
from ui.i18n import _
from ui.theme import BLACK, BLUE, CYAN, GREEN, KIND_COLORS, ORANGE, PINK, RED, VIOLET, style

CURVE_COLOR = BLUE
MARKER_COLOR = ORANGE
LOSS_COLORS = {"l1": VIOLET, "quadratic": PINK, "cross_entropy": GREEN}  # the lesson's losses, also its two costs
CLASS_COLORS = ("#1c7ed6", ORANGE)  # class 0, class 1
RIGHT, WRONG = GREEN, RED


def _loss_name(name: str) -> str:
    """A lesson loss's label and formula, e.g. "quadratic ½(a − y)²", in the session's language."""
    loss = NEURON_LOSSES[name]
    return f"{_(loss.label)} {loss.symbol}"


def activation_figure(curve, z: float, a: float, da: float) -> go.Figure:
    """σ(z) beside σ'(z), saturated and dead regions shaded in their kind's colour, a marker at the slider's z."""
    unit = NEURON_ACTIVATIONS[curve.name]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(f"{_(unit.label)}: a = {_(unit.symbol)}", _("its slope σ'(z)")))
    fig.add_trace(go.Scatter(x=curve.z, y=curve.a, name="σ(z)", line=dict(color=CURVE_COLOR, width=4)), 1, 1)
    fig.add_trace(go.Scatter(x=curve.z, y=curve.da, name="σ'(z)", line=dict(color=CURVE_COLOR, width=4)), 1, 2)
    saturated, dead = KIND_COLORS["saturates"], KIND_COLORS["dies"]
    for low, high in curve.saturated:
        fig.add_vrect(x0=low, x1=high, fillcolor=saturated, opacity=0.18, line_width=0, row=1, col="all")
    for low, high in curve.dead:
        fig.add_vrect(x0=low, x1=high, fillcolor=dead, opacity=0.18, line_width=0, row=1, col="all")
    if curve.saturated:
        fig.add_annotation(x=curve.saturated[0][0] + 0.2, y=1.0, xref="x2", yref="y2 domain", xanchor="left",
                           text=_("saturated"), showarrow=False, font=dict(color=saturated, size=17))
    if curve.dead:
        fig.add_annotation(x=curve.dead[0][0] + 0.2, y=1.0, xref="x2", yref="y2 domain", xanchor="left",
                           text=_("dead side: σ' = 0"), showarrow=False, font=dict(color=dead, size=17))
    for col, value in ((1, a), (2, da)):
        fig.add_trace(go.Scatter(x=[z], y=[value], mode="markers", showlegend=False, hoverinfo="x+y",
                                 marker=dict(color=MARKER_COLOR, size=16, line=dict(color="white", width=2))),
                      1, col)
        fig.add_vline(x=z, line=dict(color=MARKER_COLOR, dash="dot", width=2), row=1, col=col)
    fig.update_xaxes(title_text="z = w·a + b", range=[curve.z[0], curve.z[-1]])
    span = float(np.ptp(curve.da)) or 1.0
    fig.update_yaxes(range=[curve.da.min() - 0.08 * span, curve.da.max() + 0.12 * span], row=1, col=2)
    fig.update_layout(showlegend=False)
    return style(fig, height=380)


def neuron_costs_figure(quadratic, cross_entropy, epoch: int) -> go.Figure:
    """Each cost over the epochs up to `epoch`, side by side, each on its own scale (as in Nielsen's plots)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=[_loss_name(h.cost) for h in (quadratic, cross_entropy)])
    epochs = np.arange(len(quadratic.cost_value))
    for col, history in ((1, quadratic), (2, cross_entropy)):
        color = LOSS_COLORS[history.cost]
        fig.add_trace(go.Scatter(x=epochs[:epoch + 1], y=history.cost_value[:epoch + 1], showlegend=False,
                                 line=dict(color=color, width=4), hovertemplate=_("epoch %{x}: C = %{y:.4f}")), 1, col)
        fig.add_trace(go.Scatter(x=[epoch], y=[history.cost_value[epoch]], mode="markers", showlegend=False,
                                 marker=dict(color=color, size=14), hoverinfo="skip"), 1, col)
        fig.update_yaxes(range=[0, 1.08 * float(history.cost_value.max())], title_text=_("cost C"), row=1, col=col)
    fig.update_xaxes(title_text=_("epoch"), range=[0, epochs[-1]])
    return style(fig, height=360)


def _square_axes(fig: go.Figure, row: int | None = None, col: int | None = None) -> None:
    kw = dict(row=row, col=col) if row else {}
    fig.update_xaxes(range=[-0.5, 1.5], dtick=1, title_text="x₁", zeroline=False, constrain="domain", **kw)
    fig.update_yaxes(range=[-0.5, 1.5], dtick=1, title_text="x₂", zeroline=False, scaleanchor="x", **kw)


def _points(fig: go.Figure, inputs: np.ndarray, targets, outputs) -> None:
    """The four inputs: filled for target 1, hollow for 0; green where the unit's output is right, red if wrong."""
    colors = [RIGHT if o == t else WRONG for o, t in zip(outputs, targets)]
    fig.add_trace(go.Scatter(
        x=inputs[:, 0], y=inputs[:, 1], mode="markers+text", showlegend=False,
        text=[f"{t}" for t in targets], textposition="top right", textfont=dict(size=18),
        marker=dict(size=26, color=[c if t else "white" for c, t in zip(colors, targets)],
                    line=dict(color=colors, width=4)),
        hovertemplate=_("x = (%{x}, %{y}), target %{text}") + "<extra></extra>"))


def _region(fig: go.Figure, polygon, color: str) -> None:
    if len(polygon) >= 3:
        xs, ys = zip(*(list(polygon) + [polygon[0]]))
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=color, opacity=0.18, mode="none",
                                 showlegend=False, hoverinfo="skip"))


def _line(fig: go.Figure, line, color: str, name: str) -> None:
    if line is not None:
        (x0, y0), (x1, y1) = line
        fig.add_trace(go.Scatter(x=[x0, x1], y=[y0, y1], mode="lines", name=name,
                                 line=dict(color=color, width=4)))


def perceptron_figure(unit, inputs: np.ndarray, targets) -> go.Figure:
    """The unit square: the line w·x + b = 0, the side where the step unit outputs 1 shaded, the four inputs."""
    fig = go.Figure()
    _region(fig, unit.region, CLASS_COLORS[1])
    _line(fig, unit.line, BLACK, "w·x + b = 0")
    _points(fig, inputs, targets, unit.outputs)
    _square_axes(fig)
    fig.update_layout(showlegend=False)
    return style(fig, height=400).update_layout(margin=dict(t=20))


def xor_figure(network, inputs: np.ndarray, targets) -> go.Figure:
    """The 2-2-1 network's two lines (OR and NAND); it outputs 1 in the band between them."""
    fig = go.Figure()
    _region(fig, network.region, CLASS_COLORS[1])
    for unit, color, name in zip(network.hidden, (VIOLET, CYAN), (_("OR unit"), _("NAND unit"))):
        _line(fig, unit.line, color, name)
    _points(fig, inputs, targets, network.outputs)
    _square_axes(fig)
    fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0))
    return style(fig, height=440).update_layout(margin=dict(t=20))


def boundaries_figure(left, right, titles: tuple[str, str]) -> go.Figure:
    """Two trained networks' a^L for class 1 on the plane, the boundary a = ½ drawn, the data on top."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, horizontal_spacing=0.08)
    for col, b in ((1, left.boundary), (2, right.boundary)):
        fig.add_trace(go.Contour(x=b.xx, y=b.yy, z=b.prob, zmin=0, zmax=1, showscale=col == 2,
                                 colorscale=[[0, "#d0ebff"], [0.5, "#ffffff"], [1, "#ffe8cc"]],
                                 contours=dict(start=0.5, end=0.5, size=1, coloring="fill"),
                                 line=dict(width=0), hoverinfo="skip",
                                 colorbar=dict(title=_("a for class 1"), len=0.9)), 1, col)
        fig.add_trace(go.Contour(x=b.xx, y=b.yy, z=b.prob, showscale=False, hoverinfo="skip",
                                 contours=dict(start=0.5, end=0.5, size=1, coloring="none"),
                                 line=dict(width=4, color=BLACK)), 1, col)
        for cls in (0, 1):
            keep = b.labels == cls
            fig.add_trace(go.Scatter(x=b.points[keep, 0], y=b.points[keep, 1], mode="markers", showlegend=False,
                                     marker=dict(size=7, color=CLASS_COLORS[cls], line=dict(color="white", width=1)),
                                     hoverinfo="skip"), 1, col)
        fig.update_xaxes(range=[b.xx[0], b.xx[-1]], title_text="x₁", row=1, col=col)
        fig.update_yaxes(range=[b.yy[0], b.yy[-1]], title_text="x₂", row=1, col=col)
    fig.update_layout(showlegend=False)  # the boundary lines' "trace 1", "trace 3" sat on the colour bar's title
    return style(fig, height=440)


def loss_figure(curves, kl: np.ndarray) -> go.Figure:
    """Each loss C(a) beside its slope ∂C/∂a for one target y; KL dotted over the cross-entropy."""
    y = curves[0].y
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=(_("Cost C(a) for the target y = {y:g}").format(y=y), _("Its slope ∂C/∂a")))
    for curve in curves:
        color = LOSS_COLORS[curve.name]
        fig.add_trace(go.Scatter(x=curve.a, y=curve.cost, name=_loss_name(curve.name), legendgroup=curve.name,
                                 line=dict(color=color, width=4)), 1, 1)
        fig.add_trace(go.Scatter(x=curve.a, y=curve.dc_da, name=_loss_name(curve.name), legendgroup=curve.name,
                                 showlegend=False, line=dict(color=color, width=4)), 1, 2)
    fig.add_trace(go.Scatter(x=curves[0].a, y=kl, name=_("KL(y ‖ a) = cross-entropy − H(y)"),
                             line=dict(color=BLACK, width=3, dash="dot")), 1, 1)
    fig.update_xaxes(title_text=_("output a"), range=[0, 1])
    fig.update_yaxes(range=[0, 4], title_text="C", row=1, col=1)
    fig.update_yaxes(range=[-6, 6], title_text="∂C/∂a", row=1, col=2)
    return style(fig, height=440, legend_below=True)


def matrix_latex(m: np.ndarray, digits: int = 2) -> str:
    """A matrix or a vector (as a column) as a LaTeX pmatrix."""
    m = np.atleast_2d(m) if m.ndim == 2 else m.reshape(-1, 1)
    rows = [" & ".join(f"{v:.{digits}f}" for v in row) for row in m]
    return r"\begin{pmatrix}" + r" \\ ".join(rows) + r"\end{pmatrix}"
