"""Graphs for the GCN lab: the Planetoid citation networks (Cora, Citeseer),
the protein-protein interaction graphs (PPI, GraphSAGE's files), networkx's
karate club, and stochastic block models, as :class:`GraphData`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from grader.data.directory import DataError, locate


#: The eight Planetoid files of one data set, ``ind.<name>.<part>``.
PLANETOID_PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")


@dataclasses.dataclass(frozen=True, eq=False)
class GraphData:
    """A graph for node classification, with a fixed split.

    Attributes:
        name: the data set's name.
        adjacency: (n, n) ``scipy.sparse.csr_matrix``, symmetric, float32, 1 for
            each edge. Self-loops are kept only where the source data has them
            (Citeseer lists 124); the GCN normalisation adds its own.
        features: (n, d) ``scipy.sparse.csr_matrix`` (Planetoid: binary
            bag-of-words, not normalised) or a dense float32 array.
        labels: (n,) int64 class ids; -1 for a node without a label (Citeseer's
            isolated test-range nodes). A multi-label data set (PPI) has
            (n, L) float32 0/1 rows instead, one column per label.
        train_index, val_index, test_index: int64 node ids of the split.
    """

    name: str
    adjacency: object
    features: object
    labels: np.ndarray
    train_index: np.ndarray
    val_index: np.ndarray
    test_index: np.ndarray

    @property
    def num_nodes(self) -> int:
        return int(self.adjacency.shape[0])

    @property
    def multi_label(self) -> bool:
        """Whether ``labels`` is multi-hot (n, L) rather than class ids (n,)."""
        return self.labels.ndim == 2

    @property
    def num_classes(self) -> int:
        """Classes, or labels per node for a multi-label data set."""
        return int(self.labels.shape[1]) if self.multi_label else int(self.labels.max()) + 1

    def edges(self) -> np.ndarray:
        """(E, 2) int64 undirected edges ``(i, j)`` with ``i < j``, sorted (self-loops left out)."""
        import scipy.sparse as sp

        upper = sp.triu(self.adjacency, k=1).tocoo()
        pairs = np.stack([upper.row, upper.col], axis=1).astype(np.int64)
        return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def _read_planetoid_file(path: Path):
    """One Planetoid pickle. These files are Python-2 pickles of SciPy/NumPy
    objects; they are only opened after ``locate`` has verified their SHA-256
    against ``data_checksums.txt``, so unpickling cannot run foreign code."""
    import pickle
    import warnings

    with path.open("rb") as fh, warnings.catch_warnings():
        # Pickled with an old SciPy: they name the deprecated scipy.sparse.csr module.
        warnings.simplefilter("ignore", DeprecationWarning)
        return pickle.load(fh, encoding="latin1")  # noqa: S301 - checksum-verified above


def planetoid(name: str, data_dir: str | Path | None = None) -> GraphData:
    """Cora or Citeseer with the standard Planetoid split, exactly as the
    reference GCN code (Kipf's ``utils.load_data``) builds it.

    * train = the first 140 (Cora) / 120 (Citeseer) nodes (``ind.<name>.y``),
      validation = the next 500, test = the 1,000 sorted ids of
      ``ind.<name>.test.index``;
    * the test rows ``tx``/``ty`` are put at the positions their index file
      names; Citeseer's 15 isolated nodes inside the test range, which have no
      rows, get zero features and label -1, as the reference code pads them;
    * the adjacency is the undirected graph of ``ind.<name>.graph``.

    The files (``ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}``, from the
    GCN repository ``github.com/tkipf/gcn``, folder ``gcn/data``) go in a
    ``planetoid/`` folder of the data directory. Raises :class:`DataError`
    naming the missing files and the folders searched.
    """
    import scipy.sparse as sp

    if name not in ("cora", "citeseer"):
        raise ValueError(f"unknown Planetoid data set {name!r}: use 'cora' or 'citeseer'")
    files = [f"planetoid/ind.{name}.{part}" for part in PLANETOID_PARTS]
    folder = locate(files, data_dir)
    x, y, tx, ty, allx, ally, graph = (_read_planetoid_file(folder / f) for f in files[:-1])
    test_order = np.loadtxt(folder / files[-1], dtype=np.int64)
    test_sorted = np.sort(test_order)

    # Citeseer: some ids inside the test range have no row in tx/ty (isolated
    # nodes); give them zero rows so row k of tx sits at test_sorted[k].
    first = int(test_sorted[0])
    span = int(test_sorted[-1]) - first + 1
    tx_full = sp.lil_matrix((span, tx.shape[1]), dtype=np.float32)
    tx_full[test_sorted - first, :] = tx
    ty_full = np.zeros((span, ty.shape[1]), dtype=ty.dtype)
    ty_full[test_sorted - first, :] = ty

    features = sp.vstack([allx, tx_full]).tolil()
    features[test_order, :] = features[test_sorted, :]
    onehot = np.vstack([ally, ty_full])
    onehot[test_order, :] = onehot[test_sorted, :]
    labels = np.where(onehot.any(axis=1), onehot.argmax(axis=1), -1).astype(np.int64)

    n = features.shape[0]
    rows = [i for i, nbrs in graph.items() for _ in nbrs]
    cols = [j for nbrs in graph.values() for j in nbrs]
    if max(max(rows), max(cols)) >= n:
        raise DataError(f"ind.{name}.graph names nodes beyond the {n} feature rows (corrupt files?)")
    adjacency = sp.coo_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, n)).tocsr()
    adjacency = adjacency + adjacency.T
    adjacency.data[:] = 1.0  # an undirected graph: duplicates and both directions count once

    return GraphData(
        name=name,
        adjacency=adjacency.astype(np.float32).tocsr(),
        features=features.tocsr().astype(np.float32),
        labels=labels,
        train_index=np.arange(len(y), dtype=np.int64),
        val_index=np.arange(len(y), len(y) + 500, dtype=np.int64),
        test_index=test_sorted,
    )


def cora(data_dir: str | Path | None = None) -> GraphData:
    """Cora: 2,708 papers, 1,433 binary word features, 7 classes (see :func:`planetoid`)."""
    return planetoid("cora", data_dir)


def citeseer(data_dir: str | Path | None = None) -> GraphData:
    """Citeseer: 3,327 papers, 3,703 binary word features, 6 classes (see :func:`planetoid`)."""
    return planetoid("citeseer", data_dir)


#: GraphSAGE's PPI files, in a ``ppi/`` folder of the data directory.
PPI_FILES = ("ppi-G.json", "ppi-feats.npy", "ppi-id_map.json", "ppi-class_map.json")


@dataclasses.dataclass(frozen=True, eq=False)
class InductiveSplit:
    """Graphs for inductive learning: a model trains on ``train`` and is
    scored on ``val``/``test``, graphs it has never seen (no edge joins two
    of them). Each is a :class:`GraphData` whose every node belongs to its
    split: ``train.train_index``, ``val.val_index`` and ``test.test_index``
    list all of their nodes, the other two index arrays are empty."""

    name: str
    train: GraphData
    val: GraphData
    test: GraphData


def _read_json(path: Path, what: str):
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise DataError(f"{path.name} is not a readable JSON file ({what}): {exc}") from None


def graphsage_graphs(prefix: str, data_dir: str | Path | None = None) -> InductiveSplit:
    """A data set in GraphSAGE's format (``<prefix>-G.json`` …), split by its
    nodes' ``val``/``test`` flags into train, validation and test graphs.

    The files, all in the same folder (``prefix`` is relative to the data
    directory, e.g. ``"ppi/ppi"``):

    * ``<prefix>-G.json``: networkx's node-link JSON (``nodes`` with an
      ``id`` and the flags ``val`` and ``test``, absent meaning false;
      ``links`` (or ``edges``) with a ``source`` and a ``target`` node id);
    * ``<prefix>-feats.npy``: the feature matrix (N, F), read without pickle;
    * ``<prefix>-id_map.json``: node id (as a string) → its row of the features;
    * ``<prefix>-class_map.json``: node id → its multi-hot label list (or one
      class id).

    An edge between two splits is dropped (GraphSAGE does the same), so no
    test node is seen in training. Labels are (n, L) float32 0/1 for
    multi-hot lists, else (n,) int64. Raises :class:`DataError` naming the
    missing file, or what is malformed in which file.
    """
    import scipy.sparse as sp

    stem = Path(prefix)
    names = [f"{prefix}-{part}" for part in ("G.json", "feats.npy", "id_map.json", "class_map.json")]
    folder = locate(names, data_dir)
    graph_file, feats_file, id_file, class_file = (folder / name for name in names)
    graph = _read_json(graph_file, "the graph")
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
        raise DataError(f"{graph_file.name} has no list of `nodes` (not networkx's node-link format)")
    links = graph.get("links", graph.get("edges"))
    if not isinstance(links, list):
        raise DataError(f"{graph_file.name} has no list of `links` (not networkx's node-link format)")
    nodes = graph["nodes"]
    if not nodes:
        raise DataError(f"{graph_file.name} has no nodes")
    try:
        ids = [str(node["id"]) for node in nodes]
        split = np.array([2 if node.get("test") else 1 if node.get("val") else 0 for node in nodes], dtype=np.int64)
    except (KeyError, TypeError, AttributeError):
        raise DataError(f"{graph_file.name}: every node needs an `id`") from None
    position = {node_id: i for i, node_id in enumerate(ids)}
    if len(position) != len(ids):
        raise DataError(f"{graph_file.name}: a node id is listed twice")
    try:
        pairs = np.array([(position[str(link["source"])], position[str(link["target"])]) for link in links],
                         dtype=np.int64).reshape(-1, 2)
    except KeyError as exc:
        raise DataError(f"{graph_file.name}: a link names node {exc}, which is not in `nodes`") from None
    except (TypeError, AttributeError):
        raise DataError(f"{graph_file.name}: every link needs a `source` and a `target`") from None

    try:
        feats = np.load(feats_file, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{feats_file.name} is not a readable .npy array of numbers: {exc}") from None
    if feats.ndim != 2 or not np.issubdtype(feats.dtype, np.number):
        raise DataError(f"{feats_file.name} must hold a 2-D array of numbers, not {feats.dtype} {feats.shape}")
    id_map, class_map = _read_json(id_file, "node id → feature row"), _read_json(class_file, "node id → labels")
    if not isinstance(id_map, dict) or not isinstance(class_map, dict):
        raise DataError(f"{id_file.name} and {class_file.name} must each map node ids to values")
    for mapping, file in ((id_map, id_file), (class_map, class_file)):
        if absent := [node_id for node_id in ids if node_id not in mapping]:
            raise DataError(f"{file.name} has no entry for {len(absent)} node(s), e.g. {absent[0]}")
    rows = np.array([id_map[node_id] for node_id in ids])
    if not np.issubdtype(rows.dtype, np.integer) or rows.min() < 0 or rows.max() >= len(feats):
        raise DataError(f"{id_file.name} maps nodes to rows outside 0..{len(feats) - 1} of {feats_file.name}")
    labels = [class_map[node_id] for node_id in ids]
    try:
        if isinstance(labels[0], list):
            labels = np.array(labels, dtype=np.float32)
            if labels.ndim != 2 or not np.isin(labels, (0, 1)).all():
                raise ValueError
        else:
            labels = np.array(labels, dtype=np.int64)
            if labels.ndim != 1:
                raise ValueError
    except (TypeError, ValueError):
        raise DataError(f"{class_file.name}: every node needs a class id, or 0/1 label lists of one length") from None

    features = feats[rows].astype(np.float32)
    n = len(ids)
    same = split[pairs[:, 0]] == split[pairs[:, 1]]
    kept = pairs[same]
    adjacency = sp.coo_matrix((np.ones(len(kept), np.float32), (kept[:, 0], kept[:, 1])), shape=(n, n)).tocsr()
    adjacency = adjacency + adjacency.T
    adjacency.data[:] = 1.0  # undirected: both directions and repeats count once

    def part(which: int, slot: str) -> GraphData:
        members = np.flatnonzero(split == which)
        every, none = np.arange(len(members), dtype=np.int64), np.zeros(0, np.int64)
        return GraphData(f"{stem.name}-{slot}", adjacency[members][:, members].tocsr(), features[members],
                         labels[members], *(every if s == slot else none for s in ("train", "val", "test")))

    return InductiveSplit(stem.name, part(0, "train"), part(1, "val"), part(2, "test"))


def ppi(data_dir: str | Path | None = None) -> InductiveSplit:
    """PPI, the protein-protein interaction graphs of GraphSAGE (Hamilton et
    al. 2017): 24 tissue graphs, 56,944 proteins, 50 features, 121 labels
    per protein (multi-hot); 20 graphs to train on, 2 for validation, 2 for
    test. Scored with :func:`micro_f1`.

    The files ``ppi-G.json``, ``ppi-feats.npy``, ``ppi-id_map.json`` and
    ``ppi-class_map.json`` (GraphSAGE's ``example_data``, or the ``ppi.zip`` of
    ``snap.stanford.edu/graphsage``) go in a ``ppi/`` folder of the data
    directory. See :func:`graphsage_graphs` for what each holds.
    """
    return graphsage_graphs("ppi/ppi", data_dir)


def micro_f1(y_true, y_pred) -> float:
    """Micro-averaged F1 of multi-label predictions: ``2·TP / (2·TP + FP + FN)``
    counted over every (node, label) pair (scikit-learn's
    ``f1_score(average="micro")``; 0 when there is nothing to count).

    Args:
        y_true, y_pred: (n, L) arrays of 0/1 (or booleans), the same shape.
    """
    truth = np.asarray(y_true).astype(bool)
    pred = np.asarray(y_pred).astype(bool)
    if truth.shape != pred.shape or truth.ndim != 2:
        raise ValueError(f"micro_f1 needs two (n, L) arrays of the same shape, got {truth.shape} and {pred.shape}")
    tp = int(np.sum(truth & pred))
    wrong = int(np.sum(truth != pred))
    return 2 * tp / (2 * tp + wrong) if tp + wrong else 0.0


def karate_club() -> GraphData:
    """Zachary's karate club (networkx): 34 members, 78 friendships, 2 factions.

    Features are the identity (one-hot node ids), labels the faction after the
    split (0 = Mr. Hi, 1 = Officer); the two leaders (nodes 0 and 33) are the
    training nodes, every other node is a test node (no validation nodes).
    """
    import networkx as nx
    import scipy.sparse as sp

    g = nx.karate_club_graph()
    n = g.number_of_nodes()
    adjacency = nx.to_scipy_sparse_array(g, nodelist=range(n), weight=None, dtype=np.float32)
    labels = np.array([0 if g.nodes[i]["club"] == "Mr. Hi" else 1 for i in range(n)], dtype=np.int64)
    train = np.array([0, n - 1], dtype=np.int64)
    return GraphData("karate", sp.csr_matrix(adjacency), np.eye(n, dtype=np.float32), labels,
                     train, np.zeros(0, np.int64), np.setdiff1d(np.arange(n), train))


def sbm_graph(sizes=(100, 100, 100), p_in: float = 0.1, p_out: float = 0.01, *, num_features: int = 16,
              noise: float = 2.0, labels_per_class: int = 5, seed: int = 0) -> GraphData:
    """A stochastic block model graph (networkx) whose blocks are the classes.

    Nodes of block c are joined with probability ``p_in`` inside the block and
    ``p_out`` across blocks. Features are the block's centre (a standard
    normal vector per block, the same for every ``seed``) plus Gaussian noise
    of standard deviation ``noise``, so the features alone classify poorly and
    the graph is needed. The first ``labels_per_class`` nodes of each block
    (in a seeded random order) are the training nodes, the rest test nodes.

    Returns a :class:`GraphData` with dense float32 ``features`` (n, num_features).
    """
    import networkx as nx
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    k = len(sizes)
    probs = [[p_in if a == b else p_out for b in range(k)] for a in range(k)]
    g = nx.stochastic_block_model(list(sizes), probs, seed=int(rng.integers(2**31)))
    n = sum(sizes)
    adjacency = sp.csr_matrix(nx.to_scipy_sparse_array(g, nodelist=range(n), weight=None, dtype=np.float32))
    labels = np.repeat(np.arange(k), sizes).astype(np.int64)
    centres = np.random.default_rng(12345).normal(size=(k, num_features))
    features = (centres[labels] + noise * rng.normal(size=(n, num_features))).astype(np.float32)
    train = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:labels_per_class] for c in range(k)]))
    return GraphData(f"sbm{k}", adjacency, features, labels, train.astype(np.int64), np.zeros(0, np.int64),
                     np.setdiff1d(np.arange(n), train).astype(np.int64))
