"""Read a drawing or a photo: preprocess to 28x28, one forward pass, every layer's activations, calibrated a^L."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from ..data.preprocess import MAX_IMAGE_BYTES, load_image, prepare
from ..nn.model import Net
from ..nn.probes import activations
from ..train.calibration import UNSURE_BELOW, soften


@dataclass(frozen=True, eq=False)
class Prediction:
    """What the network made of one image; numpy only (eq=False: arrays do not compare to one bool)."""

    status: str  # "ok" or "blank" (a blank canvas gets no guess)
    label: int | None  # the predicted digit
    probs: np.ndarray | None  # (10,) a^L = softmax(z^L / T), calibrated; sigmoid outputs for an mse network
    pixels: np.ndarray | None  # (28, 28) the input exactly as the network sees it
    layers: list[np.ndarray]  # a^l of every fully connected layer, first hidden layer first, a^L (= probs) last
    feature_maps: list[np.ndarray]  # conv front end: (channels, H, W) after each conv + pool
    inverted: bool  # the image was dark ink on light paper and was inverted
    temperature: float = 1.0  # T the output layer's z^L was divided by (1: not calibrated)
    raw_probs: np.ndarray | None = None  # (10,) softmax(z^L) before calibration, what T = 1 would say
    output_activation: str = "softmax"  # σ of the output layer: only softmax outputs are probabilities

    @property
    def confidence(self) -> float | None:
        return None if self.probs is None else float(self.probs.max())

    @property
    def unsure(self) -> bool:
        """No digit's probability reaches UNSURE_BELOW: the page asks "1 or 2?" (softmax outputs only)."""
        # on the default model's validation digits, calibrated answers under that top probability are right far
        # less often than the ones above it (engine/train/calibration.py, README)
        return self.probs is not None and self.output_activation == "softmax" and self.confidence < UNSURE_BELOW

    def runner_up(self) -> int | None:
        """The second most likely digit (for "Not sure: 1 or 2?")."""
        return None if self.probs is None else int(np.argsort(-self.probs, kind="stable")[1])  # ties: lower digit


BLANK = Prediction("blank", None, None, None, [], [], False)


def predict_image(model: Net, image: np.ndarray, temperature: float = 1.0) -> Prediction:
    """A canvas (H, W, 4) or any image array -> the prediction, with one forward pass.

    `temperature` is the checkpoint's calibration T (calibration.temperature_of); softmax outputs become
    a^L = softmax(z^L / T). Sigmoid outputs (mse networks) are never rescaled.
    """
    prepared = prepare(image)
    if prepared.status == "blank":
        return replace(BLANK, inverted=prepared.inverted)
    x = torch.as_tensor(prepared.pixels.reshape(1, -1), dtype=torch.float32)
    traced = activations(model, x)
    raw = traced["layers"][-1]
    if model.spec.output_activation != "softmax":
        temperature = 1.0
    probs = soften(raw, temperature)
    layers = traced["layers"][:-1] + [probs]
    return Prediction("ok", int(np.argmax(probs)), probs, prepared.pixels, layers, traced["feature_maps"],
                      prepared.inverted, temperature, raw, model.spec.output_activation)


def predict_bytes(model: Net, data: bytes, max_bytes: int = MAX_IMAGE_BYTES, temperature: float = 1.0) -> Prediction:
    """An uploaded file's bytes -> the prediction; raises preprocess.ImageError with a clear message."""
    return predict_image(model, load_image(data, max_bytes=max_bytes), temperature)


def architecture(model: Net) -> list[dict]:
    """The network layer by layer, with the numbers a student needs to recount its parameters.

    Rows, input first: {"kind": "conv", "in", "out", "kernel", "size": (H, W) out, "params"},
    {"kind": "pool", "name", "size": (H, W) out}, {"kind": "flatten", "units"},
    {"kind": "dense", "in", "out", "activation", "params"} (the last dense row is the output layer).
    """
    rows = []
    spec = model.spec
    if model.convs:
        height, width = spec.image_shape
        for conv in model.convs:
            k = conv.kernel_size[0]
            rows.append({"kind": "conv", "in": conv.in_channels, "out": conv.out_channels, "kernel": k,
                         "size": (height, width), "params": conv.weight.numel() + conv.bias.numel()})
            height, width = height // 2, width // 2  # 2x2 pooling halves each side
            rows.append({"kind": "pool", "name": spec.pool, "size": (height, width)})
        rows.append({"kind": "flatten", "units": model.linears[0].in_features})
    names = list(spec.activations) + [spec.output_activation]
    for linear, name in zip(model.linears, names):
        rows.append({"kind": "dense", "in": linear.in_features, "out": linear.out_features, "activation": name,
                     "params": linear.weight.numel() + linear.bias.numel()})
    return rows
