"""One look for every figure: large fonts for a projector, white background, layer colours, log axes."""
from __future__ import annotations

import math

import plotly.graph_objects as go
import plotly.io as pio

FONT_SIZE = 16
TEMPLATE = "plotly_white"  # Plotly's default template once set; naming it on each figure cost 18 ms a figure
# The app's palette (Open Color's 8th/9th shades), named once: figures say BLUE, not "#3b5bdb"
BLUE, ORANGE, GREEN, PINK, VIOLET, CYAN = "#3b5bdb", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#1098ad"
YELLOW, RED = "#f08c00", "#e03131"
GREY, LIGHT_GREY, DARK, BLACK = "#868e96", "#adb5bd", "#343a40", "#212529"
LAYER_COLORS = [BLUE, ORANGE, GREEN, PINK, VIOLET, CYAN, YELLOW, "#5c940d", "#862e9c", "#495057"]
# How a unit stops learning, by the activation registry's kind (ACTIVATIONS[name].kind), in every figure:
# saturated (σ' tiny, it learns slowly) warns like a vanishing verdict, dead (σ' = 0, it never learns again)
# alarms like a dead one; a unit that does neither is drawn in a quiet grey.
KIND_COLORS = {"saturates": YELLOW, "dies": RED, "none": LIGHT_GREY}
MAX_LOG_TICKS = 7  # more labels than this crowd a 340-pixel axis on a projector
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
MODEBAR_STRIP = 34  # px from a figure's top edge that Plotly's toolbar (modebar) covers when the pointer is over it
TOP_MARGIN = MODEBAR_STRIP + 40  # the toolbar's strip, then a one-line title


def layout(height: int = 360, legend_below: bool = False) -> dict:
    """The app's projector-friendly layout, as Plotly's layout dict (style() applies it to a figure).

    Plotly's own nesting only (font=dict(size=...)), never the Python objects' shortcuts (font_size=...):
    live_figure() hands the dict to the browser unchecked, and plotly.js ignores keys it does not know.

    The title hangs from the top edge below the strip Plotly's toolbar (the modebar) appears in on hover, so
    the toolbar never covers it, however long the title or narrow the chart (a phone, a half-width column).
    """
    settings = dict(
        height=height, font=dict(size=FONT_SIZE),
        title=dict(font=dict(size=FONT_SIZE + 3), x=0, xref="paper", xanchor="left", y=1, yref="container",
                   yanchor="top", pad=dict(t=MODEBAR_STRIP)),
        margin=dict(l=60, r=20, t=TOP_MARGIN, b=50),
        hoverlabel=dict(font=dict(size=FONT_SIZE)), modebar=dict(orientation="h", bgcolor="rgba(255,255,255,0.7)"),
    )
    if legend_below:
        settings["legend"] = dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0)
    return settings


def use_template() -> None:
    """Plotly's white template for every figure of the process, set once (naming it on each cost 18 ms)."""
    if pio.templates.default != TEMPLATE:
        pio.templates.default = TEMPLATE


def style(fig: go.Figure, height: int = 360, legend_below: bool = False) -> go.Figure:
    """Apply the app's projector-friendly defaults (layout()) to a figure."""
    if pio.templates.default != TEMPLATE:  # the process's first figure: later ones are born with it
        use_template()
        fig.update_layout(template=TEMPLATE)
    fig.update_layout(layout(height, legend_below))
    fig.update_annotations(font_size=FONT_SIZE + 1)
    return fig


def merged(base: dict, *overrides: dict) -> dict:
    """base with each override's keys laid over it, nested dicts merged key by key (like fig.update_layout)."""
    result = dict(base)
    for override in overrides:
        for key, value in override.items():
            if isinstance(value, dict) and isinstance(result.get(key), dict):
                result[key] = merged(result[key], value)
            else:
                result[key] = value
    return result


def live_figure(data: list[dict], figure_layout: dict) -> go.Figure:
    """A figure from Plotly's own JSON form (traces and layout as dicts), built without Plotly's checks.

    For the charts a page redraws every second or two for every student: Plotly checks each property as a
    figure is built (30 ms for the Train page's loss chart); the same figure from dicts takes 1 ms. The keys
    are Plotly's figure reference (plotly.com/python/reference); tests read these charts' traces and texts.
    """
    use_template()
    return go.Figure({"data": data, "layout": figure_layout}, _validate=False)


def log_label(value: float, plain: bool = True) -> str:
    """A log axis's tick in full: 0.05 and 200 as written (plain), else, or when tiny or huge, as 2×10⁻⁶."""
    if plain and 1e-3 <= value < 1e4:
        return f"{value:g}"
    exponent = math.floor(math.log10(value) + 1e-9)
    mantissa = round(value / 10.0 ** exponent, 6)
    power = f"10{str(exponent).translate(SUPERSCRIPT)}"
    return power if mantissa == 1 else f"{mantissa:g}×{power}"


def log_axis(values, **settings) -> dict:
    """Settings for fig.update_xaxes / update_yaxes: a log axis with the same readable ticks on every chart.

    Within a decade: 1, 2, 3, 5, 7 of it; up to three decades: 1, 2 and 5 in each; beyond, powers of ten only,
    every second or third one when there are many. Zeros, negatives and inf cannot be drawn and are ignored.
    """
    finite = [float(v) for v in values if v is not None and math.isfinite(v) and v > 0]
    axis = dict(type="log", **settings)
    if not finite:
        return axis
    low, high = min(finite), max(finite)
    decades = math.log10(high / low)
    if decades < 1:
        mantissas, every = (1, 2, 3, 5, 7), 1
    elif decades <= 3:
        mantissas, every = (1, 2, 5), 1
    else:
        mantissas, every = (1,), max(1, math.ceil((decades + 1) / MAX_LOG_TICKS))
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    first -= first % every  # powers on a fixed grid (10⁻⁶, 10⁻³, 10⁰), not wherever the data starts
    ticks = [m * 10.0 ** e for e in range(first, last + 1, every) for m in mantissas]
    ticks = [t for t in ticks if low / 1.5 <= t <= high * 1.5]
    if sum(low <= t <= high for t in ticks) < 2:  # a narrow range between two nice ticks: label its ends
        ticks = sorted(set(ticks) | {float(f"{low:.2g}"), float(f"{high:.2g}")})
    plain = all(1e-3 <= t < 1e4 for t in ticks)  # one style per axis: 0.001 and 10⁻⁴ never side by side
    return dict(axis, tickvals=ticks, ticktext=[log_label(t, plain) for t in ticks])
