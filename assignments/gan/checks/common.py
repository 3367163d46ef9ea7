"""Helpers of the GAN lab's checks, shared by the public and hidden checks (and
by ``bench/calibrate_gan.py``): the ring of Gaussians every 2-D training
check uses, the judge of a generator's samples on it (NumPy only) and the
training loop the observe side runs.

Nothing here reads ``lab.toml``: a check passes its settings in (the trusted
side from ``self.config``/``self.shared``, the observe side from its inputs).
"""

import numpy as np

from grader.checks import judges
from grader.checks.byhand import FRAMEWORKS, ByHand

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


# -- "implement it yourself" rules (grader.checks.byhand) ---------------------------------------
# A rule names the shortcut of its part, never what the reference uses: the
# NumPy parts may use NumPy, the loss formulas keras.ops (softplus, mean, abs, square).

#: Libraries that compute divergences or transport distances for you.
SCIPY = ("scipy",)
#: Keras's and TensorFlow's ready-made losses (cross-entropy, squared and absolute error).
LIBRARY_LOSSES = ("keras.losses", "keras.metrics", "keras.ops.binary_crossentropy",
                  "keras.ops.categorical_crossentropy", "keras.ops.sparse_categorical_crossentropy",
                  "tensorflow.nn.sigmoid_cross_entropy_with_logits", "tensorflow.nn.weighted_cross_entropy_with_logits",
                  "tensorflow.keras.losses", "tensorflow.keras.metrics")

DIVERGENCE_RULE = ByHand(
    functions=("kl_divergence", "js_divergence", "optimal_discriminator", "gan_value", "divergence_f", "f_divergence"),
    forbid=FRAMEWORKS + SCIPY,
    why="Part 2's divergences on discrete distributions are written in NumPy (the handout: no TensorFlow, "
        "Keras or SciPy, e.g. scipy.stats.entropy or scipy.spatial.distance.jensenshannon)")
EMD_RULE = ByHand(
    functions=("transport_cost", "monotone_plan", "emd_1d"),
    forbid=FRAMEWORKS + SCIPY,
    why="Part 4's earth mover's distance is written in NumPy (the handout: no TensorFlow, Keras or SciPy, "
        "e.g. scipy.stats.wasserstein_distance or scipy.optimize.linprog)")


def loss_rule(*functions: str, part: str) -> ByHand:
    """``functions`` write their loss formulas from ``keras.ops``: no ready-made Keras/TensorFlow loss."""
    return ByHand(functions=functions, forbid=LIBRARY_LOSSES,
                  why=f"{part} writes the loss formulas yourself from keras.ops (softplus, mean, square, abs): "
                      "the handout does not allow Keras's or TensorFlow's ready-made losses (keras.losses, "
                      "keras.ops.binary_crossentropy, tf.nn.sigmoid_cross_entropy_with_logits)")


GAN_LOSS_RULE = loss_rule("discriminator_loss", "generator_loss_minimax", "generator_loss_nonsaturating",
                          part="Part 1")
CGAN_LOSS_RULE = loss_rule("cgan_discriminator_loss", part="Part 6")
LSGAN_LOSS_RULE = loss_rule("lsgan_discriminator_loss", "lsgan_generator_loss", "pix2pix_generator_loss",
                            "cycle_consistency_loss", part="Part 7")


# -- one train_step replayed in NumPy (trusted side) ------------------------------------------
# The train-step checks build small networks themselves (Dense relu → Dense
# linear, plain keras), give the generator a zero first kernel so that G(z)
# does not depend on the noise the student draws, run one train_step with SGD,
# and the judge replays the same updates here with the specified losses.

def mlp_forward(weights, x):
    """A Dense-relu… → Dense-linear MLP: ``weights`` [W1, b1, W2, b2, …]. Returns
    the output and the pre-activations and inputs of each layer."""
    cache, h = [], np.asarray(x, dtype=np.float64)
    for i in range(0, len(weights), 2):
        a = h @ weights[i] + weights[i + 1]
        cache.append((h, a))
        h = a if i + 2 == len(weights) else np.maximum(a, 0.0)
    return h, cache


def mlp_backward(weights, cache, grad_out):
    """Gradients of the weights and of the input, given d loss / d output."""
    grads = [None] * len(weights)
    delta = np.asarray(grad_out, dtype=np.float64)
    for layer in reversed(range(len(cache))):
        h, a = cache[layer]
        if layer != len(cache) - 1:
            delta = delta * (a > 0)
        grads[2 * layer], grads[2 * layer + 1] = h.T @ delta, delta.sum(axis=0)
        delta = delta @ weights[2 * layer].T
    return grads, delta


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


#: d loss / d logits of each specified loss, for a batch of n logits (n, 1).
LOSS_GRADIENTS = {
    "d_gan": (lambda real, fake: ((_sigmoid(real) - 1) / len(real), _sigmoid(fake) / len(fake))),
    "d_wgan": (lambda real, fake: (-np.ones_like(real) / len(real), np.ones_like(fake) / len(fake))),
    "g_nonsaturating": (lambda fake: (_sigmoid(fake) - 1) / len(fake)),
    "g_minimax": (lambda fake: -_sigmoid(fake) / len(fake)),
    "g_wgan": (lambda fake: -np.ones_like(fake) / len(fake)),
}


def replay_train_step(g_weights, d_weights, real, n_fake, d_lr, g_lr, d_steps, d_loss, g_loss):
    """The weights after one train_step (``d_steps`` SGD updates of D on
    ``d_loss``, then one SGD update of G on ``g_loss``), for a generator
    whose first kernel is 0 (its output is the same for every z). Returns
    (G's weights, D's weights); G's first kernel, whose update depends on
    the noise drawn, is returned unchanged (the judge does not compare it)."""
    g = [np.asarray(w, dtype=np.float64) for w in g_weights]
    d = [np.asarray(w, dtype=np.float64) for w in d_weights]
    ones = np.ones((n_fake, g[0].shape[0]))
    fake, _ = mlp_forward(g, ones * 0.0)          # any z: the first kernel is 0
    for _ in range(d_steps):
        real_out, real_cache = mlp_forward(d, real)
        fake_out, fake_cache = mlp_forward(d, fake)
        d_real, d_fake = LOSS_GRADIENTS[d_loss](real_out, fake_out)
        grads_real, _ = mlp_backward(d, real_cache, d_real)
        grads_fake, _ = mlp_backward(d, fake_cache, d_fake)
        d = [w - d_lr * (a + b) for w, a, b in zip(d, grads_real, grads_fake)]
    fake, g_cache = mlp_forward(g, ones * 0.0)
    fake_out, fake_cache = mlp_forward(d, fake)
    _, d_input = mlp_backward(d, fake_cache, LOSS_GRADIENTS[g_loss](fake_out))
    g_grads, _ = mlp_backward(g, g_cache, d_input)
    g = [w if i == 0 else w - g_lr * grad for i, (w, grad) in enumerate(zip(g, g_grads))]
    return g, d


def plain_mlp(weights, name):
    """The grader's own MLP (observe side): Dense-relu layers and a linear
    Dense, float32, with the given [W1, b1, W2, b2, …]: the networks the
    train-step checks hand to the student's ``train_step``."""
    import keras

    layers = [keras.Input((weights[0].shape[0],))]
    for i in range(0, len(weights), 2):
        last = i + 2 == len(weights)
        layers.append(keras.layers.Dense(weights[i].shape[1], activation=None if last else "relu"))
    model = keras.Sequential(layers, name=name)
    model.set_weights([np.asarray(w, dtype=np.float32) for w in weights])
    return model


def replay_weights(rng, g_sizes, d_sizes):
    """Initial weights of a train-step check's generator and discriminator
    (trusted side): the generator's first kernel is 0 and its first biases
    positive, so G(z) is one point for every z and its ReLUs are active."""
    def make(sizes):
        out = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            out += [rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_in, n_out)).astype(np.float32),
                    rng.normal(0.0, 0.3, size=n_out).astype(np.float32)]
        return out
    g, d = make(g_sizes), make(d_sizes)
    g[0] = np.zeros_like(g[0])
    g[1] = np.abs(g[1]) + np.float32(0.2)
    return g, d


def judge_replay(got, start_g, start_d, want_g, want_d, what, tol=1e-3, skip_g_first=True):
    """Verdicts: the weights the student's train_step left (``got["g"]``,
    ``got["d"]``) against the NumPy replay, compared as updates (after −
    the check's own starting weights) to relative error ``tol``; with
    ``skip_g_first`` the generator's first kernel (its update depends on the
    noise drawn) is not compared."""
    verdicts = []
    for after, before, want, who, start in ((got["g"], start_g, want_g, "generator", int(skip_g_first)),
                                            (got["d"], start_d, want_d, "discriminator", 0)):
        if len(after) != len(want):
            verdicts.append(judges.Verdict(0.0, f"{what}: the {who} has {len(after)} weights, expected {len(want)}"))
            continue
        try:
            change = np.concatenate([(judges.as_array(a, f"{who} weight", shape=np.shape(b)) - b).ravel()
                                     for a, b in zip(after[start:], before[start:])])
        except judges.BadObservation as exc:
            verdicts.append(judges.Verdict(0.0, f"{what}: {exc}"))
            continue
        expected = np.concatenate([(w - b).ravel() for w, b in zip(want[start:], before[start:])])
        verdicts.append(judges.close(change, expected, f"{what}: the {who}'s update", tol=tol,
                                     hint="d_steps updates of the discriminator on d_loss(D(real), D(G(z))) "
                                          "(its own weights, d_optimizer), then one update of the generator on "
                                          "g_loss(D(G(z))) (its own weights, g_optimizer), with this model's own losses"))
    return verdicts
