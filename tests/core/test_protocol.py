"""The plain-data protocol across the sandbox boundary (:mod:`grader.core.protocol`)."""

import numpy as np
import pytest

from grader.core import protocol


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
