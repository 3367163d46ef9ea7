"""Helpers only the GCN lab's hidden checks use (graders only: never ships,
never enters the sandbox): input generation for the hidden checks."""

import dataclasses

import numpy as np

from .common import ACTIVATIONS, observed_weights


def cycle(n: int) -> np.ndarray:
    """The dense adjacency (n, n) of the cycle 0 − 1 − … − (n−1) − 0."""
    a = np.zeros((n, n))
    a[np.arange(n), (np.arange(n) + 1) % n] = 1
    return a + a.T


def hop_distances(adjacency) -> np.ndarray:
    """Shortest-path lengths in hops (n, n); ``inf`` between components."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import shortest_path

    return shortest_path(sp.csr_matrix(adjacency), unweighted=True, directed=False)


def salted_sbm(rng, graph: dict):
    """An SBM graph (:func:`grader.data.sbm_graph` with the settings ``graph``)
    drawn with a seed from ``rng``, its nodes then put in an ``rng`` order.

    ``sbm_graph`` numbers the nodes block by block, so its labels follow the
    node index; shuffled, they can only be learnt from the graph and features.
    """
    from grader.data import sbm_graph

    g = sbm_graph(**graph, seed=int(rng.integers(2**31)))
    perm = rng.permutation(g.num_nodes)  # new node i is old node perm[i]
    new_id = np.argsort(perm)
    return dataclasses.replace(
        g, adjacency=g.adjacency[perm][:, perm].tocsr(), features=g.features[perm], labels=g.labels[perm],
        train_index=np.sort(new_id[g.train_index]).astype(np.int64),
        val_index=np.sort(new_id[g.val_index]).astype(np.int64),
        test_index=np.sort(new_id[g.test_index]).astype(np.int64))


# -- the grader's own forward passes of the trained GAT and GraphSAGE (judging) --

def gat_layer_forward(h, adjacency, kernel, attn_self, attn_neighbor, *, concat: bool, activation: str,
                      slope: float = 0.2):
    """One GAT layer at inference (the handout's formulas), NumPy float64."""
    z = np.einsum("nf,fhu->hnu", h, kernel)
    e = np.einsum("hnu,hu->hn", z, attn_self)[:, :, None] + np.einsum("hnu,hu->hn", z, attn_neighbor)[:, None, :]
    e = np.where(e > 0, e, slope * e)
    mask = (np.asarray(adjacency) != 0) | np.eye(len(h), dtype=bool)
    e = np.where(mask[None], e, -np.inf)
    alpha = np.exp(e - e.max(axis=-1, keepdims=True))
    alpha /= alpha.sum(axis=-1, keepdims=True)
    out = np.einsum("hij,hju->hiu", alpha, z)
    out = out.transpose(1, 0, 2).reshape(len(h), -1) if concat else out.mean(axis=0)
    return ACTIVATIONS[activation](out)


def gat_inference(got, x, adjacency, *, hidden: int, heads: int, outputs: int):
    """The grader's forward pass of the specified GAT from ``gat1``/``gat2``'s
    weights: ``GATLayer(hidden, heads, concat, "elu")`` then
    ``GATLayer(outputs, 1, concat=False)``; dropout is the identity."""
    f_in = x.shape[1]
    (k1, s1, n1), (k2, s2, n2) = observed_weights(
        got, [[(f_in, heads, hidden), (heads, hidden), (heads, hidden)],
              [(heads * hidden, 1, outputs), (1, outputs), (1, outputs)]], "gat1, gat2 (kernel, attn_self, attn_neighbor)")
    h = gat_layer_forward(x, adjacency, k1, s1, n1, concat=True, activation="elu")
    return gat_layer_forward(h, adjacency, k2, s2, n2, concat=False, activation="linear")


def sage_inference(got, x0, x1, x2, *, hidden: int, outputs: int):
    """The grader's forward pass of the specified GraphSAGE from ``sage1``/``sage2``'s
    weights: ``h0 = relu(sage1(x0, x1))``, ``h1 = relu(sage1(x1, x2))``, logits ``sage2(h0, h1)``."""
    f_in = x0.shape[-1]
    (s1, n1, b1), (s2, n2, b2) = observed_weights(
        got, [[(f_in, hidden), (f_in, hidden), (hidden,)], [(hidden, outputs), (hidden, outputs), (outputs,)]],
        "sage1, sage2 (kernel_self, kernel_neighbor, bias)")

    def mean_layer(h_self, h_nbrs, ks, kn, b):
        return h_self @ ks + h_nbrs.mean(axis=-2) @ kn + b

    h0 = np.maximum(mean_layer(x0, x1, s1, n1, b1), 0)
    h1 = np.maximum(mean_layer(x1, x2, s1, n1, b1), 0)
    return mean_layer(h0, h1, s2, n2, b2)
