"""engine.train.recorder: what every step records, against the same numbers worked out here in numpy (captum
style: a 2-2-2 ReLU net with hand-set weights, one hidden unit dead, one output saturated), and when the steps
reach the History: FLUSH_EVERY at a time, at a batch-size change, or on flush()."""
import gc
import math
import weakref

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.nn.activations import SATURATION_MARGIN
from engine.nn.model import build_model
from engine.nn.probes import LAYER_STATS, Probe
from engine.nn.spec import NetworkSpec
from engine.train.history import LAYER_FIELDS, History
from engine.train.recorder import FLUSH_EVERY, RATIO_EVERY, EpochClock, Recorder, StepBuffer

LR = 0.1
X = np.array([[1.0, 2.0], [3.0, 1.0]])  # z^1 = [[1, -2], [3, -1]]: the second hidden unit never fires
Y = np.array([0, 1])
W1, B1 = np.array([[1.0, 0.0], [0.0, -1.0]]), np.zeros(2)
W2, B2 = np.array([[2.0, 0.0], [0.0, 1.0]]), np.zeros(2)  # z^2 = [[2, 0], [6, 0]]: softmax(6, 0) saturates
STEPS_PER_EPOCH = 4


def reference(params, x, y):
    """Forward and backward written out: C, batch accuracy, the (len(LAYER_STATS), 2) summaries, and
    the gradients of the mean cost [∂C/∂W^1, ∂C/∂b^1, ∂C/∂W^2, ∂C/∂b^2]."""
    w1, b1, w2, b2 = params
    z1 = x @ w1.T + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ w2.T + b2
    s = np.exp(z2 - z2.max(1, keepdims=True))
    s /= s.sum(1, keepdims=True)  # a^2 = softmax(z^2)
    cost = -np.log(s[np.arange(len(y)), y]).mean()
    d2 = s - np.eye(2)[y]  # δ^2 of each sample's own cost C_x
    d1 = (d2 @ w2) * (z1 > 0)  # BP2 with relu'(z) = 1 where z > 0
    grads = [d1.T @ x / len(y), d1.mean(0), d2.T @ a1 / len(y), d2.mean(0)]  # BP3, BP4 for the mean cost
    rows = np.zeros((len(LAYER_STATS), 2))
    for l, (a, d) in enumerate([(a1, d1), (s, d2)]):
        rows[:4, l] = [np.abs(d).mean(), np.linalg.norm(grads[2 * l]), a.mean(), a.std(ddof=1)]
    rows[4, 1] = (np.abs(s - 0.5) >= 0.5 - SATURATION_MARGIN).mean()  # only the softmax output can saturate
    rows[5, 0] = (a1 <= 0).all(axis=0).mean()  # a ReLU unit silent on every sample is dead
    return cost, (z2.argmax(1) == y).mean(), rows, grads


def expected_run(steps: int, x=X, y=Y, params=None):
    """Each step's (C, accuracy, summaries then ‖ΔW^l‖/‖W^l‖) under plain SGD; the ratio measured every
    RATIO_EVERY steps from the first, carried in between. Returns them and the parameters after the run."""
    params = [p.copy() for p in (params or (W1, B1, W2, B2))]
    out, ratio = [], None
    for step in range(1, steps + 1):
        cost, accuracy, rows, grads = reference(params, x, y)
        params = [p - LR * g for p, g in zip(params, grads)]
        if (step - 1) % RATIO_EVERY == 0:
            ratio = [LR * np.linalg.norm(grads[2 * l]) / np.linalg.norm(params[2 * l]) for l in range(2)]
        out.append((cost, accuracy, np.vstack([rows, ratio])))
    return out, params


def tiny_net():
    model = build_model(NetworkSpec(input_size=2, hidden=(2,), activations="relu", output_size=2, loss="ce"))
    with torch.no_grad():
        for linear, w, b in zip(model.linears, (W1, W2), (B1, B2)):
            linear.weight.copy_(torch.tensor(w))
            linear.bias.copy_(torch.tensor(b))
    return model


class Run:
    """The Trainer's step recipe around a Recorder: rows, forward/backward under a Probe, before_update,
    the optimizer step, after_update."""

    def __init__(self, enabled: bool = True, max_points: int = 4000):
        self.model = tiny_net()
        self.history = History(2, max_points)
        self.clock = EpochClock(STEPS_PER_EPOCH)
        self.recorder = Recorder(self.model, self.model.spec, self.history, self.clock, enabled=enabled)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR)
        self.steps = 0

    def step(self, n: int = 1, x=X, y=Y) -> None:
        x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
        for _ in range(n):
            outputs, grads = self.recorder.rows(len(y))
            self.optimizer.zero_grad()
            with Probe(self.model) as probe:
                loss = F.cross_entropy(self.model(x), y)
                loss.backward()
            torch._foreach_copy_(outputs + grads, probe.outputs + probe.grads)
            self.recorder.before_update(self.steps + 1, y, loss.item())
            self.optimizer.step()
            self.steps += 1
            self.recorder.after_update()


def rows_of(history: History) -> np.ndarray:
    """The history's per-layer fields as (steps, len(LAYER_FIELDS), layers)."""
    return np.stack([history.column(name) for name in LAYER_FIELDS], axis=1)


def test_the_first_step_records_the_numbers_worked_out_by_hand():
    run = Run()
    run.step(FLUSH_EVERY)
    step_one = dict(zip(LAYER_FIELDS, rows_of(run.history)[0].tolist()))  # field -> [layer 1, layer 2]
    assert step_one["act_mean"][0] == pytest.approx(1.0)  # a^1 = [[1, 0], [3, 0]]
    assert step_one["act_std"][0] == pytest.approx(math.sqrt(2))
    assert step_one["dead_frac"] == [0.5, 0.0]  # the second hidden unit never fires
    assert step_one["act_mean"][1] == pytest.approx(0.5)  # each softmax row sums to 1
    assert step_one["saturated_frac"] == [0.0, 0.5]  # softmax(6, 0) = (0.9975, 0.0025) saturates; (2, 0) does not
    sigma = 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(-6))
    assert step_one["delta_mean_abs"][1] == pytest.approx((1 - sigma[0] + sigma[1]) / 2, rel=1e-6)  # |s - y|
    assert run.history.column("batch_acc")[0] == 0.5  # both samples predicted class 0
    assert run.history.column("loss")[0] == pytest.approx((-math.log(sigma[0]) - math.log(1 - sigma[1])) / 2)


def test_every_step_matches_the_numpy_reference_and_the_ratio_is_measured_every_RATIO_EVERY_steps():
    steps = 2 * RATIO_EVERY + 3
    run = Run()
    run.step(steps)
    run.recorder.flush()
    expected, params = expected_run(steps)
    history = run.history
    np.testing.assert_array_equal(history.column("step"), np.arange(1, steps + 1))
    np.testing.assert_allclose(history.column("epoch"), np.arange(1, steps + 1) / STEPS_PER_EPOCH)
    np.testing.assert_allclose(history.column("loss"), [e[0] for e in expected], rtol=1e-5)
    np.testing.assert_array_equal(history.column("batch_acc"), [e[1] for e in expected])
    np.testing.assert_allclose(rows_of(history), np.stack([e[2] for e in expected]), rtol=1e-4, atol=1e-6)
    ratio = history.column("update_ratio")
    assert ratio[1, 0] == ratio[0, 0] and ratio[RATIO_EVERY - 1, 1] == ratio[0, 1]  # carried between measurements
    assert ratio[RATIO_EVERY, 0] != ratio[0, 0]  # step RATIO_EVERY + 1 measured again
    for linear, w in zip(run.model.linears, (params[0], params[2])):  # the recorder did not disturb training
        np.testing.assert_allclose(linear.weight.detach().numpy(), w, rtol=1e-5, atol=1e-6)


def test_steps_reach_the_history_FLUSH_EVERY_at_a_time_or_on_flush():
    run = Run()
    run.step(FLUSH_EVERY - 1)
    assert len(run.history) == 0
    run.step()
    assert len(run.history) == FLUSH_EVERY
    run.step(3)
    assert len(run.history) == FLUSH_EVERY
    run.recorder.flush()
    run.recorder.flush()  # nothing pending: nothing added
    np.testing.assert_array_equal(run.history.column("step"), np.arange(1, FLUSH_EVERY + 4))


def test_a_new_batch_size_flushes_the_pending_steps_and_its_steps_are_summarised_on_their_own():
    run = Run()
    run.step(3)
    outputs, grads = run.recorder.rows(1)  # the next step has one sample: the three pending steps go first
    assert len(run.history) == 3
    assert [t.shape for t in outputs] == [(1, 2), (1, 2)] and [t.shape for t in grads] == [(1, 2), (1, 2)]
    run.step(2, x=X[1:], y=Y[1:])
    run.recorder.flush()
    assert len(run.history) == 5
    _, after_three = expected_run(3)
    expected, _ = expected_run(2, X[1:], Y[1:], params=after_three)
    stats = rows_of(run.history)[3:, :len(LAYER_STATS)]  # the update ratio aside: still step 1's
    np.testing.assert_allclose(stats, np.stack([e[2][:len(LAYER_STATS)] for e in expected]), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(run.history.column("batch_acc")[3:], [e[1] for e in expected])
    np.testing.assert_allclose(run.history.column("loss")[3:], [e[0] for e in expected], rtol=1e-5)


def test_a_disabled_recorder_records_nothing_but_still_hands_out_rows():
    run = Run(enabled=False)
    first = run.recorder.rows(2)
    run.step(FLUSH_EVERY + 3)
    run.recorder.flush()
    assert len(run.history) == 0
    again = run.recorder.rows(2)
    assert all(a.data_ptr() == b.data_ptr() for a, b in zip(first[0] + first[1], again[0] + again[1]))


def test_a_step_buffer_hands_out_rows_that_the_summaries_read_back():
    buffer = StepBuffer((3, 2), batch=4)
    assert len(buffer.steps) == FLUSH_EVERY
    for k in range(FLUSH_EVERY):
        outputs, grads = buffer.steps[k]
        assert [t.shape for t in outputs + grads] == [(4, 3), (4, 2), (4, 3), (4, 2)]
        for t in outputs + grads:
            t.fill_(k)
    outputs, grads = buffer.first(3)
    assert [t.shape for t in outputs] == [(3, 4, 3), (3, 4, 2)]
    for t in outputs + grads:
        assert t[:, 0, 0].tolist() == [0.0, 1.0, 2.0]


def test_the_epoch_clock_counts_across_a_batch_size_change():
    clock = EpochClock(steps_per_epoch=10)
    assert [clock.epoch(s) for s in (0, 5, 10, 25)] == [0.0, 0.5, 1.0, 2.5]
    clock.rebase(15, steps_per_epoch=4)  # 1.5 epochs done; from now on an epoch is 4 steps
    assert [clock.epoch(s) for s in (15, 17, 19, 23)] == [1.5, 2.0, 2.5, 3.5]
    clock.rebase(23, steps_per_epoch=1)
    assert clock.epoch(25) == 5.5


def test_only_the_current_batch_sizes_buffers_are_kept_a_retune_frees_the_old_ones():
    run = Run()
    run.step(3)  # batch 2
    run.step(1, x=X[1:], y=Y[1:])  # a smaller last batch of the epoch: its own buffer beside the full one
    assert sorted(run.recorder.buffers) == [1, 2]
    run.step(2)
    assert sorted(run.recorder.buffers) == [1, 2]  # the two alternate without reallocating
    old = run.recorder.buffers[2]
    run.recorder.retune()  # the batch size changes
    assert run.recorder.buffers == {} and run.recorder.buffer is None and len(run.history) == 6
    ref = weakref.ref(old)
    del old
    gc.collect()
    assert ref() is None  # nothing else holds the old batch size's buffer
    run.step(2, x=np.vstack([X, X]), y=np.concatenate([Y, Y]))  # batch 4
    assert list(run.recorder.buffers) == [4]
    assert run.recorder.buffer_bytes == StepBuffer.bytes_for((2, 2), 4) == 2 * FLUSH_EVERY * 4 * 4 * 4


def test_a_third_batch_size_without_a_retune_drops_all_but_the_current_one():
    run = Run()
    run.step(1)
    run.step(1, x=X[1:], y=Y[1:])
    run.step(1, x=np.vstack([X, X]), y=np.concatenate([Y, Y]))
    assert sorted(run.recorder.buffers) == [1, 4]  # at most two, whatever asks


def test_a_disabled_recorders_buffer_has_one_step_of_rows():
    run = Run(enabled=False)
    run.step(1)
    assert len(run.recorder.buffers[2].steps) == 1
    assert run.recorder.buffer_bytes == StepBuffer.bytes_for((2, 2), 2, steps=1)
