"""engine.train.history: rows come back as appended; once max_points rows are full, pairs merge (mean, min, max)
so every row covers the same number of steps and a run of any length holds at most max_points rows; the CSV says
what each row holds, written out by hand here."""
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


def test_an_empty_history_has_every_field_with_no_rows():
    history = History(3)
    assert len(history) == 0 and history.epochs == []
    columns = history.as_dict()
    values = STEP_FIELDS[1:] + LAYER_FIELDS
    assert list(columns) == ["step", "step_first", "steps"] + [f"{name}{stat}" for name in values
                                                               for stat in ("", "_min", "_max")]
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


def test_up_to_max_points_every_row_is_one_step():
    history = filled(100, max_points=100)
    np.testing.assert_array_equal(history.column("step"), np.arange(1, 101))
    rows = history.as_dict()
    np.testing.assert_array_equal(rows["steps"], np.ones(100))
    np.testing.assert_allclose(rows["loss_min"], rows["loss_max"])


def test_the_row_after_max_points_merges_every_pair_and_rows_then_cover_two_steps():
    history = filled(101, max_points=100)
    rows = history.as_dict()
    assert len(history) == 51 and history.width == 2
    np.testing.assert_array_equal(rows["step_first"], list(range(1, 101, 2)) + [101])
    np.testing.assert_array_equal(rows["step"], list(range(2, 101, 2)) + [101])
    np.testing.assert_array_equal(rows["steps"], [2] * 50 + [1])  # the newest row still fills
    # each value's mean, min and max over the row's steps, worked out by hand: loss 1/step
    np.testing.assert_allclose(rows["loss"][:2], [(1 + 1 / 2) / 2, (1 / 3 + 1 / 4) / 2], rtol=1e-6)
    np.testing.assert_allclose(rows["loss_min"][:2], [1 / 2, 1 / 4], rtol=1e-6)
    np.testing.assert_allclose(rows["loss_max"][:2], [1, 1 / 3], rtol=1e-6)
    np.testing.assert_allclose(rows["grad_norm"][0], 1.5 + 0.1 + np.array([0, 0.01]), rtol=1e-6)
    history.append(102, 10.2, 1 / 102, 0.102, layers_of(102, 2))
    assert len(history) == 51 and history.column("step")[-1] == 102  # joins the filling row


def test_max_points_is_at_least_100():
    history = filled(100, max_points=10)
    assert history.max_points == 100 and len(history) == 100  # not merged at 10


@pytest.mark.parametrize("n_steps, max_points", [(250, 100), (10_000, 100), (5000, 400), (100_000, 4000)])
def test_a_long_run_stays_bounded_and_every_stretch_keeps_the_same_share_of_rows(n_steps, max_points):
    history = filled(n_steps, max_points)
    rows = history.as_dict()
    assert max_points // 2 <= len(history) <= max_points
    assert rows["step_first"][0] == 1 and rows["step"][-1] == n_steps  # the first step and the newest are there
    np.testing.assert_array_equal(rows["step_first"][1:], rows["step"][:-1] + 1)  # no step missing, none twice
    assert np.all(rows["steps"][:-1] == history.width)  # every full row covers as many steps: no stretch thinned
    assert rows["steps"].sum() == n_steps
    np.testing.assert_allclose(rows["loss_max"][0], 1.0)  # step 1's loss survives in its row's max
    np.testing.assert_allclose(rows["loss_min"], 1 / rows["step"], rtol=1e-6)  # loss falls: a row's min is its last
    weighted = np.sum(rows["loss"] * rows["steps"])
    np.testing.assert_allclose(weighted, np.sum(1 / np.arange(1, n_steps + 1)), rtol=1e-5)  # means lose no step


def test_memory_does_not_grow_with_the_run():
    history = filled(200, max_points=100)
    arrays = (history._span, history._stats, history._sum)
    before = sum(a.nbytes for a in arrays)
    for step in range(201, 50_001):
        history.append(step, step / 10, 1 / step, 0.5, layers_of(step, 2))
    assert all(a is b for a, b in zip((history._span, history._stats, history._sum), arrays))  # never reallocated
    assert sum(a.nbytes for a in arrays) == before
    assert len(history.recent_loss(10_000)) == 64


def test_a_spike_inside_a_merged_row_survives_in_its_max():
    history = History(1, max_points=100)
    for step in range(1, 1001):
        history.append(step, 0.0, 100.0 if step == 333 else 1.0, 0.5, np.ones((len(LAYER_FIELDS), 1)))
    rows = history.as_dict()
    spiked = np.flatnonzero(rows["loss_max"] == 100.0)
    assert len(spiked) == 1 and rows["step_first"][spiked[0]] <= 333 <= rows["step"][spiked[0]]
    assert history.latest("loss") == 1.0 and history.recent_loss(3) == [1.0, 1.0, 1.0]


def test_csv_says_what_each_row_holds_one_step_a_row_while_the_run_is_short():
    history = History(n_layers=2)
    history.append(1, 0.5, 0.25, 1.0, np.arange(14, dtype=float).reshape(7, 2) / 4)
    history.append(2, 1.0, 0.125, math.nan, np.full((7, 2), 1234567.0))
    history.epochs.append({"epoch": 1, "step": 2, "train_loss": 0.2, "train_acc": 0.9, "val_loss": 0.3,
                           "val_acc": None})
    layer_columns = ",".join(f"{name}_l{l}_{stat}" for name in LAYER_FIELDS for stat in ("mean", "min", "max")
                             for l in (1, 2))
    header = ("step_first,step_last,steps,epoch,loss_mean,loss_min,loss_max,batch_acc_mean,batch_acc_min,"
              "batch_acc_max," + layer_columns + ",train_loss,train_acc,val_loss,val_acc")
    first_layers = ",".join(f"{(2 * f + l) / 4:g}" for f in range(7) for stat in range(3) for l in range(2))
    first = "1,1,1,0.5,0.25,0.25,0.25,1,1,1," + first_layers + ",,,,"
    second = "2,2,1,1,0.125,0.125,0.125,nan,nan,nan," + ",".join(["1234567"] * 42) + ",0.2,0.9,0.3,"
    assert history.to_csv() == "\n".join([header, first, second]) + "\n"


def test_a_long_runs_csv_rows_cover_every_step_once_with_each_epochs_metrics_in_its_row():
    history = filled(1000, max_points=100)
    for epoch in range(1, 11):
        history.epochs.append({"epoch": epoch, "step": 100 * epoch, "train_loss": 1 / epoch, "train_acc": 0.5,
                               "val_loss": 2 / epoch, "val_acc": 0.4})
    lines = history.to_csv().splitlines()
    header, rows = lines[0].split(","), [line.split(",") for line in lines[1:]]
    assert len(rows) == len(history) <= 100
    first, last, steps = (np.array([int(r[header.index(c)]) for r in rows]) for c in ("step_first", "step_last", "steps"))
    assert first[0] == 1 and last[-1] == 1000 and np.all(first[1:] == last[:-1] + 1) and steps.sum() == 1000
    with_metrics = [r for r in rows if r[header.index("val_loss")]]
    assert len(with_metrics) == 10  # each epoch's end lands in the row whose steps hold it
    assert float(rows[-1][header.index("loss_min")]) == pytest.approx(1 / 1000, rel=1e-5)
