"""The Train page's charts while a run trains, drawn as SVG: light for every student's browser.

A run redraws its loss, δ and per-layer charts every second or two. As Plotly charts, each redraw had the
browser lay out every axis, tick label and legend again: most of a student's renderer time (bench/browser_cost.py),
and a classroom's browsers on one core fell seconds behind. An SVG picture of the same chart is drawn by the
browser in a fraction of that. The page shows these while training and the interactive Plotly charts of
ui/train_figs.py (hover, zoom) once paused: the same titles, colours, log ticks and legends, so the switch
reads as the same chart.

Each function returns markup for st.markdown with unsafe_allow_html: one <svg> picture (class "live-chart",
data-chart naming it), or for the loss chart a row of two with an HTML legend. A picture's width follows its
column; its text is the page's font, sized for a 1280-pixel projector.
Texts are escaped; the titles' <sup> and <br> (Plotly's markup, shared with the Plotly charts' messages) become
SVG superscripts and lines. Values that cannot be drawn (NaN, inf, and zeros on a log axis) break a line.
"""
from __future__ import annotations

import base64
import html
import io
import math
import re
from dataclasses import dataclass

import numpy as np
from PIL import Image
from plotly.colors import sequential

from ui.i18n import _
from ui.theme import FONT_SIZE, LAYER_COLORS, font_scale, log_axis
from ui.train_figs import LOSS_HEIGHT, TRAIN, VAL, has_bands, layer_name, log_delta, powers_of_ten, smooth, \
    spaced_ticks

INK, GRID, AXIS_LINE, MARK = "#2a3f5f", "#ebf0f8", "#c8d4e3", "#888"  # plotly_white's colours
TICK_SIZE, TITLE_SIZE = FONT_SIZE - 1, FONT_SIZE + 1
LOSS_WIDTH, DELTA_WIDTH, FULL_WIDTH = 560, 350, 920  # the columns' widths in pixels on a 1280x720 projector
PANEL_HEIGHT = LOSS_HEIGHT - 50  # the loss and accuracy panels: with their legend below, as tall as the δ chart
VIRIDIS = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in sequential.Viridis], dtype=float)


@dataclass(frozen=True)
class Frame:
    """A plot area in the picture (left, top, right, bottom in pixels) and the data ranges it shows."""
    left: float
    top: float
    right: float
    bottom: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]  # log10 of the values on a log axis
    y_log: bool = False

    def x(self, values) -> np.ndarray:
        lo, hi = self.x_range
        return self.left + (np.asarray(values, dtype=float) - lo) / (hi - lo) * (self.right - self.left)

    def y(self, values) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if self.y_log:
            with np.errstate(divide="ignore", invalid="ignore"):
                values = np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)
        lo, hi = self.y_range
        return self.bottom - (values - lo) / (hi - lo) * (self.bottom - self.top)


def rich(text: str) -> str:
    """A message's text for an SVG <text>: escaped, with <sup>...</sup> raised (Plotly's markup in titles)."""
    parts = re.split(r"<sup>(.*?)</sup>", text)
    out = []
    for i, part in enumerate(parts):
        part = html.escape(part, quote=False)
        out.append(f'<tspan baseline-shift="super" font-size="70%">{part}</tspan>' if i % 2 else part)
    return "".join(out)


def label(x: float, y: float, text: str, size: int = TICK_SIZE, anchor: str = "middle", **attributes) -> str:
    """One line of text; extra attributes as keyword arguments (font_weight becomes font-weight)."""
    extra = "".join(f' {key.replace("_", "-")}="{value}"' for key, value in attributes.items())
    size = round(size * font_scale())  # presenter mode's larger text
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{INK}"{extra}>'
            f"{rich(text)}</text>")


def title_lines(x: float, y: float, title: str, size: int = TITLE_SIZE, anchor: str = "start") -> str:
    """A title that may hold <br>: one <text> a line, the first line's baseline at y."""
    return "".join(label(x, y + i * size * 1.25, line, size, anchor) for i, line in enumerate(title.split("<br>")))


def nice_ticks(lo: float, hi: float, most: int = 5) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) from lo to hi, at most `most` of them."""
    if not hi > lo:
        return [lo]
    power = 10.0 ** math.floor(math.log10((hi - lo) / most))
    for step in (m * power for m in (1, 2, 5, 10, 20)):
        first = math.ceil(lo / step - 1e-9) * step
        ticks = [round(first + i * step, 10) for i in range(int((hi - first) / step + 1e-9) + 1)]
        if len(ticks) <= most:
            return ticks
    return ticks


def step_label(value: float) -> str:
    """A step number as Plotly writes it: 800, 1500, 12k, 2M."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    return f"{value / 1000:g}k" if value >= 10_000 else f"{value:g}"


def points_text(px: np.ndarray, py: np.ndarray) -> str:
    """An SVG points attribute, "x,y x,y ...", to a tenth of a pixel (one format call for all: a chart has thousands)."""
    return ("%.1f,%.1f " * len(px) % tuple(np.column_stack((px, py)).ravel().tolist())).rstrip()


def polyline(frame: Frame, x, y, color: str, width: float = 2, opacity: float = 1.0, dash: str | None = None,
             markers: bool = False) -> str:
    """A line through the points (x, y), broken where a value cannot be drawn; dots at the points if markers."""
    px, py = frame.x(x), frame.y(y)
    ok = np.isfinite(px) & np.isfinite(py)
    style = f'fill="none" stroke="{color}" stroke-width="{width}" stroke-linejoin="round"'
    if opacity < 1:
        style += f' stroke-opacity="{opacity}"'
    if dash:
        style += f' stroke-dasharray="{dash}"'
    runs, start = [], None
    for i, good in enumerate(list(ok) + [False]):
        if good and start is None:
            start = i
        elif not good and start is not None:
            runs.append((start, i))
            start = None
    out = [f'<polyline {style} points="{points_text(px[s:e], py[s:e])}"/>' for s, e in runs if e - s > 1]
    out += [f'<circle cx="{px[s]:.1f}" cy="{py[s]:.1f}" r="{width}" fill="{color}"/>'
            for s, e in runs if e - s == 1 and not markers]  # a lone point still shows
    if markers:
        out += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3.5" fill="{color}"/>' for a, b in zip(px[ok], py[ok])]
    return "".join(out)


def band(frame: Frame, x, low, high, color: str, opacity: float = 0.18) -> str:
    """The filled area between low and high (a merged stretch's min and max), broken where either cannot be drawn."""
    px, top, bottom = frame.x(x), frame.y(high), frame.y(low)
    ok = np.isfinite(px) & np.isfinite(top) & np.isfinite(bottom)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], ok.astype(np.int8), [0]))))  # starts and ends of the runs
    out = []
    for s, e in zip(edges[::2], edges[1::2]):
        if e - s > 1:
            xs, ys = np.concatenate((px[s:e], px[s:e][::-1])), np.concatenate((top[s:e], bottom[s:e][::-1]))
            out.append(f'<polygon fill="{color}" fill-opacity="{opacity}" stroke="none" '
                       f'points="{points_text(xs, ys)}"/>')
    return "".join(out)


def axes(frame: Frame, x_title: str, y_ticks: list[tuple[float, str]], y_title: str | None = None) -> str:
    """Grid lines, tick labels and the axis titles of a plot area; y_ticks are (value, text) pairs."""
    out = []
    for value in nice_ticks(*frame.x_range):
        x = float(frame.x([value])[0])
        out.append(f'<line x1="{x:.1f}" y1="{frame.top}" x2="{x:.1f}" y2="{frame.bottom}" stroke="{GRID}"/>')
        out.append(label(x, frame.bottom + TICK_SIZE + 4, step_label(value)))
    for value, text in y_ticks:
        y = float(frame.y([value])[0])
        if math.isfinite(y) and frame.top - 1 <= y <= frame.bottom + 1:
            out.append(f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.right}" y2="{y:.1f}" stroke="{GRID}"/>')
            out.append(label(frame.left - 5, y + TICK_SIZE * 0.35, text, anchor="end"))
    out.append(f'<line x1="{frame.left}" y1="{frame.bottom}" x2="{frame.right}" y2="{frame.bottom}" '
               f'stroke="{AXIS_LINE}"/>')
    out.append(label((frame.left + frame.right) / 2, frame.bottom + 2 * TICK_SIZE + 10, x_title, FONT_SIZE))
    if y_title:
        middle = (frame.top + frame.bottom) / 2
        out.append(label(14, middle, y_title, FONT_SIZE, transform=f"rotate(-90 14 {middle:.1f})"))
    return "".join(out)


def log_frame(values, box: tuple[float, float, float, float], x_range) -> tuple[Frame, list[tuple[float, str]]]:
    """A plot area with a log y axis over the values' positive finite range, and its ticks (theme.log_axis's)."""
    values = np.asarray(values, dtype=float).ravel()
    good = values[np.isfinite(values) & (values > 0)]
    lo, hi = (float(good.min()), float(good.max())) if good.size else (0.1, 1.0)
    lo, hi = (lo / 2, hi * 2) if hi / lo < 1.01 else (lo, hi)  # a flat line still gets an axis
    pad = 0.04 * (math.log10(hi) - math.log10(lo))
    axis = powers_of_ten(log_axis(good))
    ticks = list(zip(axis.get("tickvals", []), axis.get("ticktext", [])))
    frame = Frame(*box, x_range=x_range, y_range=(math.log10(lo) - pad, math.log10(hi) + pad), y_log=True)
    return frame, ticks


def x_range(*steps) -> tuple[float, float]:
    """The steps' range from step 0 (as the Plotly charts), or -1 to 1 when there is nothing to span."""
    values = np.concatenate([np.asarray(s, dtype=float).ravel() for s in steps])
    values = values[np.isfinite(values)]
    if not values.size:
        return 0.0, 1.0
    lo, hi = min(0.0, float(values.min())), float(values.max())  # from step 0, as the Plotly charts
    return (lo - 1, hi + 1) if hi <= lo else (lo, hi)


def swatch(color: str, dash: str | None, line_width: float) -> str:
    """A legend entry's line: as its chart draws it (faint when thin), at least 1.5 wide."""
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    opacity = ' stroke-opacity="0.35"' if line_width < 2 else ""
    return f'stroke="{color}" stroke-width="{max(line_width, 1.5)}"{dashes}{opacity}'


def legend(items: list[tuple[str, str, str | None, float]], left: float, top: float) -> str:
    """Legend entries (name, colour, dash, line width) one under the other, from (left, top), in the picture."""
    out = []
    for i, (name, color, dash, line_width) in enumerate(items):
        y = top + i * (TICK_SIZE + 8)
        out.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{left + 26:.1f}" y2="{y:.1f}" '
                   f'{swatch(color, dash, line_width)}/>')
        out.append(label(left + 32, y + TICK_SIZE * 0.35, name, anchor="start"))
    return "".join(out)


def svg(name: str, width: int, height: int, title: str, body: str, last_step: int | None = None) -> str:
    """The <svg> element: as wide as its column, as tall as that makes it (at most 1.4x its drawn size).

    last_step: the newest step drawn, as data-last-step (what the readouts beside it must say).
    """
    plain_title = html.escape(re.sub(r"<[^>]+>", "", title))
    last = f' data-last-step="{last_step}"' if last_step is not None else ""
    return (f'<svg class="live-chart" data-chart="{name}"{last} role="img" aria-label="{plain_title}" '
            f'viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg" '
            f'style="max-height:{int(height * 1.4)}px;font-family:inherit;overflow:visible">{body}</svg>')


def html_legend(items: list[tuple[str, str, str | None, float]]) -> str:
    """Legend entries (name, colour, dash, line width) as HTML: as many a row as fit, in the page's font size."""
    entries = []
    for name, color, dash, line_width in items:
        line = (f'<svg width="26" height="10" xmlns="http://www.w3.org/2000/svg"><line x1="0" y1="5" x2="26" y2="5" '
                f'{swatch(color, dash, line_width)}/></svg>')
        entries.append(f'<span style="display:flex;align-items:center;gap:6px;white-space:nowrap">{line}'
                       f"{html.escape(name, quote=False)}</span>")
    size = round((TICK_SIZE - 1) * font_scale())  # presenter mode's larger text
    return (f'<div class="live-legend" style="flex:1 1 100%;display:grid;gap:0 12px;padding-left:8px;color:{INK};'
            f'font-size:{size}px;grid-template-columns:repeat(auto-fill,minmax(11.5em,1fr))">'
            f'{"".join(entries)}</div>')


def loss_accuracy(history: dict, epochs: list[dict], regression: bool,
                  marks: tuple[tuple[int, str], ...] = ()) -> str:
    """Loss per step and per epoch (log axis) and, for a classifier, accuracy beside it: train_figs.loss_accuracy.

    Each panel is its own picture in a row that wraps: side by side in the page's column on a projector, one
    above the other, each as wide as the screen, on a phone. The legend is HTML below them.
    """
    step, e_step = np.asarray(history["step"]), [e["step"] for e in epochs]
    train_loss, val_loss = [e["train_loss"] for e in epochs], [e["val_loss"] for e in epochs]
    width = LOSS_WIDTH if regression else LOSS_WIDTH // 2
    top, bottom, left, right = 38, PANEL_HEIGHT - 48, 50, width - 10  # the title above; ticks and "step" below
    steps, bands = x_range(step, e_step), has_bands(history)
    spread = [history["loss_min"], history["loss_max"]] if bands else []
    loss, ticks = log_frame(np.concatenate([history["loss"], train_loss, val_loss] + spread),
                            (left, top, right, bottom), steps)
    body = [label((left + right) / 2, top - 12, _("Loss C"), TITLE_SIZE), axes(loss, _("step"), ticks)]
    if bands:
        body.append(band(loss, step, history["loss_min"], history["loss_max"], TRAIN))
    body.append(polyline(loss, step, history["loss"], TRAIN, 1, 0.35))
    body.append(polyline(loss, e_step, train_loss, TRAIN, 3, markers=True))
    body.append(polyline(loss, e_step, val_loss, VAL, 3, markers=True))
    for at, text in marks:
        x = float(loss.x([at])[0])
        body.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{MARK}" '
                    f'stroke-dasharray="5 3"/>')
        body.append(label(x + 3, top + 12, text, 12, anchor="start"))
    panels = [svg("loss", width, PANEL_HEIGHT, _("Loss C"), "".join(body), int(step[-1]) if len(step) else 0)]
    items = [(_("mini-batch loss"), TRAIN, None, 1), (_("train loss"), TRAIN, None, 3),
             (_("validation loss"), VAL, None, 3)]
    if not regression:
        accuracy = Frame(left, top, right, bottom, steps, (0.0, 1.02))
        body = [label((left + right) / 2, top - 12, _("Accuracy"), TITLE_SIZE),
                axes(accuracy, _("step"), [(v, f"{v:.0%}") for v in (0, 0.25, 0.5, 0.75, 1)]),
                polyline(accuracy, step, smooth(np.asarray(history["batch_acc"], dtype=float)), TRAIN, 1, 0.35),
                polyline(accuracy, e_step, [e["train_acc"] for e in epochs], TRAIN, 3, dash="2 4", markers=True),
                polyline(accuracy, e_step, [e["val_acc"] for e in epochs], VAL, 3, dash="2 4", markers=True)]
        panels.append(svg("accuracy", width, PANEL_HEIGHT, _("Accuracy"), "".join(body)))
        items += [(_("mini-batch accuracy"), TRAIN, None, 1), (_("train accuracy"), TRAIN, "2 4", 3),
                  (_("validation accuracy"), VAL, "2 4", 3)]
    cells = "".join(f'<div style="flex:1 1 250px">{panel}</div>' for panel in panels)
    return f'<div class="live-charts" style="display:flex;flex-wrap:wrap">{cells}{html_legend(items)}</div>'


def viridis(fraction: np.ndarray) -> np.ndarray:
    """RGB (uint8) of Plotly's Viridis at fractions 0..1; NaN grey."""
    positions = np.linspace(0, 1, len(VIRIDIS))
    f = np.clip(np.nan_to_num(fraction, nan=0.0), 0, 1)
    rgb = np.stack([np.interp(f, positions, VIRIDIS[:, c]) for c in range(3)], axis=-1)
    rgb[np.isnan(fraction)] = (200, 200, 200)
    return rgb.round().astype(np.uint8)


def png_uri(rgb: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def delta_heatmap(history: dict) -> str:
    """Layers x steps of mean |δ^l| on a log colour scale, with its colour bar: train_figs.delta_heatmap."""
    delta = np.asarray(history["delta_mean_abs"], dtype=float)
    n_layers = delta.shape[1] if delta.ndim == 2 else 0
    logd, lo, hi = log_delta(delta)
    height = max(LOSS_HEIGHT, 130 + 20 * n_layers)
    title = _("Error signal δ<sup>l</sup> = ∂C/∂z<sup>l</sup><br>in every layer (log colour)")
    names = [layer_name(l, n_layers) for l in range(1, n_layers + 1)]
    left = 10 + max([len(n) for n in names] + [4]) * TICK_SIZE * 0.52
    top, bottom, right = 66, height - 50, DELTA_WIDTH - 82
    frame = Frame(left, top, right, bottom, x_range(history["step"]), (0.0, 1.0))
    body = [title_lines(4, 20, title)]
    if n_layers and logd.shape[1]:
        picture = viridis(np.where(np.isfinite(logd), (logd - lo) / (hi - lo), np.nan))
        body.append(f'<image href="{png_uri(picture)}" x="{left:.1f}" y="{top}" width="{right - left:.1f}" '
                    f'height="{bottom - top}" preserveAspectRatio="none" style="image-rendering:pixelated"/>')
    row = (bottom - top) / max(n_layers, 1)
    body += [label(left - 5, top + (i + 0.5) * row + TICK_SIZE * 0.35, name, anchor="end")
             for i, name in enumerate(names)]
    for value in nice_ticks(*frame.x_range, most=3):
        x = float(frame.x([value])[0])
        body.append(label(x, bottom + TICK_SIZE + 4, step_label(value)))
    body.append(label((left + right) / 2, bottom + 2 * TICK_SIZE + 10, _("step"), FONT_SIZE))
    bar_left = right + 14  # the colour bar: Viridis bottom to top, ticks like every log axis
    stops = "".join(f'<stop offset="{i / (len(VIRIDIS) - 1):.3f}" stop-color="{c}"/>'
                    for i, c in enumerate(sequential.Viridis))
    body.append(f'<defs><linearGradient id="viridis-up" x1="0" y1="1" x2="0" y2="0">{stops}</linearGradient></defs>'
                f'<rect x="{bar_left}" y="{top}" width="12" height="{bottom - top}" fill="url(#viridis-up)"/>')
    bar = spaced_ticks(powers_of_ten(log_axis(delta.ravel())), lo, hi, bottom - top, TICK_SIZE + 3)
    for value, text in zip(bar["tickvals"], bar["ticktext"]):
        fraction = (math.log10(value) - lo) / (hi - lo)
        body.append(label(bar_left + 16, bottom - fraction * (bottom - top) + TICK_SIZE * 0.35, text,
                          anchor="start"))
    middle = (top + bottom) / 2
    body.append(label(DELTA_WIDTH - 6, middle, _("mean |δ|"), FONT_SIZE,
                      transform=f"rotate(-90 {DELTA_WIDTH - 6} {middle:.1f})"))
    return svg("delta", DELTA_WIDTH, height, title.replace("<br>", " "), "".join(body))


def per_layer_lines(history: dict, field: str, title: str, y_title: str, width: int = FULL_WIDTH) -> str:
    """One line per layer over the steps on a log axis (δ, gradient norm or update/weight ratio), legend beside;
    in a long run each point is a stretch's mean, with its min-max band.

    width: the column's width on a projector (the page's, or half of it for two charts side by side).
    """
    values = np.asarray(history[field], dtype=float)
    n_layers = values.shape[1] if values.ndim == 2 else 0
    names = [layer_name(l, n_layers) for l in range(1, n_layers + 1)]
    legend_width = 30 + max([len(n) for n in names] + [4]) * TICK_SIZE * 0.55
    bands = has_bands(history)
    low, high = (history[f"{field}_min"], history[f"{field}_max"]) if bands else (values, values)
    frame, ticks = log_frame(np.concatenate([values.ravel(), np.ravel(low), np.ravel(high)]),
                             (86, 56, width - legend_width - 16, 340 - 56), x_range(history["step"]))
    body = [title_lines(4, 22, title), axes(frame, _("step"), ticks, y_title)]
    colors = [LAYER_COLORS[l % len(LAYER_COLORS)] for l in range(n_layers)]
    if bands:
        body += [band(frame, history["step"], low[:, l], high[:, l], colors[l], 0.1)  # fainter: bands overlap
                 for l in range(n_layers)]
    body += [polyline(frame, history["step"], values[:, l], colors[l]) for l in range(n_layers)]
    body.append(legend([(name, color, None, 2) for name, color in zip(names, colors)], width - legend_width, 66))
    return svg(field, width, 340, title.replace("<br>", " "), "".join(body))


# ---------------------------------------------------------------- full screen and downloads, in the browser

# The Plotly charts have a toolbar (PNG download, full screen); the live pictures get the same from one small
# toolbar that this script adds to the page once, outside the charts: it appears over a picture the pointer (or a
# finger) is on, and acts on that picture when clicked. Nothing is added to the pictures' markup and nothing runs
# per redraw, so training stays as light as before. Full screen takes the picture's Streamlit element, which
# the redraws keep (a redraw replaces only its contents): the picture goes on training full-screen.
_TOOLS_JS = """
export default function ({ parentElement, data }) {
  const doc = parentElement.ownerDocument;
  const win = doc.defaultView;
  if (win.__playgroundLiveTools) { win.__playgroundLiveTools.labels = data.labels; return; }
  const state = win.__playgroundLiveTools = { labels: data.labels, chart: null };
  const style = doc.createElement("style");
  style.textContent = `
    #live-tools {position: absolute; z-index: 1000; display: none; gap: 2px; padding: 2px;
                 background: rgba(255,255,255,0.85); border-radius: 4px}
    #live-tools button {border: 0; background: none; cursor: pointer; font-size: 15px; padding: 2px 6px;
                        color: #506784; border-radius: 3px}
    #live-tools button:hover {background: #ebf0f8; color: #2a3f5f}
    :fullscreen {background: white; padding: 2vh 2vw; overflow: auto}
    :fullscreen svg.live-chart {max-height: 92vh !important; height: 92vh}`;
  doc.head.appendChild(style);
  const bar = doc.createElement("div");
  bar.id = "live-tools";
  for (const [action, icon] of [["fullscreen", "⛶"], ["png", "PNG"], ["svg", "SVG"]]) {
    const button = doc.createElement("button");
    button.dataset.action = action;
    button.textContent = icon;
    bar.appendChild(button);
  }
  doc.body.appendChild(bar);
  const titles = () => {
    for (const button of bar.children) button.title = state.labels[button.dataset.action];
  };
  const place = (chart) => {  // over the picture's top right corner
    const box = chart.getBoundingClientRect();
    state.chart = { name: chart.dataset.chart, element: chart.closest('[data-testid="stElementContainer"]') };
    titles();
    bar.style.display = "flex";
    bar.style.left = `${box.right + win.scrollX - bar.offsetWidth - 4}px`;
    bar.style.top = `${box.top + win.scrollY + 2}px`;
  };
  doc.addEventListener("pointerover", (event) => {
    const chart = event.target instanceof Element && event.target.closest("svg.live-chart");
    if (chart) place(chart);
    else if (!(event.target instanceof Element && event.target.closest("#live-tools"))) bar.style.display = "none";
  }, { passive: true });
  const current = () => state.chart && (state.chart.element || doc).querySelector(
    `svg.live-chart[data-chart="${state.chart.name}"]`);
  const save = (blob, ext) => {
    const chart = current();
    const link = doc.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${state.chart.name}-step-${chart.dataset.lastStep || "now"}.${ext}`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  };
  const svgText = (chart) => {  // the picture as a file: its own size and the page's font written in
    const copy = chart.cloneNode(true);
    const box = chart.viewBox.baseVal;
    copy.setAttribute("width", box.width);
    copy.setAttribute("height", box.height);
    copy.style.fontFamily = win.getComputedStyle(chart).fontFamily;
    copy.style.background = "white";
    return new XMLSerializer().serializeToString(copy);
  };
  bar.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    const chart = current();
    if (!button || !chart) return;
    if (button.dataset.action === "fullscreen") {
      const element = state.chart.element || chart;
      if (doc.fullscreenElement) doc.exitFullscreen(); else element.requestFullscreen();
      bar.style.display = "none";
    } else if (button.dataset.action === "svg") {
      save(new Blob([svgText(chart)], { type: "image/svg+xml" }), "svg");
    } else {  // PNG at twice the picture's size, sharp on a projector or a slide, like the Plotly charts'
      const box = chart.viewBox.baseVal;
      const image = new Image();
      image.onload = () => {
        const canvas = doc.createElement("canvas");
        canvas.width = box.width * 2;
        canvas.height = box.height * 2;
        const pen = canvas.getContext("2d");
        pen.fillStyle = "white";
        pen.fillRect(0, 0, canvas.width, canvas.height);
        pen.drawImage(image, 0, 0, canvas.width, canvas.height);
        canvas.toBlob((blob) => save(blob, "png"), "image/png");
      };
      image.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svgText(chart));
    }
  });
}
"""


def chart_tools() -> None:
    """Full screen and PNG/SVG downloads for the live pictures (a toolbar over the picture under the pointer):
    mount once on the page, outside the live panel."""
    import streamlit as st  # the pictures above are plain markup: only this needs Streamlit

    hook = st.components.v2.component("playground_live_tools", js=_TOOLS_JS, html="")
    with st.sidebar:  # height 0, and not in the main column, where even an empty element takes a gap
        hook(key="live_chart_tools", height=0, data={"labels": {
            "fullscreen": _("Full screen (Esc to leave)"), "png": _("Download as PNG"),
            "svg": _("Download as SVG")}})
