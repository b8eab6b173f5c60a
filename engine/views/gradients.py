"""Vanishing and exploding gradients: per-layer profiles at init and after training, a verdict, the scalar chain,
and Nielsen's speeds of learning ‖∂C/∂b^l‖ per hidden layer over full-batch training.

The verdict is kinds and numbers (engine/views/verdicts.py); engine/views/words.py words it and the training note.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..data.datasets import Dataset, load_dataset
from ..nn.activations import ACTIVATIONS
from ..nn.memory import check_memory
from ..nn.model import Net, as_targets, build_model, loss_function
from ..nn.optimizers import Optimizer
from ..nn.probes import layer_table, record
from ..nn.spec import NetworkSpec, SpecError, TrainSpec, check_number, spec_for_dataset
from ..text import _
from .verdicts import (EXPLODING_ABOVE, GAIN_HIGH, GAIN_LOW, VANISHING_BELOW, Verdict, chance_loss, classify,
                       judge_training, weight_scale)

ACTIVATION_SAMPLES = 600  # values of a^l kept per layer for the distribution plot
MAX_TRAIN_STEPS = 5000
TRAIN_BATCH = 64  # mini-batch of the k training steps (the profile itself uses the fixed batch)
# Nielsen's chapter 5 plots: 1000 training images, full-batch gradient descent with η = 0.1 for 500 epochs
SPEED_IMAGES, SPEED_EPOCHS, SPEED_LR = 1000, 500, 0.1
MAX_SPEED_EPOCHS = 2000


@dataclass(frozen=True)
class ActivationSample:
    """Some values of a^l on the fixed batch, for a distribution plot."""

    layer: int  # l, 1-based
    activation: str  # σ of this layer
    values: np.ndarray  # (k,) a subsample of the (B, n_l) entries of a^l


@dataclass(frozen=True)
class Profile:
    """A network's gradient picture on one fixed batch."""

    network: NetworkSpec  # resized to the dataset's inputs and outputs
    rows: list  # engine.nn.probes.layer_table rows (the gradients CLI's numbers), first hidden layer first
    samples: list  # ActivationSample per hidden layer
    verdict: Verdict  # kind, ratio, per-layer gain (words.describe words it)
    loss: float  # C on the fixed batch


@dataclass(frozen=True)
class Trained:
    """The same network's profile after k training steps (words.diverged_profile_note words an early stop)."""

    profile: Profile
    steps: int  # steps actually taken (fewer if training diverged)
    status: str  # the Trainer's status: ready | running | done | diverged
    lr: float  # the learning rate η it trained with (the divergence note names it)


@dataclass(frozen=True)
class Chain:
    """A one-neuron-per-layer chain z^l = w a^(l-1) + b^l, a^l = σ(z^l), l = 1..depth."""

    z: np.ndarray  # (depth,) pre-activations
    sigma_prime: np.ndarray  # (depth,) σ'(z^l)
    factors: np.ndarray  # (depth,) w·σ'(z^l)
    gain: np.ndarray  # (depth,) Π_{j=l..depth} w·σ'(z^j): the share of the top error reaching δ^l


@dataclass(frozen=True)
class LearningSpeeds:
    """Nielsen's speed of learning of each hidden layer, ‖∂C/∂b^l‖ = ‖batch mean of δ^l‖, over training."""

    network: NetworkSpec  # resized to the dataset's inputs and outputs
    curve: np.ndarray  # (epochs + 1, hidden layers) ‖∂C/∂b^l‖ before each epoch's step, first hidden layer 1st
    loss: np.ndarray  # (epochs + 1,) C on the images at the same moments
    images: int  # the full batch every step uses
    lr: float  # η of plain gradient descent

    @property
    def at_init(self) -> np.ndarray:
        """(hidden layers,) the speeds of the freshly initialised network (Nielsen: 0.003 0.017 0.070 0.285)."""
        return self.curve[0]


# ---------------------------------------------------------------- the fixed batch and the profiles


def fixed_batch(network: NetworkSpec, data: Dataset, batch_size: int, seed: int):
    """(network resized to data, x (B, d), y): the same batch `python -m engine gradients` draws."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 100_000:
        raise SpecError(_("batch size must be 1-100000, got {value!r}").format(value=batch_size))
    network = spec_for_dataset(network, data.n_inputs, data.n_outputs, data.task == "regression", data.image_shape)
    order = np.random.default_rng(seed).permutation(len(data.x_train))[:batch_size]
    x = torch.tensor(data.x_train[order], dtype=torch.float32)
    y = as_targets(data.y_train[order], network.regression)
    return network, x, y


def activation_samples(model: Net, x: torch.Tensor, y: torch.Tensor, max_values: int = ACTIVATION_SAMPLES,
                       seed: int = 0) -> list[ActivationSample]:
    """A fixed random subsample of every hidden layer's a^l (engine.nn.probes.record on the batch)."""
    return _samples(record(model, x, y)[1], max_values, seed)


def _samples(records: list, max_values: int, seed: int) -> list[ActivationSample]:
    rng = np.random.default_rng(seed)
    out = []
    for r in records[:-1]:  # hidden layers only: the output layer is softmax / sigmoid / linear
        flat = r.a.reshape(-1)
        keep = rng.choice(flat.size, size=min(max_values, flat.size), replace=False)
        out.append(ActivationSample(r.layer, r.activation, flat[np.sort(keep)].astype(np.float32)))
    return out


def _profile(model: Net, x: torch.Tensor, y: torch.Tensor, seed: int) -> Profile:
    rows = layer_table(model, x, y)
    loss, records = record(model, x, y)
    samples = _samples(records, ACTIVATION_SAMPLES, seed)
    return Profile(model.spec, rows, samples, classify(rows, model.spec), loss)


def profile_at_init(network: NetworkSpec, dataset: str = "mnist5k", batch_size: int = 256,
                    seed: int = 0) -> Profile:
    """A freshly initialised network on the fixed batch: the CLI's rows, activation samples and a verdict."""
    data = load_dataset(dataset, seed=seed)
    network, x, y = fixed_batch(network, data, batch_size, seed)
    check_memory(network, len(x))  # before the model is built: MemoryLimitError names the estimate
    return _profile(build_model(network, seed), x, y, seed)


class ProfileTrainer:
    """One network trained in place, profiled on the fixed batch after any number of steps."""

    def __init__(self, network: NetworkSpec, dataset: str = "mnist5k", *, batch_size: int = 256, seed: int = 0,
                 optimizer: str = "sgd", lr: float = 0.03):
        self.data = load_dataset(dataset, seed=seed)
        self.x, self.y = fixed_batch(network, self.data, batch_size, seed)[1:]
        self.network, self.seed = network, seed
        # the Trainer builds its model with build_model(resized network, seed): the same initial weights
        self.training = TrainSpec(dataset=dataset, optimizer=optimizer, lr=lr, batch_size=TRAIN_BATCH,
                                  epochs=10_000, seed=seed)
        self.trainer = self._fresh()
        self._last: tuple[int, Trained] | None = None  # (steps asked, result): reused when nothing changed

    def _fresh(self):
        from ..train.trainer import Trainer  # only when training: `gradients` at init never loads it

        return Trainer(self.network, self.training, self.data, record=False, snapshot_every=None)

    def advance_to(self, steps: int) -> Trained:
        """Train until `steps` steps are done (from the start again if already past them), then profile."""
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_TRAIN_STEPS:
            raise SpecError(_("training steps must be 0-{most}, got {value!r}").format(
                most=MAX_TRAIN_STEPS, value=steps))
        if self._last is not None and self._last[0] == steps:
            return self._last[1]
        if steps < self.trainer.step_count:
            self.trainer = self._fresh()
        self.trainer.step(steps - self.trainer.step_count)
        taken = self.trainer.step_count
        profile = _profile(self.trainer.model, self.x, self.y, self.seed)
        network = self.trainer.network
        if taken > 0 and not network.regression:  # a loss still at chance with δ¹ ≪ δ^(L-1) is vanishing
            chance = chance_loss(network.loss, network.output_size)
            profile = replace(profile, verdict=judge_training(profile.verdict, profile.rows, profile.loss, chance))
        self._last = (steps, Trained(profile, taken, self.trainer.status, self.training.lr))
        return self._last[1]


def profile_after_training(network: NetworkSpec, dataset: str = "mnist5k", steps: int = 100, *,
                           batch_size: int = 256, seed: int = 0, optimizer: str = "sgd",
                           lr: float = 0.03) -> Trained:
    """Train k mini-batch steps (Trainer, same seed, same initial weights), then profile the same fixed batch."""
    trainer = ProfileTrainer(network, dataset, batch_size=batch_size, seed=seed, optimizer=optimizer, lr=lr)
    return trainer.advance_to(steps)


# ---------------------------------------------------------------- Nielsen's speeds of learning


def learning_speeds(network: NetworkSpec, dataset: str = "mnist5k", images: int = SPEED_IMAGES,
                    epochs: int = SPEED_EPOCHS, lr: float = SPEED_LR, seed: int = 0) -> LearningSpeeds:
    """Full-batch gradient descent on `images` training images, recording ‖∂C/∂b^l‖ of every hidden layer.

    Nielsen (Neural Networks and Deep Learning, ch. 5) calls ‖∂C/∂b^l‖ the speed at which layer l learns; by BP3
    it is the length of the batch's mean δ^l. The images are the fixed batch of that size (fixed_batch, same seed).
    """
    check_number(_("epochs"), epochs, 0, MAX_SPEED_EPOCHS, whole=True)
    training = TrainSpec(dataset=dataset, optimizer="sgd", lr=lr, batch_size=images, seed=seed)  # checks η
    data = load_dataset(dataset, seed=seed)
    network, x, y = fixed_batch(network, data, images, seed)
    model = build_model(network, seed)
    cost, optimizer = loss_function(network), Optimizer(model.parameters(), training)
    biases = [linear.bias for linear in model.linears[:-1]]  # b^l of the hidden layers
    curve, losses = torch.empty(epochs + 1, len(biases)), torch.empty(epochs + 1)
    for epoch in range(epochs + 1):
        optimizer.zero_grad()
        loss = cost(model(x), y)
        loss.backward()
        losses[epoch] = loss.detach()
        curve[epoch] = torch.stack(torch._foreach_norm([b.grad for b in biases]))  # ‖∂C/∂b^l‖, BP3
        if epoch < epochs:
            optimizer.step()
    return LearningSpeeds(network, curve.numpy(), losses.numpy(), len(x), lr)


# ---------------------------------------------------------------- the scalar chain


def scalar_chain(depth: int, w: float, activation: str = "sigmoid", bias: float | None = None,
                 x: float = 1.0) -> Chain:
    """One neuron per layer, the same w everywhere: δ^1 = δ^top · Π w·σ'(z^l).

    activation="linear" (σ' = 1) with w = 0.2 or 5 is Dive into Deep Learning's 0.2^30 / 5^30 example.

    bias=None picks each b^l so that z^l sits where σ' is largest (0 for sigmoid/tanh, 1 for the ReLUs):
    the best case, e.g. sigmoid with w = 0.8 gives exactly 0.8·¼ = 0.2 per layer.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 1000:
        raise SpecError(_("depth must be 1-1000, got {value!r}").format(value=depth))
    if activation not in ACTIVATIONS:
        raise SpecError(_("{name} must be one of {choices}; got {value!r}").format(
            name=_("activation"), choices=", ".join(ACTIVATIONS), value=activation))
    for name, value in (("w", w), ("x", x)) + ((("bias", bias),) if bias is not None else ()):
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SpecError(_("{name} must be a finite number, got {value!r}").format(name=name, value=value))
    act = ACTIVATIONS[activation]
    sigma, sigma_prime = act.numpy, act.numpy_prime
    z = np.empty(depth)
    a = float(x)
    with np.errstate(over="ignore"):  # exp(-z) may overflow to inf for huge |z|: σ is then exactly 0 or 1
        for l in range(depth):
            z[l] = act.best_z if bias is None else w * a + bias
            a = float(sigma(np.float64(z[l])))
        s = sigma_prime(z)
        factors = w * s
        gain = np.cumprod(factors[::-1])[::-1]  # gain[l] = Π_{j ≥ l} factors[j]
    return Chain(z, s, factors, gain)


__all__ = ["Verdict", "ActivationSample", "Profile", "Trained", "Chain", "LearningSpeeds", "ProfileTrainer",
           "fixed_batch", "activation_samples", "profile_at_init", "profile_after_training", "learning_speeds",
           "classify", "weight_scale", "scalar_chain", "VANISHING_BELOW", "EXPLODING_ABOVE", "GAIN_LOW", "GAIN_HIGH",
           "TRAIN_BATCH", "SPEED_IMAGES", "SPEED_EPOCHS", "SPEED_LR"]
