"""Lab — Attention, Transformer and external memory (注意力机制与外部记忆), chapter 7 of the slides.

Conventions used throughout (Keras's, not the slides'):

* vectors are **rows**: a sequence of N vectors of size D is an array of shape
  (N, D), a batch of them (B, N, D). The slides write columns, e.g.
  ``H = V softmax(KᵀQ)``; in rows the same computation is
  ``softmax(Q Kᵀ / √d_k) V``;
* a **mask** is boolean (or 0/1) and ``True`` means "may attend", as
  ``keras.layers.MultiHeadAttention``'s ``attention_mask``. Masked attention
  weights are exactly 0;
* token ids are ``int`` arrays; special ids (padding, [CLS], [SEP], [MASK],
  the decoder's start token) are arguments, never hard-coded.

The attention, Transformer and memory functions use ``keras.ops`` so they are
differentiable and run inside Keras models; they accept NumPy arrays or
tensors and return tensors. The data-pipeline functions (BERT masking,
next-sentence pairs, hard attention) are NumPy.
"""

import numpy as np
import keras
from keras import layers, ops

#: ε of every LayerNormalization in the Transformer blocks (the paper's value;
#: Keras's default is 1e-3).
LN_EPSILON = 1e-6

#: What a masked attention score is replaced by before the softmax: finite, so
#: a fully masked row stays finite, and so negative that its exp underflows
#: to exactly 0 in float32 and float64.
MASKED_SCORE = -1e9


# --------------------------------------------------------------------------
# Part 1. Soft, key-value and hard attention (注意力机制)
# --------------------------------------------------------------------------

def attention_scores(keys, q, score="dot", params=None):
    """The scoring function ``s(x_i, q)`` (打分函数) for each of N inputs.

    Args:
        keys: (B, N, D) the inputs x_i (or the keys k_i).
        q: (B, D_q) one query per batch row.
        score: one of
            * ``"dot"``:        ``s = x_iᵀ q``                     (D = D_q);
            * ``"scaled_dot"``: ``s = x_iᵀ q / √D``                (D = D_q);
            * ``"bilinear"``:   ``s = x_iᵀ W q``,  ``params["W"]`` (D, D_q);
            * ``"additive"``:   ``s = vᵀ tanh(W x_i + U q)``, in rows
              ``tanh(x_i W + q U) · v`` with ``params["W"]`` (D, H),
              ``params["U"]`` (D_q, H) and ``params["v"]`` (H,).
        params: dict of the weights named above (unused for dot products).

    Returns:
        (B, N) scores, before the softmax. Unknown ``score`` → ``ValueError``.
    """
    # BEGIN SOLUTION: one einsum per scoring function; additive: tanh(keys @ W + (q @ U)[:, None, :]) @ v
    keys, q = ops.convert_to_tensor(keys), ops.convert_to_tensor(q)
    if score == "dot":
        return ops.einsum("bnd,bd->bn", keys, q)
    if score == "scaled_dot":
        return ops.einsum("bnd,bd->bn", keys, q) / np.sqrt(keys.shape[-1])
    if score == "bilinear":
        return ops.einsum("bnd,de,be->bn", keys, ops.cast(params["W"], keys.dtype), q)
    if score == "additive":
        hidden = ops.tanh(ops.matmul(keys, ops.cast(params["W"], keys.dtype))
                          + ops.expand_dims(ops.matmul(q, ops.cast(params["U"], q.dtype)), 1))
        return ops.matmul(hidden, ops.cast(params["v"], keys.dtype))
    raise ValueError(f"unknown scoring function {score!r}")
    # END SOLUTION


def soft_attention(x, q, score="dot", params=None):
    """Soft attention (软性注意力): ``α = softmax(s(x_i, q))``, ``a = Σ_i α_i x_i``.

    Args:
        x: (B, N, D) inputs; q: (B, D_q) queries; score, params: as in
        :func:`attention_scores`.

    Returns:
        ``(a, alpha)``: a (B, D) the attention-weighted average, alpha (B, N)
        the attention distribution (each row sums to 1).
    """
    # BEGIN SOLUTION: alpha = softmax of the scores over N; a = einsum("bn,bnd->bd", alpha, x)
    x = ops.convert_to_tensor(x)
    alpha = ops.softmax(attention_scores(x, q, score, params), axis=-1)
    return ops.einsum("bn,bnd->bd", alpha, x), alpha
    # END SOLUTION


def key_value_attention(keys, values, q, score="dot", params=None):
    """Key–value attention (键值对注意力): ``α_i = softmax(s(k_i, q))``, ``a = Σ_i α_i v_i``.

    (The slide writes ``s(x_i, k_i)``; the score compares each *key* with the
    *query*.)

    Args:
        keys: (B, N, D_k); values: (B, N, D_v); q: (B, D_q); score, params as
        in :func:`attention_scores`.

    Returns:
        ``(a, alpha)`` with shapes (B, D_v) and (B, N).
    """
    # BEGIN SOLUTION: the scores compare keys with q; the weighted sum runs over the values
    values = ops.convert_to_tensor(values)
    alpha = ops.softmax(attention_scores(keys, q, score, params), axis=-1)
    return ops.einsum("bn,bnd->bd", alpha, values), alpha
    # END SOLUTION


def hard_attention(x, alpha, mode="argmax", rng=None):
    """Hard attention (硬性注意力): pick *one* input instead of averaging (NumPy).

    * ``mode="argmax"``: ``a = x_ẑ`` with ``ẑ = argmax_i α_i``;
    * ``mode="sample"``: ``a = x_z`` with ``z ~ Categorical(α)``, drawn with
      the NumPy ``Generator`` ``rng``, independently for each batch row.
      (The slide 「注意力机制的变体—硬性注意力」 writes ``z ~ U(1, N)``; here, as
      its 「根据α来计算」 says, the index is drawn from α, not uniformly.)

    Args:
        x: (B, N, D); alpha: (B, N) attention distributions; rng: a
        ``numpy.random.Generator`` (required for sampling).

    Returns:
        ``(a, index)``: a (B, D) the chosen inputs, index (B,) int their positions.
    """
    # BEGIN SOLUTION: argmax, or inverse-CDF sampling: index = number of cumsum(alpha) entries below a uniform draw
    x, alpha = np.asarray(x), np.asarray(alpha, dtype=np.float64)
    if mode == "argmax":
        index = alpha.argmax(axis=-1)
    elif mode == "sample":
        u = rng.random(alpha.shape[0])[:, None]
        index = np.minimum((np.cumsum(alpha, axis=-1) < u).sum(axis=-1), alpha.shape[1] - 1)
    else:
        raise ValueError(f"unknown hard attention mode {mode!r}")
    return x[np.arange(x.shape[0]), index], index
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 2. Scaled dot-product attention and masks (缩放点积注意力)
# --------------------------------------------------------------------------

def scaled_dot_product_attention(q, k, v, mask=None):
    """``softmax(Q Kᵀ / √d_k) V`` (the slide's ``H = V softmax(KᵀQ)`` in rows).

    Args:
        q: (..., T_q, d_k) queries; k: (..., T_k, d_k) keys; v: (..., T_k, d_v) values.
        mask: optional, broadcastable to (..., T_q, T_k); ``True``/1 where query
            t may attend to key s. Every query must be allowed at least one key.

    Returns:
        ``(out, weights)``: out (..., T_q, d_v) and the attention weights
        (..., T_q, T_k), whose rows sum to 1 and which are **exactly 0** where
        the mask is False (replace masked scores by a huge negative number
        *before* the softmax; zeroing the weights after it leaves rows that no
        longer sum to 1, and the masked scores still enter the normaliser, so
        a decoder would see the future through it).
    """
    # BEGIN SOLUTION: scores = q @ kᵀ / sqrt(d_k); where(mask, scores, MASKED_SCORE); softmax over the last axis; weights @ v
    q, k, v = ops.convert_to_tensor(q), ops.convert_to_tensor(k), ops.convert_to_tensor(v)
    scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = ops.where(ops.cast(mask, "bool"), scores, ops.cast(MASKED_SCORE, scores.dtype))
    weights = ops.softmax(scores, axis=-1)
    return ops.matmul(weights, v), weights
    # END SOLUTION


def causal_mask(length):
    """(T, T) boolean mask of a decoder's self-attention: position t may attend
    to positions s ≤ t only (the slides' "Masked" attention over the generated
    sequence). A tensor; ``length`` may be a symbolic size inside a model."""
    # BEGIN SOLUTION: the lower triangle, diagonal included: row index ≥ column index (keras.ops, so a symbolic length works)
    positions = ops.arange(length)
    return ops.expand_dims(positions, 1) >= ops.expand_dims(positions, 0)
    # END SOLUTION


def padding_mask(tokens, pad_id=0):
    """(B, 1, T) boolean key mask: ``True`` where ``tokens`` is not padding, so
    no query attends to a padded position. Broadcasts against (B, T_q, T). NumPy."""
    # BEGIN SOLUTION: tokens != pad_id, with a query axis inserted at position 1
    return (np.asarray(tokens) != pad_id)[:, None, :]
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 3. Multi-head attention (多头自注意力)
# --------------------------------------------------------------------------

class MultiHeadAttention(layers.Layer):
    """Multi-head attention: ``b = W^O [b^1; …; b^h]`` with, for head j,
    ``b^j = softmax(Q^j K^jᵀ / √d_k) V^j`` and ``d_k = d_model / h``.

    Weights: four ``keras.layers.Dense(d_model)`` layers with biases, named
    ``wq``, ``wk``, ``wv`` and ``wo``. Head j uses the columns
    ``j·d_k … (j+1)·d_k − 1`` of ``wq(query)``, ``wk(context)`` and
    ``wv(context)``, i.e. reshape (B, T, d_model) → (B, T, h, d_k); the heads'
    outputs are concatenated in head order before ``wo``. The graders map
    these weights onto ``keras.layers.MultiHeadAttention(h, key_dim=d_k)``
    (kernels reshaped to (d_model, h, d_k) and (h, d_k, d_model)), so keep
    the names and this layout.

    Call: ``layer(query, context=None, attention_mask=None, return_attention_scores=False)``

    * query (B, T_q, d_model); context (B, T_k, d_model) for cross-attention,
      ``None`` for self-attention (context = query);
    * attention_mask broadcastable to (B, T_q, T_k) (or (T_q, T_k)); ``True`` = may attend
      (Keras's name: a Keras layer treats an argument called ``mask`` specially);
    * returns (B, T_q, d_model), and the weights (B, h, T_q, T_k) as a second
      output when ``return_attention_scores`` (Keras's shape and name).
    """

    def __init__(self, d_model, num_heads, **kwargs):
        super().__init__(**kwargs)
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not a multiple of num_heads={num_heads}")
        self.d_model = d_model
        self.num_heads = num_heads
        self.depth = d_model // num_heads
        # BEGIN SOLUTION: create the Dense(d_model) layers wq, wk, wv and wo
        self.wq = layers.Dense(d_model, name="wq")
        self.wk = layers.Dense(d_model, name="wk")
        self.wv = layers.Dense(d_model, name="wv")
        self.wo = layers.Dense(d_model, name="wo")
        # END SOLUTION

    def split_heads(self, x):
        """(B, T, d_model) → (B, h, T, d_k)."""
        # BEGIN SOLUTION: reshape to (B, T, h, d_k), then move the head axis before T
        x = ops.reshape(x, (ops.shape(x)[0], ops.shape(x)[1], self.num_heads, self.depth))
        return ops.transpose(x, (0, 2, 1, 3))
        # END SOLUTION

    def call(self, query, context=None, attention_mask=None, return_attention_scores=False):
        # BEGIN SOLUTION: project, split heads, scaled_dot_product_attention with the mask expanded over heads, merge heads, project with wo
        context = query if context is None else context
        q = self.split_heads(self.wq(query))
        k = self.split_heads(self.wk(context))
        v = self.split_heads(self.wv(context))
        mask = None
        if attention_mask is not None:
            mask = ops.cast(attention_mask, "bool")
            if len(mask.shape) == 3:
                mask = ops.expand_dims(mask, 1)  # the same mask for every head
        heads, weights = scaled_dot_product_attention(q, k, v, mask)
        heads = ops.transpose(heads, (0, 2, 1, 3))
        out = self.wo(ops.reshape(heads, (ops.shape(heads)[0], ops.shape(heads)[1], self.d_model)))
        # END SOLUTION
        return (out, weights) if return_attention_scores else out


# --------------------------------------------------------------------------
# Part 4. Positional encoding (位置编码)
# --------------------------------------------------------------------------

def positional_encoding(length, d_model):
    """Sinusoidal positional encoding (正余弦位置编码, no parameters), NumPy float64.

    ``PE[pos, 2i] = sin(pos / 10000^(2i/d_model))``,
    ``PE[pos, 2i+1] = cos(pos / 10000^(2i/d_model))`` for pos = 0 … length − 1
    (sines and cosines *interleaved*, as on the slide). ``d_model`` is even.

    Returns: (length, d_model).
    """
    # BEGIN SOLUTION: angles = pos / 10000^(2i/d) of shape (length, d/2); sin into the even columns, cos into the odd ones
    pos = np.arange(length, dtype=np.float64)[:, None]
    two_i = np.arange(0, d_model, 2, dtype=np.float64)[None, :]
    angles = pos / np.power(10000.0, two_i / d_model)
    pe = np.zeros((length, d_model))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles)
    return pe
    # END SOLUTION


def pe_shift_matrix(k, d_model):
    """The fixed linear map behind the slide's claim 「PE_{pos+k} 可以表示成
    PE_pos 的线性函数」: a (d_model, d_model) matrix R_k with
    ``PE[pos + k] = PE[pos] @ R_k`` for every pos (rows), NumPy float64.

    R_k is block-diagonal; with ``α_k = cos(k/10000^(2i/d))`` and
    ``β_k = sin(k/10000^(2i/d))`` the slide's column form is
    ``[PE(pos+k,2i); PE(pos+k,2i+1)] = [[α_k, β_k], [−β_k, α_k]] [PE(pos,2i); PE(pos,2i+1)]``
    (both rows follow from the ``sin(x + y)`` and ``cos(x + y)`` expansions on
    the slide 「位置编码」). In the row convention each 2×2 block is the transpose.
    """
    # BEGIN SOLUTION: 2×2 blocks [[α, −β], [β, α]] on the diagonal (row convention)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)
    theta = k / np.power(10000.0, two_i / d_model)
    alpha, beta = np.cos(theta), np.sin(theta)
    r = np.zeros((d_model, d_model))
    even, odd = np.arange(0, d_model, 2), np.arange(1, d_model, 2)
    r[even, even], r[even, odd] = alpha, -beta
    r[odd, even], r[odd, odd] = beta, alpha
    return r
    # END SOLUTION


class PositionalEmbedding(layers.Layer):
    """Token embedding plus sinusoidal positional encoding: ``a_i = W x_i + PE_i``.

    ``keras.layers.Embedding(vocab_size, d_model)`` named ``embedding``; the
    encoding (from :func:`positional_encoding`, float32) is added only when
    ``use_positional_encoding`` is true — without it the model sees a bag of
    tokens. Input (B, T) int ids with T ≤ max_len → (B, T, d_model).
    """

    def __init__(self, vocab_size, d_model, max_len, use_positional_encoding=True, **kwargs):
        super().__init__(**kwargs)
        self.use_positional_encoding = use_positional_encoding
        # BEGIN SOLUTION: an Embedding layer and the (max_len, d_model) encoding as a float32 constant
        self.embedding = layers.Embedding(vocab_size, d_model, name="embedding")
        self.encoding = positional_encoding(max_len, d_model).astype("float32")
        # END SOLUTION

    def call(self, tokens):
        # BEGIN SOLUTION: embed, then add the first T rows of the encoding when enabled
        x = self.embedding(tokens)
        if self.use_positional_encoding:
            x = x + ops.convert_to_tensor(self.encoding)[None, : ops.shape(tokens)[1], :]
        return x
        # END SOLUTION


# --------------------------------------------------------------------------
# Part 5. Transformer encoder and decoder blocks (post-LN, as on the slides)
# --------------------------------------------------------------------------

class TransformerEncoderBlock(layers.Layer):
    """One encoder block, post-LN as drawn on the slides (``b' = LayerNorm(b + a)``):

    ``h = norm1(x + attention(x, attention_mask=attention_mask))``,
    ``y = norm2(h + ffn2(ffn1(h)))``

    with ``attention`` a :class:`MultiHeadAttention` (d_model, num_heads),
    ``ffn1 = Dense(d_ff, activation="relu")``, ``ffn2 = Dense(d_model)`` and
    ``norm1``, ``norm2`` ``keras.layers.LayerNormalization(epsilon=LN_EPSILON)``.
    The graders look for these five attribute names. (B, T, d_model) → same.
    """

    def __init__(self, d_model, num_heads, d_ff, **kwargs):
        super().__init__(**kwargs)
        # BEGIN SOLUTION: the five sub-layers named in the docstring
        self.attention = MultiHeadAttention(d_model, num_heads, name="attention")
        self.norm1 = layers.LayerNormalization(epsilon=LN_EPSILON, name="norm1")
        self.ffn1 = layers.Dense(d_ff, activation="relu", name="ffn1")
        self.ffn2 = layers.Dense(d_model, name="ffn2")
        self.norm2 = layers.LayerNormalization(epsilon=LN_EPSILON, name="norm2")
        # END SOLUTION

    def call(self, x, attention_mask=None):
        # BEGIN SOLUTION: residual + LayerNorm *after* each sub-layer (post-LN)
        h = self.norm1(x + self.attention(x, attention_mask=attention_mask))
        return self.norm2(h + self.ffn2(self.ffn1(h)))
        # END SOLUTION


class TransformerDecoderBlock(layers.Layer):
    """One decoder block, post-LN:

    ``h1 = norm1(y + self_attention(y, attention_mask=causal))``  (masked: 在生成的序列上做注意力),
    ``h2 = norm2(h1 + cross_attention(h1, context=memory, attention_mask=memory_mask))``
    (在输入序列上做注意力), ``out = norm3(h2 + ffn2(ffn1(h2)))``.

    Sub-layers as in :class:`TransformerEncoderBlock`, named
    ``self_attention``, ``norm1``, ``cross_attention``, ``norm2``, ``ffn1``,
    ``ffn2``, ``norm3``. Position t of the output must not depend on target
    positions after t. y (B, T, d_model), memory (B, S, d_model), memory_mask
    broadcastable to (B, T, S) → (B, T, d_model).
    """

    def __init__(self, d_model, num_heads, d_ff, **kwargs):
        super().__init__(**kwargs)
        # BEGIN SOLUTION: the seven sub-layers named in the docstring
        self.self_attention = MultiHeadAttention(d_model, num_heads, name="self_attention")
        self.norm1 = layers.LayerNormalization(epsilon=LN_EPSILON, name="norm1")
        self.cross_attention = MultiHeadAttention(d_model, num_heads, name="cross_attention")
        self.norm2 = layers.LayerNormalization(epsilon=LN_EPSILON, name="norm2")
        self.ffn1 = layers.Dense(d_ff, activation="relu", name="ffn1")
        self.ffn2 = layers.Dense(d_model, name="ffn2")
        self.norm3 = layers.LayerNormalization(epsilon=LN_EPSILON, name="norm3")
        # END SOLUTION

    def call(self, y, memory, memory_mask=None):
        # BEGIN SOLUTION: causal self-attention, cross-attention over memory, feed-forward; each followed by residual + LayerNorm
        causal = causal_mask(ops.shape(y)[1])
        h1 = self.norm1(y + self.self_attention(y, attention_mask=causal))
        h2 = self.norm2(h1 + self.cross_attention(h1, context=memory, attention_mask=memory_mask))
        return self.norm3(h2 + self.ffn2(self.ffn1(h2)))
        # END SOLUTION


# --------------------------------------------------------------------------
# Part 6. A sequence-to-sequence Transformer, trained to reverse sequences
# --------------------------------------------------------------------------

def build_transformer(vocab_size, max_len, d_model=32, num_heads=4, d_ff=64, num_layers=1,
                      use_positional_encoding=True):
    """An encoder–decoder Transformer (Seq2Seq with self-attention).

    Inputs ``[source (B, S) int, target_in (B, T) int]`` (S, T ≤ max_len;
    ``target_in`` is the target shifted right behind a start token: teacher
    forcing) → logits (B, T, vocab_size), **no softmax**.

    source → PositionalEmbedding → ``num_layers`` encoder blocks = memory;
    target_in → its own PositionalEmbedding → ``num_layers`` decoder blocks
    (each attending to the memory) → ``Dense(vocab_size)``.
    ``use_positional_encoding`` switches the encoding of *both* embeddings.
    """
    # BEGIN SOLUTION: a functional keras.Model with two int32 Inputs of shape (None,)
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    memory = PositionalEmbedding(vocab_size, d_model, max_len, use_positional_encoding, name="source_embedding")(source)
    for i in range(num_layers):
        memory = TransformerEncoderBlock(d_model, num_heads, d_ff, name=f"encoder_{i}")(memory)
    h = PositionalEmbedding(vocab_size, d_model, max_len, use_positional_encoding, name="target_embedding")(target_in)
    for i in range(num_layers):
        h = TransformerDecoderBlock(d_model, num_heads, d_ff, name=f"decoder_{i}")(h, memory)
    logits = layers.Dense(vocab_size, name="logits")(h)
    return keras.Model([source, target_in], logits, name="transformer")
    # END SOLUTION


def greedy_decode(model, source, bos_id, length):
    """Generate ``length`` tokens per source sequence, one at a time: start from
    ``[bos_id]``, feed the tokens generated so far as ``target_in``, append the
    argmax of the logits at the last position, repeat.

    Args:
        model: a model from :func:`build_transformer`; source: (B, S) int.

    Returns:
        (B, length) int NumPy array, without the start token.
    """
    # BEGIN SOLUTION: loop `length` times: logits = model([source, target], training=False); append argmax(logits[:, -1])
    source = np.asarray(source, dtype=np.int32)
    target = np.full((source.shape[0], 1), bos_id, dtype=np.int32)
    for _ in range(length):
        logits = model([source, target], training=False)
        step = np.argmax(np.asarray(logits)[:, -1, :], axis=-1).astype(np.int32)
        target = np.concatenate([target, step[:, None]], axis=1)
    return target[:, 1:]
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 7. Pre-training data: BERT masking, next sentence, GPT's loss, sparse attention
# --------------------------------------------------------------------------

def bert_mask_tokens(tokens, rng, vocab_size, mask_id, special_ids, mask_prob=0.15):
    """BERT's masked-LM corruption (NumPy): 随机遮蔽 15% 的输入 token; of the
    chosen tokens 80 % become [MASK], 10 % a random token, 10 % stay unchanged.

    * each token whose id is not in ``special_ids`` is chosen independently
      with probability ``mask_prob``; special tokens ([CLS], [SEP], [PAD],
      [MASK]) are never chosen;
    * a random replacement is drawn uniformly from the ids in
      ``range(vocab_size)`` that are not special;
    * all random draws come from the NumPy ``Generator`` ``rng``.

    Args:
        tokens: (B, T) int ids.

    Returns:
        ``(inputs, labels, weights)``, each (B, T): the corrupted ids (int),
        the original ids (int), and 1.0 where a token was chosen (the
        positions the MLM loss is computed on), 0.0 elsewhere.
    """
    # BEGIN SOLUTION: chosen = non-special & (U < p); a second uniform splits chosen into <0.8 mask, <0.9 random, else keep
    tokens = np.asarray(tokens)
    special = np.isin(tokens, special_ids)
    chosen = ~special & (rng.random(tokens.shape) < mask_prob)
    action = rng.random(tokens.shape)
    normal_ids = np.setdiff1d(np.arange(vocab_size), special_ids)
    random_ids = rng.choice(normal_ids, size=tokens.shape)
    inputs = np.where(chosen & (action < 0.8), mask_id, tokens)
    inputs = np.where(chosen & (action >= 0.8) & (action < 0.9), random_ids, inputs)
    return inputs, tokens.copy(), chosen.astype(np.float32)
    # END SOLUTION


def make_nsp_input(a, b, cls_id, sep_id):
    """BERT's sentence-pair input ``[CLS] A [SEP] B [SEP]`` and its segment ids
    (0 for ``[CLS] A [SEP]``, 1 for ``B [SEP]``), as two 1-D int NumPy arrays."""
    # BEGIN SOLUTION: concatenate the ids; segments are len(a) + 2 zeros then len(b) + 1 ones
    tokens = np.concatenate([[cls_id], a, [sep_id], b, [sep_id]]).astype(np.int64)
    segments = np.concatenate([np.zeros(len(a) + 2), np.ones(len(b) + 1)]).astype(np.int64)
    return tokens, segments
    # END SOLUTION


def next_sentence_pairs(documents, rng, cls_id, sep_id):
    """Next-sentence-prediction examples (NumPy): B 有 50% 概率是 A 的下一句，50% 概率是随机句子.

    For every document and every sentence A of it that has a next sentence,
    in order: with probability 1/2 (``rng.random() < 0.5``) B is that next
    sentence (``is_next = 1``); otherwise B is a sentence drawn uniformly from
    a uniformly drawn *other* document (``is_next = 0``).

    Args:
        documents: list of documents, each a list of sentences, each a 1-D
            int array of token ids. At least two documents.

    Returns:
        A list with one ``(tokens, segments, is_next)`` per sentence A, the
        first two from :func:`make_nsp_input`.
    """
    # BEGIN SOLUTION: loop over (doc, i); a coin flip picks doc[i+1] or a random sentence of a random other document
    examples = []
    for d, doc in enumerate(documents):
        for i in range(len(doc) - 1):
            if rng.random() < 0.5:
                b, is_next = doc[i + 1], 1
            else:
                other = rng.choice([j for j in range(len(documents)) if j != d])
                b, is_next = documents[other][rng.integers(len(documents[other]))], 0
            tokens, segments = make_nsp_input(doc[i], b, cls_id, sep_id)
            examples.append((tokens, segments, is_next))
    return examples
    # END SOLUTION


def causal_lm_loss(logits, tokens):
    """GPT's language-model loss: the mean cross-entropy of predicting token
    t + 1 from the logits at position t (``ℒ = −Σ_t log P(u_{t+1} | u_{≤t})``
    averaged over the B·(T − 1) predictions; shift by one).

    Args:
        logits: (B, T, V) unnormalised scores; tokens: (B, T) int ids.

    Returns:
        A scalar tensor.
    """
    # BEGIN SOLUTION: sparse categorical cross-entropy (from logits) of tokens[:, 1:] against logits[:, :-1], averaged
    logits = ops.convert_to_tensor(logits)
    losses = keras.losses.sparse_categorical_crossentropy(tokens[:, 1:], logits[:, :-1], from_logits=True)
    return ops.mean(losses)
    # END SOLUTION


def sparse_attention_mask(length, k, causal=True):
    """GPT-3's sparse self-attention pattern (arXiv:1904.10509), NumPy bool (T, T).

    Query i may attend to key j when j is
    * within k positions of i, ``|i − j| ≤ k`` (局部自注意力, local), or
    * a multiple of k positions away, ``(i − j) = n·k`` for an integer n (空洞自注意力, atrous),
    and, when ``causal``, only when ``j ≤ i``.
    """
    # BEGIN SOLUTION: d = i − j on a grid; local |d| ≤ k or atrous d % k == 0; causal keeps d ≥ 0
    d = np.arange(length)[:, None] - np.arange(length)[None, :]
    allowed = (np.abs(d) <= k) | (d % k == 0)
    if causal:
        allowed &= d >= 0
    return allowed
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 8. External memory: end-to-end memory networks and NTM addressing
# --------------------------------------------------------------------------

def memn2n_read(q, a_mem, c_mem, hops=1):
    """End-to-end memory network reads (端到端记忆网络), ``hops`` times.

    ``q⁽¹⁾ = q``; for k = 1 … hops:
    ``p⁽ᵏ⁾ = softmax(a_iᵀ q⁽ᵏ⁾)`` over the N memory slots (A 用来寻址),
    ``r⁽ᵏ⁾ = Σ_i p_i⁽ᵏ⁾ c_i`` (C 用来输出), ``q⁽ᵏ⁺¹⁾ = q⁽ᵏ⁾ + r⁽ᵏ⁾``.
    The memories are shared by all hops.

    Args:
        q: (B, d); a_mem, c_mem: (B, N, d).

    Returns:
        ``(u, p)``: u (B, d) is q⁽ʰᵒᵖˢ⁺¹⁾ (what the answer layer reads), p
        (B, hops, N) the addressing distribution of every hop.
    """
    # BEGIN SOLUTION: loop over hops: p = softmax(einsum("bnd,bd->bn", A, q)); r = einsum("bn,bnd->bd", p, C); q = q + r
    q, a_mem, c_mem = ops.convert_to_tensor(q), ops.convert_to_tensor(a_mem), ops.convert_to_tensor(c_mem)
    distributions = []
    for _ in range(hops):
        p = ops.softmax(ops.einsum("bnd,bd->bn", a_mem, q), axis=-1)
        q = q + ops.einsum("bn,bnd->bd", p, c_mem)
        distributions.append(p)
    return q, ops.stack(distributions, axis=1)
    # END SOLUTION


def content_addressing(memory, key, beta):
    """NTM content addressing (按内容寻址): ``α_i = softmax_i(β · cos(m_i, k))``.

    ``cos(m, k) = m·k / (‖m‖ ‖k‖ + 1e-8)``; β ≥ 0 is the key strength (larger
    β, sharper focus).

    Args:
        memory: (B, N, W) slots m_i; key: (B, W); beta: (B,).

    Returns:
        (B, N) addressing weights (rows sum to 1). Differentiable.
    """
    # BEGIN SOLUTION: cosine similarity of every slot with the key, times beta[:, None], softmax over N
    memory, key = ops.convert_to_tensor(memory), ops.convert_to_tensor(key)
    beta = ops.cast(beta, memory.dtype)
    dots = ops.einsum("bnw,bw->bn", memory, key)
    norms = ops.norm(memory, axis=-1) * ops.expand_dims(ops.norm(key, axis=-1), -1)
    return ops.softmax(ops.expand_dims(beta, -1) * dots / (norms + 1e-8), axis=-1)
    # END SOLUTION


def memory_read(memory, w):
    """NTM read: ``r = Σ_i α_i m_i``. memory (B, N, W), w (B, N) → (B, W)."""
    # BEGIN SOLUTION: the w-weighted sum of the slots
    return ops.einsum("bn,bnw->bw", ops.convert_to_tensor(w), ops.convert_to_tensor(memory))
    # END SOLUTION


def memory_write(memory, w, erase, add):
    """NTM write: erase, then add, each in proportion to the attention:

    ``m'_i = m_i ⊙ (1 − α_i e) + α_i a``.

    Args:
        memory: (B, N, W); w: (B, N) weights α; erase: (B, W) e ∈ [0, 1]^W;
        add: (B, W) a.

    Returns:
        (B, N, W) the new memory. Differentiable.
    """
    # BEGIN SOLUTION: outer products w[:, :, None] * erase[:, None, :] and w[:, :, None] * add[:, None, :]
    memory, w = ops.convert_to_tensor(memory), ops.convert_to_tensor(w)
    w = ops.expand_dims(w, -1)
    return memory * (1 - w * ops.expand_dims(erase, 1)) + w * ops.expand_dims(add, 1)
    # END SOLUTION


def memory_write_backward(d_new, memory, w, erase, add):
    """Hand-written gradients of :func:`memory_write` (NumPy), given the
    upstream gradient ``d_new`` = ∂L/∂M' (B, N, W).

    Returns:
        ``(d_memory, d_w, d_erase, d_add)`` shaped like memory (B, N, W),
        w (B, N), erase (B, W) and add (B, W):
        ``∂L/∂m_i = d_i ⊙ (1 − α_i e)``, ``∂L/∂α_i = d_i · (a − m_i ⊙ e)``,
        ``∂L/∂e = −Σ_i α_i d_i ⊙ m_i``, ``∂L/∂a = Σ_i α_i d_i``.
    """
    # BEGIN SOLUTION: the four formulas of the docstring with broadcasting over (B, N, W)
    d_new, memory, w = np.asarray(d_new), np.asarray(memory), np.asarray(w)
    erase, add = np.asarray(erase), np.asarray(add)
    w3 = w[:, :, None]
    d_memory = d_new * (1 - w3 * erase[:, None, :])
    d_w = np.sum(d_new * (add[:, None, :] - memory * erase[:, None, :]), axis=-1)
    d_erase = -np.sum(w3 * d_new * memory, axis=1)
    d_add = np.sum(w3 * d_new, axis=1)
    return d_memory, d_w, d_erase, d_add
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 9. Pre-trained encoder vs from scratch (the chapter's homework)
# --------------------------------------------------------------------------

def build_encoder(vocab_size, max_len, d_model, num_heads, d_ff, num_layers, pad_id):
    """A BERT-style encoder: tokens (B, T) int → (B, T, d_model).

    A :class:`PositionalEmbedding` named ``embedding``, then ``num_layers``
    :class:`TransformerEncoderBlock` named ``encoder_0``, ``encoder_1``, …,
    each attending to every position but padding (``pad_id``). The kit's
    pre-trained weights (``grader.data.pretrained_encoder()``) were saved
    from this model with the reference's blocks; they load into yours when
    your layers have the names the docstrings above give (Keras stores
    weights by those names).
    """
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    keys = ops.expand_dims(ops.not_equal(tokens, pad_id), 1)  # (B, 1, T): no query attends to padding
    h = PositionalEmbedding(vocab_size, d_model, max_len, name="embedding")(tokens)
    for block in range(num_layers):
        h = TransformerEncoderBlock(d_model, num_heads, d_ff, name=f"encoder_{block}")(h, attention_mask=keys)
    return keras.Model(tokens, h, name="encoder")


#: The recipe of every run of the study, pre-trained or not: Adam with this
#: learning rate, batches of this size, ``epochs`` passes over the training
#: set, or more passes so that there are at least ``min_steps`` updates (64
#: couplets make 2 batches a pass: a few passes would barely move a model).
FINE_TUNING = {"learning_rate": 1e-3, "batch_size": 32, "epochs": 3, "min_steps": 250}


def build_classifier(encoder, label_ids, mask_id):
    """A cloze-style classifier on top of ``encoder`` (a model from
    :func:`build_encoder`): tokens (B, T) int, each row holding ``mask_id``
    exactly once → logits (B, K), **no softmax**, K = ``len(label_ids)``.

    Class k is scored the way masked-LM pre-training scored character
    ``label_ids[k]`` at a [MASK]: ``logit_k = h · E[label_ids[k]] + b_k``
    with ``h`` the encoder's output at the ``mask_id`` position, ``E`` the
    encoder's own embedding matrix (``encoder.get_layer("embedding")
    .embedding.embeddings``, shared, not copied: fine-tuning updates it)
    and ``b`` a trainable bias of K zeros. A pre-trained encoder thus starts
    from its guess of the hidden character; a random one from a random guess.
    """
    # BEGIN SOLUTION: h = Σ_t encoder(tokens)·[tokens == mask_id]; a layer scoring h against the embedding rows label_ids, plus a bias
    class ClozeScores(layers.Layer):
        def __init__(self, table, ids):
            super().__init__(name="cloze")
            self.table, self.ids = table, [int(i) for i in ids]

        def build(self, input_shape):
            self.bias = self.add_weight(shape=(len(self.ids),), initializer="zeros", name="bias")

        def call(self, h):
            rows = ops.take(self.table.embeddings, self.ids, axis=0)
            return ops.matmul(h, ops.transpose(rows)) + self.bias

    tokens = keras.Input((None,), dtype="int32")
    h = encoder(tokens)
    at_mask = ops.expand_dims(ops.cast(ops.equal(tokens, mask_id), h.dtype), -1)
    hidden = ops.sum(h * at_mask, axis=1)
    scores = ClozeScores(encoder.get_layer("embedding").embedding, label_ids)(hidden)
    return keras.Model(tokens, scores, name="classifier")
    # END SOLUTION


def run_config(init, train_size, *, seed):
    """One run of the study: fine-tune the kit's pre-trained encoder
    (``init="pretrained"``) or train the same model from a random
    initialisation (``init="scratch"``) on ``train_size`` couplets of the
    theme task, and measure it on the task's fixed test set.

    The task (``grader.data.theme_task(train_size, seed)``): which of the
    four ``grader.data.THEME_KEYWORDS`` (山, 月, 風, 花) a couplet holds, the
    keyword replaced by "□", the character [MASK] (``grader.data.MASK``)
    stands for in the encoder's vocabulary. Encode the texts with the
    vocabulary and ``max_len`` of ``grader.data.pretrained_encoder()``
    (``grader.data.encode_couplets``), build the encoder with its ``config``
    (:func:`build_encoder`, padding ``grader.data.PAD``), load its
    ``weights`` when pre-trained (Keras's ``load_weights``), put
    :func:`build_classifier` on top (the keywords' ids as ``label_ids``) and
    train with :data:`FINE_TUNING`, cross-entropy on the logits. Seed
    everything from ``seed`` first (``keras.utils.set_random_seed``).

    Returns:
        ``{"test_accuracy": float}``, the share of the test couplets whose
        keyword the model's argmax names. An unknown ``init`` raises
        ``ValueError``.
    """
    # BEGIN SOLUTION: seed; load the task and the encoder's description; build, load weights if pretrained; compile, fit, evaluate
    from grader.data import MASK, PAD, THEME_KEYWORDS, encode_couplets, pretrained_encoder, theme_task

    if init not in ("pretrained", "scratch"):
        raise ValueError(f"unknown init {init!r}: 'pretrained' or 'scratch'")
    keras.utils.set_random_seed(int(seed))  # Python's, NumPy's and TensorFlow's generators
    shipped = pretrained_encoder()
    config, vocab = shipped["config"], shipped["vocab"]
    train_texts, y_train, test_texts, y_test = theme_task(train_size, seed)
    x_train = encode_couplets(train_texts, vocab, config["max_len"])
    x_test = encode_couplets(test_texts, vocab, config["max_len"])
    encoder = build_encoder(**config, pad_id=PAD)
    if init == "pretrained":
        encoder.load_weights(shipped["weights"])
    model = build_classifier(encoder, [vocab.index(k) for k in THEME_KEYWORDS], MASK)
    model.compile(keras.optimizers.Adam(FINE_TUNING["learning_rate"]),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    batch = FINE_TUNING["batch_size"]
    # The passes as one long epoch of repeated copies: Keras's per-epoch overhead would dominate 125 tiny epochs.
    passes = max(FINE_TUNING["epochs"], -(-FINE_TUNING["min_steps"] * batch // train_size))
    model.fit(np.tile(x_train, (passes, 1)), np.tile(y_train, passes), batch_size=batch, epochs=1, verbose=0)
    logits = np.asarray(model(x_test, training=False))  # 800 couplets in one call; predict() would retrace per model
    return {"test_accuracy": float(np.mean(logits.argmax(axis=-1) == y_test))}
    # END SOLUTION
