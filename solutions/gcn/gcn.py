"""Lab 3 — Graph convolutional networks (图卷积神经网络), chapter 8 of the slides.

Conventions used throughout:

* a graph with n nodes is given by its adjacency matrix ``a`` (n, n):
  symmetric, ``a[i, j] = 1`` when nodes i and j are joined (邻接矩阵). The
  NumPy parts accept a dense array or a ``scipy.sparse`` matrix;
* node features are rows: ``x`` has shape (n, F), one row per node (Keras's
  layout; the slides write signals as column vectors, ``x ∈ R^n``);
* degrees ``d_i = Σ_j a[i, j]``, ``D = diag(d)``; where a degree is 0 (an
  isolated node) ``d^{-1}`` and ``d^{-1/2}`` are taken as 0, as networkx does;
* the Keras parts take the normalised adjacency as a ``tf.SparseTensor`` (large
  graphs) or a dense tensor (small ones): use :func:`graph_matmul` for
  ``a @ h`` and it works with both.

Parts 1–3 and 7–8 are NumPy/SciPy (the spectral theory and the graph
utilities); parts 4–6 are Keras 3 layers and models.
"""

import numpy as np
import scipy.sparse as sp
import tensorflow as tf
from scipy.stats import rankdata
import keras
from keras import layers


# --------------------------------------------------------------------------
# Given helpers (not graded): sparse/dense interplay
# --------------------------------------------------------------------------

def to_sparse_tensor(m):
    """A ``scipy.sparse`` matrix as a float32 ``tf.SparseTensor`` (canonical order)."""
    coo = sp.coo_matrix(m)
    indices = np.stack([coo.row, coo.col], axis=1).astype(np.int64)
    return tf.sparse.reorder(tf.SparseTensor(indices, coo.data.astype(np.float32), coo.shape))


def graph_matmul(a, h):
    """``a @ h`` for a ``tf.SparseTensor`` or a dense ``a`` (n, m) and a dense ``h`` (m, F)."""
    if isinstance(a, tf.SparseTensor):
        return tf.sparse.sparse_dense_matmul(a, h)
    return tf.matmul(tf.cast(a, h.dtype), h)


def adjacency_lists(a):
    """Neighbours of every node: a list of n sorted int64 arrays (self-loops left out)."""
    csr = sp.csr_matrix(a)
    return [np.setdiff1d(csr.indices[csr.indptr[i]:csr.indptr[i + 1]], [i]).astype(np.int64) for i in range(csr.shape[0])]


def degrees(a):
    """Degrees ``d_i = Σ_j a[i, j]`` as a float64 array (n,)."""
    return np.asarray(a.sum(axis=1), dtype=np.float64).ravel()


# --------------------------------------------------------------------------
# Part 1. Graph Laplacians (拉普拉斯矩阵)
# --------------------------------------------------------------------------

def laplacians(a):
    """The three Laplacians of a graph, as dense float64 arrays (n, n).

    * ``L = D − A`` (combinatorial);
    * ``L_sym = D^{-1/2} L D^{-1/2}`` (= ``I − D^{-1/2} A D^{-1/2}`` where no
      degree is 0);
    * ``L_rw = D^{-1} L`` (= ``I − D^{-1} A``, random walk).

    An isolated node (degree 0) has ``d^{-1/2} = d^{-1} = 0``, so its rows of
    ``L_sym`` and ``L_rw`` are zero (networkx's convention). Properties from
    the slides: ``L𝟏 = 0``; ``zᵀLz = ½ Σ_ij a_ij (z_i − z_j)² ≥ 0``; the number
    of zero eigenvalues equals the number of connected components; the
    spectrum of ``L_sym`` lies in [0, 2] and reaches 2 only for a bipartite
    component.

    Returns:
        ``(L, L_sym, L_rw)``.
    """
    # BEGIN SOLUTION: d = row sums; L = diag(d) − A; scale by d^{-1/2} on both sides (L_sym) or d^{-1} on the left (L_rw), with 0 where d = 0
    a = a.toarray() if sp.issparse(a) else np.asarray(a)
    a = a.astype(np.float64)
    d = a.sum(axis=1)
    lap = np.diag(d) - a
    with np.errstate(divide="ignore"):
        inv_sqrt = np.where(d > 0, 1.0 / np.sqrt(d), 0.0)
        inv = np.where(d > 0, 1.0 / d, 0.0)
    lap_sym = inv_sqrt[:, None] * lap * inv_sqrt[None, :]
    lap_rw = inv[:, None] * lap
    return lap, lap_sym, lap_rw
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 2. Graph Fourier transform and spectral filtering (图傅里叶变换, 谱域图卷积)
# --------------------------------------------------------------------------

def fourier_basis(lap):
    """Eigen-decomposition ``L = U Λ Uᵀ`` of a symmetric Laplacian (n, n).

    Returns ``(lam, u)``: the eigenvalues (n,) in ascending order (the graph
    frequencies) and the orthonormal eigenvectors as the columns of ``u``
    (n, n). Column k is the Fourier mode of frequency ``lam[k]``.
    """
    # BEGIN SOLUTION: a symmetric eigen-solver (np.linalg.eigh) returns the eigenvalues in ascending order
    return np.linalg.eigh(np.asarray(lap, dtype=np.float64))
    # END SOLUTION


def gft(f, u):
    """Graph Fourier transform ``f̂ = Uᵀ f`` of a signal f (n,) or signals (n, F)."""
    # BEGIN SOLUTION: Uᵀ f
    return np.asarray(u).T @ np.asarray(f)
    # END SOLUTION


def igft(f_hat, u):
    """Inverse graph Fourier transform ``f = U f̂`` (n,) or (n, F)."""
    # BEGIN SOLUTION: U f̂
    return np.asarray(u) @ np.asarray(f_hat)
    # END SOLUTION


def smoothness(z, lap):
    """Total variation ``zᵀ L z`` of a signal z (n,) (a float): small for a
    smooth signal. With ``z = Uα`` it equals ``Σ_k λ_k α_k²``."""
    # BEGIN SOLUTION: the quadratic form zᵀ L z as a Python float
    z = np.asarray(z, dtype=np.float64)
    return float(z @ (lap @ z))
    # END SOLUTION


def spectral_filter(x, lap, response):
    """Spectral graph convolution ``U g(Λ) Uᵀ x`` (谱域图卷积).

    Args:
        x: signals (n,) or (n, F).
        lap: a symmetric Laplacian (n, n).
        response: a function mapping the eigenvalues (n,) to the filter's gains
            ``g(λ)`` (n,), e.g. ``lambda lam: np.exp(-lam)`` (a low-pass heat kernel).
    Returns:
        the filtered signals, shaped like ``x``.
    """
    # BEGIN SOLUTION: transform with Uᵀ, scale frequency k by response(lam)[k], transform back with U
    lam, u = fourier_basis(lap)
    x = np.asarray(x, dtype=np.float64)
    gains = np.asarray(response(lam), dtype=np.float64)
    x_hat = gft(x, u)
    return igft(gains.reshape((-1,) + (1,) * (x.ndim - 1)) * x_hat, u)
    # END SOLUTION


def normalized_lambda_max(a, gamma=0.0):
    """Largest eigenvalue of the normalised Laplacian of the graph with
    ``gamma`` self-loops added: ``Ã = A + γI``, ``D̃ = D + γI``,
    ``L̃_sym = I − D̃^{-1/2} Ã D̃^{-1/2}``.

    The slides' theorem (SGC, Wu et al. 2019): for γ > 0 the largest
    eigenvalue shrinks, which makes ``D̃^{-1/2} Ã D̃^{-1/2}`` a low-pass
    filter; on the karate club it goes from 1.715 to 1.420 for γ = 1.
    """
    # BEGIN SOLUTION: the largest eigenvalue (eigvalsh) of L_sym of A + γI; laplacians() already does the normalisation
    a = a.toarray() if sp.issparse(a) else np.asarray(a, dtype=np.float64)
    _, lap_sym, _ = laplacians(a + gamma * np.eye(a.shape[0]))
    return float(np.linalg.eigvalsh(lap_sym)[-1])
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 3. Chebyshev polynomial filters, ChebNet (切比雪夫多项式, ChebyNet)
# --------------------------------------------------------------------------

def scaled_laplacian(lap_sym, lambda_max=2.0):
    """``L̃ = 2 L / λ_max − I``, whose spectrum lies in [−1, 1] (the domain of
    the Chebyshev polynomials). With ``λ_max = 2`` it is ``L_sym − I =
    −D^{-1/2} A D^{-1/2}``. Dense in, dense out; sparse in, sparse out."""
    # BEGIN SOLUTION: 2 L / lambda_max minus the identity (sp.identity for a sparse L)
    eye = sp.identity(lap_sym.shape[0], format="csr") if sp.issparse(lap_sym) else np.eye(lap_sym.shape[0])
    return (2.0 / lambda_max) * lap_sym - eye
    # END SOLUTION


def chebyshev_basis(l_tilde, x, k):
    """``[T_0(L̃) x, T_1(L̃) x, …, T_K(L̃) x]`` by the three-term recurrence
    ``F_0 = x``, ``F_1 = L̃ x``, ``F_k = 2 L̃ F_{k−1} − F_{k−2}``: K products
    with L̃ and no eigen-decomposition.

    Args:
        l_tilde: (n, n) scaled Laplacian, dense or ``scipy.sparse``.
        x: signals (n,) or (n, F).
        k: the order K ≥ 0.
    Returns:
        an array (K+1, n) or (K+1, n, F).
    """
    # BEGIN SOLUTION: start from F_0 = x (and F_1 = L̃x when K ≥ 1), then apply the recurrence; stack the K+1 terms
    x = np.asarray(x, dtype=np.float64)
    terms = [x]
    if k >= 1:
        terms.append(l_tilde @ x)
    for _ in range(2, k + 1):
        terms.append(2 * (l_tilde @ terms[-1]) - terms[-2])
    return np.stack([np.asarray(t) for t in terms])
    # END SOLUTION


class ChebConv(layers.Layer):
    """ChebNet's graph convolution: ``y = Σ_{k=0}^{K} T_k(L̃) X Θ_k + b``.

    Weights: ``kernel`` (K+1, F_in, units) holding Θ_0 … Θ_K, and ``bias``
    (units,). ``call(x, l_tilde)`` takes node features (n, F_in) and the
    scaled Laplacian L̃ (n, n) as a ``tf.SparseTensor`` or a dense tensor, and
    returns (n, units). Use the recurrence (as in :func:`chebyshev_basis`,
    with :func:`graph_matmul`): an output node depends only on the nodes at
    most K hops away.
    """

    def __init__(self, units, k, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.k = k
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(self.k + 1, input_shape[-1], self.units),
                                      initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, x, l_tilde):
        # BEGIN SOLUTION: run the recurrence T_k(L̃)x with graph_matmul and accumulate T_k(L̃) x @ kernel[k]; add the bias
        previous, current = None, x
        out = tf.matmul(x, self.kernel[0])
        for k in range(1, self.k + 1):
            if k == 1:
                previous, current = current, graph_matmul(l_tilde, current)
            else:
                previous, current = current, 2.0 * graph_matmul(l_tilde, current) - previous
            out = out + tf.matmul(current, self.kernel[k])
        return self.activation(out + self.bias)
        # END SOLUTION


# --------------------------------------------------------------------------
# Part 4. GCN (Kipf & Welling): the renormalised adjacency and the GCN layer
# --------------------------------------------------------------------------

def gcn_norm(a, add_self_loops=True):
    """The GCN propagation matrix ``Â = D̃^{-1/2} Ã D̃^{-1/2}`` with ``Ã = A + I``
    and ``D̃ = D + I`` (the renormalisation trick, 重归一化). Without
    self-loops, ``D^{-1/2} A D^{-1/2}`` (0 rows for isolated nodes).

    Args:
        a: adjacency (n, n), dense or ``scipy.sparse``.
    Returns:
        a ``scipy.sparse.csr_matrix`` (n, n), float64, symmetric. Stay sparse:
        Cora's 2,708² dense matrix would be 99.6 % zeros.
    """
    # BEGIN SOLUTION: Ã = A + I (sp.identity); d̃ = row sums of Ã; scale rows and columns by d̃^{-1/2} with sp.diags (0 where d̃ = 0)
    a = sp.csr_matrix(a, dtype=np.float64)
    if add_self_loops:
        a = a + sp.identity(a.shape[0], format="csr")
    d = degrees(a)
    with np.errstate(divide="ignore"):
        inv_sqrt = np.where(d > 0, 1.0 / np.sqrt(d), 0.0)
    scale = sp.diags(inv_sqrt)
    return (scale @ a @ scale).tocsr()
    # END SOLUTION


class GCNLayer(layers.Layer):
    """One graph convolution ``H' = σ(Â H W + b)``.

    Weights: ``kernel`` (F_in, units) and ``bias`` (units,) (zeros). ``call(h,
    a_hat)`` takes features (n, F_in), dense or a ``tf.SparseTensor`` (sparse
    bag-of-words features), and ``Â`` (n, n), sparse or dense; it returns
    (n, units). Compute ``Â (H W)``, not ``(Â H) W``: W shrinks F_in to
    ``units`` first, so the graph product is cheap.

    Args:
        units: output features per node.
        activation: σ (a Keras activation name or function; None = linear).
        kernel_regularizer: a Keras regularizer for ``kernel`` (weight decay).
    """

    def __init__(self, units, activation=None, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                      regularizer=self.kernel_regularizer, name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, h, a_hat):
        # BEGIN SOLUTION: h @ kernel (graph_matmul when h is a SparseTensor), then Â @ (that) with graph_matmul, + bias, activation
        hw = graph_matmul(h, self.kernel) if isinstance(h, tf.SparseTensor) else tf.matmul(h, self.kernel)
        return self.activation(graph_matmul(a_hat, hw) + self.bias)
        # END SOLUTION


#: Kipf & Welling's hyper-parameters for Cora: a 2-layer GCN, 16 hidden units,
#: dropout 0.5, weight decay 5e-4 on the first layer, Adam 0.01, 200 epochs,
#: full batch. The graded run uses these values (from lab.toml), whatever
#: this dict says; change it freely for your own experiments.
GCN_CONFIG = {
    "hidden": 16,
    "num_layers": 2,         # GCN layers in all (the slides: 常取两层, usually two)
    "dropout": 0.5,          # on the input features and on every hidden layer
    "weight_decay": 5e-4,    # Kipf's: weight_decay · ½‖W‖² on the first layer
    "activation": "relu",
    "pair_norm": False,      # PairNorm after every hidden layer (part 7)
    "learning_rate": 0.01,
    "epochs": 200,
}


class GCN(keras.Model):
    """A stack of ``num_layers`` :class:`GCNLayer` s for node classification.

    ``call((x, a_hat), training)``: dropout on x (on the stored values when x
    is a ``tf.SparseTensor``: Kipf's sparse dropout), then ``num_layers − 1``
    hidden layers ``GCNLayer(hidden, activation)`` each followed by PairNorm
    (when ``pair_norm``) and dropout, then ``GCNLayer(num_outputs)`` with no
    activation. Returns logits (n, num_outputs); no softmax. The first
    layer's kernel has the L2 penalty ``keras.regularizers.L2(weight_decay / 2)``
    (Kipf's ½‖W‖²), which ``model.losses`` reports.

    The graders look for the attribute ``gcn_layers`` (the list of layers).
    """

    def __init__(self, num_outputs, config=None, **kwargs):
        super().__init__(**kwargs)
        cfg = {**GCN_CONFIG, **(config or {})}
        self.use_pair_norm = cfg["pair_norm"]
        # BEGIN SOLUTION: create the dropout layer(s) and self.gcn_layers: num_layers − 1 hidden GCNLayers (the first with the L2 penalty) and an output GCNLayer(num_outputs)
        self.dropout = layers.Dropout(cfg["dropout"])
        self.gcn_layers = []
        for i in range(cfg["num_layers"] - 1):
            regularizer = keras.regularizers.L2(cfg["weight_decay"] / 2) if i == 0 and cfg["weight_decay"] else None
            self.gcn_layers.append(GCNLayer(cfg["hidden"], cfg["activation"], kernel_regularizer=regularizer))
        self.gcn_layers.append(GCNLayer(num_outputs))
        # END SOLUTION

    def call(self, inputs, training=False):
        x, a_hat = inputs
        # BEGIN SOLUTION: dropout on x (tf.SparseTensor: on x.values), then each layer; after each hidden one, pair_norm (if on) and dropout
        if isinstance(x, tf.SparseTensor):
            h = tf.SparseTensor(x.indices, self.dropout(x.values, training=training), x.dense_shape)
        else:
            h = self.dropout(x, training=training)
        for layer in self.gcn_layers[:-1]:
            h = layer(h, a_hat)
            if self.use_pair_norm:
                h = pair_norm(h)
            h = self.dropout(h, training=training)
        return self.gcn_layers[-1](h, a_hat)
        # END SOLUTION


def build_gcn(num_outputs, config=None):
    """A :class:`GCN` with ``GCN_CONFIG`` updated by ``config``."""
    return GCN(num_outputs, config)


# --------------------------------------------------------------------------
# Part 5. Graph attention (GAT, Veličković et al. 2018)
# --------------------------------------------------------------------------

class GATLayer(layers.Layer):
    """Multi-head graph attention on a dense adjacency (small graphs).

    For each head m, with ``z_i = h_i W^m`` (units,):

    * ``e_ij = LeakyReLU(a_selfᵐ · z_i + a_neighborᵐ · z_j)`` (slope 0.2), which
      is the paper's ``LeakyReLU(aᵀ[W h_i ‖ W h_j])`` with ``a = [a_self; a_neighbor]``;
    * ``α_ij = softmax_j(e_ij)`` over the neighbourhood N(i) ∪ {i} only: a
      node always attends to itself, and ``α_ij = 0`` for j outside N(i) ∪ {i};
    * ``h'_i = Σ_j α_ij z_j``; the heads are concatenated (n, heads·units) when
      ``concat`` else averaged (n, units); then ``activation``.

    Weights: ``kernel`` (F_in, heads, units) (with ``kernel_regularizer``),
    ``attn_self`` and ``attn_neighbor`` (heads, units). No bias.

    ``call(h, adjacency, training=False, return_attention=False)``: h (n, F_in),
    adjacency (n, n) dense 0/1 (a self-loop may or may not be there); with
    ``return_attention`` returns ``(output, alpha)`` with alpha (heads, n, n),
    ``alpha[m, i, j] = α_ij`` of head m. ``dropout`` is applied to α in training.
    """

    def __init__(self, units, heads=1, concat=True, activation=None, dropout=0.0, negative_slope=0.2,
                 kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.heads = heads
        self.concat = concat
        self.activation = keras.activations.get(activation)
        self.negative_slope = negative_slope
        self.attention_dropout = layers.Dropout(dropout)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.heads, self.units), initializer="glorot_uniform",
                                      regularizer=self.kernel_regularizer, name="kernel")
        self.attn_self = self.add_weight(shape=(self.heads, self.units), initializer="glorot_uniform", name="attn_self")
        self.attn_neighbor = self.add_weight(shape=(self.heads, self.units), initializer="glorot_uniform",
                                             name="attn_neighbor")

    def call(self, h, adjacency, training=False, return_attention=False):
        # BEGIN SOLUTION: z = h·W per head; e[m, i, j] = leaky_relu(a_self·z_i + a_neighbor·z_j); mask non-neighbours (keep i→i) with −inf before a softmax over j; aggregate α z; concat or mean the heads
        z = tf.einsum("nf,fhu->hnu", h, self.kernel)                       # (heads, n, units)
        score_self = tf.einsum("hnu,hu->hn", z, self.attn_self)            # a_self · z_i
        score_neighbor = tf.einsum("hnu,hu->hn", z, self.attn_neighbor)    # a_neighbor · z_j
        e = tf.nn.leaky_relu(score_self[:, :, None] + score_neighbor[:, None, :], alpha=self.negative_slope)
        n = tf.shape(h)[0]
        mask = tf.logical_or(tf.not_equal(tf.cast(adjacency, e.dtype), 0), tf.eye(n, dtype=tf.bool))
        e = tf.where(mask[None, :, :], e, tf.constant(-np.inf, e.dtype))
        alpha = tf.nn.softmax(e, axis=-1)
        out = tf.einsum("hij,hju->hiu", self.attention_dropout(alpha, training=training), z)
        if self.concat:
            out = tf.reshape(tf.transpose(out, [1, 0, 2]), [n, self.heads * self.units])
        else:
            out = tf.reduce_mean(out, axis=0)
        out = self.activation(out)
        return (out, alpha) if return_attention else out
        # END SOLUTION


#: Veličković et al.'s hyper-parameters (the graded run on a small SBM graph
#: uses them, from lab.toml): 8 heads × 8 ELU units, concatenated, then one
#: averaged head for the classes; dropout 0.6 on the inputs and on α.
GAT_CONFIG = {"hidden": 8, "heads": 8, "dropout": 0.6, "weight_decay": 5e-4, "learning_rate": 0.005, "epochs": 100}


class GAT(keras.Model):
    """Two :class:`GATLayer` s: ``GATLayer(hidden, heads, concat, "elu")`` then
    ``GATLayer(num_outputs, 1, concat=False)``, with dropout on the input of
    each and on the attention, and ``keras.regularizers.L2(weight_decay / 2)``
    on both kernels. ``call((x, adjacency), training)`` returns logits (n, num_outputs).

    The graders look for the attributes ``gat1`` and ``gat2`` (the two layers):
    the graded run predicts with their trained weights through this very
    architecture, and the model's own output must agree."""

    def __init__(self, num_outputs, config=None, **kwargs):
        super().__init__(**kwargs)
        cfg = {**GAT_CONFIG, **(config or {})}
        self.input_dropout = layers.Dropout(cfg["dropout"])
        # BEGIN SOLUTION: self.gat1 and self.gat2 as described (attention dropout cfg["dropout"], the L2 regularizer on each kernel)
        decay = keras.regularizers.L2(cfg["weight_decay"] / 2) if cfg["weight_decay"] else None
        self.gat1 = GATLayer(cfg["hidden"], cfg["heads"], concat=True, activation="elu", dropout=cfg["dropout"],
                             kernel_regularizer=decay)
        self.gat2 = GATLayer(num_outputs, 1, concat=False, dropout=cfg["dropout"], kernel_regularizer=decay)
        # END SOLUTION

    def call(self, inputs, training=False):
        x, adjacency = inputs
        # BEGIN SOLUTION: dropout → gat1 → dropout → gat2 (pass training= on)
        h = self.gat1(self.input_dropout(x, training=training), adjacency, training=training)
        return self.gat2(self.input_dropout(h, training=training), adjacency, training=training)
        # END SOLUTION


def build_gat(num_outputs, config=None):
    """A :class:`GAT` with ``GAT_CONFIG`` updated by ``config``."""
    return GAT(num_outputs, config)


# --------------------------------------------------------------------------
# Part 6. GraphSAGE: fixed-size neighbour sampling and the mean aggregator
# --------------------------------------------------------------------------

def sample_neighbors(neighbors, nodes, num_samples, rng):
    """Sample ``num_samples`` neighbours of each node (GraphSAGE's fixed-size neighbourhoods).

    Args:
        neighbors: adjacency lists (``adjacency_lists(a)``): neighbors[i] is an
            int array of i's neighbours.
        nodes: int array (B,) of node ids.
        num_samples: S, the neighbours kept per node.
        rng: a ``numpy.random.Generator``; the same generator state gives the same sample.
    Returns:
        int64 array (B, S). A node with at least S neighbours gets S distinct
        ones (uniformly, without replacement); a node with fewer gets S
        draws with replacement; an isolated node gets itself S times.
    """
    # BEGIN SOLUTION: for each node, rng.choice over its neighbour list (replace only when there are fewer than S); the node itself if it has none
    out = np.empty((len(nodes), num_samples), dtype=np.int64)
    for row, node in enumerate(np.asarray(nodes, dtype=np.int64)):
        nbrs = neighbors[node]
        if len(nbrs) == 0:
            out[row] = node
        else:
            out[row] = rng.choice(nbrs, size=num_samples, replace=len(nbrs) < num_samples)
    return out
    # END SOLUTION


def sample_computation_graph(neighbors, nodes, sizes, rng):
    """The two-hop sampled neighbourhood of a batch (3 then 5 on the slides).

    Returns ``(hop1, hop2)``: hop1 (B, S1) = ``sample_neighbors(nodes, S1)``
    and hop2 (B, S1, S2) = S2 neighbours sampled for each node of hop1, in
    that order (first all of hop 1, then hop 2 row by row).
    """
    # BEGIN SOLUTION: sample S1 neighbours of the batch, then S2 neighbours of the flattened hop-1 nodes; reshape to (B, S1, S2)
    s1, s2 = sizes
    hop1 = sample_neighbors(neighbors, nodes, s1, rng)
    hop2 = sample_neighbors(neighbors, hop1.ravel(), s2, rng).reshape(len(nodes), s1, s2)
    return hop1, hop2
    # END SOLUTION


class SAGEMean(layers.Layer):
    """GraphSAGE's mean aggregator: ``h'_v = σ(h_v W_self + mean_{u∈S(v)} h_u W_neighbor + b)``
    (the paper's ``W·[h_v ‖ mean h_u]`` with W split in two).

    Weights: ``kernel_self`` and ``kernel_neighbor`` (F_in, units), ``bias`` (units,).
    ``call(h_self, h_neighbors)``: h_self (..., F_in), h_neighbors (..., S, F_in)
    (the same leading axes plus the S sampled neighbours); returns (..., units).
    """

    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)

    def build(self, h_self_shape):
        f_in = h_self_shape[-1]
        self.kernel_self = self.add_weight(shape=(f_in, self.units), initializer="glorot_uniform", name="kernel_self")
        self.kernel_neighbor = self.add_weight(shape=(f_in, self.units), initializer="glorot_uniform",
                                               name="kernel_neighbor")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, h_self, h_neighbors):
        # BEGIN SOLUTION: mean over the sample axis (−2), then the two matrix products, + bias, activation
        mean = keras.ops.mean(h_neighbors, axis=-2)
        return self.activation(keras.ops.matmul(h_self, self.kernel_self)
                               + keras.ops.matmul(mean, self.kernel_neighbor) + self.bias)
        # END SOLUTION


#: The graded GraphSAGE run (from lab.toml): 3 then 5 sampled neighbours,
#: minibatches of 32 nodes.
SAGE_CONFIG = {"hidden": 32, "samples": (3, 5), "batch_size": 32, "learning_rate": 0.01, "epochs": 25}


class GraphSAGE(keras.Model):
    """Two mean-aggregator layers on a sampled two-hop neighbourhood.

    ``call((x0, x1, x2), training)`` with the features of the batch x0 (B, F),
    of its sampled neighbours x1 (B, S1, F) and of theirs x2 (B, S1, S2, F):
    layer 1 (``SAGEMean(hidden, "relu")``) gives the batch nodes
    ``h0 = sage1(x0, x1)`` and their neighbours ``h1 = sage1(x1, x2)``, then
    layer 2 (``SAGEMean(num_outputs)``) returns the logits ``sage2(h0, h1)`` (B, num_outputs).

    The graders look for the attributes ``sage1`` and ``sage2``: the graded
    run predicts with their trained weights, and the model's own output must agree.
    """

    def __init__(self, num_outputs, config=None, **kwargs):
        super().__init__(**kwargs)
        cfg = {**SAGE_CONFIG, **(config or {})}
        # BEGIN SOLUTION: self.sage1 = SAGEMean(hidden, "relu"), self.sage2 = SAGEMean(num_outputs)
        self.sage1 = SAGEMean(cfg["hidden"], "relu")
        self.sage2 = SAGEMean(num_outputs)
        # END SOLUTION

    def call(self, inputs, training=False):
        x0, x1, x2 = inputs
        # BEGIN SOLUTION: h0 = sage1(x0, x1); h1 = sage1(x1, x2); return sage2(h0, h1)
        return self.sage2(self.sage1(x0, x1), self.sage1(x1, x2))
        # END SOLUTION


def build_sage(num_outputs, config=None):
    """A :class:`GraphSAGE` with ``SAGE_CONFIG`` updated by ``config``."""
    return GraphSAGE(num_outputs, config)


# --------------------------------------------------------------------------
# Part 7. Over-smoothing (过平滑), PairNorm and DropEdge
# --------------------------------------------------------------------------

def propagate(a_hat, x, m):
    """``Â^m X``: m rounds of propagation with no weights (SGC's features).
    a_hat (n, n) dense or sparse, x (n, F); returns a dense float64 (n, F)."""
    # BEGIN SOLUTION: multiply by Â m times (never form Â^m: it is dense)
    h = np.asarray(x, dtype=np.float64)
    for _ in range(m):
        h = a_hat @ h
    return np.asarray(h)
    # END SOLUTION


def sqrt_degree_alignment(h, deg):
    """|cos| between each column of h (n, F) and ``√d`` (n,): the direction
    every column of ``Â^m X`` converges to (over-smoothing). Returns (F,) in
    [0, 1]. (The slide 「GCN的问题：过平滑」 names the surviving eigenvector
    ``D^{-1/2}𝟏``; the eigenvector of ``I − γL_sym`` (and of Â) for the
    eigenvalue 1 is ``D^{1/2}𝟏 = √d``.)"""
    # BEGIN SOLUTION: normalise √d and each column, take |dot products|
    h = np.asarray(h, dtype=np.float64)
    s = np.sqrt(np.asarray(deg, dtype=np.float64))
    return np.abs(s @ h) / (np.linalg.norm(s) * np.linalg.norm(h, axis=0))
    # END SOLUTION


def pair_norm(x, scale=1.0, epsilon=1e-6):
    """PairNorm (Zhao & Akoglu 2020): centre, then rescale (中心化, 再拉伸).

    ``x_c = x − mean over nodes`` (each column), then
    ``out = scale · x_c / sqrt(ε + (1/n) Σ_i ‖x_c,i‖²)``. Every column then has
    mean 0 and ``Σ_i ‖out_i‖² = n·scale²`` (up to ε), so the total
    pairwise squared distance ``Σ_{i,j} ‖out_i − out_j‖² = 2n²·scale²`` is the
    same whatever the input (it cannot collapse). Works on NumPy arrays and
    tensors (use ``keras.ops``); x (n, F) → (n, F). Use ε = ``epsilon`` as
    given (1e-6): on a collapsed input (tiny features) a larger ε, such as
    BatchNorm's 1e-3, no longer rescales it back.
    """
    # BEGIN SOLUTION: subtract the column means (over axis 0), divide by the root of ε + the mean squared row norm, multiply by scale
    x = keras.ops.convert_to_tensor(x)
    centred = x - keras.ops.mean(x, axis=0, keepdims=True)
    mean_square = keras.ops.mean(keras.ops.sum(centred ** 2, axis=1))
    return scale * centred / keras.ops.sqrt(epsilon + mean_square)
    # END SOLUTION


def drop_edge(a, rate, rng):
    """DropEdge: remove each undirected edge with probability ``rate``.

    ``rate`` is the *drop* probability (as in ``keras.layers.Dropout``); the
    slides draw a *keep* mask ``a ~ Bernoulli(p)``, so their p is ``1 − rate``.
    Both directions of an edge go together (the result stays symmetric);
    self-loops (diagonal entries) are kept.

    Args:
        a: adjacency (n, n), ``scipy.sparse`` or dense, symmetric.
        rng: a ``numpy.random.Generator``.
    Returns:
        a ``scipy.sparse.csr_matrix`` (n, n).
    """
    # BEGIN SOLUTION: draw one keep flag per upper-triangle edge (uniform ≥ rate), keep the diagonal, mirror the kept upper triangle
    a = sp.csr_matrix(a)
    upper = sp.triu(a, k=1).tocoo()
    keep = rng.random(upper.nnz) >= rate
    kept = sp.coo_matrix((upper.data[keep], (upper.row[keep], upper.col[keep])), shape=a.shape)
    return (kept + kept.T + sp.diags(a.diagonal())).tocsr()
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 8. Link prediction (链路预测)
# --------------------------------------------------------------------------

def split_edges(a, val_fraction, test_fraction, rng):
    """Hold out edges for link prediction.

    The undirected edges ``(i, j), i < j`` (self-loops ignored) are shuffled
    with ``rng``; the first ``round(test_fraction·E)`` are test edges, the next
    ``round(val_fraction·E)`` validation edges, the rest stay in the graph.

    Returns:
        ``(train_adjacency, val_edges, test_edges)``: a symmetric
        ``scipy.sparse.csr_matrix`` (n, n) without the held-out edges, and
        int64 arrays (E_val, 2), (E_test, 2) of pairs with i < j.
    """
    # BEGIN SOLUTION: list the upper-triangle edges, permute them with rng, slice test/val/train, rebuild a symmetric adjacency from the train edges
    a = sp.csr_matrix(a)
    upper = sp.triu(a, k=1).tocoo()
    edges = np.stack([upper.row, upper.col], axis=1).astype(np.int64)
    edges = edges[rng.permutation(len(edges))]
    n_test = int(round(test_fraction * len(edges)))
    n_val = int(round(val_fraction * len(edges)))
    test, val, train = edges[:n_test], edges[n_test:n_test + n_val], edges[n_test + n_val:]
    kept = sp.coo_matrix((np.ones(len(train)), (train[:, 0], train[:, 1])), shape=a.shape)
    return (kept + kept.T).tocsr(), val, test
    # END SOLUTION


def negative_edges(a, num, rng):
    """``num`` distinct node pairs ``(i, j), i < j`` that are *not* edges of ``a``
    (negative samples), drawn uniformly with ``rng``. Returns int64 (num, 2)."""
    # BEGIN SOLUTION: draw random pairs in bulk, order each as i < j, drop self-pairs, edges and repeats (compare keys i·n + j), until num remain
    a = sp.coo_matrix(a)
    n = a.shape[0]
    edge_keys = np.unique(np.minimum(a.row, a.col).astype(np.int64) * n + np.maximum(a.row, a.col))
    keys = np.zeros(0, dtype=np.int64)
    while len(keys) < num:
        pairs = np.sort(rng.integers(0, n, size=(2 * (num - len(keys)) + 16, 2)), axis=1)
        fresh = pairs[:, 0] * n + pairs[:, 1]
        fresh = fresh[(pairs[:, 0] != pairs[:, 1]) & ~np.isin(fresh, edge_keys)]
        keys = np.concatenate([keys, fresh])
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)]
    keys = keys[:num]
    return np.stack([keys // n, keys % n], axis=1)
    # END SOLUTION


def dot_scores(z, pairs):
    """Dot-product decoder: the logit ``z_i · z_j`` of each pair (P,) for node
    embeddings z (n, D) and pairs (P, 2). NumPy or tensors (use ``keras.ops``);
    ``sigmoid`` of it is the predicted probability of an edge."""
    # BEGIN SOLUTION: gather the two embeddings of every pair and sum their product over the last axis
    z = keras.ops.convert_to_tensor(z)
    zi = keras.ops.take(z, pairs[:, 0], axis=0)
    zj = keras.ops.take(z, pairs[:, 1], axis=0)
    return keras.ops.sum(zi * zj, axis=-1)
    # END SOLUTION


def roc_auc(pos_scores, neg_scores):
    """Area under the ROC curve: the probability that a random positive pair
    scores higher than a random negative pair, ties counting ½
    (Mann–Whitney). Returns a float in [0, 1]."""
    # BEGIN SOLUTION: rank all scores together (scipy.stats.rankdata averages ties), U = Σ positive ranks − P(P+1)/2, AUC = U / (P·N)
    pos = np.asarray(pos_scores, dtype=np.float64).ravel()
    neg = np.asarray(neg_scores, dtype=np.float64).ravel()
    ranks = rankdata(np.concatenate([pos, neg]))
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))
    # END SOLUTION


#: The graded link-prediction run on Cora (a graph auto-encoder): a 2-layer
#: GCN encoder (32 → 16, no dropout), dot-product decoder, one fresh negative
#: pair per training edge each epoch, Adam 0.01.
LINK_CONFIG = {"hidden": 32, "embedding": 16, "num_layers": 2, "dropout": 0.0, "weight_decay": 0.0,
               "learning_rate": 0.01, "epochs": 200}


# --------------------------------------------------------------------------
# The study (the homework analysis): self-loops, depth, DropEdge, PairNorm and
# the activation, for node classification and link prediction
# --------------------------------------------------------------------------

#: What every study run keeps fixed: Kipf & Welling's node-classification run
#: (``GCN_CONFIG``) and the graded link-prediction run (``LINK_CONFIG``) with
#: half its epochs (an 8-layer encoder then trains in a few seconds); only the
#: depth (``num_layers``), the activation and PairNorm come from the factors.
STUDY_CONFIG = {
    "node": {"hidden": 16, "dropout": 0.5, "weight_decay": 5e-4, "learning_rate": 0.01, "epochs": 200},
    "link": {"hidden": 32, "embedding": 16, "dropout": 0.0, "weight_decay": 0.0, "learning_rate": 0.01,
             "epochs": 100, "val_fraction": 0.05, "test_fraction": 0.1},
}


def study_graphs(dataset):
    """The study's data (given, not graded): ``(train, test)`` graphs as
    ``grader.data.GraphData`` with their features ready to use.

    * ``"cora"``, ``"citeseer"``: the Planetoid graph twice (transductive: the
      model sees the whole graph, the loss only the 120/140 training labels,
      the score is measured on the 1,000 test nodes); features row-normalised
      as Kipf's code does;
    * ``"ppi"``: the 20 training graphs, then the 2 test graphs (inductive: the
      test graphs are never seen in training); 121 labels per node (multi-hot),
      features standardised with the training graphs' mean and deviation.
    """
    import dataclasses

    from grader.data import planetoid, ppi

    if dataset == "ppi":
        split = ppi()
        mean = split.train.features.mean(axis=0)
        std = split.train.features.std(axis=0) + 1e-6
        return tuple(dataclasses.replace(g, features=((g.features - mean) / std).astype(np.float32))
                     for g in (split.train, split.test))
    graph = planetoid(dataset)
    rows = np.asarray(graph.features.sum(axis=1), dtype=np.float64).ravel()
    scale = sp.diags(np.where(rows > 0, 1.0 / np.where(rows > 0, rows, 1.0), 0.0))
    graph = dataclasses.replace(graph, features=(scale @ graph.features).astype(np.float32).tocsr())
    return graph, graph


def run_config(task, dataset, self_loops, depth, dropedge, pairnorm, activation, *, seed):
    """One configuration of the study: train a GCN and score it.

    Args:
        task: ``"node"`` (node classification, Kipf & Welling's run:
            ``STUDY_CONFIG["node"]``) or ``"link"`` (link prediction, the
            graph auto-encoder of part 8: ``STUDY_CONFIG["link"]``).
        dataset: ``"cora"``, ``"citeseer"`` or ``"ppi"`` (:func:`study_graphs`).
        self_loops: ``gcn_norm(a, add_self_loops=self_loops)``.
        depth: the number of GCN layers (``num_layers``).
        dropedge: DropEdge's rate: every training epoch propagates over
            ``gcn_norm(drop_edge(a, dropedge, rng))``, a fresh draw (0: the
            whole graph); evaluation always uses the whole graph.
        pairnorm: PairNorm after every hidden layer.
        activation: the hidden layers' activation (a Keras name).
        seed: seeds everything (Keras, TensorFlow, NumPy: weights, dropout,
            DropEdge, the held-out edges and the negative pairs); TensorFlow's
            deterministic kernels are turned on too
            (``tf.config.experimental.enable_op_determinism()``), so that the
            graders' re-run of a row gives your number.

    Returns:
        ``{"score": s}``: for ``"node"``, the accuracy on the test nodes
        (PPI: the micro-averaged F1 of the 121 labels on the test graphs); for
        ``"link"``, the ROC AUC of the held-out edges against as many
        non-edges. Both at the end of training (no early stopping).
    """
    # BEGIN SOLUTION: seed Keras and a NumPy Generator from seed; build_gcn(num_layers=depth, activation, pair_norm); full-batch Adam, propagating over a fresh drop_edge + gcn_norm each epoch when dropedge > 0; node: test accuracy; link: split_edges, fresh negative_edges each epoch, dot_scores, roc_auc
    keras.utils.set_random_seed(seed)
    # Deterministic kernels, as the graders' re-run uses: without them an 8-layer
    # GCN's accuracy can move by several points between two runs of one seed.
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(seed)
    train, test = study_graphs(dataset)

    def features(graph):
        return to_sparse_tensor(graph.features) if sp.issparse(graph.features) else tf.constant(graph.features)

    def propagation(a):
        return to_sparse_tensor(gcn_norm(a, add_self_loops=self_loops))

    def graph_for_epoch(a, full):
        return propagation(drop_edge(a, dropedge, rng)) if dropedge > 0 else full

    if task == "node":
        cfg = STUDY_CONFIG["node"]
        multi_label = train.labels.ndim == 2
        model = build_gcn(train.num_classes, {"hidden": cfg["hidden"], "num_layers": depth, "dropout": cfg["dropout"],
                                              "weight_decay": cfg["weight_decay"], "activation": activation,
                                              "pair_norm": pairnorm})
        x, a_full = features(train), propagation(train.adjacency)
        index = tf.constant(train.train_index)
        targets = tf.constant(train.labels[train.train_index])
        model((x, a_full), training=False)
        optimizer = keras.optimizers.Adam(cfg["learning_rate"])
        n = train.num_nodes

        weights = model.trainable_variables

        @tf.function(input_signature=[tf.SparseTensorSpec([n, n], tf.float32)])
        def step(a_hat):
            with tf.GradientTape() as tape:
                logits = tf.gather(model((x, a_hat), training=True), index)
                if multi_label:
                    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(targets, logits))
                else:
                    loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(targets, logits,
                                                                                       from_logits=True))
                total = loss + sum(model.losses)  # weight decay
            optimizer.apply_gradients(zip(tape.gradient(total, weights), weights))

        for _ in range(cfg["epochs"]):
            step(graph_for_epoch(train.adjacency, a_full))
        logits = np.asarray(model((features(test), propagation(test.adjacency)), training=False))[test.test_index]
        truth = test.labels[test.test_index]
        if multi_label:
            from grader.data import micro_f1

            return {"score": micro_f1(truth, logits > 0)}
        return {"score": float(np.mean(logits.argmax(axis=1) == truth))}

    if task != "link":
        raise ValueError(f"task must be 'node' or 'link', not {task!r}")
    cfg = STUDY_CONFIG["link"]
    graph = train
    train_adjacency, _, test_edges = split_edges(graph.adjacency, cfg["val_fraction"], cfg["test_fraction"], rng)
    test_negatives = negative_edges(graph.adjacency, len(test_edges), rng)
    upper = sp.triu(train_adjacency, k=1).tocoo()
    positives = tf.constant(np.stack([upper.row, upper.col], axis=1).astype(np.int64))
    encoder = build_gcn(cfg["embedding"], {"hidden": cfg["hidden"], "num_layers": depth, "dropout": cfg["dropout"],
                                           "weight_decay": cfg["weight_decay"], "activation": activation,
                                           "pair_norm": pairnorm})
    x, a_full = features(graph), propagation(train_adjacency)
    encoder((x, a_full), training=False)
    optimizer = keras.optimizers.Adam(cfg["learning_rate"])
    n, count = graph.num_nodes, int(positives.shape[0])
    weights = encoder.trainable_variables

    @tf.function(input_signature=[tf.SparseTensorSpec([n, n], tf.float32), tf.TensorSpec([count, 2], tf.int64)])
    def step(a_hat, negatives):
        with tf.GradientTape() as tape:
            z = encoder((x, a_hat), training=True)
            logits = tf.concat([dot_scores(z, positives), dot_scores(z, negatives)], axis=0)
            labels = tf.concat([tf.ones(count), tf.zeros(count)], axis=0)
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels, logits))
            total = loss + sum(encoder.losses)
        optimizer.apply_gradients(zip(tape.gradient(total, weights), weights))

    for _ in range(cfg["epochs"]):
        negatives = negative_edges(train_adjacency, count, rng)
        step(graph_for_epoch(train_adjacency, a_full), tf.constant(negatives))
    z = np.asarray(encoder((x, a_full), training=False))
    return {"score": roc_auc(np.asarray(dot_scores(z, test_edges)), np.asarray(dot_scores(z, test_negatives)))}
    # END SOLUTION
