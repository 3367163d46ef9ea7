"""The CNN reference is validated against independent implementations
(TensorFlow's convolution and pooling, Keras's BatchNormalization, autodiff,
central differences) and the slides' own numbers, because every expected
value the checks use is the reference's observation."""

import numpy as np
import pytest

from grader.device import configure
from grader.gradcheck import numeric_gradient
from grader.judges import rel_error
from grader.lab import Lab, load_submission

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
