"""The graph loaders of ``grader.data``: Planetoid Cora/Citeseer on the real
files (CI has them in ``../shared/data``), compared with a line-by-line
transcription of the reference GCN code's ``utils.load_data``, plus the
offline graphs (karate club, stochastic block models)."""

import pickle
import shutil
import sys
import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from grader import data
from grader.data import DataError, GraphData

PLANETOID = [f"planetoid/ind.{name}.{part}" for name in ("cora", "citeseer") for part in data.PLANETOID_PARTS]


def _have_planetoid() -> bool:
    try:
        data.locate(PLANETOID)
        return True
    except DataError:
        return False


needs_planetoid = pytest.mark.skipif(not _have_planetoid(), reason="Planetoid files not in any data directory")


def kipf_load_data(folder, dataset_str):
    """``utils.load_data`` of github.com/tkipf/gcn, transcribed (Python 3, NumPy
    arrays instead of boolean masks); an independent check of the loader."""
    objects = []
    for name in ["x", "y", "tx", "ty", "allx", "ally", "graph"]:
        with open(folder / f"planetoid/ind.{dataset_str}.{name}", "rb") as f, warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            objects.append(pickle.load(f, encoding="latin1"))
    x, y, tx, ty, allx, ally, graph = tuple(objects)
    test_idx_reorder = [int(line) for line in open(folder / f"planetoid/ind.{dataset_str}.test.index")]
    test_idx_range = np.sort(test_idx_reorder)
    if dataset_str == "citeseer":
        test_idx_range_full = range(min(test_idx_reorder), max(test_idx_reorder) + 1)
        tx_extended = sp.lil_matrix((len(test_idx_range_full), x.shape[1]))
        tx_extended[test_idx_range - min(test_idx_range), :] = tx
        tx = tx_extended
        ty_extended = np.zeros((len(test_idx_range_full), y.shape[1]))
        ty_extended[test_idx_range - min(test_idx_range), :] = ty
        ty = ty_extended
    features = sp.vstack((allx, tx)).tolil()
    features[test_idx_reorder, :] = features[test_idx_range, :]
    adj = nx.adjacency_matrix(nx.from_dict_of_lists(graph))
    labels = np.vstack((ally, ty))
    labels[test_idx_reorder, :] = labels[test_idx_range, :]
    idx_test = test_idx_range.tolist()
    idx_train = range(len(y))
    idx_val = range(len(y), len(y) + 500)
    return adj, features, labels, np.array(idx_train), np.array(idx_val), np.array(idx_test)


@needs_planetoid
@pytest.mark.parametrize("name,nodes,feats,classes,train", [("cora", 2708, 1433, 7, 140), ("citeseer", 3327, 3703, 6, 120)])
def test_planetoid_matches_reference_gcn_loader(name, nodes, feats, classes, train):
    got = data.planetoid(name)
    folder = data.locate([f"planetoid/ind.{name}.{p}" for p in data.PLANETOID_PARTS])
    adj, features, onehot, idx_train, idx_val, idx_test = kipf_load_data(folder, name)

    assert got.features.shape == (nodes, feats) and got.adjacency.shape == (nodes, nodes)
    assert got.num_classes == classes
    assert (got.adjacency != adj.astype(np.float32)).nnz == 0
    assert (got.features != features.tocsr().astype(np.float32)).nnz == 0
    labelled = onehot.any(axis=1)
    assert np.array_equal(got.labels[labelled], onehot[labelled].argmax(axis=1))
    assert np.all(got.labels[~labelled] == -1)
    assert np.array_equal(got.train_index, idx_train) and len(got.train_index) == train
    assert np.array_equal(got.val_index, idx_val) and len(got.val_index) == 500
    assert np.array_equal(got.test_index, idx_test) and len(got.test_index) == 1000
    # The split's nodes all carry labels, and the three parts do not overlap.
    split = np.concatenate([got.train_index, got.val_index, got.test_index])
    assert len(np.unique(split)) == len(split) and np.all(got.labels[split] >= 0)
    assert (got.adjacency != got.adjacency.T).nnz == 0 and set(np.unique(got.adjacency.data)) == {1.0}


@needs_planetoid
def test_citeseer_isolated_test_nodes_are_zero_padded():
    got = data.citeseer()
    unlabelled = np.flatnonzero(got.labels == -1)
    # 3,327 nodes = 2,312 (allx) + 1,000 test rows + the padded ids inside the test range.
    assert len(unlabelled) == 3327 - 2312 - 1000
    assert np.all(unlabelled >= got.test_index.min()) and not np.isin(unlabelled, got.test_index).any()
    assert got.features[unlabelled].nnz == 0


@needs_planetoid
def test_cora_edges_are_unique_pairs():
    got = data.cora()
    edges = got.edges()
    assert np.all(edges[:, 0] < edges[:, 1])
    assert len(edges) * 2 == got.adjacency.nnz  # Cora has no self-loops


def test_missing_planetoid_files_are_named(tmp_path, monkeypatch):
    monkeypatch.setattr(data.directory, "candidate_dirs", lambda data_dir=None: [tmp_path])
    with pytest.raises(DataError) as info:
        data.cora()
    message = str(info.value)
    assert "planetoid/ind.cora.graph" in message and str(tmp_path) in message and "DLKIT_DATA" in message


@needs_planetoid
def test_corrupt_planetoid_file_fails_its_checksum_before_unpickling(tmp_path, monkeypatch):
    source = data.locate([f"planetoid/ind.cora.{p}" for p in data.PLANETOID_PARTS])
    shutil.copytree(source / "planetoid", tmp_path / "planetoid")
    target = tmp_path / "planetoid" / "ind.cora.graph"
    target.chmod(0o644)
    target.write_bytes(pickle.dumps({"not": "the graph"}))
    monkeypatch.setattr(data.directory, "candidate_dirs", lambda data_dir=None: [tmp_path])
    loads = []
    monkeypatch.setattr(pickle, "load", lambda *a, **k: loads.append(a) or sys.exit("unpickled"))
    with pytest.raises(DataError, match="checksum mismatch.*ind.cora.graph"):
        data.cora()
    assert loads == []


def test_karate_club():
    g = data.karate_club()
    assert isinstance(g, GraphData) and g.num_nodes == 34 and g.adjacency.nnz == 2 * 78
    assert list(g.train_index) == [0, 33] and g.labels[0] != g.labels[33]
    assert len(g.test_index) == 32 and g.features.shape == (34, 34)


def test_sbm_graph_is_seeded_and_block_structured():
    a, b, c = data.sbm_graph(seed=1), data.sbm_graph(seed=1), data.sbm_graph(seed=2)
    assert (a.adjacency != b.adjacency).nnz == 0 and np.array_equal(a.features, b.features)
    assert (a.adjacency != c.adjacency).nnz > 0
    same = a.labels[:, None] == a.labels[None, :]
    dense = a.adjacency.toarray()
    inside, across = dense[same].mean(), dense[~same].mean()
    assert 0.07 < inside < 0.13 and across < 0.02  # p_in = 0.1, p_out = 0.01
    assert len(a.train_index) == 15 and np.bincount(a.labels[a.train_index]).tolist() == [5, 5, 5]
    assert len(np.intersect1d(a.train_index, a.test_index)) == 0 and len(a.train_index) + len(a.test_index) == 300
