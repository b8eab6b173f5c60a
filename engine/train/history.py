"""Training history as plain numpy arrays, downsampled as it grows so memory stays bounded."""
from __future__ import annotations

import numpy as np

from ..nn.probes import LAYER_STATS

# Per-step fields (scalars) and per-step per-layer fields (one value per weight layer).
STEP_FIELDS = ("step", "epoch", "loss", "batch_acc")
LAYER_FIELDS = LAYER_STATS + ("update_ratio",)  # the probes' summaries, then ‖ΔW^l‖ / ‖W^l‖


class History:
    """Rows appended per step; once `max_points` is reached the older half is thinned by 2.

    Recent steps stay at full resolution, older ones get progressively sparser, so an hour-long run
    holds at most `max_points` rows.
    """

    def __init__(self, n_layers: int, max_points: int = 4000):
        self.n_layers = n_layers
        self.max_points = max(100, max_points)
        self._steps = np.zeros((self.max_points, len(STEP_FIELDS)))  # rows = recorded steps
        self._layers = np.zeros((self.max_points, len(LAYER_FIELDS), n_layers))
        self._n = 0
        self.epochs: list[dict] = []  # one dict per finished epoch: epoch, step, train/val loss and accuracy

    def __len__(self) -> int:
        return self._n

    def append(self, step: int, epoch: float, loss: float, batch_acc: float, layers: np.ndarray) -> None:
        """Add a step; `layers` has shape (len(LAYER_FIELDS), n_layers)."""
        if self._n == self.max_points:
            self._thin()
        self._steps[self._n] = (step, epoch, loss, batch_acc)
        self._layers[self._n] = layers
        self._n += 1

    def _thin(self) -> None:
        """Keep every other row of the older half, all of the newer half."""
        half = self._n // 2
        keep = np.concatenate((np.arange(0, half, 2), np.arange(half, self._n)))
        k = len(keep)
        self._steps[:k] = self._steps[keep]
        self._layers[:k] = self._layers[keep]
        self._n = k

    def column(self, name: str) -> np.ndarray:
        """A per-step field (n,) or a per-layer field (n, n_layers), as a copy."""
        if name in STEP_FIELDS:
            return self._steps[: self._n, STEP_FIELDS.index(name)].copy()
        return self._layers[: self._n, LAYER_FIELDS.index(name)].copy()

    def as_dict(self) -> dict[str, np.ndarray]:
        """Every field at once."""
        return {name: self.column(name) for name in STEP_FIELDS + LAYER_FIELDS}

    def to_csv(self) -> str:
        """One row per recorded step, one column per field (per-layer fields as name_l1, name_l2, ...)."""
        columns = {name: self.column(name) for name in STEP_FIELDS}
        for name in LAYER_FIELDS:
            values = self.column(name)
            for l in range(self.n_layers):
                columns[f"{name}_l{l + 1}"] = values[:, l]
        by_step = {int(e["step"]): e for e in self.epochs}
        header = list(columns) + ["train_loss", "train_acc", "val_loss", "val_acc"]
        lines = [",".join(header)]
        for i in range(self._n):
            row = [_fmt(columns[c][i]) for c in columns]
            epoch = by_step.get(int(columns["step"][i]), {})
            row += [_fmt(epoch.get(k)) for k in ("train_loss", "train_acc", "val_loss", "val_acc")]
            lines.append(",".join(row))
        return "\n".join(lines) + "\n"


def _fmt(value) -> str:
    if value is None:
        return ""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"
