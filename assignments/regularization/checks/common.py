"""Helpers the regularisation lab's checks share (public and hidden): the
"implement it yourself" rules (:mod:`grader.checks.byhand`) and the observe
side's calls into the student's module (the scalers on a training and a test
set, the normalisation layers next to Keras's own, dropout with injected and
with random masks, the smoothed labels next to Keras's cross-entropy).
Whatever ``observe`` needs of the lab's settings arrives in its inputs."""

import numpy as np

from grader.checks import parts
from grader.checks.byhand import AUTODIFF, FRAMEWORKS, ByHand

SCALERS = ("fit_standardizer", "standardize", "fit_minmax", "minmax_scale", "preprocess")
SCALING_RULE = ByHand(functions=SCALERS, forbid=FRAMEWORKS + ("sklearn",),
                      why="Part 1's scalers are the slides' formulas written in NumPy: no Keras Normalization, "
                          "no scikit-learn scaler")

KERAS_NORMALIZATION = ("keras.layers.BatchNormalization", "keras.layers.LayerNormalization",
                       "keras.layers.GroupNormalization", "keras.layers.UnitNormalization", "keras.ops.moments",
                       "keras.ops.batch_normalization", "tensorflow.nn.batch_normalization",
                       "tensorflow.nn.fused_batch_norm", "tensorflow.nn.moments")
BATCH_NORM_RULE = ByHand(functions=("batch_norm_train", "batch_norm_backward", "BatchNorm"),
                         forbid=AUTODIFF + KERAS_NORMALIZATION,
                         why="Part 2's batch normalisation computes its statistics and its backward pass itself: "
                             "no automatic differentiation and no library normalisation inside")
GROUP_NORM_RULE = ByHand(functions=("GroupNorm",), forbid=KERAS_NORMALIZATION,
                         why="Part 2's group normalisation computes its statistics itself: no library "
                             "normalisation inside")

KERAS_DROPOUT = ("keras.layers.Dropout", "keras.layers.SpatialDropout1D", "keras.layers.SpatialDropout2D",
                 "keras.layers.SpatialDropout3D", "keras.layers.GaussianDropout", "keras.layers.AlphaDropout",
                 "keras.random.dropout", "tensorflow.nn.dropout")
DROPOUT_RULE = ByHand(functions=("dropout", "dropout_weight_scaling", "DropConnectDense"), forbid=KERAS_DROPOUT,
                      why="Part 3's dropout draws and applies its own mask: no library dropout inside")

SMOOTHING_RULE = ByHand(functions=("smooth_labels", "smoothed_cross_entropy"), forbid=FRAMEWORKS,
                        why="Part 4's smoothing and cross-entropy are the slides' formulas written in NumPy")


def as_numpy(value):
    return np.asarray(value, dtype=np.float64)


# -- Part 1 ---------------------------------------------------------------------------------------

def observe_scalers(sub, x_train, x_test, mean, std, lo, hi):
    """Each scaler on its own (the fits on ``x_train``; the transforms with the
    given statistics), and ``keras.layers.Normalization`` adapted to ``x_train``
    applied to ``x_test``, next to ``preprocess``'s test set."""
    import keras

    def keras_normalization():
        layer = keras.layers.Normalization(axis=-1)
        layer.adapt(x_train.astype(np.float32))
        return as_numpy(layer(x_test.astype(np.float32)))

    return {"standardizer": parts.attempt(lambda: [as_numpy(v) for v in sub.fit_standardizer(x_train)]),
            "standardize": parts.attempt(lambda: as_numpy(sub.standardize(x_test, mean, std))),
            "minmax": parts.attempt(lambda: [as_numpy(v) for v in sub.fit_minmax(x_train)]),
            "minmax_scale": parts.attempt(lambda: as_numpy(sub.minmax_scale(x_test, lo, hi))),
            "preprocess_test": parts.attempt(
                lambda: as_numpy(sub.preprocess(x_train, x_test, "standardize")[1])),
            "keras": keras_normalization()}


def observe_leak(sub, x_train, x_tests, methods):
    """``preprocess`` of the same training set with each test set of
    ``x_tests`` (a shifted and rescaled one among them), by each method: a
    statistic fitted on the test set shows as a training set that changes with
    the test set, or a test set transformed with its own statistics."""
    out = {}
    for method in methods:
        out[method] = parts.attempt(
            lambda: [[as_numpy(v) for v in sub.preprocess(x_train, x_test, method)] for x_test in x_tests])
    return out


# -- Part 2 ---------------------------------------------------------------------------------------

def observe_batch_norm(sub, batches, probe, gamma, beta, kwargs):
    """The student's ``BatchNorm(**kwargs)`` and Keras's ``BatchNormalization``
    with the same γ, β, momentum and ε: the output of each training batch, the
    moving statistics after each, then the output on ``probe`` in inference
    (and on its first sample alone)."""
    import keras

    def run(layer):
        layer(batches[0][:1], training=False)
        layer.set_weights([gamma, beta, np.zeros_like(gamma), np.ones_like(gamma)])
        train, moving = [], []
        for batch in batches:
            train.append(as_numpy(layer(batch, training=True)))
            moving.append([as_numpy(w) for w in layer.get_weights()[2:]])
        return {"train": train, "moving": moving, "inference": as_numpy(layer(probe, training=False)),
                "single": as_numpy(layer(probe[:1], training=False)),
                "weights": [len(layer.trainable_weights), len(layer.non_trainable_weights)]}

    keras_kwargs = {"momentum": kwargs.get("momentum", 0.99), "epsilon": kwargs.get("epsilon", 1e-3)}
    return {"student": parts.attempt(lambda: run(sub.BatchNorm(**kwargs))),
            "keras": run(keras.layers.BatchNormalization(**keras_kwargs))}


def observe_batch_norm_gradient(sub, x, gamma, beta, epsilon, w, dy, x_hat, inv_std):
    """``batch_norm_backward`` on given arrays (float64), and the gradients of
    ``Σ w ⊙ batch_norm_train(x, γ, β, ε)`` with respect to x, γ and β taken by
    the grader's tape through the student's custom gradient, counting the
    calls into ``batch_norm_backward`` (the hand-written backward must be
    the one used)."""
    import tensorflow as tf

    def backward():
        args = [tf.constant(v, dtype=tf.float64) for v in (dy, x_hat, gamma, inv_std)]
        return [as_numpy(v) for v in sub.batch_norm_backward(*args)]

    def through_tape():
        original = sub.batch_norm_backward
        calls = []

        def counted(*args, **kwargs):
            calls.append(1)
            return original(*args, **kwargs)

        tensors = [tf.constant(v, dtype=tf.float64) for v in (x, gamma, beta)]
        sub.batch_norm_backward = counted
        try:
            with tf.GradientTape() as tape:
                tape.watch(tensors)
                y = sub.batch_norm_train(*tensors, tf.constant(epsilon, dtype=tf.float64))
                loss = tf.reduce_sum(y * tf.constant(w, dtype=tf.float64))
            grads = tape.gradient(loss, tensors)
        finally:
            sub.batch_norm_backward = original
        return {"y": as_numpy(y), "grads": [as_numpy(g) for g in grads], "calls": len(calls)}

    return {"backward": parts.attempt(backward), "tape": parts.attempt(through_tape)}


def observe_group_norm(sub, x, groups, gamma, beta, epsilon):
    """``GroupNorm(g)`` (``epsilon`` given unless None) for each ``g`` of
    ``groups`` with the given γ, β, in training and in inference, next to
    Keras's ``GroupNormalization``."""
    import keras

    def run(make):
        layer = make()
        layer(x[:1])
        layer.set_weights([gamma, beta])
        return [as_numpy(layer(x, training=True)), as_numpy(layer(x, training=False))]

    out = {}
    for g in groups:
        kwargs = {} if epsilon is None else {"epsilon": epsilon}
        out[f"student_{g}"] = parts.attempt(lambda: run(lambda: sub.GroupNorm(g, **kwargs)))
        out[f"keras_{g}"] = run(lambda: keras.layers.GroupNormalization(groups=g, epsilon=kwargs.get("epsilon", 1e-3)))
    return out


# -- Part 3 ---------------------------------------------------------------------------------------

def observe_dropout_masks(sub, x, keep_mask, rate, xin, kernel, bias, kernel_mask):
    """Both dropouts with an injected mask (training) and at test time, the
    gradient of Σ dropout(x) (the grader's tape), and ``DropConnectDense`` with
    the given kernel and an injected kernel mask, and at test time."""
    import tensorflow as tf

    def inverted():
        return [as_numpy(sub.dropout(x, rate, True, keep_mask=keep_mask)), as_numpy(sub.dropout(x, rate, False))]

    def scaling():
        return [as_numpy(sub.dropout_weight_scaling(x, rate, True, keep_mask=keep_mask)),
                as_numpy(sub.dropout_weight_scaling(x, rate, False))]

    def gradient():
        t = tf.constant(x, dtype=tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(t)
            loss = tf.reduce_sum(sub.dropout(t, rate, True, keep_mask=keep_mask))
        return as_numpy(tape.gradient(loss, t))

    def drop_connect():
        layer = sub.DropConnectDense(kernel.shape[1], rate)
        layer(xin[:1])
        layer.set_weights([kernel, bias])
        return [as_numpy(layer(xin, training=True, kernel_mask=kernel_mask)),
                as_numpy(layer(xin, training=False))]

    return {"inverted": parts.attempt(inverted), "scaling": parts.attempt(scaling),
            "gradient": parts.attempt(gradient), "drop_connect": parts.attempt(drop_connect)}


def observe_dropout_draws(sub, n, rate, seed, d, units):
    """Random masks: dropout and the weight-scaling form of ``ones(n)`` (the
    number of zeros, the smallest and largest value kept), and two training
    calls of ``DropConnectDense(units, rate)`` on the identity, whose output
    is the masked kernel (the zeros of each, the largest change of a kept
    weight, and how many weights the two masks treat differently)."""
    def summary(values):
        values = as_numpy(values).ravel()
        kept = values[values != 0]
        return [int(np.sum(values == 0)), float(kept.min(initial=np.inf)), float(kept.max(initial=-np.inf))]

    def drop_connect():
        layer = sub.DropConnectDense(units, rate)
        eye = np.eye(d, dtype=np.float32)
        layer(eye[:1])
        kernel = layer.get_weights()[0]
        layer.set_weights([kernel, np.zeros(units, dtype=np.float32)])
        first, second = (as_numpy(layer(eye, training=True)) for _ in range(2))
        kept = first != 0
        changed = float(np.max(np.abs(first[kept] - kernel[kept]), initial=0.0))
        return [int(np.sum(~kept)), int(np.sum(second == 0)), changed, int(np.sum(kept != (second != 0)))]

    ones = np.ones(int(n), dtype=np.float32)
    return {"inverted": parts.attempt(lambda: summary(sub.dropout(ones, rate, True, seed=seed))),
            "scaling": parts.attempt(lambda: summary(sub.dropout_weight_scaling(ones, rate, True, seed=seed))),
            "drop_connect": parts.attempt(drop_connect)}


# -- Part 4 ---------------------------------------------------------------------------------------

def observe_smoothing(sub, labels, logits, epsilon):
    """The smoothed labels, the Keras ``label_smoothing`` for them, the
    slides' smoothed cross-entropy, and Keras's cross-entropy with the
    student's ``label_smoothing`` on the same logits."""
    import keras

    k = logits.shape[1]
    y = np.eye(k)[labels]

    def keras_loss():
        s = float(sub.keras_label_smoothing(epsilon, k))
        loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=s)
        return float(loss(y.astype(np.float32), logits.astype(np.float32)))

    return {"labels": parts.attempt(lambda: as_numpy(sub.smooth_labels(y, epsilon))),
            "s": parts.attempt(lambda: float(sub.keras_label_smoothing(epsilon, k))),
            "loss": parts.attempt(lambda: float(sub.smoothed_cross_entropy(logits, y, epsilon))),
            "keras_loss": parts.attempt(keras_loss)}


# -- Part 5 ---------------------------------------------------------------------------------------

PENALTY_RULE = ByHand(functions=("l2_penalty", "l1_penalty"),
                      forbid=("keras.regularizers", "keras.losses"),
                      why="Part 5's penalties sum the kernels' squares and absolute values themselves: no Keras "
                          "regularizer inside")
STEP_RULE = ByHand(functions=("sgd_weight_decay_step", "sgd_l1_step", "adam_l2_step", "adamw_step"),
                   forbid=FRAMEWORKS + ("torch", "optax"),
                   why="Part 5's steps are the slides' formulas written in NumPy: no library optimiser")
EARLY_RULE = ByHand(functions=("BestWeightsEarlyStopping", "gd_path_solution", "l2_solution", "equivalent_alpha"),
                    forbid=("keras.callbacks.EarlyStopping",),
                    why="Part 6's callback keeps and restores the best weights itself: it may not wrap or inherit "
                        "from Keras's EarlyStopping")


def build_model(spec):
    """A small Keras model from plain data: ``["dense", d_in, [units...]]``
    (a BatchNormalization after the first Dense) or ``["conv", [h, w, c], filters, units]``."""
    import keras

    if spec[0] == "dense":
        _, d_in, units = spec
        layers = [keras.Input((d_in,)), keras.layers.Dense(units[0]), keras.layers.BatchNormalization()]
        layers += [keras.layers.Dense(u) for u in units[1:]]
    else:
        _, shape, filters, units = spec
        layers = [keras.Input(tuple(shape)), keras.layers.Conv2D(filters, 3), keras.layers.Flatten(),
                  keras.layers.Dense(units)]
    return keras.Sequential(layers)


def observe_penalties(sub, spec, weights, lams):
    """Both penalties of the model built from ``spec`` with ``weights``, for each λ."""
    model = build_model(spec)
    model.set_weights([np.asarray(w, dtype=np.float32) for w in weights])
    return {"l2": parts.attempt(lambda: [float(sub.l2_penalty(model, lam)) for lam in lams]),
            "l1": parts.attempt(lambda: [float(sub.l1_penalty(model, lam)) for lam in lams])}


def quadratic(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return lambda theta: a @ theta - b


def run_steps(step, theta0, grad, steps, state, kwargs):
    """``steps`` updates of ``step`` from ``theta0``: θ after every step."""
    theta, path = np.array(theta0, dtype=np.float64), []
    state = list(state)
    for _ in range(int(steps)):
        if state:
            theta, *state = step(theta, *state, grad(theta), **kwargs)
        else:
            theta = step(theta, grad(theta), **kwargs)
        theta = np.array(theta, dtype=np.float64)
        path.append(theta.copy())
    return np.array(path)


def observe_sgd_decay(sub, a, b, theta0, steps, lr, lam):
    """Weight decay and the L1 step for ``steps`` steps on ½θᵀAθ − bᵀθ, and one
    weight-decay step next to a plain SGD step on the L2-penalised loss whose
    gradient the grader's tape takes (float64)."""
    import tensorflow as tf

    grad = quadratic(a, b)
    kwargs = {"lr": lr, "lam": lam}

    def tape_step():
        theta = tf.Variable(np.asarray(theta0, dtype=np.float64))
        with tf.GradientTape() as tape:
            t = theta
            loss = 0.5 * tf.tensordot(t, tf.linalg.matvec(tf.constant(a), t), 1) - tf.tensordot(tf.constant(b), t, 1)
            loss += 0.5 * lam * tf.reduce_sum(t * t)
        return np.asarray(theta0, dtype=np.float64) - lr * tape.gradient(loss, theta).numpy()

    return {"decay": parts.attempt(lambda: run_steps(sub.sgd_weight_decay_step, theta0, grad, steps, (), kwargs)),
            "l1": parts.attempt(lambda: run_steps(sub.sgd_l1_step, theta0, grad, steps, (), kwargs)),
            "one_step": parts.attempt(lambda: np.asarray(sub.sgd_weight_decay_step(
                np.asarray(theta0, dtype=np.float64), grad(np.asarray(theta0, dtype=np.float64)), lr, lam),
                dtype=np.float64)),
            "tape_step": tape_step()}


def observe_adam_decay(sub, a, b, theta0, steps, settings):
    """``adamw_step`` and ``adam_l2_step`` for ``steps`` steps with each
    keyword set of ``settings``, and one step of each with λ and with λ = 0
    from the same point and state."""
    grad = quadratic(a, b)
    zero = np.zeros_like(np.asarray(theta0, dtype=np.float64))
    out = {}
    for i, kwargs in enumerate(settings):
        for name in ("adamw_step", "adam_l2_step"):
            step = getattr(sub, name)
            out[f"{name}_{i}"] = parts.attempt(lambda: run_steps(step, theta0, grad, steps, (zero, zero, 0), kwargs))
            off = {**kwargs, "lam": 0.0}
            out[f"{name}_{i}_delta"] = parts.attempt(lambda: np.asarray(
                step(theta0, zero, zero, 0, grad(theta0), **kwargs)[0], dtype=np.float64) - np.asarray(
                step(theta0, zero, zero, 0, grad(theta0), **off)[0], dtype=np.float64))
    return out


# -- Part 6 ---------------------------------------------------------------------------------------

def observe_early_stopping(sub, curves):
    """The student's callback driven epoch by epoch over each scripted curve
    (``[values, kwargs]``) on a one-unit Dense model whose weights at epoch e
    are (e, −e): the epochs run, ``best_epoch``, ``stopped_epoch`` and the
    kernel's value after ``on_train_end`` (the epoch whose weights came back)."""
    import keras

    def run(values, kwargs):
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.stop_training = False  # as model.fit sets it
        callback = sub.BestWeightsEarlyStopping(**kwargs)
        callback.set_model(model)
        monitor = kwargs.get("monitor", "val_loss")
        callback.on_train_begin()
        ran = 0
        for epoch, value in enumerate(values):
            model.set_weights([np.full((1, 1), float(epoch), dtype=np.float32), np.full(1, -float(epoch), np.float32)])
            callback.on_epoch_end(epoch, {"loss": 0.0, monitor: float(value)})
            ran += 1
            if model.stop_training:
                break
        callback.on_train_end()
        stopped = callback.stopped_epoch
        return {"ran": ran, "best_epoch": int(callback.best_epoch),
                "stopped_epoch": -1 if stopped is None else int(stopped),
                "restored": [float(w.ravel()[0]) for w in model.get_weights()]}

    return [parts.attempt(lambda: run(values, kwargs)) for values, kwargs in curves]


def observe_equivalence(sub, h, w_star, eps, taus):
    """The gradient-descent path and the L2 solution with the student's α for each τ."""
    def run():
        out = []
        for tau in taus:
            alpha = float(sub.equivalent_alpha(eps, tau))
            out.append({"alpha": alpha, "gd": np.asarray(sub.gd_path_solution(h, w_star, eps, tau), dtype=np.float64),
                        "l2": np.asarray(sub.l2_solution(h, w_star, alpha), dtype=np.float64)})
        return out
    return parts.attempt(run)


# -- Part 7 ---------------------------------------------------------------------------------------

AUGMENT_FUNCTIONS = ("flip_lr", "random_flip_lr", "resize_short_side", "random_resized_crop", "ten_crop",
                     "adjust_brightness", "color_jitter", "add_gaussian_noise", "tta_predict")
AUGMENT_RULE = ByHand(functions=AUGMENT_FUNCTIONS[:-1], forbid=FRAMEWORKS + ("PIL", "cv2", "scipy.ndimage", "skimage"),
                      why="Part 7's augmentations index and draw with NumPy themselves: no image library")


def observe_augment_exact(sub, image, batch, length, size, factor, weights):
    """The deterministic augmentations on the given image (and batch),
    ``ten_crop`` at ``size`` and at ``size // 2`` (under half the image: a
    corner formula that holds only for crops over half of it shows there), and
    ``tta_predict`` with a softmax classifier of the given weights."""
    import keras

    def tta():
        model = keras.Sequential([keras.Input((size, size, image.shape[-1])), keras.layers.Flatten(),
                                  keras.layers.Dense(weights[1].shape[0], activation="softmax")])
        model.set_weights([np.asarray(w, dtype=np.float32) for w in weights])
        return as_numpy(sub.tta_predict(model, image, size))

    portrait = np.ascontiguousarray(np.swapaxes(image, 0, 1))
    return {"flip": parts.attempt(lambda: [as_numpy(sub.flip_lr(image)), as_numpy(sub.flip_lr(batch))]),
            "resize": parts.attempt(lambda: [as_numpy(sub.resize_short_side(image, length)),
                                             as_numpy(sub.resize_short_side(portrait, length))]),
            "ten_crop": parts.attempt(lambda: [as_numpy(sub.ten_crop(image, size)),
                                               as_numpy(sub.ten_crop(image, size // 2))]),
            "brightness": parts.attempt(lambda: as_numpy(sub.adjust_brightness(image, factor))),
            "tta": parts.attempt(tta)}


def observe_augment_draws(sub, seed, n_flip, n_crop, n_jitter, n_noise, image, length_range, size, brightness, std):
    """The random augmentations drawn many times from one generator: how many
    images ``random_flip_lr`` flipped (and whether each output is its image or
    the flip), the crops' ``L``, corners, the largest corner each resized
    image allows, and whether each is that crop of your resized image, the
    jitter's factors (and whether each output is the image scaled by its
    factor), and the mean and standard deviation of the noise added to zeros."""
    rng = np.random.default_rng(seed)

    def flips():
        batch = np.broadcast_to(np.arange(3.0)[None, None, :, None] + 10.0 * np.arange(n_flip)[:, None, None, None],
                                (n_flip, 2, 3, 1)).copy()
        out = as_numpy(sub.random_flip_lr(batch, rng))
        flipped = out[:, 0, 0, 0] != batch[:, 0, 0, 0]
        valid = all(np.array_equal(o, b[:, ::-1] if f else b) for o, b, f in zip(out, batch, flipped))
        return [int(flipped.sum()), bool(valid)]

    def crops():
        lengths, corners, spans, valid = [], [], [], True
        for _ in range(int(n_crop)):
            crop, length, top, left = sub.random_resized_crop(image, length_range, size, rng)
            lengths.append(int(length))
            corners.append([int(top), int(left)])
            resized = as_numpy(sub.resize_short_side(image, int(length)))
            spans.append([resized.shape[0] - size, resized.shape[1] - size])
            expected = resized[int(top):int(top) + size, int(left):int(left) + size]
            valid = valid and np.asarray(crop).shape == (size, size, image.shape[-1]) and np.array_equal(as_numpy(crop), expected) \
                and 0 <= top <= resized.shape[0] - size and 0 <= left <= resized.shape[1] - size
        return {"lengths": lengths, "corners": corners, "spans": spans, "valid": bool(valid)}

    def jitter():
        grey = np.full((2, 2, 3), 0.3)
        factors, valid = [], True
        for _ in range(int(n_jitter)):
            out, factor = sub.color_jitter(grey, rng, brightness=tuple(brightness))
            factors.append(float(factor))
            valid = valid and np.allclose(as_numpy(out), np.clip(grey * factor, 0.0, 1.0), atol=1e-12)
        return {"factors": factors, "valid": bool(valid)}

    def noise():
        out = as_numpy(sub.add_gaussian_noise(np.zeros(int(n_noise)), std, rng))
        if out.shape != (int(n_noise),):
            raise ValueError(f"add_gaussian_noise returned shape {out.shape} for x of shape ({int(n_noise)},)")
        return [float(out.mean()), float(out.std())]

    return {"flips": parts.attempt(flips), "crops": parts.attempt(crops), "jitter": parts.attempt(jitter),
            "noise": parts.attempt(noise)}


# -- Part 8: a few hundred digits with wrong labels ----------------------------------------------

#: What a network trained to regularise must not do: fetch clean labels from a data set of its own.
DATA_LOADERS = ("sklearn", "mlxtend", "tensorflow_datasets", "keras.datasets", "keras.utils.get_file", "grader",
                "numpy.load", "numpy.loadtxt", "numpy.genfromtxt", "pandas")
#: Read from the source only (the run-time watch would slow the training several times over); the
#: held-out ceiling backs it up against a network trained on every digit's true label.
DATA_RULE = ByHand(functions=("train_regularized",), forbid=DATA_LOADERS,
                   why="Part 8 learns from the x and y it is given: no other data set, file or download inside",
                   watch=False)

CLASSES = 10


def noisy_digits(rng, train_size, wrong_share):
    """A task on which regularisation matters: ``train_size`` of scikit-learn's 1,797 digits
    (flattened to 64 features in [0, 1]) drawn from ``rng``, each label replaced by one of the
    other nine classes with probability ``wrong_share``; the other digits, with their true
    labels, are the held-out set. Returns ``(x, y, x_held, y_held)``."""
    from grader.data.images import digits

    images, labels = digits()
    images = images.reshape(len(images), -1)
    order = rng.permutation(len(labels))
    train, held = order[:train_size], order[train_size:]
    y = labels[train].copy()
    wrong = rng.random(train_size) < wrong_share
    y[wrong] = (y[wrong] + rng.integers(1, CLASSES, size=int(wrong.sum()))) % CLASSES
    return images[train], y, images[held], labels[held]


def observe_regularized(sub, x, y, setup, seed):
    """Train with ``train_regularized`` and hand back the trained weights (the grader evaluates
    the network itself, on digits this process never sees) and the model's own logits on the
    first 64 training digits (to confirm the grader's forward pass is the model's)."""
    model = sub.train_regularized(x, y, setup["epochs"], setup["batch_size"], setup["learning_rate"], seed)
    return {"weights": [np.asarray(w) for w in model.get_weights()],
            "logits": np.asarray(model(np.asarray(x[:64], np.float32), training=False))}
