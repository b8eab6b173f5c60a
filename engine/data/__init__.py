"""Datasets by name: the embedded MNIST sample, pendigits, scikit-learn's sets, IDX folders; image preprocessing."""
