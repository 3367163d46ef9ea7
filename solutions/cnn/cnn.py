"""Lab 1 — Convolutional neural networks (卷积神经网络), chapter 3 of the slides.

Conventions used throughout (Keras's, not the slides'):

* images are NHWC: ``x`` has shape (N, H, W, C);
* kernels are (F_h, F_w, C_in, K), biases (K,);
* "convolution" means cross-correlation (互相关), as on the slides:
  ``y[n, i, j, k] = Σ_{u,v,c} x_pad[n, i·S + u, j·S + v, c] · w[u, v, c, k] + b[k]``;
* ``padding`` P is the number of zero rows/columns added on *each* side.

The low-level parts (convolution and pooling, forward and backward) are
written in NumPy in the CS231n style; the model-building parts use Keras 3.
"""

import numpy as np
import tensorflow as tf
import keras
from keras import layers


# --------------------------------------------------------------------------
# Part 1. Convolution arithmetic (卷积层的输出大小、参数量与计算量)
# --------------------------------------------------------------------------

def conv_output_size(n, f, stride=1, padding=0):
    """Output length of a convolution or pooling along one axis.

    ``(N + 2P − F) / S + 1``. Raises ``ValueError`` when the filter does not
    fit: when it is larger than the padded input (F > N + 2P), or when it
    does not fit an integer number of times (the slides' 「不匹配」 case,
    e.g. N=7, F=3, S=3).
    """
    # BEGIN SOLUTION: return (n + 2*padding - f) / stride + 1 as an int; raise ValueError if f > n + 2*padding or it is not an integer
    span = n + 2 * padding - f
    if span < 0 or span % stride:
        raise ValueError(f"a filter of size {f} with stride {stride} does not fit an input of size {n} padded by {padding}")
    return span // stride + 1
    # END SOLUTION


def same_padding(n, f, stride=1):
    """Padding per side that keeps the output size equal to the input size N
    (「填充（PADDING）」: 「保持输出大小与输入大小一样」): for stride 1 this is
    ``(F − 1) / 2``; for stride S the slide gives ``((S − 1)·N + F − S) / 2``,
    which makes ``(N + 2P − F) / S + 1 = N`` (the output stays N, not
    ``ceil(N / S)`` as Keras's ``padding="same"`` gives). Returns a float (it
    may be fractional)."""
    # BEGIN SOLUTION: the slide's formula ((S - 1) * N + F - S) / 2
    return ((stride - 1) * n + f - stride) / 2
    # END SOLUTION


def conv_params(f, d_in, k, bias=True):
    """Parameters of a conv layer with K filters of size F×F×D_in: ``F·F·D_in·K`` weights, plus K biases."""
    # BEGIN SOLUTION: F*F*D_in*K weights, plus K biases when bias=True
    return f * f * d_in * k + (k if bias else 0)
    # END SOLUTION


def dense_params(n_in, n_out, bias=True):
    """Parameters of a fully connected layer: ``n_in·n_out`` weights plus ``n_out`` biases."""
    # BEGIN SOLUTION: n_in*n_out weights, plus n_out biases when bias=True
    return n_in * n_out + (n_out if bias else 0)
    # END SOLUTION


def conv_macs(h_out, w_out, f, d_in, k):
    """Multiply-adds of a conv layer: each of the ``H_out·W_out·K`` outputs is a
    dot product of length ``F·F·D_in`` (the slides' Inception "ops")."""
    # BEGIN SOLUTION: H_out * W_out * K outputs, each F*F*D_in multiply-adds
    return h_out * w_out * k * f * f * d_in
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 2. Convolution forward (卷积的前向计算)
# --------------------------------------------------------------------------

def conv2d_forward(x, w, b, stride=1, padding=0):
    """Cross-correlation of a batch of images with K filters (NumPy).

    Args:
        x: (N, H, W, C) input.
        w: (F_h, F_w, C, K) filters.
        b: (K,) biases.
        stride: S, the step between windows.
        padding: P, zeros added on each side of H and W.

    Returns:
        (N, H_out, W_out, K) with ``H_out = (H + 2P − F_h) / S + 1`` and
        ``y[n,i,j,k] = Σ_{u,v,c} x_pad[n, i·S+u, j·S+v, c] · w[u,v,c,k] + b[k]``.
        Do not flip the kernel. Written by hand in NumPy: no TensorFlow or
        Keras, no library convolution (SciPy's included).
    """
    # BEGIN SOLUTION: zero-pad x, then for every kernel offset (u, v) add x_pad[:, u::S, v::S, :] @ w[u, v]; add b
    x, w, b = np.asarray(x), np.asarray(w), np.asarray(b)
    fh, fw, _, k = w.shape
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    ho = conv_output_size(x.shape[1], fh, stride, padding)
    wo = conv_output_size(x.shape[2], fw, stride, padding)
    out = np.zeros((x.shape[0], ho, wo, k), dtype=np.result_type(x, w))
    for u in range(fh):
        for v in range(fw):
            window = xp[:, u : u + stride * (ho - 1) + 1 : stride, v : v + stride * (wo - 1) + 1 : stride, :]
            out += window @ w[u, v]
    return out + b
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 3. Convolution backward (卷积的反向传播)
# --------------------------------------------------------------------------

def conv2d_backward(dout, x, w, stride=1, padding=0):
    """Gradients of ``conv2d_forward`` (NumPy), given the upstream gradient.

    Args:
        dout: (N, H_out, W_out, K) gradient of the loss w.r.t. the output.
        x, w, stride, padding: as in ``conv2d_forward``.

    Returns:
        ``(dx, dw, db)`` with the shapes of ``x`` (N, H, W, C), ``w``
        (F_h, F_w, C, K) and ``b`` (K,). ``dx`` is the "full" correlation of
        ``dout`` with the flipped kernel; ``dw`` the correlation of ``x_pad``
        with ``dout``. Written by hand in NumPy: no TensorFlow (no autodiff),
        no library convolution.
    """
    # BEGIN SOLUTION: for each kernel offset (u, v): dw[u, v] = Σ window^T dout and scatter dout @ w[u, v]^T back into dx_pad; db = Σ dout; crop the padding off dx
    dout, x, w = np.asarray(dout), np.asarray(x), np.asarray(w)
    fh, fw, _, _ = w.shape
    _, ho, wo, _ = dout.shape
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    dxp = np.zeros_like(xp, dtype=np.result_type(dout, x))
    dw = np.zeros_like(w, dtype=np.result_type(dout, w))
    for u in range(fh):
        for v in range(fw):
            rows = slice(u, u + stride * (ho - 1) + 1, stride)
            cols = slice(v, v + stride * (wo - 1) + 1, stride)
            dw[u, v] = np.einsum("nijc,nijk->ck", xp[:, rows, cols, :], dout)
            dxp[:, rows, cols, :] += dout @ w[u, v].T
    db = dout.sum(axis=(0, 1, 2))
    dx = dxp[:, padding : padding + x.shape[1], padding : padding + x.shape[2], :]
    return dx, dw, db
    # END SOLUTION


def conv2d(x, w, b, stride=1, padding=0):
    """A differentiable convolution for TensorFlow: the forward pass is your
    ``conv2d_forward``, the backward pass your ``conv2d_backward``, joined
    with ``tf.custom_gradient`` (eager mode). No GradientTape (or other
    autodiff) and no library convolution inside: the gradient is yours.

    Returns a tensor of shape (N, H_out, W_out, K) and the dtype of ``x``.
    """
    x, w, b = tf.convert_to_tensor(x), tf.convert_to_tensor(w), tf.convert_to_tensor(b)

    @tf.custom_gradient
    def op(x, w, b):
        # BEGIN SOLUTION: y = conv2d_forward(...) as a tensor; grad(dy) returns the three tensors of conv2d_backward(dy, ...)
        y = tf.constant(conv2d_forward(x.numpy(), w.numpy(), b.numpy(), stride, padding), dtype=x.dtype)

        def grad(dy):
            dx, dw, db = conv2d_backward(dy.numpy(), x.numpy(), w.numpy(), stride, padding)
            return tf.constant(dx, x.dtype), tf.constant(dw, w.dtype), tf.constant(db, b.dtype)
        # END SOLUTION
        return y, grad

    return op(x, w, b)


# --------------------------------------------------------------------------
# Part 4. Pooling (汇聚层), forward and backward
# --------------------------------------------------------------------------

def _windows(x, f, stride):
    """Yield ``(i, j, window)`` for every pooling window; window is (N, f, f, C)."""
    ho = conv_output_size(x.shape[1], f, stride)
    wo = conv_output_size(x.shape[2], f, stride)
    for i in range(ho):
        for j in range(wo):
            yield i, j, x[:, i * stride : i * stride + f, j * stride : j * stride + f, :]


def max_pool_forward(x, f=2, stride=2):
    """Max pooling of (N, H, W, C) → (N, (H − F)/S + 1, (W − F)/S + 1, C).
    NumPy only, like every pooling function here: no TensorFlow or Keras."""
    # BEGIN SOLUTION: the maximum of each F×F window, per channel
    x = np.asarray(x)
    ho, wo = conv_output_size(x.shape[1], f, stride), conv_output_size(x.shape[2], f, stride)
    out = np.zeros((x.shape[0], ho, wo, x.shape[3]), dtype=x.dtype)
    for i, j, window in _windows(x, f, stride):
        out[:, i, j, :] = window.max(axis=(1, 2))
    return out
    # END SOLUTION


def max_pool_backward(dout, x, f=2, stride=2):
    """Gradient of max pooling: each window's upstream gradient goes to the
    cell that held the maximum (only that cell). Returns dx, shaped like x."""
    # BEGIN SOLUTION: route dout[:, i, j, :] to the argmax cell of each window (mask = window == its max)
    x, dout = np.asarray(x), np.asarray(dout)
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for i, j, window in _windows(x, f, stride):
        mask = window == window.max(axis=(1, 2), keepdims=True)
        dx[:, i * stride : i * stride + f, j * stride : j * stride + f, :] += mask * dout[:, i : i + 1, j : j + 1, :]
    return dx
    # END SOLUTION


def avg_pool_forward(x, f=2, stride=2):
    """Average pooling of (N, H, W, C) → (N, (H − F)/S + 1, (W − F)/S + 1, C)."""
    # BEGIN SOLUTION: the mean of each F×F window, per channel
    x = np.asarray(x)
    ho, wo = conv_output_size(x.shape[1], f, stride), conv_output_size(x.shape[2], f, stride)
    out = np.zeros((x.shape[0], ho, wo, x.shape[3]), dtype=x.dtype)
    for i, j, window in _windows(x, f, stride):
        out[:, i, j, :] = window.mean(axis=(1, 2))
    return out
    # END SOLUTION


def avg_pool_backward(dout, x, f=2, stride=2):
    """Gradient of average pooling: each window's upstream gradient is spread
    evenly, ``dout / F²``, over its cells. Returns dx, shaped like x."""
    # BEGIN SOLUTION: add dout[:, i, j, :] / (F*F) to every cell of window (i, j)
    x, dout = np.asarray(x), np.asarray(dout)
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for i, j, _ in _windows(x, f, stride):
        dx[:, i * stride : i * stride + f, j * stride : j * stride + f, :] += dout[:, i : i + 1, j : j + 1, :] / (f * f)
    return dx
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 5. LeNet-5
# --------------------------------------------------------------------------

def build_lenet5():
    """LeNet-5 as on the slides, for (32, 32, 1) inputs and 10 classes.

    CONV1 6@5×5 → (28,28,6); POOL1 2×2 average, stride 2 → (14,14,6);
    CONV2 16@5×5 → (10,10,16); POOL2 → (5,5,16); FC3 120; FC4 84; output 10
    with softmax. tanh activations, *average* pooling (「降采样的平均池化层」,
    「双曲正切或S型的激活函数」: use tanh), convolutions with stride 1 and no
    padding; 61,706 parameters in all. (The slide's diagram says the pooling
    has s=1, which cannot turn 28 into 14: use 2.)
    """
    # BEGIN SOLUTION: a keras.Sequential with Input((32, 32, 1)), Conv2D/AveragePooling2D/Flatten/Dense layers as in the table
    return keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            layers.Conv2D(6, 5, activation="tanh", name="conv1"),
            layers.AveragePooling2D(2, strides=2, name="pool1"),
            layers.Conv2D(16, 5, activation="tanh", name="conv2"),
            layers.AveragePooling2D(2, strides=2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(120, activation="tanh", name="fc3"),
            layers.Dense(84, activation="tanh", name="fc4"),
            layers.Dense(10, activation="softmax", name="output"),
        ],
        name="lenet5",
    )
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 6. Residual block (残差块)
# --------------------------------------------------------------------------

class ResidualBlock(layers.Layer):
    """``h(x) = relu(F(x) + shortcut(x))`` with ``F(x) = bn2(conv2(relu(bn1(conv1(x)))))``.

    * ``conv1``: 3×3, ``filters``, stride ``stride``, same padding, then
      ``bn1`` (a ``keras.layers.BatchNormalization``) and ReLU;
    * ``conv2``: 3×3, ``filters``, stride 1, same padding, then ``bn2``;
    * ``shortcut``: ``None`` (identity) when the stride is 1 and the input
      already has ``filters`` channels, else a 1×1 ``Conv2D`` projection with
      stride ``stride``;
    * the ReLU comes *after* the addition.

    The graders look for the attributes ``conv1``, ``bn1``, ``conv2``,
    ``bn2`` and ``shortcut``; keep these names.
    Input (N, H, W, C) → output (N, H/S, W/S, filters).
    """

    def __init__(self, filters, stride=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.stride = stride
        # BEGIN SOLUTION: create conv1, bn1, conv2, bn2 here (the shortcut is created in build, once C is known)
        self.conv1 = layers.Conv2D(filters, 3, strides=stride, padding="same")
        self.bn1 = layers.BatchNormalization()
        self.conv2 = layers.Conv2D(filters, 3, padding="same")
        self.bn2 = layers.BatchNormalization()
        # END SOLUTION
        self.shortcut = None

    def build(self, input_shape):
        # BEGIN SOLUTION: a 1×1 Conv2D(filters, strides=stride) shortcut when the stride or the channel count changes, else None
        if self.stride != 1 or input_shape[-1] != self.filters:
            self.shortcut = layers.Conv2D(self.filters, 1, strides=self.stride)
        # END SOLUTION

    def call(self, x, training=False):
        # BEGIN SOLUTION: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
        h = keras.ops.relu(self.bn1(self.conv1(x), training=training))
        h = self.bn2(self.conv2(h), training=training)
        skip = x if self.shortcut is None else self.shortcut(x)
        return keras.ops.relu(h + skip)
        # END SOLUTION


# --------------------------------------------------------------------------
# Part 7. Batch normalisation (批量归一化) and inverted dropout
# --------------------------------------------------------------------------

class BatchNorm(layers.Layer):
    """Batch normalisation over every axis but the last (channels).

    Training: ``x̂ = (x − μ_B) / sqrt(σ²_B + ε)`` with the batch mean and the
    *biased* batch variance, ``y = γ·x̂ + β``, and the moving statistics
    updated as ``moving = momentum·moving + (1 − momentum)·batch``.
    Inference: the same with the moving mean and variance instead.
    Weights: ``gamma`` (ones), ``beta`` (zeros), non-trainable
    ``moving_mean`` (zeros) and ``moving_variance`` (ones), each of shape (C,).
    Same defaults as ``keras.layers.BatchNormalization``. Written by hand:
    do not subclass or call ``keras.layers.BatchNormalization``,
    ``keras.ops.batch_normalization`` or ``tf.nn.batch_normalization``.
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.epsilon = epsilon

    def build(self, input_shape):
        c = (input_shape[-1],)
        self.gamma = self.add_weight(shape=c, initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=c, initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(shape=c, initializer="zeros", trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight(shape=c, initializer="ones", trainable=False, name="moving_variance")

    def call(self, x, training=False):
        # BEGIN SOLUTION: training: normalise with the batch mean/biased variance and update the moving statistics; inference: use the moving statistics
        axes = list(range(len(x.shape) - 1))
        if training:
            mean = keras.ops.mean(x, axis=axes)
            var = keras.ops.var(x, axis=axes)
            m = self.momentum
            self.moving_mean.assign(m * self.moving_mean + (1 - m) * mean)
            self.moving_variance.assign(m * self.moving_variance + (1 - m) * var)
        else:
            mean, var = self.moving_mean, self.moving_variance
        x_hat = (x - mean) / keras.ops.sqrt(var + self.epsilon)
        return self.gamma * x_hat + self.beta
        # END SOLUTION


def dropout(x, rate, training=True, seed=None):
    """Inverted dropout: in training, zero each element with probability
    ``rate`` (the *drop* probability, Keras's meaning) and scale the kept ones
    by ``1 / (1 − rate)`` so the expectation is unchanged; at inference
    return ``x`` unchanged. Differentiable (use TensorFlow ops), written by
    hand: not ``tf.nn.dropout``, ``keras.random.dropout`` or ``keras.layers.Dropout``.

    Args:
        x: a tensor of any shape. rate: float in [0, 1). seed: optional int.
    Returns: a tensor shaped like ``x``.
    """
    x = tf.convert_to_tensor(x)
    # BEGIN SOLUTION: keep = uniform(shape) >= rate; return x * keep / (1 - rate) in training, x otherwise
    if not training or rate == 0:
        return x
    keep = tf.random.uniform(tf.shape(x), seed=seed, dtype=x.dtype) >= rate
    return x * tf.cast(keep, x.dtype) / (1.0 - rate)
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 8. A configurable CNN (the slides' assignment) and its training
# --------------------------------------------------------------------------

DEFAULT_CONFIG = {
    "depth": 2,            # number of conv stages (1–4); each halves H and W
    "filters": 16,         # filters of the first stage (doubled at each stage)
    "batch_norm": False,   # BatchNormalization after every conv
    "dropout": 0.0,        # dropout rate before the classifier (0 = none)
    "residual": False,     # stages are ResidualBlocks instead of plain convs
    "learning_rate": 1e-3,
    "lr_decay": False,     # cosine decay of the learning rate over training
    "epochs": 3,
}


def build_cnn(config, input_shape=(28, 28, 1), num_classes=10):
    """A CNN whose structure follows ``config`` (keys as in ``DEFAULT_CONFIG``).

    Each of the ``depth`` stages maps (H, W) → (H/2, W/2): a plain stage is
    Conv2D 3×3 (same) [+ BatchNormalization] + ReLU + MaxPooling2D 2×2; a
    residual stage is ``ResidualBlock(filters, stride=2)``. Then Flatten,
    ``Dropout(config['dropout'])`` when it is > 0, and a ``Dense(num_classes)``
    layer producing **logits** (no softmax). Batch normalisation uses
    ``momentum=0.9`` so its moving statistics settle within a short run.
    Every toggle must really change the model.
    """
    cfg = {**DEFAULT_CONFIG, **config}
    # BEGIN SOLUTION: build the stages as described, then Flatten, optional Dropout and Dense(num_classes)
    inputs = keras.Input(input_shape)
    h = inputs
    for stage in range(cfg["depth"]):
        filters = cfg["filters"] * 2**stage
        if cfg["residual"]:
            h = ResidualBlock(filters, stride=2)(h)
        else:
            h = layers.Conv2D(filters, 3, padding="same", use_bias=not cfg["batch_norm"])(h)
            if cfg["batch_norm"]:
                h = layers.BatchNormalization(momentum=0.9)(h)
            h = layers.ReLU()(h)
            h = layers.MaxPooling2D(2)(h)
    h = layers.Flatten()(h)
    if cfg["dropout"] > 0:
        h = layers.Dropout(cfg["dropout"])(h)
    outputs = layers.Dense(num_classes)(h)
    return keras.Model(inputs, outputs, name="cnn")
    # END SOLUTION


def make_optimizer(config, steps_per_epoch):
    """Adam with ``config['learning_rate']``; when ``config['lr_decay']`` is true
    the learning rate is a ``keras.optimizers.schedules.CosineDecay`` over
    ``epochs × steps_per_epoch`` steps (学习率衰减)."""
    cfg = {**DEFAULT_CONFIG, **config}
    # BEGIN SOLUTION: a float learning rate, or a CosineDecay schedule when lr_decay is on
    lr = cfg["learning_rate"]
    if cfg["lr_decay"]:
        lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=cfg["epochs"] * steps_per_epoch)
    return keras.optimizers.Adam(lr)
    # END SOLUTION


# BEGIN SOLUTION: your best configuration for the graded training run (at most 6 epochs are used)
# STARTER: BEST_CONFIG = dict(DEFAULT_CONFIG)
BEST_CONFIG = {**DEFAULT_CONFIG, "depth": 2, "filters": 32, "batch_norm": True, "dropout": 0.3,
               "learning_rate": 3e-3, "lr_decay": True, "epochs": 6}
# END SOLUTION


# --------------------------------------------------------------------------
# Part 9. The study (研究 dropout、normalization、learning rate decay、
#         residual connection、网络深度 对分类性能的影响)
# --------------------------------------------------------------------------

# The study's fixed settings: every configuration trains this long, this fast.
STUDY_WIDTH = 16            # filters of every convolution
STUDY_EPOCHS = 3
STUDY_BATCH_SIZE = 64
STUDY_LEARNING_RATE = 3e-3  # Adam's (initial) learning rate


def ablation_cnn(depth, normalization, residual, dropout, input_shape, num_classes):
    """The study's network: a stem, ``depth`` convolution layers at one
    resolution, and a classifier.

    * stem: ``Conv2D(STUDY_WIDTH, 3, padding="same")`` [+ norm] + ReLU, then
      ``MaxPooling2D(2)``;
    * ``depth`` layers, each with ``f(h) = norm(Conv2D(STUDY_WIDTH, 3,
      padding="same")(h))``: ``h = relu(f(h))`` when ``residual`` is false,
      ``h = relu(h + f(h))`` (an identity shortcut) when it is true;
    * ``MaxPooling2D(2)``, ``Flatten``, ``keras.layers.Dropout(dropout)``
      when ``dropout > 0``, and ``Dense(num_classes)`` producing logits.

    ``norm`` is **your** ``BatchNorm(momentum=0.9)`` when ``normalization``
    is true (a convolution before it has no bias: ``use_bias=False``), and
    nothing otherwise. Returns a ``keras.Model``.
    """
    # BEGIN SOLUTION: the functional model described above, using your BatchNorm layer
    def conv_norm(h):
        h = layers.Conv2D(STUDY_WIDTH, 3, padding="same", use_bias=not normalization)(h)
        return BatchNorm(momentum=0.9)(h) if normalization else h

    inputs = keras.Input(input_shape)
    h = layers.MaxPooling2D(2)(layers.ReLU()(conv_norm(inputs)))
    for _ in range(depth):
        f = conv_norm(h)
        h = layers.ReLU()(h + f if residual else f)
    h = layers.Flatten()(layers.MaxPooling2D(2)(h))
    if dropout > 0:
        h = layers.Dropout(dropout)(h)
    return keras.Model(inputs, layers.Dense(num_classes)(h), name="ablation_cnn")
    # END SOLUTION


def run_config(dropout, normalization, lr_decay, residual, depth, *, seed):
    """One configuration of the study: train and test ``ablation_cnn``.

    The task is ``grader.data.cnn_study_data()`` (2,000 training and 1,000
    test images; by default ten noisy synthetic shapes). Seed everything
    from ``seed`` first (``keras.utils.set_random_seed(seed)``), build
    ``ablation_cnn(depth, normalization, residual, dropout, ...)`` for the
    task's image shape and classes, and train it for ``STUDY_EPOCHS`` epochs
    with batches of ``STUDY_BATCH_SIZE`` (``model.fit``'s shuffling) and the
    optimizer of your ``make_optimizer`` with ``STUDY_LEARNING_RATE`` and
    ``lr_decay``, on the cross-entropy of the logits.

    Returns ``{"test_accuracy": ..., "train_accuracy": ...}``: the accuracy
    of ``model(x_test, training=False)`` on the test images, and the
    training accuracy ``fit`` reports for the last epoch.
    """
    # BEGIN SOLUTION: seed, load the task, build, compile with make_optimizer, fit, then measure both accuracies
    from grader.data import cnn_study_data

    keras.utils.set_random_seed(int(seed))
    task = cnn_study_data()
    model = ablation_cnn(depth, normalization, residual, dropout, task.x_train.shape[1:], len(task.classes))
    config = {"learning_rate": STUDY_LEARNING_RATE, "lr_decay": lr_decay, "epochs": STUDY_EPOCHS}
    steps = -(-len(task.y_train) // STUDY_BATCH_SIZE)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=make_optimizer(config, steps_per_epoch=steps), loss=loss, metrics=["accuracy"])
    history = model.fit(task.x_train, task.y_train, batch_size=STUDY_BATCH_SIZE, epochs=STUDY_EPOCHS, verbose=0)
    logits = np.asarray(model(task.x_test, training=False))
    return {"test_accuracy": float(np.mean(logits.argmax(axis=-1) == task.y_test)),
            "train_accuracy": float(history.history["accuracy"][-1])}
    # END SOLUTION
