# Starter code generated from the reference by `grader starter`: fill in every TODO.
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
    # TODO: mean and population standard deviation over the samples (axis 0)
    raise NotImplementedError("fit_standardizer: mean and population standard deviation over the samples (axis 0)")


def standardize(x, mean, std):
    """``(x − m_d) / σ_d`` for every feature d."""
    # TODO: subtract the mean, divide by the standard deviation
    raise NotImplementedError("standardize: subtract the mean, divide by the standard deviation")


def fit_minmax(x_train):
    """The per-feature minimum and maximum of ``x_train`` (n, d)."""
    # TODO: the smallest and largest value of each feature
    raise NotImplementedError("fit_minmax: the smallest and largest value of each feature")


def minmax_scale(x, lo, hi):
    """``(x − min_d) / (max_d − min_d)``: the training set lands in [0, 1]."""
    # TODO: shift by the minimum, divide by the range
    raise NotImplementedError("minmax_scale: shift by the minimum, divide by the range")


def preprocess(x_train, x_test, method):
    """Fit ``method`` (``"standardize"`` or ``"minmax"``) on ``x_train`` only and
    transform both sets with it. Returns ``(train, test)``."""
    # TODO: the statistics come from x_train alone; both sets use them
    raise NotImplementedError("preprocess: the statistics come from x_train alone; both sets use them")


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
    # TODO: reduce over every axis but the last; the closed form of dx
    raise NotImplementedError("batch_norm_backward: reduce over every axis but the last; the closed form of dx")


@tf.custom_gradient
def batch_norm_train(x, gamma, beta, epsilon):
    """Batch normalisation in training mode, ``γ ⊙ (x − μ_B)/√(σ_B² + ε) + β``
    with the batch's statistics over every axis but the last, and its
    hand-written gradient (:func:`batch_norm_backward`) through
    ``tf.custom_gradient``: no automatic differentiation inside."""
    # TODO: forward with the batch's statistics; the backward calls batch_norm_backward
    raise NotImplementedError("batch_norm_train: forward with the batch's statistics; the backward calls batch_norm_backward")


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
        # TODO: γ and β trainable; the moving mean and variance not
        raise NotImplementedError("build: γ and β trainable; the moving mean and variance not")

    def call(self, x, training=False):
        # TODO: the batch's statistics and a moving-average update when training
        raise NotImplementedError("call: the batch's statistics and a moving-average update when training")


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
        # TODO: split the channels into groups; statistics per sample and group
        raise NotImplementedError("call: split the channels into groups; statistics per sample and group")


# --------------------------------------------------------------------------
# Part 3. Dropout and DropConnect
# --------------------------------------------------------------------------

def dropout(x, rate, training, keep_mask=None, seed=None):
    """Inverted dropout: when training, every unit is kept with probability
    ``1 − rate`` and the kept ones are scaled by ``1/(1 − rate)``, so nothing
    changes at test time (the identity). ``keep_mask`` (1 keep, 0 drop), when
    given, replaces the random draw; ``seed`` seeds the draw."""
    # TODO: identity at test time; mask / (1 − rate) when training
    raise NotImplementedError("dropout: identity at test time; mask / (1 − rate) when training")


def dropout_weight_scaling(x, rate, training, keep_mask=None, seed=None):
    """The slides' dropout: units dropped with probability ``rate`` and not
    scaled when training; at test time every unit multiplied by ``1 − rate``
    (权重比例推断规则)."""
    # TODO: the mask alone when training; (1 − rate)·x at test time
    raise NotImplementedError("dropout_weight_scaling: the mask alone when training; (1 − rate)·x at test time")


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
        # TODO: mask the kernel (not the inputs) when training; (1 − rate)·W otherwise
        raise NotImplementedError("call: mask the kernel (not the inputs) when training; (1 − rate)·W otherwise")


def expected_output_two_inputs(w1, w2, x, y, rate=0.5):
    """The slides' example ``a = w1·x + w2·y`` with each input dropped with
    probability ``rate`` (no scaling): the expectation of ``a`` over the four
    masks, enumerated. (It equals ``(1 − rate)(w1·x + w2·y)``: ½(w1·x + w2·y)
    at the slides' 0.5.)"""
    # TODO: Σ over the 4 masks of P(mask) · (m1·w1·x + m2·w2·y)
    raise NotImplementedError("expected_output_two_inputs: Σ over the 4 masks of P(mask) · (m1·w1·x + m2·w2·y)")


# --------------------------------------------------------------------------
# Part 4. Label smoothing (标签平滑)
# --------------------------------------------------------------------------

def smooth_labels(y_onehot, epsilon):
    """The slides' smoothed labels: 1 − ε on the true class, ε/(k − 1) on each other class."""
    # TODO: 1 − ε where the one-hot is 1, ε/(k − 1) elsewhere
    raise NotImplementedError("smooth_labels: 1 − ε where the one-hot is 1, ε/(k − 1) elsewhere")


def keras_label_smoothing(epsilon, k):
    """The ``label_smoothing`` of Keras's cross-entropy (``y(1 − s) + s/k``)
    that gives the slides' smoothed labels for ε and k classes."""
    # TODO: s/k = ε/(k − 1)
    raise NotImplementedError("keras_label_smoothing: s/k = ε/(k − 1)")


def smoothed_cross_entropy(logits, y_onehot, epsilon):
    """The mean over the batch of the cross-entropy between the slides'
    smoothed labels and ``softmax(logits)``."""
    # TODO: −Σ ỹ · log softmax(z), a stable log-softmax
    raise NotImplementedError("smoothed_cross_entropy: −Σ ỹ · log softmax(z), a stable log-softmax")


# --------------------------------------------------------------------------
# Part 5. L1 and L2 penalties, weight decay (正则化)
# --------------------------------------------------------------------------

def kernels(model):
    """Every layer's ``kernel`` in ``model`` (Dense, convolutions), in order: the weights the penalties cover."""
    return [layer.kernel for layer in model.layers if getattr(layer, "kernel", None) is not None]


def l2_penalty(model, lam):
    """``½λ Σ‖W‖²`` over the model's kernels (biases excluded)."""
    # TODO: half of λ times the sum of squares of every kernel
    raise NotImplementedError("l2_penalty: half of λ times the sum of squares of every kernel")


def l1_penalty(model, lam):
    """``λ Σ‖W‖₁`` over the model's kernels (biases excluded)."""
    # TODO: λ times the sum of absolute values of every kernel
    raise NotImplementedError("l1_penalty: λ times the sum of absolute values of every kernel")


def sgd_weight_decay_step(theta, g, lr, lam):
    """The slides' weight decay (权重衰减): ``θ ← (1 − ηλ)θ − η g``, ``g`` the gradient of the loss alone."""
    # TODO: shrink θ by 1 − ηλ, then the gradient step
    raise NotImplementedError("sgd_weight_decay_step: shrink θ by 1 − ηλ, then the gradient step")


def sgd_l1_step(theta, g, lr, lam):
    """The slides' L1 step: ``θ ← θ − ηλ sign(θ) − η g``."""
    # TODO: a constant step ηλ towards 0, then the gradient step
    raise NotImplementedError("sgd_l1_step: a constant step ηλ towards 0, then the gradient step")


def adam_l2_step(theta, s, r, t, g, lr, lam, rho1=0.9, rho2=0.999, delta=1e-8):
    """Adam on the L2-penalised loss: the penalty's gradient ``λθ`` is added to
    ``g`` before the moments, so Adam's scaling divides it too. Returns
    ``(theta, s, r, t)``; δ outside the square root, as in the slides' Adam."""
    # TODO: g + λθ through the whole Adam step
    raise NotImplementedError("adam_l2_step: g + λθ through the whole Adam step")


def adamw_step(theta, s, r, t, g, lr, lam, rho1=0.9, rho2=0.999, delta=1e-8):
    """Decoupled weight decay (AdamW, Loshchilov and Hutter): Adam's step on the
    loss's gradient alone, and the decay ``ηλθ`` subtracted beside it, not
    scaled by Adam. Returns ``(theta, s, r, t)``."""
    # TODO: the moments of g alone; θ − η(ŝ/(δ + √r̂) + λθ)
    raise NotImplementedError("adamw_step: the moments of g alone; θ − η(ŝ/(δ + √r̂) + λθ)")


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
        # TODO: nothing seen yet
        raise NotImplementedError("on_train_begin: nothing seen yet")

    def on_epoch_end(self, epoch, logs=None):
        # TODO: keep the best weights; count epochs without improvement; stop after patience of them
        raise NotImplementedError("on_epoch_end: keep the best weights; count epochs without improvement; stop after patience of them")

    def on_train_end(self, logs=None):
        # TODO: give the model its best weights back
        raise NotImplementedError("on_train_end: give the model its best weights back")


def gd_path_solution(h, w_star, eps, tau):
    """``τ`` steps of gradient descent with rate ε from ``w = 0`` on the quadratic
    ``½(w − w*)ᵀH(w − w*)``: ``w(τ) = (I − (I − εH)^τ) w*``."""
    # TODO: the matrix power of I − εH
    raise NotImplementedError("gd_path_solution: the matrix power of I − εH")


def l2_solution(h, w_star, alpha):
    """The minimum of the quadratic plus ``½α‖w‖²``: ``w̃ = (H + αI)⁻¹ H w*``."""
    # TODO: solve (H + αI) w = H w*
    raise NotImplementedError("l2_solution: solve (H + αI) w = H w*")


def equivalent_alpha(eps, tau):
    """The slides' result: τ steps of rate ε act as L2 with ``α ≈ 1/(τε)`` (训练迭代次数起着与L2参数成反比的作用)."""
    # TODO: the inverse of τ·ε
    raise NotImplementedError("equivalent_alpha: the inverse of τ·ε")


# --------------------------------------------------------------------------
# Part 7. Data augmentation (数据增强)
# --------------------------------------------------------------------------

def flip_lr(images):
    """The horizontal flip (水平翻转) of an image (H, W, C) or of a batch (N, H, W, C): the width axis reversed."""
    # TODO: reverse axis −2 (the width), whatever the rank
    raise NotImplementedError("flip_lr: reverse axis −2 (the width), whatever the rank")


def random_flip_lr(images, rng):
    """Each image of the batch (N, H, W, C) flipped with probability ½, drawn
    with ``rng.random(N) < 0.5`` (``rng`` a ``numpy.random.Generator``)."""
    # TODO: one draw per image; flip those below ½
    raise NotImplementedError("random_flip_lr: one draw per image; flip those below ½")


def resize_short_side(image, length):
    """Nearest-neighbour scaling of an image (H, W, C) so that its short side is
    ``length``; the long side becomes ``round(long · length / short)``. Output
    pixel (i, j) takes input pixel ``(floor((i + ½)·H/H′), floor((j + ½)·W/W′))``."""
    # TODO: the output size from the short side, then the centre of each output pixel mapped back
    raise NotImplementedError("resize_short_side: the output size from the short side, then the centre of each output pixel mapped back")


def random_resized_crop(image, length_range, size, rng):
    """The slides' training augmentation: ``L`` drawn uniformly from the
    integers of ``length_range`` (both ends included), the short side scaled
    to ``L``, then a ``size × size`` crop at a uniformly drawn position. Returns
    ``(crop, L, top, left)``."""
    # TODO: L, then the resized image, then the crop's corner
    raise NotImplementedError("random_resized_crop: L, then the resized image, then the crop's corner")


def ten_crop(image, size):
    """The slides' test-time crops: the four corners (top-left, top-right,
    bottom-left, bottom-right) and the centre of the image, then the same five
    of its horizontal flip (2 × (4 角 + 1 中心)). Returns (10, size, size, C).
    The centre's corner is ``((H − size)//2, (W − size)//2)``."""
    # TODO: five corners of the image, then the same of its flip
    raise NotImplementedError("ten_crop: five corners of the image, then the same of its flip")


def adjust_brightness(image, factor):
    """Brightness (亮度) scaled by ``factor``, clipped to [0, 1]."""
    # TODO: multiply, then clip
    raise NotImplementedError("adjust_brightness: multiply, then clip")


def color_jitter(image, rng, brightness=(0.5, 1.5)):
    """Brightness scaled by a factor drawn uniformly from ``brightness`` (the slides' [0.5, 1.5]). Returns ``(image, factor)``."""
    # TODO: one uniform factor, then adjust_brightness
    raise NotImplementedError("color_jitter: one uniform factor, then adjust_brightness")


def add_gaussian_noise(x, std, rng):
    """The slides' input noise: ``x + 𝒩(0, std²)`` independently at every element."""
    # TODO: a normal draw of x's shape, scaled by std
    raise NotImplementedError("add_gaussian_noise: a normal draw of x's shape, scaled by std")


def tta_predict(model, image, size):
    """Test-time augmentation: the mean of ``model``'s outputs over :func:`ten_crop`'s ten crops."""
    # TODO: one batch of the ten crops; the mean over them
    raise NotImplementedError("tta_predict: one batch of the ten crops; the mean over them")


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
    # TODO: dropout after each hidden layer, L2 on every kernel, the slides' label smoothing
    raise NotImplementedError("train_regularized: dropout after each hidden layer, L2 on every kernel, the slides' label smoothing")
