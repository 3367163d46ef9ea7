"""The students' notebooks survive *Run All* at every stage of their work.

Jupyter's Run All stops at the first cell that raises. A student who has
written part of the lab must still reach every part's check cell, which says
what is missing, so no cell may raise because a function is not written yet
(``NotImplementedError``) or is broken. Both flavours are executed with
nbclient, exactly as Run All does (no ``allow_errors``):

* the walkthrough notebook (``assignments/<lab>/notebook.py``) and the otter
  notebook (cut from the module), on the starter of every lab: every check cell
  says "not implemented yet";
* both flavours of the CNN lab on a half-done module (the reference with
  ``build_cnn`` not written and ``max_pool_backward`` raising): those two checks
  say what is wrong, the others pass;
* ``-m full``: the walkthrough on the reference, which trains (minutes), and
  the otter notebook of every lab but the CNN one on its starter.

The kernel gets none of the tests' ``TF_*`` settings, so the notebooks' own
lines must keep TensorFlow's C++ notices out of the cells.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from grader.labs.lab import Lab, all_lab_ids, repo_root
from grader.release import notebooks, otter_bundle

WALKTHROUGH_LABS = [lab for lab in all_lab_ids() if (Lab.load(lab).assignment_dir / "notebook.py").is_file()]
#: TensorFlow's start-up notices, as they appear when its C++ logs are not silenced.
TF_NOISE = ("oneDNN custom operations", "cpu_feature_guard", "absl::InitializeLog", "Unable to register")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def execute(folder: Path, name: str, text: str, timeout: int = 600) -> list[tuple[str, str]]:
    """Run the notebook ``text`` saved as ``folder/name`` as Run All does;
    ``(source, output text)`` per code cell. Fails the test at the first
    cell that raises."""
    (folder / name).write_text(text)
    nb = nbformat.reads(text, as_version=4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    # One thread per kernel: several run on a shared machine. The checkout
    # under test, whatever the virtual environment was installed from.
    env.update(DLKIT_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=str(repo_root()))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.execute(env=env)
    return [(cell.source, _text(cell)) for cell in nb.cells if cell.cell_type == "code"]


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
        else:
            parts.append(out.get("data", {}).get("text/plain", ""))
    return _ANSI.sub("", "".join(parts))


def walkthrough(lab: Lab, module_source: str, folder: Path) -> list[tuple[str, str]]:
    """The student bundle's notebook beside ``module_source`` as the lab's file, executed."""
    (folder / lab.filename).write_text(module_source)
    text = notebooks.from_percent((lab.assignment_dir / "notebook.py").read_text())
    return execute(folder, f"{lab.module}.ipynb", text)


def otter(lab: Lab, module_source: str, folder: Path) -> list[tuple[str, str]]:
    """The otter notebook made from ``module_source``, with the public tests beside it, executed."""
    (folder / "tests").mkdir()
    for check in lab.checks("public"):
        (folder / "tests" / f"{check.name}.py").write_text(otter_bundle.test_file(lab, check))
    return execute(folder, f"{lab.module}.ipynb", notebooks.otter_notebook(lab, module_source))


def half_done(source: str, todo: str, broken: str) -> str:
    """``source`` with the body of function ``todo`` replaced by ``raise
    NotImplementedError`` and that of ``broken`` by a division by zero."""
    lines = source.splitlines()
    edits = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name in (todo, broken):
            body = node.body[1:] if ast.get_docstring(node) else node.body
            statement = "raise NotImplementedError" if node.name == todo else "return 1 / 0"
            edits.append((body[0].lineno, node.end_lineno, " " * body[0].col_offset + statement))
    assert len(edits) == 2, f"{todo} or {broken} not found"
    for first, last, statement in sorted(edits, reverse=True):
        lines[first - 1 : last] = [statement]
    return "\n".join(lines) + "\n"


def check_cells(cells: list[tuple[str, str]], prefix: str) -> dict[str, str]:
    """Output of each cell ``<prefix>("<check>")``, by check name."""
    found = {}
    for source, output in cells:
        match = re.fullmatch(rf'{re.escape(prefix)}\("(\w+)"\)', source.strip())
        if match:
            found[match.group(1)] = output
    return found


def assert_quiet(cells: list[tuple[str, str]]) -> None:
    noise = [line for _, output in cells for line in output.splitlines() if any(n in line for n in TF_NOISE)]
    assert not noise, noise[:3]


def test_half_done_replaces_exactly_the_two_bodies():
    source = 'def a(x):\n    """Doc."""\n    y = x\n    return y\n\n\ndef b():\n    return 2\n\n\ndef c():\n    return 3\n'
    namespace: dict = {}
    exec(half_done(source, "a", "b"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["a"](1)
    with pytest.raises(ZeroDivisionError):
        namespace["b"]()
    assert namespace["c"]() == 3 and namespace["a"].__doc__ == "Doc."


def assert_every_check_not_implemented(lab, checks):
    """Every public check's cell ran and says "not implemented yet", without a traceback."""
    assert set(checks) == {c.name for c in lab.checks("public")}
    for name, output in checks.items():
        assert "not implemented yet" in output and "Traceback" not in output, (name, output)


# -- the walkthrough --------------------------------------------------------------

@pytest.mark.parametrize("lab_id", WALKTHROUGH_LABS)
def test_walkthrough_runs_to_the_end_on_the_starter(lab_id, tmp_path):
    lab = Lab.load(lab_id)
    cells = walkthrough(lab, lab.starter_file.read_text(), tmp_path)
    assert_every_check_not_implemented(lab, check_cells(cells, "check"))
    parts = [(source.count("with part("), output) for source, output in cells if "with part(" in source]
    assert parts
    for count, output in parts:  # one line per part, and the cell went on to its end
        assert output.count("is not implemented yet — see the check below.") == count, output
    assert_quiet(cells)


def test_walkthrough_runs_to_the_end_on_a_half_done_module(tmp_path):
    lab = Lab.load("cnn")
    cells = walkthrough(lab, half_done(lab.solution_file.read_text(), "build_cnn", "max_pool_backward"), tmp_path)
    outputs = "\n".join(output for _, output in cells)
    assert "Part 8: build_cnn is not implemented yet — see the check below." in outputs
    assert "Part 4: your code raised an error — see the check below.\nZeroDivisionError: division by zero\n" \
           "  at cnn.py line" in outputs
    checks = check_cells(cells, "check")
    assert "not implemented yet" in checks.pop("cnn_training")
    assert "ZeroDivisionError" in checks.pop("max_pool")
    for name, output in checks.items():
        assert "1/1 checks passed" in output, (name, output)


@pytest.mark.full
@pytest.mark.parametrize("lab_id", WALKTHROUGH_LABS)
def test_walkthrough_runs_to_the_end_on_the_reference(lab_id, tmp_path):
    lab = Lab.load(lab_id)
    cells = walkthrough(lab, lab.solution_file.read_text(), tmp_path)
    outputs = "\n".join(output for _, output in cells)
    assert "see the check below" not in outputs
    checks = check_cells(cells, "check")
    assert checks and all("1/1 checks passed" in output for output in checks.values()), checks
    assert_quiet(cells)


# -- the otter flavour ------------------------------------------------------------

#: The CNN lab's otter notebook runs in the default tier (with the half-done one
#: below it covers the shared generator); every other lab's in ``-m full``.
OTTER_LABS = [lab if lab == "cnn" else pytest.param(lab, marks=pytest.mark.full) for lab in all_lab_ids()]


@pytest.mark.parametrize("lab_id", OTTER_LABS)
def test_otter_notebook_runs_to_the_end_on_the_starter(lab_id, tmp_path):
    lab = Lab.load(lab_id)
    cells = otter(lab, lab.starter_file.read_text(), tmp_path)
    assert_every_check_not_implemented(lab, check_cells(cells, "grader.check"))
    assert_quiet(cells)


def test_otter_notebook_runs_to_the_end_on_a_half_done_module(tmp_path):
    lab = Lab.load("cnn")
    cells = otter(lab, half_done(lab.solution_file.read_text(), "build_cnn", "max_pool_backward"), tmp_path)
    checks = check_cells(cells, "grader.check")
    assert "not implemented yet" in checks.pop("cnn_training")
    assert "ZeroDivisionError" in checks.pop("max_pool")
    for name, output in checks.items():
        assert "All test cases passed!" in output, (name, output)


def test_quiet_tensorflow_lines_come_before_any_import_of_tensorflow():
    lab = Lab.load("cnn")
    setup = "".join(nbformat.reads(notebooks.otter_notebook(lab, lab.starter_file.read_text()), 4).cells[1].source)
    assert setup.startswith(notebooks.QUIET_TENSORFLOW)
    for lab_id in WALKTHROUGH_LABS:
        lab = Lab.load(lab_id)
        text = (lab.assignment_dir / "notebook.py").read_text()
        # Keras and the lab's own module import TensorFlow too.
        first_import = re.search(rf"^(import|from) (tensorflow|keras|{lab.module})\b", text, re.M)
        assert first_import, lab_id
        assert text.index('os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"') < first_import.start(), lab_id
