"""The CNN reference is validated against independent implementations
(TensorFlow's convolution and pooling, Keras's BatchNormalization, autodiff,
central differences) and the slides' own numbers, because every expected
value the checks use is the reference's observation."""

import numpy as np
import pytest

from grader.checks.architecture import describe_layers
from grader.device import configure
from grader.checks.gradcheck import numeric_gradient
from grader.checks.judges import rel_error
from grader.labs.lab import Lab, load_submission

configure()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

LAB = Lab.load("cnn")
ref = load_submission(LAB.solution_file, "cnn", alias="_cnn_reference_under_test")
rng = np.random.default_rng(0)


def test_slide_numbers():
    assert [ref.conv_output_size(7, 3, s) for s in (1, 2)] == [5, 3]
    assert ref.conv_output_size(32, 5) == 28 and ref.conv_output_size(7, 3, 1, 1) == 7 and ref.conv_output_size(7, 3, 3, 1) == 3
    with pytest.raises(ValueError):
        ref.conv_output_size(7, 3, 3)
    assert ref.same_padding(7, 3, 1) == 1
    lenet = [ref.conv_params(5, 1, 6), ref.conv_params(5, 6, 16), ref.dense_params(400, 120),
             ref.dense_params(120, 84), ref.dense_params(84, 10)]
    assert lenet == [156, 2416, 48120, 10164, 850] and sum(lenet) == 61706
    convs = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
             (256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)]
    fcs = [(25088, 4096), (4096, 4096), (4096, 1000)]
    weights = sum(ref.conv_params(3, d, k, bias=False) for d, k in convs) + sum(ref.dense_params(a, b, bias=False) for a, b in fcs)
    assert weights == 138_344_128
    assert sum(ref.conv_macs(28, 28, f, 256, k) for f, k in [(1, 128), (3, 192), (5, 96)]) == 854_196_224


@pytest.mark.parametrize("shape,kernel,stride,pad", [((2, 6, 6, 3), (3, 3, 3, 4), 1, 1), ((2, 9, 8, 3), (3, 2, 3, 5), 2, 2),
                                                     ((1, 7, 7, 2), (1, 1, 2, 3), 3, 0)])
def test_conv_forward_and_backward_match_tensorflow(shape, kernel, stride, pad):
    x, w, b = rng.normal(size=shape), rng.normal(size=kernel), rng.normal(size=kernel[-1])
    tx, tw, tb = tf.constant(x), tf.constant(w), tf.constant(b)
    with tf.GradientTape() as tape:
        tape.watch([tx, tw, tb])
        padded = tf.pad(tx, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
        y = tf.nn.conv2d(padded, tw, stride, "VALID") + tb
        g = tf.constant(rng.normal(size=y.shape))
        loss = tf.reduce_sum(y * g)
    want = tape.gradient(loss, [tx, tw, tb])
    assert rel_error(ref.conv2d_forward(x, w, b, stride, pad), y) < 1e-10
    got = ref.conv2d_backward(g.numpy(), x, w, stride, pad)
    for a, e in zip(got, want):
        assert rel_error(a, e) < 1e-10
    # The custom-gradient op gives the same gradients through a tape.
    with tf.GradientTape() as tape:
        tape.watch([tx, tw, tb])
        loss = tf.reduce_sum(ref.conv2d(tx, tw, tb, stride, pad) * g)
    for a, e in zip(tape.gradient(loss, [tx, tw, tb]), want):
        assert rel_error(a, e) < 1e-10


def test_conv_backward_matches_numeric_gradient():
    x, w, b = rng.normal(size=(1, 5, 5, 2)), rng.normal(size=(3, 3, 2, 2)), rng.normal(size=2)
    g = rng.normal(size=(1, 3, 3, 2))
    dx, dw, _ = ref.conv2d_backward(g, x, w, 2, 1)
    assert rel_error(dx, numeric_gradient(lambda v: ref.conv2d_forward(v, w, b, 2, 1), x, g)) < 1e-7
    assert rel_error(dw, numeric_gradient(lambda v: ref.conv2d_forward(x, v, b, 2, 1), w, g)) < 1e-7


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("f,s,shape", [(2, 2, (2, 6, 6, 3)), (3, 2, (1, 7, 7, 2)), (3, 1, (1, 5, 5, 2))])
def test_pooling_matches_keras_and_autodiff(kind, f, s, shape):
    x = rng.normal(size=shape)
    layer = (keras.layers.MaxPooling2D if kind == "max" else keras.layers.AveragePooling2D)(f, strides=s, dtype="float64")
    tx = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(tx)
        y = layer(tx)
        g = tf.constant(rng.normal(size=y.shape))
        loss = tf.reduce_sum(y * g)
    forward, backward = getattr(ref, f"{kind}_pool_forward"), getattr(ref, f"{kind}_pool_backward")
    assert rel_error(forward(x, f, s), y) < 1e-12
    assert rel_error(backward(g.numpy(), x, f, s), tape.gradient(loss, tx)) < 1e-12


def test_lenet5_matches_the_slide_table():
    model = ref.build_lenet5()
    shapes = [tuple(l.output.shape[1:]) for l in model.layers]
    assert shapes == [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16), (400,), (120,), (84,), (10,)]
    assert [l.count_params() for l in model.layers] == [156, 0, 2416, 0, 0, 48120, 10164, 850]
    assert model.count_params() == 61706


def test_batchnorm_matches_keras():
    x = rng.normal(2.0, 3.0, size=(5, 16, 4, 4, 3)).astype(np.float32)
    mine, theirs = ref.BatchNorm(momentum=0.9, epsilon=1e-3), keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    for batch in x:
        assert rel_error(mine(batch, training=True), theirs(batch, training=True), floor=1e-3) < 1e-4
    assert rel_error(mine.moving_mean, theirs.moving_mean) < 1e-5
    assert rel_error(mine.moving_variance, theirs.moving_variance) < 1e-5
    assert rel_error(mine(x[0], training=False), theirs(x[0], training=False), floor=1e-3) < 1e-4


def test_residual_block_zero_branch_is_identity():
    x = rng.normal(size=(2, 8, 8, 4)).astype(np.float32)
    block = ref.ResidualBlock(4)
    block(x)
    for conv in (block.conv1, block.conv2):
        for v in conv.weights:
            v.assign(np.zeros(v.shape, np.float32))
    assert block.shortcut is None
    np.testing.assert_allclose(block(x, training=False), np.maximum(x, 0), atol=1e-6)


def test_dropout_statistics():
    x = tf.ones((1000, 100))
    y = ref.dropout(x, 0.25, training=True, seed=3).numpy()
    assert abs((y == 0).mean() - 0.25) < 0.01 and np.allclose(y[y != 0], 1 / 0.75)
    assert np.mean(y) == pytest.approx(1.0, abs=0.02)


def test_every_toggle_changes_the_model():
    base = {**ref.DEFAULT_CONFIG, "filters": 8}
    params = {k: ref.build_cnn({**base, **v}).count_params()
              for k, v in {"base": {}, "bn": {"batch_norm": True}, "res": {"residual": True}, "deep": {"depth": 3}}.items()}
    assert len(set(params.values())) == len(params)


def test_same_padding_keeps_the_input_size():
    """The slide's same padding keeps the output at N (not ceil(N/S)) wherever it is an integer."""
    for n in range(5, 40):
        for f in (1, 3, 5, 7):
            for s in (1, 2, 3):
                p = ref.same_padding(n, f, s)
                if p == int(p) and n + 2 * p >= f:
                    assert ref.conv_output_size(n, f, s, int(p)) == n


def test_lenet5_layers_are_the_slide_table():
    """What the lenet5 check expects, written out from the slide (「典型的卷积网络—LeNet-5」), not from the reference."""
    words = describe_layers(ref.build_lenet5())
    assert words == ["conv 6@5x5 stride 1x1 padding valid", "tanh", "average pooling 2x2 stride 2x2 padding valid",
                     "conv 16@5x5 stride 1x1 padding valid", "tanh", "average pooling 2x2 stride 2x2 padding valid",
                     "flatten", "dense 120", "tanh", "dense 84", "tanh", "dense 10", "softmax"]
    # The same network written with separate activation layers reads the same.
    separate = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Conv2D(6, 5), keras.layers.Activation("tanh"),
                                 keras.layers.AveragePooling2D(2), keras.layers.Conv2D(16, 5), keras.layers.Activation("tanh"),
                                 keras.layers.AveragePooling2D(2), keras.layers.Flatten(), keras.layers.Dense(120, "tanh"),
                                 keras.layers.Dense(84, "tanh"), keras.layers.Dense(10), keras.layers.Softmax()])
    assert describe_layers(separate) == words


def test_residual_block_projects_a_channel_change_at_stride_1():
    block = ref.ResidualBlock(8, stride=1)
    y = block(rng.normal(size=(2, 6, 6, 4)).astype(np.float32), training=False)
    assert block.shortcut is not None and tuple(y.shape) == (2, 6, 6, 8)


def _log_binomial_pmf(n, p):
    from math import lgamma, log

    k = np.arange(n + 1)
    log_choose = lgamma(n + 1) - np.array([lgamma(i + 1) + lgamma(n - i + 1) for i in k])
    with np.errstate(divide="ignore"):
        return log_choose + k * log(p) + (n - k) * np.log1p(-p) if 0 < p < 1 else np.where(k == round(n * p), 0.0, -np.inf)


def test_dropout_check_power_exact():
    """The dropout check's drop count (judges.binomial_ok, 5σ, 100,000 units, rate 0.3), exactly:
    false alarm on a correct dropout ≤ 0.1 % (about 1e-6 per check), miss ≤ 1 % on wrong ones."""
    from grader.checks.judges import binomial_ok

    n, rate = 100_000, 0.3
    accepted = np.array([binomial_ok(k, n, rate) for k in range(n + 1)])

    def pass_probability(p):
        return float(np.exp(_log_binomial_pmf(n, p))[accepted].sum())

    false_alarm = 1 - pass_probability(rate)
    assert 1e-7 < false_alarm < 1e-6  # 5.75e-7 per call; the check makes two calls: 1.2e-6
    for wrong in (0.7, rate / 2, rate**2, 0.0, 0.289, 0.311):  # keep-probability, halved, squared, none, off by 0.011
        assert pass_probability(wrong) < 0.01, wrong


def test_dropout_check_passes_the_reference_over_many_seeds():
    """The hidden dropout check, observed and judged on the reference under 40 seeds: never a false alarm;
    a keep-probability dropout (NumPy-level, same seeds) never passes the drop count."""
    from grader.checks.check import HIDDEN
    from grader.checks.judges import binomial_ok

    check = next(c for c in LAB.checks(HIDDEN) if c.name == "dropout")
    made = check.make_inputs()
    for seed in range(40):
        keras.utils.set_random_seed(seed)
        got = {k: np.asarray(v) for k, v in check.observe(ref, **made.public).items()}
        assert check.judge(got, None, made.secret).passed, seed
        mask = np.random.default_rng(seed).uniform(size=check.SHAPE) < check.RATE  # keeps with probability `rate`
        assert not binomial_ok(int(np.sum(~mask)), mask.size, check.RATE)
