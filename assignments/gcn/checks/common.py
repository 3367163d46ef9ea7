"""What the GCN lab's checks share (ships to students with ``public.py``).

The graphs the checks build (in the trusted process, NumPy/SciPy only), the
conversions between SciPy matrices and the plain arrays the sandbox protocol
carries, and the training loops the training checks run *with the student's
models* on the observe side (``bench/calibrate_gcn.py`` runs the very same
loops on the reference). Nothing here reads ``lab.toml``: each training
check passes its configuration to ``observe`` in its inputs.
"""

import numpy as np

#: Float64 NumPy parts agree with the reference to round-off.
EXACT = 1e-9


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


def sage_predict(sub, model, features, neighbors, *, sizes, rng, rounds: int = 1):
    """Class probabilities for every node of a graph, averaged over ``rounds``
    independently sampled neighbourhoods (sampling noise averages out)."""
    import keras

    nodes = np.arange(len(features))
    total = 0.0
    for _ in range(rounds):
        hop1, hop2 = sub.sample_computation_graph(neighbors, nodes, tuple(sizes), rng)
        logits = model((features, features[np.asarray(hop1)], features[np.asarray(hop2)]), training=False)
        total = total + np.asarray(keras.ops.softmax(logits, axis=-1))
    return total / rounds


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
