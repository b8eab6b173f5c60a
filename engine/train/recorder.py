"""What the Trainer measures every step: δ, ‖∂C/∂W‖, activation statistics, ‖ΔW‖/‖W‖ of every layer.

The trainer calls three hook points per step (miniai's callbacks, without the indirection): rows() before
forward/backward (where this step's a^l, z^L and ∂C/∂z^l go), before_update() between backward and the
optimizer step, after_update() after it. Steps are summarised FLUSH_EVERY at a time into the History.
"""
from __future__ import annotations

import math

import torch

from ..nn.model import Net
from ..nn.probes import summarize, weight_grad_norms
from ..nn.spec import NetworkSpec
from .history import History

FLUSH_EVERY = 8  # steps summarised together (probes.summarize): 16 or 32 measured no faster (bigger, colder buffers)
RATIO_EVERY = 16  # the update/weight ratio moves slowly: measured every 16th step, carried in between


class StepBuffer:
    """FLUSH_EVERY steps of one batch size, as one (K, B, n_l) tensor per layer for Probe.outputs and grads.

    The explicit step writes each step's a^l, z^L and δ^l straight into its rows (an autograd step copies
    them in right after backward, while still in the CPU cache); the summaries then read contiguous blocks.
    """

    def __init__(self, widths: tuple[int, ...], batch: int, steps: int = FLUSH_EVERY):
        self.batch = batch
        self.outputs = [torch.empty(steps, batch, n) for n in widths]
        self.grads = [torch.empty(steps, batch, n) for n in widths]
        # step k's rows: ([a^1, ..., z^L], [∂C/∂z^1, ..., ∂C/∂z^L]), each (B, n_l)
        self.steps = [([t[k] for t in self.outputs], [t[k] for t in self.grads]) for k in range(steps)]

    @staticmethod
    def bytes_for(widths: tuple[int, ...], batch: int, steps: int = FLUSH_EVERY) -> int:
        """What a buffer of `steps` steps of this batch size holds: a^l and δ^l of every layer, float32."""
        return 2 * steps * batch * sum(widths) * 4

    def first(self, k: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The first k steps' outputs and gradients, (k, B, n_l) per layer (views: read before overwriting)."""
        return [t[:k] for t in self.outputs], [t[:k] for t in self.grads]


class Recorder:
    """Per-layer measurements of every training step, summarised into a History FLUSH_EVERY steps at a time."""

    def __init__(self, model: Net, network: NetworkSpec, history: History, clock: "EpochClock",
                 enabled: bool = True):
        self.network, self.history, self.clock = network, history, clock  # clock: step -> epoch
        self.enabled = enabled  # False: the buffer still receives a^l and δ^l (the explicit step needs rows)
        self.model = model
        self.weights = [linear.weight for linear in model.linears]  # W^l, l = 1..L
        self.before = [torch.empty_like(w) for w in self.weights]  # W^l before a measured step
        self.pending: list[tuple] = []  # (step, y, ‖∂C/∂W^l‖, loss, update ratio) of steps not yet summarised
        self.buffers: dict[int, StepBuffer] = {}  # by batch size: the full one, and a smaller last batch; no others
        self.buffer: StepBuffer | None = None  # the one the pending steps are in
        self.ratio = torch.full((len(self.weights),), math.nan)  # last measured ‖ΔW^l‖ / ‖W^l‖
        self.measuring = False  # this step's ‖ΔW‖ is measured

    def rows(self, batch: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Where the next step's a^l and z^L, and ∂C/∂z^l go: the next free rows of this batch size's buffer."""
        if self.buffer is None or self.buffer.batch != batch:
            self.flush()  # the pending steps had another batch size
            if batch not in self.buffers:
                if len(self.buffers) >= 2:  # a new batch size (a retune): only the current one is still needed
                    self.buffers = {} if self.buffer is None else {self.buffer.batch: self.buffer}
                self.buffers[batch] = StepBuffer(self.network.widths, batch, FLUSH_EVERY if self.enabled else 1)
            self.buffer = self.buffers[batch]
        return self.buffer.steps[len(self.pending)]  # without recording: always the first

    def retune(self) -> None:
        """The batch size changes: summarise the pending steps and free every buffer (the next step makes its own)."""
        self.flush()
        self.buffers, self.buffer = {}, None

    @property
    def buffer_bytes(self) -> int:
        """What the step buffers hold now."""
        return sum(StepBuffer.bytes_for(self.network.widths, b.batch, len(b.steps)) for b in self.buffers.values())

    def before_update(self, step: int, y: torch.Tensor, loss: float) -> None:
        """After backward, before the optimizer moves W: ‖∂C/∂W^l‖ while the gradients are hot; W^l if measured.

        `step` is the number this step gets (1 for the first).
        """
        if not self.enabled:
            return
        self.measuring = (step - 1) % RATIO_EVERY == 0
        if self.measuring:
            torch._foreach_copy_(self.before, self.weights)
        self.pending.append((step, y, weight_grad_norms(self.model), loss, self.ratio))

    @torch.no_grad()
    def after_update(self) -> None:
        """After the optimizer step: ‖ΔW^l‖ / ‖W^l‖ on a measured step; summarise a full buffer."""
        if not self.enabled:
            return
        if self.measuring:
            torch._foreach_sub_(self.before, self.weights)  # now −ΔW^l
            moved = torch.stack(torch._foreach_norm(self.before))
            self.ratio = moved / torch.stack(torch._foreach_norm(self.weights)).clamp_min(1e-12)
            self.pending[-1] = self.pending[-1][:4] + (self.ratio,)
        if len(self.pending) >= FLUSH_EVERY:
            self.flush()

    @torch.no_grad()
    def flush(self) -> None:
        """Summarise the pending steps into the history."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        steps, ys, grad_norms, losses, ratios = zip(*pending)
        outputs, grads = self.buffer.first(len(pending))
        stats = summarize(self.network, outputs, grads, torch.stack(grad_norms))  # (K, len(LAYER_STATS), L)
        rows = torch.cat((stats, torch.stack(ratios)[:, None, :]), dim=1).numpy()
        if self.network.regression:
            accuracy = [math.nan] * len(pending)
        else:  # outputs[-1] is z^L
            accuracy = (outputs[-1].argmax(-1) == torch.stack(ys)).float().mean(1).tolist()
        for k, step in enumerate(steps):
            self.history.append(step, self.clock.epoch(step), losses[k], accuracy[k], rows[k])


class EpochClock:
    """Epochs from step counts, across batch-size changes: the epochs done at the last change plus the steps since."""

    def __init__(self, steps_per_epoch: int):
        self.steps_per_epoch, self.base_epoch, self.base_step = steps_per_epoch, 0.0, 0

    def epoch(self, step: int) -> float:
        return self.base_epoch + (step - self.base_step) / self.steps_per_epoch

    def rebase(self, step: int, steps_per_epoch: int) -> None:
        """From `step` on, an epoch has `steps_per_epoch` steps (a new batch size)."""
        self.base_epoch, self.base_step, self.steps_per_epoch = self.epoch(step), step, steps_per_epoch


__all__ = ["FLUSH_EVERY", "RATIO_EVERY", "StepBuffer", "Recorder", "EpochClock"]
