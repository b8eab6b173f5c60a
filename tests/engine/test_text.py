"""The engine's words follow the session's language once the app installs its translator; the CLI stays English."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.nn.spec import NetworkSpec, SpecError, clamp_params
from engine.text import _
from engine.train.trainer import Divergence
from engine.views.presets import DEFAULT_PRESET, PRESETS
from engine.views.words import divergence_advice, ending_message
from tests import ROOT
from tests.i18n_text import chinese_in, english_left
from ui.i18n import install_translator, speaking

# a gradients verdict in either language: tests/engine/views/test_words.py


@pytest.fixture(autouse=True)
def translator():
    install_translator()  # what ui.bootstrap does once per app process; outside a session it answers in English


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
