"""engine.views.verdicts.classify on profiles built by hand: every kind, its thresholds, exact ratios and gains;
the rule during training (classify_training, judge_training) and chance's loss.

The mean |δ| are mostly powers of two, so the ratio (first / last hidden layer) and the per-layer gain
ratio^(1/(hidden layers - 1)) are exact floats that can be compared with ==.
"""
import math
import pickle
from dataclasses import FrozenInstanceError

import pytest

from engine.nn.spec import NetworkSpec
from engine.views.verdicts import (AT_CHANCE, CHAIN, CROWDED, DEAD_LAYER, EXPLODING_ABOVE, FLOAT32_TINY, GAIN_HIGH,
                                   GAIN_LOW, KINDS, STALLED_RATIO, VANISHING_BELOW, Verdict, chance_loss, classify,
                                   classify_training, judge_training, underflow_estimate, weight_scale)


def rows(hidden, saturated=0.0, dead=0.0, act_std=1.0, output=0.2):
    """A profile: `hidden` are the hidden layers' mean |δ|, first layer first, then an output layer.

    The output layer gets shares of its own (0.9) so that a test sees it is left out of the hidden means.
    """
    layers = [{"layer": l + 1, "delta_mean_abs": d, "grad_norm": d, "act_mean": 0.0, "act_std": act_std,
               "saturated_frac": saturated, "dead_frac": dead} for l, d in enumerate(hidden)]
    return layers + [{"layer": len(hidden) + 1, "delta_mean_abs": output, "grad_norm": output, "act_mean": 0.1,
                      "act_std": 0.1, "saturated_frac": 0.9, "dead_frac": 0.9}]


def net(activation: str, init: str, depth: int, width: int = 32) -> NetworkSpec:
    return NetworkSpec(hidden=(width,) * depth, activations=activation, init=init)


# ---------------------------------------------------------------- the three flows, with exact numbers


def test_vanishing_ratio_and_gain_are_exact():
    v = classify(rows([2 ** -10, 2 ** -5, 1.0]))
    assert v.kind == "vanishing"
    assert v.ratio == 2 ** -10  # δ¹ / δ³
    assert v.per_layer == 2 ** -5  # two BP2 steps, each × 1/32
    assert (v.hidden_layers, v.last_delta) == (3, 1.0)
    assert not v.overflowed and v.underflow is None and v.dead_layers == ()


def test_exploding_ratio_and_gain_are_exact():
    v = classify(rows([2 ** 10, 2 ** 5, 1.0]))
    assert (v.kind, v.ratio, v.per_layer) == ("exploding", 1024.0, 32.0)


def test_healthy_ratio_and_gain_are_exact():
    v = classify(rows([0.5625, 0.75, 1.0]))
    assert (v.kind, v.ratio, v.per_layer) == ("healthy", 0.5625, 0.75) and v.in_band
    half = classify(rows([0.25, 0.5, 1.0]))  # within 100x end to end, but δ halves at every step
    assert (half.kind, half.per_layer, half.in_band) == ("vanishing", 0.5, False)
    four = classify(rows([2 ** -6, 2 ** -4, 2 ** -2, 1.0]))  # three steps of × 1/4: the gain is the cube root
    assert four.ratio == 2 ** -6 and four.per_layer == pytest.approx(0.25, rel=1e-15)
    assert four.kind == "vanishing"  # within 100x end to end, but a quarter per layer is the sigmoid's σ' ≤ 1/4


# ---------------------------------------------------------------- the gain per layer decides from CHAIN layers on


def test_the_apps_measurements_of_nielsens_networks_are_vanishing():
    # issue 23: the relative mean |δ| the app measured for [784,30,30,30,30,10] and [784,30,30,30,10] (sigmoid)
    four = classify(rows([0.014, 0.05, 0.24, 1.0]))
    three = classify(rows([0.055, 0.24, 1.0]))
    assert four.kind == three.kind == "vanishing"
    assert 0.2 < four.per_layer < 0.3 and 0.2 < three.per_layer < 0.3
    assert four.ratio > VANISHING_BELOW and three.ratio > VANISHING_BELOW  # the old end-to-end rule called it healthy


def test_the_gain_thresholds_are_strict_from_three_hidden_layers_on():
    assert CHAIN == 3 and GAIN_HIGH == pytest.approx(1 / GAIN_LOW)
    below, at = 0.99 * GAIN_LOW, GAIN_LOW
    assert classify(rows([below ** 2, below, 1.0])).kind == "vanishing"
    assert classify(rows([at * at, at, 1.0])).kind == "healthy"
    assert classify(rows([(1.01 * GAIN_HIGH) ** 2, 1.01 * GAIN_HIGH, 1.0])).kind == "exploding"
    assert classify(rows([GAIN_HIGH ** 2, GAIN_HIGH, 1.0])).kind == "healthy"
    # two hidden layers are one BP2 step, no chain: only the end-to-end ratio counts there
    two = classify(rows([0.25, 1.0]))
    assert (two.kind, two.per_layer, two.in_band) == ("healthy", 0.25, False)
    assert classify(rows([4.0, 1.0])).kind == "healthy"
    # and a long chain of gains just inside the band still vanishes end to end
    deep = classify(rows([0.8 ** l for l in range(29, -1, -1)]))
    assert deep.in_band and deep.ratio < VANISHING_BELOW and deep.kind == "vanishing"


def test_variance_preserving_gains_are_healthy():
    for gain in (0.8, 1.0, 1.2):  # ReLU + He, tanh + Xavier and linear + Xavier measure 0.76-1.22 per layer
        assert classify(rows([gain ** l for l in range(7, -1, -1)])).kind == "healthy"


def test_the_textbook_chain_of_thirty_factors():
    v = classify(rows([0.2 ** 30] + [0.1] * 29 + [1.0]))  # 31 hidden layers: 30 BP2 steps
    assert v.kind == "vanishing" and v.hidden_layers == 31
    assert v.ratio == 0.2 ** 30 and v.per_layer == pytest.approx(0.2, rel=1e-12)


def test_the_thresholds_are_strict():
    assert classify(rows([VANISHING_BELOW * 0.99, 1.0])).kind == "vanishing"
    assert classify(rows([VANISHING_BELOW, 1.0])).kind == "healthy"
    assert classify(rows([EXPLODING_ABOVE, 1.0])).kind == "healthy"
    assert classify(rows([EXPLODING_ABOVE * 1.01, 1.0])).kind == "exploding"
    assert classify(rows([1e-7] + [1e-3] * 28 + [1.0])).kind == "vanishing"  # only the two ends count


def test_one_hidden_layer_has_no_chain():
    v = classify(rows([0.3]))
    assert (v.kind, v.ratio, v.per_layer, v.hidden_layers) == ("healthy", 1.0, 1.0, 1)
    alone = classify([rows([0.3])[0]])  # one row: a network without hidden layers, its output layer stands in
    assert (alone.kind, alone.hidden_layers, alone.last_delta) == ("healthy", 0, 0.3)


# ---------------------------------------------------------------- symmetric and dead


def test_zero_init_is_symmetric_whatever_the_numbers():
    assert classify(rows([2 ** -10, 2 ** -5, 1.0]), net("sigmoid", "zeros", 3)).kind == "symmetric"
    assert classify(rows([2 ** -10, 2 ** -5, 1.0]), net("sigmoid", "xavier", 3)).kind == "vanishing"


def test_without_a_spec_symmetry_is_read_from_the_rows():
    v = classify(rows([0.0, 0.0, 0.0], act_std=0.0))
    assert (v.kind, v.ratio, v.per_layer) == ("symmetric", 1.0, 1.0)  # 0 / 0 counts as no change
    assert v.silent
    assert classify(rows([0.0, 0.0, 0.0], act_std=0.5)).kind == "healthy"  # units differ: not symmetric
    assert not classify(rows([0.0, 0.0, 0.18])).silent


def test_a_dead_layer_stops_the_signal_whatever_the_ratio():
    profile = rows([0.5625, 0.75, 1.0])
    profile[1]["dead_frac"] = DEAD_LAYER  # layer 2 counts as dead from DEAD_LAYER on
    v = classify(profile, net("relu", "he", 3))
    assert (v.kind, v.dead_layers, v.ratio) == ("dead", (2,), 0.5625)
    profile[1]["dead_frac"] = 0.98
    assert classify(profile, net("relu", "he", 3)).kind == "healthy"


def test_a_crowd_of_dead_units_is_dead_only_when_the_signal_vanishes():
    crowd = classify(rows([2 ** -10, 2 ** -5, 1.0], dead=CROWDED))
    assert (crowd.kind, crowd.dead_layers, crowd.dead) == ("dead", (), CROWDED)
    assert classify(rows([2 ** -10, 2 ** -5, 1.0], dead=0.25)).kind == "vanishing"
    assert classify(rows([0.64, 0.8, 1.0], dead=0.75)).kind == "healthy"
    assert classify(rows([0.25, 0.5, 1.0], dead=CROWDED)).kind == "dead"  # vanishing by its gain of 1/2


def test_shares_are_means_over_the_hidden_layers_only():
    profile = rows([0.25, 0.5, 1.0], saturated=0.25)
    profile[0]["dead_frac"] = 0.75  # the output row's 0.9 must not count
    v = classify(profile)
    assert (v.saturated, v.dead, v.share) == (0.25, 0.25, 0.5)


# ---------------------------------------------------------------- zeros, underflow and overflow


def test_no_signal_at_layer_1_is_vanishing_with_ratio_0():
    v = classify(rows([0.0, 0.0, 0.18]))
    assert (v.kind, v.ratio, v.per_layer, v.last_delta) == ("vanishing", 0.0, 0.0, 0.18)
    assert v.underflow is None  # one non-zero layer gives no rate to extrapolate


def test_float32_underflow_is_recognised_and_estimated():
    # the non-zero layers shrink by 2^-10 per layer: carried down two more layers, δ¹ = 2^-160 < float32's 1.4e-45
    v = classify(rows([0.0, 0.0, 2 ** -140, 2 ** -130, 2 ** -120]))
    assert v.kind == "vanishing" and v.ratio == 0.0 and v.underflow == 2 ** -160 < FLOAT32_TINY
    assert classify(rows([0.0, 0.0, 1e-40, 1e-38, 1e-36])).underflow is None  # about 1e-44: float32 holds that


def test_underflow_estimate_extrapolates_the_measured_rate():
    assert underflow_estimate([0.0, 0.0, 1e-40, 1e-38, 1e-36]) == pytest.approx(1e-44)
    assert math.isnan(underflow_estimate([1e-3, 1e-2]))  # nothing underflowed
    assert math.isnan(underflow_estimate([0.0, 0.0, 1e-3]))  # one non-zero layer: no rate


def test_inf_or_nan_anywhere_is_an_overflow():
    for bad in (math.inf, math.nan):
        v = classify(rows([bad, 1.0, 0.2]))
        assert (v.kind, v.ratio, v.per_layer, v.overflowed) == ("exploding", math.inf, math.inf, True)
    assert classify(rows([0.25, 0.5, 1.0], output=math.nan)).overflowed  # the output layer too


def test_a_silent_top_layer_under_a_live_one_is_an_infinite_ratio_not_an_overflow():
    v = classify(rows([1.0, 0.5, 0.0]))
    assert (v.kind, v.ratio, v.per_layer, v.overflowed) == ("exploding", math.inf, math.inf, False)


def test_an_empty_profile_is_refused():
    with pytest.raises(ValueError, match="no layers"):
        classify([])


# ---------------------------------------------------------------- during training


def test_chance_loss_is_what_guessing_each_class_equally_costs():
    assert chance_loss("ce", 10) == pytest.approx(math.log(10)) == pytest.approx(2.302585)
    assert chance_loss("mse", 10) == pytest.approx(0.5 * (1 - 0.1))  # ½‖a − y‖² with a = 0.1 everywhere
    with pytest.raises(ValueError):
        chance_loss("ce", 1)


def test_a_run_stuck_at_chance_while_layer_1_hears_little_is_vanishing():
    chance = math.log(10)
    deltas = [0.05, 0.2, 1.0, 0.3]  # three hidden layers (δ¹ is 1/20 of δ³), then the output layer
    assert classify_training(2.30, chance, deltas) == "vanishing"
    assert classify_training(AT_CHANCE * chance, chance, deltas) == "vanishing"
    assert classify_training(0.99 * AT_CHANCE * chance, chance, deltas) is None  # it has learnt something
    assert classify_training(2.30, chance, [STALLED_RATIO, 0.5, 1.0, 0.3]) is None  # layer 1 hears a tenth
    assert classify_training(2.30, chance, [0.01, 0.3]) is None  # one hidden layer: no chain to stall in
    assert classify_training(math.nan, chance, deltas) is None


def test_judge_training_turns_a_stalled_healthy_verdict_into_vanishing():
    vanishing = rows([0.05, 0.2, 1.0])  # gain 0.22: vanishing by its gain already
    healthy = rows([0.75 ** l for l in range(9, -1, -1)])  # gain 0.75 per layer, δ¹ is 0.075 of δ¹⁰
    v = classify(healthy)
    assert v.kind == "healthy" and v.ratio < STALLED_RATIO
    judged = judge_training(v, healthy, loss=2.30, chance=math.log(10))
    assert (judged.kind, judged.stalled, judged.loss, judged.chance) == ("vanishing", True, 2.30, math.log(10))
    learnt = judge_training(v, healthy, loss=0.4, chance=math.log(10))
    assert (learnt.kind, learnt.stalled, learnt.loss) == ("healthy", False, 0.4)
    assert judge_training(classify(vanishing), vanishing, 2.30, math.log(10)).stalled  # named for both reasons
    exploding = rows([2 ** 10, 2 ** 5, 1.0])
    assert judge_training(classify(exploding), exploding, 2.30, math.log(10)).kind == "exploding"


# ---------------------------------------------------------------- the record


def test_a_verdict_is_kinds_and_numbers_only():
    v = classify(rows([2 ** -10, 2 ** -5, 1.0]), net("sigmoid", "xavier", 3))
    assert set(KINDS) == {"vanishing", "exploding", "healthy", "symmetric", "dead"}
    assert all(isinstance(value, (str, int, float, bool, tuple, type(None))) for value in vars(v).values())
    assert not hasattr(v, "headline") and not hasattr(v, "text")  # engine.views.words.describe words it
    kept = pickle.loads(pickle.dumps(v))  # as st.cache_data keeps it for every session
    assert kept == v and isinstance(kept, Verdict)
    with pytest.raises(FrozenInstanceError):
        v.kind = "healthy"


def test_weight_scale_is_std_times_root_n_of_a_typical_hidden_layer():
    assert weight_scale(net("sigmoid", "xavier", 3)) == pytest.approx((math.sqrt(1 / 32), 1.0, 32))
    assert weight_scale(net("relu", "he", 3)) == pytest.approx((0.25, math.sqrt(2), 32))
    assert weight_scale(net("tanh", "normal", 3, width=16)) == pytest.approx((1.0, 4.0, 16))
