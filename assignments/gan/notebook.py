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
# # Lab — Generative adversarial networks (生成对抗网络)
#
# This notebook walks through the lab part by part. **Your code goes in `gan.py`**, not here:
# edit it in any editor, then come back and run the cells of the part you finished. Each part
# ends with `check(...)`, which runs that part's *public* checks on your `gan.py` (the same
# checks as `pytest` and `grader check gan`). The handout (`README.md`, 中文：`README.zh.md`)
# explains every part and the conventions; read it first.
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

# Re-import gan.py whenever you save it, so the cells below always use your latest code.
# %load_ext autoreload
# %autoreload 2

import numpy as np
import tensorflow as tf
import keras

import gan
from grader.device import configure
from grader.notebook import Walkthrough

# The checks' TensorFlow settings (threads, deterministic ops), set before TensorFlow starts,
# because some of them cannot change once a cell below has run TensorFlow.
configure()
# check("name") runs public checks on your gan.py; a part's cell under part("Part N") lets Run All go on past
# a part not written yet (it prints one line; the check below says what is missing).
walk = Walkthrough("gan")
check, part = walk.check, walk.part
LAB = walk.lab
#: The checks' own helpers (the ring of Gaussians, its judge, the training loop), as the checks use them.
helpers = LAB.check_module("common")
RING = LAB.meta["shared"]["ring"]


rng = np.random.default_rng(0)
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## Part 1. GAN losses on logits (判别器与生成器的损失, Log D 技巧)
#
# **Discriminators return logits.** The slides write `D(x)` as a probability; here the network
# returns a logit `l` and `D(x) = σ(l)`. Write every log-probability with softplus:
# `log σ(l) = −softplus(−l)` and `log(1 − σ(l)) = −softplus(l)`. These stay finite at `l = ±1000`,
# while `log(sigmoid(l))` returns `−inf` there. **Losses are minimised**: the discriminator's loss
# is `−V`. At `D(G(z)) = σ(−6) ≈ 0.0025` the non-saturating gradient with respect to the logit
# (≈ −0.9975) is more than 100× the minimax one (≈ −0.0025): the slides' saturation claim.

# %%
real_logits, fake_logits = rng.normal(1, 1, size=8), rng.normal(-1, 1, size=8)
sig = lambda l: 1 / (1 + np.exp(-l))  # noqa: E731
minus_v = -np.mean(np.log(sig(real_logits))) - np.mean(np.log(1 - sig(fake_logits)))  # −V, the slides' formula
with part("Part 1"):
    print(f"discriminator_loss {float(gan.discriminator_loss(real_logits, fake_logits)):.6f}, −V by hand {minus_v:.6f}")
    extreme = np.array([-1000.0, 1000.0])
    print("at logits ±1000:", float(gan.discriminator_loss(extreme, extreme)), "(must be finite)")
    logit = tf.Variable([-6.0])
    for loss in (gan.generator_loss_minimax, gan.generator_loss_nonsaturating):
        with tf.GradientTape() as g_tape:
            value = loss(logit)
        print(f"{loss.__name__}: gradient at the logit −6 = {float(g_tape.gradient(value, logit)[0]):+.4f}")

# %%
check("gan_losses")

# %% [markdown]
# ## Part 2. Divergences on discrete distributions (散度)
#
# NumPy only, on 1-D arrays that sum to 1. `D* = p/(p + q)`, and `V(G, D*) = 2·JS − 2 log 2`
# with `0·log 0 = 0` (the lab's example below: P_data misses the last point). The slides'
# f-divergence table lists the "GAN divergence" with the rule `f(1) = 0`, but its
# `f(1) = −2 log 2`, so `D_f(p‖p) = −2 log 2`: that is why it equals `2·JS − 2 log 2`. Each
# conjugate equals the numerical supremum `sup_x x·t − f(x)`, and for `"gan"` the f-GAN objective
# is exactly `−discriminator_loss` (「GAN是f-GAN的特列」).

# %%
p, q = np.array([0.5, 0.3, 0.2, 0.0]), np.array([0.1, 0.2, 0.3, 0.4])
with part("Part 2, D*"):
    d_star = gan.optimal_discriminator(p, q)
    print("D* =", np.asarray(d_star))
    print(f"V(G, D*) = {gan.gan_value(p, q, d_star):.6f}, 2·JS − 2 log 2 = {2 * gan.js_divergence(p, q) - 2 * np.log(2):.6f}")
    perturbed = np.clip(d_star + 0.05 * rng.normal(size=4), 0.01, 0.99)
    print(f"a perturbed D scores lower: V = {gan.gan_value(p, q, perturbed):.6f}")

# %%
check("optimal_discriminator")

# %%
p_pos, q_pos = np.array([0.4, 0.3, 0.2, 0.1]), np.array([0.1, 0.2, 0.3, 0.4])
grid = np.linspace(1e-3, 50, 200_001)  # the x of sup_x x·t − f(x)
with part("Part 2, f-divergences"):
    print(f"D_gan(p‖q) = {gan.f_divergence(p_pos, q_pos, 'gan'):.6f}, "
          f"2·JS − 2 log 2 = {2 * gan.js_divergence(p_pos, q_pos) - 2 * np.log(2):.6f}")
    for name, t in (("kl", 0.5), ("rkl", -0.5), ("js", 0.3), ("gan", -0.5)):
        numerical = np.max(grid * t - gan.divergence_f(name, grid))
        print(f"{name:>3}: f*({t}) = {float(gan.conjugate(name, np.array(t))):.5f}, numerical supremum {numerical:.5f}")
    print("conjugate('rkl', 1.0) outside dom f*:", float(gan.conjugate("rkl", np.array(1.0))))
    v_real, v_fake = rng.normal(size=6), rng.normal(size=6)
    print(f"fgan_objective('gan') = {float(gan.fgan_objective(v_real, v_fake, 'gan')):.6f}, "
          f"−discriminator_loss = {-float(gan.discriminator_loss(v_real, v_fake)):.6f}")

# %%
check("f_divergences")

# %% [markdown]
# ## Part 3. A GAN as a `keras.Model` (生成对抗网络的算法)
#
# Each `train_step` makes K = `d_steps` discriminator updates (「重复K次」), then one generator
# update (「只做一次」), each network with its own optimiser and **only its own weights**. The
# first cell runs one step with K = 2 on small networks and shows which weights moved; the check
# replays the same updates in NumPy and compares. The second trains on the ring of 8 Gaussians the
# slides draw (「目标：8个mode」, radius 2, σ = 0.05) with the graded check's set-up (`lab.toml`,
# a few seconds) and counts the samples within 3σ of each mode. Noise comes from
# `keras.random.normal(..., seed=self.seed_generator)` (`sample_noise`), so training is reproducible.

# %%
x_ring, _ = helpers.shared_ring_data(RING)


def weights_of(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


with part("Part 3, one step"):
    keras.utils.set_random_seed(0)
    g, d = gan.build_mlp(2, 2, (8,), name="g"), gan.build_mlp(2, 1, (8,), name="d")
    model = gan.GAN(g, d, noise_dim=2)
    model.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1), d_steps=2)
    g_before, d_before = weights_of(g), weights_of(d)
    losses = model.train_step(tf.constant(x_ring[:64]))
    print("train_step returned", {k: round(float(v), 4) for k, v in losses.items()})
    for who, net, before in (("generator", g, g_before), ("discriminator", d, d_before)):
        moved = max(np.abs(a - b).max() for a, b in zip(weights_of(net), before))
        print(f"{who}: largest weight change {moved:.4f}")

# %%
check("gan_train_step")

# %%
setup = LAB.settings("gan_ring_training")
z_fixed = np.random.default_rng(1).normal(size=(setup["samples"], setup["noise_dim"])).astype("float32")
with part("Part 3, ring"):
    keras.utils.set_random_seed(0)
    hidden = tuple(setup["hidden_units"])
    g = gan.build_mlp(setup["noise_dim"], 2, hidden, name="generator")
    d = gan.build_mlp(2, 1, hidden, name="discriminator")
    model = gan.GAN(g, d, noise_dim=setup["noise_dim"])
    model.compile(d_optimizer=helpers.adam(setup), g_optimizer=helpers.adam(setup), d_steps=setup["d_steps"],
                  steps_per_execution=RING["steps_per_execution"])
    history = helpers.fit_for_steps(model, x_ring, setup["batch_size"], setup["steps"])
    figures = helpers.ring_figures(np.asarray(g(z_fixed, training=False)), RING)
    print(f"after {setup['steps']} steps: d_loss {history['d_loss'][-1]:.3f}, g_loss {history['g_loss'][-1]:.3f}")
    print(f"modes covered: {figures['modes']} of {RING['modes']}; within 3σ of a mode: {figures['high_quality']:.1%}; "
          f"samples per mode: {figures['counts'].tolist()}")

# %%
check("gan_ring_training")

# %% [markdown]
# ## Part 4. Earth mover's distance (推土机距离)
#
# NumPy only. `transport_cost` is the slides' `B(γ) = Σ γ(x_p, x_q)‖x_p − x_q‖`; in 1-D the
# north-west corner rule (`monotone_plan`) is optimal and `emd_1d` integrates `|CDF_p − CDF_q|`,
# so both give the same number. The slides' argument for WGAN: for disjoint supports JS stays
# `log 2` however far apart they are (「损失为常数，梯度为0」), while the EMD equals the distance.

# %%
support = np.array([0.0, 1.0, 2.0, 4.0])
p1, q1 = np.array([0.4, 0.3, 0.2, 0.1]), np.array([0.1, 0.1, 0.3, 0.5])
with part("Part 4"):
    plan = np.asarray(gan.monotone_plan(p1, q1))
    print("monotone plan (row sums p, column sums q):\n", plan)
    print(f"its cost {gan.transport_cost(plan, support, support):.4f}, emd_1d {gan.emd_1d(p1, q1, support):.4f}")
    for distance in (1.0, 2.0, 8.0):
        point_masses = np.array([1.0, 0.0]), np.array([0.0, 1.0])
        print(f"point masses {distance:g} apart: JS = {gan.js_divergence(*point_masses):.4f}, "
              f"EMD = {gan.emd_1d(*point_masses, np.array([0.0, distance])):.4f}")

# %%
check("earth_mover")

# %% [markdown]
# ## Part 5. WGAN
#
# The critic minimises `mean D(G(z)) − mean D(x)`, the generator `−mean D(G(z))`: scores, no
# sigmoid, no log. The slides' 「Gradient Clipping：强制所有的参数在[−k, k]之间」 is **weight**
# clipping: `WeightClip` is a `keras.constraints.Constraint` on every kernel *and* bias, which Keras
# applies after every optimiser step (k = 0.1 in the training check). `gradient_penalty` (WGAN-GP,
# an extension) is exactly `(‖w‖ − 1)²` for a linear critic `D(x) = w·x`.

# %%
scores_real, scores_fake = rng.normal(1, 1, size=8), rng.normal(-1, 1, size=8)
w_linear = np.array([[3.0], [4.0]])  # ‖w‖ = 5, so the penalty is (5 − 1)² = 16
with part("Part 5"):
    print(f"critic loss {float(gan.wgan_critic_loss(scores_real, scores_fake)):.4f} "
          f"(= {scores_fake.mean() - scores_real.mean():.4f}), generator loss {float(gan.wgan_generator_loss(scores_fake)):.4f}")
    print("WeightClip(0.1) on [-1, 0.05, 0.3]:", np.asarray(gan.WeightClip(0.1)(tf.constant([-1.0, 0.05, 0.3]))))
    critic = gan.build_mlp(2, 1, (8,), kernel_constraint=gan.WeightClip(0.1))
    optimizer = keras.optimizers.SGD(1.0)
    with tf.GradientTape() as critic_tape:
        loss = gan.wgan_critic_loss(critic(x_ring[:64]), critic(-x_ring[64:128]))
    optimizer.apply_gradients(zip(critic_tape.gradient(loss, critic.trainable_weights), critic.trainable_weights))
    print("largest |parameter| after one step with learning rate 1:", max(np.abs(w).max() for w in weights_of(critic)))
    real, fake = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    penalty = gan.gradient_penalty(lambda x: tf.matmul(x, w_linear), real, fake, rng.uniform(size=(4, 1)))
    print(f"gradient penalty of the linear critic: {float(penalty):.4f} (expected 16)")

# %%
check("wgan_losses_and_clip")

# %% [markdown]
# ## Part 6. Conditional GAN (条件生成对抗网络)
#
# The slides' design ①: one network scores the pair (c, x). The discriminator's loss covers
# the slides' three cases, with weight 1 each: (c, matching real x) → 1, (c, G(z, c)) → 0, and
# (c′ ≠ c, real x) → 0. `mismatched_labels` makes c′ by a shift in 1 … C − 1 per sample, so a
# mismatched pair never matches.

# %%
labels = rng.integers(0, 8, size=10)
shifts = rng.integers(1, 8, size=10)
logits3 = rng.normal(size=(3, 6))
by_hand = np.mean(np.log1p(np.exp(-logits3[0]))) + np.mean(np.log1p(np.exp(logits3[1]))) + np.mean(np.log1p(np.exp(logits3[2])))
with part("Part 6"):
    net = gan.build_conditional_mlp(2, 8, 1)
    print("the (x, c) network maps", (4, 2), "and", (4, 8), "to", tuple(net([x_ring[:4], np.eye(8)[labels[:4]]]).shape))
    wrong = np.asarray(gan.mismatched_labels(labels, 8, shifts))
    print("labels    ", labels, "\nmismatched", wrong, "— equal anywhere:", bool(np.any(wrong == labels)))
    print(f"cgan_discriminator_loss {float(gan.cgan_discriminator_loss(*logits3)):.6f}, by hand {by_hand:.6f}")

# %%
check("conditional_parts")

# %% [markdown]
# ## Part 7. LSGAN, "GAN + 相似" and CycleGAN
#
# LSGAN replaces the sigmoid by a linear output (「把sigmoid函数替换成线性函数」) with least-squares
# targets 1 and 0: `½E(D(x) − 1)² + ½E D(G(z))²` and `½E(D(G(z)) − 1)²`. pix2pix's "GAN + 相似"
# adds `λ·mean|G − target|` (L1, λ = 100) to the non-saturating loss. The cycle loss (L1, from
# the CycleGAN paper) is zero for exact inverse maps.

# %%
x_cloud, y_cloud = rng.normal(size=(16, 2)), rng.normal(size=(16, 2))
shift = np.array([1.0, -2.0])
with part("Part 7"):
    print(f"LSGAN: D loss with perfect outputs {float(gan.lsgan_discriminator_loss(np.ones(4), np.zeros(4))):.4f}, "
          f"G loss when D says 0: {float(gan.lsgan_generator_loss(np.zeros(4))):.4f}")
    fake, target = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    print(f"pix2pix with l1_weight=0: {float(gan.pix2pix_generator_loss(fake_logits, fake, target, l1_weight=0.0)):.6f}, "
          f"non-saturating loss: {float(gan.generator_loss_nonsaturating(fake_logits)):.6f}")
    # G_XY(x) = x + shift and G_YX(y) = y − shift are exact inverses; G_YX(y) = y is not.
    exact = gan.cycle_consistency_loss(x_cloud, x_cloud + shift - shift, y_cloud, y_cloud - shift + shift)
    off = gan.cycle_consistency_loss(x_cloud, x_cloud + shift, y_cloud, y_cloud + shift)
    print(f"cycle loss: exact inverses {float(exact):.4f}, not inverses {float(off):.4f}")

# %%
check("lsgan_cycle_losses")

# %% [markdown]
# ## Part 8. DCGAN-style networks for 28×28 digits (class-conditional)
#
# The generator goes 7×7×64 → 14×14×32 → 28×28×1 with a sigmoid (pixels in [0, 1] like the data);
# the discriminator reads the one-hot as 10 constant channels, then two stride-2 convolutions
# with LeakyReLU(0.2) and a logit. The check compares the architecture layer by layer (kind,
# filters, kernel size, stride, padding, activation), not only shapes and parameter counts. The
# optional long check `dcgan_digits` trains it on MNIST digits (minutes; see the handout).

# %%
with part("Part 8"):
    generator, discriminator = gan.build_dcgan_generator(), gan.build_dcgan_discriminator()
    images = np.asarray(generator([rng.normal(size=(3, 64)).astype("float32"), np.eye(10, dtype="float32")[[0, 1, 2]]]))
    print("generator:", tuple(images.shape), f"pixels in [{images.min():.2f}, {images.max():.2f}],",
          generator.count_params(), "parameters")
    print("discriminator:", tuple(discriminator([images, np.eye(10, dtype="float32")[[0, 1, 2]]]).shape),
          discriminator.count_params(), "parameters")
    for layer in discriminator.layers:
        print(f"  {type(layer).__name__:<14} {layer.output.shape}")

# %%
check("dcgan_shapes")

# %% [markdown]
# ## All public checks
#
# Run them all before you submit `gan.py` (the ring training takes a few seconds).

# %%
check()
