"""Checks of the GAN lab: ``public.py`` ships to students, ``hidden.py`` does not;
``optional.py`` holds the long DCGAN check, which is not part of the graded set.

The helpers here are shared by the checks and by ``bench/calibrate_gan.py``:
the ring of Gaussians every 2-D training check uses, the trusted judge's
sample statistics (NumPy only), and the training loop the observe side runs.
"""

import tomllib
from pathlib import Path

import numpy as np

#: The lab's metadata (thresholds, budgets and training set-ups live there, once).
LAB = tomllib.loads((Path(__file__).resolve().parent.parent / "lab.toml").read_text())


# -- the data: Gaussians on a ring (the slides' 「目标：8个mode」) -------------------

def ring_centers(modes, radius, angle=0.0, center=(0.0, 0.0)):
    """(modes, 2) centres equally spaced on a circle, the first at ``angle``."""
    theta = angle + 2 * np.pi * np.arange(modes) / modes
    return np.stack([center[0] + radius * np.cos(theta), center[1] + radius * np.sin(theta)], axis=1)


def ring_spec(name="ring"):
    """Centres and σ of a ring described in lab.toml (``[ring]`` or ``[cycle.target]``)."""
    spec = LAB["ring"] if name == "ring" else LAB["cycle"]["target"]
    return ring_centers(spec["modes"], spec["radius"], spec.get("angle", 0.0), spec.get("center", (0.0, 0.0))), spec["sigma"]


def sample_ring(n, rng, name="ring"):
    """``n`` samples of an equal-weight Gaussian mixture on a ring: x (n, 2)
    float32 and the mode of each sample (n,) int64."""
    centers, sigma = ring_spec(name)
    modes = rng.integers(len(centers), size=n)
    x = centers[modes] + sigma * rng.normal(size=(n, 2))
    return x.astype(np.float32), modes.astype(np.int64)


def shared_ring_data(name="ring"):
    """The one training set every ring check uses (fixed by ``[ring] data_seed``)."""
    rng = np.random.default_rng(LAB["ring"]["data_seed"] + (0 if name == "ring" else 1))
    return sample_ring(LAB["ring"]["train_size"], rng, name)


def mode_report(samples, centers, sigma, k_sigma):
    """How well ``samples`` (n, 2) cover the modes at ``centers`` (m, 2).

    A sample is *high quality* when it lies within ``k_sigma·σ`` of its
    nearest centre. Returns the per-mode counts of high-quality samples (m,),
    the high-quality mask (n,) and the nearest centre of each sample (n,).
    """
    distance = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=-1)
    nearest = distance.argmin(axis=1)
    good = distance.min(axis=1) < k_sigma * sigma
    counts = np.bincount(nearest[good], minlength=len(centers))
    return counts, good, nearest


def ring_figures(samples, name="ring", k_sigma=3.0, min_count=20):
    """The figures the ring checks judge: modes covered (≥ ``min_count``
    high-quality samples) and the fraction of high-quality samples."""
    centers, sigma = ring_spec(name)
    counts, good, _ = mode_report(samples, centers, sigma, k_sigma)
    return {"modes": int(np.sum(counts >= min_count)), "high_quality": float(np.mean(good)), "counts": counts}


def sliced_emd(a, b, directions=64):
    """Sliced earth mover's distance between two equally large 2-D point
    clouds: the 1-D EMD (mean |difference| of the sorted projections) averaged
    over ``directions`` evenly spaced directions of the half circle."""
    theta = np.pi * np.arange(directions) / directions
    axes = np.stack([np.cos(theta), np.sin(theta)])            # (2, directions)
    return float(np.mean(np.abs(np.sort(a @ axes, axis=0) - np.sort(b @ axes, axis=0))))


def requested_mode_figures(samples, labels, k_sigma=3.0):
    """Conditional ring: the fraction of samples within ``k_sigma·σ`` of the
    *requested* mode, overall and for the worst class."""
    centers, sigma = ring_spec()
    hit = np.linalg.norm(samples - centers[labels], axis=1) < k_sigma * sigma
    per_class = [float(np.mean(hit[labels == c])) for c in range(len(centers))]
    return {"overall": float(np.mean(hit)), "worst_class": min(per_class), "per_class": per_class}


# -- the observe side's training loop -------------------------------------------------

def fit_for_steps(model, arrays, batch_size, steps):
    """Train ``model`` (compiled by the caller) for exactly ``steps`` batches
    of a shuffled, repeated ``tf.data`` pipeline over ``arrays`` (an array or
    a tuple of arrays). Returns the history dict. Runs in the student's process."""
    import tensorflow as tf

    n = len(arrays[0]) if isinstance(arrays, tuple) else len(arrays)
    data = tf.data.Dataset.from_tensor_slices(arrays).shuffle(n).repeat().batch(batch_size, drop_remainder=True)
    history = model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def adam(config, updates=None):
    """The Adam optimiser a training check's lab.toml section asks for; with
    ``cosine_decay = true`` its learning rate decays to 0 over ``updates``
    optimiser steps (so training ends settled rather than mid-oscillation)."""
    import keras

    rate = config["learning_rate"]
    if config.get("cosine_decay"):
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=updates or config["steps"])
    return keras.optimizers.Adam(rate, beta_1=config.get("beta_1", 0.9))


# -- the trusted side's numerical conjugate ---------------------------------------------

def conjugate_numeric(f, t, lo=1e-12, hi=1e6):
    """``sup_{x > 0} x·t − f(x)`` by ternary search in ``log x`` on a bracket
    found on a grid (``x·t − f(x)`` is concave in x, and unimodal in log x).
    ``f``: a vectorised NumPy function. Returns ``inf`` when the supremum is
    unbounded on [lo, hi] (t outside ``dom f*``)."""
    grid = np.geomspace(lo, hi, 4001)
    values = grid * t - f(grid)
    best = int(np.argmax(values))
    if best == len(grid) - 1:
        return np.inf
    a, b = np.log(grid[max(best - 1, 0)]), np.log(grid[min(best + 1, len(grid) - 1)])
    g = lambda u: np.exp(u) * t - f(np.exp(u))  # noqa: E731
    for _ in range(200):
        m1, m2 = a + (b - a) / 3, b - (b - a) / 3
        if g(m1) < g(m2):
            a = m1
        else:
            b = m2
    return float(max(g((a + b) / 2), values[0]))


def optional_checks():
    """Instances of the checks in ``optional.py`` (the long DCGAN check), which
    the grader does not load; ``bench/calibrate_gan.py`` and the kit's ``full``
    tests run them."""
    from importlib import import_module

    from grader.check import collect

    return collect(vars(import_module(f"{__name__}.optional")))
