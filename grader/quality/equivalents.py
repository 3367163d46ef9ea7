"""Where in a lab's reference a machine-made mutant is, and the survivors the
lab declares equivalent.

A mutant is placed by its line: the innermost function around it (named as
``co_qualname`` spells it, which is how :mod:`grader.quality.tracing`
records who calls what) and whether it lies inside a solution block (only
those lines are mutated: the rest is the starter's, which students do not write). A survivor
that cannot change behaviour is listed in the lab's ``mutants.toml`` as
``[[equivalent]]`` (``function``, ``line``, ``mutated``, ``why``);
:func:`stale_equivalents` finds entries whose line has left the reference.
"""

from __future__ import annotations

import ast
import dataclasses

from grader.labs import markers, mutants
from grader.labs.lab import Lab


@dataclasses.dataclass(frozen=True)
class Equivalent:
    """One ``[[equivalent]]`` entry; ``line`` and ``mutated`` with runs of
    whitespace collapsed, as :func:`stale_equivalents` compares them."""

    function: str
    line: str
    mutated: str
    why: str


def load_equivalents(lab: Lab) -> list[Equivalent]:
    data = mutants.read_table(lab)
    return [Equivalent(e["function"], " ".join(e["line"].split()), " ".join(e["mutated"].split()), e["why"])
            for e in data.get("equivalent", [])]


def stale_equivalents(lab: Lab) -> list[str]:
    """Equivalence entries that no longer name a line of their function in
    the reference (the survivor list is then out of date)."""
    source = lab.solution_file.read_text()
    spans = function_spans(source)
    lines = source.splitlines()
    out = []
    for eq in load_equivalents(lab):
        # "<module>": a line outside every function (a constant such as a tuned configuration)
        span = [(1, len(lines))] if eq.function == "<module>" else [v for k, v in spans.items() if k == eq.function]
        found = any(" ".join(lines[i].split()) == eq.line for a, b in span for i in range(a - 1, b))
        if not found:
            out.append(f"{eq.function}: {eq.line!r}")
    return out


def function_spans(source: str) -> dict[str, tuple[int, int]]:
    """Qualified name (as ``co_qualname`` spells it) → (first, last) line of every function."""
    spans: dict[str, tuple[int, int]] = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                spans[name] = (child.lineno, child.end_lineno)
                visit(child, f"{name}.<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return spans


def enclosing_function(spans: dict[str, tuple[int, int]], line: int) -> str | None:
    inside = [(b - a, name) for name, (a, b) in spans.items() if a <= line <= b]
    return min(inside)[1] if inside else None


def in_solution_block(source: str, line: int) -> bool:
    return any(begin + 1 < line <= end for begin, end in markers.blocks(source))
