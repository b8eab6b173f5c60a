"""Lessons in one click: a network and its training, named for what they show."""
from __future__ import annotations

from dataclasses import dataclass

from .spec import NetworkSpec, TrainSpec


@dataclass(frozen=True)
class Preset:
    network: NetworkSpec
    training: TrainSpec
    lesson: str  # one sentence: what to watch for


PRESETS: dict[str, Preset] = {
    "Modern ReLU + He + Adam": Preset(
        NetworkSpec(hidden=(128, 64), activations="relu", init="he", loss="ce"),
        # η = 0.003: the best validation accuracy after 1, 3 and 10 epochs of 0.001, 0.002 and 0.003
        TrainSpec(dataset="mnist5k", optimizer="adam", lr=3e-3, batch_size=64, epochs=10),
        "The modern recipe: δ stays the same size in every layer and validation accuracy passes 90% "
        "within a few seconds."),
    "3Blue1Brown 784-16-16-10 sigmoid": Preset(
        NetworkSpec(hidden=(16, 16), activations="sigmoid", init="xavier", loss="ce"),
        TrainSpec(dataset="mnist5k", optimizer="momentum", lr=0.5, momentum=0.9, batch_size=32, epochs=20),
        "The network from 3Blue1Brown's videos: 13,002 weights and biases learning to read digits."),
    "Nielsen 784-30-10 sigmoid, quadratic cost": Preset(
        NetworkSpec(hidden=(30,), activations="sigmoid", init="normal", loss="mse"),
        TrainSpec(dataset="mnist5k", optimizer="sgd", lr=3.0, batch_size=10, epochs=30),
        "Nielsen's first network (chapter 1): N(0,1) weights, quadratic cost, SGD with η = 3 and "
        "mini-batches of 10. Learning starts slowly because σ'(z) is small where units saturate."),
    "Deep sigmoid (vanishing)": Preset(
        NetworkSpec(hidden=(32,) * 8, activations="sigmoid", init="xavier", loss="ce"),
        TrainSpec(dataset="mnist5k", optimizer="sgd", lr=0.5, batch_size=64, epochs=20),
        "Eight sigmoid layers: each BP2 step multiplies δ by σ'(z) ≤ 1/4, so the first layers barely "
        "hear the error (dark rows at the top of the δ heatmap) and learning crawls."),
    "Deep tanh, large init (exploding)": Preset(
        NetworkSpec(hidden=(64,) * 8, activations="tanh", init="normal", loss="ce"),
        TrainSpec(dataset="mnist5k", optimizer="sgd", lr=0.01, batch_size=64, epochs=20),
        "N(0,1) weights in 64-wide layers multiply δ by about √64 · E[tanh'] > 1 per layer: the error "
        "signal grows towards the input (bright rows at the top) and training is erratic."),
    "Overfitting: 200 samples, no regularisation": Preset(
        NetworkSpec(hidden=(256, 256), activations="relu", init="he", loss="ce"),
        TrainSpec(dataset="mnist5k", train_size=200, optimizer="adam", lr=1e-3, batch_size=20, epochs=150),
        "200 training digits and 270,000 weights: training accuracy reaches 100% while validation loss "
        "turns back up. Try weight decay or dropout."),
    "Spiral (2-D): ReLU 32-32-32": Preset(
        NetworkSpec(hidden=(32, 32, 32), activations="relu", init="he", loss="ce"),
        TrainSpec(dataset="spiral", optimizer="adam", lr=0.01, batch_size=32, epochs=300),
        "TensorFlow Playground's hardest set: watch the decision boundary wind itself around the spiral."),
    "Regression: fit y = x²": Preset(
        NetworkSpec(hidden=(16, 16), activations="tanh", init="xavier", loss="mse"),
        TrainSpec(dataset="regression", optimizer="adam", lr=0.01, batch_size=20, epochs=300),
        "The curve-fitting demo: a few tanh units bend a line into a parabola."),
}

DEFAULT_PRESET = "Modern ReLU + He + Adam"
