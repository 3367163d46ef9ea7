"""The feed-forward lab's reference against TensorFlow and Keras (float64):
the expected values every check compares with come from this code, so it
is held to the libraries' own activations, losses and autodiff here."""

import numpy as np
import pytest
import tensorflow as tf
import keras

from grader.labs.lab import Lab, load_submission

ref = load_submission(Lab.load("ffn").solution_file, "ffn", alias="_ref_ffn_tests")


@pytest.fixture(autouse=True)
def float64_keras():
    """Keras's losses and activations compute in ``floatx``: float64 here, as the checks do."""
    before = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx(before)


X = np.concatenate([np.linspace(-8.0, 8.0, 161), [-1000.0, -60.0, -1e-12, 0.0, 1e-12, 60.0, 1000.0]])


def keras_activation(name):
    a = keras.activations
    return {"sigmoid": a.sigmoid, "tanh": a.tanh, "relu": a.relu,
            "leaky_relu": lambda x: a.leaky_relu(x, negative_slope=0.01), "elu": a.elu, "softplus": a.softplus,
            "swish": a.silu, "gelu": lambda x: a.gelu(x, approximate=False),
            "gelu_tanh": lambda x: a.gelu(x, approximate=True),
            "gelu_sigmoid": lambda x: x * a.sigmoid(1.702 * x)}[name]


@pytest.mark.parametrize("name", list(ref.ACTIVATIONS))
def test_activations_and_derivatives_match_keras_and_autodiff(name):
    f, df = ref.ACTIVATIONS[name]
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow, even in a branch np.where discards
        value, derivative = f(X), df(X)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(derivative))
    tx = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(tx)
        y = keras_activation(name)(tx)
    grad = tape.gradient(y, tx).numpy()
    # Keras keeps some constants (leaky ReLU's slope, GELU's) in float32: agreement to 1e-6.
    np.testing.assert_allclose(value, y.numpy(), rtol=1e-6, atol=1e-12)
    # The kink's convention is TensorFlow's own: 0 for relu at 0, γ for leaky relu at 0.
    np.testing.assert_allclose(derivative, grad, rtol=1e-6, atol=1e-12)
    # And to float64 precision, the derivative is that of the reference's own function.
    smooth = (np.abs(X) > 1e-3) & (np.abs(X) < 100)
    h = 1e-6
    numeric = (f(X[smooth] + h) - f(X[smooth] - h)) / (2 * h)
    np.testing.assert_allclose(derivative[smooth], numeric, rtol=1e-7, atol=1e-8)


def test_slide_claims_about_the_gelu_approximations_and_swish():
    x = np.linspace(-8.0, 8.0, 100001)
    exact = ref.gelu(x)
    assert 0.019 < np.max(np.abs(ref.gelu_sigmoid(x) - exact)) < 0.021
    assert 4e-4 < np.max(np.abs(ref.gelu_tanh(x) - exact)) < 5e-4
    np.testing.assert_allclose(ref.swish(x, beta=0.0), x / 2)
    assert np.max(np.abs(ref.swish(x, beta=100.0) - ref.relu(x))) < 3e-3


def test_elu_and_leaky_relu_parameters_match_keras():
    tx = tf.constant(X)
    np.testing.assert_allclose(ref.elu(X, gamma=0.7), keras.activations.elu(tx, alpha=0.7).numpy(), rtol=1e-6,
                               atol=1e-16)  # Keras's exp(x) − 1 loses digits at x ≈ −1e-12; expm1 does not
    np.testing.assert_allclose(ref.leaky_relu(X, gamma=0.2), keras.activations.leaky_relu(tx, 0.2).numpy(), rtol=1e-6)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0])
def test_maxout_with_the_weights_reproduces_leaky_relu(gamma):
    x = np.random.default_rng(0).normal(size=(9, 4)) * 5
    layer = ref.Maxout(4, 2, dtype="float64")
    layer.build((None, 4))
    layer.set_weights(list(ref.maxout_leaky_relu_weights(4, gamma)))
    np.testing.assert_allclose(np.asarray(layer(x)), ref.leaky_relu(x, gamma=gamma), rtol=1e-12)


def test_maxout_groups_consecutive_columns():
    rng = np.random.default_rng(1)
    x, kernel, bias = rng.normal(size=(5, 3)), rng.normal(size=(3, 8)), rng.normal(size=8)
    layer = ref.Maxout(2, 4, dtype="float64")
    layer.build((None, 3))
    layer.set_weights([kernel, bias])
    z = x @ kernel + bias
    np.testing.assert_allclose(np.asarray(layer(x)), np.stack([z[:, :4].max(1), z[:, 4:].max(1)], 1), rtol=1e-12)


def test_losses_match_keras_and_their_gradients_match_autodiff():
    rng = np.random.default_rng(2)
    z, y = rng.normal(0, 3, size=(6, 5)), rng.dirichlet(np.ones(5), size=6)
    keras_xent = keras.losses.CategoricalCrossentropy(from_logits=True)
    tz = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(tz)
        loss = keras_xent(y, tz)
    assert ref.softmax_cross_entropy(z, y) == pytest.approx(float(loss), rel=1e-12)
    np.testing.assert_allclose(ref.softmax_cross_entropy_grad(z, y), tape.gradient(loss, tz).numpy(), rtol=1e-10)
    zb, yb = rng.normal(0, 3, size=(7, 1)), rng.uniform(size=(7, 1))
    tzb = tf.constant(zb)
    with tf.GradientTape() as tape:
        tape.watch(tzb)
        loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.constant(yb), tzb))
    assert ref.sigmoid_binary_cross_entropy(zb, yb) == pytest.approx(float(loss), rel=1e-12)
    np.testing.assert_allclose(ref.sigmoid_binary_cross_entropy_grad(zb, yb), tape.gradient(loss, tzb).numpy(),
                               rtol=1e-10)


def test_losses_are_finite_where_the_naive_formulas_are_not():
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -999.0]])
    y = np.eye(3)[[1, 0]]
    assert np.isfinite(ref.softmax_cross_entropy(z, y))
    assert ref.softmax_cross_entropy(z, y) == pytest.approx((2000.0 + 1.0 + np.log1p(np.exp(-1.0) * 2)) / 2)
    assert ref.sigmoid_binary_cross_entropy(np.array([1000.0, -1000.0]), np.array([0.0, 1.0])) == pytest.approx(1000.0)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        assert not np.isfinite(np.log(np.exp(z) / np.exp(z).sum(1, keepdims=True))[0, 1])


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "gelu_tanh", "elu", "swish"])
def test_mlp_backward_matches_autodiff(activation):
    rng = np.random.default_rng(3)
    sizes = (5, 7, 4, 3)
    params = [(rng.normal(size=(a, b)) / np.sqrt(a), rng.normal(size=b)) for a, b in zip(sizes, sizes[1:])]
    x, labels = rng.normal(size=(8, 5)), np.eye(3)[rng.integers(3, size=8)]
    loss, grads = ref.mlp_loss_and_grads(x, labels, params, activation=activation)
    variables = [tf.Variable(p) for pair in params for p in pair]
    f = keras_activation(activation)
    if activation == "gelu_tanh":  # Keras keeps GELU's constants in float32; here they are float64
        f = lambda z: 0.5 * z * (1 + tf.tanh(np.sqrt(2 / np.pi) * (z + 0.044715 * z ** 3)))  # noqa: E731
    with tf.GradientTape() as tape:
        a = tf.constant(x)
        for l in range(len(params)):
            a = a @ variables[2 * l] + variables[2 * l + 1]
            if l < len(params) - 1:
                a = f(a)
        tf_loss = keras.losses.CategoricalCrossentropy(from_logits=True)(labels, a)
    assert loss == pytest.approx(float(tf_loss), rel=1e-12)
    for mine, theirs in zip([g for pair in grads for g in pair], tape.gradient(tf_loss, variables)):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("lam", [0.0, 0.1])
def test_graph_example_matches_autodiff(lam):
    rng = np.random.default_rng(4)
    x, labels, w1, w2 = rng.normal(size=(6, 4)), rng.integers(3, size=6), rng.normal(size=(4, 5)), rng.normal(size=(5, 3))
    j, dw1, dw2 = ref.two_layer_relu_grads(x, labels, w1, w2, lam)
    t1, t2 = tf.Variable(w1), tf.Variable(w2)
    with tf.GradientTape() as tape:
        logits = tf.nn.relu(x @ t1) @ t2
        cost = (keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
                + lam * (tf.reduce_sum(t1 ** 2) + tf.reduce_sum(t2 ** 2)))
    g1, g2 = tape.gradient(cost, [t1, t2])
    assert j == pytest.approx(float(cost), rel=1e-12)
    np.testing.assert_allclose(dw1, g1.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dw2, g2.numpy(), rtol=1e-9, atol=1e-12)


def test_dense_relu_custom_gradient_matches_autodiff_of_the_plain_op():
    rng = np.random.default_rng(5)
    x, w, b, up = (tf.constant(rng.normal(size=s)) for s in ((6, 4), (4, 3), (3,), (6, 3)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, w, b])
        mine = tf.reduce_sum(ref.dense_relu(x, w, b) * up)
        plain = tf.reduce_sum(tf.nn.relu(x @ w + b) * up)
    for a, c in zip(tape.gradient(mine, [x, w, b]), tape.gradient(plain, [x, w, b])):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-12)


def test_numeric_gradient_is_central_and_leaves_x_alone():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, 4))
    before = x.copy()
    np.testing.assert_allclose(ref.numeric_gradient(lambda v: np.sum(v ** 3), x), 3 * x ** 2, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(x, before)
    # ε² error: the central difference of s³ along any coordinate of (Σx)³ is 3s² + ε².
    s = x.sum()
    np.testing.assert_allclose(ref.numeric_gradient(lambda v: np.sum(v) ** 3, x, eps=0.1), 3 * s ** 2 + 0.01, rtol=1e-9)


def test_gaussian_and_mixture_nll_match_scipy():
    from scipy import stats

    rng = np.random.default_rng(7)
    y, mean, log_var = rng.normal(size=9), rng.normal(size=9), rng.uniform(-3, 3, size=9)
    np.testing.assert_allclose(np.asarray(ref.gaussian_nll(y, mean, log_var)),
                               -stats.norm.logpdf(y, mean, np.exp(0.5 * log_var)), rtol=1e-12)
    logits, means, log_sigmas = rng.normal(size=(9, 3)), rng.normal(size=(9, 3)), rng.uniform(-1, 1, size=(9, 3))
    weights = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    density = (weights * stats.norm.pdf(y[:, None], means, np.exp(log_sigmas))).sum(1)
    np.testing.assert_allclose(np.asarray(ref.mdn_nll(y, logits, means, log_sigmas)), -np.log(density), rtol=1e-10)
    # Far from every component and with logits in the hundreds: finite, and shift-invariant in the logits.
    far = np.asarray(ref.mdn_nll(y + 60.0, logits + 800.0, means, np.full((9, 3), -1.2)))
    assert np.all(np.isfinite(far))
    np.testing.assert_allclose(far, np.asarray(ref.mdn_nll(y + 60.0, logits, means, np.full((9, 3), -1.2))), rtol=1e-12)


def test_mdn_sample_draws_the_mixture():
    n = 40000
    draws = ref.mdn_sample(np.log([[0.2, 0.8]] * n), np.array([[-5.0, 5.0]] * n), np.log([[0.5, 1.0]] * n),
                           np.random.default_rng(8))
    left, right = draws[draws < 0], draws[draws > 0]
    assert abs(len(left) / n - 0.2) < 5 * np.sqrt(0.2 * 0.8 / n)
    assert abs(left.mean() + 5) < 0.05 and abs(left.std() - 0.5) < 0.02
    assert abs(right.mean() - 5) < 0.05 and abs(right.std() - 1.0) < 0.02


def test_target_function_and_the_study_data():
    x = np.array([0.0, np.pi / 2, np.pi, 3 * np.pi / 2])
    np.testing.assert_allclose(ref.target_function(x), [1.0, 1.0, -1.0, -1.0], atol=1e-12)
    x_train, y_train, x_val, y_val = ref.sincos_data(16, 11, 0)
    assert x_train.shape == (16, 1) and x_val.shape == (11, 1) and x_val[0, 0] == 0 and np.isclose(x_val[-1, 0], 2 * np.pi)
    np.testing.assert_allclose(y_val[:, 0], ref.target_function(x_val[:, 0].astype(np.float64)), atol=1e-6)
