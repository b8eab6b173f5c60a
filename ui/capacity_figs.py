"""Figures for the Train page's capacity and validation section: error against width, and the K-fold scores.

Every text is in the session's language (the engine's metric names are shown as _(metric)); the figures are
not cached, so nothing built for one language reaches a session speaking the other.
"""
from __future__ import annotations

import plotly.graph_objects as go

from ui.i18n import N_, _
from ui.theme import BLUE, DARK, ORANGE, log_axis, style

TRAIN, VAL, MEAN, BAND = BLUE, ORANGE, DARK, "rgba(52, 58, 64, 0.12)"  # BAND: DARK, faint
# The engine's metric names (engine/train/capacity.py, engine/train/kfold.py), marked here too so that the section's
# catalog entries do not depend on the engine's: the same message, one translation.
METRICS = (N_("error rate"), N_("loss"), N_("validation accuracy"), N_("validation loss"))


def capacity_curve(widths, train_error, val_error, metric: str, best_width: int) -> go.Figure:
    """Train and validation error against hidden width on a log axis; the best validation width marked."""
    widths = [int(w) for w in widths]
    shown = _(metric)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=widths, y=train_error, mode="lines+markers",
                             name=_("training {metric}").format(metric=shown),
                             line=dict(color=TRAIN, width=3), marker=dict(size=9),
                             hovertemplate=_("width %{x:.0f}: %{y:.3g}<extra>training</extra>")))
    fig.add_trace(go.Scatter(x=widths, y=val_error, mode="lines+markers",
                             name=_("validation {metric}").format(metric=shown),
                             line=dict(color=VAL, width=3), marker=dict(size=9),
                             hovertemplate=_("width %{x:.0f}: %{y:.3g}<extra>validation</extra>")))
    best = widths.index(best_width)
    fig.add_trace(go.Scatter(x=[best_width], y=[val_error[best]], mode="markers",
                             name=_("lowest validation error"),
                             marker=dict(color=VAL, size=20, symbol="star", line=dict(color=MEAN, width=1.5)),
                             hovertemplate=_("best width %{x:.0f}: %{y:.3g}<extra></extra>")))
    fig.update_xaxes(**log_axis(widths, title_text=_("hidden width (units per hidden layer, log scale)")))
    fig.update_yaxes(title_text=shown, rangemode="tozero")
    fig.update_layout(title=_("Capacity: training and validation error against width"))
    return style(fig, height=420, legend_below=True)


def kfold_scores(folds: list[int], values: list[float], mean: float, std: float, metric: str) -> go.Figure:
    """One bar per fold with the mean as a line and mean ± std as a band."""
    shown = _(metric)
    fig = go.Figure()
    labels = [_("fold {n}").format(n=f) for f in folds]
    fig.add_trace(go.Bar(x=labels, y=values, marker_color=VAL, name=shown, text=[f"{v:.3g}" for v in values],
                         textposition="inside", insidetextanchor="middle", textfont=dict(color="white"),
                         hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    fig.add_hrect(y0=mean - std, y1=mean + std, fillcolor=BAND, line_width=0)
    fig.add_hline(y=mean, line=dict(color=MEAN, dash="dash", width=2),
                  annotation_text=_("mean {mean:.3g} ± {std:.2g}").format(mean=mean, std=std),
                  annotation_position="top left", annotation_bgcolor="white")
    top = max(max(values), mean + std)
    fig.update_yaxes(title_text=shown, range=[0, 1.15 * top if top > 0 else 1])
    fig.update_xaxes(type="category")
    fig.update_layout(title=_("K-fold cross-validation: {metric} of each fold").format(metric=shown),
                      showlegend=False)
    return style(fig, height=380)
