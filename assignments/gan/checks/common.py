"""Helpers of the GAN lab's checks, shared by the public and hidden checks (and
by ``bench/calibrate_gan.py``): the ring of Gaussians every 2-D training
check uses, the judge of a generator's samples on it (NumPy only) and the
training loop the observe side runs.

Nothing here reads ``lab.toml``: a check passes its settings in (the trusted
side from ``self.config``/``self.shared``, the observe side from its inputs).
"""

import numpy as np

from grader import judges

# -- the data: Gaussians on a ring (the slides' 「目标：8个mode」) -------------------


def ring_centers(ring):
    """(modes, 2) centres of a ring described by a ``lab.toml`` table (``modes``,
    ``radius``, optional ``angle`` of the first centre and ``center``),
    equally spaced on the circle."""
    angle, center = ring.get("angle", 0.0), ring.get("center", (0.0, 0.0))
    theta = angle + 2 * np.pi * np.arange(ring["modes"]) / ring["modes"]
    return np.stack([center[0] + ring["radius"] * np.cos(theta), center[1] + ring["radius"] * np.sin(theta)], axis=1)


def sample_ring(n, rng, ring):
    """``n`` samples of an equal-weight Gaussian mixture on ``ring`` (σ =
    ``ring["sigma"]``): x (n, 2) float32 and the mode of each sample (n,) int64."""
    centers = ring_centers(ring)
    modes = rng.integers(len(centers), size=n)
    x = centers[modes] + ring["sigma"] * rng.normal(size=(n, 2))
    return x.astype(np.float32), modes.astype(np.int64)


def shared_ring_data(ring):
    """The one public training set of the ring (``[shared.ring]``: ``train_size``
    samples, fixed by ``data_seed``) that the GAN, WGAN, cGAN and CycleGAN train on."""
    return sample_ring(ring["train_size"], np.random.default_rng(ring["data_seed"]), ring)


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


def ring_figures(samples, ring, k_sigma=3.0, min_count=20):
    """The figures the ring checks judge: modes covered (≥ ``min_count``
    high-quality samples) and the fraction of high-quality samples."""
    counts, good, _ = mode_report(samples, ring_centers(ring), ring["sigma"], k_sigma)
    return {"modes": int(np.sum(counts >= min_count)), "high_quality": float(np.mean(good)), "counts": counts}


def judge_ring(got, cfg, ring, who, extra=()):
    """Judge a generator's samples on ``ring``: modes covered and the fraction
    of high-quality samples (within k·σ of a mode), with the thresholds of the
    check's settings ``cfg``; ``extra`` verdicts (a check's own figures) join them."""
    samples = judges.as_array(got["samples"], "generated samples", shape=(cfg["samples"], 2))
    figures = ring_figures(samples, ring, k_sigma=cfg["k_sigma"], min_count=cfg["min_count"])
    verdicts = [
        judges.at_least(figures["modes"], cfg["min_modes"],
                        f"{who} modes covered (≥ {cfg['min_count']} samples within {cfg['k_sigma']:g}σ)", baseline=1),
        judges.at_least(figures["high_quality"], cfg["min_high_quality"],
                        f"fraction of {who} samples within {cfg['k_sigma']:g}σ of a mode", baseline=0.0),
    ]
    verdicts += list(extra)
    verdict = judges.all_of(verdicts)
    verdict.message = "; ".join(v.message for v in verdicts) + f"; samples per mode: {figures['counts'].tolist()}"
    return verdict


def training_setup(config, ring, keys):
    """The part of a training check's settings its ``observe`` needs (network
    sizes, optimiser, batch size, steps), to travel in its public inputs:
    ``keys`` of ``config`` and the ring's ``steps_per_execution``."""
    setup = {key: config[key] for key in keys if key in config}
    setup["steps_per_execution"] = ring["steps_per_execution"]
    return setup


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


def adam(setup, updates=None):
    """The Adam optimiser a training check's set-up asks for (``learning_rate``,
    ``beta_1``); with ``cosine_decay`` its learning rate decays to 0 over
    ``updates`` optimiser steps (so training ends settled rather than
    mid-oscillation)."""
    import keras

    rate = setup["learning_rate"]
    if setup.get("cosine_decay"):
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=updates or setup["steps"])
    return keras.optimizers.Adam(rate, beta_1=setup.get("beta_1", 0.9))
