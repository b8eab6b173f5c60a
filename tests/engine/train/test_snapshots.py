"""engine.train.snapshots: the loss-surface path keeps the initial weights, takes one every `every` steps, and
past `limit` drops every other one and halves its pace; each point is a copy of the parameters at its step."""
import numpy as np
import pytest
import torch

from engine.nn.model import build_model
from engine.nn.spec import NetworkSpec
from engine.train.snapshots import MIN_POINTS, Snapshots, snapshot_limit


def tiny():
    """A 2-2 network with no hidden layer: W (2, 2) then b (2,), six parameters set by hand."""
    model = build_model(NetworkSpec(input_size=2, hidden=(), output_size=2))
    set_to(model, 0)
    return model


@torch.no_grad()
def set_to(model, step: int) -> None:
    """Parameters that name the step: W = step + [[.1, .2], [.3, .4]], b = step + [.5, .6]."""
    model.linears[0].weight.copy_(step + torch.tensor([[0.1, 0.2], [0.3, 0.4]]))
    model.linears[0].bias.copy_(step + torch.tensor([0.5, 0.6]))


def at(step: int) -> np.ndarray:
    """The flat parameters of set_to(step), written out: W row by row, then b."""
    return (step + np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])).astype(np.float32)


def run(snapshots: Snapshots, model, first: int, last: int) -> None:
    """Steps first..last in the trainer's order: the optimizer moves W, then the hook sees the new step count."""
    for step in range(first, last + 1):
        set_to(model, step)
        snapshots.after_step(step)


def steps_of(snapshots: Snapshots) -> list[int]:
    return [step for step, _ in snapshots.points]


def test_the_initial_weights_are_the_first_point_flattened_weights_then_biases():
    model = tiny()
    path = Snapshots(model)
    assert steps_of(path) == [0]
    params = path.points[0][1]
    assert params.dtype == np.float32 and params.shape == (6,)
    np.testing.assert_array_equal(params, at(0))


def test_a_snapshot_every_few_steps_each_a_copy_of_that_step():
    model = tiny()
    path = Snapshots(model, every=5)
    run(path, model, 1, 23)
    assert steps_of(path) == [0, 5, 10, 15, 20]
    for step, params in path.points:
        np.testing.assert_array_equal(params, at(step))  # later steps did not change earlier points


def test_past_the_limit_every_other_point_after_the_first_is_dropped_and_the_pace_halves():
    model = tiny()
    path = Snapshots(model, every=1, limit=4)
    run(path, model, 1, 3)
    assert steps_of(path) == [0, 1, 2, 3] and path.every == 1
    run(path, model, 4, 4)
    assert steps_of(path) == [0, 2, 4] and path.every == 2  # [0, 1, 2, 3, 4] -> the first, then 2 and 4
    run(path, model, 5, 8)
    assert steps_of(path) == [0, 4, 8] and path.every == 4  # 6 taken, then 8 made five: [0] + [4, 8]
    run(path, model, 9, 16)
    assert steps_of(path) == [0, 8, 16] and path.every == 8
    for step, params in path.points:
        np.testing.assert_array_equal(params, at(step))


@pytest.mark.parametrize("every, limit", [(1, 10), (5, 60), (3, 7)])
def test_a_long_run_keeps_a_bounded_path_spread_over_all_of_it(every, limit):
    model = tiny()
    path = Snapshots(model, every=every, limit=limit)
    run(path, model, 1, 5000)
    steps = steps_of(path)
    assert len(steps) <= limit + 1 and steps[0] == 0
    assert steps[-1] > 5000 - path.every  # the newest point is within one (doubled) pace of the end
    assert np.all(np.diff(steps) == path.every)  # evenly spread
    assert path.every > every


def test_without_a_pace_snapshots_are_taken_only_when_asked():
    model = tiny()
    path = Snapshots(model, every=None, limit=3)
    run(path, model, 1, 10)
    assert path.points == []  # not even the initial weights
    path.now(10)
    path.now(10)  # already the last point
    assert steps_of(path) == [10]
    np.testing.assert_array_equal(path.points[0][1], at(10))
    for step in (11, 12, 13):
        set_to(model, step)
        path.take(step)
    assert steps_of(path) == [10, 12] and path.every is None  # thinned to [10] + [12], the pace stays None


def test_now_appends_the_current_step_unless_it_is_already_the_last_point():
    model = tiny()
    path = Snapshots(model, every=5)
    run(path, model, 1, 7)
    path.now(7)
    path.now(7)
    run(path, model, 8, 10)  # step 10 is taken by the pace
    path.now(10)
    assert steps_of(path) == [0, 5, 7, 10]


def test_the_pace_and_the_limit_have_floors():
    model = tiny()
    path = Snapshots(model, every=0, limit=0)
    assert path.every == 1 and path.limit == 2
    run(path, model, 1, 1)
    assert steps_of(path) == [0, 1]  # every=0 would never divide a step: it means every step
    run(path, model, 2, 2)
    assert steps_of(path) == [0, 2] and path.every == 2  # three points are more than two: [0] + [2]


def test_the_path_keeps_its_points_within_a_byte_budget_that_scales_with_the_model():
    model = build_model(NetworkSpec(input_size=100, hidden=(50,), output_size=10))  # 5,560 parameters
    per_point = 4 * 5560
    path = Snapshots(model, every=1, limit=60, budget=10 * per_point)
    assert path.limit == 10
    for step in range(1, 500):
        path.after_step(step)
        assert len(path.points) <= 10 and path.bytes <= 10 * per_point
    assert path.points[0][0] == 0 and path.points[-1][0] > 400  # still spread over the whole run
    assert Snapshots(model, every=1, limit=60, budget=10**9).limit == 60  # a small model keeps the full path


def test_a_model_larger_than_the_budget_still_keeps_the_points_a_pca_plane_needs_the_newest_last():
    model = build_model(NetworkSpec(input_size=100, hidden=(50,), output_size=10))
    assert snapshot_limit(5560, 60, budget=4 * 5560) == MIN_POINTS == 4
    assert snapshot_limit(5560, 60, budget=11 * 4 * 5560) == 10  # even: thinning keeps the newest
    path = Snapshots(model, every=1, budget=1)
    for step in range(1, 50):
        path.after_step(step)
        assert len(path.points) <= 4 and path.points[-1][0] == step - step % path.every
    path.now(49)
    assert len(path.points) >= 3 and path.points[-1][0] == 49


def test_each_point_is_the_flat_parameters_in_model_order():
    from engine.nn.model import flat_parameters

    model = build_model(NetworkSpec(input_size=7, hidden=(5, 3), output_size=2), seed=3)
    np.testing.assert_array_equal(Snapshots(model).points[0][1], flat_parameters(model))
