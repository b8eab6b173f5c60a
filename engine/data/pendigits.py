"""Real pen-written digits (UCI pendigits) drawn the way the Draw page's canvas draws, then read like a drawing.

Each digit in the file is 8 (x, y) points along the pen's path, scaled so its larger side spans 0..100,
y pointing up. We draw a white pen stroke through them on a black canvas (round joints and caps, as
the canvas's freehand pen does), at a pen width the canvas's slider offers, and hand the picture to
preprocess.prepare, so these digits reach the network exactly as a student's drawing does.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .cache import cached

DATA_FILE = Path(__file__).resolve().parents[2] / "assets" / "data" / "pendigits.tra"
CANVAS = 308  # px, the Draw page's canvas
SPAN = 200  # px the digit's larger side spans on that canvas: about two thirds of it, as people draw
PEN_WIDTHS = (6, 40)  # the Draw page's pen-width slider, min and max
PEN_DEFAULT = 20  # ... and its starting value
RENDER_WIDTHS = (10, 14, 18, 22, 26, 30)  # px, the slider's everyday middle; each digit gets one at random
WIDTH_SEED = 90_210  # fixed: every run renders every digit with the same pen
POINTS = 8  # (x, y) pairs per digit in the file
RENDER_VERSION = 1  # bump when the rendering changes: the disk cache (cache.py) is keyed by it and the file's bytes


class PendigitsError(ValueError):
    """The pendigits file is missing or not in the expected format."""


def parse(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The file's lines -> points (n, 8, 2) float32 with y up, labels (n,) int64."""
    rows = [line.replace(",", " ").split() for line in text.splitlines() if line.strip()]
    try:
        table = np.array(rows, dtype=np.int64)
    except ValueError:
        raise PendigitsError("every line must hold 17 whole numbers: 8 (x, y) points, then the digit") from None
    if table.ndim != 2 or table.shape[1] != 2 * POINTS + 1:
        raise PendigitsError("every line must hold 17 whole numbers: 8 (x, y) points, then the digit")
    if table[:, :-1].min() < 0 or table[:, :-1].max() > 100 or not np.isin(table[:, -1], np.arange(10)).all():
        raise PendigitsError("points must lie in 0..100 and labels in 0..9")
    return table[:, :-1].reshape(-1, POINTS, 2).astype(np.float32), table[:, -1]


def canvas_points(points: np.ndarray) -> np.ndarray:
    """(8, 2) file coordinates (0..100, y up) -> canvas pixels (y down), the digit centred, larger side SPAN."""
    xy = points.astype(np.float64) * (SPAN / 100.0)
    xy[:, 1] = SPAN - xy[:, 1]  # the file's y points up, the screen's down
    centre = (xy.min(axis=0) + xy.max(axis=0)) / 2
    return xy + (CANVAS / 2 - centre)


def render_stroke(points: np.ndarray, width: float) -> np.ndarray:
    """One pen stroke through canvas points (k, 2) as the canvas shows it: (CANVAS, CANVAS) uint8, white on black."""
    from PIL import Image, ImageDraw  # only when the cache is built: a command that reads it never loads PIL

    image = Image.new("L", (CANVAS, CANVAS), 0)
    pen = ImageDraw.Draw(image)
    path = [tuple(p) for p in np.asarray(points, dtype=np.float64)]
    if len(path) > 1:
        pen.line(path, fill=255, width=int(round(width)), joint="curve")  # round joints
    r = width / 2
    for x, y in path:  # round caps at the ends, and round dots where PIL's joints are square-ish
        pen.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(image)


def pen_widths(n: int) -> np.ndarray:
    """The pen width each of n digits is drawn with (fixed by WIDTH_SEED)."""
    return np.random.default_rng(WIDTH_SEED).choice(RENDER_WIDTHS, size=n)


def render(points: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """(n, 8, 2) file points and (n,) pen widths -> (n, 784) float32 inputs in [0, 1], prepared like a drawing."""
    from .preprocess import SIDE, prepare  # PIL, only when the cache is built

    out = np.zeros((len(points), SIDE * SIDE), dtype=np.float32)
    for i, (digit, width) in enumerate(zip(points, widths)):
        prepared = prepare(render_stroke(canvas_points(digit), float(width)))
        if prepared.status != "ok":  # cannot happen for a 200 px digit drawn with a >= 6 px pen
            raise PendigitsError(f"digit {i} rendered blank")
        out[i] = prepared.pixels.ravel()
    return out


@lru_cache(maxsize=1)
def load_raw(path: str = str(DATA_FILE)) -> tuple[np.ndarray, np.ndarray]:
    """All 7,494 digits rendered and prepared: x (n, 784) float32 in [0, 1], y (n,) int64 (cached)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PendigitsError(f"cannot read the pendigits file {path}: {exc.strerror or exc}") from None
    points, labels = parse(data.decode("ascii", errors="replace"))
    stored = cached("pendigits", data + f"render-v{RENDER_VERSION}".encode(),
                    lambda: {"x": render(points, pen_widths(len(points)))})  # about 10-20 s on one core
    return stored["x"], labels


__all__ = ["PendigitsError", "PEN_WIDTHS", "PEN_DEFAULT", "parse", "canvas_points", "render_stroke", "render",
           "load_raw"]
