# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab — Attention, Transformer and external memory (注意力机制、Transformer 与外部记忆)
#
# This notebook walks through the lab part by part. **Your code goes in `transformer.py`**, not
# here: edit it in any editor, then come back and run the cells of the part you finished. Each
# part ends with `check(...)`, which runs that part's *public* checks on your `transformer.py`
# (the same checks as `pytest` and `grader check transformer`). The handout (`README.md`,
# 中文：`README.zh.md`) explains every part and the conventions; read it first.
#
# The graders also run hidden checks on other shapes, head counts, masks and properties, so a
# green public check is necessary, not sufficient.
#
# *Run All* works at any stage: a part whose code is not written yet (or raises) prints one
# line, `with part(...)` lets the notebook go on, and the part's check says what is missing.

# %%
# Before TensorFlow is imported: hide its C++ start-up notices (your Python errors still show).
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

# Re-import transformer.py whenever you save it, so the cells below always use your latest code.
# %load_ext autoreload
# %autoreload 2

import warnings

import numpy as np
import tensorflow as tf
import keras

import transformer
from grader.device import configure
from grader.notebook import Walkthrough

# The checks' TensorFlow settings (threads, deterministic ops), set before TensorFlow starts,
# because some of them cannot change once a cell below has run TensorFlow.
configure()
# Greedy decoding starts from one token, so its first attention softmax is over a single key:
# that is expected here, and Keras's warning about it would only be noise.
warnings.filterwarnings("ignore", message="You are using a softmax over axis")
# check("name") runs public checks on your transformer.py; a part's cell under part("Part N") lets Run All go on past
# a part not written yet (it prints one line; the check below says what is missing).
walk = Walkthrough("transformer")
check, part = walk.check, walk.part
LAB = walk.lab
#: The checks' own helpers (the reversal task of Part 6), as the checks use them.
helpers = LAB.check_module("common")


def softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


rng = np.random.default_rng(0)
np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## Part 1. Soft attention (注意力机制与打分函数)
#
# `α = softmax(s(xᵢ, q))` and `a = Σ αᵢ xᵢ`, with the scoring functions (打分函数) dot `xᵀq`,
# scaled dot `xᵀq/√D`, bilinear `xᵀWq` and additive `vᵀtanh(Wx + Uq)`. Vectors are **rows**:
# N inputs of size D are an array (N, D), a batch (B, N, D). Key–value attention scores the
# *keys* against the query (the slide writes `s(xᵢ, kᵢ)`; it is `s(kᵢ, q)`) and averages the
# *values*. An unknown `score` raises `ValueError`. Hard attention picks one input: the argmax
# of α, or an index sampled *from α* (the slide's `z ~ U(1, N)` is a typo).

# %%
x = rng.normal(size=(1, 5, 4))
q = rng.normal(size=(1, 4))
params = {"bilinear": {"W": rng.normal(size=(4, 4))},
          "additive": {"W": rng.normal(size=(4, 6)) / 2, "U": rng.normal(size=(4, 6)) / 2, "v": rng.normal(size=6)}}
alpha_dot = softmax(np.einsum("bnd,bd->bn", x, q))  # the dot score, by hand
with part("Part 1"):
    for score in ("dot", "scaled_dot", "bilinear", "additive"):
        a, alpha = transformer.soft_attention(x, q, score, params.get(score))
        print(f"{score:>10}: alpha = {np.asarray(alpha)[0]}, sum {float(np.sum(alpha)):.6f}")
    print("dot score, max |alpha − softmax(x·q)| =", np.abs(np.asarray(transformer.soft_attention(x, q)[1]) - alpha_dot).max())
    try:
        transformer.attention_scores(x, q, "cosine")
        print("score='cosine': no error — an unknown score must raise ValueError")
    except ValueError as exc:
        print("score='cosine': ValueError:", exc)
    chosen, index = transformer.hard_attention(x, alpha_dot)
    print("hard attention (argmax) picks input", index, "— the argmax of alpha is", alpha_dot.argmax(axis=-1))

# %%
check("soft_attention")

# %% [markdown]
# ## Part 2. Scaled dot-product attention and masks (缩放点积注意力与掩码)
#
# In rows the slides' `H = V softmax(KᵀQ)` is `softmax(Q Kᵀ / √d_k) V`. **Masks are boolean and
# `True` means "may attend"**, as `attention_mask` of `keras.layers.MultiHeadAttention`: a padding
# mask is (B, 1, T_k), a causal mask (T, T). Masked attention weights must be **exactly 0**:
# replace the masked scores by a huge negative number *before* the softmax (`MASKED_SCORE = -1e9`).
# Multiplying the weights by the mask *after* the softmax is wrong twice: the rows no longer sum
# to 1, and the masked scores still enter the normaliser, so a decoder trained that way "sees the
# future" and fails at generation time.

# %%
xs = rng.normal(size=(1, 4, 6))
tokens = np.array([[5, 3, 8, 0, 0]])  # two padding tokens (pad_id 0) at the end
with part("Part 2"):
    print("causal_mask(4):\n", np.asarray(transformer.causal_mask(4)).astype(int))
    print("padding_mask:", np.asarray(transformer.padding_mask(tokens)).astype(int).tolist())
    out, weights = transformer.scaled_dot_product_attention(xs, xs, xs, transformer.causal_mask(4))
    weights = np.asarray(weights)[0]
    print("causal self-attention weights (rows sum to 1, zeros above the diagonal):\n", weights)
    print("masked weights that are not exactly 0:", int(np.sum(np.triu(weights, 1) != 0)))

# %%
check("scaled_dot_product_attention")

# %% [markdown]
# ## Part 3. Multi-head attention (多头自注意力)
#
# Four `Dense(d_model)` layers `wq`, `wk`, `wv`, `wo`. Head j uses the columns
# `j·d_k … (j+1)·d_k − 1` (reshape (B, T, d_model) → (B, T, h, d_k)) and the heads are
# concatenated in order before `wo`: `b = W^O [b¹; …; bʰ]`. This is exactly
# `keras.layers.MultiHeadAttention(h, key_dim=d_k)` with its kernels reshaped to (d_model, h, d_k)
# and (h, d_k, d_model): the cell below builds that Keras layer from your weights and compares,
# as a hidden check does. Attention scores have Keras's shape (B, h, T_q, T_k). The mask argument
# is called `attention_mask`, not `mask` (Keras fills an argument named `mask` in by itself).

# %%
D_MODEL, HEADS = 8, 2
x_mha = rng.normal(size=(2, 5, D_MODEL)).astype("float32")
causal = np.tril(np.ones((5, 5), dtype=bool))[None].repeat(2, axis=0)  # (B, T, T), as Keras takes it


def keras_copy(mine, d_model, heads):
    """A ``keras.layers.MultiHeadAttention`` holding the weights of your layer ``mine``."""
    d_k = d_model // heads
    theirs = keras.layers.MultiHeadAttention(heads, key_dim=d_k)
    theirs(x_mha, x_mha)
    weights = []
    for name in ("wq", "wk", "wv"):
        dense = getattr(mine, name)
        weights += [np.reshape(dense.kernel, (d_model, heads, d_k)), np.reshape(dense.bias, (heads, d_k))]
    weights += [np.reshape(mine.wo.kernel, (heads, d_k, d_model)), np.asarray(mine.wo.bias)]
    theirs.set_weights(weights)
    return theirs


with part("Part 3"):
    mha = transformer.MultiHeadAttention(D_MODEL, HEADS)
    y, scores = mha(x_mha, attention_mask=causal, return_attention_scores=True)
    print("output", tuple(y.shape), "scores", tuple(scores.shape), "(B, h, T, T)")
    y_keras, scores_keras = keras_copy(mha, D_MODEL, HEADS)(x_mha, x_mha, attention_mask=causal,
                                                            return_attention_scores=True)
    print(f"max |difference| from Keras: output {np.abs(np.asarray(y) - np.asarray(y_keras)).max():.2e}, "
          f"scores {np.abs(np.asarray(scores) - np.asarray(scores_keras)).max():.2e}")

# %%
check("multi_head_attention_values")

# %% [markdown]
# ## Part 4. Positional encoding (位置编码)
#
# `PE[pos, 2i] = sin(pos/10000^(2i/d))`, `PE[pos, 2i+1] = cos(…)`, **interleaved** (not all sines
# then all cosines). `pe_shift_matrix(k, d)` is the fixed matrix with `PE[pos + k] = PE[pos] @ R_k`
# for every pos (「PE_{pos+k} 可以表示成 PE_pos 的线性函数」). The slide prints the rotation as
# `[[α_k, β_k], [α_k, −β_k]]`; it is `[[α_k, β_k], [−β_k, α_k]]` (columns; in rows, its transpose).

# %%
with part("Part 4"):
    pe = np.asarray(transformer.positional_encoding(50, 16))
    print("PE[:3, :4] =\n", pe[:3, :4])
    for k in (1, 3, 10):
        shift = np.asarray(transformer.pe_shift_matrix(k, 16))
        print(f"k={k:2d}: max |PE[pos + k] − PE[pos] @ R_k| = {np.abs(pe[k:] - pe[:-k] @ shift).max():.2e}")
    embedded = np.asarray(transformer.PositionalEmbedding(10, 16, 50)(np.array([[4, 4, 4]])))
    print("the same token at positions 0, 1, 2 gets different vectors:",
          not np.allclose(embedded[0, 0], embedded[0, 1]) and not np.allclose(embedded[0, 1], embedded[0, 2]))

# %%
check("positional_encoding_values")

# %% [markdown]
# ## Part 5. Encoder and decoder blocks (编码器与解码器)
#
# Post-LN as drawn on the slides (`LayerNorm(x + sublayer(x))`): the encoder block
# `h = norm1(x + attention(x))`, `y = norm2(h + ffn(h))`; the decoder block adds causal
# self-attention (在生成的序列上做注意力) and cross-attention to the encoder memory
# (在输入序列上做注意力). LayerNorm ε = 1e-6 (`LN_EPSILON`, the paper's value; Keras's default is
# 1e-3). The cell checks the decoder's causality as the public check does: changing the targets
# after position 3 must leave the outputs up to position 2 unchanged.

# %%
x_enc = rng.normal(size=(2, 6, 8)).astype("float32")
y_dec = rng.normal(size=(2, 6, 8)).astype("float32")
y_later = y_dec.copy()
y_later[:, 3:] = rng.normal(size=(2, 3, 8))
with part("Part 5, encoder"):
    encoded = np.asarray(transformer.TransformerEncoderBlock(8, 2, 16)(x_enc))
    print(f"encoder block: {encoded.shape}; after the last LayerNorm each position has mean "
          f"{np.abs(encoded.mean(axis=-1)).max():.1e} (max |·|) and std ≈ {encoded.std(axis=-1).mean():.3f}")

# %%
check("encoder_block")

# %%
with part("Part 5, decoder"):
    decoder = transformer.TransformerDecoderBlock(8, 2, 16)
    before, after = np.asarray(decoder(y_dec, x_enc)), np.asarray(decoder(y_later, x_enc))
    print("max |change| at positions 0–2:", np.abs(before - after)[:, :3].max(), "(must be 0)")
    print("max |change| at positions 3–5:", np.abs(before - after)[:, 3:].max().round(3))

# %%
check("decoder_block")

# %% [markdown]
# ## Part 6. A trained Transformer: reversing sequences (序列到序列的 Transformer)
#
# `build_transformer` stacks a PositionalEmbedding and `num_layers` encoder blocks for the source,
# another PositionalEmbedding and `num_layers` decoder blocks (each reading the last encoder
# block's output) for the target, and `Dense(vocab_size)` **logits, no softmax**. The decoder is
# trained with teacher forcing: its input is the target shifted right behind the start token 0.
# `greedy_decode` then generates one token at a time.
#
# The cell trains the graded check's model (sizes and recipe from `lab.toml`) to **reverse**
# sequences of 5 tokens, with and without positional encoding (about ten seconds each). Without
# an encoding, attention is a sum over positions: the decoder cannot know which source token came
# last, and its accuracy stays near 1/3. That contrast is the chapter's point.

# %%
recipe = LAB.settings("seq2seq_training")
source, target_in, target = helpers.reversal_data(
    np.random.default_rng(1), recipe["train_size"], recipe["length"], recipe["vocab_size"], recipe["bos_id"])
test_source, _, test_target = helpers.reversal_data(
    np.random.default_rng(2), 200, recipe["length"], recipe["vocab_size"], recipe["bos_id"])


def train_reverser(use_positional_encoding):
    """Your ``build_transformer`` trained as the check trains it; returns it and its training loss per epoch."""
    keras.utils.set_random_seed(0)
    model = transformer.build_transformer(
        recipe["vocab_size"], recipe["length"], d_model=recipe["d_model"], num_heads=recipe["num_heads"],
        d_ff=recipe["d_ff"], num_layers=recipe["num_layers"], use_positional_encoding=use_positional_encoding)
    model.compile(optimizer=keras.optimizers.Adam(recipe["learning_rate"]),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit([source, target_in], target, batch_size=recipe["batch_size"], epochs=recipe["epochs"], verbose=0)
    return model, history.history["loss"]


with part("Part 6"):
    for use_pe in (True, False):
        model, losses = train_reverser(use_pe)
        decoded = transformer.greedy_decode(model, test_source, recipe["bos_id"], recipe["length"])
        print(f"positional encoding {'on ' if use_pe else 'off'}: training loss per epoch "
              f"{', '.join(f'{l:.3f}' for l in losses)}; token accuracy {np.mean(decoded == test_target):.3f}")
    print("a source and its decoding:", test_source[0], "→", decoded[0])

# %%
check("seq2seq_training")

# %% [markdown]
# ## Part 7. Pre-training data (BERT 与 GPT 的预训练数据)
#
# `bert_mask_tokens` chooses 15 % of the **non-special** tokens ([CLS]/[SEP]/[PAD]/[MASK] are never
# chosen); of those 80 % become [MASK], 10 % a random token, 10 % stay unchanged. All its
# randomness comes from the `numpy.random.Generator` passed in: the same seed gives the same
# result. The cell counts the proportions on a small corpus (the check does the same with
# 5-standard-deviation bounds). GPT's loss predicts token t + 1 from position t (the slide's
# objective has lost its `log`); GPT-3's sparse attention keeps the local window `|i − j| ≤ k`
# plus the atrous positions `i − j = n·k`.

# %%
PAD, CLS, SEP, MASK, VOCAB = 0, 1, 2, 3, 1000
corpus = rng.integers(4, VOCAB, size=(300, 32))
corpus[:, 0], corpus[:, 20], corpus[:, 21:] = CLS, SEP, PAD
special = np.isin(corpus, [PAD, CLS, SEP, MASK])
with part("Part 7, BERT"):
    inputs, labels, weights = transformer.bert_mask_tokens(corpus, np.random.default_rng(0), VOCAB, MASK,
                                                           [PAD, CLS, SEP, MASK])
    inputs, weights = np.asarray(inputs), np.asarray(weights)
    chosen = weights == 1
    print(f"chosen: {chosen.sum() / (~special).sum():.1%} of the non-special tokens; special tokens chosen: "
          f"{int(np.sum(chosen & special))}")
    print(f"of the chosen: {np.mean(inputs[chosen] == MASK):.1%} [MASK], "
          f"{np.mean((inputs[chosen] != MASK) & (inputs[chosen] != corpus[chosen])):.1%} random, "
          f"{np.mean(inputs[chosen] == corpus[chosen]):.1%} unchanged")

with part("Part 7, GPT"):
    print("[CLS] A [SEP] B [SEP] and its segment ids:",
          *(np.asarray(a).tolist() for a in transformer.make_nsp_input([11, 12], [21, 22, 23], CLS, SEP)))
    print("sparse_attention_mask(8, k=3):\n", np.asarray(transformer.sparse_attention_mask(8, 3)).astype(int))

# %%
check("bert_masking")

# %% [markdown]
# ## Part 8. External memory (外部记忆)
#
# An end-to-end memory network reads `p = softmax(aᵢᵀq)`, `r = Σ pᵢcᵢ` and updates `q ← q + r` at
# each hop. A neural Turing machine addresses its memory by content, `softmax(β·cos(mᵢ, k))` (a
# larger β sharpens the weights), reads `Σ wᵢmᵢ` and writes by erasing then adding:
# `m'ᵢ = mᵢ ⊙ (1 − αᵢe) + αᵢa`. `memory_write_backward` is that write's gradients written by hand;
# the cell compares them with TensorFlow's autodiff of your `memory_write` in float64.

# %%
memory = rng.normal(size=(1, 5, 3))
key = memory[:, 2] + 0.1 * rng.normal(size=(1, 3))  # close to slot 2
erase, add = rng.uniform(size=(1, 3)), rng.normal(size=(1, 3))
d_new = rng.normal(size=(1, 5, 3))
with part("Part 8"):
    u, p = transformer.memn2n_read(rng.normal(size=(1, 3)), memory, memory, hops=3)
    print("memn2n_read, 3 hops: p per hop has shape", tuple(np.shape(p)), "and sums", np.asarray(p).sum(axis=-1))
    for beta in (1.0, 50.0):
        w = transformer.content_addressing(memory, key, np.array([beta]))
        print(f"content addressing, β = {beta:4}: w = {np.asarray(w)[0]}")
    print("memory_read:", np.asarray(transformer.memory_read(memory, w))[0], "≈ slot 2:", memory[0, 2])
    mine = transformer.memory_write_backward(d_new, memory, np.asarray(w), erase, add)
    tensors = [tf.constant(a) for a in (memory, np.asarray(w), erase, add)]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        loss = tf.reduce_sum(transformer.memory_write(*tensors) * d_new)
    for name, a, b in zip(("d_memory", "d_w", "d_erase", "d_add"), mine, tape.gradient(loss, tensors)):
        print(f"{name}: max |difference| from autodiff {np.abs(np.asarray(a) - b.numpy()).max():.1e}")

# %%
check("memory_network")

# %% [markdown]
# ## All public checks
#
# Run them all before you submit `transformer.py` (the training check takes a few seconds).

# %%
check()

# %% [markdown]
# ## Study: a pre-trained encoder vs training from scratch (the chapter's homework)
#
# Pre-training pays when labelled data are scarce. The kit ships a small BERT-style encoder
# (two of your `TransformerEncoderBlock`s, d_model = 64), pre-trained by the instructor with your
# Part 7 masking on 40,000 couplets of Tang poems (`grader.data.pretrained_encoder()`: its sizes,
# vocabulary and weights). The task: which of four keywords (山, 月, 風, 花) a couplet holds, the
# keyword hidden as "□" (`grader.data.theme_task(train_size, seed)`; the 800 test couplets come
# from poems the encoder never saw). `run_config(init, train_size, seed=...)` fine-tunes the
# pre-trained encoder (`init="pretrained"`) or trains the same model from random weights
# (`init="scratch"`) on `train_size` couplets and returns the test accuracy.
#
# The cell below loads the shipped weights into your encoder, scores the test couplets with your
# classifier *before any fine-tuning* (the pre-trained encoder already guesses the hidden keyword
# well above chance, 0.25; a random one does not), then runs a slice of the grid (the smallest
# training set) to try `run_config`. Run the whole grid, with several seeds, once it works.

# %%
import grader.data as data
from grader.study import plot, run_study

with part("Study"):
    info = data.pretrained_encoder()  # the shipped encoder: sizes, vocabulary, weights file
    keywords = [info["vocab"].index(k) for k in data.THEME_KEYWORDS]
    _, _, test_texts, test_labels = data.theme_task(64, seed=0)
    x_test = data.encode_couplets(test_texts, info["vocab"], info["config"]["max_len"])
    for pretrained in (True, False):
        encoder = transformer.build_encoder(**info["config"], pad_id=data.PAD)
        if pretrained:
            encoder.load_weights(info["weights"])
        logits = np.asarray(transformer.build_classifier(encoder, keywords, data.MASK)(x_test))
        print(f"{'pretrained' if pretrained else 'scratch':>10}, before fine-tuning: "
              f"test accuracy {np.mean(logits.argmax(-1) == test_labels):.3f}")
    trial = run_study(transformer, "transformer", seeds=(0,), path="study_trial.csv", only={"train_size": [64]})
    if trial:
        print(plot(trial, "transformer", x="train_size", y="test_accuracy", hue="init", path="study_trial.png"))

# %% [markdown]
# **What to hand in**, beside `transformer.py`:
#
# * `study.csv`: every configuration of the grid, made by
#   `run_study(transformer, "transformer", seeds=(0, 1, 2))` (about 2 minutes per seed);
# * the plot of `test_accuracy` against `train_size`, one line per `init`
#   (`plot("study.csv", "transformer", x="train_size", y="test_accuracy", hue="init")`);
# * `report.md`: how much pre-training helps at each size, where the two curves meet, and why.
#
# The graders re-run two rows of your `study.csv`, drawn at random, with your `transformer.py`
# and the row's seed: a row your code does not reproduce (within the study's tolerance) earns
# nothing, so seed everything from `seed` and hand in the table your final code made.
