"""Plotly figures for the loss-surface page: contour map, 3-D surface, training path, 1-D curve (data in, figure out)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ui.i18n import _
from ui.theme import FONT_SIZE, fit_texts, log_axis, style

COLOURS = "Viridis"  # perceptually even and readable on a projector; low loss = dark blue
PATH_COLOUR = "#ff4136"
START_COLOUR, END_COLOUR = "#ffffff", "#ff4136"


def _shown(loss: np.ndarray, log_colour: bool) -> np.ndarray:
    """The values the colours (and heights) stand for: C, or log10 C; overflowed points become gaps."""
    loss = np.where(np.isfinite(loss), loss, np.nan)
    return np.log10(np.clip(loss, 1e-8, None)) if log_colour else loss


def _colourbar(loss: np.ndarray, log_colour: bool) -> dict:
    """With log colours the bar still reads in loss values (0.1, 0.2, 0.5), placed at their log₁₀."""
    if not log_colour:
        return dict(title=dict(text=_("loss C"), side="right"))  # along the bar: the map keeps its width
    ticks = log_axis(loss.ravel())
    return dict(title=dict(text=_("loss C (log colour)"), side="right"), tickvals=np.log10(ticks.get("tickvals", [])).tolist(),
                ticktext=ticks.get("ticktext", []))


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, height: int = 560) -> go.Figure:
    fig = style(fig, height=height, legend_below=True)
    fig.update_layout(title_text=title, margin=dict(l=70, r=30, b=130),  # legend under the x title
                      legend=dict(y=-0.2))
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fit_texts(fig)


def contour_figure(alphas: np.ndarray, betas: np.ndarray, loss: np.ndarray, *, log_colour: bool = False,
                   title: str | None = None, axis_names: tuple[str, str] | None = None,
                   path: np.ndarray | None = None, path_steps: np.ndarray | None = None,
                   height: int = 560) -> go.Figure:
    """Filled contours of C(α, β) (rows of loss = alphas); optional path (n, 2) with start and end marked."""
    title = title or _("Loss around the weights")
    axis_names = axis_names or (_("α (along d₁)"), _("β (along d₂)"))
    z = _shown(loss, log_colour)
    fig = go.Figure(go.Contour(
        x=alphas, y=betas, z=z.T, colorscale=COLOURS, ncontours=25, colorbar=_colourbar(loss, log_colour),
        contours=dict(coloring="heatmap", showlines=True), line=dict(width=0.6, color="rgba(255,255,255,0.5)"),
        hovertemplate="α=%{x:.3f}<br>β=%{y:.3f}<br>" + ("log₁₀ C" if log_colour else "C") + "=%{z:.4f}<extra></extra>",
        name=_("loss")))
    if path is None:
        centre = [0.0]
        fig.add_trace(go.Scatter(x=centre, y=centre, mode="markers", name=_("current weights (α = β = 0)"),
                                 marker=dict(symbol="x", size=16, color=END_COLOUR, line=dict(width=2))))
    else:
        text = [_("step {n}").format(n=s) for s in path_steps] if path_steps is not None else None
        fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers", name=_("training path"),
                                 line=dict(color=PATH_COLOUR, width=3), marker=dict(size=6, color=PATH_COLOUR),
                                 text=text, hovertemplate="%{text}<br>α=%{x:.3f}, β=%{y:.3f}<extra></extra>"))
        fig.add_trace(go.Scatter(x=path[:1, 0], y=path[:1, 1], mode="markers", name=_("start (initial weights)"),
                                 marker=dict(symbol="circle", size=16, color=START_COLOUR,
                                             line=dict(width=3, color="black"))))
        fig.add_trace(go.Scatter(x=path[-1:, 0], y=path[-1:, 1], mode="markers", name=_("end (trained weights)"),
                                 marker=dict(symbol="star", size=22, color=END_COLOUR,
                                             line=dict(width=2, color="black"))))
    return _layout(fig, title, axis_names[0], axis_names[1], height=height)


def surface_figure(alphas: np.ndarray, betas: np.ndarray, loss: np.ndarray, *, log_colour: bool = False,
                   title: str | None = None, axis_names: tuple[str, str] | None = None,
                   path: np.ndarray | None = None, path_loss: np.ndarray | None = None) -> go.Figure:
    """C(α, β) as a height map; optional path drawn on the surface with start and end marked."""
    title = title or _("The same loss as a 3-D surface")
    axis_names = axis_names or (_("α (along d₁)"), _("β (along d₂)"))
    z = _shown(loss, log_colour)
    height_name = "log₁₀ C" if log_colour else _("loss C")
    fig = go.Figure(go.Surface(x=alphas, y=betas, z=z.T, colorscale=COLOURS, colorbar=_colourbar(loss, log_colour),
                               contours=dict(z=dict(show=True, usecolormap=True, project=dict(z=True))),
                               hovertemplate="α=%{x:.3f}<br>β=%{y:.3f}<br>%{z:.4f}<extra></extra>", name=_("loss")))
    if path is not None and path_loss is not None:
        h = _shown(np.asarray(path_loss), log_colour)
        fig.add_trace(go.Scatter3d(x=path[:, 0], y=path[:, 1], z=h, mode="lines+markers", name=_("training path"),
                                   line=dict(color=PATH_COLOUR, width=7), marker=dict(size=3, color=PATH_COLOUR)))
        fig.add_trace(go.Scatter3d(x=path[:1, 0], y=path[:1, 1], z=h[:1], mode="markers",
                                   name=_("start (initial weights)"),
                                   marker=dict(size=9, color=START_COLOUR, line=dict(width=2, color="black"))))
        fig.add_trace(go.Scatter3d(x=path[-1:, 0], y=path[-1:, 1], z=h[-1:], mode="markers",
                                   name=_("end (trained weights)"), marker=dict(size=9, color=END_COLOUR,
                                                                           symbol="diamond")))
    axis = lambda text: dict(title=dict(text=text, font=dict(size=FONT_SIZE)), tickfont=dict(size=12))  # noqa: E731
    fig = style(fig, height=620, legend_below=True)
    fig.update_layout(title_text=title, margin=dict(l=0, r=0, b=40), legend=dict(y=0.0),
                      scene=dict(xaxis=axis(axis_names[0]), yaxis=axis(axis_names[1]), zaxis=axis(height_name),
                                 camera=dict(eye=dict(x=1.6, y=-1.6, z=1.1))))
    return fit_texts(fig)


def interpolation_figure(ts: np.ndarray, losses: np.ndarray, *, log_y: bool = False) -> go.Figure:
    """C((1 − t) θ_init + t θ_trained) against t, with both ends marked."""
    losses = np.where(np.isfinite(losses), losses, np.nan)
    fig = go.Figure(go.Scatter(x=ts, y=losses, mode="lines", name=_("loss on the straight line"),
                               line=dict(width=4, color="#1f77b4"),
                               hovertemplate="t=%{x:.2f}<br>C=%{y:.4f}<extra></extra>"))
    for t, name, colour, symbol in ((0.0, _("t = 0: initial weights"), "#7f7f7f", "circle"),
                                    (1.0, _("t = 1: trained weights"), END_COLOUR, "star")):
        k = int(np.argmin(np.abs(ts - t)))
        fig.add_trace(go.Scatter(x=[ts[k]], y=[losses[k]], mode="markers", name=name,
                                 marker=dict(size=18, color=colour, symbol=symbol, line=dict(width=2, color="black"))))
    fig = _layout(fig, _("Loss on the straight line from the initial to the trained weights"),
                  _("t in θ(t) = (1 − t) θ_init + t θ_trained"), _("loss C (evaluation batch)"), height=520)
    if log_y:
        fig.update_yaxes(**log_axis(losses))
    return fig
