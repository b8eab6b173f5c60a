"""Trainer: determinism, divergence, history, snapshots; and the recorded summaries against probes.record."""
import dataclasses
import math

import numpy as np
import pytest
import torch

from engine.data.datasets import load_dataset
from engine.nn.probes import record
from engine.nn.spec import NetworkSpec, SpecError, TrainSpec
from engine.train.history import LAYER_FIELDS, History
from engine.train.trainer import Divergence, DivergenceWatch, Trainer, fixed_changes, retunable_changes
from engine.views.presets import DEFAULT_PRESET, PRESETS
from engine.views.verdicts import format_loss
from engine.views.words import divergence_advice, ending_message


@pytest.fixture(scope="module")
def moons():
    return load_dataset("moons", n_points=400, seed=0)


def small(**kwargs):
    return NetworkSpec(**{"hidden": (8, 8), "activations": "tanh", "init": "xavier", **kwargs})


def test_same_seed_gives_identical_runs(moons):
    runs = []
    for _ in range(2):
        trainer = Trainer(small(dropout=0.2), TrainSpec(dataset="moons", lr=0.01, epochs=3, seed=5), moons)
        trainer.step(1000)
        runs.append((trainer.history.column("loss"), trainer.weights()))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
    other = Trainer(small(), TrainSpec(dataset="moons", lr=0.01, epochs=3, seed=6), moons)
    other.step(10)
    assert not np.array_equal(other.history.column("loss"), runs[0][0][:10])


def test_runs_its_epochs_then_stops_with_a_history(moons):
    trainer = Trainer(small(), TrainSpec(dataset="moons", lr=0.05, batch_size=32, epochs=4), moons)
    taken = trainer.step(10_000)
    assert trainer.status == "done"
    assert taken == 4 * trainer.steps_per_epoch == len(trainer.history)
    assert [e["epoch"] for e in trainer.history.epochs] == [1, 2, 3, 4]
    assert trainer.history.epochs[-1]["val_acc"] > 0.8
    assert trainer.step(5) == 0  # a finished run does not move
    steps = trainer.history.column("step")
    np.testing.assert_array_equal(steps, np.arange(1, taken + 1))


@pytest.mark.parametrize("case", ["mlp", "conv"])
def test_recorded_layer_summaries_match_a_direct_record(moons, case):
    """The batched per-step summaries equal probes.record on the same batch and weights.

    mlp: the explicit BP1-BP4 step writes the record; conv: autograd and the Probe do.
    """
    if case == "mlp":
        trainer = Trainer(small(activations=("sigmoid", "relu")), TrainSpec(dataset="moons", batch_size=50), moons)
    else:
        trainer = Trainer(NetworkSpec(hidden=(16,), conv=(3,)), TrainSpec(dataset="digits", batch_size=50),
                          load_dataset("digits", seed=0))
    assert trainer.backward == ("autograd" if case == "conv" else "explicit")
    model = trainer.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    order = trainer.batches.order.clone()
    trainer.step(1)
    model.load_state_dict(before)  # replay step 1 by hand
    idx = order[:50]
    model.train()
    _, records = record(model, trainer.x_train[idx], trainer.y_train[idx])
    row = {name: trainer.history.column(name)[0] for name in LAYER_FIELDS}
    for l, rec in enumerate(records):
        assert row["delta_mean_abs"][l] == pytest.approx(np.abs(rec.delta).mean(), rel=1e-5)
        assert row["grad_norm"][l] == pytest.approx(np.linalg.norm(rec.grad_w), rel=1e-5)
        assert row["act_mean"][l] == pytest.approx(rec.a.mean(), rel=1e-5, abs=1e-7)
        assert row["act_std"][l] == pytest.approx(rec.a.std(ddof=1), rel=1e-4)


def test_summaries_of_many_steps_at_once_equal_those_of_one_step_at_a_time(moons):
    """Steps summarised together (a full step buffer, and the smaller last batch of each epoch) give the rows
    that summarising every step on its own gives; one step on its own matches probes.record (test above)."""
    spec, training = small(activations=("sigmoid", "relu")), TrainSpec(dataset="moons", batch_size=48, epochs=3)
    together, alone = Trainer(spec, training, moons), Trainer(spec, training, moons)
    assert len(together.x_train) % 48 != 0  # every epoch ends with a smaller batch
    together.step(10_000)
    while not alone.finished:
        alone.step(1)
    assert len(together.history) == len(alone.history) == 3 * together.steps_per_epoch
    for name in ("loss", "batch_acc") + LAYER_FIELDS:
        np.testing.assert_allclose(together.history.column(name), alone.history.column(name), rtol=1e-5, atol=1e-7,
                                   err_msg=name)


def test_divergence_stops_keeps_history_and_says_why():
    data = load_dataset("mnist5k")
    trainer = Trainer(NetworkSpec(hidden=(64, 64), activations="linear", init="normal"),
                      TrainSpec(optimizer="sgd", lr=10.0, epochs=5), data)
    trainer.step(500)
    assert trainer.status == "diverged"
    assert "learning rate" in ending_message(trainer.ending) and "too high" in ending_message(trainer.ending)
    assert len(trainer.history) == trainer.step_count  # every finite step kept
    assert np.isfinite(trainer.history.column("loss")).all()
    assert trainer.step(10) == 0


def test_update_ratio_and_saturation_are_recorded(moons):
    trainer = Trainer(small(activations="sigmoid", init="normal"), TrainSpec(dataset="moons", lr=0.1), moons)
    trainer.step(40)
    ratio = trainer.history.column("update_ratio")
    assert np.isfinite(ratio[-1]).all() and (ratio[-1] > 0).all()
    saturated = trainer.history.column("saturated_frac")
    assert ((saturated >= 0) & (saturated <= 1)).all()


def test_snapshots_are_bounded_and_keep_the_start(moons):
    trainer = Trainer(small(), TrainSpec(dataset="moons", batch_size=8, epochs=50), moons,
                      snapshot_every=1, max_snapshots=10)
    initial = trainer.snapshots[0][1].copy()
    trainer.step(300)
    assert len(trainer.snapshots) <= 11
    assert trainer.snapshots[0][0] == 0
    np.testing.assert_array_equal(trainer.snapshots[0][1], initial)
    steps = [s for s, _ in trainer.snapshots]
    assert steps == sorted(steps)


def test_snapshot_every_none_takes_none_until_asked(moons):
    trainer = Trainer(small(), TrainSpec(dataset="moons", batch_size=8), moons, snapshot_every=None)
    trainer.step(30)
    assert trainer.snapshots == []
    trainer.snapshot_now()
    trainer.snapshot_now()  # the same step twice: one point
    assert [step for step, _ in trainer.snapshots] == [30]
    np.testing.assert_array_equal(trainer.snapshots[0][1], np.concatenate(
        [p.detach().numpy().ravel() for p in trainer.model.parameters()]))


def test_backward_seam_picks_explicit_when_it_can_and_refuses_what_it_cannot(moons):
    assert Trainer(small(), TrainSpec(dataset="moons"), moons).backward == "explicit"
    assert Trainer(small(), TrainSpec(dataset="moons"), moons, backward="autograd").backward == "autograd"
    digits = load_dataset("digits", seed=0)
    conv = NetworkSpec(hidden=(16,), conv=(3,))
    assert Trainer(conv, TrainSpec(dataset="digits"), digits).backward == "autograd"
    with pytest.raises(SpecError, match="conv front end"):
        Trainer(conv, TrainSpec(dataset="digits"), digits, backward="explicit")
    with pytest.raises(SpecError, match="backward must be one of explicit, autograd"):
        Trainer(small(), TrainSpec(dataset="moons"), moons, backward="numpy")


def test_divergence_advice_names_the_learning_rate_or_the_gradients():
    high = divergence_advice(Divergence(12, math.nan, 0.5, "sgd", 3.2e5))
    assert high.startswith("Training diverged at step 12: the loss became NaN.")
    assert "η = 0.5 is too high" in high and "3.2e+05" in high
    assert "the gradients exploded" in divergence_advice(Divergence(3, math.inf, 0.001, "adam", math.nan))
    assert "too high" in divergence_advice(Divergence(3, math.inf, 0.01, "adam", math.nan))  # Adam's η is per-weight


def test_regression_fits_the_parabola():
    data = load_dataset("regression", seed=0)
    trainer = Trainer(NetworkSpec(hidden=(16, 16), activations="tanh", init="xavier", loss="mse"),
                      TrainSpec(dataset="regression", lr=0.01, batch_size=20, epochs=200), data)
    trainer.step(100_000)
    assert trainer.network.regression and trainer.network.output_size == 1
    fit = trainer.predict(np.array([[-1.0], [0.0], [1.0]]))[:, 0]
    np.testing.assert_allclose(fit, [1.0, 0.0, 1.0], atol=0.12)
    assert trainer.history.epochs[-1]["val_acc"] is None


def test_predict_and_inspect_return_numpy(moons):
    trainer = Trainer(small(), TrainSpec(dataset="moons"), moons)
    probs = trainer.predict(np.zeros((5, 2)))
    assert probs.shape == (5, 2) and np.allclose(probs.sum(1), 1)
    records = trainer.inspect(64)
    assert [r.a.shape for r in records] == [(64, 8), (64, 8), (64, 2)]
    assert math.isfinite(float(records[0].delta.mean()))
    assert torch.get_num_threads() >= 1


def test_a_loss_that_explodes_but_stays_finite_is_diverged_and_the_default_is_not():
    # /train?lr=50&opt=sgd: the loss spikes to ~1e11 and accuracy sits at 10%: not a success
    preset = PRESETS[DEFAULT_PRESET]
    data = load_dataset("mnist5k")
    trainer = Trainer(preset.network, dataclasses.replace(preset.training, optimizer="sgd", lr=50.0), data)
    trainer.step(trainer.steps_per_epoch * 2)
    assert trainer.status == "diverged"
    assert "Training diverged at step" in ending_message(trainer.ending) and "times the 2.3" in ending_message(trainer.ending)
    assert "η = 50 is too high" in ending_message(trainer.ending) and "try η = 5" in ending_message(trainer.ending)
    assert "Xavier or He" not in ending_message(trainer.ending) and "He initialisation" not in ending_message(trainer.ending)  # He is in use
    assert len(trainer.history) == trainer.step_count >= 1  # the history is kept
    healthy = Trainer(preset.network, dataclasses.replace(preset.training, epochs=2), data)
    while not healthy.finished:
        healthy.step(healthy.steps_per_epoch)
    assert healthy.status == "done" and healthy.history.epochs[-1]["val_acc"] > 0.85


def test_divergence_watch_needs_a_spike_or_a_growing_blow_up():
    falling = DivergenceWatch()
    assert not any(falling.exploded(2.3 * 0.99 ** k) for k in range(300))
    spike = DivergenceWatch()
    assert not spike.exploded(2.3) and not spike.exploded(5.0)
    assert spike.exploded(2.3e4)  # 10,000x the start in one step
    creeping = DivergenceWatch()
    hits = [creeping.exploded(2.0 * 1.05 ** k) for k in range(200)]  # grows 5% a step
    assert not hits[0] and any(hits)
    first = hits.index(True)
    assert creeping.smooth > 10 * 2.0 and first > 40
    blip = DivergenceWatch()  # one step at 30x, then back down: smoothed stays below 10x
    assert not any(blip.exploded(v) for v in [2.3] * 30 + [70.0] + [2.0] * 100)


def test_advice_fits_the_settings():
    normal = divergence_advice(Divergence(5, 1e9, 0.5, "sgd", 10.0, 2.3, "normal", ("relu", "relu")))
    assert "use He initialisation instead of N(0, 1)" in normal and "switch to adam" in normal
    sig = divergence_advice(Divergence(5, 1e9, 0.5, "sgd", 10.0, 2.3, "normal", ("sigmoid",)))
    assert "use Xavier initialisation" in sig
    he = divergence_advice(Divergence(5, 1e9, 0.05, "adam", 10.0, 2.3, "he", ("relu",)))
    assert "initialisation" not in he and "switch to adam" not in he and "try η = 0.005" in he


def test_huge_losses_print_readably():
    assert format_loss(237113821134164070347309056.0) == "2.4e26"
    assert format_loss(0.23154) == "0.2315" and format_loss(12.41) == "12.4100"
    assert format_loss(math.inf) == "inf" and format_loss(math.nan) == "NaN" and format_loss(None) == "—"
    assert format_loss(3e-7) == "3.0e-7"


# --- retune: η, momentum, batch size and weight decay change during a run -------------------------------------
@pytest.mark.parametrize("before, after", [
    ({"optimizer": "sgd", "lr": 0.01}, {"lr": 0.5}),
    ({"optimizer": "momentum", "momentum": 0.0}, {"momentum": 0.9}),
    ({"optimizer": "adam", "weight_decay": 0.0}, {"weight_decay": 0.1}),
    ({"optimizer": "sgd", "weight_decay": 5.0}, {"decay": "nielsen"}),  # the convention: λ becomes λ/n
    ({"optimizer": "sgd", "batch_size": 32}, {"batch_size": 100}),
])
def test_retune_before_the_first_step_is_the_same_run_as_starting_with_it(moons, before, after):
    retuned = Trainer(small(), TrainSpec(dataset="moons", epochs=2, **before), moons)
    retuned.retune(TrainSpec(dataset="moons", epochs=2, **{**before, **after}))
    fresh = Trainer(small(), TrainSpec(dataset="moons", epochs=2, **{**before, **after}), moons)
    retuned.step(30), fresh.step(30)
    np.testing.assert_array_equal(retuned.history.column("loss"), fresh.history.column("loss"))
    for a, b in zip(retuned.weights(), fresh.weights()):
        np.testing.assert_array_equal(a, b)


def test_retune_mid_run_keeps_the_steps_and_takes_the_new_lr_at_the_next_step(moons):
    spec = TrainSpec(dataset="moons", optimizer="sgd", lr=0.01, epochs=50)
    raised, kept = Trainer(small(), spec, moons), Trainer(small(), spec, moons)
    raised.step(7), kept.step(7)
    before = raised.weights()
    assert raised.retune(TrainSpec(dataset="moons", optimizer="sgd", lr=0.5, epochs=50)) == ["lr"]
    assert raised.step_count == 7 and raised.training.lr == 0.5
    raised.step(1), kept.step(1)
    assert raised.step_count == 8
    # plain SGD, same weights and batch: ΔW = −η ∇C, so the raised run's step is 50 times the kept run's
    for w0, w_raised, w_kept in zip(before, raised.weights(), kept.weights()):
        np.testing.assert_allclose(w0 - w_raised, 50 * (w0 - w_kept), rtol=1e-3, atol=1e-6)


def test_a_bigger_batch_mid_run_keeps_the_epoch_count_right(moons):
    trainer = Trainer(small(), TrainSpec(dataset="moons", optimizer="sgd", lr=0.1, batch_size=32, epochs=3), moons)
    per_epoch = trainer.steps_per_epoch
    trainer.step(per_epoch + per_epoch // 2)  # one and a half epochs
    epoch = trainer.epoch
    trainer.retune(TrainSpec(dataset="moons", optimizer="sgd", lr=0.1, batch_size=100, epochs=3))
    assert trainer.epoch == epoch and trainer.batch_size == 100 and trainer.steps_per_epoch < per_epoch
    trainer.step(10_000)
    assert trainer.status == "done"
    assert [e["epoch"] for e in trainer.history.epochs] == [1, 2, 3]
    assert trainer.epoch == pytest.approx(3.0, abs=0.1)
    recorded = trainer.history.column("epoch")
    assert np.all(np.diff(recorded) > 0) and recorded[-1] == pytest.approx(trainer.epoch)


def test_retunable_changes_answers_which_changes_a_run_takes_live():
    old = TrainSpec(dataset="moons", optimizer="sgd", lr=0.01, epochs=2)
    assert retunable_changes(old, old) == []
    assert retunable_changes(old, dataclasses.replace(old, lr=0.5, batch_size=128)) == ["lr", "batch_size"]
    assert retunable_changes(old, dataclasses.replace(old, lr=0.5, epochs=3)) is None  # epochs need a new run
    assert retunable_changes(old, dataclasses.replace(old, weight_decay=2.0, decay="nielsen")) == [
        "weight_decay", "decay"]  # what λ means only changes the rate the optimizer's kernels get
    assert fixed_changes(old, dataclasses.replace(old, lr=0.5, epochs=3, seed=1)) == ["epochs", "seed"]


def test_nielsens_decay_divides_lambda_by_the_training_set_size(moons):
    trainer = Trainer(small(), TrainSpec(dataset="moons", optimizer="sgd", weight_decay=5.0, decay="nielsen"), moons)
    assert trainer.optimizer.weight_decay == 5.0 / len(moons.x_train)
    trainer.retune(TrainSpec(dataset="moons", optimizer="sgd", weight_decay=5.0, decay="d2l"))
    assert trainer.optimizer.weight_decay == 5.0


def test_retune_refuses_anything_but_the_live_settings(moons):
    trainer = Trainer(small(), TrainSpec(dataset="moons", optimizer="sgd", epochs=2), moons)
    trainer.step(3)
    with pytest.raises(ValueError, match="optimizer"):
        trainer.retune(TrainSpec(dataset="moons", optimizer="adam", epochs=2))
    with pytest.raises(ValueError, match="epochs"):
        trainer.retune(TrainSpec(dataset="moons", optimizer="sgd", epochs=3))
    assert trainer.training.optimizer == "sgd" and trainer.step_count == 3  # nothing was half applied


def test_retunes_of_the_batch_size_keep_only_the_current_batch_sizes_step_buffers(moons):
    trainer = Trainer(small(), TrainSpec(dataset="moons", optimizer="sgd", lr=0.1, batch_size=32, epochs=50), moons)
    n = len(trainer.x_train)
    for batch in (32, 100, 7, 64, 100):
        trainer.retune(TrainSpec(dataset="moons", optimizer="sgd", lr=0.1, batch_size=batch, epochs=50))
        trainer.step(2 * trainer.steps_per_epoch)  # whole epochs: the full batch and the last, smaller one
        expected = {batch, n % batch} - {0}
        assert set(trainer.recorder.buffers) == expected
        widths = trainer.network.widths
        assert trainer.recorder.buffer_bytes == sum(2 * 8 * b * sum(widths) * 4 for b in expected)
