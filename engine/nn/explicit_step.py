"""A training step's forward and backward pass by BP1-BP4 written out in torch, for fully connected nets.

The Trainer uses this instead of autograd for networks without a conv front end. Each layer's a^l, z^L and
δ^l land straight in the step buffer the history is summarised from (no retain_grad copies, no graph),
and the ∂C/∂W^l, ∂C/∂b^l land in the parameters' .grad for the optimizer. Tests check every activation x
loss, and dropout, against autograd.
"""
from __future__ import annotations

import torch

from .activations import ACTIVATIONS
from .model import Net

aten = torch.ops.aten


def supports(model: Net) -> bool:
    """True for the networks this step handles: fully connected ones (a conv front end needs autograd)."""
    return not model.spec.conv


class ExplicitStep:
    """Forward and backward for one mini-batch of a fully connected Net, by the four backprop equations."""

    def __init__(self, model: Net):
        if not supports(model):
            raise ValueError("the explicit backprop step covers fully connected networks; "
                             "this one has a conv front end")
        self.model = model
        spec = model.spec
        self.weights = [linear.weight for linear in model.linears]  # W^l, (n_l, n_(l-1))
        self.biases = [linear.bias for linear in model.linears]  # b^l, (n_l,)
        self.forward = [ACTIVATIONS[name].forward_ for name in spec.activations]  # z^l -> a^l in place
        self.backward = [ACTIVATIONS[name].backward_ for name in spec.activations]  # g -> g ⊙ σ'(z^l) in place
        self.output = spec.output_activation  # the registry's output σ for the loss: linear, softmax or sigmoid
        self.eye = torch.eye(spec.output_size)  # row y is the one-hot target of class y

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, y: torch.Tensor, outputs: list[torch.Tensor],
                 deltas: list[torch.Tensor]) -> torch.Tensor:
        """C of the batch (a 0-d tensor); fills outputs, deltas and every parameter's .grad.

        outputs[l] (B, n_l) receives a^l of each hidden layer, then z^L (as Probe.outputs);
        deltas[l] (B, n_l) receives ∂C/∂z^l of the batch-mean cost C, i.e. δ^l_x / B (as Probe.grads).
        """
        model, spec = self.model, self.model.spec
        weights, biases = self.weights, self.biases
        hidden = len(self.forward)
        dropout = spec.dropout if model.training else 0.0
        seen = [x]  # what each layer multiplies: a^(l-1), after dropout
        keeps = []  # dropout masks, already scaled by 1/(1 − p)
        for l in range(hidden):
            a = self.forward[l](torch.addmm(biases[l], seen[-1], weights[l].t(), out=outputs[l]))
            if dropout:
                keep = (torch.rand(a.shape, generator=model.generator) >= dropout) / (1.0 - dropout)
                keeps.append(keep)
                a = a * keep
            seen.append(a)
        z = torch.addmm(biases[-1], seen[-1], weights[-1].t(), out=outputs[-1])  # z^L

        batch = len(x)
        delta = deltas[-1]
        if self.output == "linear":  # regression: a^L = z^L, C = mean ½(a − y)², δ^L = (a − y) / B
            torch.sub(z, y.reshape(z.shape), out=delta)
            loss = delta.pow(2).sum() * (0.5 / batch)
        elif self.output == "softmax":  # cross-entropy: a^L = softmax(z^L), C = mean −ln a_y, δ^L = (a − y) / B
            log_a = torch.log_softmax(z, 1)
            loss = torch.nn.functional.nll_loss(log_a, y)
            torch.exp(log_a, out=delta).sub_(self.eye[y])
        else:  # sigmoid, quadratic cost: a^L = σ(z^L), C = mean ½‖a − y‖², δ^L = (a − y) ⊙ σ'(z^L) / B
            a = torch.sigmoid(z)
            torch.sub(a, self.eye[y], out=delta)
            loss = delta.pow(2).sum() * (0.5 / batch)
            aten.sigmoid_backward.grad_input(delta, a, grad_input=delta)
        delta.div_(batch)

        # lists are 0-based, layers 1-based: weights[l] is W^(l+1), deltas[l] is δ^(l+1), seen[l] is a^l
        for l in range(hidden, -1, -1):
            grad_w, grad_b = _grads(weights[l]), _grads(biases[l])
            torch.mm(deltas[l].t(), seen[l], out=grad_w)  # BP4: ∂C/∂W^l = δ^l (a^(l-1))ᵀ
            torch.sum(deltas[l], 0, out=grad_b)  # BP3: ∂C/∂b^l = δ^l
            if l:  # BP2: δ^(l-1) = ((W^l)ᵀ δ^l) ⊙ σ'(z^(l-1))
                g = torch.mm(deltas[l], weights[l], out=deltas[l - 1])
                if dropout:
                    g.mul_(keeps[l - 1])
                self.backward[l - 1](g, outputs[l - 1])
        return loss


def _grads(param: torch.Tensor) -> torch.Tensor:
    """param.grad, allocated if absent (zero_grad(set_to_none=True) elsewhere drops it)."""
    if param.grad is None:
        param.grad = torch.empty_like(param)
    return param.grad
