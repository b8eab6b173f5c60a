"""engine.views.train: what the Train page draws of a Trainer, as exact records."""
import math

import numpy as np
import pytest
import torch

from engine.nn.spec import NetworkSpec, TrainSpec
from engine.train.history import LAYER_FIELDS, History
from engine.views.train import (GALLERY_SIZE, GRID_POINTS, JUDGE_AFTER, JUDGED_OVER, RECENT_STEPS, Boundary, Gallery,
                               RegressionFit, activation_values, judge, latest_saturation, predictions,
                               readouts, recent_mean, thinned, view, weight_values)
from engine.train.trainer import Trainer


def history(n: int, spike_at: int | None = None) -> dict:
    """A History's rows of n one-step rows: loss 2 -> 0.1 (100 at spike_at), δ all ones."""
    h = History(3, max_points=10 * n)
    for step, loss in enumerate(np.linspace(2.0, 0.1, n), start=1):
        h.append(step, step / 10, 100.0 if step == spike_at else loss, 0.5, np.ones((len(LAYER_FIELDS), 3)))
    return h.as_dict()


def test_thinning_merges_neighbours_keeps_the_first_and_the_last_step_and_at_most_the_limit():
    full = history(1000, spike_at=7)
    thin = thinned(full, max_points=600)
    assert len(thin["step"]) == 600 and thin["delta_mean_abs"].shape == (600, 3)
    assert thin["step_first"][0] == 1 and thin["step"][-1] == 1000
    np.testing.assert_array_equal(thin["step_first"][1:], thin["step"][:-1] + 1)  # every step in one point
    assert thin["steps"].sum() == 1000 and set(thin["steps"]) == {1, 2}  # evenly spread
    assert thin["loss_max"].max() == 100.0  # the spike survives in its point's max
    i = int(np.argmax(thin["loss_max"]))
    assert thin["step_first"][i] <= 7 <= thin["step"][i]
    np.testing.assert_allclose(np.sum(thin["loss"] * thin["steps"]), np.sum(full["loss"]), rtol=1e-5)


def test_a_short_history_is_drawn_whole():
    short = history(10)
    assert thinned(short, max_points=600) is short


def test_latest_saturation_is_the_last_rows_saturated_plus_dead_or_zeros():
    h = {"step": np.array([1, 2]), "saturated_frac": np.array([[0.1, 0.2], [0.3, 0.0]]),
         "dead_frac": np.array([[0.0, 0.0], [0.0, 0.25]])}
    np.testing.assert_array_equal(latest_saturation(h, 2), [0.3, 0.25])
    empty = {"step": np.array([]), "saturated_frac": np.zeros((0, 2)), "dead_frac": np.zeros((0, 2))}
    np.testing.assert_array_equal(latest_saturation(empty, 2), [0.0, 0.0])


@pytest.fixture(scope="module")
def moons():
    return Trainer(NetworkSpec(hidden=(8,)), TrainSpec(dataset="moons", epochs=3, batch_size=32))


def test_readouts_before_and_after_training(moons):
    fresh = readouts(Trainer(NetworkSpec(hidden=(8,)), TrainSpec(dataset="moons", epochs=1, batch_size=32)))
    assert fresh.step == 0 and fresh.train_loss is None and fresh.val_acc is None and fresh.val_loss is None
    moons.step(30)
    now = readouts(moons)
    assert now.step == moons.step_count == 30 and now.epochs == 3
    assert now.train_loss == pytest.approx(float(np.mean(moons.history.column("loss")[-RECENT_STEPS:])))
    last = moons.history.epochs[-1]  # 30 batches of 32 pass the end of the first epoch (800 samples)
    assert now.val_acc == last["val_acc"] and now.val_loss == last["val_loss"]


def test_one_view_holds_the_charts_rows_and_the_readouts_of_the_same_moment():
    trainer = Trainer(NetworkSpec(hidden=(8,)), TrainSpec(dataset="moons", epochs=200, batch_size=32),
                      max_points=1000)
    trainer.step(3000)  # long enough that the history merged rows and the charts merge them again
    shown = view(trainer)
    assert trainer.history.width > 1 and len(shown.history["step"]) <= 600
    assert shown.readouts.step == shown.history["step"][-1] == trainer.step_count == 3000
    assert shown.readouts.epoch == trainer.epoch
    assert shown.history["step_first"][0] == 1
    assert shown.readouts.val_acc == shown.epochs[-1]["val_acc"] and shown.epochs[-1]["step"] <= 3000
    assert shown.readouts.train_loss == pytest.approx(np.mean(trainer.history.recent_loss(RECENT_STEPS)))
    trainer.step(100)  # training on does not move what was taken
    assert shown.readouts.step == shown.history["step"][-1] == 3000
    assert len(shown.epochs) < len(trainer.history.epochs)
    saturation = trainer.history.latest("saturated_frac") + trainer.history.latest("dead_frac")
    np.testing.assert_allclose(view(trainer).saturation, saturation)


def test_two_dimensional_data_gets_a_decision_boundary(moons):
    shown = predictions(moons)
    assert isinstance(shown, Boundary)
    assert shown.xx.shape == shown.yy.shape == (GRID_POINTS,)
    assert shown.prob.shape == (GRID_POINTS, GRID_POINTS)
    assert shown.xx[0] == pytest.approx(moons.data.x_train[:, 0].min() - 0.3)
    assert 0.0 <= shown.prob.min() and shown.prob.max() <= 1.0
    # row i, column j is the point (xx[j], yy[i])
    assert shown.prob[5, 7] == pytest.approx(moons.predict(np.array([[shown.xx[7], shown.yy[5]]]))[0, 1], abs=1e-6)


def test_regression_gets_its_fitted_curve():
    trainer = Trainer(NetworkSpec(hidden=(8,), loss="mse", regression=True, output_size=1),
                      TrainSpec(dataset="regression", epochs=1))
    shown = predictions(trainer)
    assert isinstance(shown, RegressionFit)
    assert shown.grid[0] == -1.2 and shown.grid[-1] == 1.2 and shown.fit.shape == shown.grid.shape
    np.testing.assert_allclose(shown.fit, trainer.predict(shown.grid[:, None])[:, 0])


def test_images_get_a_gallery_and_the_distributions_one_array_per_layer():
    trainer = Trainer(NetworkSpec(hidden=(16, 12)), TrainSpec(dataset="digits", epochs=1))
    shown = predictions(trainer)
    assert isinstance(shown, Gallery)
    assert shown.images.shape[0] == len(shown.predicted) == GALLERY_SIZE and shown.image_shape == (8, 8)
    assert [len(a) for a in activation_values(trainer, samples=10)] == [10 * 16, 10 * 12, 10 * 10]
    assert [len(w) for w in weight_values(trainer, max_values=100)] == [100, 100, 100]


# ---------------------------------------------------------------- the training judgement (issue 23)


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread, as the app runs (ui/bootstrap.py): several threads on a busy 2-core machine crawl."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def nielsen_like(activation: str, init: str) -> Trainer:
    """[784, 30, 30, 30, 30, 10] on mnist5k with Nielsen's sgd, η = 0.1, mini-batches of 10."""
    return Trainer(NetworkSpec(hidden=(30,) * 4, activations=activation, init=init),
                   TrainSpec(dataset="mnist5k", optimizer="sgd", lr=0.1, batch_size=10, epochs=30))


def test_recent_mean_weighs_merged_rows_by_their_steps():
    h = History(2, max_points=100)
    values = np.arange(1, 301, dtype=float)  # step s has δ = (s, 2s)
    for step, v in enumerate(values, start=1):
        layers = np.ones((len(LAYER_FIELDS), 2))
        layers[LAYER_FIELDS.index("delta_mean_abs")] = (v, 2 * v)
        h.append(step, step / 10, 1.0, 0.5, layers)
    assert h.width == 4  # rows of four steps: the last 50 steps hold 12 whole rows (48 steps)
    mean, steps = recent_mean(h.as_dict(), "delta_mean_abs", 50)
    assert steps == 48
    np.testing.assert_allclose(mean, [values[-48:].mean(), 2 * values[-48:].mean()], rtol=1e-6)
    _, one = recent_mean(h.as_dict(), "delta_mean_abs", 1)
    assert one == 4  # at least the newest row, whole


def test_a_nielsen_sigmoid_net_stuck_at_chance_is_judged_vanishing_from_the_minimum_steps_on(one_thread):
    trainer = nielsen_like("sigmoid", "lecun")
    trainer.step(JUDGE_AFTER - 1)
    assert view(trainer).judgement is None  # too early: every run starts at chance
    trainer.step(JUDGE_AFTER + 50 - trainer.step_count)
    shown = view(trainer)
    judged = shown.judgement
    assert judged.kind == "vanishing"
    assert judged.step == shown.readouts.step == trainer.step_count == JUDGE_AFTER + 50
    assert judged.loss == shown.readouts.train_loss >= 0.95 * math.log(10)
    assert judged.chance == pytest.approx(math.log(10))
    deltas = trainer.history.column("delta_mean_abs")[-JUDGED_OVER:].mean(0)  # one row a step in a short run
    assert judged.ratio == pytest.approx(deltas[0] / deltas[3], rel=1e-5) and judged.ratio < 0.1
    assert judged.last_hidden == 4 and judged.window == JUDGED_OVER
    rows = trainer.history.as_dict()
    assert judge(rows, shown.readouts, trainer.network, "running").kind == "vanishing"
    assert judge(rows, shown.readouts, trainer.network, "diverged") is None  # its red banner says why it stopped


def test_a_he_relu_net_trained_alike_learns_and_is_not_judged(one_thread):
    trainer = nielsen_like("relu", "he")
    trainer.step(JUDGE_AFTER + 50)
    judged = view(trainer).judgement
    assert judged is not None and judged.kind is None
    assert judged.loss < 0.95 * judged.chance and judged.ratio > 0.1  # it learns, and δ reaches layer 1


def test_regression_is_not_judged(one_thread):
    regression = Trainer(NetworkSpec(hidden=(8, 8), loss="mse", regression=True, output_size=1),
                         TrainSpec(dataset="regression", epochs=100))
    regression.step(JUDGE_AFTER)
    assert regression.step_count == JUDGE_AFTER and view(regression).judgement is None
