"""Helpers the feed-forward lab's checks share (public and hidden): the
"implement it yourself" rules (:mod:`grader.checks.byhand`) of the parts the
handout says to write by hand, the activations' names and test points, the
observe side's calls, the bimodal toy set and the judge side's mixture
densities (NumPy and the standard library only). Whatever ``observe`` needs
of the lab's settings arrives in its inputs.

A rule names what would be the shortcut for its part, never what the
reference itself uses: the NumPy parts may use NumPy (``np.tanh``,
``np.log1p``, ``math.erf``), the TensorFlow part TensorFlow's elementary ops.
"""

import math

import numpy as np

from grader.checks import parts
from grader.checks.byhand import AUTODIFF, FRAMEWORKS, ByHand

#: SciPy's ready-made logistic, softmax and log-sum-exp functions.
SCIPY_SHORTCUTS = ("scipy.special.expit", "scipy.special.log_expit", "scipy.special.logsumexp",
                   "scipy.special.softmax", "scipy.special.log_softmax")

ACTIVATION_RULE = ByHand(
    functions=("sigmoid", "d_sigmoid", "tanh", "d_tanh", "relu", "d_relu", "leaky_relu", "d_leaky_relu", "elu",
               "d_elu", "softplus", "d_softplus", "swish", "d_swish", "gelu", "d_gelu", "gelu_tanh", "d_gelu_tanh",
               "gelu_sigmoid", "d_gelu_sigmoid"),
    forbid=FRAMEWORKS + SCIPY_SHORTCUTS,
    why="Part 1's activations and their derivatives are written by hand in NumPy (no TensorFlow, Keras or "
        "SciPy logistic function, no autodiff)")
LOSS_RULE = ByHand(
    functions=("log_softmax", "softmax", "softmax_cross_entropy", "softmax_cross_entropy_grad",
               "sigmoid_binary_cross_entropy", "sigmoid_binary_cross_entropy_grad"),
    forbid=FRAMEWORKS + SCIPY_SHORTCUTS,
    why="Part 3's losses and their gradients are written by hand in NumPy (no TensorFlow, Keras or SciPy "
        "softmax, log-sum-exp or logistic function)")
BACKPROP_RULE = ByHand(
    functions=("mlp_forward", "mlp_backward", "mlp_loss_and_grads"), forbid=FRAMEWORKS + SCIPY_SHORTCUTS,
    why="Part 4 is backpropagation by hand in NumPy: no GradientTape or other autodiff, no TensorFlow or Keras")
GRAPH_RULE = ByHand(
    functions=("two_layer_relu_grads",), forbid=FRAMEWORKS + SCIPY_SHORTCUTS,
    why="Part 5 works the computation graph's gradients out by hand in NumPy: no autodiff, no TensorFlow or Keras")
CUSTOM_GRADIENT_RULE = ByHand(
    functions=("dense_relu", "dense_relu_backward"), forbid=AUTODIFF + ("keras.layers.Dense",),
    why="dense_relu joins YOUR dense_relu_backward with tf.custom_gradient: no GradientTape or other autodiff "
        "inside, no Keras Dense layer")
NUMERIC_GRADIENT_RULE = ByHand(
    functions=("numeric_gradient",),
    forbid=FRAMEWORKS + ("numpy.gradient", "scipy.optimize.approx_fprime", "scipy.optimize.check_grad",
                         "scipy.differentiate", "grader.checks.gradcheck"),
    why="Part 6's gradient checker is your own central differences: no autodiff, no library finite differences")

#: Library densities and losses: Part 7 writes the log-densities itself (logsumexp and log_softmax of
#: keras.ops are allowed: the slides say 「深度学习库都提供了logsoftmax的函数和logsumexp的函数」).
DENSITY_LIBRARIES = ("scipy.stats", "tensorflow_probability", "keras.losses", "tensorflow.keras.losses",
                     "tensorflow.random", "keras.random")
NLL_RULE = ByHand(functions=("gaussian_nll", "mdn_nll"), forbid=DENSITY_LIBRARIES,
                  why="Part 7's Gaussian and mixture log-densities are the exercise: no library density or loss")
SAMPLER_RULE = ByHand(functions=("mdn_sample",), forbid=("tensorflow", "keras", "scipy", "numpy.random.choice",
                                                        "numpy.random.Generator.choice"),
                      why="sampling a mixture (pick a component by its probability, then a Gaussian) is the exercise; "
                          "every random number comes from the rng you are given")

#: Part 1's activations, in the handout's order: (name, keyword arguments of the default call).
ACTIVATION_NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "swish", "gelu", "gelu_tanh",
                    "gelu_sigmoid")


def activation_values(sub, x, kwargs=None, values=True, derivatives=True):
    """Every activation (``values``) and its derivative (``derivatives``) on ``x``,
    each a part of its own (``kwargs``: per-name keyword arguments, e.g.
    ``{"leaky_relu": {"gamma": 0.2}}``)."""
    kwargs = kwargs or {}
    out = {}
    for name in ACTIVATION_NAMES:
        extra = kwargs.get(name, {})
        if values:
            out[name] = parts.attempt(lambda: getattr(sub, name)(x, **extra))
        if derivatives:
            out[f"d_{name}"] = parts.attempt(lambda: getattr(sub, f"d_{name}")(x, **extra))
    return out


def extreme_points():
    """Test points every activation check includes: 0, the kinks' neighbours
    and inputs far out on both sides (±1000), where a naive formula overflows."""
    return np.array([-1000.0, -60.0, -1e-12, 0.0, 1e-12, 60.0, 1000.0])


def grader_maxout(x, kernel, bias, pieces):
    """The grader's own Maxout in NumPy: ``x W + b`` in groups of ``pieces``
    consecutive columns, the maximum of each group."""
    z = np.asarray(x, dtype=np.float64) @ np.asarray(kernel, dtype=np.float64) + np.asarray(bias, dtype=np.float64)
    return z.reshape(z.shape[0], -1, pieces).max(axis=-1)


def observe_maxout(sub, units, pieces, x, kernel, bias, upstream):
    """A float64 Maxout layer of the student's: its weights' shapes once built,
    and, with ``kernel`` and ``bias`` set, the output on ``x`` and
    ∂Σ(y·upstream)/∂x, /∂kernel, /∂bias through it."""
    import tensorflow as tf

    def weights():
        layer = sub.Maxout(units, pieces, dtype="float64")
        layer.build((None, x.shape[1]))
        return {"shapes": [list(w.shape) for w in layer.weights], "params": int(layer.count_params())}

    def run():
        layer = sub.Maxout(units, pieces, dtype="float64")
        layer.build((None, x.shape[1]))
        layer.set_weights([kernel, bias])
        tx = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tx)
            y = layer(tx)
            loss = tf.reduce_sum(y * upstream)
        dx, dk, db = tape.gradient(loss, [tx] + list(layer.trainable_weights))
        return {"y": np.asarray(y), "dx": np.asarray(dx), "dkernel": np.asarray(dk), "dbias": np.asarray(db)}

    out = parts.together(("shapes", "params"), weights)
    out.update(parts.together(("y", "dx", "dkernel", "dbias"), run))
    return out


def mlp_observation(sub, x, params, dout, labels, activation):
    """``mlp_forward`` then ``mlp_backward(dout, cache)``, and ``mlp_loss_and_grads``
    (two parts): the output, the gradients by name (dW1, db1, …) and their shapes."""
    params = [tuple(p) for p in params]

    def named(grads):
        grads = list(grads)
        out = {}
        for l, (dw, db) in enumerate(grads, start=1):
            out[f"dW{l}"], out[f"db{l}"] = np.asarray(dw), np.asarray(db)
        return out, [[list(np.shape(dw)), list(np.shape(db))] for dw, db in grads]

    def backprop():
        out, cache = sub.mlp_forward(x, params, activation=activation)
        grads, shapes = named(sub.mlp_backward(dout, cache))
        return {"out": np.asarray(out), "grads": grads, "shapes": shapes}

    def loss():
        value, grads = sub.mlp_loss_and_grads(x, labels, params, activation=activation)
        return {"loss": float(value), "loss_grads": named(grads)[0]}

    result = parts.together(("out", "grads", "shapes"), backprop)
    result.update(parts.together(("loss", "loss_grads"), loss))
    return result


def observe_dense_relu(sub, x, w, b, upstream, dtype="float64"):
    """``dense_relu`` in a GradientTape (its output, dtype and the tape's
    gradients), ``dense_relu_backward`` called directly, and whether the tape's
    gradient went through the student's ``dense_relu_backward`` (a spy on the
    module's name while the tape runs)."""
    import tensorflow as tf

    def direct():
        dx, dw, db = sub.dense_relu_backward(upstream.astype(dtype), x.astype(dtype), w.astype(dtype), b.astype(dtype))
        return {"backward_dx": np.asarray(dx), "backward_dW": np.asarray(dw), "backward_db": np.asarray(db)}

    def taped():
        calls = []
        original = sub.dense_relu_backward

        def spy(*args, **kwargs):
            calls.append(1)
            return original(*args, **kwargs)

        tx, tw, tb = (tf.constant(v.astype(dtype)) for v in (x, w, b))
        sub.dense_relu_backward = spy
        try:
            with tf.GradientTape() as tape:
                tape.watch([tx, tw, tb])
                y = sub.dense_relu(tx, tw, tb)
                loss = tf.reduce_sum(y * tf.constant(upstream.astype(dtype)))
            dx, dw, db = tape.gradient(loss, [tx, tw, tb])
        finally:
            sub.dense_relu_backward = original
        return {"y": np.asarray(y), "dtype": str(y.dtype.name), "tape_dx": np.asarray(dx), "tape_dW": np.asarray(dw),
                "tape_db": np.asarray(db), "calls": bool(calls)}

    out = parts.together(("backward_dx", "backward_dW", "backward_db"), direct)
    out.update(parts.together(("y", "dtype", "tape_dx", "tape_dW", "tape_db", "calls"), taped))
    return out


def numeric_gradient_observation(sub, x, functions):
    """``numeric_gradient(f, x[name], **kwargs)`` for every ``name: (f, kwargs)``
    of ``functions``, and whether it left ``x[name]`` as it was."""
    out = {}
    for name, (f, kwargs) in functions.items():
        def run():
            given = np.array(x[name], dtype=np.float64)
            grad = np.asarray(sub.numeric_gradient(f, given, **kwargs), dtype=np.float64)
            return {"grad": grad, "unchanged": bool(np.array_equal(given, x[name]))}
        out[name] = parts.together(("grad", "unchanged"), run)
    return out


def graph_observation(sub, x, labels, w1, w2, lam):
    """``two_layer_relu_grads`` on one case: J, ∂J/∂W1, ∂J/∂W2 (one part)."""
    def run():
        j, dw1, dw2 = sub.two_layer_relu_grads(x, labels, w1, w2, lam)
        return {"J": float(j), "dW1": np.asarray(dw1), "dW2": np.asarray(dw2)}
    return parts.together(("J", "dW1", "dW2"), run)


# -- Part 7: the bimodal toy set and the grader's own mixture densities (judge side) -------------

LOG_2PI = math.log(2.0 * math.pi)


def bimodal_data(n, seed, noise=0.05):
    """The bimodal toy set (given to students as ``ffn.bimodal_data``): x ~ U(0, 1),
    y = ±√x + N(0, noise²), each branch with probability ½. x (n, 1) and y (n, 1), float32."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(n, 1))
    sign = np.where(rng.uniform(size=(n, 1)) < 0.5, -1.0, 1.0)
    y = sign * np.sqrt(x) + noise * rng.normal(size=(n, 1))
    return x.astype(np.float32), y.astype(np.float32)


def rows_log_softmax(a):
    """log softmax along axis 1 of a float64 array."""
    a = a - a.max(axis=1, keepdims=True)
    return a - np.log(np.exp(a).sum(axis=1, keepdims=True))


def logsumexp_along(a, axis):
    """log Σ exp along ``axis``, the maximum taken out first."""
    m = a.max(axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.exp(a - m).sum(axis=axis))


def mixture_nll(y, out, k):
    """The grader's own mean NLL of targets ``y`` (n,) under an MDN's raw output ``out`` (n, 3k),
    read as [pi_logits | means | log_sigmas] (the handout's layout), in float64 log space."""
    out = np.asarray(out, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    logits, mu, log_sigma = out[:, :k], out[:, k:2 * k], out[:, 2 * k:3 * k]
    z = (y - mu) * np.exp(-log_sigma)
    log_normal = -0.5 * LOG_2PI - log_sigma - 0.5 * z ** 2
    return float(np.mean(-logsumexp_along(rows_log_softmax(logits) + log_normal, axis=1)))


def bimodal_true_nll(x, y, noise):
    """Mean NLL of (x, y) under the data's own conditional density ½N(√x, s²) + ½N(−√x, s²):
    the floor no model beats on average (up to sampling noise)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    r = np.sqrt(x)
    comps = np.stack([-0.5 * ((y - r) / noise) ** 2, -0.5 * ((y + r) / noise) ** 2], axis=1)
    log_p = math.log(0.5) - 0.5 * LOG_2PI - math.log(noise) + logsumexp_along(comps, axis=1)
    return float(np.mean(-log_p))


def branch_masses(out, k, x_value, half_width):
    """Mass the mixture of one row (raw MDN output ``out`` (3k,)) puts within ``half_width`` of
    each branch, +√x and −√x: a bimodal fit puts about ½ near each."""
    out = np.asarray(out, dtype=np.float64).reshape(-1)
    logits, mu, log_sigma = out[:k], out[k:2 * k], out[2 * k:3 * k]
    p = np.exp(logits - logits.max())
    p /= p.sum()

    def cdf(t):
        return np.array([0.5 * (1 + math.erf((t - m) / (math.exp(s) * math.sqrt(2)))) for m, s in zip(mu, log_sigma)])

    r = math.sqrt(x_value)
    return [float(np.dot(p, cdf(c + half_width) - cdf(c - half_width))) for c in (r, -r)]


def sincos(x):
    """Part 8's target, y = sin x + cos x + sin x·cos x (the grader's own)."""
    s, c = np.sin(x), np.cos(x)
    return s + c + s * c
