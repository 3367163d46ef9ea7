"""Judging helpers only the hidden checks use (never ship, never enter the sandbox)."""

import numpy as np

from .common import F32


def keras_mha(weights, num_heads, query, value, mask):
    """``keras.layers.MultiHeadAttention`` in the trusted process, carrying
    ``weights`` (wq, wk, wv, wo as {kernel, bias}) mapped by the documented
    layout: head j owns the columns ``j·d_k … (j+1)·d_k − 1`` of wq/wk/wv and
    the rows of wo. Returns its output and attention scores on
    ``(query, value)`` with ``attention_mask=mask``, as NumPy arrays.

    It runs in the grader's own process, on the CPU: :func:`configure` first
    (idempotent), so TensorFlow there never takes a GPU's memory and computes
    in true float32."""
    from grader.device import configure

    configure()
    import keras
    import tensorflow as tf

    d = weights["wq"]["kernel"].shape[0]
    dk = d // num_heads
    arrays = []
    for name in ("wq", "wk", "wv"):
        arrays += [np.asarray(weights[name]["kernel"], F32).reshape(d, num_heads, dk),
                   np.asarray(weights[name]["bias"], F32).reshape(num_heads, dk)]
    arrays += [np.asarray(weights["wo"]["kernel"], F32).reshape(num_heads, dk, d), np.asarray(weights["wo"]["bias"], F32)]
    with tf.device("/CPU:0"):
        mha = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=dk, name="keras_mha")
        mha(query, value)
        mha.set_weights(arrays)
        out, scores = mha(query, value, attention_mask=mask, return_attention_scores=True)
    return np.asarray(out), np.asarray(scores)
