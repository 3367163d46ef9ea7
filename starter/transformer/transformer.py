# Starter code generated from the reference by `grader starter`: fill in every TODO.
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
    # TODO: one einsum per scoring function; additive: tanh(keys @ W + (q @ U)[:, None, :]) @ v
    raise NotImplementedError("attention_scores: one einsum per scoring function; additive: tanh(keys @ W + (q @ U)[:, None, :]) @ v")


def soft_attention(x, q, score="dot", params=None):
    """Soft attention (软性注意力): ``α = softmax(s(x_i, q))``, ``a = Σ_i α_i x_i``.

    Args:
        x: (B, N, D) inputs; q: (B, D_q) queries; score, params: as in
        :func:`attention_scores`.

    Returns:
        ``(a, alpha)``: a (B, D) the attention-weighted average, alpha (B, N)
        the attention distribution (each row sums to 1).
    """
    # TODO: alpha = softmax of the scores over N; a = einsum("bn,bnd->bd", alpha, x)
    raise NotImplementedError("soft_attention: alpha = softmax of the scores over N; a = einsum(\"bn,bnd->bd\", alpha, x)")


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
    # TODO: the scores compare keys with q; the weighted sum runs over the values
    raise NotImplementedError("key_value_attention: the scores compare keys with q; the weighted sum runs over the values")


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
    # TODO: argmax, or inverse-CDF sampling: index = number of cumsum(alpha) entries below a uniform draw
    raise NotImplementedError("hard_attention: argmax, or inverse-CDF sampling: index = number of cumsum(alpha) entries below a uniform draw")


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
    # TODO: scores = q @ kᵀ / sqrt(d_k); where(mask, scores, MASKED_SCORE); softmax over the last axis; weights @ v
    raise NotImplementedError("scaled_dot_product_attention: scores = q @ kᵀ / sqrt(d_k); where(mask, scores, MASKED_SCORE); softmax over the last axis; weights @ v")


def causal_mask(length):
    """(T, T) boolean mask of a decoder's self-attention: position t may attend
    to positions s ≤ t only (the slides' "Masked" attention over the generated
    sequence). A tensor; ``length`` may be a symbolic size inside a model."""
    # TODO: the lower triangle, diagonal included: row index ≥ column index (keras.ops, so a symbolic length works)
    raise NotImplementedError("causal_mask: the lower triangle, diagonal included: row index ≥ column index (keras.ops, so a symbolic length works)")


def padding_mask(tokens, pad_id=0):
    """(B, 1, T) boolean key mask: ``True`` where ``tokens`` is not padding, so
    no query attends to a padded position. Broadcasts against (B, T_q, T). NumPy."""
    # TODO: tokens != pad_id, with a query axis inserted at position 1
    raise NotImplementedError("padding_mask: tokens != pad_id, with a query axis inserted at position 1")


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
        # TODO: create the Dense(d_model) layers wq, wk, wv and wo
        raise NotImplementedError("__init__: create the Dense(d_model) layers wq, wk, wv and wo")

    def split_heads(self, x):
        """(B, T, d_model) → (B, h, T, d_k)."""
        # TODO: reshape to (B, T, h, d_k), then move the head axis before T
        raise NotImplementedError("split_heads: reshape to (B, T, h, d_k), then move the head axis before T")

    def call(self, query, context=None, attention_mask=None, return_attention_scores=False):
        # TODO: project, split heads, scaled_dot_product_attention with the mask expanded over heads, merge heads, project with wo
        raise NotImplementedError("call: project, split heads, scaled_dot_product_attention with the mask expanded over heads, merge heads, project with wo")
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
    # TODO: angles = pos / 10000^(2i/d) of shape (length, d/2); sin into the even columns, cos into the odd ones
    raise NotImplementedError("positional_encoding: angles = pos / 10000^(2i/d) of shape (length, d/2); sin into the even columns, cos into the odd ones")


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
    # TODO: 2×2 blocks [[α, −β], [β, α]] on the diagonal (row convention)
    raise NotImplementedError("pe_shift_matrix: 2×2 blocks [[α, −β], [β, α]] on the diagonal (row convention)")


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
        # TODO: an Embedding layer and the (max_len, d_model) encoding as a float32 constant
        raise NotImplementedError("__init__: an Embedding layer and the (max_len, d_model) encoding as a float32 constant")

    def call(self, tokens):
        # TODO: embed, then add the first T rows of the encoding when enabled
        raise NotImplementedError("call: embed, then add the first T rows of the encoding when enabled")


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
        # TODO: the five sub-layers named in the docstring
        raise NotImplementedError("__init__: the five sub-layers named in the docstring")

    def call(self, x, attention_mask=None):
        # TODO: residual + LayerNorm *after* each sub-layer (post-LN)
        raise NotImplementedError("call: residual + LayerNorm *after* each sub-layer (post-LN)")


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
        # TODO: the seven sub-layers named in the docstring
        raise NotImplementedError("__init__: the seven sub-layers named in the docstring")

    def call(self, y, memory, memory_mask=None):
        # TODO: causal self-attention, cross-attention over memory, feed-forward; each followed by residual + LayerNorm
        raise NotImplementedError("call: causal self-attention, cross-attention over memory, feed-forward; each followed by residual + LayerNorm")


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
    # TODO: a functional keras.Model with two int32 Inputs of shape (None,)
    raise NotImplementedError("build_transformer: a functional keras.Model with two int32 Inputs of shape (None,)")


def greedy_decode(model, source, bos_id, length):
    """Generate ``length`` tokens per source sequence, one at a time: start from
    ``[bos_id]``, feed the tokens generated so far as ``target_in``, append the
    argmax of the logits at the last position, repeat.

    Args:
        model: a model from :func:`build_transformer`; source: (B, S) int.

    Returns:
        (B, length) int NumPy array, without the start token.
    """
    # TODO: loop `length` times: logits = model([source, target], training=False); append argmax(logits[:, -1])
    raise NotImplementedError("greedy_decode: loop `length` times: logits = model([source, target], training=False); append argmax(logits[:, -1])")


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
    # TODO: chosen = non-special & (U < p); a second uniform splits chosen into <0.8 mask, <0.9 random, else keep
    raise NotImplementedError("bert_mask_tokens: chosen = non-special & (U < p); a second uniform splits chosen into <0.8 mask, <0.9 random, else keep")


def make_nsp_input(a, b, cls_id, sep_id):
    """BERT's sentence-pair input ``[CLS] A [SEP] B [SEP]`` and its segment ids
    (0 for ``[CLS] A [SEP]``, 1 for ``B [SEP]``), as two 1-D int NumPy arrays."""
    # TODO: concatenate the ids; segments are len(a) + 2 zeros then len(b) + 1 ones
    raise NotImplementedError("make_nsp_input: concatenate the ids; segments are len(a) + 2 zeros then len(b) + 1 ones")


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
    # TODO: loop over (doc, i); a coin flip picks doc[i+1] or a random sentence of a random other document
    raise NotImplementedError("next_sentence_pairs: loop over (doc, i); a coin flip picks doc[i+1] or a random sentence of a random other document")


def causal_lm_loss(logits, tokens):
    """GPT's language-model loss: the mean cross-entropy of predicting token
    t + 1 from the logits at position t (``ℒ = −Σ_t log P(u_{t+1} | u_{≤t})``
    averaged over the B·(T − 1) predictions; shift by one).

    Args:
        logits: (B, T, V) unnormalised scores; tokens: (B, T) int ids.

    Returns:
        A scalar tensor.
    """
    # TODO: sparse categorical cross-entropy (from logits) of tokens[:, 1:] against logits[:, :-1], averaged
    raise NotImplementedError("causal_lm_loss: sparse categorical cross-entropy (from logits) of tokens[:, 1:] against logits[:, :-1], averaged")


def sparse_attention_mask(length, k, causal=True):
    """GPT-3's sparse self-attention pattern (arXiv:1904.10509), NumPy bool (T, T).

    Query i may attend to key j when j is
    * within k positions of i, ``|i − j| ≤ k`` (局部自注意力, local), or
    * a multiple of k positions away, ``(i − j) = n·k`` for an integer n (空洞自注意力, atrous),
    and, when ``causal``, only when ``j ≤ i``.
    """
    # TODO: d = i − j on a grid; local |d| ≤ k or atrous d % k == 0; causal keeps d ≥ 0
    raise NotImplementedError("sparse_attention_mask: d = i − j on a grid; local |d| ≤ k or atrous d % k == 0; causal keeps d ≥ 0")


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
    # TODO: loop over hops: p = softmax(einsum("bnd,bd->bn", A, q)); r = einsum("bn,bnd->bd", p, C); q = q + r
    raise NotImplementedError("memn2n_read: loop over hops: p = softmax(einsum(\"bnd,bd->bn\", A, q)); r = einsum(\"bn,bnd->bd\", p, C); q = q + r")


def content_addressing(memory, key, beta):
    """NTM content addressing (按内容寻址): ``α_i = softmax_i(β · cos(m_i, k))``.

    ``cos(m, k) = m·k / (‖m‖ ‖k‖ + 1e-8)``; β ≥ 0 is the key strength (larger
    β, sharper focus).

    Args:
        memory: (B, N, W) slots m_i; key: (B, W); beta: (B,).

    Returns:
        (B, N) addressing weights (rows sum to 1). Differentiable.
    """
    # TODO: cosine similarity of every slot with the key, times beta[:, None], softmax over N
    raise NotImplementedError("content_addressing: cosine similarity of every slot with the key, times beta[:, None], softmax over N")


def memory_read(memory, w):
    """NTM read: ``r = Σ_i α_i m_i``. memory (B, N, W), w (B, N) → (B, W)."""
    # TODO: the w-weighted sum of the slots
    raise NotImplementedError("memory_read: the w-weighted sum of the slots")


def memory_write(memory, w, erase, add):
    """NTM write: erase, then add, each in proportion to the attention:

    ``m'_i = m_i ⊙ (1 − α_i e) + α_i a``.

    Args:
        memory: (B, N, W); w: (B, N) weights α; erase: (B, W) e ∈ [0, 1]^W;
        add: (B, W) a.

    Returns:
        (B, N, W) the new memory. Differentiable.
    """
    # TODO: outer products w[:, :, None] * erase[:, None, :] and w[:, :, None] * add[:, None, :]
    raise NotImplementedError("memory_write: outer products w[:, :, None] * erase[:, None, :] and w[:, :, None] * add[:, None, :]")


def memory_write_backward(d_new, memory, w, erase, add):
    """Hand-written gradients of :func:`memory_write` (NumPy), given the
    upstream gradient ``d_new`` = ∂L/∂M' (B, N, W).

    Returns:
        ``(d_memory, d_w, d_erase, d_add)`` shaped like memory (B, N, W),
        w (B, N), erase (B, W) and add (B, W):
        ``∂L/∂m_i = d_i ⊙ (1 − α_i e)``, ``∂L/∂α_i = d_i · (a − m_i ⊙ e)``,
        ``∂L/∂e = −Σ_i α_i d_i ⊙ m_i``, ``∂L/∂a = Σ_i α_i d_i``.
    """
    # TODO: the four formulas of the docstring with broadcasting over (B, N, W)
    raise NotImplementedError("memory_write_backward: the four formulas of the docstring with broadcasting over (B, N, W)")


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
    # TODO: h = Σ_t encoder(tokens)·[tokens == mask_id]; a layer scoring h against the embedding rows label_ids, plus a bias
    raise NotImplementedError("build_classifier: h = Σ_t encoder(tokens)·[tokens == mask_id]; a layer scoring h against the embedding rows label_ids, plus a bias")


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
    # TODO: seed; load the task and the encoder's description; build, load weights if pretrained; compile, fit, evaluate
    raise NotImplementedError("run_config: seed; load the task and the encoder's description; build, load weights if pretrained; compile, fit, evaluate")
