"""Numeric gradients (central differences, float64), CS231n style.

Used on the *observe* side to compare a student's analytic gradient with a
numeric gradient of the student's own forward function, and by the kit's
tests to validate the reference solutions.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def numeric_gradient(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, upstream: np.ndarray,
                     h: float = 1e-6) -> np.ndarray:
    """∂/∂x of ``Σ f(x) · upstream`` by central differences, one element at a time.

    ``x`` is copied to float64 and perturbed in place; ``f`` must not keep a
    reference to it. Cost: 2·x.size calls of ``f``, so keep ``x`` small.
    """
    x = np.array(x, dtype=np.float64)
    upstream = np.asarray(upstream, dtype=np.float64)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        old = x[idx]
        x[idx] = old + h
        plus = float(np.sum(np.asarray(f(x), dtype=np.float64) * upstream))
        x[idx] = old - h
        minus = float(np.sum(np.asarray(f(x), dtype=np.float64) * upstream))
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad
