# Starter code generated from the reference by `grader starter`: fill in every TODO.
"""Lab — Optimisation and initialisation (神经网络的参数优化), chapter 4 of the slides.

Conventions used throughout:

* **Part 1 is NumPy, float64, with explicit state.** Every update rule takes the
  parameters ``theta`` and its state (velocity ``v``, accumulated squares ``r``,
  first moment ``s``, step count ``t``) and returns the new ones; it never
  changes its arguments. The learning rate is ``lr`` (the slides' η, ε or α),
  the momentum coefficient ``momentum`` (the slides' λ or α), the decay of the
  squared-gradient average ``rho`` (ρ), and the small constant that keeps a
  division finite ``delta`` (δ).
* **δ sits outside the square root**, ``g / (δ + √r)``, as on the slides
  (Adagrad, RMSProp, Adam). Keras's ``Adagrad`` and ``RMSprop`` put their
  epsilon inside (``g / √(r + ε)``) and Keras's ``Adam`` adds it to ``√v``
  before the bias correction of the step ("epsilon-hat"): the rules agree
  with Keras only as δ, ε → 0 (see the handout).
* **Steps count from 0 in Parts 2 and 3**, as Keras's ``optimizer.iterations``
  does: a schedule's ``step`` is the number of updates already made, so the
  first update uses ``schedule(0)`` (the slides' ``α_0``). The slides' warm-up
  counts ``1 ≤ t ≤ T′``: its ``t`` is ``step + 1``.
* **Fans are Keras's**: a Dense kernel (fan_in, fan_out); a convolution kernel
  (..., c_in, c_out) has fan_in = receptive field × c_in and fan_out =
  receptive field × c_out.

Parts 1 and 5 are NumPy, written by hand; Part 2 is a Keras optimiser, Part 3
Keras learning-rate schedules and Part 4 Keras initialisers, all written with
``keras.ops`` and ``keras.random``. Part 6 trains a small float64 Keras model
with a ``GradientTape``; Part 7 runs Part 1's rules on the grader's functions;
Part 8 has nothing new to write: the grader trains its own network with your
``SlideAdam``.
"""

import math

import numpy as np
import keras
from keras import ops


# --------------------------------------------------------------------------
# Part 1. Update rules as pure functions (优化算法)
# --------------------------------------------------------------------------

def sgd_step(theta, g, lr):
    """One step of (mini-batch) gradient descent, ``θ ← θ − η g``. Returns the new ``theta``."""
    # TODO: θ − η·g
    raise NotImplementedError("sgd_step: θ − η·g")


def momentum_step(theta, v, g, lr, momentum=0.9):
    """The slides' momentum (动量法): ``v ← λ v − η g``, ``θ ← θ + v``.
    Returns ``(theta, v)``."""
    # TODO: the velocity first (λ·v − η·g), then θ + v
    raise NotImplementedError("momentum_step: the velocity first (λ·v − η·g), then θ + v")


def nesterov_step(theta, v, grad_fn, lr, momentum=0.9):
    """Nesterov momentum in the slides' look-ahead form: the gradient is taken
    at ``θ̃ = θ + α v`` (``grad_fn(θ̃)``), then ``v ← α v − η g``, ``θ ← θ + v``.
    Returns ``(theta, v)``."""
    # TODO: g = grad_fn(θ + α·v) at the look-ahead point, then as momentum
    raise NotImplementedError("nesterov_step: g = grad_fn(θ + α·v) at the look-ahead point, then as momentum")


def adagrad_step(theta, r, g, lr, delta=1e-7):
    """AdaGrad: ``r ← r + g ⊙ g``, ``θ ← θ − η g / (δ + √r)``, elementwise.
    Returns ``(theta, r)``."""
    # TODO: accumulate g², then divide by δ + √r
    raise NotImplementedError("adagrad_step: accumulate g², then divide by δ + √r")


def rmsprop_step(theta, r, g, lr, rho=0.9, delta=1e-6):
    """RMSProp: ``r ← ρ r + (1 − ρ) g ⊙ g``, ``θ ← θ − η g / (δ + √r)``.
    Returns ``(theta, r)``. Starting from ``r = g_0²`` instead of 0 gives the
    lecture form ``σ_0 = |g_0|``."""
    # TODO: exponentially weighted average of g² (weight ρ on the old r)
    raise NotImplementedError("rmsprop_step: exponentially weighted average of g² (weight ρ on the old r)")


def rmsprop_nesterov_step(theta, v, r, grad_fn, lr, rho=0.9, momentum=0.9, delta=1e-6):
    """RMSProp with Nesterov momentum: ``g = grad_fn(θ + α v)``,
    ``r ← ρ r + (1 − ρ) g ⊙ g``, ``v ← α v − η g / (δ + √r)``, ``θ ← θ + v``
    (momentum acts on the scaled gradient). Returns ``(theta, v, r)``."""
    # TODO: look ahead, accumulate g², scale the gradient, then the velocity
    raise NotImplementedError("rmsprop_nesterov_step: look ahead, accumulate g², scale the gradient, then the velocity")


def adam_step(theta, s, r, t, g, lr, rho1=0.9, rho2=0.999, delta=1e-8):
    """Adam: ``t ← t + 1``, ``s ← ρ1 s + (1 − ρ1) g``, ``r ← ρ2 r + (1 − ρ2) g ⊙ g``,
    ``ŝ = s / (1 − ρ1^t)``, ``r̂ = r / (1 − ρ2^t)``, ``θ ← θ − η ŝ / (δ + √r̂)``.
    ``t`` is the number of steps already taken (0 before the first).
    Returns ``(theta, s, r, t)``."""
    # TODO: t + 1 first; both moments; bias-correct each with its own ρ^t
    raise NotImplementedError("adam_step: t + 1 first; both moments; bias-correct each with its own ρ^t")


# --------------------------------------------------------------------------
# Part 2. Adam as a Keras optimiser
# --------------------------------------------------------------------------

class SlideAdam(keras.optimizers.Optimizer):
    """The slides' Adam (Part 1's ``adam_step``) as a ``keras.optimizers.Optimizer``:
    two slot variables per model variable (``s`` and ``r``, zeros), the step
    ``t = iterations + 1``, and δ outside the square root of the bias-corrected
    ``r̂``. Written with ``keras.ops``; no Keras optimiser inside."""

    def __init__(self, learning_rate=0.001, rho1=0.9, rho2=0.999, delta=1e-8, name="slide_adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho1 = float(rho1)
        self.rho2 = float(rho2)
        self.delta = float(delta)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        # TODO: one zero-initialised s and r per variable (add_variable_from_reference)
        raise NotImplementedError("build: one zero-initialised s and r per variable (add_variable_from_reference)")

    def update_step(self, gradient, variable, learning_rate):
        # TODO: the moments of this variable, t = iterations + 1, then θ ← θ − η ŝ / (δ + √r̂)
        raise NotImplementedError("update_step: the moments of this variable, t = iterations + 1, then θ ← θ − η ŝ / (δ + √r̂)")

    def get_config(self):
        return {**super().get_config(), "rho1": self.rho1, "rho2": self.rho2, "delta": self.delta}


# --------------------------------------------------------------------------
# Part 3. Learning-rate schedules (学习率衰减, 学习率预热)
# --------------------------------------------------------------------------

Schedule = keras.optimizers.schedules.LearningRateSchedule


class InverseTimeSchedule(Schedule):
    """逆时衰减: ``α_t = α0 / (1 + β t)``."""

    def __init__(self, initial_learning_rate, decay_rate):
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_rate = float(decay_rate)

    def __call__(self, step):
        # TODO: α0 / (1 + β·t), t the step as float32
        raise NotImplementedError("__call__: α0 / (1 + β·t), t the step as float32")

    def get_config(self):
        # TODO: the constructor's arguments by name
        raise NotImplementedError("get_config: the constructor's arguments by name")


class ExponentialSchedule(Schedule):
    """指数衰减: ``α_t = α0 β^t`` (β < 1)."""

    def __init__(self, initial_learning_rate, decay_rate):
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_rate = float(decay_rate)

    def __call__(self, step):
        # TODO: α0·β^t
        raise NotImplementedError("__call__: α0·β^t")

    def get_config(self):
        # TODO: the constructor's arguments by name
        raise NotImplementedError("get_config: the constructor's arguments by name")


class NaturalExpSchedule(Schedule):
    """自然指数衰减: ``α_t = α0 exp(−β t)``."""

    def __init__(self, initial_learning_rate, decay_rate):
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_rate = float(decay_rate)

    def __call__(self, step):
        # TODO: α0·exp(−β·t)
        raise NotImplementedError("__call__: α0·exp(−β·t)")

    def get_config(self):
        # TODO: the constructor's arguments by name
        raise NotImplementedError("get_config: the constructor's arguments by name")


class CosineSchedule(Schedule):
    """余弦衰减: ``α_t = ½ α0 (1 + cos(t π / T))`` for ``t ≤ T``, and 0 after
    (the slides' formula would rise again after T)."""

    def __init__(self, initial_learning_rate, decay_steps):
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = int(decay_steps)

    def __call__(self, step):
        # TODO: clamp t to T first, then ½·α0·(1 + cos(π t / T))
        raise NotImplementedError("__call__: clamp t to T first, then ½·α0·(1 + cos(π t / T))")

    def get_config(self):
        # TODO: the constructor's arguments by name
        raise NotImplementedError("get_config: the constructor's arguments by name")


class LinearWarmup(Schedule):
    """学习率预热: ``α0 (step + 1) / T′`` for the first ``T′`` steps (the slides'
    ``α′_t = t/T′ · α0``, ``1 ≤ t ≤ T′``), then ``after(step − T′)``: the other
    schedule starts from its own step 0 when the warm-up ends. ``after`` is a
    ``LearningRateSchedule`` (this lab's or Keras's)."""

    def __init__(self, initial_learning_rate, warmup_steps, after):
        self.initial_learning_rate = float(initial_learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.after = after

    def __call__(self, step):
        # TODO: (step + 1)/T′·α0 while step < T′, else after(step − T′)
        raise NotImplementedError("__call__: (step + 1)/T′·α0 while step < T′, else after(step − T′)")

    def get_config(self):
        # TODO: `after` as keras.saving.serialize_keras_object makes it
        raise NotImplementedError("get_config: `after` as keras.saving.serialize_keras_object makes it")

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["after"] = keras.saving.deserialize_keras_object(config["after"], custom_objects=schedule_classes())
        return cls(**config)


def schedule_classes():
    """This module's schedules by class name (``custom_objects`` for deserialising them)."""
    return {c.__name__: c for c in (InverseTimeSchedule, ExponentialSchedule, NaturalExpSchedule, CosineSchedule,
                                    LinearWarmup)}


# --------------------------------------------------------------------------
# Part 4. Initialisers (参数初始化: Xavier, He)
# --------------------------------------------------------------------------

def fan_in_and_out(shape):
    """``(fan_in, fan_out)`` of a weight of ``shape``, as Keras computes them:
    ``()`` → (1, 1); ``(n,)`` → (n, n); ``(n_in, n_out)`` → (n_in, n_out);
    a convolution kernel ``(k1, …, c_in, c_out)`` → (k1⋯·c_in, k1⋯·c_out)."""
    # TODO: receptive field = product of all but the last two dimensions
    raise NotImplementedError("fan_in_and_out: receptive field = product of all but the last two dimensions")


class XavierNormal(keras.initializers.Initializer):
    """The slides' Xavier initialisation (fan-in form): ``N(0, 1/fan_in)``."""

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        # TODO: keras.random.normal with stddev √(1/fan_in)
        raise NotImplementedError("__call__: keras.random.normal with stddev √(1/fan_in)")

    def get_config(self):
        return {"seed": self.seed}


class XavierUniform(keras.initializers.Initializer):
    """The slides' uniform Xavier initialisation: ``U(−√(3/fan_in), √(3/fan_in))``
    (variance 1/fan_in)."""

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        # TODO: bound r = √(3·var) with var = 1/fan_in
        raise NotImplementedError("__call__: bound r = √(3·var) with var = 1/fan_in")

    def get_config(self):
        return {"seed": self.seed}


class HeNormal(keras.initializers.Initializer):
    """He initialisation for ReLU: ``N(0, 2/fan_in)`` (the slides' derivation,
    ``½ n_l var(w_l) = 1``; their code divides by √(2/fan_in) instead)."""

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        # TODO: stddev √(2/fan_in)
        raise NotImplementedError("__call__: stddev √(2/fan_in)")

    def get_config(self):
        return {"seed": self.seed}


class PReLUNormal(keras.initializers.Initializer):
    """He initialisation for a PReLU of slope ``a``: ``N(0, 2/((1 + a²) fan_in))``."""

    def __init__(self, negative_slope=0.25, seed=None):
        self.negative_slope = float(negative_slope)
        self.seed = seed

    def __call__(self, shape, dtype=None):
        # TODO: variance 2 / ((1 + a²)·fan_in)
        raise NotImplementedError("__call__: variance 2 / ((1 + a²)·fan_in)")

    def get_config(self):
        return {"negative_slope": self.negative_slope, "seed": self.seed}


class UniformFromVariance(keras.initializers.Initializer):
    """``U(−r, r)`` with variance σ²: ``r = √(3σ²)`` (symmetric about 0; the
    slides' ``r * np.random.rand`` draws from [0, r) instead)."""

    def __init__(self, variance, seed=None):
        self.variance = float(variance)
        self.seed = seed

    def __call__(self, shape, dtype=None):
        # TODO: r = √(3σ²), the same for every shape
        raise NotImplementedError("__call__: r = √(3σ²), the same for every shape")

    def get_config(self):
        return {"variance": self.variance, "seed": self.seed}


# --------------------------------------------------------------------------
# Part 5. The slides' experiment: activations through 10 layers of 500 units
# --------------------------------------------------------------------------

#: The four Gaussian initialisations of the slides' experiment.
INIT_NAMES = ("small", "large", "xavier", "he")


def init_std(name, fan_in):
    """The standard deviation of the slides' Gaussian initialisation ``name`` for a
    layer with ``fan_in`` inputs: small 0.01, large 1, Xavier √(1/fan_in), He √(2/fan_in)."""
    # TODO: 0.01, 1.0, √(1/fan_in), √(2/fan_in) by name
    raise NotImplementedError("init_std: 0.01, 1.0, √(1/fan_in), √(2/fan_in) by name")


def activation_stats(init, activation, n_layers=10, width=500, n=1000, seed=0, sat_level=0.99):
    """The slides' experiment: ``n`` inputs x ~ N(0, 1) of shape (n, width) through
    ``n_layers`` layers ``a_l = f(a_{l−1} W_l)``, ``W_l`` (width, width) drawn from
    N(0, init_std(init, width)²) with ``np.random.default_rng(seed)`` (x first, then
    each W in turn), no bias, f = ``activation`` ("tanh" or "relu").

    Returns a dict of three float64 arrays of shape (n_layers,), one entry per
    layer's OUTPUT ``a_l`` (not the pre-activation): ``mean`` and ``std`` over its
    n·width entries, and ``saturated``, the share of entries with |a_l| > ``sat_level``.
    """
    # TODO: draw x, then per layer W and a = f(a W); record mean, std, share of |a| > sat_level
    raise NotImplementedError("activation_stats: draw x, then per layer W and a = f(a W); record mean, std, share of |a| > sat_level")


# --------------------------------------------------------------------------
# Part 6. The symmetry problem (对称权重问题), and the output bias softmax(b) = c
# --------------------------------------------------------------------------

def symmetric_mlp(init, n_in, hidden, n_out, seed=0):
    """A float64 Keras MLP ``Dense(hidden, tanh) → Dense(n_out)`` (logits) whose
    kernels are all zeros (``init="zero"``), all 0.5 (``"constant"``) or drawn by
    Part 4's ``XavierNormal(seed)`` (``"random"``); every bias 0."""
    # TODO: the kernel initialiser by name, two float64 Dense layers, zero biases
    raise NotImplementedError("symmetric_mlp: the kernel initialiser by name, two float64 Dense layers, zero biases")


def train_steps(model, x, y, steps, lr):
    """``steps`` full-batch gradient-descent steps ``w ← w − lr·g`` on the mean softmax
    cross-entropy of the integer labels ``y`` and the model's logits. Returns the loss
    before each step (a list of floats); the model's weights change in place."""
    # TODO: GradientTape over the loss, then w.assign_sub(lr·g) for every trainable weight
    raise NotImplementedError("train_steps: GradientTape over the loss, then w.assign_sub(lr·g) for every trainable weight")


def prior_bias(c):
    """The output bias ``b`` (K,) with ``softmax(b) = c`` for class frequencies ``c``
    (K,), c > 0, Σc = 1. Any ``b + const`` does as well (softmax ignores a shift);
    this returns ``log c``."""
    # TODO: softmax(log c) = c / Σc = c
    raise NotImplementedError("prior_bias: softmax(log c) = c / Σc = c")


# --------------------------------------------------------------------------
# Part 7. The optimiser race: an ill-conditioned bowl, Rosenbrock and a saddle
# --------------------------------------------------------------------------

RULES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")


def run_rule(rule, grad_fn, theta0, steps, **hyper):
    """``steps`` steps of the update rule ``rule`` (one of ``RULES``) from ``theta0``
    on the gradient ``grad_fn(theta)``, each through Part 1's step function
    (``sgd_step`` … ``adam_step``) with its state started at zero. ``hyper``: that
    step function's keyword arguments (``lr``, ``momentum``, ``rho``, ``delta``, …).
    Returns the path, float64 (steps + 1, d): ``theta0`` first, then θ after each step."""
    # TODO: zero state; each step g = grad_fn(θ) (the Nesterov rules take grad_fn itself)
    raise NotImplementedError("run_rule: zero state; each step g = grad_fn(θ) (the Nesterov rules take grad_fn itself)")


def steps_to_escape(path, radius=1.0):
    """The first step at which |θ_1| (the saddle's way down, y) exceeds ``radius``,
    or ``len(path)`` if it never does."""
    # TODO: the first index where |y| > radius
    raise NotImplementedError("steps_to_escape: the first index where |y| > radius")


def coordinate_progress(path):
    """Each coordinate's progress along a path: ``log|θ_T,i| − log|θ_0,i|`` (float64,
    (d,)): −10 means coordinate i shrank by e^10."""
    # TODO: log|θ_T| − log|θ_0|, elementwise
    raise NotImplementedError("coordinate_progress: log|θ_T| − log|θ_0|, elementwise")
