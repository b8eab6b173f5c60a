"""engine.views.landscape: the Loss surface page's one call, checked against the landscape functions it combines."""
import copy

import numpy as np
import pytest
import torch

from engine.data.datasets import load_dataset
from engine.nn.model import build_model, loss_function
from engine.nn.spec import NetworkSpec
from engine.views.landscape import LINE_T, loss_landscape
from engine.views.surface import evaluation_batch, flat_parameters, random_directions, surface


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("digits")
    model = build_model(NetworkSpec(input_size=64, hidden=(8,), output_size=10, image_shape=None), seed=0)
    return model, data.x_val, data.y_val


def test_the_random_slice_and_its_summary(digits):
    model, x_all, y_all = digits
    reports = []
    view = loss_landscape(model, x_all, y_all, grid=5, span=0.5, samples=60, seed=2,
                          report=lambda done, text: reports.append((done, text)))
    x, y = evaluation_batch(x_all, y_all, 60, regression=False)
    expected = surface(model, x, y, random_directions(model, 2), 5, 0.5)
    np.testing.assert_allclose(view.random.loss, expected.loss, rtol=1e-6)
    assert view.centre_loss == view.random.loss[2, 2]
    assert view.lowest == view.random.loss.min() and view.highest == view.random.loss.max()
    assert not view.overflowed
    assert view.path is None and view.path_problem is None  # no snapshots: no path asked for
    assert reports and all(0.0 <= done <= 1.0 for done, _ in reports)
    assert reports[-1][1] == "Random directions…"


def test_the_line_passes_through_the_trained_weights(digits):
    model, x_all, y_all = digits
    view = loss_landscape(model, x_all, y_all, grid=3, span=0.5, samples=60, seed=0)
    assert view.ts is LINE_T and view.line.shape == (61,)
    assert LINE_T[10] == 0.0 and LINE_T[50] == 1.0  # both ends of the line are points of it
    assert view.line[50] == pytest.approx(view.centre_loss, rel=1e-6)  # t = 1 is the network itself


def test_snapshots_give_a_path_or_say_why_not(digits):
    model, x_all, y_all = digits
    final = flat_parameters(model)
    rng = np.random.default_rng(0)
    snapshots = [(s, final + rng.normal(0, 0.01 * (4 - s), final.shape).astype(np.float32)) for s in range(4)]
    snapshots[-1] = (3, final)
    view = loss_landscape(model, x_all, y_all, grid=3, span=0.5, samples=60, seed=0, snapshots=snapshots)
    assert view.path is not None and view.path.pca.coords.shape == (4, 2)
    start = copy.deepcopy(model)  # the line's t = 0 is the first snapshot: its loss, measured directly
    torch.nn.utils.vector_to_parameters(torch.from_numpy(snapshots[0][1]), start.parameters())
    x, y = evaluation_batch(x_all, y_all, 60, regression=False)
    with torch.no_grad():
        expected = float(loss_function(start.spec)(start.eval()(x), y))
    assert view.line[10] == pytest.approx(expected, rel=1e-6)
    too_few = loss_landscape(model, x_all, y_all, grid=3, span=0.5, samples=60, seed=0, snapshots=snapshots[:2])
    assert too_few.path is None and "at least 3 snapshots" in too_few.path_problem
