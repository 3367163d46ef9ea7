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
# # Lab 2 — Recurrent neural networks (循环神经网络)
#
# This notebook walks through the lab part by part. **Your code goes in `rnn.py`**, not here:
# edit it in any editor, then come back and run the cells of the part you finished. Each part
# ends with `check(...)`, which runs that part's *public* checks on your `rnn.py` (the same
# checks as `pytest` and `grader check rnn`). The handout (`README.md`,
# 中文：`README.zh.md`) explains every part and the conventions; read it first.
#
# The graders also run hidden checks on other inputs and properties, so a green public check
# is necessary, not sufficient.
#
# *Run All* works at any stage: a part whose code is not written yet (or raises) prints one
# line, `with part(...)` lets the notebook go on, and the part's check says what is missing.

# %%
# Before TensorFlow is imported: hide its C++ start-up notices (your Python errors still show).
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

# Re-import rnn.py whenever you save it, so the cells below always use your latest code.
# %load_ext autoreload
# %autoreload 2

import numpy as np
import tensorflow as tf
import keras

import rnn
from grader.notebook import Walkthrough

# check("name") runs public checks on your rnn.py; a part's cell under part("Part N") lets Run All go on past
# a part not written yet (it prints one line; the check below says what is missing).
walk = Walkthrough("rnn")
check, part = walk.check, walk.part
LAB = walk.lab


def max_difference(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


rng = np.random.default_rng(0)

# %% [markdown]
# ## Part 1. The Elman RNN, forward (简单循环网络)
#
# The slides write column vectors, `h_t = f(U h_{t−1} + W x_t + b)`; here a batch is stored in
# **rows**, so one step reads `z_t = h_{t−1} @ U.T + x_t @ W.T + b`, and `x[:, t − 1]` is the
# slides' `x_t` (arrays count from 0). Keras stores the transposes: `SimpleRNN` has
# `kernel = Wᵀ` (D, H) and `recurrent_kernel = Uᵀ` (H, H). Below, a real `SimpleRNN` given
# your `simple_rnn_weights` should compute your `rnn_forward`.

# %%
B, T, D, H = 2, 5, 3, 4
x = rng.normal(size=(B, T, D))
h0 = rng.normal(size=(B, H))
U, W, b = 0.5 * rng.normal(size=(H, H)), rng.normal(size=(H, D)), rng.normal(size=H)

with part("Part 1"):
    h, z = rnn.rnn_forward(x, h0, U, W, b, "tanh")
    print("h and z:", h.shape, z.shape, h.dtype)
    simple = keras.layers.SimpleRNN(H, return_sequences=True, dtype="float64")
    simple.build((None, T, D))
    simple.set_weights(rnn.simple_rnn_weights(U, W, b))
    theirs = simple(x, initial_state=h0)
    print(f"max |difference| from keras.layers.SimpleRNN: {max_difference(h, theirs):.2e}")

# %%
check("rnn_forward")

# %%
check("simple_rnn_keras")

# %% [markdown]
# ## Part 2. Back-propagation through time (随时间反向传播, BPTT)
#
# `dh[:, t − 1] = ∂L_t/∂h_t` is only the gradient each step's own loss sends into its state;
# the sweep `δ_k = diag(f′(z_k)) (∂L_k/∂h_k + Uᵀ δ_{k+1})`, `δ_{T+1} = 0`, adds what comes
# back from the later steps. (The slides' 「梯度计算」 writes `W x_t` inside `z_k`; the input is
# `x_k`.) Here TensorFlow's autodiff of the same RNN, in float64, gives the reference for
# `L = Σ_t Σ h_t ⊙ dh_t`: a relative error around 1e-12 means right, above 1e-2 means wrong.

# %%
def rel_error(a, b):
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


dh = rng.normal(size=(B, T, H))
tensors = [tf.constant(a) for a in (U, W, b, h0, x)]
with tf.GradientTape() as tape:
    tape.watch(tensors)
    U_t, W_t, b_t, state, x_t = tensors
    loss = 0.0
    for t in range(T):
        state = tf.tanh(state @ tf.transpose(U_t) + x_t[:, t] @ tf.transpose(W_t) + b_t)
        loss += tf.reduce_sum(state * dh[:, t])
autodiff = [g.numpy() for g in tape.gradient(loss, tensors)]

with part("Part 2"):
    h, z = rnn.rnn_forward(x, h0, U, W, b, "tanh")
    mine = rnn.rnn_backward(dh, x, h0, U, W, h, z, "tanh")
    for name, a, g in zip(("dU", "dW", "db", "dh0", "dx"), mine, autodiff):
        print(f"{name}: relative error {rel_error(np.asarray(a), g):.1e}")

# %%
check("rnn_backward")

# %% [markdown]
# ## Part 3. Exploding and vanishing gradients (梯度爆炸与消失)
#
# As the slides stress, 「梯度消失不是∂ℒ_t/∂U的梯度消失，而是∂ℒ_t/∂h_k的梯度消失」: it is the
# gradient that reaches an early state which vanishes. With f′ = 1 ("linear"), it shrinks
# like ρ^{t−k} when the spectral radius ρ of U (the largest |eigenvalue|, not the largest
# singular value) is below 1 and grows when it is above. `clip_by_global_norm` is the remedy
# for explosion: **one** norm over *all* arrays, as `tf.clip_by_global_norm`.

# %%
U_raw = rng.normal(size=(8, 8))
z_lin = np.zeros((1, 30, 8))  # f′ = 1 everywhere: only U shapes the gradient
grads = [rng.normal(size=(3, 4)), rng.normal(size=5)]
clipped_tf, norm_tf = tf.clip_by_global_norm([tf.constant(g) for g in grads], 1.0)

with part("Part 3"):
    for rho in (0.5, 1.0, 1.5):
        g = rnn.state_gradients(np.ones((1, 8)), z_lin, rnn.scale_to_spectral_radius(U_raw, rho), "linear")
        ratio = np.linalg.norm(g[0, 0]) / np.linalg.norm(g[0, -1])
        print(f"ρ = {rho}: ‖∂L_30/∂h_1‖ / ‖∂L_30/∂h_30‖ = {ratio:.1e}")
    clipped, norm = rnn.clip_by_global_norm(grads, 1.0)
    print(f"global norm {norm:.4f} (TensorFlow: {float(norm_tf):.4f}); max |difference| of the clipped arrays: "
          f"{max(max_difference(a, c) for a, c in zip(clipped, clipped_tf)):.1e}")

# %%
check("gradient_norms")

# %%
check("clip_by_global_norm")

# %% [markdown]
# ## Part 4. Gated cells: LSTM (长短期记忆网络) and GRU (门控循环单元)
#
# Your `LSTMCell` keeps the slides' gate order **[c̃, o, i, f]**; Keras's `LSTM` orders its
# blocks **[i, f, c̃, o]**, which `lstm_keras_weights` translates. For the GRU, Keras's default
# `GRU()` has `reset_after=True` (the reset gate applied *after* the recurrent product, the
# cuDNN formulation): only `reset_after=False` is the slides' `h̃_t = tanh(W_h[r_t ⊙ h_{t−1}, x_t] + b)`.
# Both your cells run inside `keras.layers.RNN` and must match the Keras layers below.

# %%
x_cell = rng.normal(size=(2, 6, 3)).astype("float32")
lstm_weights = [rng.normal(size=s).astype("float32") * 0.5 for s in [(3, 16), (4, 16), (16,)]]
gru_weights = [rng.normal(size=s).astype("float32") * 0.5 for s in [(3, 12), (4, 12), (12,)]]
keras_gru = keras.layers.GRU(4, return_sequences=True, reset_after=False)
keras_gru.build((None, 6, 3))
keras_gru.set_weights(gru_weights)

with part("Part 4, LSTM"):
    cell = rnn.LSTMCell(4)
    mine = keras.layers.RNN(cell, return_sequences=True)
    mine.build((None, 6, 3))
    for name, value in zip(("kernel", "recurrent_kernel", "bias"), lstm_weights):
        getattr(cell, name).assign(value)
    keras_lstm = keras.layers.LSTM(4, return_sequences=True)
    keras_lstm.build((None, 6, 3))
    keras_lstm.set_weights(rnn.lstm_keras_weights(*lstm_weights))
    print(f"LSTMCell vs keras.layers.LSTM (reordered weights): max |difference| "
          f"{max_difference(mine(x_cell), keras_lstm(x_cell)):.1e}")

with part("Part 4, GRU"):
    cell = rnn.GRUCell(4)
    mine = keras.layers.RNN(cell, return_sequences=True)
    mine.build((None, 6, 3))
    for name, value in zip(("kernel", "recurrent_kernel", "bias"), gru_weights):
        getattr(cell, name).assign(value)
    print(f"GRUCell vs keras.layers.GRU(reset_after=False): max |difference| "
          f"{max_difference(mine(x_cell), keras_gru(x_cell)):.1e}")

# %%
check("lstm_cell")

# %%
check("gru_cell")

# %% [markdown]
# ## Part 5. Sequence classification (序列到类别)
#
# `masked_last` is the slides' normal mode `ŷ = g(h_T)` and `masked_mean` the time-averaged
# mode, both over the *real* steps. Padding can come after the sequence or before it
# (`keras.utils.pad_sequences` pads *before* by default): the last real step is not always at
# index `length − 1`, nor at `−1`. Each row of `h` below holds its step number, so the
# readouts are easy to read: the last real step of both rows is step 3, the mean 2.0.

# %%
steps = np.tile(np.arange(1.0, 6.0)[None, :, None], (2, 1, 1))  # h[:, t] = t + 1
masks = {"after": np.array([[1, 1, 1, 0, 0]] * 2), "before": np.array([[0, 0, 1, 1, 1]] * 2)}
h_pad = {"after": steps, "before": np.concatenate([np.zeros((2, 2, 1)), steps[:, :3]], axis=1)}

with part("Part 5"):
    for where, mask in masks.items():
        last = np.asarray(rnn.masked_last(h_pad[where], mask)).ravel()
        mean = np.asarray(rnn.masked_mean(h_pad[where], mask)).ravel()
        print(f"padding {where:6}: masked_last {last}, masked_mean {mean}")

# %%
check("masked_readout")

# %% [markdown]
# ## Part 6. Long-range dependencies: the adding problem (长程依赖问题)
#
# The target is the sum of two marked values, one in each half of T = 50 steps; always
# answering 1.0 gives MSE 1/6 ≈ 0.167. At T = 50 a `SimpleRNN` trained the same way stays at
# the baseline: the gradient from the final loss back to a marker 25–50 steps earlier vanishes
# through tanh and U (part 3), while the GRU's update gate `h_t = z_t ⊙ h_{t−1} + …` passes it
# on nearly unchanged. The cell trains both with the graded recipe (4,000 sequences, 5 epochs,
# Adam 0.01 with `clipnorm=1`; about ten seconds) and shows, for each trained model, the
# validation MSE and how strongly its output reacts to the input at steps 1, 25 and 50.

# %%
from grader.data import adding_problem

recipe = LAB.meta["shared"]["adding"]
x_add, y_add = adding_problem(4000, 50, seed=0)
x_add_val, y_add_val = adding_problem(1000, 50, seed=1)

with part("Part 6"):
    for cell in ("simple", "gru"):
        keras.utils.set_random_seed(0)
        model = rnn.build_adding_model(cell, recipe["units"])
        model.compile(optimizer=keras.optimizers.Adam(recipe["learning_rate"], clipnorm=recipe["clipnorm"]), loss="mse")
        model.fit(x_add, y_add, batch_size=recipe["batch_size"], epochs=recipe["epochs"], verbose=0)
        mse = model.evaluate(x_add_val, y_add_val, verbose=0)
        inputs = tf.constant(x_add_val[:64])
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            output = tf.reduce_sum(model(inputs))
        reach = np.linalg.norm(tape.gradient(output, inputs).numpy(), axis=(0, 2))
        print(f"{cell:6}: validation MSE {mse:.4f}; ‖∂ŷ/∂x_t‖ at t = 1, 25, 50: "
              f"{reach[0]:.1e}, {reach[24]:.1e}, {reach[49]:.1e}")

# %%
check("adding_problem")

# %% [markdown]
# ## Part 7. A language model that writes poems (作诗)
#
# Sampling first: `sampling_distribution(logits, temperature, top_k)` is
# `softmax(logits / temperature)` restricted to the `top_k` largest logits, computed stably
# (subtract the largest scaled logit before `np.exp`: the check also moves the logits by
# ±1000). Low temperature → sharper, high → flatter; `top_k=1` is greedy decoding.

# %%
logits = np.array([2.0, 1.0, 0.5, 0.0, -1.0])


def draws(seed, n=8, **options):
    """``n`` tokens drawn one after the other with your ``sample_next`` from one generator."""
    generator = np.random.default_rng(seed)
    return [rnn.sample_next(logits, generator, **options) for _ in range(n)]


with part("Part 7, sampling"):
    for temperature, top_k in [(1.0, None), (0.5, None), (2.0, None), (1.0, 2)]:
        p = rnn.sampling_distribution(logits, temperature, top_k)
        print(f"temperature {temperature}, top_k {top_k}: p = {np.round(p, 3)}")
    print("shifted by +1000:", np.round(rnn.sampling_distribution(logits + 1000.0), 3))
    print("eight draws, seed 1:", draws(1), "; again:", draws(1), "; greedy (top_k=1):", draws(2, top_k=1))

# %%
check("sampling")

# %% [markdown]
# The model: `build_char_lm` maps token ids (B, t) to next-token **logits** (B, t, V) with a
# unidirectional RNN (`Embedding` → `GRU(return_sequences=True)` → `Dense(V)`, no softmax, no
# `Bidirectional`): `P(x_1, …, x_T) = Π_i P(x_i | x_1, …, x_{i−1})`. The cell trains it for one
# epoch on 4,000 quatrains (a few seconds) and lets it write a 五言绝句 with `write_quatrain`.
# The graded run trains `LM_CONFIG` for up to 3 epochs and needs a held-out perplexity ≤ 130
# on 160 quatrains of held-out poems (≤ 8 on the synthetic stand-in corpus, used when the poems are not installed).

# %%
from grader.data import encode_poems, poem_corpus, poem_vocabulary

corpus, poems_train, poems_test = poem_corpus()
vocab = poem_vocabulary(poems_train, 1000)
ids_train = encode_poems(poems_train[:4000], vocab)
ids_test = encode_poems(poems_test[:160], vocab)
print(f"{corpus} corpus: {len(poems_train)} training quatrains, e.g. {poems_train[0]}")

with part("Part 7, language model"):
    keras.utils.set_random_seed(0)
    lm = rnn.build_char_lm(len(vocab))
    lm.compile(optimizer=keras.optimizers.Adam(rnn.LM_CONFIG["learning_rate"]),
               loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    lm.fit(ids_train[:, :-1], ids_train[:, 1:], batch_size=64, epochs=1, verbose=0)
    held_out = lm.evaluate(ids_test[:, :-1], ids_test[:, 1:], verbose=0)
    print(f"held-out perplexity after one epoch: {np.exp(held_out):.0f}")
    first = "春" if "春" in vocab else next(t for t in vocab[3:] if t not in "，。")
    print(rnn.write_quatrain(rnn.lm_next_logits(lm), vocab, first, np.random.default_rng(0), temperature=0.8, top_k=10))

# %%
check("char_lm")

# %% [markdown]
# ## All public checks
#
# Run them all before you submit `rnn.py` (the two training checks take most of a minute).

# %%
check()
