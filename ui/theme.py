"""One look for every figure: large fonts for a projector, white background, layer colours, log axes."""
from __future__ import annotations

import contextlib
import contextvars
import math
import re
import unicodedata
from typing import Iterator

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.i18n import _

FONT_SIZE = 16
PRESENTER_KEY = "present"  # session state (and ?present=1): presenter mode, larger text in pages and figures
PRESENTER_SCALE = 1.4  # presenter mode's figure fonts: 16 px text becomes 22 px, read from a lecture hall's back
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
TITLE_INSET = 8  # px from the figure's left edge to its title
MODEBAR_STRIP = 34  # px from a figure's top edge that Plotly's toolbar (modebar) covers when the pointer is over it
TOP_MARGIN = MODEBAR_STRIP + 40  # the toolbar's strip, then a one-line title
# Titles are wrapped on the server, which cannot know a chart's width: they are broken to fit the narrowest
# figure the app is read on, a 390-pixel phone's column (390 minus Streamlit's 2 x 16 px padding). Presenter
# mode is for a projector: its larger text is broken to fit a half-width column of a 1280-pixel screen.
PHONE_FIGURE_WIDTH, PRESENTER_FIGURE_WIDTH = 358, 560
LATIN_EM, WIDE_EM = 0.56, 1.0  # a character's width in em: Plotly's Open Sans/Verdana average, and CJK/full-width
LINE_HEIGHT = 1.3  # Plotly's line spacing in em for a text with <br>
LEGEND_ROW, LEGEND_SYMBOL = 1.6, 46  # a horizontal legend's row height in em; an item's line, gap and padding in px
BREAK_AFTER = set(" ，、：；。！？）」』》:;,/")  # a line may end after these (a Chinese line after its punctuation)
BREAK_BEFORE = set("（「《")  # ... or start with these
GLUE = "\u2060"  # the word joiner: a translator glues a term's characters (梯⁠度⁠爆⁠炸) so no line splits it
PHONE_CSS_WIDTH = 640  # Streamlit stacks columns below this width


def font_scale() -> float:
    """How much larger than FONT_SIZE the figures' text is: PRESENTER_SCALE in presenter mode, else 1.

    Read from the session (the sidebar's toggle, or ?present=1 in the link) so the figure builders stay pure:
    they call style()/layout(), which ask here; outside a session (scripts, unit tests) it is 1.
    """
    if get_script_run_ctx(suppress_warning=True) is None:
        return 1.0
    return PRESENTER_SCALE if st.session_state.get(PRESENTER_KEY) else 1.0


def font_size(size: float = FONT_SIZE) -> int:
    """A font size in pixels as the session shows it (presenter mode scales it)."""
    return round(size * font_scale())


def figure_width() -> int:
    """The width in pixels to wrap a figure's titles to: its share of the page's main column as this browser
    reported it (figure_share, else half: the narrowest column a chart sits in beside another), never narrower
    than a phone's column; before the browser has said, a phone's (or presenter mode's half-width column)."""
    known = main_width()
    if _wide.get() and (known is None or known < PHONE_CSS_WIDTH):
        known = WIDE_MAIN_WIDTH  # a figure only a wide screen shows: laid out for one, whatever the session knows
    fallback = PRESENTER_FIGURE_WIDTH if font_scale() > 1 else PHONE_FIGURE_WIDTH
    if known is None:
        return fallback
    if known < PHONE_CSS_WIDTH:  # a phone: columns stack, every figure is as wide as the column
        return max(PHONE_FIGURE_WIDTH, known)
    share = _share.get()
    if share is None:
        share = st.session_state.get(PAGE_SHARE_KEY)  # the page's own (kept for its fragments' reruns)
    return max(PHONE_FIGURE_WIDTH, round(known * (HALF if share is None else share)))


HALF = 0.48  # a chart in one of two columns, less the gap between them
_share: contextvars.ContextVar[float | None] = contextvars.ContextVar("figure_share", default=None)


PAGE_SHARE_KEY = "theme_page_share"  # session state: the share page_figure_share set for the page's figures


def page_figure_share(share: float | None) -> None:
    """The share of the main column this page's figures get unless a figure_share block says otherwise (the app's
    frame puts None back before every page). Kept in the session, so a fragment's rerun draws at the same width."""
    if get_script_run_ctx(suppress_warning=True) is not None:
        st.session_state[PAGE_SHARE_KEY] = share


WIDE_MAIN_WIDTH = 700  # px: the main column of a 1280-pixel projector with the sidebar open (the narrowest wide one)
_wide: contextvars.ContextVar[bool] = contextvars.ContextVar("wide_screens_only", default=False)


@contextlib.contextmanager
def wide_screens_only() -> Iterator[None]:
    """Within this block, figures are built for a wide screen: the page's CSS shows them only on one (a phone gets
    another version), so a first visit, whose width is not known yet, must not lay them out for a phone."""
    token = _wide.set(True)
    try:
        yield
    finally:
        _wide.reset(token)


@contextlib.contextmanager
def figure_share(share: float) -> Iterator[None]:
    """Within this block, figures are built for `share` of the main column's width (1: a full-width chart)."""
    token = _share.set(share)
    try:
        yield
    finally:
        _share.reset(token)


WIDTH_KEY, WIDTH_COOKIE = "theme_main_width", "pg_main_width"  # the width hook's key; its cookie
WIDTH_STEP = 40  # px: the width is reported in steps, so a small resize reruns nothing
# The browser measures the page's main column and keeps it, in WIDTH_STEP steps, in a cookie that the next session
# (a reload, the next visit) reads at once. It asks for no rerun: a rerun the browser asked for while a session's
# first run was still drawing left the Train page's widgets at their first options (no hidden layer, η 0.0001,
# batch 1) for 1 of 8 students in a class, who then never trained.
_WIDTH_JS = """
export default function ({ parentElement, data, setStateValue }) {
  const doc = parentElement.ownerDocument;
  const main = doc.querySelector('[data-testid="stMainBlockContainer"]');
  if (!main) return;
  const css = doc.defaultView.getComputedStyle(main);
  const inner = main.clientWidth - parseFloat(css.paddingLeft) - parseFloat(css.paddingRight);
  const width = Math.floor(inner / data.step) * data.step;
  if (!(width > 0)) return;
  doc.cookie = `${data.cookie}=${width}; path=/; max-age=31536000; SameSite=Lax`;
}
"""


def _stepped(width: float) -> int:
    return int(width // WIDTH_STEP * WIDTH_STEP)


def main_width() -> int | None:
    """The page's main column in CSS pixels (in WIDTH_STEP steps) as this browser reported it; None outside a
    session or before it has."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    reported = st.session_state.get(WIDTH_KEY)
    width = reported.get("width") if isinstance(reported, dict) or hasattr(reported, "get") else None
    if width is None:
        try:
            width = int(st.context.cookies.get(WIDTH_COOKIE) or 0) or None
        except (ValueError, TypeError, AttributeError):
            width = None
    return int(width) if isinstance(width, (int, float)) and 200 <= width <= 10_000 else None


def width_hook() -> None:
    """Mount the hook that keeps the main column's width in a cookie (in the sidebar, height 0); titles are wrapped
    for it from the next session on (a first visit wraps them for a phone's width)."""
    page_figure_share(None)  # a new run of the frame: the page that follows says its own
    assumed = main_width()
    hook = st.components.v2.component("playground_width_hook", js=_WIDTH_JS, html="")
    hook(key=WIDTH_KEY, data={"used": assumed if assumed is not None else _stepped(PHONE_FIGURE_WIDTH),
                              "step": WIDTH_STEP, "cookie": WIDTH_COOKIE},
         on_width_change=lambda: None, height=0)


def _char_em(char: str) -> float:
    if char == GLUE:
        return 0.0
    return WIDE_EM if unicodedata.east_asian_width(char) in "WF" else LATIN_EM


def text_width(text: str, size: float) -> float:
    """Estimated width in pixels of one line of Plotly text (markup such as <sup> counted at its size)."""
    width, small = 0.0, False
    for part in re.split(r"(<[^>]+>)", text):
        if part.startswith("<"):
            small = part in ("<sup>", "<sub>") or (small and part not in ("</sup>", "</sub>"))
            continue
        width += sum(_char_em(c) for c in part) * size * (0.7 if small else 1.0)
    return width


RELATIONS = set("=≈<>≤≥→←×·+−/")  # signs whose neighbours stay on their line


def _breaks(tokens: list[str]) -> dict[int, int]:
    """Where a line of tokens may break (a break at i starts the next line with tokens[i]) and how well:
    2 after a space or punctuation or before an opening bracket, 1 between two Chinese characters not glued by
    a word joiner; never inside a tag such as <sup>x</sup>."""
    breaks, depth = {}, 0
    for i in range(1, len(tokens)):
        before, after = tokens[i - 1], tokens[i]
        depth += before.startswith("<") and not before.startswith("</") and not before.endswith("/>")
        depth -= before.startswith("</")
        if depth > 0 or after.startswith("</") or after == " ":
            continue
        if before in RELATIONS or after in RELATIONS:
            continue  # "1/(1 + e⁻ᶻ)" stays whole: no break glued to a sign
        if before == " " and after in RELATIONS:
            continue  # a line may end at "a =" (as TeX breaks after a relation) but never start with "= 0.5"
        if before in BREAK_AFTER or after in BREAK_BEFORE:
            breaks[i] = 2
        elif (len(before) == len(after) == 1 and GLUE not in (before, after)
              and _char_em(before) == WIDE_EM and _char_em(after) == WIDE_EM and after not in BREAK_AFTER):
            breaks[i] = 1
    return breaks


def _wrap_line(line: str, width: float, size: float) -> list[str]:
    tokens = re.findall(r"<[^>]+>|.", line)
    breaks, lines, start = _breaks(tokens), [], 0
    fits = lambda i, j: text_width("".join(tokens[i:j]).strip(), size) <= width  # noqa: E731
    while not fits(start, len(tokens)):
        later = [i for i in breaks if i > start]
        strong = [i for i in later if breaks[i] == 2 and fits(start, i)]
        weak = [i for i in later if fits(start, i)]
        if strong and (text_width("".join(tokens[start:max(strong)]), size) >= width / 2 or not weak):
            cut = max(strong)
        elif weak:
            cut = max(weak)
        elif later:
            cut = min(later)  # the first piece is wider than a line: it overflows whichever way
        else:
            break
        lines.append("".join(tokens[start:cut]).strip())
        start = cut
    lines.append("".join(tokens[start:]).strip())
    return lines


def wrap(text: str, width: float, size: float) -> str:
    """text with <br> inserted so no line is wider than width pixels at font size, where a line may break.

    English breaks at spaces; Chinese after its punctuation (or before an opening bracket), else between two
    characters, never inside a term glued with word joiners (U+2060). Existing <br> are kept.
    """
    return "<br>".join(part for line in text.split("<br>") for part in _wrap_line(line, width, size))


def line_count(text: str | None) -> int:
    return text.count("<br>") + 1 if text else 0


EDGE = "edge"  # legend_below=EDGE: the legend sits on the figure's bottom edge, below the x axis title


def layout(height: int = 360, legend_below: bool | str = False) -> dict:
    """The app's projector-friendly layout, as Plotly's layout dict (style() applies it to a figure).

    Plotly's own nesting only (font=dict(size=...)), never the Python objects' shortcuts (font_size=...):
    live_figure() hands the dict to the browser unchecked, and plotly.js ignores keys it does not know.

    The title hangs from the top edge below the strip Plotly's toolbar (the modebar) appears in on hover, so
    the toolbar never covers it, however long the title or narrow the chart (a phone, a half-width column).
    """
    scale = font_scale()
    settings = dict(
        height=round(height * scale ** 0.5), font=dict(size=font_size()),
        title=dict(font=dict(size=font_size(FONT_SIZE + 3)), x=0, xref="container", xanchor="left", y=1,
                   yref="container", yanchor="top", pad=dict(t=MODEBAR_STRIP, l=TITLE_INSET)),
        margin=dict(l=60, r=20, t=TOP_MARGIN, b=50),
        hoverlabel=dict(font=dict(size=font_size())), modebar=dict(orientation="h", bgcolor="rgba(255,255,255,0.7)"),
    )
    if legend_below == EDGE:  # at the figure's bottom edge: fit_texts makes the bottom margin hold it
        settings["legend"] = dict(orientation="h", yref="container", yanchor="bottom", y=0, xanchor="left", x=0)
    elif legend_below:
        settings["legend"] = dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0)
    return settings


def use_template() -> None:
    """Plotly's white template for every figure of the process, set once (naming it on each cost 18 ms)."""
    if pio.templates.default != TEMPLATE:
        pio.templates.default = TEMPLATE


def style(fig: go.Figure, height: int = 360, legend_below: bool | str = False) -> go.Figure:
    """Apply the app's projector-friendly defaults (layout()) to a figure, and fit its texts (fit_texts())."""
    if pio.templates.default != TEMPLATE:  # the process's first figure: later ones are born with it
        use_template()
        fig.update_layout(template=TEMPLATE)
    fig.update_layout(layout(height, legend_below))
    fig.update_annotations(font_size=font_size(FONT_SIZE))
    return fit_texts(fig)


def _legend_rows(fig: go.Figure, width: float, size: float) -> int:
    """Rows a horizontal legend of the figure's named traces takes in width pixels (Plotly shows none for one
    trace unless asked)."""
    names = [t.name for t in fig.data if t.name and t.showlegend is not False]
    if fig.layout.showlegend is False or (len(names) < 2 and fig.layout.showlegend is not True):
        return 0
    rows, used = 1, 0.0
    for name in names:
        item = text_width(name, size) + LEGEND_SYMBOL
        if used and used + item > width:
            rows, used = rows + 1, 0.0
        used += item
    return rows


def _domain(axis) -> float:
    return (axis.domain[1] - axis.domain[0]) if axis.domain else 1.0


def fit_texts(fig: go.Figure) -> go.Figure:
    """Wrap the figure's title, subplot titles and axis titles to the narrowest width the figure is drawn at
    (figure_width()), make room above the plot for the title's lines, and let the axes push the margins out for
    theirs (automargin), so no text overlaps another or runs off the figure, on a phone or a projector.

    Call it again after changing a title (style() calls it); wrapping an already wrapped text changes nothing.
    """
    width, layout_ = figure_width(), fig.layout
    margin = layout_.margin
    plot_width = width - (margin.l or 0) - (margin.r or 0)
    title_size = font_size(FONT_SIZE + 3)
    title = layout_.title.text
    if title:
        fig.update_layout(title_text=wrap(title, width - 2 * TITLE_INSET, title_size))
    sub_size = font_size(FONT_SIZE)
    top_subtitle_lines = 0
    for annotation in layout_.annotations:  # make_subplots' panel titles: above a panel, as wide as it
        if annotation.text and annotation.xref == "paper" and annotation.yref == "paper" and not annotation.showarrow:
            span = next((_domain(ax) for ax in fig.select_xaxes()
                         if ax.domain and ax.domain[0] - 1e-6 <= (annotation.x or 0) <= ax.domain[1] + 1e-6), 1.0)
            annotation.text = wrap(annotation.text, span * plot_width, sub_size)
            if annotation.yanchor == "bottom" and (annotation.y or 0) >= 0.99:
                top_subtitle_lines = max(top_subtitle_lines, line_count(annotation.text))
    lines = line_count(layout_.title.text)
    # plotly.js raises a title of several lines by part of a line above its anchor: pad it down by its extra lines,
    # so the first one stays clear of the toolbar's strip (a projector's half-width chart wraps titles too)
    lift = max(lines - 1, 0) * title_size * LINE_HEIGHT  # no title yet (lines = 0): no lift, never a negative one
    fig.update_layout(title_pad_t=math.ceil(MODEBAR_STRIP + lift))  # set each call: the title may have changed
    needed = (MODEBAR_STRIP + lift + lines * title_size * LINE_HEIGHT + top_subtitle_lines * sub_size * LINE_HEIGHT
              + 8)
    if needed > (margin.t or 0):
        fig.update_layout(margin=dict(t=math.ceil(needed)))
    plot_height = (layout_.height or 360) - (layout_.margin.t or 0) - (margin.b or 0)
    for axis in fig.select_xaxes():
        if axis.title.text:
            axis.title.text = wrap(axis.title.text, _domain(axis) * plot_width, font_size())
        axis.automargin = True
    x_title_lines = max([line_count(axis.title.text) for axis in fig.select_xaxes()] + [1])
    legend = layout_.legend
    if legend.orientation == "h" and legend.yref == "container":
        # the legend's rows at the bottom edge, the x axis's tick labels and title above them: a margin for all
        # three, so a title wrapped on a phone never runs under the legend (the plot gives up the height)
        size = font_size()
        x_titled = any(axis.title.text for axis in fig.select_xaxes())
        bottom = (size * LINE_HEIGHT + 8 + (x_title_lines * size * LINE_HEIGHT + 6 if x_titled else 0)
                  + _legend_rows(fig, width - (margin.l or 0), size) * size * LEGEND_ROW + 6)
        fig.update_layout(margin=dict(b=math.ceil(max(bottom, margin.b or 0))))
    elif legend.orientation == "h" and legend.y is not None and legend.y < 0 and x_title_lines > 1:
        # a legend below the plot moves down by the x axis title's extra lines (automargin makes room for both);
        # paper units are the plot's height, which automargin shrinks: counted at half of it, never too little
        extra = (x_title_lines - 1) * font_size() * LINE_HEIGHT
        fig.update_layout(legend_y=legend.y - extra / max(plot_height / 2, 60))
    for axis in fig.select_yaxes():
        if axis.title.text:
            axis.title.text = wrap(axis.title.text, _domain(axis) * max(plot_height, 80), font_size())
        axis.automargin = True
    return fig


CHART_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


def chart_config(name: str) -> dict:
    """st.plotly_chart's config for every chart: Plotly's "Download plot as a png" in its toolbar, at twice the
    screen's resolution (sharp on a projector or a slide), saved as name.png."""
    return {**CHART_CONFIG, "toImageButtonOptions": {**CHART_CONFIG["toImageButtonOptions"], "filename": name}}


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


# The app's page styles, in one <style> block app.py puts on every page (st.html takes no room in the page).
PAGE_CSS = """
h1, h2, h3 {text-wrap: balance}  /* a heading's lines even; Chinese terms glued with U+2060 stay whole */
.katex-display {overflow-x: auto; overflow-y: hidden; max-width: 100%}  /* a wide equation scrolls in its box */
@media (min-width: 1024px) {  /* a projector's 1280 px: the sidebar wide enough for option names in full */
  section[data-testid="stSidebar"] {width: 380px !important; min-width: 380px}
}
@media (max-width: 640px) {.katex-display {font-size: 0.92em}}  /* a phone: equations a size smaller */
"""
PRESENTER_CSS = """
html {font-size: 21px}  /* Streamlit sizes its text in rem: body, captions, widgets and headings grow together */
[data-testid="stMetricValue"] {font-size: 3rem}
[data-testid="stCaptionContainer"], .stCaption {font-size: 0.95rem}
"""


def install_presenter() -> bool:
    """Presenter mode for this run: ?present=1 (or 0) in the link, else the sidebar switch's earlier choice; while
    it is on, the URL carries present=1 (a page link drops the query, like lang=)."""
    asked = st.query_params.get(PRESENTER_KEY)
    if asked in ("0", "1"):
        st.session_state[PRESENTER_KEY] = asked == "1"
    on = bool(st.session_state.get(PRESENTER_KEY))
    if on and asked != "1":
        st.query_params[PRESENTER_KEY] = "1"
    elif not on and asked is not None:
        del st.query_params[PRESENTER_KEY]
    return on


def _presenter_switched() -> None:
    st.session_state[PRESENTER_KEY] = bool(st.session_state.get("presenter_switch"))
    if st.session_state[PRESENTER_KEY]:
        st.query_params[PRESENTER_KEY] = "1"
    elif PRESENTER_KEY in st.query_params:
        del st.query_params[PRESENTER_KEY]


def page_css(presenter: bool) -> str:
    """The <style> block for st.html: the app's page styles, and presenter mode's larger text when on."""
    return f"<style>{PAGE_CSS}{PRESENTER_CSS if presenter else ''}</style>"


def presenter_switch() -> None:
    """The sidebar's Presenter mode toggle: larger text on every page and in every chart, for a lecture hall.
    Beside it, the hook that tells the server how wide the page is (figure_width)."""
    width_hook()
    st.session_state["presenter_switch"] = bool(st.session_state.get(PRESENTER_KEY))
    st.toggle(_("Presenter mode"), key="presenter_switch", on_change=_presenter_switched,
              help=_("Larger text on every page and in every chart, for the back of a lecture hall. Each chart's "
                     "toolbar opens it full-screen and downloads it as a PNG. The link keeps present=1."))
