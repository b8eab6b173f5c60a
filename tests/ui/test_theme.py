"""ui.theme.log_axis: every log-scale chart gets the same readable ticks."""
import math

from ui.theme import log_axis, log_label


def labels(values) -> list[str]:
    return log_axis(values)["ticktext"]


def test_one_two_five_up_to_three_decades_written_in_full():
    axis = log_axis([0.05, 2.3], title_text="loss")
    assert axis["type"] == "log" and axis["title_text"] == "loss"
    assert labels([0.05, 2.3]) == ["0.05", "0.1", "0.2", "0.5", "1", "2"]
    assert axis["tickvals"][0] == 0.05


def test_powers_of_ten_only_beyond_three_decades():
    assert labels([0.01, 100]) == ["0.01", "0.1", "1", "10", "100"]
    # one style per axis: never 10⁻⁴ next to 0.001
    assert labels([1e-6, 1]) == ["10⁻⁶", "10⁻⁵", "10⁻⁴", "10⁻³", "10⁻²", "10⁻¹", "10⁰"]


def test_many_decades_thin_out_to_at_most_seven_ticks():
    ticks = labels([1e-21, 1e3])
    assert ticks == ["10⁻²⁰", "10⁻¹⁶", "10⁻¹²", "10⁻⁸", "10⁻⁴", "10⁰"]


def test_within_one_decade_and_a_narrow_range():
    assert labels([0.3, 0.5]) == ["0.2", "0.3", "0.5", "0.7"]
    assert labels([0.31, 0.39]) == ["0.3", "0.31", "0.39", "0.5"]  # its ends, when no nice tick lies inside


def test_zeros_infinities_and_nothing_to_show():
    assert labels([0.0, -1.0, math.inf, math.nan, 0.1, 10.0]) == ["0.1", "0.2", "0.5", "1", "2", "5", "10"]
    assert log_axis([0.0, math.nan]) == {"type": "log"}


def test_labels_of_tiny_and_huge_ticks():
    assert log_label(2e-6) == "2×10⁻⁶" and log_label(1e5) == "10⁵" and log_label(0.002) == "0.002"
    assert log_label(0.002, plain=False) == "2×10⁻³"


def test_every_failure_kind_has_one_colour_and_every_figure_reads_it():
    """saturated and dead look the same in every figure: ui.theme.KIND_COLORS, keyed by the registry's kinds."""
    from engine.nn.activations import ACTIVATIONS, KINDS
    from ui import gradient_figs, neuron_figs, train_figs
    from ui.theme import KIND_COLORS
    assert set(KIND_COLORS) == set(KINDS) == {ACTIVATIONS[name].kind for name in ACTIVATIONS}
    assert len(set(KIND_COLORS.values())) == len(KIND_COLORS)
    assert set(gradient_figs.KIND_WORDS) == set(KINDS)
    assert not hasattr(train_figs, "SATURATED")  # the Train bars take KIND_COLORS too
    for old in ("SATURATED_COLOR", "DEAD_COLOR", "ACTIVATION_LABELS", "LOSS_LABELS", "COST_LABELS"):
        assert not hasattr(neuron_figs, old), old  # the neuron figures' own tables are gone


# --- fitting texts to the narrowest figure (a phone's 358 px) ------------------------------------------------------
from plotly.subplots import make_subplots  # noqa: E402

from ui.theme import (GLUE, PHONE_FIGURE_WIDTH, TITLE_INSET, chart_config, style, text_width,  # noqa: E402
                      wrap)


def widest_line(text: str, size: float) -> float:
    return max(text_width(line, size) for line in text.split("<br>"))


def test_a_long_english_title_breaks_at_spaces_into_lines_that_fit():
    title = "The computational graph of a two-layer network (output layer L = 2)"
    wrapped = wrap(title, 200, 19)
    assert wrapped.replace("<br>", " ") == title  # only spaces became breaks
    assert wrapped.count("<br>") >= 1 and widest_line(wrapped, 19) <= 200


def test_a_short_title_is_left_alone_and_wrapping_twice_changes_nothing():
    assert wrap("Weight gradient per layer", 340, 19) == "Weight gradient per layer"
    once = wrap("layer l   (1 = first hidden layer, 31 = output layer)", 250, 16)
    assert wrap(once, 250, 16) == once


def test_chinese_breaks_after_its_punctuation_before_between_characters():
    wrapped = wrap("每层的误差信号（初始化时）", 150, 19)
    assert wrapped == "每层的误差信号<br>（初始化时）"


def test_a_term_glued_with_word_joiners_is_never_split():
    term = GLUE.join("梯度爆炸")
    for width in range(40, 200, 5):
        wrapped = wrap("梯度消失与" + term, width, 19)
        assert term in wrapped.split("<br>")[-1], (width, wrapped)


def test_markup_is_measured_at_its_size_and_never_cut():
    text = "z<sup>1</sup> = W<sup>1</sup>a<sup>0</sup> + b<sup>1</sup>"
    assert text_width(text, 16) < text_width(text.replace("<sup>", "").replace("</sup>", ""), 16)
    for width in range(20, 200, 10):
        assert all(line.count("<sup>") == line.count("</sup>") for line in wrap(text, width, 16).split("<br>"))


def test_style_fits_subplot_titles_axis_titles_and_the_title_to_a_phone_and_makes_room_above():
    fig = make_subplots(rows=1, cols=2, subplot_titles=("sigmoid: a = σ(z) = 1/(1 + e⁻ᶻ)", "its slope σ'(z)"))
    fig.update_xaxes(title_text="layer l   (1 = first hidden layer, 31 = output layer)")
    fig.update_layout(title="The computational graph of a two-layer network (output layer L = 2)")
    style(fig, height=380)
    width = PHONE_FIGURE_WIDTH
    assert widest_line(fig.layout.title.text, 19) <= width - 2 * TITLE_INSET
    plot_width = width - fig.layout.margin.l - fig.layout.margin.r
    for annotation in fig.layout.annotations:  # each panel title within its half: they cannot overlap
        assert widest_line(annotation.text, 16) <= plot_width * 0.45 + 1, annotation.text
    for axis in fig.select_xaxes():
        assert axis.automargin and widest_line(axis.title.text, 16) <= plot_width * 0.45 + 1
    lines = fig.layout.title.text.count("<br>") + 1
    panel_lines = max(a.text.count("<br>") + 1 for a in fig.layout.annotations)
    assert fig.layout.margin.t >= 34 + (lines * 19 + panel_lines * 16) * 1.3  # the titles' lines fit above the plot


def test_every_chart_downloads_a_sharp_png_named_after_it():
    config = chart_config("bp_fig_graph")
    assert config["toImageButtonOptions"] == {"format": "png", "scale": 2, "filename": "bp_fig_graph"}
    assert config["displaylogo"] is False


def test_a_legend_on_the_bottom_edge_gets_a_margin_for_itself_and_a_wrapped_x_title():
    import plotly.graph_objects as go

    from ui.theme import EDGE, style
    fig = go.Figure([go.Scatter(x=[1, 2], y=[1, 2], name="A: sigmoid + N(0, 1)"),
                     go.Scatter(x=[1, 2], y=[2, 1], name="B: ReLU + He")])
    fig.update_xaxes(title_text="layer l   (1 = first hidden layer, 31 = output layer)")
    style(fig, height=380, legend_below=EDGE)
    assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 0
    assert fig.layout.xaxis.title.text.count("<br>") == 1  # a phone's width: two lines
    # tick labels, two title lines and two legend rows (the two names do not fit one 358-pixel row)
    assert fig.layout.margin.b >= 16 * 1.3 + 2 * 16 * 1.3 + 2 * 16 * 1.6


def test_titles_wrap_to_the_share_of_the_page_the_browser_reported(monkeypatch):
    import ui.theme as theme
    monkeypatch.setattr(theme, "main_width", lambda: 800)
    assert theme.figure_width() == round(800 * theme.HALF)  # unknown place: one of two columns
    with theme.figure_share(1.0):
        assert theme.figure_width() == 800
    monkeypatch.setattr(theme, "main_width", lambda: 320)  # a phone: never narrower than its column
    assert theme.figure_width() == theme.PHONE_FIGURE_WIDTH
    monkeypatch.setattr(theme, "main_width", lambda: None)  # before the browser has said
    with theme.figure_share(1.0):
        assert theme.figure_width() == theme.PHONE_FIGURE_WIDTH


def test_a_figure_only_wide_screens_show_is_laid_out_for_one_before_the_width_is_known(monkeypatch):
    import ui.theme as theme
    for width in (None, 390):  # a first visit, or a phone (whose CSS hides the figure)
        monkeypatch.setattr(theme, "main_width", lambda: width)
        with theme.figure_share(1.0):
            assert theme.figure_width() <= theme.PHONE_FIGURE_WIDTH + 32
            with theme.wide_screens_only():
                assert theme.figure_width() == theme.WIDE_MAIN_WIDTH
    monkeypatch.setattr(theme, "main_width", lambda: 1100)  # a wide screen that said its width keeps it
    with theme.figure_share(1.0), theme.wide_screens_only():
        assert theme.figure_width() == 1100
