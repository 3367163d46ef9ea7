"""The regularisation lab's reference against Keras and against automatic
differentiation, where the slides and Keras coincide and where they do not
(the handout's table): the expected values every check compares with come
from this code."""

import numpy as np
import pytest
import keras
import tensorflow as tf

from grader.labs.lab import Lab, load_submission

ref = load_submission(Lab.load("regularization").solution_file, "regularization", alias="_ref_regularization_tests")

RNG = np.random.default_rng(5)


def test_standardizer_is_kerass_normalization_and_fits_the_training_set_only():
    x_train = RNG.normal(3.0, 7.0, size=(100, 4))
    x_test = RNG.normal(-40.0, 1.0, size=(30, 4))  # below the training set: outside [0, 1] after min-max
    layer = keras.layers.Normalization()
    layer.adapt(x_train.astype("float32"))
    train, test = ref.preprocess(x_train, x_test, "standardize")
    assert np.allclose(np.asarray(layer(x_test.astype("float32"))), test, atol=1e-5)
    assert np.allclose(train.mean(axis=0), 0.0) and np.allclose(train.std(axis=0), 1.0)
    train, test = ref.preprocess(x_train, x_test, "minmax")
    assert train.min() == 0.0 and train.max() == 1.0 and test.min() < 0.0


@pytest.mark.parametrize("shape", [(16, 5), (4, 6, 3), (3, 4, 4, 2)])
def test_batch_norm_matches_kerass_in_training_and_inference(shape):
    mine, theirs = ref.BatchNorm(momentum=0.7, epsilon=0.01), keras.layers.BatchNormalization(momentum=0.7,
                                                                                              epsilon=0.01)
    for _ in range(4):
        x = RNG.normal(2.0, 3.0, size=shape).astype("float32")
        assert np.allclose(np.asarray(mine(x, training=True)), np.asarray(theirs(x, training=True)), atol=1e-5)
    for a, b in zip(mine.get_weights(), theirs.get_weights()):
        assert np.allclose(a, b, atol=1e-5)
    x = RNG.normal(size=shape).astype("float32")
    assert np.allclose(np.asarray(mine(x)), np.asarray(theirs(x)), atol=1e-5)
    assert np.allclose(np.asarray(mine(x[:1])), np.asarray(mine(x))[:1], atol=1e-6)


@pytest.mark.parametrize("shape", [(12, 5), (4, 6, 3), (3, 4, 4, 2)])
def test_hand_written_backward_equals_automatic_differentiation(shape):
    x, w = RNG.normal(size=shape) * 2 + 1, RNG.normal(size=shape)
    gamma, beta = RNG.uniform(0.5, 2, size=shape[-1]), RNG.normal(size=shape[-1])
    axes = tuple(range(len(shape) - 1))

    def loss(fn):
        tensors = [tf.constant(v) for v in (x, gamma, beta)]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            out = tf.reduce_sum(fn(*tensors) * w)
        return [g.numpy() for g in tape.gradient(out, tensors)]

    def autodiff(x, gamma, beta):
        mean = tf.reduce_mean(x, axes)
        return gamma * (x - mean) / tf.sqrt(tf.reduce_mean((x - mean) ** 2, axes) + 1e-3) + beta

    for a, b in zip(loss(lambda *t: ref.batch_norm_train(*t, tf.constant(1e-3, dtype=tf.float64))), loss(autodiff)):
        assert np.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_batch_norm_recovers_the_identity_with_gamma_sigma_and_beta_mu():
    """The slides: with γ = σ_B and β = μ_B (and ε = 0) the layer can give back its input."""
    x = RNG.normal(4.0, 2.0, size=(20, 3))
    y = ref.batch_norm_train(tf.constant(x), tf.constant(x.std(axis=0)), tf.constant(x.mean(axis=0)),
                             tf.constant(0.0, dtype=tf.float64))
    assert np.allclose(y.numpy(), x)


def test_group_norm_is_kerass_and_one_group_is_layer_normalisation():
    x = RNG.normal(size=(2, 4, 4, 6)).astype("float32")
    for groups in (1, 2, 3, 6):
        assert np.allclose(np.asarray(ref.GroupNorm(groups)(x)),
                           np.asarray(keras.layers.GroupNormalization(groups)(x)), atol=1e-5)
    layer_norm = keras.layers.LayerNormalization(axis=[1, 2, 3], epsilon=1e-3)
    assert np.allclose(np.asarray(ref.GroupNorm(1)(x)), np.asarray(layer_norm(x)), atol=1e-5)


def test_label_smoothing_is_kerass_with_s_eps_k_over_k_minus_1():
    k, eps = 6, 0.2
    y = np.eye(k)[RNG.integers(0, k, size=10)]
    smoothed = ref.smooth_labels(y, eps)
    assert np.allclose(smoothed.sum(axis=1), 1.0) and np.allclose(smoothed.max(axis=1), 1 - eps)
    logits = RNG.normal(size=(10, k))
    keras_loss = keras.losses.CategoricalCrossentropy(from_logits=True,
                                                      label_smoothing=ref.keras_label_smoothing(eps, k))
    assert float(keras_loss(y, logits)) == pytest.approx(ref.smoothed_cross_entropy(logits, y, eps), rel=1e-6)
    plain = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=eps)
    assert float(plain(y, logits)) != pytest.approx(ref.smoothed_cross_entropy(logits, y, eps), rel=1e-3)


def test_the_two_input_example_and_the_expectation_of_both_dropouts():
    assert ref.expected_output_two_inputs(1.0, 2.0, 3.0, 4.0) == pytest.approx(0.5 * (3.0 + 8.0))
    assert ref.expected_output_two_inputs(1.0, 2.0, 3.0, 4.0, rate=0.2) == pytest.approx(0.8 * 11.0)
    x = np.full(200_000, 2.0, dtype="float32")
    assert float(np.mean(ref.dropout(x, 0.4, True, seed=3))) == pytest.approx(2.0, rel=0.01)
    assert float(np.mean(ref.dropout_weight_scaling(x, 0.4, True, seed=3))) == pytest.approx(
        float(np.mean(ref.dropout_weight_scaling(x, 0.4, False))), rel=0.01)


def test_l2_penalty_is_kerass_l2_with_half_lambda_on_kernels_only():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, kernel_regularizer=keras.regularizers.L2(0.05)),
                              keras.layers.BatchNormalization(),
                              keras.layers.Dense(2, kernel_regularizer=keras.regularizers.L2(0.05))])
    model.set_weights([RNG.normal(size=w.shape) for w in model.get_weights()])
    model(np.zeros((1, 3), dtype="float32"))
    assert float(ref.l2_penalty(model, 0.1)) == pytest.approx(float(sum(model.losses)), rel=1e-5)


def test_weight_decay_is_sgd_on_the_l2_penalised_loss_and_adamw_is_not_adam_plus_l2():
    theta, g = RNG.normal(size=4), RNG.normal(size=4)
    assert np.allclose(ref.sgd_weight_decay_step(theta, g, 0.1, 0.3), theta - 0.1 * (g + 0.3 * theta))
    zero = np.zeros(4)
    decoupled = ref.adamw_step(theta, zero, zero, 0, g, 0.1, 0.3)[0] - ref.adamw_step(theta, zero, zero, 0, g, 0.1, 0.0)[0]
    coupled = ref.adam_l2_step(theta, zero, zero, 0, g, 0.1, 0.3)[0] - ref.adam_l2_step(theta, zero, zero, 0, g, 0.1, 0.0)[0]
    assert np.allclose(decoupled, -0.1 * 0.3 * theta) and not np.allclose(coupled, -0.1 * 0.3 * theta, atol=1e-3)


@pytest.mark.parametrize("patience", [1, 2, 3])
def test_early_stopping_matches_kerass_where_it_stops_early(patience):
    curve = [1.0, 0.8, 0.7, 0.72, 0.69, 0.71, 0.73, 0.75, 0.8, 0.9, 1.0]

    def drive(callback):
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.stop_training = False
        callback.set_model(model)
        callback.on_train_begin()
        for epoch, value in enumerate(curve):
            model.set_weights([np.full((1, 1), float(epoch), "float32"), np.zeros(1, "float32")])
            callback.on_epoch_end(epoch, {"val_loss": value})
            if model.stop_training:
                break
        callback.on_train_end()
        return epoch, float(model.get_weights()[0][0, 0])

    assert drive(ref.BestWeightsEarlyStopping(patience)) == \
        drive(keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True))


def test_early_stopping_approximates_l2_for_small_eigenvalues_only():
    h = np.diag([1e-3, 3e-3, 1e-2])
    w_star = np.array([1.0, -2.0, 0.5])
    for tau in (5, 20):
        gd = ref.gd_path_solution(h, w_star, 0.5, tau)
        l2 = ref.l2_solution(h, w_star, ref.equivalent_alpha(0.5, tau))
        assert np.linalg.norm(gd - l2) / np.linalg.norm(l2) < 0.05
    big = np.diag([0.5, 1.0, 1.5])
    gap = ref.gd_path_solution(big, w_star, 0.5, 20) - ref.l2_solution(big, w_star, ref.equivalent_alpha(0.5, 20))
    assert np.linalg.norm(gap) > 0.1
