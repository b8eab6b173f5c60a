"""The playground's maths: networks, data, probes, training, loss surfaces. torch + numpy only."""
