"""What a forward and backward pass of a network on a batch costs in memory, by arithmetic, before anything is built.

`estimate_bytes` is the one estimate: `python -m engine gradients` refuses above MEMORY_LIMIT_BYTES before it
profiles (issue 26, D10: 50 layers of 1024 on a batch of 11,494 reached 9.8 GB and died in the allocator), and
the Train page or a per-session budget can call it with their own copies and limit.
"""
from __future__ import annotations

import math

from ..text import _
from .checkpoint import parameter_count
from .spec import NetworkSpec, SpecError

MEMORY_LIMIT_BYTES = 2 * 1024**3  # 2 GB: what one command may allocate; a classroom server runs many at once
FLOAT_BYTES = 4  # float32 everywhere
# Floats kept per unit and sample by the gradients profile (engine/views/gradients.py): z and a, autograd's saved
# tensors, δ and ∂C/∂a, and the numpy copies of z, a and δ that probes.record returns. Measured: 29-32 bytes per
# unit and sample for sigmoid, tanh and relu stacks (8x512 on 4000 images, 16x256 on 2000), peak RSS growth.
PROFILE_ACTIVATION_COPIES = 8
# Per parameter: the weights, their gradient and the gradient's numpy copy (probes.record's grad_w).
PROFILE_PARAMETER_COPIES = 3
INPUT_COPIES = 3  # the batch's x: numpy's fancy-indexed rows, the float32 tensor, autograd's saved input


class MemoryLimitError(SpecError):
    """A network and batch that would need more memory than the limit (a SpecError: callers already show those)."""


def conv_unit_count(network: NetworkSpec) -> int:
    """Values one sample produces in the conv front end: each feature map before and after pooling (0 without)."""
    units = 0
    if network.conv:
        height, width = network.image_shape
        for channels in network.conv:
            units += channels * height * width  # the 5x5 conv keeps the size (padding 2)
            height, width = height // 2, width // 2
            units += channels * height * width  # after 2x2 pooling
    return units


def unit_count(network: NetworkSpec) -> int:
    """Values one sample produces in the network: conv feature maps (before and after pooling), then n_l per layer."""
    return sum(network.widths) + conv_unit_count(network)


def estimate_bytes(network: NetworkSpec, batch_size: int, *,
                   activation_copies: int = PROFILE_ACTIVATION_COPIES,
                   parameter_copies: int = PROFILE_PARAMETER_COPIES) -> int:
    """Bytes a forward and backward pass of `network` on `batch_size` samples needs, by arithmetic.

    batch_size is the batch really drawn (at most the training set's size). Defaults: the gradients profile.
    For training, parameter_copies is 2 for sgd, 3 for momentum and 4 for adam (its two moments), and
    activation_copies about 4 (no numpy copies of the layers).
    """
    activations = batch_size * unit_count(network) * activation_copies
    parameters = parameter_count(network) * parameter_copies
    inputs = batch_size * network.input_size * INPUT_COPIES
    return (activations + parameters + inputs) * FLOAT_BYTES


def check_memory(network: NetworkSpec, batch_size: int, limit: int = MEMORY_LIMIT_BYTES, **copies) -> int:
    """estimate_bytes, or MemoryLimitError with the estimate, the network and the batch in one sentence."""
    needed = estimate_bytes(network, batch_size, **copies)
    if needed > limit:
        hidden = network.hidden
        raise MemoryLimitError(_("this needs about {needed} of memory ({layers} hidden layers up to {width} units "
                                 "wide on a batch of {batch:,} samples); the limit is {limit}: lower the batch "
                                 "size, the width or the depth").format(
                                     needed=_gigabytes(needed), layers=len(hidden), width=max(hidden, default=0),
                                     batch=batch_size, limit=_gigabytes(limit)))
    return needed


def _gigabytes(n_bytes: int) -> str:
    """2147483648 as '2 GB', 9.8e9 as '9.1 GB' (GiB, as the limit is written)."""
    value = n_bytes / 1024**3
    return f"{value:.0f} GB" if math.isclose(value, round(value)) else f"{value:.1f} GB"


__all__ = ["MEMORY_LIMIT_BYTES", "MemoryLimitError", "estimate_bytes", "check_memory", "conv_unit_count", "unit_count"]
