"""Solution markers → the starter (:mod:`grader.labs.markers`)."""

import pytest

from grader.labs import markers

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
