"""engine.data.augment: a distorted batch keeps its shape, range and row order (each row's label still fits it),
keeps a digit near the centre (a ±1.7 px shift) and turns it by about ±15°, and repeats exactly under a seed.
The stroke-width step is checked against dilation and erosion written out here in numpy."""
import numpy as np
import pytest
import torch

from engine.data.augment import augment_images

SIDE = 28


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def bar(horizontal: bool, length: int = 16, width: int = 4) -> np.ndarray:
    """A bar centred on the image's centre (13.5, 13.5) when length and width are even, as (28, 28) in [0, 1]."""
    image = np.zeros((SIDE, SIDE), np.float32)
    lo, hi = SIDE // 2 - length // 2, SIDE // 2 - length // 2 + length
    across = slice(SIDE // 2 - width // 2, SIDE // 2 - width // 2 + width)
    if horizontal:
        image[across, lo:hi] = 1.0
    else:
        image[lo:hi, across] = 1.0
    return image


def batch(images) -> torch.Tensor:
    return torch.tensor(np.stack([np.asarray(i, np.float32).reshape(-1) for i in images]))


def centre_and_angle(image: np.ndarray) -> tuple[float, float, float]:
    """(row, column) centre of mass and the angle in degrees of the ink's long axis from horizontal (moments)."""
    rows, cols = np.mgrid[:image.shape[0], :image.shape[1]]
    mass = image.sum()
    r, c = (rows * image).sum() / mass, (cols * image).sum() / mass
    mu_rr = ((rows - r) ** 2 * image).sum() / mass
    mu_cc = ((cols - c) ** 2 * image).sum() / mass
    mu_rc = ((rows - r) * (cols - c) * image).sum() / mass
    return r, c, float(np.degrees(0.5 * np.arctan2(2 * mu_rc, mu_cc - mu_rr)))


def dilated(image: np.ndarray) -> np.ndarray:
    """The largest value in each pixel's 3x3 neighbourhood (inside the image)."""
    padded = np.pad(image, 1, constant_values=-np.inf)
    return np.max([padded[i:i + SIDE, j:j + SIDE] for i in range(3) for j in range(3)], axis=0)


def eroded(image: np.ndarray) -> np.ndarray:
    """The smallest value over the pixel and its neighbours above and to the left (inside the image)."""
    padded = np.pad(image, ((1, 0), (1, 0)), constant_values=np.inf)
    return np.min([padded[i:i + SIDE, j:j + SIDE] for i in range(2) for j in range(2)], axis=0)


def test_the_batch_keeps_its_shape_type_and_range():
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.uniform(0, 1, (16, SIDE * SIDE)), dtype=torch.float32)
    out = augment_images(x, (SIDE, SIDE), seeded())
    assert out.shape == (16, SIDE * SIDE) and out.dtype == torch.float32
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert not torch.equal(out, x)  # something was distorted
    digits = augment_images(torch.rand(5, 64, generator=seeded(1)), (8, 8), seeded(), strength=2.0)
    assert digits.shape == (5, 64) and 0.0 <= float(digits.min()) and float(digits.max()) <= 1.0


def test_the_input_is_not_changed_and_a_blank_image_stays_blank():
    x = batch([bar(True), np.zeros((SIDE, SIDE))])
    before = x.clone()
    out = augment_images(x, (SIDE, SIDE), seeded())
    assert torch.equal(x, before)
    assert float(out[1].abs().max()) == 0.0  # no ink from nowhere


def test_the_same_seed_gives_the_same_batch_and_the_generator_moves_on():
    x = batch([bar(True), bar(False)] * 4)
    first, again = augment_images(x, (SIDE, SIDE), seeded(3)), augment_images(x, (SIDE, SIDE), seeded(3))
    assert torch.equal(first, again)
    assert not torch.equal(first, augment_images(x, (SIDE, SIDE), seeded(4)))
    generator = seeded(3)
    augment_images(x, (SIDE, SIDE), generator)
    assert not torch.equal(first, augment_images(x, (SIDE, SIDE), generator))  # the next batch, new distortions


def test_at_strength_zero_only_the_stroke_width_changes_each_row_from_its_own_image():
    """No rotation, scale, shear or shift: each row is its own image as drawn, thickened or thinned."""
    rng = np.random.default_rng(2)
    images = [np.clip(bar(i % 2 == 0, length=8 + i % 9) * rng.uniform(0.5, 1.0), 0, 1) for i in range(30)]
    out = augment_images(batch(images), (SIDE, SIDE), seeded(), strength=0.0).numpy().reshape(-1, SIDE, SIDE)
    seen = set()
    for image, got in zip(images, out):
        variants = {"as drawn": image, "thicker": 0.5 * (image + dilated(image)),
                    "thinner": np.maximum(eroded(image), 0.6 * image)}
        match = [name for name, v in variants.items() if np.allclose(got, v, atol=1e-5)]
        assert len(match) == 1, match
        seen.add(match[0])
    assert seen == {"as drawn", "thicker", "thinner"}  # a third of each, at random


def test_a_digit_stays_near_the_centre_and_turns_by_about_fifteen_degrees():
    """Rotation, scale and shear turn about the centre; the shift (±0.12 of the half-side, ±1.7 px) moves it,
    seen through the inverse of the scale (up to 1.15 x 1.15) and of the shear (0.25: a gain of 1.13)."""
    n = 200
    out = augment_images(batch([bar(True)] * n), (SIDE, SIDE), seeded(5)).numpy().reshape(n, SIDE, SIDE)
    r0, c0, angle0 = centre_and_angle(bar(True))
    assert (r0, c0) == (13.5, 13.5) and angle0 == pytest.approx(0.0, abs=1e-6)
    found = np.array([centre_and_angle(image) for image in out])
    moved = np.hypot(found[:, 0] - r0, found[:, 1] - c0)
    shift = 0.12 * SIDE / 2 * np.sqrt(2)  # the longest shift, diagonal: 2.4 px
    gain = 1.15 * 1.15 * (0.25 + np.sqrt(0.25 ** 2 + 4)) / 2  # largest stretch x the shear's largest singular value
    erosion = np.sqrt(2) / 2  # thinning takes the pixels above and to the left: half a pixel each way at most
    assert moved.max() <= shift * gain + erosion  # 4.3 px: the digit stays in the frame
    assert moved.max() > 1.5  # and shifts do happen
    # a horizontal bar ends up at ±15° of rotation, at most ±16.1° with the shear; pixels blur it a little
    assert np.abs(found[:, 2]).max() <= 19.0
    assert found[:, 2].std() > 5.0 and found[:, 2].min() < -8 and found[:, 2].max() > 8  # turned both ways


def test_rows_keep_their_order_so_each_label_still_fits_its_image():
    """Ones drawn upright and bars lying down alternate: after augmenting, each row still has its own shape."""
    n = 40
    horizontal = np.arange(n) % 2 == 1
    x = batch([bar(bool(h)) for h in horizontal])
    out = augment_images(x, (SIDE, SIDE), seeded(6)).numpy().reshape(n, SIDE, SIDE)
    angles = np.array([centre_and_angle(image)[2] for image in out])
    lying = np.abs(angles) < 45
    np.testing.assert_array_equal(lying, horizontal)


def test_strength_scales_the_distortions():
    n = 100
    x = batch([bar(True)] * n)
    spread = []
    for strength in (0.0, 0.5, 1.0):
        out = augment_images(x, (SIDE, SIDE), seeded(7), strength=strength).numpy().reshape(n, SIDE, SIDE)
        spread.append(np.std([centre_and_angle(image)[2] for image in out]))
    assert spread[0] < 0.5 and spread[0] < spread[1] < spread[2]  # at 0: thinning alone tilts it a hair
