"""Training history as plain numpy arrays: every stretch of the run kept, in bounded memory.

A run of any length is held as at most `max_points` rows. Each row summarises a stretch of consecutive steps
(step_first..step_last) with the mean, min and max of every value over it. While a run is short each row is one
step. When the rows fill up, neighbouring rows are merged in pairs and every row from then on covers twice as many
steps: all rows always cover the same number of steps (the newest may be still filling), so the first steps of a
run are as visible as the last, and a spike inside a stretch survives in its max.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from ..nn.probes import LAYER_STATS

# Per-step fields (scalars) and per-step per-layer fields (one value per weight layer).
STEP_FIELDS = ("step", "epoch", "loss", "batch_acc")
LAYER_FIELDS = LAYER_STATS + ("update_ratio",)  # the probes' summaries, then ‖ΔW^l‖ / ‖W^l‖
SCALARS = STEP_FIELDS[1:]  # the per-step values summarised per row (step itself is the row's span)
STATS = ("mean", "min", "max")
RECENT = 64  # the newest steps' losses, kept one by one (the readout's recent mean)
EPOCH_METRICS = ("train_loss", "train_acc", "val_loss", "val_acc")


class History:
    """Rows of (step_first, step_last, steps, mean/min/max of every value); at most `max_points` rows.

    Memory: 3 int64 plus 3 float32 per value and row, (3 + 3 * (3 + 7 * n_layers)) * 8 bytes at most per row
    whatever the run's length: 1.25 MB for 3 layers at 4000 rows.
    """

    def __init__(self, n_layers: int, max_points: int = 4000):
        self.n_layers = n_layers
        self.max_points = max(100, max_points - max_points % 2)  # even: full rows merge in pairs
        self.width = 1  # steps a full row covers: doubles each time the rows fill up
        n_values = len(SCALARS) + len(LAYER_FIELDS) * n_layers
        self._span = np.zeros((self.max_points, 3), dtype=np.int64)  # step_first, step_last, steps
        self._stats = np.zeros((len(STATS), self.max_points, n_values), dtype=np.float32)  # mean, min, max
        self._sum = np.zeros(n_values)  # the newest row's running sum, in float64
        self._n = 0
        self._latest = np.full(n_values, np.nan)  # the newest step's values, exactly
        self._recent_loss: deque[float] = deque(maxlen=RECENT)
        self.epochs: list[dict] = []  # one dict per finished epoch: epoch, step, train/val loss and accuracy

    def __len__(self) -> int:
        return self._n

    @property
    def last_step(self) -> int:
        """The newest recorded step, 0 before any."""
        return int(self._span[self._n - 1, 1]) if self._n else 0

    def append(self, step: int, epoch: float, loss: float, batch_acc: float, layers: np.ndarray) -> None:
        """Add a step; `layers` has shape (len(LAYER_FIELDS), n_layers)."""
        values = np.concatenate(((epoch, loss, batch_acc), np.asarray(layers, dtype=float).ravel()))
        self._latest = values
        self._recent_loss.append(float(loss))
        mean, low, high = self._stats
        n = self._n
        if n and self._span[n - 1, 2] < self.width:  # the newest row still fills
            row = self._span[n - 1]
            row[1], row[2] = step, row[2] + 1
            self._sum += values
            mean[n - 1] = self._sum / row[2]
            np.fmin(low[n - 1], values, out=low[n - 1])
            np.fmax(high[n - 1], values, out=high[n - 1])
            return
        if n == self.max_points:
            self._halve()
            n = self._n
        self._span[n] = (step, step, 1)
        self._sum[:] = values
        mean[n] = low[n] = high[n] = values
        self._n = n + 1

    def _halve(self) -> None:
        """Merge rows in pairs: half as many rows, each covering twice the steps."""
        n = self._n
        span, *stats = merge(self._span[:n], *self._stats[:, :n], np.arange(0, n, 2))
        k = len(span)
        self._span[:k], self._stats[:, :k] = span, stats
        self._n, self.width = k, self.width * 2

    def _row_values(self, stat: str, name: str) -> np.ndarray:
        """A value field's `stat` per row: (n,) for a scalar, (n, n_layers) for a per-layer field."""
        block = self._stats[STATS.index(stat), :self._n]
        if name in SCALARS:
            return block[:, SCALARS.index(name)].astype(float)
        start = len(SCALARS) + LAYER_FIELDS.index(name) * self.n_layers
        return block[:, start:start + self.n_layers].astype(float)

    def column(self, name: str, stat: str = "mean") -> np.ndarray:
        """A field per row, as a copy: step is each row's last step; a value its mean (or "min", "max") over the row.

        While every row is one step (a short run) this is the field per step.
        """
        if name == "step":
            return self._span[:self._n, 1].copy()
        return self._row_values(stat, name)

    def as_dict(self) -> dict[str, np.ndarray]:
        """Every row at once: step (the last of each row), step_first, steps, and each value as name (its mean),
        name_min and name_max."""
        out = {"step": self._span[:self._n, 1].copy(), "step_first": self._span[:self._n, 0].copy(),
               "steps": self._span[:self._n, 2].copy()}
        for name in SCALARS + LAYER_FIELDS:
            out[name] = self._row_values("mean", name)
            out[f"{name}_min"] = self._row_values("min", name)
            out[f"{name}_max"] = self._row_values("max", name)
        return out

    def latest(self, name: str) -> np.ndarray | float:
        """The newest step's value of a field exactly (not a row's mean): a float, or (n_layers,); NaN before any."""
        if name in SCALARS:
            return float(self._latest[SCALARS.index(name)])
        start = len(SCALARS) + LAYER_FIELDS.index(name) * self.n_layers
        if not self._n:
            return np.full(self.n_layers, np.nan)
        return self._latest[start:start + self.n_layers].copy()

    def recent_loss(self, steps: int) -> list[float]:
        """The last `steps` steps' mini-batch losses (at most RECENT), one by one."""
        return list(self._recent_loss)[-steps:]

    def to_csv(self) -> str:
        """One row per history row, saying what it holds: step_first, step_last and steps (how many), then each
        value's mean, min and max over those steps (per-layer values as name_l1_mean, ...), then the metrics of the
        last epoch that ended within the row."""
        rows = self.as_dict()
        columns = {"step_first": rows["step_first"], "step_last": rows["step"], "steps": rows["steps"],
                   "epoch": rows["epoch_max"]}  # the epoch reached at step_last
        for name in SCALARS[1:] + LAYER_FIELDS:
            for stat in STATS:
                values = rows[name if stat == "mean" else f"{name}_{stat}"]
                if values.ndim == 1:
                    columns[f"{name}_{stat}"] = values
                else:
                    for l in range(self.n_layers):
                        columns[f"{name}_l{l + 1}_{stat}"] = values[:, l]
        ends = [(int(e["step"]), e) for e in self.epochs]
        lines = [",".join(list(columns) + list(EPOCH_METRICS))]
        for i in range(self._n):
            first, last = columns["step_first"][i], columns["step_last"][i]
            ended = [e for step, e in ends if first <= step <= last]
            epoch = ended[-1] if ended else {}
            lines.append(",".join([_fmt(columns[c][i]) for c in columns] + [_fmt(epoch.get(k)) for k in EPOCH_METRICS]))
        return "\n".join(lines) + "\n"


def merge(span: np.ndarray, mean: np.ndarray, low: np.ndarray, high: np.ndarray,
          starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows merged in groups beginning at `starts` (row indices, increasing, the first 0).

    span (n, 3) holds each row's step_first, step_last and steps; mean, min and max have rows on axis 0.
    The groups' span, mean (weighted by the rows' steps), min and max, in the same dtypes.
    """
    ends = np.append(starts[1:], len(span)) - 1
    counts = span[:, 2].astype(float).reshape((-1,) + (1,) * (mean.ndim - 1))
    steps = np.add.reduceat(counts, starts, axis=0)
    with np.errstate(invalid="ignore", over="ignore"):
        merged = np.add.reduceat(mean * counts, starts, axis=0) / steps
    return (np.column_stack((span[starts, 0], span[ends, 1], steps.ravel().astype(np.int64))),
            merged.astype(mean.dtype), np.fmin.reduceat(low, starts, axis=0), np.fmax.reduceat(high, starts, axis=0))


def merge_rows(rows: dict[str, np.ndarray], starts: np.ndarray) -> dict[str, np.ndarray]:
    """History.as_dict()'s rows merged in groups beginning at `starts`: the same keys, one row per group."""
    span = np.column_stack((rows["step_first"], rows["step"], rows["steps"]))
    out = {}
    for name in SCALARS + LAYER_FIELDS:
        if name in rows:
            merged, out[name], out[f"{name}_min"], out[f"{name}_max"] = merge(
                span, rows[name], rows[f"{name}_min"], rows[f"{name}_max"], starts)
    ends = np.append(starts[1:], len(span)) - 1
    out.update(step=rows["step"][ends], step_first=rows["step_first"][starts],
               steps=np.add.reduceat(rows["steps"], starts))
    return out


def _fmt(value) -> str:
    if value is None:
        return ""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"
