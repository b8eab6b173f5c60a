"""Lessons in one click: a network and its training, named for what they show."""
from __future__ import annotations

from dataclasses import dataclass

from ..nn.spec import NetworkSpec, TrainSpec
from ..text import N_


# What a preset can claim to show: a gradients verdict at init (engine.views.verdicts.KINDS), or a training outcome
GRADIENT_PHENOMENA = ("vanishing", "exploding", "healthy", "symmetric", "dead")
FIT_PHENOMENA = ("overfitting", "underfitting")


@dataclass(frozen=True)
class Preset:
    network: NetworkSpec
    training: TrainSpec
    lesson: str  # one sentence: what to watch for (marked with N_: shown as _(preset.lesson))
    shows: str | None = None  # the phenomenon its name promises (tests/engine/views/test_presets.py checks it happens)

    def __post_init__(self):
        if self.shows is not None and self.shows not in GRADIENT_PHENOMENA + FIT_PHENOMENA:
            raise ValueError(f"unknown phenomenon {self.shows!r}")


PRESETS: dict[str, Preset] = {
    N_("Modern ReLU + He + Adam"): Preset(
        NetworkSpec(hidden=(128, 64), activations="relu", init="he", loss="ce"),
        # η = 0.003: the best validation accuracy after 1, 3 and 10 epochs of 0.001, 0.002 and 0.003
        TrainSpec(dataset="mnist5k", optimizer="adam", lr=3e-3, batch_size=64, epochs=10),
        N_("The modern recipe: δ stays the same size in every layer and validation accuracy passes 90% "
           "within a few seconds."), shows="healthy"),
    N_("3Blue1Brown 784-16-16-10 sigmoid, quadratic cost"): Preset(
        NetworkSpec(hidden=(16, 16), activations="sigmoid", init="xavier", loss="mse"),
        TrainSpec(dataset="mnist5k", optimizer="sgd", lr=3.0, batch_size=10, epochs=10),
        N_("The network from 3Blue1Brown's videos: 13,002 weights and biases, sigmoid units up to the 10 outputs, "
           "and the sum of squared differences as the cost (here with the textbooks' ½, which only halves the "
           "gradient). The videos do not fix an init or a learning rate: Xavier and Nielsen's SGD, η = 3.")),
    N_("Nielsen 784-30-10 sigmoid, quadratic cost"): Preset(
        NetworkSpec(hidden=(30,), activations="sigmoid", init="normal", loss="mse"),
        TrainSpec(dataset="mnist5k", optimizer="sgd", lr=3.0, batch_size=10, epochs=30),
        N_("Nielsen's first network (chapter 1): N(0,1) weights, quadratic cost, SGD with η = 3 and "
           "mini-batches of 10. Learning starts slowly because σ'(z) is small where units saturate.")),
    N_("Deep sigmoid (vanishing)"): Preset(
        NetworkSpec(hidden=(32,) * 8, activations="sigmoid", init="xavier", loss="ce"),
        TrainSpec(dataset="mnist5k", optimizer="sgd", lr=0.5, batch_size=64, epochs=20),
        N_("Eight sigmoid layers: each BP2 step multiplies δ by σ'(z) ≤ 1/4, so the first layers barely "
           "hear the error (dark rows at the top of the δ heatmap) and learning crawls."), shows="vanishing"),
    N_("Deep tanh, large init (exploding)"): Preset(
        NetworkSpec(hidden=(128,) * 10, activations="tanh", init="normal", loss="ce"),
        TrainSpec(dataset="mnist5k", optimizer="sgd", lr=0.01, batch_size=64, epochs=20),
        N_("N(0,1) weights in 128-wide layers: each BP2 step multiplies δ by about std·√n·√E[tanh'(z)²] = "
           "√128 · 0.22 ≈ 2.5 (most units saturate, so E[tanh'] is only about 0.1, but with √128 ≈ 11 the weights "
           "still win). Over 10 layers δ grows about 3,000-fold towards the input (bright rows at the top) "
           "and training is erratic. After a few dozen steps the first layers saturate (|tanh| ≈ 1, so tanh' ≈ 0) "
           "and δ then vanishes there: once the loss sits at chance, the Train page names the run vanishing."),
        shows="exploding"),
    N_("Underfitting: 2 hidden units"): Preset(
        NetworkSpec(hidden=(2,), activations="relu", init="he", loss="ce"),
        TrainSpec(dataset="mnist5k", optimizer="adam", lr=1e-2, batch_size=64, epochs=10),
        N_("784-2-10: two numbers per digit are too few to tell ten digits apart. Training and validation "
           "accuracy stay low and close together (about 65%): the model is too simple, and more epochs do not "
           "help. Widen the hidden layer."), shows="underfitting"),
    N_("Overfitting: 200 samples, no regularisation"): Preset(
        NetworkSpec(hidden=(256, 256), activations="relu", init="he", loss="ce"),
        TrainSpec(dataset="mnist5k", train_size=200, optimizer="adam", lr=1e-3, batch_size=20, epochs=150),
        # bench/regularisation.py: λ = 3 cuts the validation loss's rise to 0.11-0.32x over 3 seeds; dropout 0.5
        # makes it 1.45-2.05x; nothing in range closes the accuracy gap
        N_("200 training digits and 270,000 weights: training accuracy reaches 100% while validation loss "
           "turns back up. Weight decay λ = 3 (D2L) keeps validation loss near its lowest; dropout does not "
           "(at 0.5 it rises further). Neither closes the accuracy gap: validation accuracy stays near 81%."),
        shows="overfitting"),
    N_("Spiral (2-D): ReLU 32-32-32"): Preset(
        NetworkSpec(hidden=(32, 32, 32), activations="relu", init="he", loss="ce"),
        TrainSpec(dataset="spiral", optimizer="adam", lr=0.01, batch_size=32, epochs=300),
        N_("TensorFlow Playground's hardest set: watch the decision boundary wind itself around the spiral.")),
    N_("Regression: fit y = x²"): Preset(
        NetworkSpec(hidden=(16, 16), activations="tanh", init="xavier", loss="mse"),
        TrainSpec(dataset="regression", optimizer="adam", lr=0.01, batch_size=20, epochs=300),
        N_("The curve-fitting demo: a few tanh units bend a line into a parabola.")),
}

DEFAULT_PRESET = "Modern ReLU + He + Adam"  # keys stay English (URLs, state); shown as _(key)
