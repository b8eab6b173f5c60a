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
