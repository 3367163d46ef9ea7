"""What the GCN lab's checks share (ships to students with ``public.py``).

The graphs the checks build (in the trusted process, NumPy/SciPy only), the
conversions between SciPy matrices and the plain arrays the sandbox protocol
carries, and the training loops the training checks run *with the student's
models* on the observe side (``bench/calibrate_gcn.py`` runs the very same
loops on the reference), the grader's own forward passes (NumPy, trusted
side) that training checks predict with from the weights the student's model
trained, and the "implement it yourself" rules (:mod:`grader.checks.byhand`) of the
parts the handout says to write by hand. Nothing here reads ``lab.toml``:
each training check passes its configuration to ``observe`` in its inputs.
"""

import numpy as np

from grader.checks.byhand import FRAMEWORKS, LIBRARY_ATTENTION, ByHand

#: Float64 NumPy parts agree with the reference to round-off.
EXACT = 1e-9

# --------------------------------------------------------------------------
# "Implement it yourself": what each part may not call (never what the
# reference uses: NumPy, SciPy's sparse matrices and np.linalg.eigh for the
# eigen-decomposition of part 2; TensorFlow's elementary ops in the layers)
# --------------------------------------------------------------------------

#: Ready-made Laplacians, normalised adjacencies and spectra (named one by one: the rule reads
#: calls into what it names, and networkx as a whole also exports enum machinery everybody calls).
NETWORKX = ("networkx.laplacian_matrix", "networkx.normalized_laplacian_matrix", "networkx.laplacian_spectrum",
            "networkx.normalized_laplacian_spectrum", "networkx.adjacency_spectrum", "networkx.adjacency_matrix",
            "networkx.to_numpy_array", "networkx.to_scipy_sparse_array", "networkx.from_numpy_array",
            "networkx.from_scipy_sparse_array", "networkx.Graph")
#: Graph-learning libraries' layers.
GRAPH_LAYERS = ("torch_geometric", "dgl", "spektral", "stellargraph")
GRAPH_LIBRARIES = NETWORKX + ("scipy.sparse.csgraph",) + GRAPH_LAYERS
#: The handout's NumPy/SciPy parts (1–3, 7, 8) may not hand the work to TensorFlow/Keras or a graph library.
NUMPY_PART = FRAMEWORKS + GRAPH_LIBRARIES
#: Eigen-decompositions and library Chebyshev polynomials: the Chebyshev filter's recurrence avoids them.
EIGEN = ("numpy.linalg.eig", "numpy.linalg.eigh", "numpy.linalg.eigvals", "numpy.linalg.eigvalsh", "numpy.polynomial",
         "scipy.linalg", "scipy.sparse.linalg", "tensorflow.linalg.eig", "tensorflow.linalg.eigh",
         "tensorflow.linalg.expm", "keras.ops.eig", "keras.ops.eigh")

# One check's rules are watched together (what one forbids, the others' functions may not
# call either), so the rules a check carries never forbid what its other parts need.
LAPLACIAN_RULE = ByHand(
    functions=("laplacians",), forbid=NUMPY_PART,
    why="Part 1 builds L = D − A, L_sym and L_rw yourself in NumPy (no networkx or scipy.sparse.csgraph "
        "Laplacian, no TensorFlow)")
SPECTRAL_RULE = ByHand(
    functions=("fourier_basis", "gft", "igft", "smoothness", "spectral_filter", "normalized_lambda_max"),
    forbid=FRAMEWORKS + NETWORKX,
    why="Part 2 is NumPy: np.linalg.eigh for the eigen-decomposition, the rest your own matrix products "
        "(no networkx spectrum, no TensorFlow)")
CHEBYSHEV_RULE = ByHand(
    functions=("scaled_laplacian", "chebyshev_basis", "ChebConv.call"), forbid=GRAPH_LIBRARIES + EIGEN,
    why="Part 3's Chebyshev filter is the three-term recurrence (chebyshev_basis, and ChebConv with "
        "graph_matmul): K products with L̃, no eigen-decomposition, no library Chebyshev polynomials or graph layer")
GCN_NORM_RULE = ByHand(
    functions=("gcn_norm",), forbid=NUMPY_PART,
    why="Part 4's gcn_norm builds D̃^{-1/2}(A + I)D̃^{-1/2} yourself with scipy.sparse (no networkx or "
        "csgraph normalisation)")
#: Library attention: GAT's masked softmax over the neighbourhood is the part to write.
ATTENTION = LIBRARY_ATTENTION
GAT_RULE = ByHand(
    functions=("GATLayer.call",), forbid=ATTENTION + GRAPH_LAYERS,
    why="Part 5's GATLayer computes e_ij, masks it and takes the softmax over N(i) ∪ {i} itself: no Keras "
        "attention layer or op, no library GAT layer")
PROPAGATE_RULE = ByHand(
    functions=("propagate", "sqrt_degree_alignment"),
    forbid=GRAPH_LIBRARIES + ("numpy.linalg.matrix_power", "scipy.sparse.linalg", "scipy.linalg", "sklearn",
                              "scipy.spatial", "tensorflow.linalg.matmul", "keras.ops.matmul"),
    why="Part 7's propagate multiplies by Â m times (never forms Â^m, no matrix_power) and the alignment "
        "is your own cosine, in NumPy")
#: Library normalisations a PairNorm could hand its rescaling to.
NORMALIZATIONS = ("keras.layers.LayerNormalization", "keras.layers.BatchNormalization",
                  "keras.layers.UnitNormalization", "keras.layers.GroupNormalization", "keras.layers.Normalization",
                  "keras.ops.normalize", "keras.ops.batch_normalization", "tensorflow.nn.l2_normalize",
                  "tensorflow.math.l2_normalize", "tensorflow.nn.batch_normalization", "tensorflow.linalg.normalize")
PAIR_NORM_RULE = ByHand(
    functions=("pair_norm",), forbid=NORMALIZATIONS,
    why="Part 7's PairNorm centres and rescales with elementary ops (keras.ops.mean, sum, sqrt): no library "
        "normalisation")
#: Library dropout and random numbers not drawn from the Generator passed in.
DROPOUTS = ("tensorflow.nn.dropout", "tensorflow.random", "keras.layers.Dropout", "keras.random",
            "numpy.random.random", "numpy.random.rand", "numpy.random.uniform", "numpy.random.binomial",
            "numpy.random.choice", "numpy.random.permutation", "numpy.random.shuffle")
DROP_EDGE_RULE = ByHand(
    functions=("drop_edge",), forbid=GRAPH_LIBRARIES + DROPOUTS,
    why="Part 7's DropEdge draws its keep flags from the Generator passed in, in NumPy/SciPy (no library "
        "dropout, no other random numbers)")
LINK_RULE = ByHand(
    functions=("split_edges", "negative_edges", "roc_auc"), forbid=NUMPY_PART + ("sklearn",),
    why="Part 8's split, negative sampling and ROC AUC are NumPy/SciPy (scipy.stats.rankdata is fine; no "
        "scikit-learn, no TensorFlow)")


# --------------------------------------------------------------------------
# Trusted side: graphs as plain arrays
# --------------------------------------------------------------------------

def edge_list(adjacency) -> np.ndarray:
    """(E, 2) int64 undirected edges ``i < j`` of a SciPy/NumPy adjacency."""
    import scipy.sparse as sp

    upper = sp.triu(sp.csr_matrix(adjacency), k=1).tocoo()
    return np.stack([upper.row, upper.col], axis=1).astype(np.int64)


def sparse_parts(matrix) -> dict:
    """A SciPy sparse matrix as plain arrays (``indices`` (nnz, 2), ``values``, ``shape``)."""
    import scipy.sparse as sp

    coo = sp.coo_matrix(matrix)
    return {"indices": np.stack([coo.row, coo.col], axis=1).astype(np.int64),
            "values": coo.data.astype(np.float32), "shape": np.array(coo.shape, dtype=np.int64)}


def row_normalize(features):
    """Features divided by their row sums (Kipf's ``preprocess_features``; empty rows stay 0)."""
    import scipy.sparse as sp

    features = sp.csr_matrix(features, dtype=np.float64)
    sums = np.asarray(features.sum(axis=1)).ravel()
    return (sp.diags(np.where(sums > 0, 1.0 / np.where(sums > 0, sums, 1), 0.0)) @ features).astype(np.float32).tocsr()


def sym_normalized(a):
    """``D^{-1/2} A D^{-1/2}`` and ``I − D^{-1/2} A D^{-1/2}`` of a dense graph without isolated nodes (trusted)."""
    s = 1 / np.sqrt(a.sum(axis=1))
    adj = s[:, None] * a * s[None, :]
    return adj, np.eye(len(a)) - adj


def gcn_matrix(a):
    """``D̃^{-1/2}(A + I)D̃^{-1/2}`` (trusted, dense)."""
    return sym_normalized(a + np.eye(len(a)))[0]


def random_graph(rng, n: int, p: float, *, connected: bool = True) -> np.ndarray:
    """A dense symmetric 0/1 Erdős–Rényi adjacency (n, n) without self-loops;
    with ``connected``, a random spanning path is added so the graph is connected."""
    upper = np.triu(rng.random((n, n)) < p, k=1)
    if connected:
        order = rng.permutation(n)
        upper[np.minimum(order[:-1], order[1:]), np.maximum(order[:-1], order[1:])] = True
    return (upper | upper.T).astype(np.float64)


def components(adjacency) -> int:
    """Number of connected components (an isolated node counts as one)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    return int(connected_components(sp.csr_matrix(adjacency), directed=False)[0])


def negative_pairs(adjacency, num: int, rng) -> np.ndarray:
    """``num`` distinct non-edges ``i < j`` of ``adjacency`` (trusted sampler for held-out negatives)."""
    import scipy.sparse as sp

    coo = sp.coo_matrix(adjacency)
    n = coo.shape[0]
    edges = set(zip(np.minimum(coo.row, coo.col).tolist(), np.maximum(coo.row, coo.col).tolist()))
    found: dict = {}
    while len(found) < num:
        i, j = sorted(int(v) for v in rng.integers(0, n, size=2))
        if i != j and (i, j) not in edges:
            found.setdefault((i, j), None)
    return np.array(list(found), dtype=np.int64)


def roc_auc(scores, labels) -> float:
    """Area under the ROC curve of ``scores`` for binary ``labels`` (ties count ½)."""
    from scipy.stats import rankdata

    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(bool)
    ranks = rankdata(scores)
    pos, neg = int(labels.sum()), int((~labels).sum())
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


# --------------------------------------------------------------------------
# Observe side: rebuilding the graph and training the student's models
# --------------------------------------------------------------------------

def adjacency_from_edges(edges, num_nodes: int):
    """A symmetric ``scipy.sparse.csr_matrix`` (float64) from undirected edges (E, 2)."""
    import scipy.sparse as sp

    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    half = sp.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(num_nodes, num_nodes))
    return (half + half.T).tocsr()


def sparse_tensor(parts):
    """The ``tf.SparseTensor`` of :func:`sparse_parts`' arrays."""
    import tensorflow as tf

    return tf.sparse.reorder(tf.SparseTensor(parts["indices"], parts["values"].astype(np.float32),
                                             [int(s) for s in parts["shape"]]))


def as_sparse_tensor(matrix, what: str):
    """A student's SciPy sparse (or dense) matrix as a float32 ``tf.SparseTensor``."""
    import scipy.sparse as sp

    if not (sp.issparse(matrix) or isinstance(matrix, np.ndarray)):
        raise TypeError(f"{what} should return a scipy.sparse matrix, got {type(matrix).__name__}")
    return sparse_tensor(sparse_parts(sp.csr_matrix(matrix)))


def train_full_batch(model, x, graph, train_index, y_train, *, epochs: int, learning_rate: float):
    """Full-batch training of a node classifier ``model((x, graph), training)``:
    Adam, cross-entropy on the training nodes plus ``model.losses`` (weight
    decay). Returns ``(logits of every node at inference, loss per epoch)``."""
    import keras
    import tensorflow as tf

    model((x, graph), training=False)  # build the weights eagerly, outside the traced step
    optimizer = keras.optimizers.Adam(learning_rate)
    index = tf.constant(np.asarray(train_index, dtype=np.int64))
    labels = tf.constant(np.asarray(y_train, dtype=np.int64))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            logits = model((x, graph), training=True)
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
                labels, tf.gather(logits, index), from_logits=True))
            total = loss + tf.add_n(model.losses) if model.losses else loss
        grads = tape.gradient(total, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    losses = [float(step()) for _ in range(epochs)]
    return np.asarray(model((x, graph), training=False)), losses


def train_sage(sub, model, features, neighbors, train_nodes, y_train, *, sizes, batch_size: int, epochs: int,
               learning_rate: float, rng):
    """Minibatch GraphSAGE training with the student's ``sample_computation_graph``.
    Returns the mean training loss per epoch."""
    import keras
    import tensorflow as tf

    optimizer = keras.optimizers.Adam(learning_rate)
    labels_of = dict(zip(np.asarray(train_nodes).tolist(), np.asarray(y_train).tolist()))

    def batch_inputs(nodes):
        hop1, hop2 = sub.sample_computation_graph(neighbors, nodes, tuple(sizes), rng)
        return features[nodes], features[np.asarray(hop1)], features[np.asarray(hop2)]

    @tf.function(reduce_retracing=True)
    def step(x0, x1, x2, y):
        with tf.GradientTape() as tape:
            logits = model((x0, x1, x2), training=True)
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    model(batch_inputs(np.asarray(train_nodes[:2])), training=False)
    history = []
    for _ in range(epochs):
        order = rng.permutation(np.asarray(train_nodes))
        losses = []
        for start in range(0, len(order), batch_size):
            nodes = order[start:start + batch_size]
            y = np.array([labels_of[i] for i in nodes.tolist()], dtype=np.int64)
            losses.append(float(step(*batch_inputs(nodes), y)))
        history.append(float(np.mean(losses)))
    return history


def train_link_predictor(sub, encoder, x, a_hat, train_adjacency, *, epochs: int, learning_rate: float, rng):
    """A graph auto-encoder: the student's encoder embeds the nodes, the
    student's ``dot_scores`` decodes pairs; binary cross-entropy on the training
    edges against as many fresh ``negative_edges`` each epoch. Returns
    ``(embeddings at inference, loss per epoch)``."""
    import keras
    import tensorflow as tf

    positives = edge_list(train_adjacency)
    encoder((x, a_hat), training=False)
    optimizer = keras.optimizers.Adam(learning_rate)
    pos = tf.constant(positives)

    @tf.function
    def step(neg):
        with tf.GradientTape() as tape:
            z = encoder((x, a_hat), training=True)
            logits = tf.concat([sub.dot_scores(z, pos), sub.dot_scores(z, neg)], axis=0)
            targets = tf.concat([tf.ones(len(positives)), tf.zeros(tf.shape(neg)[0])], axis=0)
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(targets, tf.reshape(logits, [-1])))
            total = loss + tf.add_n(encoder.losses) if encoder.losses else loss
        grads = tape.gradient(total, encoder.trainable_variables)
        optimizer.apply_gradients(zip(grads, encoder.trainable_variables))
        return loss

    losses = []
    for _ in range(epochs):
        neg = np.asarray(sub.negative_edges(train_adjacency, len(positives), rng), dtype=np.int64)
        losses.append(float(step(tf.constant(neg))))
    return np.asarray(encoder((x, a_hat), training=False)), losses


# --------------------------------------------------------------------------
# The grader's own inference (NumPy): training checks predict with the
# weights the student's model trained, through the architecture the handout
# specifies, and require the model's own output to be that architecture's
# --------------------------------------------------------------------------

#: The model's float32 output against the grader's float64 forward pass of
#: the same weights: round-off is about 1e-6; a missing or extra activation,
#: layer or graph product is far above it.
STRUCTURE_TOL = 1e-3


def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


ACTIVATIONS = {"relu": lambda x: np.maximum(x, 0), "elu": _elu, "tanh": np.tanh, "linear": lambda x: x}


def layer_weights(layers, names) -> list:
    """The named weights of each layer as float32 arrays (observe side)."""
    return [[np.asarray(getattr(layer, name)) for name in names] for layer in layers]


def observed_weights(got, shapes, what):
    """The observed weights checked against the expected shapes (list per layer)."""
    from grader.checks import judges

    weights = got.get("weights") if isinstance(got, dict) else None
    if not isinstance(weights, (list, tuple)) or len(weights) != len(shapes):
        raise judges.BadObservation(f"{what}: expected {len(shapes)} layers, found "
                                    f"{len(weights) if isinstance(weights, (list, tuple)) else 'none'}")
    out = []
    for i, (layer, layer_shapes) in enumerate(zip(weights, shapes)):
        if not isinstance(layer, (list, tuple)) or len(layer) != len(layer_shapes):
            raise judges.BadObservation(f"{what}: layer {i + 1} does not have its weights")
        out.append([judges.as_array(w, f"{what}: layer {i + 1} weight {j + 1}", shape=s)
                    for j, (w, s) in enumerate(zip(layer, layer_shapes))])
    return out


def observed_sparse(parts, n: int, what: str):
    """A SciPy matrix (n, n) from :func:`sparse_parts`' arrays a student's process returned (trusted side)."""
    import scipy.sparse as sp
    from grader.checks import judges

    try:
        idx = np.asarray(parts["indices"], dtype=np.int64).reshape(-1, 2)
        values = judges.as_array(parts["values"], what, shape=(len(idx),))
    except (KeyError, TypeError, ValueError) as exc:
        raise judges.BadObservation(f"{what}: not a sparse matrix ({exc})") from None
    if len(idx) and (idx.min() < 0 or idx.max() >= n):
        raise judges.BadObservation(f"{what}: an index outside 0..{n - 1}")
    return sp.csr_matrix((values, (idx[:, 0], idx[:, 1])), shape=(n, n))


def gcn_inference(got, x, *, hidden: int, outputs: int, layers: int, activation: str):
    """The grader's forward pass of the specified GCN from the trained
    ``gcn_layers`` weights and the student's Â (``got["a_hat"]``): hidden
    layers ``σ(Â H W + b)``, output ``Â H W + b``; dropout is the identity at
    inference. Returns float64 logits (n, outputs)."""
    n, f_in = x.shape
    widths = [f_in] + [hidden] * (layers - 1) + [outputs]
    weights = observed_weights(got, [[(widths[i], widths[i + 1]), (widths[i + 1],)] for i in range(layers)],
                       "gcn_layers (kernel, bias)")
    a_hat = observed_sparse(got["a_hat"], n, "Â from gcn_norm")
    h = x
    for i, (kernel, bias) in enumerate(weights):
        h = np.asarray(a_hat @ np.asarray(h @ kernel)) + bias
        if i < layers - 1:
            h = ACTIVATIONS[activation](h)
    return h


def same_architecture(model_output, grader_output, what: str, hint: str):
    """Verdict: the model's own inference output is the specified architecture's (structure gate)."""
    from grader.checks import judges

    verdict = judges.close(model_output, grader_output, what, tol=STRUCTURE_TOL, hint=hint)
    if not verdict.passed:
        verdict.message = "the model is not the architecture the part specifies: " + verdict.message
    return verdict
