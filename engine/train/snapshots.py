"""The training path for the loss-surface page: the parameters every few steps, within a fixed byte budget."""
from __future__ import annotations

import numpy as np
import torch

from ..nn.model import Net

BUDGET_BYTES = 96 * 2**20  # all of a run's snapshots together: a 10 x 1024 network keeps 3, a 784-128-10 one 60
MIN_POINTS = 4  # the fewest a path keeps whatever the model's size: the PCA plane needs 3 (start, middle, end)
FLOAT_BYTES = 4  # a snapshot is float32


def snapshot_limit(n_params: int, limit: int = 60, budget: int | None = BUDGET_BYTES) -> int:
    """How many snapshots a model of n_params keeps: `limit` (≥ 2), fewer when they would pass `budget` bytes.

    The budget never cuts a path below MIN_POINTS: a model so large that 4 snapshots pass it is for the run's
    own estimate (engine/train/budget.py) to refuse. What the budget gives is even: thinning limit + 1 points
    (odd) to the first and every other one then keeps the newest.
    """
    fits = limit if budget is None else max(MIN_POINTS, budget // (FLOAT_BYTES * max(n_params, 1)) // 2 * 2)
    return max(2, min(limit, fits))


class Snapshots:
    """(step, flat parameters) pairs along a run; the first (the initial weights) is always kept.

    Once there are more than `limit`, every other one after the first is dropped and snapshots are taken
    half as often, so an hour-long run keeps a path of at most `limit` points spread over all of it. The limit
    scales with the model: all points together stay within `budget` bytes (snapshot_limit).
    """

    def __init__(self, model: Net, every: int | None = 5, limit: int = 60, budget: int | None = BUDGET_BYTES):
        self.model = model
        self.n_params = sum(p.numel() for p in model.parameters())
        self.every = None if every is None else max(1, every)  # None: only when asked (take / now)
        self.limit = snapshot_limit(self.n_params, limit, budget)
        self.points: list[tuple[int, np.ndarray]] = []  # (step, (n_params,) float32), in step order
        if every is not None:
            self.take(0)

    @property
    def bytes(self) -> int:
        """What the points hold now."""
        return sum(theta.nbytes for _step, theta in self.points)

    def after_step(self, step: int) -> None:
        """The trainer's hook: a snapshot every `every` steps."""
        if self.every is not None and step % self.every == 0:
            self.take(step)

    def take(self, step: int) -> None:
        self.points.append((step, self._flat()))
        if len(self.points) > self.limit:
            self.points = self.points[:1] + self.points[2::2]
            if self.every is not None:
                self.every *= 2

    @torch.no_grad()
    def _flat(self) -> np.ndarray:
        """The parameters in model.parameters() order, (n_params,) float32, copied once (no torch.cat in between)."""
        flat = np.empty(self.n_params, dtype=np.float32)
        out, start = torch.from_numpy(flat), 0
        for p in self.model.parameters():
            out[start:start + p.numel()].copy_(p.reshape(-1))
            start += p.numel()
        return flat

    def now(self, step: int) -> None:
        """The current parameters as the path's last point (if not already)."""
        if not self.points or self.points[-1][0] != step:
            self.take(step)
