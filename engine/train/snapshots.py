"""The training path for the loss-surface page: the parameters every few steps, bounded in number."""
from __future__ import annotations

import numpy as np

from ..nn.model import Net, flat_parameters


class Snapshots:
    """(step, flat parameters) pairs along a run; the first (the initial weights) is always kept.

    Once there are more than `limit`, every other one after the first is dropped and snapshots are taken
    half as often, so an hour-long run keeps a path of at most `limit` + 1 points spread over all of it.
    """

    def __init__(self, model: Net, every: int | None = 5, limit: int = 60):
        self.model = model
        self.every = None if every is None else max(1, every)  # None: only when asked (take / now)
        self.limit = max(2, limit)
        self.points: list[tuple[int, np.ndarray]] = []  # (step, (n_params,) float32), in step order
        if every is not None:
            self.take(0)

    def after_step(self, step: int) -> None:
        """The trainer's hook: a snapshot every `every` steps."""
        if self.every is not None and step % self.every == 0:
            self.take(step)

    def take(self, step: int) -> None:
        self.points.append((step, flat_parameters(self.model)))
        if len(self.points) > self.limit:
            self.points = self.points[:1] + self.points[2::2]
            if self.every is not None:
                self.every *= 2

    def now(self, step: int) -> None:
        """The current parameters as the path's last point (if not already)."""
        if not self.points or self.points[-1][0] != step:
            self.take(step)
