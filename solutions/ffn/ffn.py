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
    # BEGIN SOLUTION: exp of a non-positive number only: 1/(1+e^−x) for x ≥ 0, e^x/(1+e^x) for x < 0
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    # END SOLUTION


def d_sigmoid(x):
    """``σ'(x) = σ(x)(1 − σ(x))``."""
    # BEGIN SOLUTION: σ(x)·(1 − σ(x))
    s = sigmoid(x)
    return s * (1.0 - s)
    # END SOLUTION


def tanh(x):
    """``tanh(x) = (e^x − e^−x)/(e^x + e^−x)`` (zero-centred, 零中心化)."""
    # BEGIN SOLUTION: np.tanh is stable (2σ(2x) − 1 is the same function)
    return np.tanh(np.asarray(x, dtype=np.float64))
    # END SOLUTION


def d_tanh(x):
    """``tanh'(x) = 1 − tanh²(x)``."""
    # BEGIN SOLUTION: 1 − tanh(x)²
    return 1.0 - np.tanh(np.asarray(x, dtype=np.float64)) ** 2
    # END SOLUTION


def relu(x):
    """``ReLU(x) = max(0, x)``."""
    # BEGIN SOLUTION: max(0, x)
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    # END SOLUTION


def d_relu(x):
    """1 where ``x > 0``, else 0 (0 at x = 0, as TensorFlow's gradient of relu)."""
    # BEGIN SOLUTION: 1.0 where x > 0, 0.0 elsewhere, x = 0 included
    return (np.asarray(x, dtype=np.float64) > 0).astype(np.float64)
    # END SOLUTION


def leaky_relu(x, gamma=0.01):
    """``LeakyReLU(x) = max(γx, x)`` for ``0 ≤ γ < 1``: ``x`` where ``x > 0``, ``γx`` elsewhere."""
    # BEGIN SOLUTION: x where x > 0, γ·x elsewhere
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, gamma * x)
    # END SOLUTION


def d_leaky_relu(x, gamma=0.01):
    """1 where ``x > 0``, ``γ`` elsewhere (γ at x = 0, as TensorFlow's gradient of leaky_relu)."""
    # BEGIN SOLUTION: 1.0 where x > 0, γ elsewhere, x = 0 included
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, 1.0, gamma)
    # END SOLUTION


def elu(x, gamma=1.0):
    """``ELU(x) = max(0, x) + min(0, γ(e^x − 1))``; finite and warning-free for any ``x``."""
    # BEGIN SOLUTION: x where x > 0, γ·expm1(x) elsewhere (expm1 of min(x, 0): no overflow in the unused branch)
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, gamma * np.expm1(np.minimum(x, 0.0)))
    # END SOLUTION


def d_elu(x, gamma=1.0):
    """1 where ``x > 0``, ``γ e^x`` elsewhere."""
    # BEGIN SOLUTION: 1 where x > 0, γ·exp(min(x, 0)) elsewhere
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, 1.0, gamma * np.exp(np.minimum(x, 0.0)))
    # END SOLUTION


def softplus(x):
    """``softplus(x) = log(1 + e^x)``, finite for any ``x`` (softplus(1000) = 1000)."""
    # BEGIN SOLUTION: max(x, 0) + log1p(exp(−|x|))
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
    # END SOLUTION


def d_softplus(x):
    """``softplus'(x) = σ(x)``."""
    # BEGIN SOLUTION: σ(x)
    return sigmoid(x)
    # END SOLUTION


def swish(x, beta=1.0):
    """Swish, the slides' 自门控激活函数: ``x σ(βx)``. β = 0 gives x/2; a large β approaches ReLU."""
    # BEGIN SOLUTION: x·σ(β·x)
    x = np.asarray(x, dtype=np.float64)
    return x * sigmoid(beta * x)
    # END SOLUTION


def d_swish(x, beta=1.0):
    """``swish'(x) = σ(βx) + βx σ(βx)(1 − σ(βx))``."""
    # BEGIN SOLUTION: σ(βx) + βx·σ(βx)(1 − σ(βx))
    x = np.asarray(x, dtype=np.float64)
    s = sigmoid(beta * x)
    return s + beta * x * s * (1.0 - s)
    # END SOLUTION


def _erf(x):
    """The error function, elementwise (``math.erf`` on every element)."""
    return np.vectorize(math.erf, otypes=[np.float64])(np.asarray(x, dtype=np.float64))


def gelu(x):
    """Exact GELU, ``x P(X ≤ x) = x Φ(x)`` with ``X ~ N(0, 1)``: ``x · ½(1 + erf(x/√2))``."""
    # BEGIN SOLUTION: x·Φ(x), Φ(x) = ½(1 + erf(x/√2)) (the _erf helper above)
    x = np.asarray(x, dtype=np.float64)
    return x * 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
    # END SOLUTION


def d_gelu(x):
    """``GELU'(x) = Φ(x) + x φ(x)``, with φ the standard normal density."""
    # BEGIN SOLUTION: Φ(x) + x·exp(−x²/2)/√(2π)
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * (1.0 + _erf(x / math.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    # END SOLUTION


def gelu_tanh(x):
    """The slides' tanh approximation, ``½x(1 + tanh(√(2/π)(x + 0.044715x³)))``."""
    # BEGIN SOLUTION: ½x(1 + tanh(u)) with u = √(2/π)(x + 0.044715x³)
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * x * (1.0 + np.tanh(SQRT_2_OVER_PI * (x + GELU_TANH_C * x ** 3)))
    # END SOLUTION


def d_gelu_tanh(x):
    """The derivative of :func:`gelu_tanh`:
    ``½(1 + tanh u) + ½x(1 − tanh² u)·√(2/π)(1 + 3·0.044715x²)``."""
    # BEGIN SOLUTION: product rule, then the chain rule through u (du/dx = √(2/π)(1 + 3·0.044715x²))
    x = np.asarray(x, dtype=np.float64)
    t = np.tanh(SQRT_2_OVER_PI * (x + GELU_TANH_C * x ** 3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_TANH_C * x * x)
    # END SOLUTION


def gelu_sigmoid(x):
    """The slides' sigmoid approximation, ``x σ(1.702 x)``."""
    # BEGIN SOLUTION: x·σ(1.702x)
    x = np.asarray(x, dtype=np.float64)
    return x * sigmoid(GELU_SIGMOID_A * x)
    # END SOLUTION


def d_gelu_sigmoid(x):
    """The derivative of :func:`gelu_sigmoid`: ``σ(1.702x) + 1.702x σ(1.702x)(1 − σ(1.702x))``."""
    # BEGIN SOLUTION: σ(ax) + a·x·σ(ax)(1 − σ(ax)) with a = 1.702
    x = np.asarray(x, dtype=np.float64)
    s = sigmoid(GELU_SIGMOID_A * x)
    return s + GELU_SIGMOID_A * x * s * (1.0 - s)
    # END SOLUTION


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
        # BEGIN SOLUTION: kernel (d, units·pieces), Glorot uniform; bias (units·pieces,), zeros
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units * self.pieces),
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.units * self.pieces,), initializer="zeros")
        # END SOLUTION

    def call(self, x):
        # BEGIN SOLUTION: z = x W + b, reshaped to (B, units, pieces), max over the pieces axis
        z = ops.matmul(x, self.kernel) + self.bias
        z = ops.reshape(z, (-1, self.units, self.pieces))
        return ops.max(z, axis=-1)
        # END SOLUTION

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
    # BEGIN SOLUTION: unit i's two pieces are x_i and γ·x_i (columns 2i and 2i + 1), biases 0
    kernel = np.zeros((dim, 2 * dim))
    kernel[np.arange(dim), 2 * np.arange(dim)] = 1.0
    kernel[np.arange(dim), 2 * np.arange(dim) + 1] = gamma
    return kernel, np.zeros(2 * dim)
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 3. Stable losses on logits (交叉熵损失, logsumexp, softplus)
# --------------------------------------------------------------------------

def log_softmax(logits):
    """``log softmax(z)`` along the last axis, ``z − logsumexp(z)``, computed
    after subtracting each row's maximum so that no ``exp`` overflows."""
    # BEGIN SOLUTION: z − m − log Σ exp(z − m), m the row maximum
    z = np.asarray(logits, dtype=np.float64)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    # END SOLUTION


def softmax(logits):
    """``softmax(z)`` along the last axis (rows sum to 1), stable for any logits."""
    # BEGIN SOLUTION: exp(log_softmax(z))
    return np.exp(log_softmax(logits))
    # END SOLUTION


def softmax_cross_entropy(logits, labels):
    """Mean over the batch of ``−Σ_k y_k log softmax(z)_k = −z_c + logsumexp(z)``.

    Args:
        logits: (B, C) logits ``z``.
        labels: (B, C) one-hot rows, or any probability rows (soft labels).
    Returns: a float.
    """
    # BEGIN SOLUTION: −mean over rows of Σ y·log_softmax(z)
    y = np.asarray(labels, dtype=np.float64)
    return float(-np.mean(np.sum(y * log_softmax(logits), axis=-1)))
    # END SOLUTION


def softmax_cross_entropy_grad(logits, labels):
    """∂/∂z of :func:`softmax_cross_entropy`: ``(softmax(z) − y) / B``, shape (B, C)."""
    # BEGIN SOLUTION: (softmax(z) − y) / B
    z = np.asarray(logits, dtype=np.float64)
    return (softmax(z) - np.asarray(labels, dtype=np.float64)) / z.shape[0]
    # END SOLUTION


def sigmoid_binary_cross_entropy(logits, labels):
    """Mean over every element of ``−[y log σ(z) + (1 − y) log(1 − σ(z))]``.

    For labels in {0, 1} this is the slides' ``log(1 + exp((1 − 2y)z))``; for
    any ``y`` in [0, 1] (soft labels, as Keras allows) it equals
    ``softplus(z) − y z``. Finite for any logit. Returns a float.
    """
    # BEGIN SOLUTION: mean of max(z, 0) − y·z + log1p(exp(−|z|))
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    return float(np.mean(np.maximum(z, 0.0) - y * z + np.log1p(np.exp(-np.abs(z)))))
    # END SOLUTION


def sigmoid_binary_cross_entropy_grad(logits, labels):
    """∂/∂z of :func:`sigmoid_binary_cross_entropy`: ``(σ(z) − y) / N``, N the number of elements."""
    # BEGIN SOLUTION: (σ(z) − y) / z.size
    z = np.asarray(logits, dtype=np.float64)
    return (sigmoid(z) - np.asarray(labels, dtype=np.float64)) / z.size
    # END SOLUTION


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
    # BEGIN SOLUTION: keep every A_{l−1}, W_l and Z_l in the cache
    f, _ = ACTIVATIONS[activation]
    a = np.asarray(x, dtype=np.float64)
    steps = []
    for l, (w, b) in enumerate(params):
        w = np.asarray(w, dtype=np.float64)
        z = a @ w + np.asarray(b, dtype=np.float64)
        steps.append((a, w, z))
        a = z if l == len(params) - 1 else f(z)
    return a, {"steps": steps, "activation": activation}
    # END SOLUTION


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
    # BEGIN SOLUTION: walk the layers backwards: the error term, then dW = Aᵀ E, db = Σ_rows E, dA = E Wᵀ
    _, df = ACTIVATIONS[cache["activation"]]
    steps = cache["steps"]
    grads = [None] * len(steps)
    e = np.asarray(dout, dtype=np.float64)
    for l in range(len(steps) - 1, -1, -1):
        a, w, _ = steps[l]
        grads[l] = (a.T @ e, e.sum(axis=0))
        if l:
            e = (e @ w.T) * df(steps[l - 1][2])
    return grads
    # END SOLUTION


def mlp_loss_and_grads(x, labels, params, activation="relu"):
    """Softmax cross-entropy (mean over the batch) of the MLP's logits and its
    gradients with respect to every weight and bias, with your Part 3 and Part 4
    functions. ``labels``: (B, C) one-hot rows. Returns ``(loss, grads)``."""
    # BEGIN SOLUTION: forward, the loss and its gradient on the logits, backward
    out, cache = mlp_forward(x, params, activation)
    return softmax_cross_entropy(out, labels), mlp_backward(softmax_cross_entropy_grad(out, labels), cache)
    # END SOLUTION


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
    # BEGIN SOLUTION: forward through the graph, then G2, ∂J_MLE/∂H, G1, and both weight-decay paths
    x, w1, w2 = (np.asarray(a, dtype=np.float64) for a in (x, w1, w2))
    onehot = np.eye(w2.shape[1])[np.asarray(labels)]
    u1 = x @ w1
    h = np.maximum(u1, 0.0)
    u2 = h @ w2
    j = softmax_cross_entropy(u2, onehot) + lam * (np.sum(w1 * w1) + np.sum(w2 * w2))
    g2 = softmax_cross_entropy_grad(u2, onehot)
    g1 = (g2 @ w2.T) * (u1 > 0)
    return j, x.T @ g1 + 2 * lam * w1, h.T @ g2 + 2 * lam * w2
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 6. A custom gradient and a gradient checker (自动微分, 数值微分)
# --------------------------------------------------------------------------

def dense_relu_backward(dy, x, w, b):
    """Backward pass of ``y = relu(x W + b)`` for an upstream gradient ``dy`` (B, n):
    returns ``(dx, dW, db)`` shaped like ``x``, ``W`` and ``b``. Works on NumPy
    arrays and on tensors (``tf.convert_to_tensor`` first)."""
    # BEGIN SOLUTION: E = dy ⊙ [xW + b > 0]; dx = E Wᵀ, dW = xᵀ E, db = Σ_rows E
    x, w, b, dy = (tf.convert_to_tensor(v) for v in (x, w, b, dy))
    e = dy * tf.cast(tf.matmul(x, w) + b > 0, dy.dtype)
    return tf.matmul(e, w, transpose_b=True), tf.matmul(x, e, transpose_a=True), tf.reduce_sum(e, axis=0)
    # END SOLUTION


def dense_relu(x, w, b):
    """``relu(x W + b)`` as one operation whose gradient is your
    :func:`dense_relu_backward`, joined with ``tf.custom_gradient``, so that a
    ``tf.GradientTape`` around it differentiates through your backward pass
    (no GradientTape or other autodiff inside). Returns a tensor (B, n)."""
    x, w, b = tf.convert_to_tensor(x), tf.convert_to_tensor(w), tf.convert_to_tensor(b)

    @tf.custom_gradient
    def op(x, w, b):
        # BEGIN SOLUTION: y = relu(x W + b); grad(dy) returns dense_relu_backward(dy, x, w, b)
        y = tf.maximum(tf.matmul(x, w) + b, tf.zeros((), x.dtype))

        def grad(dy):
            return dense_relu_backward(dy, x, w, b)
        # END SOLUTION
        return y, grad

    return op(x, w, b)


def numeric_gradient(f, x, eps=1e-6):
    """The gradient of a scalar function ``f`` at ``x`` (an array of any shape)
    by central differences, ``(f(x + ε e_i) − f(x − ε e_i)) / 2ε`` for every
    element ``i``. ``x`` is left as it was. Returns a float64 array shaped like ``x``."""
    # BEGIN SOLUTION: perturb a float64 copy one element at a time (every index of an n-d array), restore it after
    x = np.asarray(x, dtype=np.float64).copy()
    grad = np.empty_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = float(f(x))
        x[i] = old - eps
        minus = float(f(x))
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad
    # END SOLUTION


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
    # BEGIN SOLUTION: ½(log 2π + log_var + (y − mean)²·exp(−log_var)), elementwise
    return 0.5 * (LOG_2PI + log_var + ops.square(y - mean) * ops.exp(-log_var))
    # END SOLUTION


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
    # BEGIN SOLUTION: log_softmax over the K components + log N(y; μ_k, σ_k) per component, then −logsumexp over K
    y = ops.reshape(y, (-1, 1))
    z = (y - means) * ops.exp(-log_sigmas)
    log_normal = -0.5 * LOG_2PI - log_sigmas - 0.5 * ops.square(z)
    return -ops.logsumexp(ops.log_softmax(pi_logits, axis=-1) + log_normal, axis=-1)
    # END SOLUTION


def mdn_loss(k):
    """A Keras loss ``(y_true, y_pred) -> scalar``: the mean of :func:`mdn_nll`
    over the batch for an MDN with ``k`` components (y_pred is its (B, 3K) output)."""
    # BEGIN SOLUTION: split y_pred with split_mdn_output, mean of mdn_nll
    def loss(y_true, y_pred):
        return ops.mean(mdn_nll(y_true, *split_mdn_output(y_pred, k)))
    return loss
    # END SOLUTION


def build_mdn(k, hidden_units):
    """A 1-D mixture density network: input (B, 1) → output (B, 3K).

    ``Dense(u, "tanh")`` for each ``u`` of ``hidden_units``, then ONE linear
    ``Dense(3K)`` head whose columns are ``[pi_logits | means | log_sigmas]``
    (no softmax or exp in the model: :func:`mdn_nll` applies them).
    """
    # BEGIN SOLUTION: keras.Sequential([Input((1,)), Dense(u, "tanh")…, Dense(3k)])
    return keras.Sequential([keras.Input((1,))] + [layers.Dense(u, activation="tanh") for u in hidden_units]
                            + [layers.Dense(3 * k)], name="mdn")
    # END SOLUTION


def mdn_sample(pi_logits, means, log_sigmas, rng):
    """One sample y per row of a mixture (NumPy): pick component c with
    probability softmax(pi_logits)_c, then y = μ_c + σ_c · ε with ε ~ N(0, 1).

    Args:
        pi_logits, means, log_sigmas: (B, K) arrays.
        rng: a ``numpy.random.Generator``: every random number comes from it.
    Returns:
        (B,) float64 samples.
    """
    # BEGIN SOLUTION: probabilities by a stable softmax per row; component by inverse CDF of a uniform; μ_c + exp(log σ_c)·normal
    pi_logits, means, log_sigmas = (np.asarray(a, dtype=np.float64) for a in (pi_logits, means, log_sigmas))
    p = np.exp(pi_logits - pi_logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    u = rng.uniform(size=(len(p), 1))
    c = np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), p.shape[1] - 1)
    rows = np.arange(len(p))
    return means[rows, c] + np.exp(log_sigmas[rows, c]) * rng.normal(size=len(p))
    # END SOLUTION


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
    # BEGIN SOLUTION: keras.utils.set_random_seed(seed); build, compile with Adam and mdn_loss(k); fit; return the model
    keras.utils.set_random_seed(int(seed))
    model = build_mdn(k, hidden_units)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=mdn_loss(k))
    model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
    return model
    # END SOLUTION


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
    # BEGIN SOLUTION: sin x + cos x + sin x · cos x
    return np.sin(x) + np.cos(x) + np.sin(x) * np.cos(x)
    # END SOLUTION


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
    # BEGIN SOLUTION: keras.Sequential([Input((1,)), Dense(width, activation) × depth, Dense(1)])
    return keras.Sequential([keras.Input((1,))] + [layers.Dense(width, activation=activation) for _ in range(depth)]
                            + [layers.Dense(1)], name="regressor")
    # END SOLUTION


def train_regressor(model, x, y, learning_rate, epochs, batch_size):
    """Compile ``model`` with Adam(``learning_rate``) on the mean squared error and fit it on
    (scale_input(x), y) for ``epochs`` with ``batch_size``, shuffled. Returns the training
    MSE ``fit`` reports for the last epoch."""
    # BEGIN SOLUTION: compile(Adam(learning_rate), "mse"); fit(scale_input(x), y, …, shuffle=True, verbose=0); last loss
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    history = model.fit(scale_input(x), y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
    return float(history.history["loss"][-1])
    # END SOLUTION


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
    # BEGIN SOLUTION: seed; data; inside float64_keras(): build, train, predict; log10 of both MSEs
    keras.utils.set_random_seed(int(seed))
    x_train, y_train, x_val, y_val = sincos_data(STUDY_TRAIN_SIZE, STUDY_VAL_SIZE, STUDY_DATA_SEED)
    with float64_keras():
        model = build_regressor(depth, width, activation)
        train_mse = train_regressor(model, x_train, y_train, learning_rate, STUDY_EPOCHS, STUDY_BATCH_SIZE)
        pred = np.asarray(model(scale_input(x_val), training=False), dtype=np.float64)
    val_mse = float(np.mean((pred - y_val) ** 2))
    return {"log10_val_mse": math.log10(val_mse), "log10_train_mse": math.log10(train_mse)}
    # END SOLUTION
