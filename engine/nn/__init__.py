"""The network's maths: specs, the activation registry, the model, optimizers, probes, BP1-BP4, checkpoints."""
