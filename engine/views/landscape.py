"""The Loss surface page's one engine call: the random slice, the training path and the 1-D line, as one record."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .surface import (LandscapeError, PathSurface, Surface, evaluation_batch, flat_parameters, initial_weights,
                        interpolate, path_surface, pca_path, random_directions, surface)
from ..nn.model import Net
from ..text import _

# t on the line from the initial (0) to the trained (1) weights, a bit beyond both; steps of 0.025 put 0 and 1 on it
LINE_T = np.linspace(-0.25, 1.25, 61)
Report = Callable[[float, str], None] | None  # (share of the whole work done, what is being computed)


@dataclass(frozen=True)
class LandscapeView:
    """Everything the page draws for one model and one set of settings."""

    random: Surface  # the loss on two random filter-normalised directions around the weights
    path: PathSurface | None  # the loss on the training path's PCA plane; None without snapshots or when it failed
    path_problem: str | None  # why there is no path surface, in one sentence (None when there is one or none asked)
    ts: np.ndarray  # (61,) positions on the line θ(t) = (1 − t) θ_init + t θ_trained
    line: np.ndarray  # (61,) the loss at each t
    centre_loss: float  # C at α = β = 0: the network itself
    lowest: float  # the smallest finite loss on the random grid
    highest: float  # the largest finite loss on the random grid
    overflowed: bool  # some grid points gave inf or NaN (drawn as gaps)


def _share(report: Report, start: float, share: float, text: str):
    """A landscape progress callback (fraction of one part done) mapped onto the whole computation."""
    if report is None:
        return None
    return lambda done: report(min(1.0, start + share * done), text)


def loss_landscape(model: Net, x_all, y_all, *, grid: int, span: float, samples: int, seed: int,
                   snapshots: list[tuple[int, np.ndarray]] | None = None, init_seed: int = 0,
                   report: Report = None) -> LandscapeView:
    """The random slice, the path surface (when the training path's snapshots are given) and the 1-D line.

    Without snapshots the line starts at a fresh network built with init_seed (the weights training started from).
    """
    x, y = evaluation_batch(np.asarray(x_all), np.asarray(y_all), samples, model.spec.regression)
    share = 0.45 if snapshots is not None else 0.9
    random = surface(model, x, y, random_directions(model, int(seed)), grid, span,
                     progress=_share(report, 0.0, share, _("Random directions…")))
    path, problem = None, None
    if snapshots is not None:
        try:
            path = path_surface(model, x, y, pca_path(snapshots), grid,
                                progress=_share(report, share, share, _("Training path (PCA directions)…")))
        except LandscapeError as exc:
            problem = str(exc)
        theta0 = snapshots[0][1]
    else:
        theta0 = initial_weights(model, int(init_seed))
    line = interpolate(model, theta0, flat_parameters(model), x, y, LINE_T)
    finite = random.loss[np.isfinite(random.loss)]
    return LandscapeView(
        random=random, path=path, path_problem=problem, ts=LINE_T, line=line,
        centre_loss=float(random.loss[len(random.alphas) // 2, len(random.betas) // 2]),
        lowest=float(finite.min()) if finite.size else float("nan"),
        highest=float(finite.max()) if finite.size else float("nan"),
        overflowed=bool(finite.size < random.loss.size))
