# Starter code generated from the reference by `grader starter`: fill in every TODO.
"""Lab — Feed-forward networks and backpropagation (前馈神经网络与反向传播), chapter 2 of the slides.

Conventions used throughout (Keras's, not the slides'):

* **Batches come first and weights are row-major**: a layer computes
  ``Z = A W + b`` with ``A`` (B, n_in), ``W`` (n_in, n_out), ``b`` (n_out,),
  as ``keras.layers.Dense`` stores its kernel. The slides write one column
  vector at a time, ``z = W a + b`` with ``W`` (n_out, n_in); their error
  term ``e^(l) = f'(z^(l)) ⊙ (e^(l+1) W^(l+1))`` and ``∂L/∂W = e a^(l−1)ᵀ``
  become ``E_l = dA_l ⊙ f'(Z_l)``, ``dW_l = A_{l−1}ᵀ E_l``, ``db_l = Σ_rows E_l``
  and ``dA_{l−1} = E_l W_lᵀ`` here.
* Losses are **means over the batch**, as Keras's losses are, so their
  gradients carry a factor ``1/B``.
* A derivative at a kink (ReLU and leaky ReLU at 0) is the left slope, as
  TensorFlow's gradients of ``relu`` and ``leaky_relu`` are: 0 for ReLU,
  ``γ`` for leaky ReLU.

Parts 1, 3, 4 and 5 are NumPy (float64 in, float64 out), written by hand;
Part 2 is a Keras layer; Part 6 joins a hand-written backward pass to
TensorFlow's autodiff with ``tf.custom_gradient``. Part 7's losses are
written with ``keras.ops`` so that they work on NumPy arrays and on tensors
of any float dtype and are differentiable; a 1-D mixture density network
(MDN) returns ONE tensor of shape (B, 3K) holding
``[pi_logits (K) | means (K) | log_sigmas (K)]`` in that order (see
:func:`split_mdn_output`): the grader reads a trained MDN's output that way.
Part 8 is the slides' 编程作业 and its study.
"""

import contextlib
import math

import numpy as np
import tensorflow as tf
import keras
from keras import layers, ops

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
#: The constant of the slides' tanh approximation of GELU (Hendrycks & Gimpel 2016; Keras uses the same).
GELU_TANH_C = 0.044715
#: The slope of the slides' sigmoid approximation of GELU, ``x σ(1.702 x)``.
GELU_SIGMOID_A = 1.702
LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------
# Part 1. Activations and their derivatives (激活函数及其导数)
# --------------------------------------------------------------------------

def sigmoid(x):
    """Logistic function ``σ(x) = 1 / (1 + exp(−x))``, finite and warning-free
    for any ``x`` (σ(−1000) = 0, σ(1000) = 1). Returns an array shaped like ``x``."""
    # TODO: exp of a non-positive number only: 1/(1+e^−x) for x ≥ 0, e^x/(1+e^x) for x < 0
    raise NotImplementedError("sigmoid: exp of a non-positive number only: 1/(1+e^−x) for x ≥ 0, e^x/(1+e^x) for x < 0")


def d_sigmoid(x):
    """``σ'(x) = σ(x)(1 − σ(x))``."""
    # TODO: σ(x)·(1 − σ(x))
    raise NotImplementedError("d_sigmoid: σ(x)·(1 − σ(x))")


def tanh(x):
    """``tanh(x) = (e^x − e^−x)/(e^x + e^−x)`` (zero-centred, 零中心化)."""
    # TODO: np.tanh is stable (2σ(2x) − 1 is the same function)
    raise NotImplementedError("tanh: np.tanh is stable (2σ(2x) − 1 is the same function)")


def d_tanh(x):
    """``tanh'(x) = 1 − tanh²(x)``."""
    # TODO: 1 − tanh(x)²
    raise NotImplementedError("d_tanh: 1 − tanh(x)²")


def relu(x):
    """``ReLU(x) = max(0, x)``."""
    # TODO: max(0, x)
    raise NotImplementedError("relu: max(0, x)")


def d_relu(x):
    """1 where ``x > 0``, else 0 (0 at x = 0, as TensorFlow's gradient of relu)."""
    # TODO: 1.0 where x > 0, 0.0 elsewhere, x = 0 included
    raise NotImplementedError("d_relu: 1.0 where x > 0, 0.0 elsewhere, x = 0 included")


def leaky_relu(x, gamma=0.01):
    """``LeakyReLU(x) = max(γx, x)`` for ``0 ≤ γ < 1``: ``x`` where ``x > 0``, ``γx`` elsewhere."""
    # TODO: x where x > 0, γ·x elsewhere
    raise NotImplementedError("leaky_relu: x where x > 0, γ·x elsewhere")


def d_leaky_relu(x, gamma=0.01):
    """1 where ``x > 0``, ``γ`` elsewhere (γ at x = 0, as TensorFlow's gradient of leaky_relu)."""
    # TODO: 1.0 where x > 0, γ elsewhere, x = 0 included
    raise NotImplementedError("d_leaky_relu: 1.0 where x > 0, γ elsewhere, x = 0 included")


def elu(x, gamma=1.0):
    """``ELU(x) = max(0, x) + min(0, γ(e^x − 1))``; finite and warning-free for any ``x``."""
    # TODO: x where x > 0, γ·expm1(x) elsewhere (expm1 of min(x, 0): no overflow in the unused branch)
    raise NotImplementedError("elu: x where x > 0, γ·expm1(x) elsewhere (expm1 of min(x, 0): no overflow in the unused branch)")


def d_elu(x, gamma=1.0):
    """1 where ``x > 0``, ``γ e^x`` elsewhere."""
    # TODO: 1 where x > 0, γ·exp(min(x, 0)) elsewhere
    raise NotImplementedError("d_elu: 1 where x > 0, γ·exp(min(x, 0)) elsewhere")


def softplus(x):
    """``softplus(x) = log(1 + e^x)``, finite for any ``x`` (softplus(1000) = 1000)."""
    # TODO: max(x, 0) + log1p(exp(−|x|))
    raise NotImplementedError("softplus: max(x, 0) + log1p(exp(−|x|))")


def d_softplus(x):
    """``softplus'(x) = σ(x)``."""
    # TODO: σ(x)
    raise NotImplementedError("d_softplus: σ(x)")


def swish(x, beta=1.0):
    """Swish, the slides' 自门控激活函数: ``x σ(βx)``. β = 0 gives x/2; a large β approaches ReLU."""
    # TODO: x·σ(β·x)
    raise NotImplementedError("swish: x·σ(β·x)")


def d_swish(x, beta=1.0):
    """``swish'(x) = σ(βx) + βx σ(βx)(1 − σ(βx))``."""
    # TODO: σ(βx) + βx·σ(βx)(1 − σ(βx))
    raise NotImplementedError("d_swish: σ(βx) + βx·σ(βx)(1 − σ(βx))")


def _erf(x):
    """The error function, elementwise (``math.erf`` on every element)."""
    return np.vectorize(math.erf, otypes=[np.float64])(np.asarray(x, dtype=np.float64))


def gelu(x):
    """Exact GELU, ``x P(X ≤ x) = x Φ(x)`` with ``X ~ N(0, 1)``: ``x · ½(1 + erf(x/√2))``."""
    # TODO: x·Φ(x), Φ(x) = ½(1 + erf(x/√2)) (the _erf helper above)
    raise NotImplementedError("gelu: x·Φ(x), Φ(x) = ½(1 + erf(x/√2)) (the _erf helper above)")


def d_gelu(x):
    """``GELU'(x) = Φ(x) + x φ(x)``, with φ the standard normal density."""
    # TODO: Φ(x) + x·exp(−x²/2)/√(2π)
    raise NotImplementedError("d_gelu: Φ(x) + x·exp(−x²/2)/√(2π)")


def gelu_tanh(x):
    """The slides' tanh approximation, ``½x(1 + tanh(√(2/π)(x + 0.044715x³)))``."""
    # TODO: ½x(1 + tanh(u)) with u = √(2/π)(x + 0.044715x³)
    raise NotImplementedError("gelu_tanh: ½x(1 + tanh(u)) with u = √(2/π)(x + 0.044715x³)")


def d_gelu_tanh(x):
    """The derivative of :func:`gelu_tanh`:
    ``½(1 + tanh u) + ½x(1 − tanh² u)·√(2/π)(1 + 3·0.044715x²)``."""
    # TODO: product rule, then the chain rule through u (du/dx = √(2/π)(1 + 3·0.044715x²))
    raise NotImplementedError("d_gelu_tanh: product rule, then the chain rule through u (du/dx = √(2/π)(1 + 3·0.044715x²))")


def gelu_sigmoid(x):
    """The slides' sigmoid approximation, ``x σ(1.702 x)``."""
    # TODO: x·σ(1.702x)
    raise NotImplementedError("gelu_sigmoid: x·σ(1.702x)")


def d_gelu_sigmoid(x):
    """The derivative of :func:`gelu_sigmoid`: ``σ(1.702x) + 1.702x σ(1.702x)(1 − σ(1.702x))``."""
    # TODO: σ(ax) + a·x·σ(ax)(1 − σ(ax)) with a = 1.702
    raise NotImplementedError("d_gelu_sigmoid: σ(ax) + a·x·σ(ax)(1 − σ(ax)) with a = 1.702")


#: Every activation of Part 1 by name, with its derivative (the MLP of Part 4 looks them up here).
ACTIVATIONS = {
    "sigmoid": (sigmoid, d_sigmoid), "tanh": (tanh, d_tanh), "relu": (relu, d_relu),
    "leaky_relu": (leaky_relu, d_leaky_relu), "elu": (elu, d_elu), "softplus": (softplus, d_softplus),
    "swish": (swish, d_swish), "gelu": (gelu, d_gelu), "gelu_tanh": (gelu_tanh, d_gelu_tanh),
    "gelu_sigmoid": (gelu_sigmoid, d_gelu_sigmoid),
}


# --------------------------------------------------------------------------
# Part 2. Maxout (Maxout 单元)
# --------------------------------------------------------------------------

class Maxout(keras.layers.Layer):
    """Maxout units: ``z = x W + b`` with ``units·pieces`` outputs, split into
    ``units`` groups of ``pieces`` consecutive columns (the slides' ``G(i)``:
    columns ``i·pieces … i·pieces + pieces − 1`` of ``z``), each unit the
    maximum of its group.

    Weights, in this order: ``kernel`` (d, units·pieces) and ``bias``
    (units·pieces,). Input (B, d), output (B, units).
    """

    def __init__(self, units, pieces, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.pieces = int(pieces)

    def build(self, input_shape):
        # TODO: kernel (d, units·pieces), Glorot uniform; bias (units·pieces,), zeros
        raise NotImplementedError("build: kernel (d, units·pieces), Glorot uniform; bias (units·pieces,), zeros")

    def call(self, x):
        # TODO: z = x W + b, reshaped to (B, units, pieces), max over the pieces axis
        raise NotImplementedError("call: z = x W + b, reshaped to (B, units, pieces), max over the pieces axis")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "pieces": self.pieces}


def maxout_leaky_relu_weights(dim, gamma):
    """Weights that make ``Maxout(units=dim, pieces=2)`` compute ``leaky_relu(x, gamma)``
    on every feature of a (B, dim) input (γ = 0: ReLU), the slides' claim that
    「k=2时，ReLU变种都可以通过maxout单元学习获得」 for ``0 ≤ γ ≤ 1``.

    Returns ``(kernel, bias)``: float64 arrays of shapes (dim, 2·dim) and (2·dim,).
    """
    # TODO: unit i's two pieces are x_i and γ·x_i (columns 2i and 2i + 1), biases 0
    raise NotImplementedError("maxout_leaky_relu_weights: unit i's two pieces are x_i and γ·x_i (columns 2i and 2i + 1), biases 0")


# --------------------------------------------------------------------------
# Part 3. Stable losses on logits (交叉熵损失, logsumexp, softplus)
# --------------------------------------------------------------------------

def log_softmax(logits):
    """``log softmax(z)`` along the last axis, ``z − logsumexp(z)``, computed
    after subtracting each row's maximum so that no ``exp`` overflows."""
    # TODO: z − m − log Σ exp(z − m), m the row maximum
    raise NotImplementedError("log_softmax: z − m − log Σ exp(z − m), m the row maximum")


def softmax(logits):
    """``softmax(z)`` along the last axis (rows sum to 1), stable for any logits."""
    # TODO: exp(log_softmax(z))
    raise NotImplementedError("softmax: exp(log_softmax(z))")


def softmax_cross_entropy(logits, labels):
    """Mean over the batch of ``−Σ_k y_k log softmax(z)_k = −z_c + logsumexp(z)``.

    Args:
        logits: (B, C) logits ``z``.
        labels: (B, C) one-hot rows, or any probability rows (soft labels).
    Returns: a float.
    """
    # TODO: −mean over rows of Σ y·log_softmax(z)
    raise NotImplementedError("softmax_cross_entropy: −mean over rows of Σ y·log_softmax(z)")


def softmax_cross_entropy_grad(logits, labels):
    """∂/∂z of :func:`softmax_cross_entropy`: ``(softmax(z) − y) / B``, shape (B, C)."""
    # TODO: (softmax(z) − y) / B
    raise NotImplementedError("softmax_cross_entropy_grad: (softmax(z) − y) / B")


def sigmoid_binary_cross_entropy(logits, labels):
    """Mean over every element of ``−[y log σ(z) + (1 − y) log(1 − σ(z))]``.

    For labels in {0, 1} this is the slides' ``log(1 + exp((1 − 2y)z))``; for
    any ``y`` in [0, 1] (soft labels, as Keras allows) it equals
    ``softplus(z) − y z``. Finite for any logit. Returns a float.
    """
    # TODO: mean of max(z, 0) − y·z + log1p(exp(−|z|))
    raise NotImplementedError("sigmoid_binary_cross_entropy: mean of max(z, 0) − y·z + log1p(exp(−|z|))")


def sigmoid_binary_cross_entropy_grad(logits, labels):
    """∂/∂z of :func:`sigmoid_binary_cross_entropy`: ``(σ(z) − y) / N``, N the number of elements."""
    # TODO: (σ(z) − y) / z.size
    raise NotImplementedError("sigmoid_binary_cross_entropy_grad: (σ(z) − y) / z.size")


# --------------------------------------------------------------------------
# Part 4. Backpropagation by hand for an L-layer MLP (反向传播算法)
# --------------------------------------------------------------------------

def mlp_forward(x, params, activation="relu"):
    """Forward pass of an MLP: ``Z_l = A_{l−1} W_l + b_l``, ``A_l = f(Z_l)`` for
    the hidden layers, and a linear last layer (its ``Z_L`` is the output).

    Args:
        x: (B, n_0) inputs ``A_0``.
        params: a list of ``(W_l, b_l)`` pairs, ``W_l`` (n_{l−1}, n_l), ``b_l`` (n_l,).
        activation: the name of a Part 1 activation (a key of ``ACTIVATIONS``).
    Returns:
        ``(out, cache)``: ``out`` (B, n_L) and whatever your :func:`mlp_backward` needs.
    """
    # TODO: keep every A_{l−1}, W_l and Z_l in the cache
    raise NotImplementedError("mlp_forward: keep every A_{l−1}, W_l and Z_l in the cache")


def mlp_backward(dout, cache):
    """Backward pass of :func:`mlp_forward`, by hand (no autodiff).

    Args:
        dout: (B, n_L), ``∂L/∂out`` for some loss L.
        cache: what :func:`mlp_forward` returned.
    Returns:
        A list of ``(dW_l, db_l)`` pairs shaped like ``params``:
        ``E_l = dA_l ⊙ f'(Z_l)`` (``E_L = dout``), ``dW_l = A_{l−1}ᵀ E_l``,
        ``db_l = Σ_rows E_l``, ``dA_{l−1} = E_l W_lᵀ``.
    """
    # TODO: walk the layers backwards: the error term, then dW = Aᵀ E, db = Σ_rows E, dA = E Wᵀ
    raise NotImplementedError("mlp_backward: walk the layers backwards: the error term, then dW = Aᵀ E, db = Σ_rows E, dA = E Wᵀ")


def mlp_loss_and_grads(x, labels, params, activation="relu"):
    """Softmax cross-entropy (mean over the batch) of the MLP's logits and its
    gradients with respect to every weight and bias, with your Part 3 and Part 4
    functions. ``labels``: (B, C) one-hot rows. Returns ``(loss, grads)``."""
    # TODO: forward, the loss and its gradient on the logits, backward
    raise NotImplementedError("mlp_loss_and_grads: forward, the loss and its gradient on the logits, backward")


# --------------------------------------------------------------------------
# Part 5. The slides' computation graph (计算图与自动微分)
# --------------------------------------------------------------------------

def two_layer_relu_grads(x, labels, w1, w2, lam):
    """The slides' computation-graph example: ``U1 = X W1``, ``H = relu(U1)``,
    ``U2 = H W2``, ``J = J_MLE + λ(Σ W1² + Σ W2²)`` with ``J_MLE`` the mean
    softmax cross-entropy of the logits ``U2`` against integer ``labels`` (B,).

    Returns ``(J, dW1, dW2)``: ``∂J/∂W2 = Hᵀ G2 + 2λ W2`` and
    ``∂J/∂W1 = Xᵀ G1 + 2λ W1``, where ``G2 = ∂J_MLE/∂U2`` and
    ``G1 = ∂J_MLE/∂U1 = (G2 W2ᵀ) ⊙ [U1 > 0]``.
    """
    # TODO: forward through the graph, then G2, ∂J_MLE/∂H, G1, and both weight-decay paths
    raise NotImplementedError("two_layer_relu_grads: forward through the graph, then G2, ∂J_MLE/∂H, G1, and both weight-decay paths")


# --------------------------------------------------------------------------
# Part 6. A custom gradient and a gradient checker (自动微分, 数值微分)
# --------------------------------------------------------------------------

def dense_relu_backward(dy, x, w, b):
    """Backward pass of ``y = relu(x W + b)`` for an upstream gradient ``dy`` (B, n):
    returns ``(dx, dW, db)`` shaped like ``x``, ``W`` and ``b``. Works on NumPy
    arrays and on tensors (``tf.convert_to_tensor`` first)."""
    # TODO: E = dy ⊙ [xW + b > 0]; dx = E Wᵀ, dW = xᵀ E, db = Σ_rows E
    raise NotImplementedError("dense_relu_backward: E = dy ⊙ [xW + b > 0]; dx = E Wᵀ, dW = xᵀ E, db = Σ_rows E")


def dense_relu(x, w, b):
    """``relu(x W + b)`` as one operation whose gradient is your
    :func:`dense_relu_backward`, joined with ``tf.custom_gradient``, so that a
    ``tf.GradientTape`` around it differentiates through your backward pass
    (no GradientTape or other autodiff inside). Returns a tensor (B, n)."""
    x, w, b = tf.convert_to_tensor(x), tf.convert_to_tensor(w), tf.convert_to_tensor(b)

    @tf.custom_gradient
    def op(x, w, b):
        # TODO: y = relu(x W + b); grad(dy) returns dense_relu_backward(dy, x, w, b)
        raise NotImplementedError("op: y = relu(x W + b); grad(dy) returns dense_relu_backward(dy, x, w, b)")
        return y, grad

    return op(x, w, b)


def numeric_gradient(f, x, eps=1e-6):
    """The gradient of a scalar function ``f`` at ``x`` (an array of any shape)
    by central differences, ``(f(x + ε e_i) − f(x − ε e_i)) / 2ε`` for every
    element ``i``. ``x`` is left as it was. Returns a float64 array shaped like ``x``."""
    # TODO: perturb a float64 copy one element at a time (every index of an n-d array), restore it after
    raise NotImplementedError("numeric_gradient: perturb a float64 copy one element at a time (every index of an n-d array), restore it after")


# --------------------------------------------------------------------------
# Part 7. Probabilistic output heads (输出层: 高斯负对数似然, 混合密度网络)
# --------------------------------------------------------------------------

def gaussian_nll(y, mean, log_var):
    """Per-example negative log-likelihood of ``y`` under N(mean, exp(log_var)).

    ``−log N(y; μ, σ²) = ½ [log 2π + log σ² + (y − μ)² · exp(−log σ²)]``. The
    network predicts the *log*-variance, so the variance is positive for any
    output, and it multiplies by the precision ``exp(−log σ²)`` instead of
    dividing by σ² (slides: 「用精度(precision)可以避免除法」).

    Args:
        y, mean, log_var: arrays or tensors of one shape, e.g. (B,) or (B, 1).
    Returns:
        The NLL of each element, same shape as ``y`` (not averaged: take
        ``ops.mean`` of it for a loss).
    """
    # TODO: ½(log 2π + log_var + (y − mean)²·exp(−log_var)), elementwise
    raise NotImplementedError("gaussian_nll: ½(log 2π + log_var + (y − mean)²·exp(−log_var)), elementwise")


def split_mdn_output(out, k):
    """(pi_logits, means, log_sigmas), each (B, K), of an MDN's (B, 3K) output. Given."""
    return out[:, :k], out[:, k:2 * k], out[:, 2 * k:3 * k]


def mdn_nll(y, pi_logits, means, log_sigmas):
    """Per-example NLL of a 1-D Gaussian mixture,
    ``−log Σ_k softmax(pi_logits)_k · N(y; μ_k, σ_k²)`` with ``σ_k = exp(log_sigmas_k)``.

    Computed in log space: ``−logsumexp_k [log_softmax(pi_logits)_k + log N(y; μ_k, σ_k²)]``,
    where ``log N = −½ log 2π − log σ − ½ ((y − μ)/σ)²``. Finite for any finite
    inputs (exp of a log-density underflows to 0 for a far-away y; the log-space
    form does not).

    Args:
        y: (B,) or (B, 1) targets.
        pi_logits, means, log_sigmas: (B, K).
    Returns:
        (B,) NLL per example.
    """
    # TODO: log_softmax over the K components + log N(y; μ_k, σ_k) per component, then −logsumexp over K
    raise NotImplementedError("mdn_nll: log_softmax over the K components + log N(y; μ_k, σ_k) per component, then −logsumexp over K")


def mdn_loss(k):
    """A Keras loss ``(y_true, y_pred) -> scalar``: the mean of :func:`mdn_nll`
    over the batch for an MDN with ``k`` components (y_pred is its (B, 3K) output)."""
    # TODO: split y_pred with split_mdn_output, mean of mdn_nll
    raise NotImplementedError("mdn_loss: split y_pred with split_mdn_output, mean of mdn_nll")


def build_mdn(k, hidden_units):
    """A 1-D mixture density network: input (B, 1) → output (B, 3K).

    ``Dense(u, "tanh")`` for each ``u`` of ``hidden_units``, then ONE linear
    ``Dense(3K)`` head whose columns are ``[pi_logits | means | log_sigmas]``
    (no softmax or exp in the model: :func:`mdn_nll` applies them).
    """
    # TODO: keras.Sequential([Input((1,)), Dense(u, "tanh")…, Dense(3k)])
    raise NotImplementedError("build_mdn: keras.Sequential([Input((1,)), Dense(u, \"tanh\")…, Dense(3k)])")


def mdn_sample(pi_logits, means, log_sigmas, rng):
    """One sample y per row of a mixture (NumPy): pick component c with
    probability softmax(pi_logits)_c, then y = μ_c + σ_c · ε with ε ~ N(0, 1).

    Args:
        pi_logits, means, log_sigmas: (B, K) arrays.
        rng: a ``numpy.random.Generator``: every random number comes from it.
    Returns:
        (B,) float64 samples.
    """
    # TODO: probabilities by a stable softmax per row; component by inverse CDF of a uniform; μ_c + exp(log σ_c)·normal
    raise NotImplementedError("mdn_sample: probabilities by a stable softmax per row; component by inverse CDF of a uniform; μ_c + exp(log σ_c)·normal")


def bimodal_data(n, seed, noise):
    """The bimodal toy set (given): x ~ U(0, 1), y = ±√x + N(0, noise²), each
    branch with probability ½. Returns x (n, 1) and y (n, 1), float32."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(n, 1))
    sign = np.where(rng.uniform(size=(n, 1)) < 0.5, -1.0, 1.0)
    y = sign * np.sqrt(x) + noise * rng.normal(size=(n, 1))
    return x.astype(np.float32), y.astype(np.float32)


def train_mdn(x, y, k, hidden_units, epochs, batch_size, learning_rate, *, seed):
    """Train an MDN on (x, y): seed everything from ``seed``, ``build_mdn(k, hidden_units)``,
    Adam(``learning_rate``) on ``mdn_loss(k)``, ``fit`` for ``epochs`` with ``batch_size``
    (shuffled). Returns the trained model."""
    # TODO: keras.utils.set_random_seed(seed); build, compile with Adam and mdn_loss(k); fit; return the model
    raise NotImplementedError("train_mdn: keras.utils.set_random_seed(seed); build, compile with Adam and mdn_loss(k); fit; return the model")


# --------------------------------------------------------------------------
# Part 8. The slides' 编程作业: approximate y = sin x + cos x + sin x·cos x on [0, 2π]
# --------------------------------------------------------------------------

#: The study's fixed settings (given): every row trains on the same data, for the same number of steps.
STUDY_TRAIN_SIZE = 2048      # training points, x uniform on [0, 2π], fixed by STUDY_DATA_SEED
STUDY_VAL_SIZE = 1000        # validation points: the evenly spaced grid on [0, 2π]
STUDY_DATA_SEED = 2024
STUDY_BATCH_SIZE = 32
STUDY_EPOCHS = 15            # 64 batches per epoch: 960 Adam steps per row (few long epochs: Keras
                             # spends ~25 ms per epoch, so 120 epochs of 256 points cost 3× the CPU)


def target_function(x):
    """y = sin x + cos x + sin x·cos x (elementwise, NumPy)."""
    # TODO: sin x + cos x + sin x · cos x
    raise NotImplementedError("target_function: sin x + cos x + sin x · cos x")


def scale_input(x):
    """Map x ∈ [0, 2π] to [−1, 1] (given): x/π − 1. Every network of part 8 sees scaled inputs."""
    return x / np.pi - 1.0


def sincos_data(n_train, n_val, data_seed):
    """Training set (``n_train`` x uniform on [0, 2π], fixed by ``data_seed``) and
    validation grid (``n_val`` evenly spaced points on [0, 2π]), given.
    Returns x_train (n, 1), y_train (n, 1), x_val (m, 1), y_val (m, 1) float32, x *unscaled*."""
    rng = np.random.default_rng(data_seed)
    x_train = rng.uniform(0.0, 2 * np.pi, size=(n_train, 1))
    x_val = np.linspace(0.0, 2 * np.pi, n_val).reshape(-1, 1)
    f = target_function
    return (x_train.astype(np.float32), f(x_train).astype(np.float32),
            x_val.astype(np.float32), f(x_val).astype(np.float32))


@contextlib.contextmanager
def float64_keras():
    """Inside the block, Keras builds, trains and evaluates in float64 (given).

    Both settings are needed: new layers take their dtype from the dtype policy,
    which Keras fixes the first time a layer is made, and inputs and losses from
    ``floatx``. Both are set back when the block ends, even by an exception, so
    code outside it keeps running in float32.
    """
    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    try:
        yield
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)


def build_regressor(depth, width, activation):
    """An MLP (B, 1) → (B, 1): ``depth`` hidden ``Dense(width, activation)`` layers,
    then a linear ``Dense(1)``."""
    # TODO: keras.Sequential([Input((1,)), Dense(width, activation) × depth, Dense(1)])
    raise NotImplementedError("build_regressor: keras.Sequential([Input((1,)), Dense(width, activation) × depth, Dense(1)])")


def train_regressor(model, x, y, learning_rate, epochs, batch_size):
    """Compile ``model`` with Adam(``learning_rate``) on the mean squared error and fit it on
    (scale_input(x), y) for ``epochs`` with ``batch_size``, shuffled. Returns the training
    MSE ``fit`` reports for the last epoch."""
    # TODO: compile(Adam(learning_rate), "mse"); fit(scale_input(x), y, …, shuffle=True, verbose=0); last loss
    raise NotImplementedError("train_regressor: compile(Adam(learning_rate), \"mse\"); fit(scale_input(x), y, …, shuffle=True, verbose=0); last loss")


def run_config(depth, learning_rate, width, activation, *, seed):
    """One row of the study: seed everything from ``seed`` (``keras.utils.set_random_seed``),
    build ``build_regressor(depth, width, activation)``, train it with ``train_regressor``
    on ``sincos_data(STUDY_TRAIN_SIZE, STUDY_VAL_SIZE, STUDY_DATA_SEED)`` for
    ``STUDY_EPOCHS`` epochs of ``STUDY_BATCH_SIZE``, all inside ``with float64_keras():``:
    in float32, training at a large learning rate is chaotic enough that another CPU's
    rounding moves a row by up to a decade; in float64 that rounding stays far below the
    table's digits on almost every row.

    Returns ``{"log10_val_mse": ..., "log10_train_mse": ...}``: log10 of the MSE of
    ``model(scale_input(x_val))`` on the validation grid, and log10 of the training MSE
    of the last epoch. (log10, because the MSEs of the grid span five orders of magnitude.)
    """
    # TODO: seed; data; inside float64_keras(): build, train, predict; log10 of both MSEs
    raise NotImplementedError("run_config: seed; data; inside float64_keras(): build, train, predict; log10 of both MSEs")
