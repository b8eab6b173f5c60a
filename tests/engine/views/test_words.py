"""engine.views.words: a verdict's headline and reason in English and Chinese, with its numbers in the sentence;
the Gradients page's training note; the display formatters."""
import math
import pickle

import pytest

from engine.nn.spec import NetworkSpec
from engine.views.gradients import Trained
from engine.views.verdicts import classify, judge_training
from engine.views.train import Judgement
from engine.views.words import (describe, diverged_profile_note, format_loss, sci, sentences, training_warning,
                                verdict_text)
from tests.i18n_text import chinese_in, english_left
from ui.i18n import install_translator, speaking


@pytest.fixture(autouse=True)
def translator():
    install_translator()  # what ui.bootstrap does once per app process; outside a session it answers in English


def rows(hidden, saturated=0.0, dead=0.0, act_std=1.0, output=0.2):
    """A profile: `hidden` are the hidden layers' mean |δ|, first layer first, then an output layer."""
    layers = [{"layer": l + 1, "delta_mean_abs": d, "grad_norm": d, "act_mean": 0.0, "act_std": act_std,
               "saturated_frac": saturated, "dead_frac": dead} for l, d in enumerate(hidden)]
    return layers + [{"layer": len(hidden) + 1, "delta_mean_abs": output, "grad_norm": output, "act_mean": 0.1,
                      "act_std": 0.1, "saturated_frac": 0.0, "dead_frac": 0.0}]


def net(activation: str, init: str, depth: int, width: int = 32) -> NetworkSpec:
    return NetworkSpec(hidden=(width,) * depth, activations=activation, init=init)


def words(hidden, network=None, **shares) -> tuple[str, str]:
    """(headline, reason) of a hand-built profile."""
    return describe(classify(rows(hidden, **shares), network), network)


VANISHING = [2e-6, 1e-3, 1.0]  # three hidden layers: δ¹ is 2.0×10⁻⁶ of δ³
SIGMOID = net("sigmoid", "xavier", 3)


# ---------------------------------------------------------------- headlines carry the verdict's numbers


def test_each_kind_has_its_headline_with_the_ratio_in_it():
    assert words([2 ** -10, 2 ** -5, 1.0])[0] == ("Vanishing: layer 1 receives 9.8×10⁻⁴ of the error signal of "
                                                  "layer 3 (the last hidden layer), ×0.031 per layer.")
    assert words([2 ** 10, 2 ** 5, 1.0])[0] == ("Exploding: layer 1 receives 1.0×10³ times the error signal of "
                                                "layer 3 (the last hidden layer), ×32 per layer.")
    assert words([0.64, 0.8, 1.0])[0] == ("Healthy: each layer passes on ×0.8 of the error signal it receives "
                                          "(between 0.7 and 1.4), and layer 1 receives 0.64 times the error signal "
                                          "of layer 3 (the last hidden layer).")
    assert words([0.25, 1.0])[0] == ("Healthy: layer 1 receives 0.25 times the error signal of layer 2 (the last "
                                     "hidden layer), a single BP2 step away: too short a chain to vanish or explode.")
    assert words([0.3])[0] == "Healthy: one hidden layer has no chain of layers for δ to vanish or explode in."
    assert words([0.0, 0.0, 0.0], act_std=0.0)[0] == ("Symmetric: every unit of a layer computes the same thing "
                                                      "and gets the same update.")


def test_no_hidden_layer_is_worded_as_none_not_as_one():
    regression = NetworkSpec(hidden=(), init="normal")  # softmax regression: δ only at the output (BP1)
    for init in ("normal", "zeros"):  # zero init breaks no symmetry without a hidden layer: each output differs
        network = NetworkSpec(hidden=(), init=init)
        verdict = classify(rows([])[-1:], network)  # the profile's one row: the output layer
        assert verdict.kind == "healthy" and verdict.hidden_layers == 0
        headline, reason = describe(verdict, network)
        assert headline == ("Healthy: with no hidden layer, δ exists only in the output layer (BP1), so there is no "
                            "chain of layers for it to vanish or explode in.")
        assert "one hidden layer" not in headline + reason
    assert classify(rows([0.3]), net("sigmoid", "normal", 1)).hidden_layers == 1
    with speaking("zh"):
        assert chinese_in(describe(classify(rows([])[-1:], regression), regression)[0])


def test_thirty_layers_of_the_textbook_chain():
    headline = words([0.2 ** 30] + [0.1] * 29 + [1.0])[0]
    assert headline.startswith("Vanishing: layer 1 receives 1.1×10⁻²¹ of the error signal")
    assert "layer 31 (the last hidden layer)" in headline
    assert "9.3×10²⁰ times" in words([5.0 ** 30, 1.0])[0]


def test_no_signal_overflow_and_underflow_are_named():
    assert words([0.0, 0.0, 0.18])[0] == ("Vanishing: layer 1 receives no error signal at all (δ¹ = 0), while "
                                          "layer 3 (the last hidden layer) gets 0.18.")
    under = words([0.0, 0.0, 2 ** -140, 2 ** -130, 2 ** -120])[0]  # δ¹ would be 2^-160 ≈ 6.8×10⁻⁴⁹
    assert under.endswith(" δ¹ = 0 is float32 underflow: at the measured rate the true value is about 6.8×10⁻⁴⁹, "
                          "below float32's smallest number 1.4×10⁻⁴⁵.")
    for bad in (math.inf, math.nan):
        assert "overflowed" in words([bad, 1.0, 0.2])[0]


def test_dead_headlines_name_the_layer_or_the_share():
    profile = rows([0.0, 0.0, 0.1])
    profile[2]["dead_frac"] = 1.0
    headline, reason = describe(classify(profile, net("relu", "he", 3)), net("relu", "he", 3))
    assert "every ReLU of layer 3 is dead" in headline and "leaky ReLU" in reason
    assert "60% of the hidden ReLUs are dead" in words([1e-4, 1e-3, 1.0], net("relu", "he", 3), dead=0.6)[0]


# ---------------------------------------------------------------- reasons in BP2's terms


def test_reasons_name_the_cause_with_the_networks_numbers():
    assert words([2 ** -10, 2 ** -5, 1.0], SIGMOID)[1] == (
        "σ'(z) ≤ 1/4 for sigmoid, so each layer multiplies δ by at most about 1/4 × the weight scale std·√n = "
        "0.177·√32 = 1, i.e. by ≤ 0.25. Measured: δ changes by ×0.031 per layer on average.")  # gain 2^-5
    big = words([1e4, 1.0], net("tanh", "normal", 2), saturated=0.3)[1]
    assert "The weight scale std·√n = 1·√32 = 5.66 is far above 1" in big
    assert "30% of the hidden units are saturated" in big and "×10⁴ per layer" in big
    some_dead = words([0.64, 0.8, 1.0], net("relu", "he", 3), dead=0.2)[1]
    assert "20% of the hidden units are dead" not in some_dead  # healthy: a share is named only as a caution
    leaky = words([1e-4, 1e-3, 1.0], net("leaky_relu", "he", 2))[1]
    assert "dead" not in leaky and "saturated" not in leaky
    assert "tiny" in words([1e-9, 1.0], net("relu", "small", 2))[1]
    assert "√2 · √½ = 1" in words([0.7, 1.0], net("relu", "he", 2))[1]
    assert "Caution: with 70% of the units saturated" in words([5.0, 1.0], net("tanh", "normal", 2),
                                                               saturated=0.7)[1]


def test_every_reason_names_sigma_primes_factor_from_the_registry():
    flows = {"vanishing": [0.05, 0.2, 1.0], "healthy": [0.8, 0.9, 1.0], "exploding": [30.0, 6.0, 1.0]}
    factor = {"sigmoid": "σ'(z) ≤ 1/4 for sigmoid", "tanh": "σ'(z) ≤ 1 for tanh", "relu": "σ'(z) is 0 or 1 for ReLU",
              "leaky_relu": "σ'(z) is 0.01 or 1 for leaky ReLU", "linear": "σ'(z) = 1 for linear (identity)"}
    for kind, hidden in flows.items():
        for activation, words_of_it in factor.items():
            network = net(activation, "xavier", 3)
            v = classify(rows(hidden), network)
            assert v.kind == kind
            assert words_of_it in describe(v, network)[1], (kind, activation)


def test_two_hidden_layers_predict_more_only_from_sigmas_bound():
    sigmoid = words([0.25, 1.0], net("sigmoid", "xavier", 2))[1]  # std·√n = 1: σ' ≤ 1/4 bounds every step
    assert "at most about 0.25 again, and δ would vanish" in sigmoid
    relu = words([0.68, 1.0], net("relu", "he", 2))[1]  # 128 -> 64 units measures ×0.68, He keeps deeper nets at 1
    assert "vanish" not in relu and "(×0.68): one factor, not a chain" in relu


def test_a_bound_the_measurement_exceeds_is_not_claimed():
    # tanh + Xavier: std·√n·max σ' = 1, so a measured ×1.5 per layer must not come with "by ≤ 1"
    reason = words([2.25, 1.5, 1.0], net("tanh", "xavier", 3))[1]
    assert "σ'(z) ≤ 1 for tanh" in reason and "i.e. by ≤" not in reason and "×1.5 per layer" in reason
    assert "i.e. by ≤ 1." in words([0.81, 0.9, 1.0], net("tanh", "xavier", 3))[1]


def test_saturation_cancelling_large_weights_is_said_only_when_the_gain_is_near_1():
    normal = net("sigmoid", "normal", 3, width=30)  # std·√n = √30 = 5.5
    near_one = words([0.81, 0.9, 1.0], normal, saturated=0.4)[1]
    assert "the two roughly cancel" in near_one
    for hidden in ([0.28, 0.53, 1.0], [0.0625, 0.25, 1.0], [0.25, 1.0]):  # N(0,1)'s ×0.53, σ''s ×1/4, one step
        reason = words(hidden, normal, saturated=0.4)[1]
        assert "cancel" not in reason and "σ'(z) ≤ 1/4 for sigmoid" in reason, hidden
    assert "cancel" not in words([0.3], normal, saturated=0.65)[1]  # one hidden layer: no gain measured at all


def test_a_stalled_run_says_its_loss_sits_at_chance():
    profile = rows([0.75 ** l for l in range(9, -1, -1)])  # ×0.75 per layer: healthy at init
    v = judge_training(classify(profile), profile, loss=2.3021, chance=math.log(10))
    headline = describe(v)[0]
    assert headline.startswith("Vanishing: layer 1 receives 0.075 of the error signal of layer 10")
    assert headline.endswith(" The loss is still 2.302, where guessing gets 2.303: the run has learnt next to "
                             "nothing, because the first layers barely hear the error.")
    with speaking("zh"):
        assert "2.302" in describe(v)[0] and "2.303" in describe(v)[0] and english_left(describe(v)[0]) == []


def test_without_a_network_the_reason_is_the_measured_numbers():
    assert words([0.25, 0.5, 1.0], saturated=0.25)[1] == ("25% of hidden units are saturated or dead. "
                                                          "Measured: δ changes by ×0.5 per layer on average.")
    assert words([math.inf, 1.0])[1] == ""  # no finite gain to report
    zero = words([0.0, 0.0, 0.0], net("relu", "zeros", 3))[1]
    assert zero.startswith("With every weight 0, (W^(l+1))^T δ^(l+1) = 0") and "symmetry" in zero


def test_verdict_text_is_the_headline_then_the_reason():
    v = classify(rows(VANISHING), SIGMOID)
    headline, reason = describe(v, SIGMOID)
    assert verdict_text(v, SIGMOID) == f"{headline} {reason}"


# ---------------------------------------------------------------- the session's language


def test_a_verdict_is_chinese_for_a_chinese_session_and_unchanged_english_otherwise():
    v = classify(rows(VANISHING), SIGMOID)
    english = describe(v, SIGMOID)
    assert english[0] == ("Vanishing: layer 1 receives 2.0×10⁻⁶ of the error signal of layer 3 (the last hidden "
                          "layer), ×1.4×10⁻³ per layer.")
    assert english[1].startswith("σ'(z) ≤ 1/4 for sigmoid, so each layer multiplies δ by at most about 1/4 × the")
    with speaking("zh"):
        headline, reason = describe(v, SIGMOID)
        text = verdict_text(v, SIGMOID)
    assert headline == "梯度消失：第 1 层收到的误差信号只有第 3 层（最后一个隐藏层）的 2.0×10⁻⁶ 倍，平均每层 ×1.4×10⁻³。"
    assert "权重尺度 std·√n = 0.177·√32 = 1" in reason and chinese_in(reason)
    assert english_left(text) == [], text
    assert "。 " not in text and text.count("。") >= 2  # Chinese sentences run on, no spaces
    assert describe(v, SIGMOID) == english  # back outside the Chinese block: English again


def test_the_numbers_stay_in_the_chinese_sentences():
    with speaking("zh"):
        exploding = words([2 ** 10, 2 ** 5, 1.0], net("tanh", "normal", 3))
        healthy = words([0.64, 0.8, 1.0], net("relu", "he", 3))
        under = words([0.0, 0.0, 2 ** -140, 2 ** -130, 2 ** -120])[0]
    assert exploding[0] == "梯度爆炸：第 1 层收到的误差信号是第 3 层（最后一个隐藏层）的 1.0×10³ 倍，平均每层 ×32。"
    assert "乘以 32" in exploding[1] and "5.66" in exploding[1]
    assert healthy[0] == ("正常：每一层把收到的误差信号乘以 0.8 再传下去（在 0.7 与 1.4 之间），第 1 层收到的误差信号是"
                          "第 3 层（最后一个隐藏层）的 0.64 倍。")
    assert "0.8" in healthy[1] and "ReLU 的 σ'(z) 为 0 或 1" in healthy[1]
    assert "6.8×10⁻⁴⁹" in under and "1.4×10⁻⁴⁵" in under and chinese_in(under)


def test_a_kept_verdict_is_worded_in_the_language_of_whoever_reads_it():
    kept = pickle.loads(pickle.dumps(classify(rows(VANISHING), SIGMOID)))  # as st.cache_data keeps it
    with speaking("zh"):
        assert describe(kept, SIGMOID)[0].startswith("梯度消失：")
    assert describe(kept, SIGMOID)[0].startswith("Vanishing: ")


# ---------------------------------------------------------------- the Gradients page's training note


def test_a_diverged_profile_is_worded_from_its_record_and_a_finished_one_not_at_all():
    diverged = Trained(profile=None, steps=12, status="diverged", lr=50.0)
    assert diverged_profile_note(diverged) == (
        "Training diverged after 12 steps: the loss became infinite or NaN, or exploded far above where it "
        "started. Lower the learning rate η = 50 or pick a gentler init; the profile shows the last weights.")
    with speaking("zh"):
        assert diverged_profile_note(diverged).startswith("训练在 12 步后发散") and "η = 50" in \
            diverged_profile_note(diverged)
    assert diverged_profile_note(Trained(profile=None, steps=30, status="running", lr=0.03)) == ""


def test_the_train_pages_warning_carries_the_runs_numbers_in_english_and_chinese():
    judged = Judgement("vanishing", step=1250, loss=2.32414, chance=math.log(10), ratio=0.00944, last_hidden=4,
                       window=50)
    assert training_warning(judged) == (
        "Vanishing: after 1,250 steps the loss is still 2.324, where guessing gets 2.303. Layer 1 receives 9.4×10⁻³ "
        "of the error signal of layer 4 (the last hidden layer; mean |δ| over the last 50 steps): the first layers "
        "barely hear the error, so they barely learn (Nielsen, ch. 5).")
    with speaking("zh"):
        text = training_warning(judged)
    assert text.startswith("梯度消失：训练 1,250 步后，损失仍是 2.324，而随机猜测的损失是 2.303。")
    assert "第 4 层（最后一个隐藏层）的 9.4×10⁻³ 倍" in text and "最近 50 步" in text and "误差信号" in text
    assert chinese_in(text) and english_left(text) == [], text


# ---------------------------------------------------------------- display formatters


def test_sci_writes_tiny_and_huge_numbers_with_a_power_of_ten():
    assert sci(2.04e-6) == "2.0×10⁻⁶" and sci(37.2) == "37" and sci(0.41) == "0.41"
    assert sci(9.96e-5) == "1.0×10⁻⁴"  # the mantissa rounds up to 10: one power more
    assert sci(0.0) == "0.0" and sci(math.inf) == "inf"


def test_format_loss_reads_like_a_loss():
    assert format_loss(237113821134164070347309056.0) == "2.4e26" and format_loss(0.23154) == "0.2315"
    assert format_loss(math.inf) == "inf" and format_loss(math.nan) == "NaN" and format_loss(None) == "—"
    assert format_loss(3e-7) == "3.0e-7"


def test_sentences_join_english_with_spaces_and_chinese_without():
    assert sentences("One.", "", "Two.") == "One. Two."
    assert sentences("一。", "二。") == "一。二。"


def test_format_loss_is_still_importable_from_verdicts_until_pages_train_switches():
    from engine.views.verdicts import format_loss as old
    assert old is format_loss
