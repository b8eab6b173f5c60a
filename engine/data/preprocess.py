"""Canvas drawing or uploaded image -> one 28x28 MNIST-style input (light ink on dark, centred by mass)."""
from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from ..text import N_, _

SIDE = 28  # MNIST frame
BOX = 20  # LeCun: the digit's longer side is scaled to 20 px, keeping the aspect ratio
CENTRE = 14  # row and column index where the ink's centre of mass lands
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, the weights PIL's "L" uses
BLANK_CONTRAST = 0.15  # ink brighter than the background by less than this is paper, not a stroke
NOISE_FLOOR = 0.25  # ink below this share of the robust max is paper grain, shadow or JPEG noise
MIN_INK_PIXELS = 12  # fewer inked pixels than this is a speck, not a digit
MIN_INK_SHARE = 0.0005  # ... or than this share of the image (a dot on a large photo)
MIN_EXTENT = 0.03  # ink spanning less than this share of the shorter image side is a dot
LIGHT_SIDE = 96  # the light falling on paper is estimated on a copy of the photo this small ...
LIGHT_WINDOW = 1 / 6  # ... as the 90th percentile over a window this share of its side: wider than a stroke
TRIM = 0.001  # share of ink mass ignored at each edge of the bounding box (a few stray noise pixels)
MAX_IMAGE_BYTES = 20_000_000  # the uploader's limit: phone photos are 3-12 MB
MAX_PIXELS = 50_000_000  # below Pillow's bomb warning (89 M pixels); a 48-megapixel phone photo fits
MAX_DECODE_PIXELS = 12_000_000  # decoded at full size (all but JPEG): a 4K screenshot fits; RGBA peaks at 96 MB
MAX_SIDE = 1024  # larger images are shrunk to this before the float pipeline; a pen stroke stays a few px wide
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")  # Pillow decoders we allow; everything else is refused
NOT_AN_IMAGE = N_("this file is not an image (PNG, JPEG, GIF, BMP or WebP)")  # raised as _(NOT_AN_IMAGE)


class ImageError(ValueError):
    """An image a student can replace: unreadable, too large, or of the wrong shape."""


@dataclass(frozen=True, eq=False)  # eq=False: comparing ndarray fields with == has no single truth value
class Prepared:
    """The network's input made from one drawing or photo, with what was found on the way."""

    pixels: np.ndarray | None  # (28, 28) float32 in [0, 1], light ink on dark, max 1; None when blank
    status: str  # "ok" or "blank"
    inverted: bool  # the input was dark ink on light paper and was flipped
    ink_fraction: float  # share of input pixels that carry ink after noise suppression
    bbox: tuple[int, int, int, int] | None  # (top, left, bottom, right) of the ink in the input, end-exclusive


# ---------------------------------------------------------------- input -> ink map


def _as_float(image) -> np.ndarray:
    """Any supported array as float32 in [0, 1], shape (H, W, C) with C in 1-4."""
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise ImageError(_("image must be HxW gray, HxWx3 RGB or HxWx4 RGBA, got shape {shape}").format(
            shape=arr.shape))
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ImageError(_("image must be at least 1x1 pixels, got {height}x{width}").format(
            height=arr.shape[0], width=arr.shape[1]))
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) * np.float32(1 / 255)
    if arr.dtype == bool or np.issubdtype(arr.dtype, np.number):
        out = arr.astype(np.float32)
        if not np.isfinite(out).all():
            raise ImageError(_("image has NaN or infinite values"))
        if out.max() > 1.0:  # integers or floats on the 0-255 scale
            out *= np.float32(1 / 255)
        return np.clip(out, 0.0, 1.0)
    raise ImageError(_("image must hold numbers (uint8 or float), got dtype {dtype}").format(dtype=arr.dtype))


def _luminance(arr: np.ndarray) -> np.ndarray:
    """(H, W, C) -> (H, W) brightness; a non-uniform alpha channel is composited away first."""
    colour = arr[:, :, :3] if arr.shape[2] >= 3 else arr[:, :, :1]
    lum = colour[:, :, 0] if colour.shape[2] == 1 else colour @ LUMA
    if arr.shape[2] not in (2, 4):
        return lum
    alpha = arr[:, :, -1]
    if alpha.min() == alpha.max():  # opaque (or uniformly faded) canvas: colour alone tells ink from paper
        return lum
    opaque = alpha > 0.5
    coverage = float(opaque.mean())
    if coverage >= 0.5:
        # mostly opaque: a picture with transparent margins; fill them with its own typical paper colour
        back = float(np.median(lum[opaque]))
    else:
        # mostly transparent: the opaque pixels are the strokes; fill behind them with the opposite shade
        weight = float(alpha.sum())
        stroke = float((lum * alpha).sum()) / weight
        back = 0.0 if stroke >= 0.5 else 1.0
    return lum * alpha + np.float32(back) * (1.0 - alpha)


def _border(lum: np.ndarray) -> np.ndarray:
    """The outer ring of pixels, about 2% of the shorter side wide: (n,) values that are mostly paper."""
    h, w = lum.shape
    k = max(1, min(h, w) // 50)
    if 2 * k >= min(h, w):
        return lum.ravel()
    return np.concatenate([lum[:k].ravel(), lum[-k:].ravel(), lum[k:-k, :k].ravel(), lum[k:-k, -k:].ravel()])


def _paper(lum: np.ndarray) -> np.ndarray:
    """How bright the paper is under each pixel of a photo: the light, with the dark strokes taken out.

    A phone photo's light is uneven (a lamp on one side, the phone's shadow), so one paper level for the whole
    page reads its darker side as ink. Strokes are thin and the light changes slowly: on a small copy, the 90th
    percentile over a window wider than any stroke is the paper; scaled back up, it is smooth.
    """
    h, w = lum.shape
    scale = min(1.0, LIGHT_SIDE / max(h, w))
    small = Image.fromarray(np.ascontiguousarray(lum, dtype=np.float32)).resize(
        (max(1, round(w * scale)), max(1, round(h * scale))), Image.BILINEAR)
    size = max(3, round(LIGHT_WINDOW * min(small.size)) | 1)  # odd
    paper = small.filter(ImageFilter.RankFilter(size, int(0.9 * size * size)))
    return np.asarray(paper.resize((w, h), Image.BILINEAR), dtype=np.float32)


def _ink(lum: np.ndarray) -> tuple[np.ndarray, bool, np.ndarray | None]:
    """(H, W) brightness -> (ink above the background level, inverted?, gain for uneven light or None).

    Light strokes on a dark canvas are measured against one background level; dark ink on light paper (a
    photo) against the paper's brightness where the ink lies, so uneven light is not mistaken for a stroke.
    The gain evens out the strokes afterwards: the same pen is half as dark, in absolute terms, where half
    the light falls.
    """
    background = float(np.median(_border(lum)))
    inverted = background > 0.5  # bright border: dark ink on light paper
    if inverted:
        paper = _paper(lum)
        return np.maximum(paper - lum, 0.0), True, np.float32(paper.max()) / np.maximum(paper, np.float32(0.05))
    return np.maximum(lum - np.float32(background), 0.0), False, None


def _robust_max(ink: np.ndarray, k: int) -> float:
    """The k-th largest ink value: a few hot pixels or specks cannot set the scale."""
    flat = ink.ravel()
    candidates = flat[flat > 0.01]
    if candidates.size < k:
        return 0.0
    return float(np.partition(candidates, candidates.size - k)[candidates.size - k])


def _span(mass: np.ndarray) -> tuple[int, int]:
    """Start and exclusive end of a 1-D ink profile, ignoring TRIM of the mass at each end."""
    cumulative = np.cumsum(mass, dtype=np.float64)
    total = cumulative[-1]
    start = int(np.searchsorted(cumulative, TRIM * total, side="right"))
    end = int(np.searchsorted(cumulative, (1.0 - TRIM) * total, side="left")) + 1
    return start, max(end, start + 1)


# ---------------------------------------------------------------- ink map -> 28x28


def _scale_to_box(crop: np.ndarray) -> np.ndarray:
    """Resize so the longer side is BOX px, aspect kept; Lanczos on a float image anti-aliases."""
    h, w = crop.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # PIL wants (width, height)
    image = Image.fromarray(np.ascontiguousarray(crop, dtype=np.float32))  # float32 (h, w) -> mode "F"
    resized = image.resize(size, Image.LANCZOS)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, None)  # Lanczos rings slightly below 0


def _centre_by_mass(piece: np.ndarray) -> np.ndarray:
    """Paste (h, w) into (28, 28) so its centre of mass lands on (CENTRE, CENTRE); ink off the frame is cut."""
    h, w = piece.shape
    total = float(piece.sum())
    cy = float(piece.sum(axis=1) @ np.arange(h)) / total
    cx = float(piece.sum(axis=0) @ np.arange(w)) / total
    top, left = round(CENTRE - cy), round(CENTRE - cx)  # where the piece's (0, 0) goes
    frame = np.zeros((SIDE, SIDE), dtype=np.float32)
    r0, r1 = max(0, top), min(SIDE, top + h)
    c0, c1 = max(0, left), min(SIDE, left + w)
    frame[r0:r1, c0:c1] = piece[r0 - top:r1 - top, c0 - left:c1 - left]
    return frame


def prepare(image: np.ndarray) -> Prepared:
    """Gray, RGB or RGBA (uint8 or float) -> a centred 28x28 input, or status "blank" when nothing is drawn."""
    lum = _luminance(_as_float(image))
    ink, inverted, gain = _ink(lum)
    n = ink.size
    k = max(MIN_INK_PIXELS, math.ceil(MIN_INK_SHARE * n))
    peak = _robust_max(ink, k)
    blank = Prepared(None, "blank", inverted, 0.0, None)
    if peak < BLANK_CONTRAST:  # empty canvas, faint noise, or a speck of a few pixels
        return blank
    ink[ink < NOISE_FLOOR * peak] = 0.0
    if gain is not None:  # paper and noise are gone: give a stroke the same strength in dim and bright light
        ink *= gain
        peak = max(_robust_max(ink, k), 1e-6)
    np.minimum(ink * np.float32(1.0 / peak), 1.0, out=ink)  # stretch: the robust max becomes 1
    top, bottom = _span(ink.sum(axis=1))
    left, right = _span(ink.sum(axis=0))
    fraction = float(np.count_nonzero(ink)) / n
    if max(bottom - top, right - left) < max(3, MIN_EXTENT * min(ink.shape)):  # a dot, not a digit
        return Prepared(None, "blank", inverted, fraction, (top, left, bottom, right))
    piece = _scale_to_box(ink[top:bottom, left:right])
    if piece.max() <= 0:
        return blank
    frame = _centre_by_mass(piece)
    frame /= frame.max()
    return Prepared(frame, "ok", inverted, fraction, (top, left, bottom, right))


# ---------------------------------------------------------------- bytes -> array


def _megabytes(n: int) -> str:
    """Bytes as MB rounded up to one decimal, '40' or '5.1' (never rounds an over-limit size down)."""
    mb = math.ceil(n / 100_000) / 10
    return f"{mb:g}"


def load_image(data: bytes, max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode uploaded bytes to a uint8 array (H, W), (H, W, 3) or (H, W, 4), at most MAX_SIDE px a side.

    The size is read from the header before anything is decoded; JPEG photos are decoded at 1/2, 1/4 or
    1/8 scale straight away (Pillow's draft), other formats only up to MAX_DECODE_PIXELS, then shrunk.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError(_("image data must be bytes, got {kind}").format(kind=type(data).__name__))
    data = bytes(data)
    if len(data) > max_bytes:
        raise ImageError(_("image is {size} MB; the limit is {limit} MB").format(
            size=_megabytes(len(data)), limit=_megabytes(max_bytes)))
    if not data:
        raise ImageError(_("the file is empty"))
    try:
        with warnings.catch_warnings():  # Pillow only warns between its two bomb limits: make it refuse
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # open() reads only the header, so the pixel count is checked before anything is decompressed
            img = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(_("image claims more than {limit:,} pixels (a decompression bomb?)").format(
            limit=max_pixels)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageError(_(NOT_AN_IMAGE)) from None
    width, height = img.size
    if width * height > max_pixels:
        raise ImageError(_("image is {width}x{height} = {pixels:,} pixels; the limit is {limit:,}").format(
            width=width, height=height, pixels=width * height, limit=max_pixels))
    if width < 1 or height < 1:
        raise ImageError(_("image is {width}x{height} pixels; it needs at least 1x1").format(
            width=width, height=height))
    try:
        img.seek(0)  # animated GIF / WebP: the first frame only
        if img.format in ("JPEG", "MPO") and max(width, height) > MAX_SIDE:  # MPO: phones' multi-picture JPEG
            scale = MAX_SIDE / max(width, height)  # draft keeps both sides at least this large
            img.draft(img.mode, (math.ceil(width * scale), math.ceil(height * scale)))
        if img.size[0] * img.size[1] > MAX_DECODE_PIXELS:
            raise ImageError(_("image is {width}x{height} pixels, too many to decode as {format}; "
                               "the limit is {limit:,} pixels (a JPEG may be larger)").format(
                                   width=width, height=height, format=img.format, limit=MAX_DECODE_PIXELS))
        img.load()
        img = _shrink(_to_uint8(img))
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError) as exc:
        if isinstance(exc, ImageError):
            raise
        raise ImageError(_("the image file is damaged or cut short ({error})").format(error=exc)) from None
    try:
        img = ImageOps.exif_transpose(img)  # phone photos store "rotate 90" in EXIF instead of rotating pixels
    except (OSError, SyntaxError, ValueError, IndexError, TypeError, KeyError):
        pass  # unreadable EXIF: keep the pixels as stored rather than refuse the photo
    return np.array(img, dtype=np.uint8)


def _shrink(img: Image.Image) -> Image.Image:
    """At most MAX_SIDE px a side: an integer box average, so thin strokes fade instead of vanishing."""
    factor = math.ceil(max(img.size) / MAX_SIDE)
    return img.reduce(factor) if factor > 1 else img


def _to_uint8(img: Image.Image) -> Image.Image:
    """A decoded Pillow image as uint8 L, RGB or RGBA, keeping transparency where the file has it."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16-bit or float gray: scale, do not clip at 255
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") else max(float(arr.max()), 1.0)
        gray = Image.fromarray(np.clip(np.rint(arr / top * 255), 0, 255).astype(np.uint8))
        gray.info = img.info
        return gray
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        return img if img.mode == "RGBA" else img.convert("RGBA")
    if img.mode in ("1", "L"):
        return img if img.mode == "L" else img.convert("L")
    return img if img.mode == "RGB" else img.convert("RGB")


def prepare_file(path: str | Path, max_bytes: int = MAX_IMAGE_BYTES) -> Prepared:
    """Read an image file and prepare it (the CLI's `predict`)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # one byte more than allowed is enough to refuse
            size = path.stat().st_size
    except OSError as exc:
        raise ImageError(_("cannot read {path}: {reason}").format(path=path, reason=exc.strerror or exc)) from None
    if size > max_bytes:
        raise ImageError(_("image is {size} MB; the limit is {limit} MB").format(
            size=_megabytes(size), limit=_megabytes(max_bytes)))
    return prepare(load_image(data, max_bytes=max_bytes))
