"""Unit tests of the framework's pieces: markers, protocol, judges, mutants, data."""

import numpy as np
import pytest

from grader.checks import judges
from grader.labs import markers
from grader.core import protocol
from grader.checks.check import Check, Verdict
from grader.data import DataError, locate, mnist_subset

SOLUTION = '''import numpy as np


def f(x):
    """Doubles x. Shape (N,) -> (N,)."""
    # BEGIN SOLUTION: return 2·x
    y = 2 * x
    return y
    # END SOLUTION


class A:
    def g(self):
        # BEGIN SOLUTION
        return 1
        # END SOLUTION


# BEGIN SOLUTION: a constant
# STARTER: K = None
K = 3
# END SOLUTION
'''


def test_starter_replaces_blocks_and_stays_importable():
    starter = markers.make_starter(SOLUTION)
    assert "2 * x" not in starter and "K = 3" not in starter
    assert '    # TODO: return 2·x\n    raise NotImplementedError("f: return 2·x")' in starter
    assert '        raise NotImplementedError("g: implement this part")' in starter
    assert "K = None" in starter and '"""Doubles x. Shape (N,) -> (N,)."""' in starter
    namespace = {}
    exec(compile(starter, "starter", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="f: return"):
        namespace["f"](1)
    assert namespace["K"] is None


@pytest.mark.parametrize("bad", ["# BEGIN SOLUTION\n# BEGIN SOLUTION\n", "# END SOLUTION\n", "# BEGIN SOLUTION\nx = 1\n"])
def test_unbalanced_markers_are_refused(bad):
    with pytest.raises(markers.MarkerError):
        markers.make_starter(bad)


def test_solution_lines_for_leak_scans():
    assert markers.solution_lines(SOLUTION) == ["y = 2 * x", "return y", "return 1", "K = 3"]


def test_protocol_roundtrip(tmp_path):
    value = {"a": np.arange(6.0).reshape(2, 3), "b": [1, 2.5, "s", None, True], "c": {"d": np.int64(3)}, "n": float("nan")}
    protocol.dump(value, tmp_path / "obs")
    back = protocol.load(tmp_path / "obs")
    np.testing.assert_array_equal(back["a"], value["a"])
    assert back["b"] == [1, 2.5, "s", None, True] and back["c"] == {"d": 3} and np.isnan(back["n"])


class AlwaysEqual:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("bad", [AlwaysEqual(), np.array([AlwaysEqual()], dtype=object), {1: 2}, {"k": {1, 2}}])
def test_protocol_refuses_objects(bad):
    with pytest.raises(protocol.NotPlainData):
        protocol.to_plain(bad)


def test_protocol_never_unpickles(tmp_path):
    np.save(tmp_path / "x.npy", np.array([AlwaysEqual()], dtype=object), allow_pickle=True)
    (tmp_path / "obs.json").write_text('{"__ndarray__": "a0"}')
    import zipfile

    with zipfile.ZipFile(tmp_path / "obs.npz", "w") as z:
        z.write(tmp_path / "x.npy", "a0.npy")
    with pytest.raises(ValueError, match="allow_pickle"):
        protocol.load(tmp_path / "obs")


def test_rel_error_and_close():
    assert judges.rel_error([1.0, 2.0], [1.0, 2.0]) == 0
    assert judges.close([1.0, 2.0], [1.0, 2.0 + 1e-9], "y", tol=1e-7).passed
    v = judges.close([1.0, 2.5], [1.0, 2.0], "y")
    assert not v.passed and "relative error 1.1e-01" in v.message and "index (1,)" in v.message
    assert "shape (3,), expected (2,)" in judges.close([1, 2, 3], [1.0, 2.0], "y").message
    assert "NaN" in judges.close([np.nan, 1], [1.0, 2.0], "y").message
    assert "dtype" in judges.close(["a", "b"], [1.0, 2.0], "y").message


def test_messages_do_not_reveal_expected_values():
    secret = 123456.789
    for verdict in (judges.close([1.0], [secret], "y"), judges.equal(5, int(secret), "n")):
        assert "123456" not in verdict.message


def test_at_least_partial_credit_and_binomial():
    assert judges.at_least(0.96, 0.95, "acc").passed
    assert judges.at_least(0.5, 0.9, "acc", baseline=0.1).fraction == pytest.approx(0.25)
    assert judges.binomial_ok(3000, 10000, 0.3) and not judges.binomial_ok(3300, 10000, 0.3)


def test_all_of_weights_and_messages():
    v = judges.all_of([Verdict(1, "ok"), Verdict(0, "bad")], weights=[3, 1])
    assert v.fraction == 0.75 and v.message == "bad"


def test_gated_properties_count_only_with_the_substance_right():
    property_ok = Verdict(1, "masked weights are 0")
    assert judges.gated([Verdict(1, "values")], [property_ok]).fraction == 1
    junk = judges.gated([Verdict(0, "values wrong")], [property_ok])
    assert junk.fraction == 0 and "values wrong" in junk.message
    half = judges.gated([Verdict(1, "a"), Verdict(0, "b")], [property_ok])
    assert half.fraction == pytest.approx(1 / 3)


def test_check_defaults():
    class MyCheck(Check):
        """First line is the title.

        More text."""

    c = MyCheck()
    assert c.name == "my_check" and c.title == "First line is the title." and c.seed == MyCheck().seed


def test_mnist_subset_is_shuffled_and_scaled():
    x, y = mnist_subset(seed=0)
    assert x.shape == (5000, 28, 28, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert sorted(np.bincount(y)) == [500] * 10 and len(set(y[:50])) > 5


def test_locate_names_missing_files(tmp_path):
    with pytest.raises(DataError, match="planetoid/ind.nowhere.x"):
        locate(["planetoid/ind.nowhere.x"], tmp_path)


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
