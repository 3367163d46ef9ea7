"""Helpers the Transformer lab's checks share (they ship with the public checks).

The weight makers and the reversal task build NumPy inputs on the trusted
side; :func:`assign` and :func:`mha_arrays` run on the *observe* side (they
touch the student's layers). None imports TensorFlow at import time.

It also holds the "implement it yourself" rules the checks declare
(:class:`grader.checks.byhand.ByHand`).
"""

import numpy as np

from grader.checks.byhand import FRAMEWORKS, LIBRARY_ATTENTION, ByHand

F32 = np.float32


# -- "implement it yourself" (grader.checks.byhand) ---------------------------------------

#: The library's attention: the attention parts compute softmax(Q Kᵀ/√d_k) V
#: and the heads themselves, so none of these may do it for them.
ATTENTION_LIBRARY = LIBRARY_ATTENTION
ATTENTION_WHY = ("the lab is writing attention yourself (the scores, the softmax, the weighted sum, the heads' "
                 "split and merge); Keras's attention layers and keras.ops.dot_product_attention compute it for you")


#: Where attention is computed for the Transformer parts: every check of
#: multi-head attention, the blocks or the model watches these too.
ATTENTION_CORE = ("scaled_dot_product_attention", "MultiHeadAttention.call", "MultiHeadAttention.split_heads")


def attention_rule(*functions):
    """The attention parts may not delegate to the library's attention.

    A Keras layer is named by its methods (``"MultiHeadAttention.call"``),
    not as a whole class: watching a layer's ``__init__`` hides its
    signature from Keras, which reads it when the layer is created."""
    return ByHand(functions=functions, forbid=ATTENTION_LIBRARY, why=ATTENTION_WHY)


def numpy_rule(*functions, why):
    """A part the handout says to write in NumPy: no TensorFlow, no Keras."""
    return ByHand(functions=functions, forbid=FRAMEWORKS, why=why)


# -- judging: no credit for what a constant satisfies ------------------------------

# -- random weights (trusted side, NumPy) ---------------------------------------

def dense_weights(rng, n_in, n_out, scale=None):
    """A (kernel, bias) pair with Glorot-like scale and a non-zero bias."""
    scale = scale or 1.0 / np.sqrt(n_in)
    return {"kernel": rng.normal(0, scale, size=(n_in, n_out)).astype(F32),
            "bias": rng.normal(0, 0.1, size=n_out).astype(F32)}


def mha_weights(rng, d_model):
    """Weights of the four Dense layers wq, wk, wv, wo of a MultiHeadAttention."""
    return {name: dense_weights(rng, d_model, d_model) for name in ("wq", "wk", "wv", "wo")}


def norm_weights(rng, d_model):
    """LayerNormalization γ (around 1) and β (around 0), so a swapped or missing
    normalisation shows."""
    return {"gamma": rng.uniform(0.5, 1.5, size=d_model).astype(F32),
            "beta": rng.normal(0, 0.2, size=d_model).astype(F32)}


def encoder_weights(rng, d_model, d_ff):
    return {"attention": mha_weights(rng, d_model), "norm1": norm_weights(rng, d_model),
            "ffn1": dense_weights(rng, d_model, d_ff), "ffn2": dense_weights(rng, d_ff, d_model),
            "norm2": norm_weights(rng, d_model)}


def decoder_weights(rng, d_model, d_ff):
    return {"self_attention": mha_weights(rng, d_model), "norm1": norm_weights(rng, d_model),
            "cross_attention": mha_weights(rng, d_model), "norm2": norm_weights(rng, d_model),
            "ffn1": dense_weights(rng, d_model, d_ff), "ffn2": dense_weights(rng, d_ff, d_model),
            "norm3": norm_weights(rng, d_model)}


def loud(weights, gain=6.0):
    """Block weights whose sub-layers (attention's wo, ffn2) are ``gain``
    times louder, so every LayerNorm sees a large variance: LN's ε (1e-6,
    or Keras's default 1e-3) then changes the outputs by ≤ 5e-3 relative,
    while a real mistake still changes them by far more."""
    out = {}
    for name, value in weights.items():
        if name in ("ffn2", "wo"):
            value = {k: (v * gain).astype(F32) for k, v in value.items()}
        elif isinstance(value, dict) and name not in ("ffn1",):
            value = loud(value, gain)
        out[name] = value
    return out


# -- the student's layers (observe side) ------------------------------------------

def sublayer(layer, name):
    """The attribute ``name`` of the student's layer (the graders look for it by name)."""
    found = getattr(layer, name, None)
    if found is None:
        raise AttributeError(f"{type(layer).__name__} has no attribute `{name}` (the graders look for it by name)")
    return found


def assign(layer, weights):
    """Copy a nested dict of NumPy weights into the student's layer, by
    attribute name (``wq.kernel``, ``norm1.gamma``, …). The layer must be built."""
    for name, value in weights.items():
        target = sublayer(layer, name)
        if isinstance(value, dict):
            if not getattr(target, "built", True):
                raise ValueError(f"{layer.name}.{name} has no weights yet: it is never used when the layer is called")
            assign(target, value)
        else:
            if tuple(target.shape) != value.shape:
                raise ValueError(f"{layer.name}.{name} has shape {tuple(target.shape)}, expected {value.shape}")
            target.assign(value)


def mha_arrays(layer):
    """The kernels and biases of a MultiHeadAttention's wq, wk, wv and wo, read
    back from the student's layer as NumPy arrays (a Dense without a bias
    reads as a zero bias)."""
    out = {}
    for name in ("wq", "wk", "wv", "wo"):
        dense = sublayer(layer, name)
        kernel = np.asarray(dense.kernel, dtype=F32)
        bias = getattr(dense, "bias", None)
        out[name] = {"kernel": kernel,
                     "bias": np.zeros(kernel.shape[-1], F32) if bias is None else np.asarray(bias, dtype=F32)}
    return out


# -- the reversal task (trusted side) ---------------------------------------------

def reversal_data(rng, n, length, vocab_size, bos_id):
    """Sources of ``length`` tokens drawn from 1 … vocab_size − 1 (0 is the
    start token), their reversals, and the teacher-forcing decoder inputs."""
    source = rng.integers(bos_id + 1, vocab_size, size=(n, length)).astype(np.int32)
    target = source[:, ::-1].copy()
    target_in = np.concatenate([np.full((n, 1), bos_id, np.int32), target[:, :-1]], axis=1)
    return source, target_in, target


# -- the student's model, seen from the grader's side (observe side) ----------------

def nested_layers(model):
    """Every layer inside the student's model, nested ones included."""
    if hasattr(model, "_flatten_layers"):
        return list(model._flatten_layers(include_self=False, recursive=True))
    return list(getattr(model, "layers", []))


#: The lab's own layer classes the Transformer is built from (build_transformer's docstring).
BLOCK_CLASSES = ("PositionalEmbedding", "TransformerEncoderBlock", "TransformerDecoderBlock", "MultiHeadAttention")


def blocks_of(model, sub):
    """(class name, layer) for every layer of the student's own classes in ``model``, in order."""
    found = []
    for layer in nested_layers(model):
        for name in BLOCK_CLASSES:
            cls = getattr(sub, name, None)
            if isinstance(cls, type) and isinstance(layer, cls):
                found.append((name, layer))
                break
    return found


def weights_of(layer):
    return [np.array(w, dtype=np.float64) for w in layer.weights]


def greedy_tokens(model, source, bos_id, length):
    """The grader's own decoding: feed back the argmax at the last position
    (the algorithm greedy_decode's docstring gives)."""
    src = np.asarray(source, dtype=np.int32)
    fed = [np.full(len(src), bos_id, dtype=np.int32)]
    while len(fed) <= length:
        out = np.asarray(model([src, np.stack(fed, axis=1)], training=False))
        fed.append(out[:, -1].argmax(axis=-1).astype(np.int32))
    return np.stack(fed[1:], axis=1)


def scripted_model(table):
    """A weightless Keras model with a known next token, to test greedy_decode
    on its own: the logits at position t pick ``table[target[:, t], source[:, t]]``
    (so they depend on the source, on the token fed back at t and on t)."""
    import keras
    from keras import ops

    flat = np.asarray(table, np.int32).reshape(-1)
    vocab = int(np.asarray(table).shape[0])

    class Scripted(keras.Model):
        def call(self, inputs, training=False):
            source, target = inputs
            source, target = ops.cast(source, "int32"), ops.cast(target, "int32")
            index = target * vocab + source[:, :ops.shape(target)[1]]
            return ops.one_hot(ops.take(ops.convert_to_tensor(flat), index), vocab) * 10.0 - 5.0

    return Scripted()


def scripted_decode(table, source, bos_id, length):
    """What greedy decoding of :func:`scripted_model` gives (trusted side)."""
    tokens = [np.full(len(source), bos_id, dtype=np.int64)]
    for t in range(length):
        tokens.append(table[tokens[t], source[:, t]])
    return np.stack(tokens[1:], axis=1)
