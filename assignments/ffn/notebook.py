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
# # Feed-forward networks and backpropagation (前馈神经网络与反向传播)
#
# This notebook walks through the lab part by part. **Your code goes in `ffn.py`**, not here:
# edit it in any editor, then come back and run the cells of the part you finished. Each part
# ends with `check(...)`, which runs that part's *public* checks on your `ffn.py` (the same
# checks as `pytest` and `grader check ffn`). The handout (`README.md`,
# 中文：`README.zh.md`) explains every part and the conventions; read it first.
#
# The graders also run hidden checks on other inputs, parameters and dtypes, so a green public
# check is necessary, not sufficient.
#
# *Run All* works at any stage: a part whose code is not written yet (or raises) prints one
# line, `with part(...)` lets the notebook go on, and the part's check says what is missing.

# %%
# Before TensorFlow is imported: hide its C++ start-up notices (your Python errors still show).
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

# Re-import ffn.py whenever you save it, so the cells below always use your latest code.
# %load_ext autoreload
# %autoreload 2

import numpy as np
import tensorflow as tf
import keras

import ffn
from grader.notebook import Walkthrough

# check("name") runs public checks on your ffn.py; a part's cell under part("Part N") lets Run All go on past
# a part not written yet (it prints one line; the check below says what is missing).
walk = Walkthrough("ffn")
check, part = walk.check, walk.part
LAB = walk.lab

rng = np.random.default_rng(0)

# %% [markdown]
# ## Part 1. Activations and their derivatives (激活函数及其导数)
#
# Keras has every activation of the slides, so it is a good way to test yours by hand (your
# functions must not call it). The derivatives can be tested against `tf.GradientTape` in float64;
# at x = 0 TensorFlow takes the left slope. Far out (x = ±1000) your functions must stay finite.

# %%
x = np.linspace(-8.0, 8.0, 161)
keras_versions = {"sigmoid": keras.activations.sigmoid, "softplus": keras.activations.softplus,
                  "swish": keras.activations.silu, "gelu": lambda v: keras.activations.gelu(v, approximate=False),
                  "gelu_tanh": lambda v: keras.activations.gelu(v, approximate=True)}
with part("Part 1"):
    for name, theirs in keras_versions.items():
        tx = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tx)
            y = theirs(tx)
        grad = tape.gradient(y, tx).numpy()
        mine, d_mine = getattr(ffn, name)(x), getattr(ffn, f"d_{name}")(x)
        print(f"{name:10s} max |f − Keras| = {np.abs(mine - y.numpy()).max():.1e}, "
              f"max |f' − tape| = {np.abs(d_mine - grad).max():.1e}")
    print("softplus(1000), sigmoid(−1000):", ffn.softplus(np.array([1000.0])), ffn.sigmoid(np.array([-1000.0])))
    print("max |gelu_sigmoid − gelu| on [−8, 8]:", np.abs(ffn.gelu_sigmoid(x) - ffn.gelu(x)).max())
    print("max |gelu_tanh − gelu| on [−8, 8]:", np.abs(ffn.gelu_tanh(x) - ffn.gelu(x)).max())

# %%
check("activations")

# %%
check("activation_derivatives")

# %% [markdown]
# ## Part 2. Maxout (Maxout 单元)
#
# With k = 2 pieces and the right weights a maxout unit is a ReLU or a leaky ReLU.

# %%
with part("Part 2"):
    layer = ffn.Maxout(3, 2, dtype="float64")
    layer.build((None, 3))
    print("weights:", [tuple(w.shape) for w in layer.weights])
    layer.set_weights(list(ffn.maxout_leaky_relu_weights(3, 0.25)))
    xs = rng.normal(size=(4, 3))
    print("Maxout(3, 2) − leaky_relu(x, 0.25):", np.abs(np.asarray(layer(xs)) - np.where(xs > 0, xs, 0.25 * xs)).max())

# %%
check("maxout_layer")

# %%
check("maxout_as_relu")

# %% [markdown]
# ## Part 3. Stable losses from logits (交叉熵损失)
#
# Compare with Keras's losses (float64), and try logits of ±1000, where the naive formulas give inf or NaN.

# %%
with part("Part 3"):
    keras.config.set_floatx("float64")
    z, y = rng.normal(0.0, 3.0, size=(5, 4)), np.eye(4)[rng.integers(4, size=5)]
    theirs = keras.losses.CategoricalCrossentropy(from_logits=True)(y, z)
    print("softmax_cross_entropy − Keras:", ffn.softmax_cross_entropy(z, y) - float(theirs))
    zb, yb = rng.normal(0.0, 3.0, size=(6, 1)), rng.integers(2, size=(6, 1)).astype(float)
    theirs = keras.losses.BinaryCrossentropy(from_logits=True)(yb, zb)
    print("sigmoid_binary_cross_entropy − Keras:", ffn.sigmoid_binary_cross_entropy(zb, yb) - float(theirs))
    print("at ±1000:", ffn.softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([[0.0, 1.0]])),
          ffn.sigmoid_binary_cross_entropy(np.array([1000.0, -1000.0]), np.array([0.0, 1.0])))
    keras.config.set_floatx("float32")

# %%
check("losses")

# %%
check("loss_gradients")

# %% [markdown]
# ## Part 4. Backpropagation by hand (后向传播算法)
#
# Your `mlp_backward` against `tf.GradientTape` on the same network, in float64.

# %%
with part("Part 4"):
    sizes = (5, 7, 3)
    params = [(rng.normal(size=(a, b)) / np.sqrt(a), rng.normal(size=b)) for a, b in zip(sizes, sizes[1:])]
    xb, dout = rng.normal(size=(8, 5)), rng.normal(size=(8, 3))
    out, cache = ffn.mlp_forward(xb, params, activation="tanh")
    grads = ffn.mlp_backward(dout, cache)
    variables = [tf.Variable(p) for pair in params for p in pair]
    with tf.GradientTape() as tape:
        a = tf.tanh(xb @ variables[0] + variables[1])
        loss = tf.reduce_sum((a @ variables[2] + variables[3]) * dout)
    for mine, theirs in zip([g for pair in grads for g in pair], tape.gradient(loss, variables)):
        print(f"shape {np.shape(mine)}: max |mine − tape| = {np.abs(np.asarray(mine) - theirs.numpy()).max():.1e}")

# %%
check("mlp_backprop")

# %% [markdown]
# ## Part 5. The slides' computation graph (计算图与自动微分)

# %%
with part("Part 5"):
    xg, labels = rng.normal(size=(6, 4)), rng.integers(3, size=6)
    w1, w2 = rng.normal(size=(4, 5)), rng.normal(size=(5, 3))
    j, dw1, dw2 = ffn.two_layer_relu_grads(xg, labels, w1, w2, 0.1)
    t1, t2 = tf.Variable(w1), tf.Variable(w2)
    with tf.GradientTape() as tape:
        logits = tf.nn.relu(xg @ t1) @ t2
        cost = (tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
                + 0.1 * (tf.reduce_sum(t1 ** 2) + tf.reduce_sum(t2 ** 2)))
    g1, g2 = tape.gradient(cost, [t1, t2])
    print("J − tape's J:", j - float(cost))
    print("max |dW1 − tape|:", np.abs(dw1 - g1.numpy()).max(), " max |dW2 − tape|:", np.abs(dw2 - g2.numpy()).max())

# %%
check("graph_example")

# %% [markdown]
# ## Part 6. A custom gradient and a gradient checker (自动微分, 数值微分)

# %%
with part("Part 6, dense_relu"):
    tx, tw, tb = (tf.constant(rng.normal(size=s)) for s in ((6, 4), (4, 3), (3,)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([tx, tw, tb])
        mine = tf.reduce_sum(ffn.dense_relu(tx, tw, tb))
        plain = tf.reduce_sum(tf.nn.relu(tx @ tw + tb))
    for name, a, c in zip(("dx", "dW", "db"), tape.gradient(mine, [tx, tw, tb]), tape.gradient(plain, [tx, tw, tb])):
        print(f"{name}: max |custom − autodiff| = {np.abs(a.numpy() - c.numpy()).max():.1e}")

with part("Part 6, numeric_gradient"):
    xc = rng.normal(size=(3, 4))
    print("numeric vs 3x²:", np.abs(ffn.numeric_gradient(lambda v: np.sum(v ** 3), xc) - 3 * xc ** 2).max())

# %%
check("custom_gradient")

# %%
check("numeric_gradient")

# %% [markdown]
# ## Part 7. Probabilistic output heads (输出层: 高斯负对数似然, 混合密度网络)
#
# A mixture of one component is a Gaussian: `mdn_nll` with K = 1 equals `gaussian_nll` with
# `log_var = 2·log_sigma`. Then train the MDN on the bimodal toy set and look at the mixture at one x.

# %%
with part("Part 7, the losses"):
    y1, mu1, ls1 = rng.normal(size=5), rng.normal(size=(5, 1)), rng.normal(size=(5, 1))
    print("mdn_nll(K=1) − gaussian_nll:",
          np.abs(np.asarray(ffn.mdn_nll(y1, np.zeros((5, 1)), mu1, ls1)) - np.asarray(ffn.gaussian_nll(y1, mu1[:, 0], 2 * ls1[:, 0]))).max())
    print("a target 60 away from every component:",
          np.asarray(ffn.mdn_nll(np.array([60.0]), np.zeros((1, 2)), np.zeros((1, 2)), np.full((1, 2), -1.0))))

# %%
check("gaussian_nll")

# %%
check("mdn_nll")

# %%
with part("Part 7, sampling"):
    draws = ffn.mdn_sample(np.log([[0.25, 0.75]] * 4000), np.array([[-3.0, 3.0]] * 4000), np.full((4000, 2), -2.0),
                           np.random.default_rng(0))
    print("share of samples near −3 (0.25 expected):", np.mean(np.asarray(draws) < 0))

# %%
check("mdn_sampler")

# %%
check("mdn_structure")

# %%
with part("Part 7, training"):
    setup = LAB.settings("mdn_training")
    xm, ym = ffn.bimodal_data(setup["train_size"], seed=setup["data_seed"], noise=setup["noise"])
    mdn = ffn.train_mdn(xm, ym, setup["k"], tuple(setup["hidden_units"]), setup["epochs"], setup["batch_size"],
                        setup["learning_rate"], seed=0)
    pi_logits, means, log_sigmas = (np.asarray(t) for t in ffn.split_mdn_output(np.asarray(mdn(np.array([[0.81]]))), setup["k"]))
    weights = np.exp(pi_logits - pi_logits.max()) / np.exp(pi_logits - pi_logits.max()).sum()
    print("at x = 0.81 (branches at ±0.9): weights", weights.round(2), "means", means.round(2), "σ", np.exp(log_sigmas).round(3))

# %%
check("mdn_training")

# %%
check("mdn_train_arguments")

# %% [markdown]
# ## Part 8. The slides' 编程作业: y = sin x + cos x + sin x·cos x, and the study
#
# The cell below runs a slice of the study's grid (depth 2, width 32, tanh, the three learning
# rates: three runs, about 10 s) and plots it. The whole grid is 81 configurations (`lab.toml`'s
# `[study]`; 2-4 minutes on two cores):
#
# ```python
# rows = run_study(ffn, "ffn")          # writes study.csv, one row per configuration
# ```
#
# **Hand in**, next to `ffn.py`: `study.csv` (the whole grid, as `run_study` writes it), your plots
# (`.png`) and `report.md`, the write-up. The graders re-run two rows of your `study.csv`, drawn at
# random, with your `ffn.py` and the row's seed; a row your code does not reproduce earns nothing, so
# seed everything from `seed` and hand in the table your final code made. The handout's section
# *The study* lists what the write-up is graded on.

# %%
from grader.study import plot, run_study

with part("Part 8"):
    print("target at 0, π/2, π:", ffn.target_function(np.array([0.0, np.pi / 2, np.pi])))
    rows = run_study(ffn, "ffn", path="study_slice.csv", only={"depth": [2], "width": [32], "activation": ["tanh"]})
    if rows:
        print("plot:", plot(rows, "ffn", x="learning_rate", y="log10_val_mse", hue="activation",
                            path="learning_rate.png", title="sin x + cos x + sin x·cos x: validation MSE"))

# %%
check("target_function")

# %%
check("regressor_structure")

# %%
check("regressor_training")

# %%
check("run_config_seeded")
