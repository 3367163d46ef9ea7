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
# # Regularisation (网络优化与正则化)
#
# This notebook walks through the lab part by part. **Your code goes in `regularization.py`**, not
# here: edit it in any editor, then come back and run the cells of the part you finished. Each
# part ends with `check(...)`, which runs that part's *public* checks on your `regularization.py`
# (the same checks as `pytest` and `grader check regularization`). The handout (`README.md`,
# 中文：`README.zh.md`) explains every part, the conventions, and where the slides and Keras
# differ; read it first.
#
# The graders also run hidden checks on other shapes, ranks, rates and class counts, so a green
# public check is necessary, not sufficient.
#
# *Run All* works at any stage: a part whose code is not written yet (or raises) prints one
# line, `with part(...)` lets the notebook go on, and the part's check says what is missing.

# %%
# Before TensorFlow is imported: hide its C++ start-up notices (your Python errors still show).
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

# Re-import regularization.py whenever you save it, so the cells below always use your latest code.
# %load_ext autoreload
# %autoreload 2

import numpy as np
import keras

import regularization
from grader.notebook import Walkthrough

walk = Walkthrough("regularization")
check, part = walk.check, walk.part

rng = np.random.default_rng(0)

# %% [markdown]
# ## Part 1. Data normalisation fitted on the training set (数据归一化)
#
# The slides' two features on scales 1, 2, … and 100, 200, …: after standardisation every
# feature of the training set has mean 0 and variance 1 (「归一化后数据的所有维度均为0均值 1方差」);
# the test set, transformed with the training set's statistics, only approximately.

# %%
with part("Part 1"):
    x_train = np.stack([rng.normal(1.5, 0.5, 300), rng.normal(150.0, 50.0, 300)], axis=1)
    x_test = np.stack([rng.normal(1.5, 0.5, 100), rng.normal(150.0, 50.0, 100)], axis=1)
    train, test = regularization.preprocess(x_train, x_test, "standardize")
    print("train mean", train.mean(axis=0).round(6), "std", train.std(axis=0).round(6))
    print("test  mean", test.mean(axis=0).round(3), "std", test.std(axis=0).round(3))
    layer = keras.layers.Normalization()
    layer.adapt(x_train.astype("float32"))
    print("largest difference from keras.layers.Normalization:",
          float(np.max(np.abs(np.asarray(layer(x_test.astype("float32"))) - test))))
    train, test = regularization.preprocess(x_train, x_test, "minmax")
    print("min-max: train in", train.min(), "…", train.max(), "; test in", test.min().round(3), "…", test.max().round(3))

# %%
check("scaling_statistics")

# %%
check("no_test_leak")

# %% [markdown]
# ## Part 2. Batch, layer, instance and group normalisation (逐层归一化)
#
# In training your `BatchNorm` normalises each feature with the batch's statistics; in inference
# it uses the moving averages, so one sample alone gives the same output as inside its batch.

# %%
with part("Part 2"):
    bn = regularization.BatchNorm(momentum=0.9)
    batch = rng.normal(3.0, 2.0, size=(64, 4)).astype("float32")
    for _ in range(30):
        y = bn(batch, training=True)
    print("training output: mean", np.asarray(y).mean(axis=0).round(4), "std", np.asarray(y).std(axis=0).round(4))
    moving_mean, moving_variance = bn.get_weights()[2:]
    print("moving mean", moving_mean.round(3), "moving variance", moving_variance.round(3))
    print("sample 0 alone vs in its batch:", np.abs(np.asarray(bn(batch[:1])) - np.asarray(bn(batch))[:1]).max())

# %%
check("batch_norm_layer")

# %%
check("batch_norm_backward")

# %%
with part("Part 2"):
    images = rng.normal(size=(2, 4, 4, 6)).astype("float32")
    for groups, name in ((1, "layer"), (3, "group"), (6, "instance")):
        out = np.asarray(regularization.GroupNorm(groups)(images))
        print(f"{name:8s} normalisation ({groups} groups): mean of sample 0 {out[0].mean():+.4f}, std {out[0].std():.4f}")

# %%
check("group_norm_layer")

# %% [markdown]
# ## Part 3. Dropout and DropConnect
#
# Inverted dropout keeps the expectation when training; the slides' form keeps it at test time
# by the weight-scaling rule (权重比例推断规则). Both give the slides' ½(w1·x + w2·y) in the
# two-input example at rate 0.5.

# %%
with part("Part 3"):
    ones = np.ones(100_000, dtype="float32")
    for fn in (regularization.dropout, regularization.dropout_weight_scaling):
        out = np.asarray(fn(ones, 0.5, True, seed=1))
        print(f"{fn.__name__}: share dropped {np.mean(out == 0):.4f}, training mean {out.mean():.4f}, "
              f"test mean {np.asarray(fn(ones, 0.5, False)).mean():.4f}")
    print("E[a] =", regularization.expected_output_two_inputs(1.0, 2.0, 3.0, 4.0), "(½(w1·x + w2·y) = 5.5)")

# %%
check("dropout_masks")

# %%
check("dropout_statistics")

# %%
check("two_input_expectation")

# %% [markdown]
# ## Part 4. Label smoothing (数据集增强—标签平滑)

# %%
with part("Part 4"):
    y = np.eye(4)[[0, 2]]
    print(regularization.smooth_labels(y, 0.3))
    s = regularization.keras_label_smoothing(0.3, 4)
    logits = rng.normal(size=(2, 4))
    keras_loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=s)(y, logits)
    print("slides' loss", regularization.smoothed_cross_entropy(logits, y, 0.3), "Keras's with s =", s, float(keras_loss))

# %%
check("label_smoothing")

# %% [markdown]
# ## Part 5. L1 and L2 penalties, weight decay (正则化)
#
# For SGD the weight-decay step is the SGD step on the L2-penalised loss; for Adam, decoupled
# decay shrinks every weight by the same ηλθ while Adam + L2 divides the decay by √r̂.

# %%
with part("Part 5"):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    print("½λ‖W‖² =", float(regularization.l2_penalty(model, 0.1)), " λ‖W‖₁ =", float(regularization.l1_penalty(model, 0.1)))
    theta, g = np.array([1.0, -2.0, 0.5]), np.array([0.1, 0.1, 100.0])
    zero = np.zeros(3)
    for name in ("adamw_step", "adam_l2_step"):
        step = getattr(regularization, name)
        decay = step(theta, zero, zero, 0, g, 0.1, 0.5)[0] - step(theta, zero, zero, 0, g, 0.1, 0.0)[0]
        print(f"{name}: the decay's share of one step {decay.round(4)} (−ηλθ = {(-0.05 * theta).round(4)})")

# %%
check("penalties")

# %%
check("weight_decay_step")

# %%
check("decoupled_decay")

# %% [markdown]
# ## Part 6. Early stopping (提前终止也是一种正则化)

# %%
with part("Part 6"):
    x = rng.normal(size=(40, 30)).astype("float32")
    y = (x[:, :1] + 0.5 * rng.normal(size=(40, 1))).astype("float32")
    model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    stop = regularization.BestWeightsEarlyStopping(patience=5)
    history = model.fit(x[:20], y[:20], validation_data=(x[20:], y[20:]), epochs=200, verbose=0, callbacks=[stop])
    print(f"ran {len(history.history['loss'])} epochs; best epoch {stop.best_epoch}, stopped at {stop.stopped_epoch}")
    h = np.diag([1e-3, 5e-3, 1e-2])
    w_star = np.ones(3)
    for tau in (5, 20, 80):
        alpha = regularization.equivalent_alpha(0.5, tau)
        print(tau, regularization.gd_path_solution(h, w_star, 0.5, tau).round(4),
              regularization.l2_solution(h, w_star, alpha).round(4))

# %%
check("early_stopping_callback")

# %%
check("early_stopping_is_l2")

# %% [markdown]
# ## Part 7. Data augmentation (数据增强)

# %%
with part("Part 7"):
    image = rng.uniform(size=(10, 14, 3))
    crops = regularization.ten_crop(image, 8)
    print("ten crops:", crops.shape, "; the 6th is the flip of the 1st's mirror corner:",
          bool(np.array_equal(crops[5], regularization.flip_lr(image)[:8, :8])))
    crop, length, top, left = regularization.random_resized_crop(image, (12, 18), 8, rng)
    print("random resized crop: L =", length, "corner", (top, left), "shape", crop.shape)
    jittered, factor = regularization.color_jitter(image, rng)
    print(f"brightness × {factor:.3f}; noise std {regularization.add_gaussian_noise(np.zeros(10_000), 0.1, rng).std():.4f}")
    classifier = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    print("test-time augmentation:", regularization.tta_predict(classifier, image, 8).round(3))

# %%
check("augmentation_exact")

# %%
check("augmentation_draws")

# %% [markdown]
# ## Part 8. Regularisation where it matters
#
# 300 digits, 30 % of their labels wrong, and a network of two hidden layers of 512 units: unregularised it
# learns every wrong label by heart. Regularise it (dropout, L2, label smoothing, early stopping, noise) so
# that it generalises. The check trains your `train_regularized` and measures the accuracy on the other
# digits itself; here you can compare with the plain network on a split of your own.

# %%
with part("Part 8"):
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = rng.permutation(len(digits.target))
    x_all, y_all = (digits.data[order] / 16).astype("float32"), digits.target[order]
    x, y, x_test, y_test = x_all[:300], y_all[:300].copy(), x_all[300:], y_all[300:]
    wrong = rng.random(300) < 0.3
    y[wrong] = (y[wrong] + rng.integers(1, 10, wrong.sum())) % 10
    model = regularization.train_regularized(x, y, 60, 64, 1e-3, seed=0)
    accuracy = np.mean(np.asarray(model(x_test)).argmax(axis=1) == y_test)
    print(f"held-out accuracy {accuracy:.3f}; fits {np.mean(np.asarray(model(x)).argmax(axis=1) == y):.3f} "
          "of its (partly wrong) training labels")

# %%
check("regularized_training")
