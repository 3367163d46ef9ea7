"""The observing process may crash, hang, exit or print garbage: only the
check that was running loses its points, the verdict stays in the parent."""

import shutil

import pytest

from grader.grading import grade
from grader.lab import Lab
from grader.sandbox import Limits

QUICK = ["conv_arithmetic", "max_pool", "avg_pool", "dropout"]


@pytest.fixture(scope="module")
def lab():
    return Lab.load("cnn")


def patched(lab, tmp_path, old, new, name="sub"):
    """The reference with one edit, as a submission folder."""
    folder = tmp_path / name
    folder.mkdir()
    source = lab.solution_file.read_text()
    assert source.count(old) == 1
    (folder / lab.filename).write_text(source.replace(old, new))
    return folder


def statuses(result):
    return {c.name: c.status for c in result.checks}


def test_os_exit_costs_only_the_running_check(lab, tmp_path):
    sub = patched(lab, tmp_path, "    # BEGIN SOLUTION: route dout", "    import os; os._exit(3)\n    # BEGIN SOLUTION: route dout")
    result = grade(lab, sub, names=QUICK)
    assert statuses(result) == {"conv_arithmetic": "passed", "max_pool": "crashed", "avg_pool": "passed", "dropout": "passed"}
    assert "exited with code 3" in result.by_name()["max_pool"].message
    assert result.info["starts"] == 2


def test_hang_times_out_and_the_rest_is_graded(lab, tmp_path):
    sub = patched(lab, tmp_path, "    # BEGIN SOLUTION: the mean of each", "    while True: pass\n    # BEGIN SOLUTION: the mean of each")
    result = grade(lab, sub, names=QUICK, limits=Limits(time_scale=0.3))
    assert statuses(result) == {"conv_arithmetic": "passed", "max_pool": "passed", "avg_pool": "timeout", "dropout": "passed"}
    assert "longer than its limit" in result.by_name()["avg_pool"].message


def test_sys_exit_is_an_error_not_a_crash(lab, tmp_path):
    sub = patched(lab, tmp_path, "    # BEGIN SOLUTION: the mean of each", "    raise SystemExit(0)\n    # BEGIN SOLUTION: the mean of each")
    result = grade(lab, sub, names=QUICK)
    assert statuses(result)["avg_pool"] == "error"
    assert "sys.exit" in result.by_name()["avg_pool"].message
    assert result.score == 1 + 1 + 0.5 and result.info["starts"] == 1


def test_syntax_error_names_the_line(lab, tmp_path):
    sub = patched(lab, tmp_path, "def dense_params(n_in, n_out, bias=True):", "def dense_params(n_in, n_out, bias=True)")
    result = grade(lab, sub, names=QUICK)
    assert result.score == 0
    assert {c.status for c in result.checks} == {"error"}
    assert "SyntaxError" in result.checks[0].message and "could not be imported" in result.checks[0].message


def test_exit_at_import_is_reported_for_every_check(lab, tmp_path):
    sub = patched(lab, tmp_path, "import numpy as np\n", "import numpy as np\nimport os; os._exit(0)\n")
    result = grade(lab, sub, names=QUICK)
    assert {c.status for c in result.checks} == {"crashed"}
    assert "could not load your code" in result.checks[0].message


def test_missing_function_is_named(lab, tmp_path):
    sub = patched(lab, tmp_path, "def avg_pool_backward(", "def avg_pool_backward_renamed(")
    result = grade(lab, sub, names=["avg_pool"])
    assert "does not define `avg_pool_backward`" in result.checks[0].message


def test_wrong_return_type_is_invalid_not_a_crash(lab, tmp_path):
    sub = patched(lab, tmp_path, "    return out\n    # END SOLUTION\n\n\ndef max_pool_backward",
                  "    return object()\n    # END SOLUTION\n\n\ndef max_pool_backward")
    result = grade(lab, sub, names=["max_pool"])
    assert result.checks[0].status == "error"
    assert "NumPy arrays, tensors, numbers or strings" in result.checks[0].message


def test_missing_file_is_reported(lab, tmp_path):
    result = grade(lab, tmp_path, names=QUICK)
    assert result.score == 0 and "no cnn.py" in result.checks[0].message


def test_single_file_submission(lab, tmp_path):
    shutil.copy(lab.solution_file, tmp_path / "alice.py")
    result = grade(lab, tmp_path / "alice.py", names=QUICK)
    assert result.score == result.max_score and result.submission == "alice"
