"""engine.views.surface against independent references: the model's own loss, an analytic quadratic, a naive loop."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.nn.model import build_model, loss_function
from engine.nn.spec import NetworkSpec, TrainSpec
from engine.views import surface as L


def _data(n_in: int, n: int = 40, classes: int = 3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, n_in, generator=g), torch.randint(0, classes, (n,), generator=g)


@torch.no_grad()
def _naive(model, x, y, directions, alphas, betas, centre=None):
    """Reference: copy θ + α d1 + β d2 into a model and run one forward per point."""
    params = list(model.parameters())
    saved = [p.clone() for p in params]
    centre = L.flat_parameters(model) if centre is None else centre
    cost = loss_function(model.spec)
    out = np.empty((len(alphas), len(betas)))
    model.eval()
    for i, a in enumerate(alphas):
        for j, b in enumerate(betas):
            flat = torch.from_numpy((centre + a * directions.d1 + b * directions.d2).astype(np.float32))
            torch.nn.utils.vector_to_parameters(flat, params)
            out[i, j] = float(cost(model(x), y))
    for p, s in zip(params, saved):
        p.copy_(s)
    return out


MLP = NetworkSpec(input_size=6, hidden=(5, 4), activations=("tanh", "relu"), output_size=3, image_shape=None)
CONV = NetworkSpec(input_size=64, hidden=(7,), output_size=3, conv=(2, 3), pool="avg", image_shape=(8, 8))


@pytest.mark.parametrize("spec", [MLP, CONV, NetworkSpec(input_size=6, hidden=(5,), output_size=3, loss="mse",
                                                         activations=("sigmoid",), image_shape=None)])
def test_centre_is_the_models_loss_and_grid_matches_naive_loop(spec):
    model = build_model(spec, seed=1)
    x, y = _data(spec.input_size)
    d = L.random_directions(model, seed=3, conv_directions=True)
    s = L.surface(model, x, y, d, grid=5, span=0.7)
    with torch.no_grad():
        expected = float(loss_function(spec)(model(x), y))
    assert s.loss.shape == (5, 5) and s.evaluations == 25
    assert s.loss[2, 2] == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(s.loss, _naive(model, x, y, d, s.alphas, s.betas), rtol=1e-4, atol=1e-5)


def test_conv_filters_stay_fixed_by_default_and_the_shortcut_matches_the_loop():
    model = build_model(CONV, seed=1)
    x, y = _data(CONV.input_size)
    d = L.random_directions(model, seed=3)
    n_conv = sum(p.numel() for p in model.convs.parameters())
    assert not d.d1[:n_conv].any() and not d.d2[:n_conv].any() and d.d1[n_conv:].any()
    s = L.surface(model, x, y, d, grid=5, span=0.7)
    np.testing.assert_allclose(s.loss, _naive(model, x, y, d, s.alphas, s.betas), rtol=1e-4, atol=1e-5)


def test_quadratic_toy_model_gives_the_analytic_surface():
    # one linear layer, regression: C = ½ mean (w·x + b − y)² is a quadratic in (α, β)
    spec = NetworkSpec(input_size=3, hidden=(), activations=(), output_size=1, loss="mse", regression=True,
                       image_shape=None)
    model = build_model(spec, seed=0)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(50, 3)), rng.normal(size=(50, 1))
    d = L.Directions(rng.normal(size=4).astype(np.float32), rng.normal(size=4).astype(np.float32))  # with bias
    s = L.surface(model, torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32), d, 7, 2.0)
    theta = L.flat_parameters(model).astype(np.float64)  # [w1 w2 w3 b]
    xb = np.hstack([x, np.ones((50, 1))])
    r, u, v = xb @ theta - y[:, 0], xb @ d.d1, xb @ d.d2  # residual and its change along d1, d2
    a, b = np.meshgrid(s.alphas, s.betas, indexing="ij")
    analytic = 0.5 * (np.mean(r * r) + 2 * a * np.mean(r * u) + 2 * b * np.mean(r * v) + a * a * np.mean(u * u)
                      + 2 * a * b * np.mean(u * v) + b * b * np.mean(v * v))
    np.testing.assert_allclose(s.loss, analytic, rtol=1e-4)


def test_filter_normalisation_gives_rows_of_the_weights_norm_and_zero_biases():
    model = build_model(CONV, seed=2)
    d = L.random_directions(model, seed=5, conv_directions=True)
    for vec in (d.d1, d.d2):
        start = 0
        for p in model.parameters():
            part = vec[start:start + p.numel()].reshape(p.shape)
            start += p.numel()
            if p.ndim == 1:
                assert not part.any()
            else:  # one row per output unit (linear) or per output filter (conv)
                np.testing.assert_allclose(np.linalg.norm(part.reshape(len(part), -1), axis=1),
                                           p.detach().reshape(len(p), -1).norm(dim=1).numpy(), rtol=1e-5)
    again = L.random_directions(model, seed=5, conv_directions=True)
    assert np.array_equal(d.d1, again.d1)
    assert not np.array_equal(d.d1, L.random_directions(model, 6, conv_directions=True).d1)


def test_pca_projection_reproduces_snapshots_to_the_explained_variance():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 12)[:, None]
    a, b, c = rng.normal(size=(3, 30))
    thetas = 3 * t * a + np.sin(3 * t) * b + 0.05 * rng.normal(size=(12, 30)) * c  # mostly 2-D path + noise
    path = L.pca_path([(5 * i, th.astype(np.float32)) for i, th in enumerate(thetas)])
    moves = thetas - thetas[-1]
    rebuilt = path.coords @ np.stack([path.directions.d1, path.directions.d2])
    residual = np.sum((moves - rebuilt) ** 2) / np.sum(moves**2)
    assert residual == pytest.approx(1 - path.explained.sum(), abs=1e-5)
    assert path.explained.sum() > 0.9 and path.explained[0] >= path.explained[1]
    np.testing.assert_allclose(path.coords[-1], 0, atol=1e-9)
    assert list(path.steps) == [5 * i for i in range(12)]
    assert np.dot(path.directions.d1, path.directions.d2) == pytest.approx(0, abs=1e-5)


def _reference_pca(thetas: np.ndarray):
    """The old computation, independently: a float64 SVD of θ_i − θ_final; (directions, coords, explained)."""
    moves = thetas.astype(np.float64) - thetas[-1]
    _u, singular, vt = np.linalg.svd(moves, full_matrices=False)
    dirs = vt[:2]
    coords = moves @ dirs.T
    flip = np.where(coords[0] > 0, -1.0, 1.0)
    return dirs * flip[:, None], coords * flip, singular[:2] ** 2 / (singular**2).sum()


@pytest.mark.parametrize("chunk", [7, L.PCA_CHUNK])  # blocks smaller than the model, or one block
def test_pca_through_the_gram_matrix_equals_a_float64_svd_of_the_moves(monkeypatch, chunk):
    monkeypatch.setattr(L, "PCA_CHUNK", chunk)
    rng = np.random.default_rng(1)
    t = np.linspace(0, 1, 9)[:, None]
    a, b = rng.normal(size=(2, 50))
    thetas = (2 * t * a + np.cos(4 * t) * b + 0.1 * rng.normal(size=(9, 50))).astype(np.float32)
    snapshots = [(3 * i, th) for i, th in enumerate(thetas)]
    before = [th.copy() for th in thetas]
    path = L.pca_path(snapshots)
    dirs, coords, explained = _reference_pca(thetas)
    np.testing.assert_allclose(np.stack([path.directions.d1, path.directions.d2]), dirs, atol=1e-5)
    np.testing.assert_allclose(path.coords, coords, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(path.explained, explained, rtol=1e-6)
    np.testing.assert_array_equal(path.centre, thetas[-1])
    assert path.directions.d1.dtype == np.float32 and path.centre.dtype == np.float32
    for th, was in zip(thetas, before):
        np.testing.assert_array_equal(th, was)  # the trainer's snapshots are read, never centred in place


def test_a_path_along_a_line_has_a_zero_second_direction_not_nans():
    line = [(i, np.full(4, float(i), dtype=np.float32)) for i in range(5)]
    path = L.pca_path(line)
    assert np.isfinite(path.coords).all() and path.explained[1] == pytest.approx(0, abs=1e-12)
    np.testing.assert_allclose(np.abs(path.directions.d1), 0.5, rtol=1e-6)


def test_pca_of_21_snapshots_of_2m_parameters_costs_little_beyond_the_snapshots(tmp_path):
    from tests.memory import probe

    k, n = 21, 2_000_000
    size_mb = k * n * 4 / 2**20  # 160 MB of float32 snapshots, made before the peak is reset
    imports = ("import numpy as np\nfrom engine.views.surface import pca_path\n"
               f"rng = np.random.default_rng(0)\nsnaps = [(i, rng.standard_normal({n}, dtype=np.float32)) "
               f"for i in range({k})]")
    outcome, growth = probe(tmp_path, b"", imports, "pca_path(snaps).explained.tolist()")
    assert outcome.startswith("ok"), outcome
    assert growth <= 0.3 * size_mb  # the old float64 SVD took about 6x the snapshots on top of them


def test_path_surface_and_interpolation_on_a_real_training_run():
    from engine.data.datasets import load_dataset
    from engine.train.trainer import Trainer

    training = TrainSpec(dataset="moons", epochs=1, batch_size=20, lr=0.05, seed=0)
    data = load_dataset("moons", n_points=200)
    trainer = Trainer(NetworkSpec(hidden=(8,), activations=("tanh",)), training, data, record=False,
                      snapshot_every=1)
    trainer.step(8)
    trainer.snapshot_now()
    x, y = trainer.x_val, trainer.y_val
    result = L.path_surface(trainer.model, x, y, L.pca_path(trainer.snapshots), grid=5)
    s = result.surface
    assert s.alphas.min() < result.pca.coords[:, 0].min() and s.alphas.max() > 0
    assert s.betas.min() < result.pca.coords[:, 1].min() <= 0 <= s.betas.max()
    # the path's end (0, 0) is the trained model: its loss on the plane is the model's loss
    with torch.no_grad():
        now = float(trainer.loss_fn(trainer.model.eval()(x), y))
    assert result.path_loss[-1] == pytest.approx(now, rel=1e-5)
    theta0, theta1 = trainer.snapshots[0][1], L.flat_parameters(trainer.model)
    np.testing.assert_allclose(L.initial_weights(trainer.model, training.seed), theta0)
    curve = L.interpolate(trainer.model, theta0, theta1, x, y, [0.0, 0.5, 1.0])
    ref = _naive(trainer.model, x, y, L.Directions(theta1 - theta0, 0 * theta0), [0.0, 0.5, 1.0], [0.0], theta0)
    np.testing.assert_allclose(curve, ref[:, 0], rtol=1e-5)
    assert curve[-1] == pytest.approx(now, rel=1e-5)


def test_progress_and_bad_input():
    model = build_model(MLP, seed=0)
    x, y = _data(6)
    seen = []
    L.surface(model, x, y, L.random_directions(model), grid=21, span=1.0, progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    with pytest.raises(L.LandscapeError, match="grid must be 3-201"):
        L.surface(model, x, y, L.random_directions(model), grid=1)
    with pytest.raises(L.LandscapeError, match="span"):
        L.surface(model, x, y, L.random_directions(model), span=0)
    with pytest.raises(L.LandscapeError, match="inputs must be"):
        L.surface(model, x[:, :4], y, L.random_directions(model), grid=3)
    with pytest.raises(L.LandscapeError, match="at least 3 snapshots"):
        L.pca_path([(0, np.zeros(3)), (1, np.ones(3))])
    with pytest.raises(L.LandscapeError, match="one entry per parameter"):
        L.surface(model, x, y, L.Directions(np.zeros(3), np.zeros(3)), grid=3)
