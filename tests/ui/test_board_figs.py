"""The board's figures and words from hand-made Board records: a dot per entry in its variant's column, the
medians and ranges the numbers give, a log axis for log templates, the highlighted run, the found sentence."""
import math
import statistics

import numpy as np
import pytest

from classroom import TEMPLATES, Board, Entry, Experiment, Finding, Group
from classroom.board import stats
from classroom.templates import variant_labels
from ui.board_figs import class_figure, confusion_figure, curves_figure, digit_sheet, gallery_figure, selected_run
from ui.board_words import found_sentence, value_text
from ui.i18n import speaking


def entry(result_id: int, value: float, student: int | None = None, name: str = "", curve=(2.0, 1.0, 0.5)) -> Entry:
    return Entry(result_id, student or result_id, name, f"run-{result_id}", float(result_id), value,
                 {"val_acc": value}, (), None, tuple(curve), 0)


def make_board(template_id: str, values: list[list[float]], names: dict[int, str] | None = None) -> Board:
    """A board of the template's variants, each with the given key values (result ids 1, 2, 3 ... in order)."""
    tmpl = TEMPLATES[template_id]
    variants = tmpl.variants[:len(values)]
    labels = variant_labels(variants)
    groups, next_id = [], 1
    for i, vals in enumerate(values):
        entries = []
        for v in vals:
            entries.append(entry(next_id, v, name=(names or {}).get(next_id, "")))
            next_id += 1
        groups.append(Group(i, variants[i], labels[i], tuple(entries), stats(vals, tmpl.log), {}))
    pooled = [v for vals in values for v in vals]
    found = tuple(Finding(g.variant, g.label, tmpl.key, g.stats.median, g.stats.n) for g in groups if g.stats.n)
    exp = Experiment(1, 1, tmpl.id, None, variants, False, "open", 0.0)
    return Board(exp, tmpl, tmpl.key, tmpl.log, tuple(groups), stats(pooled, tmpl.log), 9, 8, len(pooled),
                 len(pooled), found)


DEPTH = [[0.9, 0.92, 0.88], [0.85, 0.87], [0.6], [0.1, 0.12, 0.11, 0.09]]


def dot_traces(fig):
    return [t for t in fig.data if t.name != "median"]


def median_traces(fig):
    return [t for t in fig.data if t.name == "median"]


def test_one_dot_per_entry_in_its_variants_column():
    fig = class_figure(make_board("depth", DEPTH))
    dots = dot_traces(fig)
    assert [len(t.y) for t in dots] == [len(v) for v in DEPTH]
    for column, (trace, values) in enumerate(zip(dots, DEPTH)):
        assert list(trace.y) == values
        assert all(abs(x - column) < 0.5 for x in trace.x)  # inside its own column
    ids = [row[0] for t in dots for row in t.customdata]
    assert ids == list(range(1, 11))  # a click names the run by its result id
    assert list(fig.layout.xaxis.ticktext) == ["1 × 32", "2 × 32", "4 × 32", "8 × 32"]


def test_medians_and_ranges_are_the_numbers_of_each_group():
    fig = class_figure(make_board("depth", DEPTH))
    medians = median_traces(fig)
    assert [t.y[0] for t in medians] == [statistics.median(v) for v in DEPTH]
    for trace, values in zip(medians, DEPTH):
        median = statistics.median(values)
        assert trace.error_y.array[0] == pytest.approx(max(values) - median)
        assert trace.error_y.arrayminus[0] == pytest.approx(median - min(values))


def test_a_log_template_gets_a_log_axis_and_a_linear_one_does_not():
    ratios = [[3e-4, 1e-4, 5e-4], [0.2, 0.5], [40.0], [0.8, 1.1]]
    log_fig = class_figure(make_board("init_activation", ratios))
    assert log_fig.layout.yaxis.type == "log"
    assert class_figure(make_board("depth", DEPTH)).layout.yaxis.type != "log"


def test_a_zero_ratio_cannot_be_drawn_on_a_log_axis_and_is_left_out():
    fig = class_figure(make_board("init_activation", [[0.0, 1e-3], [0.5]]))
    assert [list(t.y) for t in dot_traces(fig)] == [[1e-3], [0.5]]


def test_the_highlighted_run_is_bigger_outlined_and_the_others_faded_in_both_figures():
    board = make_board("depth", DEPTH)
    fig = class_figure(board, highlight=4)
    sizes = [s for t in dot_traces(fig) for s in t.marker.size]
    opacities = [o for t in dot_traces(fig) for o in t.marker.opacity]
    assert sizes[3] > max(sizes[:3] + sizes[4:])
    assert opacities[3] == 1 and max(opacities[:3] + opacities[4:]) < 1
    curves = curves_figure(board, highlight=4)
    assert len(curves.data) == 10  # one line per run
    top = curves.data[-1]  # drawn last, on top
    assert top.customdata[0][0] == 4 and top.line.width > max(t.line.width for t in curves.data[:-1])
    assert all(t.opacity < 1 for t in curves.data[:-1])
    unlit = class_figure(board)
    assert all(o == 1 for t in dot_traces(unlit) for o in t.marker.opacity)


def test_names_are_escaped_in_hover_and_replaced_when_hidden():
    board = make_board("depth", [[0.9, 0.8]], names={1: "<b>Ann</b>"})
    shown = dot_traces(class_figure(board))[0].hovertext
    assert shown[0] == "&lt;b&gt;Ann&lt;/b&gt;" and shown[1] == "student 2"
    hidden = dot_traces(class_figure(board, hide_names=True))[0].hovertext
    assert list(hidden) == ["student 1", "student 2"]


def test_the_found_sentence_is_built_from_the_medians_in_both_languages():
    ratios = [[3e-4, 2e-4, 4e-4, 3e-4, 3e-4, 3.1e-4, 2.9e-4], [0.8], [40.0, 60.0]]
    board = make_board("init_activation", ratios)
    assert found_sentence(board) == "sigmoid + N(0, 1): δ¹/δ⁴ at initialisation median 3×10⁻⁴ over 7 runs; " \
                                    "sigmoid + Xavier: 0.8 (1 run); tanh + N(0, 1): 50 (2 runs)"
    with speaking("zh"):
        zh = found_sentence(board)
    assert "中位数 3×10⁻⁴" in zh and "7 次运行" in zh and "over" not in zh
    assert found_sentence(make_board("depth", [[], []])) is None


def test_values_read_as_a_teacher_would_say_them():
    assert value_text("val_acc", 0.913) == "91%"
    assert value_text("ratio_init", 3.2e-4) == "3×10⁻⁴"
    assert value_text("final_loss", 0.314) == "0.31"
    assert value_text("val_acc", None) == "–" and value_text("final_loss", math.nan) == "–"


def test_the_clicked_point_names_its_run():
    assert selected_run({"selection": {"points": [{"customdata": [7], "x": 0, "y": 1}]}}) == 7
    assert selected_run({"selection": {"points": []}}) is None
    assert selected_run(None) is None


def test_digits_sheet_puts_each_drawing_in_its_digits_row():
    images = np.zeros((3, 28, 28), np.uint8)
    images[0, 5, 5], images[1, 6, 6], images[2, 7, 7] = 255, 200, 100
    labels = np.array([3, 3, 9])
    sheet = digit_sheet(images, labels, columns=2)
    assert sheet.shape == (280, 56)
    assert sheet[3 * 28 + 5, 5] == 255 and sheet[3 * 28 + 6, 28 + 6] == 200 and sheet[9 * 28 + 7, 7] == 100
    assert gallery_figure(images, labels).layout.yaxis.ticktext == tuple(str(d) for d in range(10))
    confusion = np.eye(10, dtype=np.int64) * 3
    fig = confusion_figure(confusion)
    assert np.array_equal(np.asarray(fig.data[0].z), confusion)
