"""Read a drawing or a photo: preprocess to 28x28, one forward pass, every layer's activations."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from .model import Net
from .preprocess import MAX_IMAGE_BYTES, load_image, prepare
from .probes import activations


@dataclass(frozen=True, eq=False)
class Prediction:
    """What the network made of one image; numpy only (eq=False: arrays do not compare to one bool)."""

    status: str  # "ok" or "blank" (a blank canvas gets no guess)
    label: int | None  # the predicted digit
    probs: np.ndarray | None  # (10,) a^L
    pixels: np.ndarray | None  # (28, 28) the input exactly as the network sees it
    layers: list[np.ndarray]  # a^l of every fully connected layer, first hidden layer first, a^L last
    feature_maps: list[np.ndarray]  # conv front end: (channels, H, W) after each conv + pool
    inverted: bool  # the image was dark ink on light paper and was inverted

    @property
    def confidence(self) -> float | None:
        return None if self.probs is None else float(self.probs.max())


BLANK = Prediction("blank", None, None, None, [], [], False)


def predict_image(model: Net, image: np.ndarray) -> Prediction:
    """A canvas (H, W, 4) or any image array -> the prediction, with one forward pass."""
    prepared = prepare(image)
    if prepared.status == "blank":
        return replace(BLANK, inverted=prepared.inverted)
    x = torch.as_tensor(prepared.pixels.reshape(1, -1), dtype=torch.float32)
    traced = activations(model, x)
    probs = traced["layers"][-1]
    return Prediction("ok", int(np.argmax(probs)), probs, prepared.pixels, traced["layers"],
                      traced["feature_maps"], prepared.inverted)


def predict_bytes(model: Net, data: bytes, max_bytes: int = MAX_IMAGE_BYTES) -> Prediction:
    """An uploaded file's bytes -> the prediction; raises preprocess.ImageError with a clear message."""
    return predict_image(model, load_image(data, max_bytes=max_bytes))
