"""Random distortions of digit images so a network reads real handwriting, not just MNIST."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def augment_images(x: torch.Tensor, image_shape: tuple[int, int], generator: torch.Generator,
                   strength: float = 1.0) -> torch.Tensor:
    """(B, H*W) in [0,1] -> the same shape: random rotation, scale, shear, shift and stroke width."""
    batch = x.shape[0]
    height, width = image_shape
    images = x.reshape(batch, 1, height, width)

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(batch, generator=generator)

    angle = uniform(-15, 15) * strength * math.pi / 180  # slant people write with
    scale = 1.0 + uniform(-0.15, 0.15) * strength  # MNIST digits are boxed to 20 px; drawings vary
    aspect = 1.0 + uniform(-0.15, 0.15) * strength
    shear = uniform(-0.25, 0.25) * strength
    shift = torch.stack((uniform(-0.12, 0.12), uniform(-0.12, 0.12)), dim=1) * strength  # ±1.7 px in the input's frame; with scale and shear the centre moves up to about 3 px
    cos, sin = torch.cos(angle), torch.sin(angle)
    sx, sy = scale * aspect, scale / aspect
    # inverse map: output grid -> input coordinates, shape (B, 2, 3)
    theta = torch.stack((
        torch.stack((cos / sx, (-sin + shear * cos) / sx, shift[:, 0]), dim=1),
        torch.stack((sin / sy, (cos + shear * sin) / sy, shift[:, 1]), dim=1),
    ), dim=1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    out = F.grid_sample(images, grid, align_corners=False, padding_mode="zeros")

    # stroke width: a third thicker (dilate), a third thinner (erode), a third as drawn
    choice = torch.randint(0, 3, (batch,), generator=generator)
    thick = F.max_pool2d(out, 3, stride=1, padding=1)
    thin = -F.max_pool2d(-out, 2, stride=1, padding=1)[..., :height, :width]
    thin = torch.maximum(thin, 0.6 * out)  # erosion can erase a thin stroke entirely; keep a faint trace
    pick = choice.view(batch, 1, 1, 1)
    out = torch.where(pick == 1, 0.5 * (out + thick), torch.where(pick == 2, thin, out))
    return out.clamp_(0.0, 1.0).reshape(batch, height * width)
