"""engine.train.history: rows come back as appended, the older half is thinned by 2 so a run holds at most
max_points rows (recent steps at full resolution, older ones sparser), and the CSV is written out by hand here."""
import math

import numpy as np
import pytest

from engine.train.history import LAYER_FIELDS, STEP_FIELDS, History


def layers_of(step: int, n_layers: int) -> np.ndarray:
    """A hand-filled (len(LAYER_FIELDS), n_layers) block that names its step: field f, layer l holds step + f/10 + l/100."""
    f = np.arange(len(LAYER_FIELDS))[:, None]
    l = np.arange(n_layers)[None, :]
    return step + f / 10 + l / 100


def filled(n_steps: int, max_points: int = 100, n_layers: int = 2) -> History:
    """Steps 1..n_steps, each row naming its step in every field: epoch step/10, loss 1/step, accuracy step/1000."""
    history = History(n_layers, max_points)
    for step in range(1, n_steps + 1):
        history.append(step, step / 10, 1 / step, step / 1000, layers_of(step, n_layers))
    return history


def kept(n_steps: int, max_points: int) -> list[int]:
    """The steps a history should hold, by the docstring's rule on a plain list: full, then the older half halved."""
    rows = []
    for step in range(1, n_steps + 1):
        if len(rows) == max_points:
            half = len(rows) // 2
            rows = rows[:half:2] + rows[half:]
        rows.append(step)
    return rows


def test_an_empty_history_has_every_field_with_no_rows():
    history = History(3)
    assert len(history) == 0 and history.epochs == []
    columns = history.as_dict()
    assert list(columns) == list(STEP_FIELDS + LAYER_FIELDS)
    assert STEP_FIELDS == ("step", "epoch", "loss", "batch_acc")
    assert LAYER_FIELDS[-1] == "update_ratio" and "delta_mean_abs" in LAYER_FIELDS
    assert columns["loss"].shape == (0,) and columns["grad_norm"].shape == (0, 3)


def test_rows_come_back_as_appended():
    history = filled(5, n_layers=3)
    assert len(history) == 5
    np.testing.assert_array_equal(history.column("step"), [1, 2, 3, 4, 5])
    np.testing.assert_allclose(history.column("epoch"), [0.1, 0.2, 0.3, 0.4, 0.5])
    np.testing.assert_allclose(history.column("loss"), [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    np.testing.assert_allclose(history.column("batch_acc"), [0.001, 0.002, 0.003, 0.004, 0.005])
    for f, name in enumerate(LAYER_FIELDS):
        column = history.column(name)
        assert column.shape == (5, 3)  # (steps, layers)
        np.testing.assert_allclose(column, np.arange(1, 6)[:, None] + f / 10 + np.array([0, 0.01, 0.02]))


def test_a_column_is_a_copy():
    history = filled(3)
    history.column("loss")[:] = 99
    history.column("grad_norm")[:] = 99
    np.testing.assert_allclose(history.column("loss"), [1, 1 / 2, 1 / 3])
    assert history.column("grad_norm")[0, 0] == pytest.approx(1.1)


def test_up_to_max_points_nothing_is_thinned():
    history = filled(100, max_points=100)
    np.testing.assert_array_equal(history.column("step"), np.arange(1, 101))


def test_the_row_after_max_points_thins_the_older_half_by_two():
    history = filled(101, max_points=100)
    expected = list(range(1, 50, 2)) + list(range(51, 102))  # 1, 3, ..., 49: 25 rows; then 51..101 whole
    assert expected == kept(101, 100) and len(expected) == 76
    np.testing.assert_array_equal(history.column("step"), expected)
    # every field of a row stays with its step
    steps = np.array(expected, dtype=float)
    np.testing.assert_allclose(history.column("loss"), 1 / steps)
    np.testing.assert_allclose(history.column("epoch"), steps / 10)
    np.testing.assert_allclose(history.column("update_ratio")[:, 1], steps + (len(LAYER_FIELDS) - 1) / 10 + 0.01)


def test_max_points_is_at_least_100():
    history = filled(100, max_points=10)
    assert history.max_points == 100 and len(history) == 100  # not thinned at 10
    assert len(filled(101, max_points=10)) == 76


@pytest.mark.parametrize("n_steps, max_points", [(250, 100), (10_000, 100), (5000, 400)])
def test_a_long_run_stays_bounded_recent_steps_whole_older_ones_sparser(n_steps, max_points):
    history = filled(n_steps, max_points)
    steps = history.column("step")
    np.testing.assert_array_equal(steps, kept(n_steps, max_points))
    assert len(history) <= max_points
    assert steps[0] == 1 and steps[-1] == n_steps  # the first step and the newest are always there
    np.testing.assert_array_equal(steps[-max_points // 2:], np.arange(n_steps - max_points // 2 + 1, n_steps + 1))
    gaps = np.diff(steps)
    assert np.all(np.diff(gaps) <= 0)  # the gaps only shrink from the oldest rows to the newest
    assert gaps[0] > 1


def test_csv_has_one_row_a_step_one_column_a_layer_and_the_epoch_metrics_at_their_step():
    history = History(n_layers=2)
    history.append(1, 0.5, 0.25, 1.0, np.arange(14, dtype=float).reshape(7, 2) / 4)
    history.append(2, 1.0, 0.123456789, math.nan, np.full((7, 2), 1234567.0))
    history.epochs.append({"epoch": 1, "step": 2, "train_loss": 0.2, "train_acc": 0.9, "val_loss": 0.3,
                           "val_acc": None})
    header = ("step,epoch,loss,batch_acc,"
              "delta_mean_abs_l1,delta_mean_abs_l2,grad_norm_l1,grad_norm_l2,act_mean_l1,act_mean_l2,"
              "act_std_l1,act_std_l2,saturated_frac_l1,saturated_frac_l2,dead_frac_l1,dead_frac_l2,"
              "update_ratio_l1,update_ratio_l2,train_loss,train_acc,val_loss,val_acc")
    first = "1,0.5,0.25,1,0,0.25,0.5,0.75,1,1.25,1.5,1.75,2,2.25,2.5,2.75,3,3.25,,,,"
    second = "2,1,0.123457,nan," + ",".join(["1234567"] * 14) + ",0.2,0.9,0.3,"
    assert history.to_csv() == "\n".join([header, first, second]) + "\n"
