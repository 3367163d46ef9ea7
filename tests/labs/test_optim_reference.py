"""The optimisation lab's reference against Keras, where the slides' formulas and
Keras's coincide, and the places where they do not (the handout's table): the
expected values every check compares with come from this code."""

import math

import numpy as np
import pytest
import keras

from grader.labs.lab import Lab, load_submission

ref = load_submission(Lab.load("optim").solution_file, "optim", alias="_ref_optim_tests")

RNG = np.random.default_rng(4)
GRADS = RNG.normal(size=(25, 5))
THETA0 = RNG.normal(size=5)


def keras_path(optimizer, grads=GRADS):
    """A float64 variable from THETA0 updated by ``optimizer`` with each gradient in turn (Keras keeps
    the learning rate in float32: the tests use powers of 2)."""
    variable = keras.Variable(THETA0.copy(), dtype="float64")
    path = []
    for g in grads:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g, dtype="float64"), variable)])
        path.append(np.asarray(variable.numpy()))
    return np.array(path)


def relative_gap(got, want):
    """The largest difference along the paths over the paths' largest value (Keras rounds to float32 inside)."""
    return float(np.max(np.abs(np.asarray(got) - np.asarray(want))) / np.max(np.abs(want)))


def slide_path(step, state, grads=GRADS):
    """The reference's rule with the same gradients (the state tuple after θ)."""
    theta, path = THETA0.copy(), []
    for g in grads:
        theta, *state = step(theta, *state, g)
        path.append(theta)
    return np.array(path)


def test_momentum_is_keras_sgd_with_momentum():
    want = keras_path(keras.optimizers.SGD(learning_rate=0.125, momentum=0.8))
    got = slide_path(lambda th, v, g: ref.momentum_step(th, v, g, 0.125, momentum=0.8), [np.zeros(5)])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)  # Keras rounds its hyperparameters to float32


def test_keras_nesterov_variable_is_the_slides_look_ahead_point():
    """Keras's SGD(nesterov=True) stores θ + αv (the point the slides take the gradient at),
    not θ: its variable equals θ_t + α v_t of the slides' form, step by step."""
    a, b = np.diag(np.geomspace(1.0, 20.0, 5)), RNG.normal(size=5)
    grad = lambda th: a @ th - b  # noqa: E731
    theta, v, lookahead = THETA0.copy(), np.zeros(5), []
    for _ in range(20):
        theta, v = ref.nesterov_step(theta, v, grad, 0.015625, momentum=0.9)
        lookahead.append(theta + 0.9 * v)
    optimizer = keras.optimizers.SGD(learning_rate=0.015625, momentum=0.9, nesterov=True)
    variable = keras.Variable(THETA0.copy(), dtype="float64")
    path = []
    for _ in range(20):
        g = grad(np.asarray(variable.numpy()))
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g), variable)])
        path.append(np.asarray(variable.numpy()))
    np.testing.assert_allclose(path, lookahead, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("delta,agrees", [(1e-12, True), (0.1, False)])
def test_adam_agrees_with_keras_only_as_delta_vanishes(delta, agrees):
    """Keras adds ε to √v before the bias correction ("epsilon-hat"); the slides add δ to √r̂."""
    want = keras_path(keras.optimizers.Adam(learning_rate=0.0078125, epsilon=delta))
    got = slide_path(lambda th, s, r, t, g: ref.adam_step(th, s, r, t, g, 0.0078125, delta=delta),
                     [np.zeros(5), np.zeros(5), 0])
    assert (relative_gap(got, want) < 1e-5) == agrees and (relative_gap(got, want) > 1e-3) != agrees


@pytest.mark.parametrize("delta,agrees", [(1e-12, True), (0.1, False)])
def test_rmsprop_agrees_with_keras_only_as_delta_vanishes(delta, agrees):
    """Keras's RMSprop divides by √(v + ε); the slides by δ + √r."""
    want = keras_path(keras.optimizers.RMSprop(learning_rate=0.0078125, rho=0.9, epsilon=delta))
    got = slide_path(lambda th, r, g: ref.rmsprop_step(th, r, g, 0.0078125, rho=0.9, delta=delta), [np.zeros(5)])
    assert (relative_gap(got, want) < 1e-5) == agrees and (relative_gap(got, want) > 1e-3) != agrees


def test_adagrad_agrees_with_keras_from_a_zero_accumulator():
    """Keras's Adagrad starts its accumulator at 0.1 and divides by √(r + ε): equal to the slides
    only from 0 and as ε → 0."""
    want = keras_path(keras.optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=1e-12))
    got = slide_path(lambda th, r, g: ref.adagrad_step(th, r, g, 0.1, delta=1e-12), [np.zeros(5)])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)
    default = keras_path(keras.optimizers.Adagrad(learning_rate=0.1))
    assert not np.allclose(got, default, rtol=1e-3)


def test_slide_adam_is_adam_step_step_by_step():
    want = slide_path(lambda th, s, r, t, g: ref.adam_step(th, s, r, t, g, 0.0078125, rho1=0.8, rho2=0.99, delta=0.1),
                      [np.zeros(5), np.zeros(5), 0])
    got = keras_path(ref.SlideAdam(learning_rate=0.0078125, rho1=0.8, rho2=0.99, delta=0.1))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)  # Keras applies the update in float32 steps


STEPS = np.arange(0, 46)


@pytest.mark.parametrize("ours,keras_schedule", [
    (lambda: ref.InverseTimeSchedule(0.1, 0.3), lambda: keras.optimizers.schedules.InverseTimeDecay(0.1, 1, 0.3)),
    (lambda: ref.ExponentialSchedule(0.1, 0.93), lambda: keras.optimizers.schedules.ExponentialDecay(0.1, 1, 0.93)),
    (lambda: ref.NaturalExpSchedule(0.1, 0.07),
     lambda: keras.optimizers.schedules.ExponentialDecay(0.1, 1, math.exp(-0.07))),
    (lambda: ref.CosineSchedule(0.1, 40), lambda: keras.optimizers.schedules.CosineDecay(0.1, 40, alpha=0.0)),
], ids=["inverse_time", "exponential", "natural_exp", "cosine"])
def test_decays_are_keras_schedules_with_one_step_per_decay(ours, keras_schedule):
    got = [float(ours()(int(t))) for t in STEPS]
    want = [float(keras_schedule()(int(t))) for t in STEPS]
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-9)


def test_warmup_reaches_the_rate_without_a_jump_and_differs_from_keras_warmup():
    ours = ref.LinearWarmup(0.1, 5, ref.CosineSchedule(0.1, 20))
    rates = np.array([float(ours(t)) for t in range(30)])
    np.testing.assert_allclose(rates[:5], 0.1 * np.arange(1, 6) / 5, rtol=1e-6)
    assert rates[5] == pytest.approx(0.1) and np.all(np.diff(rates[5:]) <= 1e-9)
    keras_warm = keras.optimizers.schedules.CosineDecay(0.0, 20, warmup_target=0.1, warmup_steps=5)
    assert float(keras_warm(0)) == 0.0 and rates[0] > 0  # Keras ramps from its initial rate, 0 here


@pytest.mark.parametrize("shape", [(30, 10), (3, 3, 8, 4)])
def test_xavier_uniform_is_keras_lecun_uniform_form_of_variance_scaling(shape):
    """The slides' uniform Xavier is VarianceScaling(1, "fan_in", "uniform") (Keras's LecunUniform), not
    GlorotUniform: with the same seed the draws are equal."""
    ours = np.asarray(ref.XavierUniform(seed=3)(shape))
    keras_draw = np.asarray(keras.initializers.VarianceScaling(1.0, "fan_in", "uniform", seed=3)(shape))
    np.testing.assert_allclose(ours, keras_draw, rtol=1e-6)
    assert ref.fan_in_and_out(shape) == (int(np.prod(shape[:-1])), int(np.prod(shape[:-2]) * shape[-1]))
