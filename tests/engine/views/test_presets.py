"""Presets: each one that names a phenomenon declares it, and the engine measures that phenomenon."""
import math

import numpy as np
import pytest

from engine.data.datasets import load_dataset
from engine.nn.model import build_model
from engine.nn.probes import record
from engine.nn.spec import spec_for_dataset
from engine.train.trainer import Trainer
from engine.views.gradients import fixed_batch, profile_at_init
from engine.views.presets import DEFAULT_PRESET, FIT_PHENOMENA, GRADIENT_PHENOMENA, PRESETS, Preset
from engine.views.words import verdict_text

NAMED = {"vanishing", "exploding", "underfitting", "overfitting", "healthy"}


def test_every_preset_naming_a_phenomenon_declares_it():
    for name, preset in PRESETS.items():
        for word in NAMED:
            if word in name.lower():
                assert preset.shows == word, name
    assert DEFAULT_PRESET in PRESETS
    with pytest.raises(ValueError):
        Preset(PRESETS[DEFAULT_PRESET].network, PRESETS[DEFAULT_PRESET].training, "", shows="magic")


@pytest.mark.parametrize("name", [n for n, p in PRESETS.items() if p.shows in GRADIENT_PHENOMENA])
def test_gradient_presets_get_the_verdict_they_name(name):
    preset = PRESETS[name]
    profile = profile_at_init(preset.network, preset.training.dataset, 256, preset.training.seed)
    assert profile.verdict.kind == preset.shows, verdict_text(profile.verdict, profile.network)


def test_deep_tanh_explodes_clearly_and_its_lesson_gives_the_right_gain():
    preset = PRESETS["Deep tanh, large init (exploding)"]
    profile = profile_at_init(preset.network, "mnist5k", 256, 0)
    assert profile.verdict.ratio > 1000  # "about 3,000-fold" over 10 layers, far beyond the 100x threshold
    assert 2.0 < profile.verdict.per_layer < 3.0  # "≈ 2.5" per layer
    # the lesson's gain std·√n·√E[tanh'(z)²] = √128 · 0.22, measured on the fixed batch
    network, x, y = fixed_batch(preset.network, load_dataset("mnist5k"), 256, 0)
    records = record(build_model(network, 0), x, y)[1][:-1]
    rms = [math.sqrt(float(np.mean((1 - np.tanh(r.z) ** 2) ** 2))) for r in records[1:]]
    mean_prime = [float(np.mean(1 - np.tanh(r.z) ** 2)) for r in records[1:]]
    assert np.mean(rms) == pytest.approx(0.22, abs=0.03)
    assert np.mean(mean_prime) == pytest.approx(0.1, abs=0.04)  # E[tanh'] alone would give √128 · 0.1 ≈ 1.1
    assert math.sqrt(128) * np.mean(rms) == pytest.approx(profile.verdict.per_layer, rel=0.25)
    assert "√128 · 0.22 ≈ 2.5" in preset.lesson and "3,000-fold" in preset.lesson


def _train(preset: Preset) -> list[dict]:
    trainer = Trainer(preset.network, preset.training, record=False, snapshot_every=None)
    while not trainer.finished:
        trainer.step(trainer.steps_per_epoch)
    assert trainer.status == "done"
    return trainer.history.epochs


def test_underfitting_preset_stays_low_on_train_and_validation():
    epochs = _train(PRESETS["Underfitting: 2 hidden units"])
    last = epochs[-1]
    assert last["train_acc"] < 0.8  # too simple to fit even the training set
    assert abs(last["train_acc"] - last["val_acc"]) < 0.1  # and no gap: high bias, not variance
    assert last["train_acc"] == pytest.approx(0.65, abs=0.1)  # the lesson's "about 65%"


def test_overfitting_preset_fits_train_while_validation_loss_turns_up():
    epochs = _train(PRESETS["Overfitting: 200 samples, no regularisation"])
    val = [e["val_loss"] for e in epochs]
    assert epochs[-1]["train_acc"] == 1.0
    assert val[-1] > 1.2 * min(val)  # validation loss turned back up
    assert epochs[-1]["train_acc"] - epochs[-1]["val_acc"] > 0.15


def test_3blue1brown_preset_matches_the_videos():
    preset = next(p for n, p in PRESETS.items() if n.startswith("3Blue1Brown"))
    assert preset.network.hidden == (16, 16) and preset.network.activations == ("sigmoid", "sigmoid")
    assert preset.network.loss == "mse"  # sigmoid outputs and the sum of squared differences
    model = build_model(spec_for_dataset(preset.network, 784, 10, False, (28, 28)), 0)
    assert model.spec.output_activation == "sigmoid"
    assert sum(p.numel() for p in model.parameters()) == 13_002
    assert set(FIT_PHENOMENA) == {"overfitting", "underfitting"}
