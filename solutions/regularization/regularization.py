"""Lab — Regularisation (网络优化与正则化: 归一化, Dropout, 标签平滑), chapter 5 of the slides.

Conventions used throughout:

* **Part 1 is NumPy, float64.** Statistics are per feature (over axis 0) and are
  fitted on the training set only; the test set is transformed with the
  training set's statistics. The variance is the population one, ``1/n``
  (``ddof=0``), as on the slides and in ``keras.layers.Normalization``.
* **Parts 2 and 3 are Keras layers and functions written with ``keras.ops``**
  (TensorFlow backend). Normalisation is over the last axis (features or
  channels): batch normalisation reduces over every other axis, whatever the
  rank of the input.
* **The slides' BN formula has no ε.** The lab adds one inside the square
  root, ``σ = √(σ_B² + ε)``, as Keras does (``epsilon=1e-3``), so a batch
  with a constant feature stays finite.
* **``rate`` is the probability of dropping a unit** (Keras's ``rate``). The
  slides use ``p`` for the drop probability in the text and for the *keep*
  probability (保留概率) on the implementation slide: here a unit is kept with
  probability ``1 − rate``. ``keep_mask`` is 1 where a unit is kept, 0 where
  it is dropped.
* **Label smoothing follows the slides**: 1 − ε on the true class and
  ε/(k − 1) on each of the other k − 1 classes.
* **Penalties on kernels only.** The L2 penalty is ``½λ‖W‖²`` and the L1
  penalty ``λ‖W‖₁`` summed over every layer's ``kernel``; biases (and
  normalisation layers' γ, β) are not penalised (「一般不考虑bias」). The slides
  write ``½λ‖θ‖₁`` but differentiate it as ``λ sign(θ)``: the lab follows the
  gradient, ``λ‖θ‖₁``. Keras's ``regularizers.L2(l2)`` adds ``l2·Σw²`` without
  the ½: it is the slides' L2 with ``l2 = λ/2``.
"""

import numpy as np
import keras
import tensorflow as tf
from keras import ops


# --------------------------------------------------------------------------
# Part 1. Data normalisation fitted on the training set (数据归一化)
# --------------------------------------------------------------------------

def fit_standardizer(x_train):
    """The per-feature mean ``m_d`` and standard deviation ``σ_d`` (population, 1/n) of ``x_train`` (n, d)."""
    # BEGIN SOLUTION: mean and population standard deviation over the samples (axis 0)
    x_train = np.asarray(x_train, dtype=np.float64)
    return x_train.mean(axis=0), x_train.std(axis=0)
    # END SOLUTION


def standardize(x, mean, std):
    """``(x − m_d) / σ_d`` for every feature d."""
    # BEGIN SOLUTION: subtract the mean, divide by the standard deviation
    return (np.asarray(x, dtype=np.float64) - mean) / std
    # END SOLUTION


def fit_minmax(x_train):
    """The per-feature minimum and maximum of ``x_train`` (n, d)."""
    # BEGIN SOLUTION: the smallest and largest value of each feature
    x_train = np.asarray(x_train, dtype=np.float64)
    return x_train.min(axis=0), x_train.max(axis=0)
    # END SOLUTION


def minmax_scale(x, lo, hi):
    """``(x − min_d) / (max_d − min_d)``: the training set lands in [0, 1]."""
    # BEGIN SOLUTION: shift by the minimum, divide by the range
    return (np.asarray(x, dtype=np.float64) - lo) / (hi - lo)
    # END SOLUTION


def preprocess(x_train, x_test, method):
    """Fit ``method`` (``"standardize"`` or ``"minmax"``) on ``x_train`` only and
    transform both sets with it. Returns ``(train, test)``."""
    # BEGIN SOLUTION: the statistics come from x_train alone; both sets use them
    if method == "standardize":
        stats = fit_standardizer(x_train)
        transform = standardize
    elif method == "minmax":
        stats = fit_minmax(x_train)
        transform = minmax_scale
    else:
        raise ValueError(f"unknown method {method!r}")
    return transform(x_train, *stats), transform(x_test, *stats)
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 2. Batch, layer, instance and group normalisation (逐层归一化)
# --------------------------------------------------------------------------

def batch_norm_backward(dy, x_hat, gamma, inv_std):
    """The backward pass of batch normalisation over every axis but the last.

    ``dy`` is the upstream gradient, ``x_hat = (x − μ_B)/σ_B`` the normalised
    input, ``inv_std = 1/σ_B`` (one per feature). Returns ``(dx, dgamma, dbeta)``:
    ``dx = γ/σ_B · (dy − mean(dy) − x̂ · mean(dy · x̂))``, the means over the batch
    axes; ``dgamma = Σ dy · x̂``, ``dbeta = Σ dy``.
    """
    # BEGIN SOLUTION: reduce over every axis but the last; the closed form of dx
    axes = tuple(range(len(dy.shape) - 1))
    dbeta = ops.sum(dy, axis=axes)
    dgamma = ops.sum(dy * x_hat, axis=axes)
    mean_dy = ops.mean(dy, axis=axes)
    mean_dy_xhat = ops.mean(dy * x_hat, axis=axes)
    dx = gamma * inv_std * (dy - mean_dy - x_hat * mean_dy_xhat)
    return dx, dgamma, dbeta
    # END SOLUTION


@tf.custom_gradient
def batch_norm_train(x, gamma, beta, epsilon):
    """Batch normalisation in training mode, ``γ ⊙ (x − μ_B)/√(σ_B² + ε) + β``
    with the batch's statistics over every axis but the last, and its
    hand-written gradient (:func:`batch_norm_backward`) through
    ``tf.custom_gradient``: no automatic differentiation inside."""
    # BEGIN SOLUTION: forward with the batch's statistics; the backward calls batch_norm_backward
    axes = tuple(range(len(x.shape) - 1))
    mean = ops.mean(x, axis=axes)
    variance = ops.mean(ops.square(x - mean), axis=axes)
    inv_std = 1.0 / ops.sqrt(variance + epsilon)
    x_hat = (x - mean) * inv_std

    def grad(dy):
        dx, dgamma, dbeta = batch_norm_backward(dy, x_hat, gamma, inv_std)
        return dx, dgamma, dbeta, ops.zeros_like(epsilon)

    return gamma * x_hat + beta, grad
    # END SOLUTION


class BatchNorm(keras.layers.Layer):
    """Batch normalisation over the last axis for inputs of any rank.

    Training: the batch's mean and variance (:func:`batch_norm_train`), and
    the moving statistics updated as ``moving ← momentum·moving + (1 − momentum)·batch``.
    Inference: the moving statistics, so a single sample can be evaluated
    (可以对单一样本评估). Weights as Keras's: ``gamma`` (ones), ``beta``
    (zeros), ``moving_mean`` (zeros), ``moving_variance`` (ones).
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.epsilon = epsilon

    def build(self, input_shape):
        features = (input_shape[-1],)
        # BEGIN SOLUTION: γ and β trainable; the moving mean and variance not
        self.gamma = self.add_weight(shape=features, initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=features, initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(shape=features, initializer="zeros", trainable=False,
                                           name="moving_mean")
        self.moving_variance = self.add_weight(shape=features, initializer="ones", trainable=False,
                                               name="moving_variance")
        # END SOLUTION

    def call(self, x, training=False):
        # BEGIN SOLUTION: the batch's statistics and a moving-average update when training
        gamma = tf.convert_to_tensor(self.gamma)  # a tensor read from the variable, not the variable itself
        beta = tf.convert_to_tensor(self.beta)
        if training:
            axes = tuple(range(len(x.shape) - 1))
            mean = ops.mean(x, axis=axes)
            variance = ops.mean(ops.square(x - mean), axis=axes)
            self.moving_mean.assign(self.momentum * self.moving_mean + (1.0 - self.momentum) * mean)
            self.moving_variance.assign(self.momentum * self.moving_variance
                                        + (1.0 - self.momentum) * variance)
            epsilon = ops.convert_to_tensor(self.epsilon, dtype=x.dtype)
            return batch_norm_train(x, gamma, beta, epsilon)
        scale = gamma / ops.sqrt(self.moving_variance + self.epsilon)
        return (x - self.moving_mean) * scale + beta
        # END SOLUTION


class GroupNorm(keras.layers.Layer):
    """Group normalisation of (batch, ..., channels): the channels split into
    ``groups`` groups, each sample normalised over its spatial positions and
    the channels of one group, then ``γ`` and ``β`` per channel. ``groups=1``
    is layer normalisation, ``groups=channels`` instance normalisation. The
    same in training and in inference (训练和测试时操作一致)."""

    def __init__(self, groups, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.groups = groups
        self.epsilon = epsilon

    def build(self, input_shape):
        channels = (input_shape[-1],)
        self.gamma = self.add_weight(shape=channels, initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=channels, initializer="zeros", name="beta")

    def call(self, x):
        # BEGIN SOLUTION: split the channels into groups; statistics per sample and group
        shape = ops.shape(x)
        channels = x.shape[-1]
        grouped = ops.reshape(x, tuple(shape[:-1]) + (self.groups, channels // self.groups))
        axes = tuple(range(1, len(x.shape) - 1)) + (len(x.shape),)
        mean = ops.mean(grouped, axis=axes, keepdims=True)
        variance = ops.mean(ops.square(grouped - mean), axis=axes, keepdims=True)
        normalised = (grouped - mean) / ops.sqrt(variance + self.epsilon)
        return ops.reshape(normalised, shape) * self.gamma + self.beta
        # END SOLUTION


# --------------------------------------------------------------------------
# Part 3. Dropout and DropConnect
# --------------------------------------------------------------------------

def dropout(x, rate, training, keep_mask=None, seed=None):
    """Inverted dropout: when training, every unit is kept with probability
    ``1 − rate`` and the kept ones are scaled by ``1/(1 − rate)``, so nothing
    changes at test time (the identity). ``keep_mask`` (1 keep, 0 drop), when
    given, replaces the random draw; ``seed`` seeds the draw."""
    # BEGIN SOLUTION: identity at test time; mask / (1 − rate) when training
    x = ops.convert_to_tensor(x)
    if not training:
        return x
    if keep_mask is None:
        keep_mask = keras.random.uniform(ops.shape(x), seed=seed, dtype=x.dtype) >= rate
    return x * ops.cast(keep_mask, x.dtype) / (1.0 - rate)
    # END SOLUTION


def dropout_weight_scaling(x, rate, training, keep_mask=None, seed=None):
    """The slides' dropout: units dropped with probability ``rate`` and not
    scaled when training; at test time every unit multiplied by ``1 − rate``
    (权重比例推断规则)."""
    # BEGIN SOLUTION: the mask alone when training; (1 − rate)·x at test time
    x = ops.convert_to_tensor(x)
    if not training:
        return x * (1.0 - rate)
    if keep_mask is None:
        keep_mask = keras.random.uniform(ops.shape(x), seed=seed, dtype=x.dtype) >= rate
    return x * ops.cast(keep_mask, x.dtype)
    # END SOLUTION


class DropConnectDense(keras.layers.Layer):
    """A Dense layer whose every weight of the kernel is dropped with
    probability ``rate`` when training (a fresh mask at each call); at test
    time the kernel's expectation ``(1 − rate)·W``. The bias is never
    dropped. ``kernel_mask`` (1 keep, 0 drop, the kernel's shape), when given,
    replaces the draw."""

    def __init__(self, units, rate, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(0)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                      name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, x, training=False, kernel_mask=None):
        # BEGIN SOLUTION: mask the kernel (not the inputs) when training; (1 − rate)·W otherwise
        if not training:
            return ops.matmul(x, self.kernel * (1.0 - self.rate)) + self.bias
        if kernel_mask is None:
            draw = keras.random.uniform(ops.shape(self.kernel), seed=self.seed_generator, dtype=x.dtype)
            kernel_mask = draw >= self.rate
        return ops.matmul(x, self.kernel * ops.cast(kernel_mask, x.dtype)) + self.bias
        # END SOLUTION


def expected_output_two_inputs(w1, w2, x, y, rate=0.5):
    """The slides' example ``a = w1·x + w2·y`` with each input dropped with
    probability ``rate`` (no scaling): the expectation of ``a`` over the four
    masks, enumerated. (It equals ``(1 − rate)(w1·x + w2·y)``: ½(w1·x + w2·y)
    at the slides' 0.5.)"""
    # BEGIN SOLUTION: Σ over the 4 masks of P(mask) · (m1·w1·x + m2·w2·y)
    total = 0.0
    for m1 in (0, 1):
        for m2 in (0, 1):
            probability = (1 - rate if m1 else rate) * (1 - rate if m2 else rate)
            total += probability * (m1 * w1 * x + m2 * w2 * y)
    return total
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 4. Label smoothing (标签平滑)
# --------------------------------------------------------------------------

def smooth_labels(y_onehot, epsilon):
    """The slides' smoothed labels: 1 − ε on the true class, ε/(k − 1) on each other class."""
    # BEGIN SOLUTION: 1 − ε where the one-hot is 1, ε/(k − 1) elsewhere
    y = np.asarray(y_onehot, dtype=np.float64)
    k = y.shape[-1]
    return y * (1.0 - epsilon) + (1.0 - y) * epsilon / (k - 1)
    # END SOLUTION


def keras_label_smoothing(epsilon, k):
    """The ``label_smoothing`` of Keras's cross-entropy (``y(1 − s) + s/k``)
    that gives the slides' smoothed labels for ε and k classes."""
    # BEGIN SOLUTION: s/k = ε/(k − 1)
    return epsilon * k / (k - 1)
    # END SOLUTION


def smoothed_cross_entropy(logits, y_onehot, epsilon):
    """The mean over the batch of the cross-entropy between the slides'
    smoothed labels and ``softmax(logits)``."""
    # BEGIN SOLUTION: −Σ ỹ · log softmax(z), a stable log-softmax
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return float(np.mean(-(smooth_labels(y_onehot, epsilon) * log_p).sum(axis=-1)))
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 5. L1 and L2 penalties, weight decay (正则化)
# --------------------------------------------------------------------------

def kernels(model):
    """Every layer's ``kernel`` in ``model`` (Dense, convolutions), in order: the weights the penalties cover."""
    return [layer.kernel for layer in model.layers if getattr(layer, "kernel", None) is not None]


def l2_penalty(model, lam):
    """``½λ Σ‖W‖²`` over the model's kernels (biases excluded)."""
    # BEGIN SOLUTION: half of λ times the sum of squares of every kernel
    return 0.5 * lam * sum(ops.sum(ops.square(w)) for w in kernels(model))
    # END SOLUTION


def l1_penalty(model, lam):
    """``λ Σ‖W‖₁`` over the model's kernels (biases excluded)."""
    # BEGIN SOLUTION: λ times the sum of absolute values of every kernel
    return lam * sum(ops.sum(ops.abs(w)) for w in kernels(model))
    # END SOLUTION


def sgd_weight_decay_step(theta, g, lr, lam):
    """The slides' weight decay (权重衰减): ``θ ← (1 − ηλ)θ − η g``, ``g`` the gradient of the loss alone."""
    # BEGIN SOLUTION: shrink θ by 1 − ηλ, then the gradient step
    return (1.0 - lr * lam) * np.asarray(theta, dtype=np.float64) - lr * np.asarray(g, dtype=np.float64)
    # END SOLUTION


def sgd_l1_step(theta, g, lr, lam):
    """The slides' L1 step: ``θ ← θ − ηλ sign(θ) − η g``."""
    # BEGIN SOLUTION: a constant step ηλ towards 0, then the gradient step
    theta = np.asarray(theta, dtype=np.float64)
    return theta - lr * lam * np.sign(theta) - lr * np.asarray(g, dtype=np.float64)
    # END SOLUTION


def adam_l2_step(theta, s, r, t, g, lr, lam, rho1=0.9, rho2=0.999, delta=1e-8):
    """Adam on the L2-penalised loss: the penalty's gradient ``λθ`` is added to
    ``g`` before the moments, so Adam's scaling divides it too. Returns
    ``(theta, s, r, t)``; δ outside the square root, as in the slides' Adam."""
    # BEGIN SOLUTION: g + λθ through the whole Adam step
    theta = np.asarray(theta, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64) + lam * theta
    t = t + 1
    s = rho1 * np.asarray(s, dtype=np.float64) + (1.0 - rho1) * g
    r = rho2 * np.asarray(r, dtype=np.float64) + (1.0 - rho2) * g * g
    s_hat, r_hat = s / (1.0 - rho1 ** t), r / (1.0 - rho2 ** t)
    return theta - lr * s_hat / (delta + np.sqrt(r_hat)), s, r, t
    # END SOLUTION


def adamw_step(theta, s, r, t, g, lr, lam, rho1=0.9, rho2=0.999, delta=1e-8):
    """Decoupled weight decay (AdamW, Loshchilov and Hutter): Adam's step on the
    loss's gradient alone, and the decay ``ηλθ`` subtracted beside it, not
    scaled by Adam. Returns ``(theta, s, r, t)``."""
    # BEGIN SOLUTION: the moments of g alone; θ − η(ŝ/(δ + √r̂) + λθ)
    theta = np.asarray(theta, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    t = t + 1
    s = rho1 * np.asarray(s, dtype=np.float64) + (1.0 - rho1) * g
    r = rho2 * np.asarray(r, dtype=np.float64) + (1.0 - rho2) * g * g
    s_hat, r_hat = s / (1.0 - rho1 ** t), r / (1.0 - rho2 ** t)
    return theta - lr * (s_hat / (delta + np.sqrt(r_hat)) + lam * theta), s, r, t
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 6. Early stopping (Early stop)
# --------------------------------------------------------------------------

class BestWeightsEarlyStopping(keras.callbacks.Callback):
    """Stop when ``monitor`` (lower is better) has not improved on its best by
    more than ``min_delta`` for ``patience`` epochs, and give the model back the
    weights of its best epoch (训练很长时间，保存在验证集上最优的模型).
    ``best_epoch`` and ``stopped_epoch`` (None if training ran to its end) say
    what happened; the best weights are restored at the end of training in
    either case."""

    def __init__(self, patience, monitor="val_loss", min_delta=0.0):
        super().__init__()
        self.patience = patience
        self.monitor = monitor
        self.min_delta = min_delta

    def on_train_begin(self, logs=None):
        # BEGIN SOLUTION: nothing seen yet
        self.best = np.inf
        self.best_epoch = None
        self.best_weights = None
        self.wait = 0
        self.stopped_epoch = None
        # END SOLUTION

    def on_epoch_end(self, epoch, logs=None):
        # BEGIN SOLUTION: keep the best weights; count epochs without improvement; stop after patience of them
        value = float(logs[self.monitor])
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
        # END SOLUTION

    def on_train_end(self, logs=None):
        # BEGIN SOLUTION: give the model its best weights back
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
        # END SOLUTION


def gd_path_solution(h, w_star, eps, tau):
    """``τ`` steps of gradient descent with rate ε from ``w = 0`` on the quadratic
    ``½(w − w*)ᵀH(w − w*)``: ``w(τ) = (I − (I − εH)^τ) w*``."""
    # BEGIN SOLUTION: the matrix power of I − εH
    h = np.asarray(h, dtype=np.float64)
    eye = np.eye(h.shape[0])
    return (eye - np.linalg.matrix_power(eye - eps * h, int(tau))) @ np.asarray(w_star, dtype=np.float64)
    # END SOLUTION


def l2_solution(h, w_star, alpha):
    """The minimum of the quadratic plus ``½α‖w‖²``: ``w̃ = (H + αI)⁻¹ H w*``."""
    # BEGIN SOLUTION: solve (H + αI) w = H w*
    h = np.asarray(h, dtype=np.float64)
    return np.linalg.solve(h + alpha * np.eye(h.shape[0]), h @ np.asarray(w_star, dtype=np.float64))
    # END SOLUTION


def equivalent_alpha(eps, tau):
    """The slides' result: τ steps of rate ε act as L2 with ``α ≈ 1/(τε)`` (训练迭代次数起着与L2参数成反比的作用)."""
    # BEGIN SOLUTION: the inverse of τ·ε
    return 1.0 / (tau * eps)
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 7. Data augmentation (数据增强)
# --------------------------------------------------------------------------

def flip_lr(images):
    """The horizontal flip (水平翻转) of an image (H, W, C) or of a batch (N, H, W, C): the width axis reversed."""
    # BEGIN SOLUTION: reverse axis −2 (the width), whatever the rank
    return np.asarray(images)[..., ::-1, :]
    # END SOLUTION


def random_flip_lr(images, rng):
    """Each image of the batch (N, H, W, C) flipped with probability ½, drawn
    with ``rng.random(N) < 0.5`` (``rng`` a ``numpy.random.Generator``)."""
    # BEGIN SOLUTION: one draw per image; flip those below ½
    images = np.asarray(images)
    flip = rng.random(len(images)) < 0.5
    return np.where(flip[:, None, None, None], flip_lr(images), images)
    # END SOLUTION


def resize_short_side(image, length):
    """Nearest-neighbour scaling of an image (H, W, C) so that its short side is
    ``length``; the long side becomes ``round(long · length / short)``. Output
    pixel (i, j) takes input pixel ``(floor((i + ½)·H/H′), floor((j + ½)·W/W′))``."""
    # BEGIN SOLUTION: the output size from the short side, then the centre of each output pixel mapped back
    image = np.asarray(image)
    h, w = image.shape[:2]
    short = min(h, w)
    new_h, new_w = (length, int(round(w * length / short))) if h <= w else (int(round(h * length / short)), length)
    rows = np.floor((np.arange(new_h) + 0.5) * h / new_h).astype(int)
    cols = np.floor((np.arange(new_w) + 0.5) * w / new_w).astype(int)
    return image[rows][:, cols]
    # END SOLUTION


def random_resized_crop(image, length_range, size, rng):
    """The slides' training augmentation: ``L`` drawn uniformly from the
    integers of ``length_range`` (both ends included), the short side scaled
    to ``L``, then a ``size × size`` crop at a uniformly drawn position. Returns
    ``(crop, L, top, left)``."""
    # BEGIN SOLUTION: L, then the resized image, then the crop's corner
    length = int(rng.integers(length_range[0], length_range[1] + 1))
    resized = resize_short_side(image, length)
    top = int(rng.integers(0, resized.shape[0] - size + 1))
    left = int(rng.integers(0, resized.shape[1] - size + 1))
    return resized[top:top + size, left:left + size], length, top, left
    # END SOLUTION


def ten_crop(image, size):
    """The slides' test-time crops: the four corners (top-left, top-right,
    bottom-left, bottom-right) and the centre of the image, then the same five
    of its horizontal flip (2 × (4 角 + 1 中心)). Returns (10, size, size, C).
    The centre's corner is ``((H − size)//2, (W − size)//2)``."""
    # BEGIN SOLUTION: five corners of the image, then the same of its flip
    def five(img):
        h, w = img.shape[:2]
        corners = [(0, 0), (0, w - size), (h - size, 0), (h - size, w - size), ((h - size) // 2, (w - size) // 2)]
        return [img[t:t + size, l:l + size] for t, l in corners]
    image = np.asarray(image)
    return np.stack(five(image) + five(flip_lr(image)))
    # END SOLUTION


def adjust_brightness(image, factor):
    """Brightness (亮度) scaled by ``factor``, clipped to [0, 1]."""
    # BEGIN SOLUTION: multiply, then clip
    return np.clip(np.asarray(image, dtype=np.float64) * factor, 0.0, 1.0)
    # END SOLUTION


def color_jitter(image, rng, brightness=(0.5, 1.5)):
    """Brightness scaled by a factor drawn uniformly from ``brightness`` (the slides' [0.5, 1.5]). Returns ``(image, factor)``."""
    # BEGIN SOLUTION: one uniform factor, then adjust_brightness
    factor = float(rng.uniform(brightness[0], brightness[1]))
    return adjust_brightness(image, factor), factor
    # END SOLUTION


def add_gaussian_noise(x, std, rng):
    """The slides' input noise: ``x + 𝒩(0, std²)`` independently at every element."""
    # BEGIN SOLUTION: a normal draw of x's shape, scaled by std
    x = np.asarray(x, dtype=np.float64)
    return x + rng.normal(0.0, std, size=x.shape)
    # END SOLUTION


def tta_predict(model, image, size):
    """Test-time augmentation: the mean of ``model``'s outputs over :func:`ten_crop`'s ten crops."""
    # BEGIN SOLUTION: one batch of the ten crops; the mean over them
    crops = ten_crop(image, size).astype(np.float32)
    return np.asarray(model(crops), dtype=np.float64).mean(axis=0)
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 8. Regularisation where it matters: a few hundred digits, noisy labels
# --------------------------------------------------------------------------

#: The network of Part 8 is fixed (two hidden ReLU layers of this width, then
#: ten logits); what you choose is how to regularise it.
WIDTH = 512
CLASSES = 10


def train_regularized(x, y, epochs, batch_size, learning_rate, seed):
    """Train the fixed network on ``x`` (n, 64) with labels ``y`` (n,) int, some
    of them wrong, so that it generalises to clean held-out digits.

    The network: ``Dense(WIDTH, relu)``, ``Dense(WIDTH, relu)``,
    ``Dense(CLASSES)`` (logits), plus any layers without weights between them
    (dropout, noise) that are the identity at inference; no normalisation
    layers. Train with ``keras.optimizers.Adam(learning_rate)`` for at most
    ``epochs`` epochs on batches of ``batch_size``, after
    ``keras.utils.set_random_seed(seed)``; regularise with what Parts 3–7
    built (dropout, an L2 penalty on the kernels, label smoothing, early
    stopping on a validation split you hold out, input noise). Returns the
    trained ``keras.Model``, mapping (n, 64) to logits (n, CLASSES).
    """
    # BEGIN SOLUTION: dropout after each hidden layer, L2 on every kernel, the slides' label smoothing
    smoothing, rate, l2 = 0.2, 0.5, 3e-3      # calibrated on seeds other than the check's
    keras.utils.set_random_seed(seed)
    penalty = keras.regularizers.L2(l2)
    model = keras.Sequential([keras.Input((x.shape[1],)),
                              keras.layers.Dense(WIDTH, activation="relu", kernel_regularizer=penalty),
                              keras.layers.Dropout(rate),
                              keras.layers.Dense(WIDTH, activation="relu", kernel_regularizer=penalty),
                              keras.layers.Dropout(rate),
                              keras.layers.Dense(CLASSES, kernel_regularizer=penalty)])
    targets = smooth_labels(np.eye(CLASSES)[np.asarray(y)], smoothing).astype(np.float32)
    model.compile(keras.optimizers.Adam(learning_rate), keras.losses.CategoricalCrossentropy(from_logits=True))
    model.fit(np.asarray(x, np.float32), targets, epochs=epochs, batch_size=batch_size, verbose=0)
    return model
    # END SOLUTION
