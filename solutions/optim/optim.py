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
    # BEGIN SOLUTION: θ − η·g
    return np.asarray(theta, dtype=np.float64) - lr * np.asarray(g, dtype=np.float64)
    # END SOLUTION


def momentum_step(theta, v, g, lr, momentum=0.9):
    """The slides' momentum (动量法): ``v ← λ v − η g``, ``θ ← θ + v``.
    Returns ``(theta, v)``."""
    # BEGIN SOLUTION: the velocity first (λ·v − η·g), then θ + v
    velocity = momentum * np.asarray(v, dtype=np.float64) - lr * np.asarray(g, dtype=np.float64)
    return np.asarray(theta, dtype=np.float64) + velocity, velocity
    # END SOLUTION


def nesterov_step(theta, v, grad_fn, lr, momentum=0.9):
    """Nesterov momentum in the slides' look-ahead form: the gradient is taken
    at ``θ̃ = θ + α v`` (``grad_fn(θ̃)``), then ``v ← α v − η g``, ``θ ← θ + v``.
    Returns ``(theta, v)``."""
    # BEGIN SOLUTION: g = grad_fn(θ + α·v) at the look-ahead point, then as momentum
    theta = np.asarray(theta, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    g_ahead = np.asarray(grad_fn(theta + momentum * v), dtype=np.float64)
    v_next = momentum * v - lr * g_ahead
    return theta + v_next, v_next
    # END SOLUTION


def adagrad_step(theta, r, g, lr, delta=1e-7):
    """AdaGrad: ``r ← r + g ⊙ g``, ``θ ← θ − η g / (δ + √r)``, elementwise.
    Returns ``(theta, r)``."""
    # BEGIN SOLUTION: accumulate g², then divide by δ + √r
    g = np.asarray(g, dtype=np.float64)
    r_next = np.asarray(r, dtype=np.float64) + g * g
    return np.asarray(theta, dtype=np.float64) - lr * g / (delta + np.sqrt(r_next)), r_next
    # END SOLUTION


def rmsprop_step(theta, r, g, lr, rho=0.9, delta=1e-6):
    """RMSProp: ``r ← ρ r + (1 − ρ) g ⊙ g``, ``θ ← θ − η g / (δ + √r)``.
    Returns ``(theta, r)``. Starting from ``r = g_0²`` instead of 0 gives the
    lecture form ``σ_0 = |g_0|``."""
    # BEGIN SOLUTION: exponentially weighted average of g² (weight ρ on the old r)
    g = np.asarray(g, dtype=np.float64)
    r_next = rho * np.asarray(r, dtype=np.float64) + (1.0 - rho) * g * g
    return np.asarray(theta, dtype=np.float64) - lr * g / (delta + np.sqrt(r_next)), r_next
    # END SOLUTION


def rmsprop_nesterov_step(theta, v, r, grad_fn, lr, rho=0.9, momentum=0.9, delta=1e-6):
    """RMSProp with Nesterov momentum: ``g = grad_fn(θ + α v)``,
    ``r ← ρ r + (1 − ρ) g ⊙ g``, ``v ← α v − η g / (δ + √r)``, ``θ ← θ + v``
    (momentum acts on the scaled gradient). Returns ``(theta, v, r)``."""
    # BEGIN SOLUTION: look ahead, accumulate g², scale the gradient, then the velocity
    theta = np.asarray(theta, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    g_ahead = np.asarray(grad_fn(theta + momentum * v), dtype=np.float64)
    r_next = rho * np.asarray(r, dtype=np.float64) + (1.0 - rho) * g_ahead * g_ahead
    v_next = momentum * v - lr * g_ahead / (delta + np.sqrt(r_next))
    return theta + v_next, v_next, r_next
    # END SOLUTION


def adam_step(theta, s, r, t, g, lr, rho1=0.9, rho2=0.999, delta=1e-8):
    """Adam: ``t ← t + 1``, ``s ← ρ1 s + (1 − ρ1) g``, ``r ← ρ2 r + (1 − ρ2) g ⊙ g``,
    ``ŝ = s / (1 − ρ1^t)``, ``r̂ = r / (1 − ρ2^t)``, ``θ ← θ − η ŝ / (δ + √r̂)``.
    ``t`` is the number of steps already taken (0 before the first).
    Returns ``(theta, s, r, t)``."""
    # BEGIN SOLUTION: t + 1 first; both moments; bias-correct each with its own ρ^t
    g = np.asarray(g, dtype=np.float64)
    step = int(t) + 1
    s_next = rho1 * np.asarray(s, dtype=np.float64) + (1.0 - rho1) * g
    r_next = rho2 * np.asarray(r, dtype=np.float64) + (1.0 - rho2) * g * g
    s_hat = s_next / (1.0 - rho1 ** step)
    r_hat = r_next / (1.0 - rho2 ** step)
    return np.asarray(theta, dtype=np.float64) - lr * s_hat / (delta + np.sqrt(r_hat)), s_next, r_next, step
    # END SOLUTION


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
        # BEGIN SOLUTION: one zero-initialised s and r per variable (add_variable_from_reference)
        self._first_moments = [self.add_variable_from_reference(v, name="s") for v in variables]
        self._second_moments = [self.add_variable_from_reference(v, name="r") for v in variables]
        # END SOLUTION

    def update_step(self, gradient, variable, learning_rate):
        # BEGIN SOLUTION: the moments of this variable, t = iterations + 1, then θ ← θ − η ŝ / (δ + √r̂)
        index = self._get_variable_index(variable)
        s, r = self._first_moments[index], self._second_moments[index]
        lr = ops.cast(learning_rate, variable.dtype)
        grad = ops.cast(gradient, variable.dtype)
        count = ops.cast(self.iterations + 1, variable.dtype)
        self.assign(s, self.rho1 * s + (1.0 - self.rho1) * grad)
        self.assign(r, self.rho2 * r + (1.0 - self.rho2) * ops.square(grad))
        s_corrected = s / (1.0 - ops.power(ops.cast(self.rho1, variable.dtype), count))
        r_corrected = r / (1.0 - ops.power(ops.cast(self.rho2, variable.dtype), count))
        self.assign_sub(variable, lr * s_corrected / (self.delta + ops.sqrt(r_corrected)))
        # END SOLUTION

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
        # BEGIN SOLUTION: α0 / (1 + β·t), t the step as float32
        t = ops.cast(step, "float32")
        return self.initial_learning_rate / (1.0 + self.decay_rate * t)
        # END SOLUTION

    def get_config(self):
        # BEGIN SOLUTION: the constructor's arguments by name
        return {"initial_learning_rate": self.initial_learning_rate, "decay_rate": self.decay_rate}
        # END SOLUTION


class ExponentialSchedule(Schedule):
    """指数衰减: ``α_t = α0 β^t`` (β < 1)."""

    def __init__(self, initial_learning_rate, decay_rate):
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_rate = float(decay_rate)

    def __call__(self, step):
        # BEGIN SOLUTION: α0·β^t
        t = ops.cast(step, "float32")
        return self.initial_learning_rate * ops.power(self.decay_rate, t)
        # END SOLUTION

    def get_config(self):
        # BEGIN SOLUTION: the constructor's arguments by name
        return {"initial_learning_rate": self.initial_learning_rate, "decay_rate": self.decay_rate}
        # END SOLUTION


class NaturalExpSchedule(Schedule):
    """自然指数衰减: ``α_t = α0 exp(−β t)``."""

    def __init__(self, initial_learning_rate, decay_rate):
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_rate = float(decay_rate)

    def __call__(self, step):
        # BEGIN SOLUTION: α0·exp(−β·t)
        t = ops.cast(step, "float32")
        return self.initial_learning_rate * ops.exp(-self.decay_rate * t)
        # END SOLUTION

    def get_config(self):
        # BEGIN SOLUTION: the constructor's arguments by name
        return {"initial_learning_rate": self.initial_learning_rate, "decay_rate": self.decay_rate}
        # END SOLUTION


class CosineSchedule(Schedule):
    """余弦衰减: ``α_t = ½ α0 (1 + cos(t π / T))`` for ``t ≤ T``, and 0 after
    (the slides' formula would rise again after T)."""

    def __init__(self, initial_learning_rate, decay_steps):
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = int(decay_steps)

    def __call__(self, step):
        # BEGIN SOLUTION: clamp t to T first, then ½·α0·(1 + cos(π t / T))
        t = ops.minimum(ops.cast(step, "float32"), float(self.decay_steps))
        return 0.5 * self.initial_learning_rate * (1.0 + ops.cos(math.pi * t / self.decay_steps))
        # END SOLUTION

    def get_config(self):
        # BEGIN SOLUTION: the constructor's arguments by name
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps}
        # END SOLUTION


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
        # BEGIN SOLUTION: (step + 1)/T′·α0 while step < T′, else after(step − T′)
        t = ops.cast(step, "float32")
        ramp = self.initial_learning_rate * (t + 1.0) / self.warmup_steps
        later = ops.cast(self.after(ops.maximum(t - self.warmup_steps, 0.0)), "float32")
        return ops.where(t < self.warmup_steps, ramp, later)
        # END SOLUTION

    def get_config(self):
        # BEGIN SOLUTION: `after` as keras.saving.serialize_keras_object makes it
        return {"initial_learning_rate": self.initial_learning_rate, "warmup_steps": self.warmup_steps,
                "after": keras.saving.serialize_keras_object(self.after)}
        # END SOLUTION

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
    # BEGIN SOLUTION: receptive field = product of all but the last two dimensions
    shape = tuple(int(d) for d in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive
    # END SOLUTION


class XavierNormal(keras.initializers.Initializer):
    """The slides' Xavier initialisation (fan-in form): ``N(0, 1/fan_in)``."""

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        # BEGIN SOLUTION: keras.random.normal with stddev √(1/fan_in)
        fan_in, _ = fan_in_and_out(shape)
        return keras.random.normal(shape, stddev=math.sqrt(1.0 / fan_in), dtype=dtype, seed=self.seed)
        # END SOLUTION

    def get_config(self):
        return {"seed": self.seed}


class XavierUniform(keras.initializers.Initializer):
    """The slides' uniform Xavier initialisation: ``U(−√(3/fan_in), √(3/fan_in))``
    (variance 1/fan_in)."""

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        # BEGIN SOLUTION: bound r = √(3·var) with var = 1/fan_in
        fan_in, _ = fan_in_and_out(shape)
        bound = math.sqrt(3.0 / fan_in)
        return keras.random.uniform(shape, minval=-bound, maxval=bound, dtype=dtype, seed=self.seed)
        # END SOLUTION

    def get_config(self):
        return {"seed": self.seed}


class HeNormal(keras.initializers.Initializer):
    """He initialisation for ReLU: ``N(0, 2/fan_in)`` (the slides' derivation,
    ``½ n_l var(w_l) = 1``; their code divides by √(2/fan_in) instead)."""

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        # BEGIN SOLUTION: stddev √(2/fan_in)
        fan_in, _ = fan_in_and_out(shape)
        return keras.random.normal(shape, stddev=math.sqrt(2.0 / fan_in), dtype=dtype, seed=self.seed)
        # END SOLUTION

    def get_config(self):
        return {"seed": self.seed}


class PReLUNormal(keras.initializers.Initializer):
    """He initialisation for a PReLU of slope ``a``: ``N(0, 2/((1 + a²) fan_in))``."""

    def __init__(self, negative_slope=0.25, seed=None):
        self.negative_slope = float(negative_slope)
        self.seed = seed

    def __call__(self, shape, dtype=None):
        # BEGIN SOLUTION: variance 2 / ((1 + a²)·fan_in)
        fan_in, _ = fan_in_and_out(shape)
        variance = 2.0 / ((1.0 + self.negative_slope ** 2) * fan_in)
        return keras.random.normal(shape, stddev=math.sqrt(variance), dtype=dtype, seed=self.seed)
        # END SOLUTION

    def get_config(self):
        return {"negative_slope": self.negative_slope, "seed": self.seed}


class UniformFromVariance(keras.initializers.Initializer):
    """``U(−r, r)`` with variance σ²: ``r = √(3σ²)`` (symmetric about 0; the
    slides' ``r * np.random.rand`` draws from [0, r) instead)."""

    def __init__(self, variance, seed=None):
        self.variance = float(variance)
        self.seed = seed

    def __call__(self, shape, dtype=None):
        # BEGIN SOLUTION: r = √(3σ²), the same for every shape
        bound = math.sqrt(3.0 * self.variance)
        return keras.random.uniform(shape, minval=-bound, maxval=bound, dtype=dtype, seed=self.seed)
        # END SOLUTION

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
    # BEGIN SOLUTION: 0.01, 1.0, √(1/fan_in), √(2/fan_in) by name
    stds = {"small": 0.01, "large": 1.0, "xavier": math.sqrt(1.0 / fan_in), "he": math.sqrt(2.0 / fan_in)}
    return stds[name]
    # END SOLUTION


def activation_stats(init, activation, n_layers=10, width=500, n=1000, seed=0, sat_level=0.99):
    """The slides' experiment: ``n`` inputs x ~ N(0, 1) of shape (n, width) through
    ``n_layers`` layers ``a_l = f(a_{l−1} W_l)``, ``W_l`` (width, width) drawn from
    N(0, init_std(init, width)²) with ``np.random.default_rng(seed)`` (x first, then
    each W in turn), no bias, f = ``activation`` ("tanh" or "relu").

    Returns a dict of three float64 arrays of shape (n_layers,), one entry per
    layer's OUTPUT ``a_l`` (not the pre-activation): ``mean`` and ``std`` over its
    n·width entries, and ``saturated``, the share of entries with |a_l| > ``sat_level``.
    """
    # BEGIN SOLUTION: draw x, then per layer W and a = f(a W); record mean, std, share of |a| > sat_level
    rng = np.random.default_rng(seed)
    f = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}[activation]
    a = rng.standard_normal((n, width))
    means, stds, shares = [], [], []
    for _ in range(n_layers):
        w = rng.standard_normal((width, width)) * init_std(init, width)
        a = f(a @ w)
        means.append(a.mean())
        stds.append(a.std())
        shares.append(np.mean(np.abs(a) > sat_level))
    return {"mean": np.array(means), "std": np.array(stds), "saturated": np.array(shares)}
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 6. The symmetry problem (对称权重问题), and the output bias softmax(b) = c
# --------------------------------------------------------------------------

def symmetric_mlp(init, n_in, hidden, n_out, seed=0):
    """A float64 Keras MLP ``Dense(hidden, tanh) → Dense(n_out)`` (logits) whose
    kernels are all zeros (``init="zero"``), all 0.5 (``"constant"``) or drawn by
    Part 4's ``XavierNormal(seed)`` (``"random"``); every bias 0."""
    # BEGIN SOLUTION: the kernel initialiser by name, two float64 Dense layers, zero biases
    kernel = {"zero": keras.initializers.Zeros(), "constant": keras.initializers.Constant(0.5),
              "random": XavierNormal(seed=seed)}[init]
    return keras.Sequential([keras.Input((n_in,), dtype="float64"),
                             keras.layers.Dense(hidden, "tanh", kernel_initializer=kernel, dtype="float64"),
                             keras.layers.Dense(n_out, kernel_initializer=kernel, dtype="float64")])
    # END SOLUTION


def train_steps(model, x, y, steps, lr):
    """``steps`` full-batch gradient-descent steps ``w ← w − lr·g`` on the mean softmax
    cross-entropy of the integer labels ``y`` and the model's logits. Returns the loss
    before each step (a list of floats); the model's weights change in place."""
    # BEGIN SOLUTION: GradientTape over the loss, then w.assign_sub(lr·g) for every trainable weight
    import tensorflow as tf

    x = tf.constant(np.asarray(x, dtype=np.float64))
    y = tf.constant(np.asarray(y, dtype=np.int64))
    losses = []
    for _ in range(int(steps)):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, model(x)))
        grads = tape.gradient(loss, model.trainable_weights)
        for weight, grad in zip(model.trainable_weights, grads):
            weight.assign_sub(lr * grad)
        losses.append(float(loss))
    return losses
    # END SOLUTION


def prior_bias(c):
    """The output bias ``b`` (K,) with ``softmax(b) = c`` for class frequencies ``c``
    (K,), c > 0, Σc = 1. Any ``b + const`` does as well (softmax ignores a shift);
    this returns ``log c``."""
    # BEGIN SOLUTION: softmax(log c) = c / Σc = c
    return np.log(np.asarray(c, dtype=np.float64))
    # END SOLUTION


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
    # BEGIN SOLUTION: zero state; each step g = grad_fn(θ) (the Nesterov rules take grad_fn itself)
    theta = np.array(theta0, dtype=np.float64)
    v, r, s, t = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta), 0
    path = [theta]
    for _ in range(int(steps)):
        if rule == "sgd":
            theta = sgd_step(theta, grad_fn(theta), **hyper)
        elif rule == "momentum":
            theta, v = momentum_step(theta, v, grad_fn(theta), **hyper)
        elif rule == "nesterov":
            theta, v = nesterov_step(theta, v, grad_fn, **hyper)
        elif rule == "adagrad":
            theta, r = adagrad_step(theta, r, grad_fn(theta), **hyper)
        elif rule == "rmsprop":
            theta, r = rmsprop_step(theta, r, grad_fn(theta), **hyper)
        elif rule == "adam":
            theta, s, r, t = adam_step(theta, s, r, t, grad_fn(theta), **hyper)
        else:
            raise ValueError(f"unknown rule {rule!r}")
        path.append(theta)
    return np.array(path)
    # END SOLUTION


def steps_to_escape(path, radius=1.0):
    """The first step at which |θ_1| (the saddle's way down, y) exceeds ``radius``,
    or ``len(path)`` if it never does."""
    # BEGIN SOLUTION: the first index where |y| > radius
    hit = np.nonzero(np.abs(np.asarray(path)[:, 1]) > radius)[0]
    return int(hit[0]) if hit.size else len(path)
    # END SOLUTION


def coordinate_progress(path):
    """Each coordinate's progress along a path: ``log|θ_T,i| − log|θ_0,i|`` (float64,
    (d,)): −10 means coordinate i shrank by e^10."""
    # BEGIN SOLUTION: log|θ_T| − log|θ_0|, elementwise
    path = np.asarray(path, dtype=np.float64)
    return np.log(np.abs(path[-1])) - np.log(np.abs(path[0]))
    # END SOLUTION
