"""engine.views.train: what the Train page draws of a Trainer, as exact records."""
import numpy as np
import pytest

from engine.nn.spec import NetworkSpec, TrainSpec
from engine.train.history import LAYER_FIELDS, History
from engine.views.train import (GALLERY_SIZE, GRID_POINTS, RECENT_STEPS, Boundary, Gallery, RegressionFit,
                               activation_values, latest_saturation, predictions, readouts, thinned, view,
                               weight_values)
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
