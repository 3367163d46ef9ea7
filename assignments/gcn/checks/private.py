"""Helpers only the GCN lab's hidden checks use (graders only: never ships,
never enters the sandbox): input generation for the hidden checks."""

import dataclasses

import numpy as np


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
