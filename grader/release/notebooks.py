"""Notebooks for the bundles, written reproducibly (fixed cell ids, sorted keys).

* :func:`from_percent` turns a lab's ``assignments/<lab>/notebook.py``
  (jupytext percent format: a walk through the lab that imports the
  student's module and runs the public checks) into the student bundle's
  ``<lab>.ipynb``.
* :func:`otter_notebook` turns a lab module (the starter, or for tests the
  reference) into the otter flavour: the module's code cut into cells at its
  top-level definitions, section banners as headings, and a
  ``grader.check("<check>")`` cell after the cell that defines the last thing
  each public check calls.

Both are meant to survive *Run All* at any stage of the student's work: no
cell raises because a function is not written yet (the walkthrough runs each
part's demonstration inside ``with part(...)``, which reports the error in one
line; the otter flavour's cells only define things), so every check cell is
reached and says what is missing.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap

import nbformat

from grader.checks.check import PUBLIC, Check
from grader.labs.lab import Lab

KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
#: The otter notebook's first lines. TensorFlow prints C++ start-up notices
#: (oneDNN, CPU features, absl) into the first cell that imports it unless these
#: are set before the import. The log level hides C++ logs only, never a Python
#: exception; oneDNN's notice is logged regardless of it and goes only with oneDNN
#: off (as the grader runs). The walkthrough notebooks (``assignments/<lab>/notebook.py``)
#: set the same.
QUIET_TENSORFLOW = """\
# Before TensorFlow is imported: hide its C++ start-up notices (your Python errors still show).
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

"""
_BANNER = re.compile(r"^#\s*[-=#*~]{5,}\s*$")


def _finish(nb: nbformat.NotebookNode, extra_metadata: dict | None = None) -> str:
    """Fixed metadata and cell ids, then the notebook's JSON text."""
    nb.metadata = nbformat.from_dict({"kernelspec": KERNEL, "language_info": {"name": "python"},
                                      **(extra_metadata or {})})
    for i, cell in enumerate(nb.cells, 1):
        cell.id = f"cell-{i:03d}"
        cell.metadata = nbformat.from_dict(cell.get("metadata", {}))
    nbformat.validate(nb)
    return nbformat.writes(nb, version=4) + "\n"


def from_percent(text: str) -> str:
    """A jupytext percent-format script as notebook JSON (no outputs)."""
    import jupytext

    nb = jupytext.reads(text, fmt="py:percent")
    for cell in nb.cells:
        cell.metadata = {}
    return _finish(nb)


# -- the otter notebook -------------------------------------------------------------

def _defined_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    return set()


def _is_main_guard(node: ast.stmt) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__")


def module_cells(source: str) -> list[tuple[str, str, set[str]]]:
    """``(kind, text, names defined)`` cells of a module: ``markdown`` for the
    docstring and section banners, ``code`` for each top-level definition
    (consecutive imports share one cell). ``if __name__ == "__main__"`` blocks
    are left out: in a notebook they would run."""
    lines = source.splitlines()
    tree = ast.parse(source)
    cells: list[tuple[str, str, set[str]]] = []
    cursor = 0  # first line (0-based) not yet placed in a cell
    pending: list[str] = []  # comment lines waiting for the next code cell
    for index, node in enumerate(tree.body):
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        gap = lines[cursor:start]
        pending += _gap(gap, cells)
        body = lines[start : node.end_lineno]
        cursor = node.end_lineno
        if index == 0 and isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant) \
                and isinstance(node.value.value, str):
            cells.append(("markdown", inspect.cleandoc(node.value.value), set()))
            pending = []
            continue
        if _is_main_guard(node):
            pending = []
            continue
        text = "\n".join(pending + body).strip("\n")
        pending = []
        names = _defined_names(node)
        previous = cells[-1] if cells else None
        if isinstance(node, (ast.Import, ast.ImportFrom)) and previous and previous[0] == "code" \
                and previous[2] and all(_is_import_line(l) for l in previous[1].splitlines() if l.strip()):
            cells[-1] = ("code", previous[1] + "\n" + text, previous[2] | names)
        else:
            cells.append(("code", text, names))
    return cells


def _is_import_line(line: str) -> bool:
    return line.startswith(("import ", "from ")) or line.startswith("#")


def _gap(gap: list[str], cells: list) -> list[str]:
    """Turn a section banner in the lines between two definitions into a
    markdown heading (appended to ``cells``); return the other comment lines."""
    comments = [l for l in gap if l.strip()]
    if any(_BANNER.match(l) for l in comments):
        title = [l.lstrip("#").strip() for l in comments if not _BANNER.match(l)]
        if title:
            cells.append(("markdown", "## " + " ".join(title), set()))
        return []
    # A generated header ("# Starter code generated …") is not part of any cell.
    return [l for l in comments if not l.startswith("# Starter code generated")]


def observed_names(check: Check) -> set[str]:
    """Attributes of the student's module that ``check.observe`` uses (``sub.x``)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(type(check).observe)))
    except (OSError, TypeError):
        return set()
    return {n.attr for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "sub"}


def otter_notebook(lab: Lab, source: str) -> str:
    """The otter student notebook for ``lab``, with ``source`` (the starter's
    or the reference's module text) as its code."""
    cells = module_cells(source)
    after: dict[int, list[str]] = {}
    for check in lab.checks(PUBLIC):
        needed = observed_names(check)
        places = [i for i, (_, _, names) in enumerate(cells) if names & needed]
        after.setdefault(max(places) if places else len(cells) - 1, []).append(check.name)

    title = lab.title + (f" ({lab.meta['title_zh']})" if lab.meta.get("title_zh") else "")
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"# {title}\n\n"
        f"Fill in every `TODO` in the code cells below. After each part, run its "
        f"`grader.check(...)` cell: it runs the lab's **public** checks on your code. Hidden checks "
        f"(other inputs and properties) run only when your notebook is graded, so a public pass "
        f"is not the final score.\n\n"
        f"Before submitting `{lab.module}.ipynb`: *Kernel → Restart & Run All*, and make sure every "
        f"cell runs without an error."))
    nb.cells.append(nbformat.v4.new_code_cell(QUIET_TENSORFLOW + f'import otter\n\ngrader = otter.Notebook("{lab.module}.ipynb")'))
    for i, (kind, text, _) in enumerate(cells):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(make(text))
        for name in after.get(i, []):
            nb.cells.append(nbformat.v4.new_code_cell(f'grader.check("{name}")'))
    nb.cells.append(nbformat.v4.new_markdown_cell("## All public checks"))
    nb.cells.append(nbformat.v4.new_code_cell("grader.check_all()"))
    return _finish(nb, {"otter": {"assignment_name": otter_assignment_name(lab)}})


def otter_assignment_name(lab: Lab) -> str:
    """The name otter checks a submitted notebook's metadata against."""
    return f"dlkit-{lab.id}"
