"""Helpers the Transformer lab's checks share (they ship with the public checks).

The weight makers and the reversal task build NumPy inputs on the trusted
side; :func:`assign` and :func:`mha_arrays` run on the *observe* side (they
touch the student's layers). None imports TensorFlow.
"""

import numpy as np

F32 = np.float32


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
