"""The class board's figures (data in, figure out): a dot per student grouped by variant with each group's median
and spread, each student's loss curve, and "collect our digits": the class's drawings and how the model reads them.

Every dot and line carries its result id in customdata: a click on the page (st.plotly_chart's selection)
names the run to highlight in both figures.
"""
from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from classroom import Board
from ui.board_words import key_label, student_label, student_numbers, value_text, varied_text, \
    variant_text
from ui.i18n import _
from ui.theme import BLACK, DARK, GREY, LAYER_COLORS, LINE_HEIGHT, fit_texts, font_size, layout, line_count, \
    live_figure, log_axis, merged, style, text_width

JITTER = 0.28  # half the width a column's dots spread over, in columns
FADED = 0.3  # opacity of the runs not highlighted while one is
DOT, BIG_DOT = 16, 26  # marker sizes in px: readable from the back of a room
MEDIAN_WIDTH = 44  # px: the median's bar, narrower than a column even with 6 variants on a phone
SHEET_COLUMNS = 30  # "collect our digits": drawings per row of the gallery (the newest are kept)


def fixed_margins(fig: go.Figure, y_ticks: Sequence[str] = ("100%",)) -> go.Figure:
    """Margins made from the axes' texts (their lines as fit_texts() wrapped them, the widest y tick) in place of
    Plotly's automargin, which lays a chart out about three times over: in Chromium the class chart took 278 ms to
    draw with it and 84 ms without (bench/board_class.py's board redraws it whenever a result arrives, and a
    loaded classroom machine stretches each millisecond)."""
    size, x, y = font_size(), fig.layout.xaxis, fig.layout.yaxis
    line = size * LINE_HEIGHT
    x_ticks = max([line_count(t) for t in (x.ticktext or ())] + [1])
    widest = max(text_width(str(t), size) for t in (list(y.ticktext or ()) or list(y_ticks)))
    left = 14 + widest + line_count(y.title.text) * line + 6
    bottom = 12 + x_ticks * line + line_count(x.title.text) * line + 6
    fig.update_xaxes(automargin=False)
    fig.update_yaxes(automargin=False)
    fig.update_layout(margin=dict(l=math.ceil(max(left, 60)), b=math.ceil(max(bottom, 50))))
    return fig


def variant_color(variant: int) -> str:
    return LAYER_COLORS[variant % len(LAYER_COLORS)]


def _offsets(n: int) -> list[float]:
    """Horizontal places of n dots in a column: side by side, so no dot hides another of the same value."""
    return [0.0] if n == 1 else list(np.linspace(-JITTER, JITTER, n))


def _plottable(value: float | None, log: bool) -> bool:
    return value is not None and math.isfinite(value) and (value > 0 or not log)


def class_figure(board: Board, hide_names: bool = False, highlight: int | None = None,
                 height: int = 440) -> go.Figure:
    """One column per variant, a dot per student's key number, the group's median as a bar with its low-high range.

    Redrawn on the projector whenever a result arrives: built from Plotly's dicts (theme.live_figure), 1 ms where
    Plotly's checked objects took 15 ms.
    """
    numbers = student_numbers(board)
    names = [variant_text(g.label, "<br>") for g in board.groups]
    settings = board.groups[0].settings if board.groups else {}
    y_title = key_label(board.key, settings)
    data, values = [], []
    for g in board.groups:
        entries = [e for e in g.entries if _plottable(e.value, board.log)]
        values += [e.value for e in entries]
        picked = [e.result_id == highlight for e in entries]
        data.append(dict(
            type="scatter", x=[g.variant + dx for dx in _offsets(len(entries))], y=[e.value for e in entries],
            mode="markers", name=variant_text(g.label), customdata=[[e.result_id] for e in entries],
            hovertext=[html.escape(student_label(e, numbers, hide_names)) for e in entries],
            hovertemplate="%{hovertext}: %{y:.3g}<extra></extra>", showlegend=False,
            marker=dict(color=variant_color(g.variant), size=[BIG_DOT if p else DOT for p in picked],
                        opacity=[1.0 if p or highlight is None else FADED for p in picked],
                        line=dict(color=[BLACK if p else "white" for p in picked],
                                  width=[4 if p else 1 for p in picked]))))
        s = g.stats
        if s.n and _plottable(s.median, board.log):
            data.append(dict(
                type="scatter", x=[g.variant], y=[s.median], mode="markers", name=_("median"), showlegend=False,
                marker=dict(symbol="line-ew", size=MEDIAN_WIDTH, color=DARK, line=dict(color=DARK, width=5)),
                error_y=dict(type="data", symmetric=False, array=[s.high - s.median],
                             arrayminus=[s.median - s.low], color=GREY, thickness=3, width=0),
                hovertemplate=_("median {value}, low–high {low}–{high}, {n} runs").format(
                    value=value_text(board.key, s.median), low=value_text(board.key, s.low),
                    high=value_text(board.key, s.high), n=s.n) + "<extra></extra>"))
    if board.log:
        y_axis = log_axis(values, title=dict(text=y_title))
    elif board.key in ("val_acc", "train_acc"):
        y_axis = dict(title=dict(text=y_title), tickformat=".0%", range=[-0.03, 1.03])
    else:
        y_axis = dict(title=dict(text=y_title), tickformat=".0%" if board.key == "gap" else None)
    x_axis = dict(tickvals=list(range(len(names))), ticktext=names, range=[-0.6, max(len(names), 1) - 0.4],
                  title=dict(text=varied_text(board.groups[0].label if board.groups else {})), showgrid=False)
    fig = live_figure(data, merged(layout(height), dict(
        title=dict(text=_("{key} per student").format(key=y_title)), clickmode="event+select", dragmode=False,
        xaxis=x_axis, yaxis=y_axis)))
    return fixed_margins(fit_texts(fig), y_ticks=("100%",) if board.key in ("val_acc", "train_acc", "gap")
                         else ("0.000", "-0.00"))


def curves_figure(board: Board, hide_names: bool = False, highlight: int | None = None,
                  height: int = 400) -> go.Figure:
    """Each student's thinned loss curve, coloured by variant; the highlighted one thick and on top (from dicts)."""
    numbers = student_numbers(board)
    shown, data, last = set(), [], []
    for g in board.groups:
        for e in g.entries:
            if len(e.curve) < 2:
                continue
            xs = list(np.linspace(0, 100, len(e.curve)))
            picked = e.result_id == highlight
            trace = dict(
                type="scatter", x=xs, y=[c if c > 0 or not board.log else None for c in e.curve], mode="lines",
                name=variant_text(g.label), legendgroup=str(g.variant), showlegend=g.variant not in shown,
                customdata=[[e.result_id]] * len(xs),
                hovertext=[html.escape(student_label(e, numbers, hide_names))] * len(xs),
                hovertemplate="%{hovertext}: %{y:.3g}<extra></extra>",
                line=dict(color=variant_color(g.variant), width=6 if picked else 2),
                opacity=1.0 if picked or highlight is None else FADED)
            shown.add(g.variant)
            (last if picked else data).append(trace)
    fig = live_figure(data + last, merged(layout(height, legend_below=True), dict(  # the picked run: on top
        title=dict(text=_("Loss during each student's run")), clickmode="event+select", dragmode=False,
        xaxis=dict(title=dict(text=_("progress through the run")), ticksuffix="%", range=[0, 100]),
        yaxis=dict(title=dict(text=_("loss")), type="log" if board.log else "linear"))))
    return fixed_margins(fit_texts(fig), y_ticks=("0.001",))


def digit_sheet(images: np.ndarray, labels: np.ndarray, columns: int = SHEET_COLUMNS) -> np.ndarray:
    """The drawings as one picture (10 rows of 28 px, one per digit, the newest `columns` of each), ink = 255."""
    sheet = np.zeros((10 * 28, columns * 28), np.uint8)
    for digit in range(10):
        drawn = images[labels == digit][-columns:]
        for j, image in enumerate(drawn):
            sheet[digit * 28:(digit + 1) * 28, j * 28:(j + 1) * 28] = image
    return sheet


def gallery_figure(images: np.ndarray, labels: np.ndarray, height: int = 520) -> go.Figure:
    """The class's handwriting: one row per digit, dark ink on white as drawn."""
    used = max([int((labels == d).sum()) for d in range(10)] + [1])
    sheet = digit_sheet(images, labels, min(used, SHEET_COLUMNS))
    fig = go.Figure(go.Heatmap(z=255 - sheet.astype(np.int16), colorscale="gray", showscale=False, hoverinfo="skip"))
    fig.update_layout(title=_("Our digits: {n} drawings").format(n=len(labels)), dragmode=False)
    fig.update_yaxes(autorange="reversed", tickvals=[d * 28 + 13.5 for d in range(10)],
                     ticktext=[str(d) for d in range(10)], title=_("digit drawn"), showgrid=False, scaleanchor="x")
    fig.update_xaxes(showticklabels=False, showgrid=False)
    return style(fig, height)


def confusion_figure(confusion: np.ndarray, height: int = 480) -> go.Figure:
    """The default model's 10×10 confusion matrix on the class's drawings: rows drawn, columns read."""
    digits = [str(d) for d in range(10)]
    fig = go.Figure(go.Heatmap(
        z=confusion, x=digits, y=digits, colorscale="Blues", showscale=False,
        text=[[str(v) if v else "" for v in row] for row in confusion], texttemplate="%{text}",
        hovertemplate=_("drawn {drawn}, read as {read}: {count}").format(
            drawn="%{y}", read="%{x}", count="%{z}") + "<extra></extra>"))
    fig.update_layout(title=_("How the default model reads them"))
    fig.update_xaxes(title=_("read as"), type="category", side="bottom")
    fig.update_yaxes(title=_("digit drawn"), type="category", autorange="reversed", scaleanchor="x")
    return style(fig, height)


def per_digit_figure(per_digit: np.ndarray, height: int = 320) -> go.Figure:
    """Accuracy per drawn digit (a gap where the class drew none)."""
    fig = go.Figure(go.Bar(x=[str(d) for d in range(10)],
                           y=[None if np.isnan(v) else float(v) for v in per_digit],
                           marker_color=LAYER_COLORS[0], hovertemplate="%{x}: %{y:.0%}<extra></extra>"))
    fig.update_layout(title=_("Read right, per digit"))
    fig.update_xaxes(title=_("digit drawn"), type="category")
    fig.update_yaxes(title=_("accuracy"), range=[0, 1.02], tickformat=".0%")
    return style(fig, height)


def selected_run(event) -> int | None:
    """The result id of the first point a chart's selection event names (its customdata), None if none."""
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError):
        return None
    for point in points or []:
        data = point.get("customdata")
        if isinstance(data, (list, tuple)) and data:
            data = data[0]
        if isinstance(data, (int, float)):
            return int(data)
    return None


__all__ = ["class_figure", "curves_figure", "gallery_figure", "confusion_figure", "per_digit_figure", "digit_sheet",
           "selected_run", "variant_color"]
