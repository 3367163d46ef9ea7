"""The data directory and the MNIST subset (:mod:`grader.data`), and a
check whose data is missing."""

import numpy as np
import pytest

from grader.data import DataError, locate, mnist_subset


def test_mnist_subset_is_shuffled_and_scaled():
    x, y = mnist_subset(seed=0)
    assert x.shape == (5000, 28, 28, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert sorted(np.bincount(y)) == [500] * 10 and len(set(y[:50])) > 5


def test_locate_names_missing_files(tmp_path):
    with pytest.raises(DataError, match="planetoid/ind.nowhere.x"):
        locate(["planetoid/ind.nowhere.x"], tmp_path)


def test_data_sets_lists_every_file_of_a_folder_and_refuses_unknown_names():
    from grader.data import data_sets, known_checksums

    files = data_sets(["planetoid"])
    assert sorted(files) == sorted(f for f in known_checksums() if f.startswith("planetoid/"))
    assert all(path.is_file() for path in files.values())
    assert data_sets([]) == {}
    with pytest.raises(DataError, match="unknown data sets: imagenet"):
        data_sets(["planetoid", "imagenet"])


def test_missing_data_skips_only_that_check(monkeypatch):
    from grader.data import DataError
    from grader.core.grading import self_check
    from grader.labs.lab import Lab

    lab = Lab.load("cnn")

    def no_data(self, rng):
        raise DataError("data files not found: planetoid/ind.cora.x")

    monkeypatch.setattr(type(lab.check("max_pool")), "inputs", no_data)
    result = self_check(lab, lab.solution_file, names=["conv_arithmetic", "max_pool"], alias="_cnn_missing_data")
    by = result.by_name()
    assert by["conv_arithmetic"].status == "passed"
    assert by["max_pool"].status == "skipped" and "ind.cora.x" in by["max_pool"].message
