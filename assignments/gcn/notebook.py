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
# # Lab 3 — Graph convolutional networks (图卷积神经网络)
#
# This notebook walks through the lab part by part. **Your code goes in `gcn.py`**, not here:
# edit it in any editor, then come back and run the cells of the part you finished. Each part
# ends with `check(...)`, which runs that part's *public* checks on your `gcn.py` (the same
# checks as `pytest` and `grader check gcn`). The handout (`README.md`,
# 中文：`README.zh.md`) explains every part and the conventions; read it first.
#
# The graders also run hidden checks on other graphs and properties, so a green public check
# is necessary, not sufficient.
#
# *Run All* works at any stage: a part whose code is not written yet (or raises) prints one
# line, `with part(...)` lets the notebook go on, and the part's check says what is missing.

# %%
# Before TensorFlow is imported: hide its C++ start-up notices (your Python errors still show).
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

# Re-import gcn.py whenever you save it, so the cells below always use your latest code.
# %load_ext autoreload
# %autoreload 2

import numpy as np
import scipy.sparse as sp
import tensorflow as tf
import keras

import gcn
from grader.data import cora, karate_club
from grader.notebook import Walkthrough

# check("name") runs public checks on your gcn.py; a part's cell under part("Part N") lets Run All go on past
# a part not written yet (it prints one line; the check below says what is missing).
walk = Walkthrough("gcn")
check, part = walk.check, walk.part
LAB = walk.lab


def cycle(n):
    """The adjacency (n, n) of a cycle of n nodes."""
    a = np.zeros((n, n))
    for i in range(n):
        a[i, (i + 1) % n] = a[(i + 1) % n, i] = 1.0
    return a


rng = np.random.default_rng(0)
karate = karate_club()
a_karate = karate.adjacency.toarray().astype(np.float64)

# %% [markdown]
# ## Part 1. Laplacians (拉普拉斯矩阵)
#
# `L = D − A`, `L_sym = D^{-1/2} L D^{-1/2}`, `L_rw = D^{-1} L`. An isolated node (degree 0)
# has `d^{-1/2} = d^{-1} = 0`: its rows of `L_sym` and `L_rw` are 0 (networkx's convention).
# The slides' facts, on your matrices: `L𝟏 = 0`, one zero eigenvalue per connected component,
# and the spectrum of `L_sym` reaches 2 exactly for bipartite graphs (an even cycle does, an odd
# cycle does not).

# %%
two_parts = np.zeros((7, 7))
two_parts[:4, :4], two_parts[4:6, 4:6] = cycle(4), cycle(2)  # a 4-cycle, an edge, an isolated node

with part("Part 1"):
    lap, lap_sym, lap_rw = gcn.laplacians(two_parts)
    print("L𝟏 =", lap @ np.ones(7))
    print("zero eigenvalues of L_sym (3 components):", int(np.sum(np.abs(np.linalg.eigvalsh(lap_sym)) < 1e-9)))
    print("eigenvalues of L_rw = those of L_sym:",
          np.allclose(np.sort(np.linalg.eigvals(lap_rw).real), np.linalg.eigvalsh(lap_sym)))
    for n in (6, 5):
        print(f"cycle of {n}: largest eigenvalue of L_sym = {np.linalg.eigvalsh(gcn.laplacians(cycle(n))[1])[-1]:.4f}")

# %%
check("laplacians")

# %% [markdown]
# ## Part 2. Graph Fourier transform and spectral filtering (图傅里叶变换)
#
# `L = UΛUᵀ` with ascending eigenvalues (= frequencies), `f̂ = Uᵀf`, `f = U f̂`,
# `fᵀLf = Σ λ_k f̂_k²`, and the spectral convolution `U g(Λ) Uᵀ x`. The heat kernel
# `g(λ) = exp(−tλ)` is a low-pass filter: it smooths a spike. `normalized_lambda_max(a, γ)`
# adds γ self-loops to `Ã` **and** to `D̃`: on the karate club the largest eigenvalue goes from
# 1.715 to 1.420 for γ = 1 — which is why `Â` is a low-pass filter.

# %%
spike = np.zeros(34)
spike[0] = 1.0

with part("Part 2"):
    lap = gcn.laplacians(a_karate)[0]
    lam, u = gcn.fourier_basis(lap)
    f_hat = gcn.gft(spike, u)
    print(f"frequencies from {abs(lam[0]):.3f} to {lam[-1]:.3f}; round trip error "
          f"{np.abs(gcn.igft(f_hat, u) - spike).max():.1e}")
    print(f"smoothness of the spike {gcn.smoothness(spike, lap):.3f} = Σ λ f̂² = {np.sum(lam * f_hat ** 2):.3f}")
    smooth = gcn.spectral_filter(spike, lap, lambda lam: np.exp(-lam))
    print(f"after the heat kernel exp(−λ): smoothness {gcn.smoothness(smooth, lap):.3f}")
    for gamma in (0.0, 1.0, 2.0):
        print(f"γ = {gamma}: largest eigenvalue of the normalised Laplacian {gcn.normalized_lambda_max(a_karate, gamma):.3f}")

# %%
check("graph_fourier")

# %% [markdown]
# ## Part 3. Chebyshev filters (ChebNet)
#
# `L̃ = 2L/λ_max − I`; `T_0(L̃)x = x`, `T_1(L̃)x = L̃x`, `T_k(L̃)x = 2L̃ T_{k−1}(L̃)x − T_{k−2}(L̃)x`:
# K products with `L̃`, no eigen-decomposition. The reference below does use one (outside your
# code): `T_k(L̃) = U cos(k·arccos Λ̃) Uᵀ`. A K-th order filter is K-local: a spike spreads at
# most K hops.

# %%
lap_sym_karate = np.eye(34) - a_karate / np.sqrt(np.outer(a_karate.sum(1), a_karate.sum(1)))
lam_k, u_k = np.linalg.eigh(lap_sym_karate)
l_tilde = lap_sym_karate - np.eye(34)  # λ_max = 2
reference = [u_k @ (np.cos(k * np.arccos(np.clip(lam_k - 1.0, -1, 1)))[:, None] * (u_k.T @ spike[:, None]))
             for k in range(4)]

with part("Part 3"):
    basis = gcn.chebyshev_basis(gcn.scaled_laplacian(lap_sym_karate), spike[:, None], 3)
    for k in range(4):
        print(f"T_{k}(L̃)x: max |difference| {np.abs(np.asarray(basis[k]) - reference[k]).max():.1e}, "
              f"non-zero at {int(np.sum(np.abs(np.asarray(basis[k])) > 1e-12))} nodes")
    conv = gcn.ChebConv(4, 3)
    out = conv(tf.constant(karate.features, tf.float32), tf.constant(l_tilde, tf.float32))
    print("ChebConv(4, K=3):", tuple(out.shape), "kernel", tuple(conv.kernel.shape))

# %%
check("chebyshev")

# %% [markdown]
# ## Part 4. GCN (图卷积网络)
#
# `gcn_norm` returns `Â = D̃^{-1/2}(A + I)D̃^{-1/2}` as a **`scipy.sparse`** matrix (Cora's dense
# 2,708² matrix would be 99.6 % zeros); inside Keras it is a `tf.SparseTensor`
# (`to_sparse_tensor`, `graph_matmul` are given). `GCNLayer` computes `σ(Â (H W) + b)` —
# multiply by W *first*, it shrinks the features. The model is the slides' (「叠加多层GCN得到最终的
# 模型(常取两层)」): hidden `GCNLayer`s with the activation, a linear output layer, nothing else.

# %%
with part("Part 4, gcn_norm and GCNLayer"):
    a_hat = gcn.gcn_norm(karate.adjacency)
    print(type(a_hat).__name__, a_hat.shape, f"{a_hat.nnz} stored values; Â[0, 0] = {a_hat[0, 0]:.4f} "
          f"= 1/(d_0 + 1) = {1 / (a_karate[0].sum() + 1):.4f}")
    layer = gcn.GCNLayer(2, "relu")
    print("GCNLayer(2, 'relu') on the karate club:",
          tuple(layer(tf.constant(karate.features, tf.float32), gcn.to_sparse_tensor(a_hat)).shape))

# %%
check("gcn_layer")

# %% [markdown]
# The slides' homework: node classification on **Cora** (2,708 papers, 140 labelled). The
# cell trains `build_gcn` as the graded run does — full batch, Adam, cross-entropy on the
# training nodes plus `model.losses` (the weight decay), 200 epochs, about two seconds — and
# reports the accuracy on the 1,000 test nodes (graded: ≥ 0.78; the paper reaches 0.815).
# The check then trains again and predicts *itself* from your `gcn_layers`' weights: your
# model's output must be that specified GCN.

# %%
graph = cora()
features = graph.features.toarray().astype(np.float32)
features /= np.maximum(features.sum(axis=1, keepdims=True), 1.0)  # row-normalised, as Kipf & Welling
labels, train_index, test_index = graph.labels, graph.train_index, graph.test_index

with part("Part 4, Cora"):
    keras.utils.set_random_seed(0)
    a_cora = gcn.to_sparse_tensor(gcn.gcn_norm(graph.adjacency))
    model = gcn.build_gcn(int(labels.max()) + 1, LAB.settings("gcn_cora_training")["config"])
    x_cora = tf.constant(features)
    model((x_cora, a_cora), training=False)
    optimizer = keras.optimizers.Adam(0.01)

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            logits = tf.gather(model((x_cora, a_cora), training=True), train_index)
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
                labels[train_index], logits, from_logits=True)) + tf.add_n(model.losses)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    for epoch in range(200):
        loss = train_step()
    predicted = np.argmax(model((x_cora, a_cora), training=False), axis=1)
    print(f"training loss {float(loss):.3f}; test accuracy {np.mean(predicted[test_index] == labels[test_index]):.3f}")

# %%
check("gcn_cora_training")

# %% [markdown]
# ## Part 5. GAT (图注意力网络)
#
# Per head, `e_ij = LeakyReLU(a_selfᵀ z_i + a_neighborᵀ z_j)` and `α_ij = softmax_j(e_ij)`
# over `N(i) ∪ {i}`: mask the scores with −∞ outside the neighbourhood *before* the softmax.
# Each row of α sums to 1, is 0 outside the neighbourhood, and every node attends to itself
# (whether or not the adjacency has the self-loop).

# %%
a_small = cycle(5)
h_small = rng.normal(size=(5, 3)).astype("float32")

with part("Part 5"):
    gat = gcn.GATLayer(4, heads=2)
    out, alpha = gat(tf.constant(h_small), tf.constant(a_small, tf.float32), return_attention=True)
    alpha = np.asarray(alpha)
    print("output", tuple(out.shape), "α", alpha.shape)
    print("rows of α sum to", alpha.sum(axis=-1).round(6).ravel())
    print("α outside N(i) ∪ {i}:", np.abs(alpha * (1 - a_small - np.eye(5))).max(),
          "; α_ii > 0 for every node:", bool(np.all(np.diagonal(alpha, axis1=1, axis2=2) > 0)))

# %%
check("gat_attention")

# %% [markdown]
# ## Part 6. GraphSAGE
#
# Fixed-size neighbourhoods, as on the slides: **3 first-order, then 5 second-order
# neighbours** (「一阶邻居采样3个，二阶邻居采样5个」) — without replacement when a node has
# enough neighbours, with replacement otherwise, the node itself when it has none. The mean
# aggregator is `σ(h_v W_self + mean_{u∈S(v)} h_u W_neighbor + b)`.

# %%
star = np.zeros((7, 7))
star[0, 1:5] = star[1:5, 0] = 1.0  # node 0 has 4 neighbours, nodes 1-4 one each; 5-6 share an edge
star[5, 6] = star[6, 5] = 1.0
star_lists = gcn.adjacency_lists(star)
isolated = np.zeros((1, 1))

with part("Part 6"):
    print("3 neighbours of nodes 0, 1, 5:\n", gcn.sample_neighbors(star_lists, np.array([0, 1, 5]), 3,
                                                                   np.random.default_rng(0)))
    print("an isolated node:", gcn.sample_neighbors(gcn.adjacency_lists(isolated), np.array([0]), 3,
                                                    np.random.default_rng(0)))
    hop1, hop2 = gcn.sample_computation_graph(star_lists, np.array([0, 5]), (3, 5), np.random.default_rng(0))
    print("two hops:", hop1.shape, hop2.shape)
    sage = gcn.SAGEMean(4, "relu")
    print("SAGEMean(4):", tuple(sage(tf.constant(rng.normal(size=(2, 3)), tf.float32),
                                     tf.constant(rng.normal(size=(2, 5, 3)), tf.float32)).shape))

# %%
check("sage_sampling")

# %% [markdown]
# ## Part 7. Over-smoothing, PairNorm, DropEdge (过平滑)
#
# `Â^m X` (multiply m times; never form `Â^m`) loses everything but one direction per column.
# *Slide error:* the slide 「GCN的问题：过平滑」 names the surviving eigenvector `D^{-1/2}𝟏`;
# the eigenvector of `Â` for the eigenvalue 1 is **`D^{1/2}𝟏 = √d`** (with self-loops `√d̃`).
# PairNorm centres each column, then rescales (「中心化, 再拉伸」) so that the total pairwise
# distance `Σ_{i,j}‖x_i − x_j‖²` is `2n²·scale²` whatever the input. DropEdge's `rate` is the
# probability of **dropping** an edge (as Keras's `Dropout`); the slides' `a ~ Bernoulli(p)` is a
# *keep* mask, p = 1 − rate.

# %%
x_karate = rng.normal(size=(34, 3))
degrees_tilde = a_karate.sum(axis=1) + 1.0


def pairwise_total(h):
    """``Σ_{i,j} ‖h_i − h_j‖²``, the quantity PairNorm keeps constant."""
    rows = np.asarray(h, dtype=np.float64)
    return float(np.sum((rows[:, None] - rows[None]) ** 2))


with part("Part 7"):
    a_hat = gcn.gcn_norm(a_karate)
    for m in (1, 10, 50):
        alignment = gcn.sqrt_degree_alignment(gcn.propagate(a_hat, x_karate, m), degrees_tilde)
        print(f"|cos| of Â^{m} X's columns with √d̃: {np.round(alignment, 4)}")
    for name, h in [("X", x_karate), ("Â^50 X", gcn.propagate(a_hat, x_karate, 50))]:
        print(f"total pairwise distance of {name}: {pairwise_total(h):.3g}; after PairNorm "
              f"{pairwise_total(gcn.pair_norm(h)):.1f} (2n² = {2 * 34 ** 2})")
    dropped = gcn.drop_edge(a_karate, 0.3, np.random.default_rng(0))
    print(f"DropEdge(rate 0.3): {sp.triu(dropped, 1).nnz} of {int(np.triu(a_karate, 1).sum())} edges kept "
          f"(expected about {0.7 * np.triu(a_karate, 1).sum():.0f}), symmetric: {abs(dropped - dropped.T).sum() == 0}")

# %%
check("smoothing_tools")

# %% [markdown]
# ## Part 8. Link prediction (链路预测)
#
# Hold out edges (`i < j`), draw non-edges as negatives, score pairs with the dot product
# `z_i · z_j` (a logit) and measure the ROC AUC (ties count ½). Link prediction works fairly
# well even without the graph: on Cora the words of two papers predict a citation. The cell
# scores held-out Cora edges with the dot products of the (row-normalised) word features
# alone, no training; the graded run trains a GCN encoder (32 → 16, 200 epochs) and needs
# AUC ≥ 0.85.

# %%
with part("Part 8"):
    print("AUC: perfect", gcn.roc_auc([2.0, 3.0], [0.0, 1.0]), "; all tied", gcn.roc_auc([1.0, 1.0], [1.0, 1.0]))
    split_rng = np.random.default_rng(0)
    train_adjacency, val_pairs, test_pairs = gcn.split_edges(graph.adjacency, 0.05, 0.10, split_rng)
    negatives = gcn.negative_edges(graph.adjacency, len(test_pairs), split_rng)
    print(f"{len(test_pairs)} test edges, {len(val_pairs)} validation edges, {len(negatives)} negatives; "
          f"{sp.triu(train_adjacency, 1).nnz} training edges left")
    z = np.sqrt(features)  # unit rows: z_i · z_j is a cosine similarity of the word counts
    pos, neg = gcn.dot_scores(z, test_pairs), gcn.dot_scores(z, negatives)
    print(f"AUC of the word features alone: {gcn.roc_auc(np.asarray(pos), np.asarray(neg)):.3f}")

# %%
check("link_prediction_parts")

# %%
check("link_prediction_cora")

# %% [markdown]
# ## All public checks
#
# Run them all before you submit `gcn.py` (the two Cora checks take a few seconds).

# %%
check()

# %% [markdown]
# ## Your study (分析报告)
#
# The slides' homework asks you to 「分析自环、层数、DropEdge、PairNorm、激活函数等因素的分类性能和
# 链路预测性能的影响」. Write `run_config(task, dataset, self_loops, depth, dropedge, pairnorm,
# activation, *, seed)` in `gcn.py` (its docstring says what each factor means): it trains one GCN
# on Cora or Citeseer with the pieces you built above and returns `{"score": …}`, the test accuracy
# (`task = "node"`) or the held-out edges' ROC AUC (`task = "link"`).
#
# The cell below runs a small slice of the study's grid (four node-classification runs: depth 2
# and 8, with and without PairNorm, on Cora; about 15 s) and plots it. The whole grid is 192
# configurations (`lab.toml`'s `[study]`: Cora and Citeseer; about 8 minutes on two cores):
#
# ```python
# rows = run_study(gcn, "gcn")          # writes study.csv, one row per configuration
# ```
#
# **Hand in**, next to `gcn.py`: `study.csv` (the whole grid, as `run_study` writes it), your plots
# (`.png`) and `report.md`, the write-up (what each factor does to each task, with the table's
# numbers, and why). The graders re-run two rows of your `study.csv`, drawn at random, with your
# `gcn.py` and the row's seed; a row your code does not reproduce (within 0.05) earns nothing, so
# seed everything from `seed` and hand in the table your final code made. The handout's section
# *The study* lists what the write-up is graded on.

# %%
from grader.study import plot, run_study

with part("Study"):
    rows = run_study(gcn, "gcn", path="study_slice.csv",
                     only={"task": ["node"], "dataset": ["cora"], "self_loops": [True], "depth": [2, 8], "dropedge": [0.0],
                           "activation": ["relu"]})
    if rows:
        print("plot:", plot(rows, "gcn", x="depth", y="score", hue="pairnorm", path="node_depth_pairnorm.png",
                            title="Cora node classification: accuracy by depth"))
