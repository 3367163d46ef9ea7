"""The regularisation lab's "implement it yourself" rules on shortcuts with the
right numbers: a batch normalisation whose backward pass is automatic
differentiation inside ``tf.custom_gradient``, a dropout that calls Keras's,
and scalers that call ``keras.layers.Normalization``. Each gets the right
values and still scores 0 on the checks that grade the part by hand."""

import pytest

from grader.core.grading import self_check
from grader.labs.lab import Lab

LAB = Lab.load("regularization")


def submission(tmp_path, old, new):
    source = LAB.solution_file.read_text()
    assert source.count(old) == 1
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / LAB.filename).write_text(source.replace(old, new))
    return folder


def scores(folder, names):
    result = self_check(LAB, folder, visibility=None, names=names, alias=f"_byhand_{folder.parent.name}")
    return {c.name: (c.score, c.message) for c in result.checks}


def test_autodiff_inside_the_custom_gradient_scores_zero(tmp_path):
    folder = submission(tmp_path, "        dx, dgamma, dbeta = batch_norm_backward(dy, x_hat, gamma, inv_std)\n",
                        "        with tf.GradientTape() as tape:\n"
                        "            tape.watch([x, gamma, beta])\n"
                        "            m = ops.mean(x, axis=axes)\n"
                        "            out = gamma * (x - m) / ops.sqrt(ops.mean(ops.square(x - m), axis=axes) + epsilon) + beta\n"
                        "        dx, dgamma, dbeta = tape.gradient(out, [x, gamma, beta], output_gradients=dy)\n")
    found = scores(folder, ["batch_norm_backward"])
    score, message = found["batch_norm_backward"]
    assert score == 0 and "GradientTape" in message


def test_kerass_dropout_inside_dropout_scores_zero(tmp_path):
    folder = submission(tmp_path, "    return x * ops.cast(keep_mask, x.dtype) / (1.0 - rate)\n",
                        "    if keep_mask is None:\n"
                        "        return keras.random.dropout(x, rate, seed=seed)\n"
                        "    return x * ops.cast(keep_mask, x.dtype) / (1.0 - rate)\n")
    found = scores(folder, ["dropout_statistics"])
    assert found["dropout_statistics"][0] == 0


@pytest.mark.parametrize("check", ["scaling_statistics", "no_test_leak"])
def test_kerass_normalization_inside_the_scalers_scores_zero(tmp_path, check):
    folder = submission(tmp_path, "    return x_train.mean(axis=0), x_train.std(axis=0)\n",
                        "    layer = keras.layers.Normalization()\n"
                        "    layer.adapt(x_train)\n"
                        "    return x_train.mean(axis=0), x_train.std(axis=0)\n")
    assert scores(folder, [check])[check][0] == 0


def test_noisy_digits_holds_out_the_rest_with_true_labels():
    import numpy as np

    from grader.data.images import digits

    from importlib import import_module

    LAB.check_module("public")       # imports the lab's checks package
    common = import_module(f"{LAB.package}.common")
    x, y, x_held, y_held = common.noisy_digits(np.random.default_rng(3), 300, 0.3)
    images, labels = digits()
    truth = {row.tobytes(): label for row, label in zip(images.reshape(len(images), -1), labels)}
    assert x.shape == (300, 64) and x_held.shape == (1497, 64)
    assert not {row.tobytes() for row in x} & {row.tobytes() for row in x_held}
    assert all(truth[row.tobytes()] == label for row, label in zip(x_held, y_held))
    wrong = np.mean([truth[row.tobytes()] != label for row, label in zip(x, y)])
    assert 0.2 < wrong < 0.4          # 0.3 ± 3.5σ (σ = 0.026)
