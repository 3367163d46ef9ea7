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
# # Optimisation and initialisation (神经网络的参数优化)
#
# This notebook walks through the lab part by part. **Your code goes in `optim.py`**, not here:
# edit it in any editor, then come back and run the cells of the part you finished. Each part
# ends with `check(...)`, which runs that part's *public* checks on your `optim.py` (the same
# checks as `pytest` and `grader check optim`). The handout (`README.md`,
# 中文：`README.zh.md`) explains every part, the conventions, and where the slides and Keras
# differ; read it first.
#
# The graders also run hidden checks on other sizes, hyperparameters and shapes, so a green
# public check is necessary, not sufficient.
#
# *Run All* works at any stage: a part whose code is not written yet (or raises) prints one
# line, `with part(...)` lets the notebook go on, and the part's check says what is missing.

# %%
# Before TensorFlow is imported: hide its C++ start-up notices (your Python errors still show).
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

# Re-import optim.py whenever you save it, so the cells below always use your latest code.
# %load_ext autoreload
# %autoreload 2

import numpy as np
import keras

import optim
from grader.notebook import Walkthrough

walk = Walkthrough("optim")
check, part = walk.check, walk.part

rng = np.random.default_rng(0)

# %% [markdown]
# ## Part 1. Update rules as pure functions (优化算法)
#
# Run every rule on the slides' ill-conditioned bowl `½(x² + 100y²)` and print the loss after 200
# steps. Keras's `SGD(momentum=λ)` is the slides' momentum step for step; compare.

# %%
def bowl_grad(theta):
    return np.array([theta[0], 100.0 * theta[1]])


def bowl(theta):
    return 0.5 * (theta[0] ** 2 + 100.0 * theta[1] ** 2)


with part("Part 1"):
    theta, v = np.array([1.0, 1.0]), np.zeros(2)
    for _ in range(200):
        theta, v = optim.momentum_step(theta, v, bowl_grad(theta), 0.01, momentum=0.8)
    print("momentum after 200 steps: loss", bowl(theta))
    variable = keras.Variable(np.array([1.0, 1.0]), dtype="float64")
    sgd = keras.optimizers.SGD(learning_rate=0.01, momentum=0.8)
    for _ in range(200):
        sgd.apply_gradients([(keras.ops.convert_to_tensor(bowl_grad(np.asarray(variable.numpy()))), variable)])
    print("Keras SGD(momentum=0.8):  loss", bowl(np.asarray(variable.numpy())))
    theta, s, r, t = np.array([1.0, 1.0]), np.zeros(2), np.zeros(2), 0
    for _ in range(200):
        theta, s, r, t = optim.adam_step(theta, s, r, t, bowl_grad(theta), 0.05)
    print("Adam after 200 steps:     loss", bowl(theta), " t =", t)

# %%
check("momentum_rules")

# %%
check("adaptive_rules")

# %%
check("adam_rule")

# %%
check("look_ahead_rules")

# %% [markdown]
# ## Part 2. Adam as a Keras optimiser
#
# Your `SlideAdam` on a variable, next to Part 1's `adam_step` with the same gradients.

# %%
with part("Part 2"):
    grads = rng.normal(size=(5, 3))
    variable = keras.Variable(np.zeros(3), dtype="float64")
    optimizer = optim.SlideAdam(learning_rate=0.125, delta=0.1)
    theta, s, r, t = np.zeros(3), np.zeros(3), np.zeros(3), 0
    for g in grads:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g), variable)])
        theta, s, r, t = optim.adam_step(theta, s, r, t, g, 0.125, delta=0.1)
    print("SlideAdam − adam_step after 5 steps:", np.abs(np.asarray(variable.numpy()) - theta).max())

# %%
check("slide_adam_fit")

# %% [markdown]
# ## Part 3. Learning-rate schedules (学习率衰减, 学习率预热)

# %%
with part("Part 3"):
    warm = optim.LinearWarmup(0.1, 5, optim.CosineSchedule(0.1, 20))
    print("warm-up then cosine:", np.round([float(warm(t)) for t in range(27)], 4))
    again = optim.LinearWarmup.from_config(warm.get_config())
    print("after from_config(get_config()):", float(again(7)) == float(warm(7)))

# %%
check("decay_schedules")

# %%
check("warmup_schedule")

# %%
check("schedule_config")

# %% [markdown]
# ## Part 4. Initialisers (参数初始化)
#
# The variance of a large draw should be the one asked for: 1/fan_in for Xavier, 2/fan_in for He.

# %%
with part("Part 4"):
    shape = (300, 60)
    fan_in, fan_out = optim.fan_in_and_out(shape)
    for init, want in ((optim.XavierNormal(seed=1), 1 / fan_in), (optim.HeNormal(seed=1), 2 / fan_in),
                       (optim.XavierUniform(seed=1), 1 / fan_in)):
        w = np.asarray(init(shape))
        print(f"{type(init).__name__:14s} var {w.var():.5f}, asked for {want:.5f}, max |w| {np.abs(w).max():.3f}")

# %%
check("fans")

# %%
check("normal_initializers")

# %%
check("uniform_initializers")

# %% [markdown]
# ## Part 5. The slides' experiment (10 layers of 500 units)

# %%
with part("Part 5"):
    for init in optim.INIT_NAMES:
        for act in ("tanh", "relu"):
            stats = optim.activation_stats(init, act, n=200)
            print(f"{init:6s} {act:4s} std per layer:", np.array2string(stats["std"], precision=3, max_line_width=200))

# %%
check("activation_statistics")

# %% [markdown]
# ## Part 6. The symmetry problem (对称权重问题) and softmax(b) = c

# %%
with part("Part 6"):
    x = rng.normal(size=(64, 4))
    y = (x @ rng.normal(size=(4, 3))).argmax(1)
    model = optim.symmetric_mlp("constant", 4, 6, 3)
    losses = optim.train_steps(model, x, y, 20, 0.5)
    print("constant init: loss", round(losses[0], 3), "→", round(losses[-1], 3))
    print("hidden kernel after training (every column the same):\n", np.round(model.get_weights()[0], 3))
    c = np.array([0.7, 0.2, 0.1])
    b = optim.prior_bias(c)
    print("softmax(prior_bias(c)):", np.exp(b) / np.exp(b).sum())

# %%
check("symmetry_problem")

# %%
check("prior_bias")

# %% [markdown]
# ## Part 7. The optimiser race

# %%
with part("Part 7"):
    def saddle_grad(theta):
        return np.array([2 * theta[0], -2 * theta[1]])
    for rule, hyper in (("sgd", {"lr": 0.01}), ("momentum", {"lr": 0.01, "momentum": 0.9})):
        path = optim.run_rule(rule, saddle_grad, [1.0, 1e-8], 1500, **hyper)
        print(f"{rule:8s} leaves the saddle at step", optim.steps_to_escape(path))
    path = optim.run_rule("adagrad", bowl_grad, [1.0, 1.0], 200, lr=0.5)
    print("AdaGrad's progress per coordinate on the bowl:", optim.coordinate_progress(path))

# %%
check("optimizer_race")

# %% [markdown]
# ## Part 8. Your optimiser trains a network
#
# The grader trains its own network on the digits with your `SlideAdam` (about a second).

# %%
check("digits_training")
