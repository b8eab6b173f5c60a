"""The engine's words follow the session's language once the app installs its translator; the CLI stays English."""
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from tests import ROOT
from engine.views.presets import DEFAULT_PRESET, PRESETS
from engine.nn.spec import NetworkSpec, SpecError, clamp_params
from engine.text import _
from engine.views.verdicts import verdict
from engine.train.trainer import Divergence
from engine.views.words import divergence_advice, ending_message
from tests.i18n_text import chinese_in, english_left
from ui.i18n import install_translator, speaking



@pytest.fixture(autouse=True)
def translator():
    install_translator()  # what ui.bootstrap does once per app process; outside a session it answers in English


def _row(layer: int, delta: float) -> dict:
    return {"layer": layer, "delta_mean_abs": delta, "act_std": 0.3, "dead_frac": 0.0, "saturated_frac": 0.0}


VANISHING = [_row(1, 2e-6), _row(2, 1e-3), _row(3, 1.0), _row(4, 0.5)]  # three hidden layers, then the output
SIGMOID = NetworkSpec(hidden=(32, 32, 32), activations="sigmoid", init="xavier")


def test_a_gradients_verdict_is_chinese_for_a_chinese_session_and_unchanged_english_otherwise():
    english = verdict(VANISHING, SIGMOID)
    assert english.kind == "vanishing"
    assert english.headline == ("Vanishing: layer 1 receives 2.0×10⁻⁶ of the error signal of layer 3 "
                                "(the last hidden layer).")
    assert english.reason.startswith("σ'(z) ≤ 1/4 for the sigmoid, so each layer multiplies δ by at most ¼ × the")
    with speaking("zh"):
        chinese = verdict(VANISHING, SIGMOID)
        assert chinese.kind == "vanishing" and chinese.ratio == english.ratio  # only the words change
        assert chinese.headline == "梯度消失：第 1 层收到的误差信号只有第 3 层（最后一个隐藏层）的 2.0×10⁻⁶。"
        assert "权重尺度" in chinese.reason and chinese_in(chinese.reason)
        assert english_left(chinese.text) == [], chinese.text
        assert "。 " not in chinese.text and chinese.text.count("。") >= 2  # Chinese sentences run on, no spaces
    assert chinese.text == english.text  # back outside the Chinese block: English again


def test_a_kept_verdict_speaks_the_language_of_whoever_reads_it():
    kept = pickle.loads(pickle.dumps(verdict(VANISHING, SIGMOID)))  # as st.cache_data keeps it for every session
    with speaking("zh"):
        assert kept.headline.startswith("梯度消失：") and kept.as_dict()["text"].startswith("梯度消失：")
    assert kept.headline.startswith("Vanishing: ") and kept.as_dict()["kind"] == "vanishing"
    assert kept == verdict(VANISHING, SIGMOID)  # equal by kind and numbers, whatever the words


def test_a_finished_runs_message_is_worded_when_read():
    from engine.data.datasets import load_dataset
    from engine.nn.spec import TrainSpec
    from engine.train.trainer import Trainer

    trainer = Trainer(NetworkSpec(hidden=(4,)), TrainSpec(dataset="xor", epochs=1, batch_size=100),
                      load_dataset("xor"), record=False, snapshot_every=None)
    assert ending_message(trainer.ending) == ""
    trainer.step(trainer.steps_per_epoch)
    assert trainer.status == "done"
    assert ending_message(trainer.ending) == f"finished 1 epochs ({trainer.step_count} steps)"
    with speaking("zh"):
        assert ending_message(trainer.ending) == f"完成了 1 轮（{trainer.step_count} 步）"


def test_divergence_advice_and_a_clamp_note_speak_the_session_language():
    args = (12, float("nan"), 0.5, "sgd", 3.2e4, 2.3, "normal", ("sigmoid",))
    english = divergence_advice(Divergence(*args))
    assert english.startswith("Training diverged at step 12: the loss became NaN. Most likely the learning rate "
                              "η = 0.5 is too high (the largest ‖∂C/∂W‖ had reached 3.2e+04). Lower the learning rate")
    with speaking("zh"):
        chinese = divergence_advice(Divergence(*args))
        params, notes = clamp_params({"lr": "500"})
    assert chinese.startswith("训练在第 12 步发散：损失变成了 NaN。最可能的原因是学习率 η = 0.5 太高")
    assert "降低学习率（试试 η = 0.05）；" in chinese
    assert params["lr"] == "100" and notes == ["lr=500 超出了 1e-06-100：改用 100"]
    assert clamp_params({"lr": "500"})[1] == ["lr=500 is outside 1e-06-100: using 100"]


def test_a_spec_error_names_the_setting_in_the_session_language():
    with speaking("zh"), pytest.raises(SpecError) as chinese:
        NetworkSpec(hidden=(0,))
    assert str(chinese.value) == "第 1 个隐藏层的宽度必须在 1-1024 之间，实际是 0"
    with pytest.raises(SpecError, match=r"^width of hidden layer 1 must be 1-1024, got 0$"):
        NetworkSpec(hidden=(0,))


def test_preset_names_and_lessons_are_english_keys_shown_in_chinese():
    assert DEFAULT_PRESET == "Modern ReLU + He + Adam" and DEFAULT_PRESET in PRESETS  # keys stay (URLs, state)
    preset = PRESETS["Deep sigmoid (vanishing)"]
    assert _("Deep sigmoid (vanishing)") == "Deep sigmoid (vanishing)"
    assert _(preset.lesson) == preset.lesson and preset.lesson.startswith("Eight sigmoid layers")
    with speaking("zh"):
        for name, each in PRESETS.items():
            assert _(name) != name and _(each.lesson) != each.lesson, name
            assert english_left(_(each.lesson)) == [], _(each.lesson)
        assert _("Deep sigmoid (vanishing)") == "深层 sigmoid（梯度消失）"


def test_the_command_line_stays_english():
    def run(*args):
        return subprocess.run([sys.executable, "-m", "engine", "gradients", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)

    bad = run("--layers", "0,5")
    assert bad.returncode == 2 and bad.stderr.strip() == "error: width of hidden layer 1 must be 1-1024, got 0"
    good = run("--dataset", "moons", "--layers", "8,8,8", "--batch-size", "32", "--json")
    assert good.returncode == 0, good.stderr
    text = json.loads(good.stdout)["verdict"]["text"]
    assert text.split(":")[0] in ("Vanishing", "Exploding", "Healthy", "Symmetric", "Dead") and not chinese_in(text)
