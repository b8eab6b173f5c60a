"""Loss on a 2-D slice of parameter space (Li et al., 2018): filter-normalised random or PCA directions, the path.

Every surface is C(θc + α d1 + β d2) on a fixed evaluation batch, for points (α, β) around a centre θc.
Fast path: the first weight layer (conv or linear) is linear in its weights and bias, so its output at
θc + α d1 + β d2 is out(θc) + α out(d1) + β out(d2); the three are computed once and shared by every point,
and chunks of points go through the remaining layers together (batched matmul; torch.func.vmap for convs).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import vmap

from ..nn.model import Net, as_targets, build_model, eval_mode, flat_parameters, loss_function
from ..text import _

MEMORY_BUDGET = 2**24  # floats (64 MB) a chunk of grid points may hold at once; smaller chunks stay in cache
GRID_RANGE = (3, 201)
PATH_MARGIN = 0.25  # the path surface extends this share of the path's extent beyond it on every side
EVAL_RNG_SEED = 0  # fixed: every surface_for_dataset call evaluates on the same samples

Progress = Callable[[float], None] | None


class LandscapeError(ValueError):
    """A loss-surface setting a student can fix."""


@dataclass(frozen=True)
class Directions:
    """Two directions in parameter space, flat float32 in model.parameters() order."""

    d1: np.ndarray  # (n_params,)
    d2: np.ndarray  # (n_params,)


@dataclass(frozen=True)
class Surface:
    """C(θc + α d1 + β d2) on a grid."""

    alphas: np.ndarray  # (ga,) coordinates along d1
    betas: np.ndarray  # (gb,) coordinates along d2
    loss: np.ndarray  # (ga, gb), rows = alphas; inf/nan where the network overflowed
    seconds: float  # wall time of the evaluation
    evaluations: int  # grid points evaluated (= ga * gb)


@dataclass(frozen=True)
class PathPCA:
    """The training path in the plane of the two main directions of θ_i − θ_final."""

    directions: Directions  # unit-norm principal directions of the snapshots around the final weights
    coords: np.ndarray  # (n, 2) each snapshot's projection (α_i, β_i); the last one is (0, 0)
    explained: np.ndarray  # (2,) share of Σ‖θ_i − θ_final‖² each direction captures
    steps: np.ndarray  # (n,) the training step of each snapshot
    centre: np.ndarray  # (n_params,) the final weights θ_final, the plane's origin


@dataclass(frozen=True)
class PathSurface:
    """The surface on the PCA plane, with the path's points on it."""

    pca: PathPCA
    surface: Surface  # alphas/betas cover the path plus a margin; (0, 0) is the final weights
    path_loss: np.ndarray  # (n,) loss at each projected snapshot θ_final + α_i d1 + β_i d2


# --- parameters as one flat vector -------------------------------------------------------------
def _unflatten(model: Net, flat) -> list[torch.Tensor]:
    """A flat (n_params,) vector cut into tensors shaped like model.parameters()."""
    shapes = [p.shape for p in model.parameters()]
    flat = torch.as_tensor(np.asarray(flat, dtype=np.float32))
    total = sum(s.numel() for s in shapes)
    if flat.ndim != 1 or flat.numel() != total:
        raise LandscapeError(f"a direction must have one entry per parameter ({total}), got {tuple(flat.shape)}")
    return [t.reshape(s) for t, s in zip(torch.split(flat, [s.numel() for s in shapes]), shapes)]


def random_directions(model: Net, seed: int = 0, conv_directions: bool = False) -> Directions:
    """Two Gaussian directions, filter-normalised: row i of each weight gets the norm of W's row i; biases 0.

    A conv front end's filters stay fixed unless conv_directions: the slice then moves the fully connected
    layers only, and their input features are computed once instead of once per grid point (seconds, not
    minutes, for the default model).
    """
    generator = torch.Generator().manual_seed(seed)
    n_front = 2 * len(model.convs)  # conv weights and biases come first in model.parameters()
    pair = []
    for _direction in range(2):
        parts = []
        for i, p in enumerate(model.parameters()):
            w = p.detach()
            if w.ndim == 1 or (i < n_front and not conv_directions):  # Li et al.'s ignore-bias option
                parts.append(torch.zeros(w.numel()))
                continue
            d = torch.randn(w.shape, generator=generator)
            rows_w, rows_d = w.reshape(len(w), -1), d.reshape(len(d), -1)  # (out units or filters, fan-in)
            scale = rows_w.norm(dim=1) / rows_d.norm(dim=1).clamp_min(1e-12)
            parts.append((rows_d * scale[:, None]).reshape(-1))
        pair.append(torch.cat(parts).numpy())
    return Directions(*pair)


def _per_sample(layer, h: torch.Tensor) -> torch.Tensor:
    """A layer without parameters (pool, relu) on (P, N, C, H, W): fold the points into the batch."""
    out = layer(h.flatten(0, 1))
    return out.unflatten(0, h.shape[:2])


def _conv(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.conv2d(h, w, b, padding=2)  # 5x5, padding 2, as in model.Net


_batched_conv = vmap(_conv)  # per-point filters: (P, N, C, H, W), (P, C', C, 5, 5), (P, C') -> (P, N, C', H, W)


def _batched_ce(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Softmax + cross-entropy for P points at once: z (P, N, C), y (N,) -> (P,) batch means.

    Same value as model.loss_function's F.cross_entropy, but log-sum-exp over a short class axis is
    several times faster on CPU than log_softmax, and the cost is a large share of a point's time.
    """
    picked = z.gather(2, y.expand(len(z), -1)[..., None])[..., 0]  # (P, N) z of the true class
    return (torch.logsumexp(z, dim=2) - picked).mean(dim=1)


BATCHED_COSTS = {"ce": _batched_ce}  # others: model.loss_function vmapped over the points


# --- the fast evaluator -----------------------------------------------------------------------
class _Slice:
    """Loss at points θc + α d1 + β d2: first-layer outputs shared, other layers batched over points."""

    def __init__(self, model: Net, centre, directions: Directions, x: torch.Tensor, y: torch.Tensor):
        if x.ndim != 2 or x.shape[1] != model.spec.input_size:
            raise LandscapeError(f"inputs must be (n, {model.spec.input_size}), got {tuple(x.shape)}")
        if len(x) != len(y) or len(x) == 0:
            raise LandscapeError(f"need the same number (>= 1) of inputs and targets, got {len(x)} and {len(y)}")
        self.model, self.y = model, y
        self.cost = BATCHED_COSTS.get(model.spec.loss if not model.spec.regression else "regression") or vmap(
            loss_function(model.spec), in_dims=(0, None))
        thetas = [_unflatten(model, v) for v in (centre, directions.d1, directions.d2)]
        n_front = 2 * len(model.convs)
        self.mlp = not model.convs or not any(p.any() for d in thetas[1:] for p in d[:n_front])
        if model.convs and self.mlp:  # the directions leave the filters alone: features once, then an MLP
            with torch.no_grad():
                x = self._features(x, thetas[0][:n_front])
            thetas = [p[n_front:] for p in thetas]
        with torch.no_grad():  # out(θc), out(d1), out(d2) of the first layer: (3, N, ...)
            first = [self._first(x, p[0], p[1]) for p in thetas]
        self.first = torch.stack(first)
        self.rest = [torch.stack(ps) for ps in zip(*(p[2:] for p in thetas))]  # each (3, *shape)
        per_point = sum(p[0].numel() for p in self.rest) + self._activation_floats(x)
        self.chunk = int(max(1, min(256, MEMORY_BUDGET // max(per_point, 1))))

    def _features(self, x: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
        """The conv front end with the centre's filters: (N, input_size) -> (N, features)."""
        h = x.reshape(len(x), 1, *self.model.spec.image_shape)
        for (w, b), pool in zip(zip(params[::2], params[1::2]), self.model.pools):
            h = pool(F.relu(F.conv2d(h, w, b, padding=2)))
        return h.flatten(1)

    def _first(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if not self.mlp:  # (N, C, H, W)
            return F.conv2d(x.reshape(len(x), 1, *self.model.spec.image_shape), w, b, padding=2)
        return F.linear(x, w, b)  # (N, n_1)

    def _activation_floats(self, x: torch.Tensor) -> int:
        """Floats one point's forward holds: a rough bound from the layer widths."""
        with torch.no_grad():
            sizes = [self.first[0].numel()] + [m.out_features * len(x) for m in self.model.linears]
        return 3 * sum(sizes)

    def _rest_forward(self, params: list[torch.Tensor], h: torch.Tensor) -> torch.Tensor:
        """z^L (P, N, n_L) from the first layer's outputs h (P, N, ...) and each point's parameters (P, ...)."""
        model, it = self.model, iter(params)
        if not self.mlp:
            h = _per_sample(lambda t: model.pools[0](F.relu(t)), h)
            for pool in model.pools[1:]:
                h = _per_sample(lambda t: pool(F.relu(t)), _batched_conv(h, next(it), next(it)))
            h = h.flatten(2)  # (P, N, channels * height * width)
            layers = range(len(model.linears))
        else:
            if len(model.linears) == 1:  # no hidden layer: the first layer's output is z^L
                return h
            h = model.acts[0](h)
            layers = range(1, len(model.linears))
        for l in layers:
            w, b = next(it), next(it)  # (P, n_l, n_(l-1)), (P, n_l)
            h = torch.baddbmm(b[:, None, :], h, w.transpose(1, 2))  # (P, N, n_l): one matmul per point
            if l < len(model.linears) - 1:
                h = model.acts[l](h)
        return h

    @torch.no_grad()
    def losses(self, points: np.ndarray, progress: Progress = None) -> np.ndarray:
        """(P, 2) points (α, β) -> (P,) losses."""
        points = torch.as_tensor(np.asarray(points, dtype=np.float32).reshape(-1, 2))
        out = torch.empty(len(points))
        for start in range(0, len(points), self.chunk):
            coef = torch.cat((torch.ones(len(points[start:start + self.chunk]), 1),
                              points[start:start + self.chunk]), dim=1)  # (P, 3): 1, α, β
            h = torch.tensordot(coef, self.first, dims=1)  # (P, N, ...) out(θc) + α out(d1) + β out(d2)
            params = [torch.tensordot(coef, p, dims=1) for p in self.rest]  # each (P, *shape)
            out[start:start + len(coef)] = self.cost(self._rest_forward(params, h), self.y)
            if progress is not None:
                progress(min(1.0, (start + len(coef)) / len(points)))
        return out.numpy().astype(np.float64)


# --- public surfaces --------------------------------------------------------------------------
def _check_grid(grid: int, span: float) -> None:
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or not GRID_RANGE[0] <= grid <= GRID_RANGE[1]:
        raise LandscapeError(_("grid must be {low}-{high} points per axis, got {grid}").format(
            low=GRID_RANGE[0], high=GRID_RANGE[1], grid=grid))
    if not np.isfinite(span) or span <= 0:
        raise LandscapeError(_("span must be a positive number, got {span}").format(span=span))


def surface_on(model: Net, x: torch.Tensor, y: torch.Tensor, directions: Directions, alphas, betas, *,
               centre=None, progress: Progress = None) -> Surface:
    """C(θc + α d1 + β d2) for every α in alphas and β in betas; θc defaults to the model's weights."""
    alphas, betas = np.asarray(alphas, dtype=np.float64), np.asarray(betas, dtype=np.float64)
    centre = flat_parameters(model) if centre is None else centre
    start = time.perf_counter()
    with eval_mode(model):
        points = np.stack(np.meshgrid(alphas, betas, indexing="ij"), axis=-1).reshape(-1, 2)  # (ga*gb, 2)
        loss = _Slice(model, centre, directions, x, y).losses(points, progress).reshape(len(alphas), len(betas))
    return Surface(alphas, betas, loss, time.perf_counter() - start, len(points))


def surface(model: Net, x: torch.Tensor, y: torch.Tensor, directions: Directions, grid: int = 41,
            span: float = 1.0, progress: Progress = None) -> Surface:
    """The loss on a grid x grid square α, β in [-span, span] around the model's current weights."""
    _check_grid(grid, span)
    axis = np.linspace(-span, span, grid)
    return surface_on(model, x, y, directions, axis, axis, progress=progress)


def evaluation_batch(x, y, samples: int, regression: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """`samples` rows of (x, y) picked with a fixed RNG, as tensors (float inputs, long or float targets)."""
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise LandscapeError(_("evaluation samples must be a whole number >= 1, got {samples}").format(samples=samples))
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y)
    keep = np.random.default_rng(EVAL_RNG_SEED).permutation(len(x))[:samples]
    return torch.tensor(x[keep]), as_targets(y[keep], regression)


def surface_for_dataset(model: Net, dataset_name: str, grid: int = 41, span: float = 1.0, samples: int = 1000,
                        seed: int = 0, progress: Progress = None) -> Surface:
    """The CLI's surface: `samples` validation samples of a dataset, random filter-normalised directions."""
    from ..data.datasets import load_dataset

    data = load_dataset(dataset_name)
    if data.n_inputs != model.spec.input_size:
        raise LandscapeError(f"the model takes {model.spec.input_size} inputs but {dataset_name} has "
                             f"{data.n_inputs}: pick the dataset the model was trained on")
    x, y = evaluation_batch(data.x_val, data.y_val, samples, model.spec.regression)
    return surface(model, x, y, random_directions(model, seed), grid, span, progress)


def interpolate(model: Net, theta0, theta1, x: torch.Tensor, y: torch.Tensor, ts) -> np.ndarray:
    """C((1 − t) θ0 + t θ1) for each t in ts: the 1-D slice from the initial to the trained weights."""
    theta0 = np.asarray(theta0, dtype=np.float32)
    towards = Directions(np.asarray(theta1, dtype=np.float32) - theta0, np.zeros_like(theta0))
    return surface_on(model, x, y, towards, ts, [0.0], centre=theta0).loss[:, 0]


def initial_weights(model: Net, seed: int) -> np.ndarray:
    """The weights training started from: a fresh network of the same spec and seed (the Trainer's init)."""
    return flat_parameters(build_model(model.spec, seed))


# --- the training path ------------------------------------------------------------------------
PCA_CHUNK = 2**16  # parameters per block of the Gram matrix: (k, PCA_CHUNK) float64 moves, a few MB


def pca_path(snapshots: list[tuple[int, np.ndarray]]) -> PathPCA:
    """PCA of θ_i − θ_final over the Trainer's snapshots [(step, flat)]: 2 directions, coordinates, variance.

    Through the Gram matrix G = M Mᵀ (k × k) of the moves M = θ_i − θ_final, built a block of parameters at a
    time: beyond the snapshots themselves it needs k × k floats, one (k, PCA_CHUNK) block and the two
    directions, never the (k, n_params) matrix an SVD of M would copy (three times over in float64).
    If M = U Σ Vᵀ then G = U Σ² Uᵀ, the directions are v_j = Mᵀ u_j / σ_j and the coordinates M v_j = σ_j u_j.
    """
    if len(snapshots) < 3:
        raise LandscapeError(_("the training path needs at least 3 snapshots, got {count}: "
                               "train for a few more steps on the Train page").format(count=len(snapshots)))
    steps = np.array([s for s, _theta in snapshots])
    thetas = [np.asarray(t, dtype=np.float32) for _step, t in snapshots]  # the snapshots themselves, no copy
    centre = thetas[-1]  # uncentred about the final weights, so the path ends at the origin
    gram = np.zeros((len(thetas), len(thetas)))  # (k, k) float64
    for block in _blocks(len(centre)):
        moves = _moves(thetas, centre, block)  # (k, chunk) float64
        gram += moves @ moves.T
    energy = float(np.trace(gram))  # Σ‖θ_i − θ_final‖²
    if energy == 0.0:
        raise LandscapeError(_("the weights never moved: train for a few steps on the Train page"))
    variance, u = np.linalg.eigh(gram)  # ascending
    variance, u = np.clip(variance[::-1][:2], 0.0, None), u[:, ::-1][:, :2]  # σ², u of the two largest
    singular = np.sqrt(variance)
    scale = np.divide(1.0, singular, out=np.zeros(2), where=singular > 0)  # a path on a line has no second axis
    dirs = np.empty((2, len(centre)), dtype=np.float32)  # (2, n_params), orthonormal
    for block in _blocks(len(centre)):
        dirs[:, block] = (u.T @ _moves(thetas, centre, block)) * scale[:, None]
    coords = u * singular  # (k, 2) = M v_j
    flip = np.where(coords[0] > 0, -1.0, 1.0)  # start at negative coordinates: the path walks towards +α, +β
    dirs *= flip[:, None].astype(np.float32)
    coords = coords * flip
    return PathPCA(Directions(dirs[0], dirs[1]), coords, variance / energy, steps, centre)


def _blocks(n: int) -> list[slice]:
    return [slice(start, min(start + PCA_CHUNK, n)) for start in range(0, n, PCA_CHUNK)]


def _moves(thetas: list[np.ndarray], centre: np.ndarray, block: slice) -> np.ndarray:
    """θ_i − θ_final on one block of parameters: (k, block) float64."""
    moves = np.stack([theta[block] for theta in thetas]).astype(np.float64)
    moves -= centre[block]
    return moves


def path_surface(model: Net, x: torch.Tensor, y: torch.Tensor, pca: PathPCA, grid: int = 41,
                 margin: float = PATH_MARGIN, progress: Progress = None) -> PathSurface:
    """The loss on the PCA plane around the final weights, covering the whole path plus a margin."""
    _check_grid(grid, 1.0)
    axes = []
    for k in range(2):
        low, high = min(pca.coords[:, k].min(), 0.0), max(pca.coords[:, k].max(), 0.0)
        pad = margin * max(high - low, 1e-3)
        axes.append(np.linspace(low - pad, high + pad, grid))
    grid_surface = surface_on(model, x, y, pca.directions, axes[0], axes[1], centre=pca.centre, progress=progress)
    on_plane = _Slice(model, pca.centre, pca.directions, x, y)
    with eval_mode(model):
        path_loss = on_plane.losses(pca.coords)
    return PathSurface(pca, grid_surface, path_loss)


__all__ = ["Directions", "Surface", "PathPCA", "PathSurface", "LandscapeError", "random_directions",
           "flat_parameters", "surface", "surface_on", "surface_for_dataset", "evaluation_batch", "interpolate",
           "initial_weights", "pca_path", "path_surface"]
