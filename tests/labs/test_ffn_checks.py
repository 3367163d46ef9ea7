"""The feed-forward lab's checks on submissions the mutants do not cover:
shortcuts the "implement it yourself" rule forbids (autodiff in the backward
pass, Keras's activations and losses, the grader's own gradient checker), each
correct in value and worth nothing, and a half-done submission."""

import pytest

from grader.core.grading import self_check
from grader.labs.lab import Lab

LAB = Lab.load("ffn")

#: mlp_backward by autodiff: replays the forward pass under a GradientTape. Right values, forbidden.
TAPE_BACKWARD = '''    import tensorflow as tf
    _, df = ACTIVATIONS[cache["activation"]]
    layers = cache["steps"]
    ws = [tf.Variable(w) for _, w, _ in layers]
    bs = [tf.Variable(np.zeros(w.shape[1])) for _, w, _ in layers]
    z0 = layers[0][2] - layers[0][0] @ layers[0][1]
    with tf.GradientTape() as tape:
        a = tf.constant(layers[0][0])
        for l, (w, b) in enumerate(zip(ws, bs)):
            z = a @ w + b + layers[l][2] - layers[l][0] @ layers[l][1]
            a = z if l == len(ws) - 1 else {"tanh": tf.tanh, "relu": tf.nn.relu}[cache["activation"]](z)
        loss = tf.reduce_sum(a * dout)
    grads = tape.gradient(loss, ws + bs)
    return [(grads[l].numpy(), grads[len(ws) + l].numpy()) for l in range(len(ws))]
'''

SHORTCUTS = {
    "autodiff in mlp_backward": (
        "mlp_backprop", "def mlp_backward(dout, cache):", TAPE_BACKWARD, "GradientTape"),
    "Keras's sigmoid": (
        "activations", "def sigmoid(x):", "    import keras\n    return np.asarray(keras.activations.sigmoid("
                                           "np.asarray(x, dtype=np.float64)))\n", "keras"),
    "SciPy's logsumexp": (
        "losses", "def log_softmax(logits):", "    from scipy.special import logsumexp\n"
                                              "    z = np.asarray(logits, dtype=np.float64)\n"
                                              "    return z - logsumexp(z, axis=-1, keepdims=True)\n", "logsumexp"),
    "the grader's gradient checker": (
        "numeric_gradient", "def numeric_gradient(f, x, eps=1e-6):",
        "    from grader.checks.gradcheck import numeric_gradient as ng\n"
        "    return ng(f, x, np.ones(()), h=eps)\n", "gradcheck"),
}


def _with_body(source: str, signature: str, body: str) -> str:
    """``source`` with the function defined by ``signature`` given ``body`` after its docstring."""
    start = source.index(signature)
    doc_end = source.index('"""', source.index('"""', start) + 3) + 3
    end = source.find("\n\n\n", doc_end)
    return source[: doc_end] + "\n" + body.rstrip("\n") + source[end:]


@pytest.mark.parametrize("case", sorted(SHORTCUTS))
def test_a_forbidden_shortcut_earns_nothing(case, tmp_path):
    check, signature, body, named = SHORTCUTS[case]
    source = _with_body(LAB.solution_file.read_text(), signature, body)
    (tmp_path / LAB.filename).write_text(source)
    result = self_check(LAB, tmp_path / LAB.filename, visibility=None, names=[check],
                        alias=f"_ffn_shortcut_{check}").by_name()[check]
    assert result.score == 0, (case, result.message)
    assert named in result.message, result.message


def test_half_done_loses_only_the_missing_parts_share(tmp_path):
    """gelu_tanh not written yet: the activation check loses its two parts (grid and extremes) of 20."""
    source = _with_body(LAB.solution_file.read_text(), "def gelu_tanh(x):",
                        '    raise NotImplementedError("gelu_tanh: not yet")\n')
    (tmp_path / LAB.filename).write_text(source)
    result = self_check(LAB, tmp_path / LAB.filename, visibility=None, names=["activations", "activation_derivatives"],
                        alias="_ffn_half_done").by_name()
    assert result["activations"].score == pytest.approx(result["activations"].points * 18 / 20)
    assert "gelu_tanh" in result["activations"].message and "not implemented yet" in result["activations"].message
    assert result["activation_derivatives"].score == pytest.approx(result["activation_derivatives"].points)
