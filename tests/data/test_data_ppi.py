"""The PPI loader of ``grader.data`` (GraphSAGE's file format) on a small
data set of the same format that each test writes itself (networkx's
node-link JSON, ``json``, ``np.save``), and the micro-F1 helper against
scikit-learn."""

import json

import networkx as nx
import numpy as np
import pytest
from sklearn.metrics import f1_score

from grader import data
from grader.data import DataError, InductiveSplit

LABELS = 5


def write_graphsage(folder, *, seed=0, edges_key=None, shuffle_rows=True):
    """Three small disjoint "tissue" graphs in GraphSAGE's format under
    ``folder/ppi/``: graph 0 trains, graph 1 validates, graph 2 tests, plus
    one edge joining a training node to a test node (the loader must drop it).
    Node ids are not positions (they start at 100) and the feature rows are
    shuffled through the id map. Returns what the files hold, for the checks."""
    rng = np.random.default_rng(seed)
    sizes = (7, 4, 5)
    g = nx.disjoint_union_all([nx.gnp_random_graph(s, 0.5, seed=seed + i) for i, s in enumerate(sizes)])
    g = nx.relabel_nodes(g, {i: 100 + i for i in g})
    flags = np.repeat([0, 1, 2], sizes)
    for node, which in zip(sorted(g), flags):
        g.nodes[node]["val"], g.nodes[node]["test"] = bool(which == 1), bool(which == 2)
    g.add_edge(100, 100 + sizes[0] + sizes[1])  # train ↔ test: dropped by the loader
    n = g.number_of_nodes()
    feats = rng.normal(size=(n, 3))
    rows = rng.permutation(n) if shuffle_rows else np.arange(n)
    id_map = {str(node): int(rows[i]) for i, node in enumerate(sorted(g))}
    labels = (rng.random((n, LABELS)) < 0.4).astype(int)
    class_map = {str(node): labels[i].tolist() for i, node in enumerate(sorted(g))}
    link_data = nx.node_link_data(g, edges=edges_key) if edges_key else nx.node_link_data(g)
    out = folder / "ppi"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ppi-G.json").write_text(json.dumps(link_data))
    np.save(out / "ppi-feats.npy", feats)
    (out / "ppi-id_map.json").write_text(json.dumps(id_map))
    (out / "ppi-class_map.json").write_text(json.dumps(class_map))
    return g, feats, id_map, labels, flags


@pytest.mark.parametrize("edges_key", [None, "links", "edges"])
def test_ppi_is_split_into_train_val_and_test_graphs_by_the_flags(tmp_path, edges_key):
    g, feats, id_map, labels, flags = write_graphsage(tmp_path, edges_key=edges_key)
    split = data.ppi(tmp_path)
    assert isinstance(split, InductiveSplit) and split.name == "ppi"
    nodes = sorted(g)
    for which, graph in enumerate((split.train, split.val, split.test)):
        members = [node for node, f in zip(nodes, flags) if f == which]
        n = len(members)
        assert graph.num_nodes == n and graph.multi_label and graph.num_classes == LABELS
        # Features through the id map, multi-hot labels, in the file's node order.
        np.testing.assert_allclose(graph.features, feats[[id_map[str(m)] for m in members]], rtol=1e-6)
        np.testing.assert_array_equal(graph.labels, labels[np.flatnonzero(flags == which)])
        assert graph.labels.dtype == np.float32
        # The graph's own edges, symmetric, and nothing from another split.
        want = nx.to_numpy_array(g.subgraph(members), nodelist=members, weight=None)
        np.testing.assert_array_equal(graph.adjacency.toarray(), want)
        own = {"train": graph.train_index, "val": graph.val_index, "test": graph.test_index}
        for slot, index in own.items():
            expected = np.arange(n) if slot == ("train", "val", "test")[which] else np.zeros(0)
            np.testing.assert_array_equal(index, expected)
    # The train ↔ test edge of the file is in neither graph.
    assert split.train.adjacency.sum() == 2 * g.subgraph(nodes[:7]).number_of_edges()


def test_planetoid_graphs_keep_their_class_ids():
    graph = data.sbm_graph((5, 5), seed=1)
    assert not graph.multi_label and graph.num_classes == 2


def _break(tmp_path, name, text):
    (tmp_path / "ppi" / name).write_text(text)


@pytest.mark.parametrize("change, words", [
    (lambda p: (p / "ppi" / "ppi-feats.npy").unlink(), "data files not found: .*ppi-feats.npy"),
    (lambda p: _break(p, "ppi-G.json", "{not json"), "ppi-G.json is not a readable JSON file"),
    (lambda p: _break(p, "ppi-G.json", json.dumps({"links": []})), "no list of `nodes`"),
    (lambda p: _break(p, "ppi-G.json", json.dumps({"nodes": [{"id": 1}, {"id": 2}], "links": [
        {"source": 1, "target": 9}]})), "a link names node '9'"),
    (lambda p: _break(p, "ppi-G.json", json.dumps({"nodes": [{"name": 1}], "links": []})), "needs an `id`"),
    (lambda p: _break(p, "ppi-id_map.json", json.dumps({"100": 0})), "ppi-id_map.json has no entry for 15 node"),
    (lambda p: _break(p, "ppi-id_map.json", json.dumps({str(i): 99 for i in range(100, 116)})), "rows outside"),
    (lambda p: _break(p, "ppi-class_map.json", json.dumps({str(i): [0, 1][: 1 + i % 2] for i in range(100, 116)})),
     "label lists of one length"),
    (lambda p: _break(p, "ppi-class_map.json", json.dumps({str(i): [0, 2] for i in range(100, 116)})),
     "label lists of one length"),
    (lambda p: np.save(p / "ppi" / "ppi-feats.npy", np.array(["a", "b"])), "2-D array of numbers"),
    (lambda p: (p / "ppi" / "ppi-feats.npy").write_bytes(b"not numpy"), "not a readable .npy"),
])
def test_missing_or_malformed_ppi_files_raise_a_data_error_that_says_what(tmp_path, change, words):
    write_graphsage(tmp_path)
    change(tmp_path)
    with pytest.raises(DataError, match=words):
        data.ppi(tmp_path)


def test_a_pickled_feature_file_is_refused_not_unpickled(tmp_path):
    write_graphsage(tmp_path)
    np.save(tmp_path / "ppi" / "ppi-feats.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="not a readable .npy"):
        data.ppi(tmp_path)


@pytest.mark.parametrize("seed", range(5))
def test_micro_f1_agrees_with_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    truth = rng.random((40, 7)) < 0.3
    pred = rng.random((40, 7)) < 0.2 + 0.1 * seed
    assert data.micro_f1(truth, pred) == pytest.approx(f1_score(truth, pred, average="micro"), abs=1e-12)
    assert data.micro_f1(truth.astype(int), truth.astype(float)) == 1.0


def test_micro_f1_of_nothing_to_find_is_zero_and_shapes_must_agree():
    empty = np.zeros((3, 4))
    assert data.micro_f1(empty, empty) == 0.0 == f1_score(empty, empty, average="micro", zero_division=0)
    with pytest.raises(ValueError, match="same shape"):
        data.micro_f1(np.zeros((3, 4)), np.zeros((3, 5)))
