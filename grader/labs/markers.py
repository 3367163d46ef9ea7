"""Solution markers → starter code.

In a solution file, the lines between ``# BEGIN SOLUTION`` and
``# END SOLUTION`` are the answer. The starter replaces them with::

    # TODO: <the hint written on the BEGIN line>
    raise NotImplementedError("<function>: <hint>")

at the block's indentation. Lines inside the block that start with
``# STARTER:`` become the starter's code instead of the ``raise`` (for
places where raising would break the module, e.g. a constant), e.g.::

    # BEGIN SOLUTION: the parameter count of LeNet-5
    # STARTER: LENET5_PARAMS = None
    LENET5_PARAMS = 61706
    # END SOLUTION

Everything outside the markers (imports, signatures, docstrings with shapes
and formulas, helpers) is kept verbatim.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION(?::\s*(?P<hint>.*))?\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
STARTER = re.compile(r"^\s*# STARTER: ?(?P<code>.*)$")
DEF = re.compile(r"^(?P<indent>\s*)(?:async\s+)?(?:def|class)\s+(?P<name>\w+)")

HEADER = "# Starter code generated from the reference by `grader starter`: fill in every TODO.\n"


class MarkerError(ValueError):
    pass


def _enclosing(lines: list[str], index: int, indent: int) -> str:
    for line in reversed(lines[:index]):
        m = DEF.match(line)
        if m and len(m["indent"]) < indent:
            return m["name"]
    return "module"


def blocks(text: str, filename: str = "<solution>") -> list[tuple[int, int]]:
    """(begin, end) line indices of every solution block; raises on bad nesting."""
    found, begin = [], None
    for i, line in enumerate(text.splitlines()):
        if BEGIN.match(line):
            if begin is not None:
                raise MarkerError(f"{filename}:{i + 1}: BEGIN SOLUTION inside another block (opened at line {begin + 1})")
            begin = i
        elif END.match(line):
            if begin is None:
                raise MarkerError(f"{filename}:{i + 1}: END SOLUTION without BEGIN")
            found.append((begin, i))
            begin = None
    if begin is not None:
        raise MarkerError(f"{filename}:{begin + 1}: BEGIN SOLUTION is never closed")
    return found


def solution_lines(text: str) -> list[str]:
    """The (stripped, non-empty) lines inside solution blocks, for leak scans."""
    lines = text.splitlines()
    out = []
    for begin, end in blocks(text):
        for line in lines[begin + 1 : end]:
            if line.strip() and not STARTER.match(line):
                out.append(" ".join(line.split()))
    return out


def make_starter(text: str, filename: str = "<solution>") -> str:
    """The starter version of a solution file's text."""
    lines = text.splitlines()
    spans = blocks(text, filename)
    out: list[str] = []
    cursor = 0
    for begin, end in spans:
        out.extend(lines[cursor:begin])
        m = BEGIN.match(lines[begin])
        indent = m["indent"]
        hint = (m["hint"] or "").strip() or "implement this part"
        where = _enclosing(lines, begin, len(indent))
        starter_code = [STARTER.match(l)["code"] for l in lines[begin + 1 : end] if STARTER.match(l)]
        out.append(f"{indent}# TODO: {hint}")
        if starter_code:
            out.extend(f"{indent}{code}" for code in starter_code)
        else:
            message = f"{where}: {hint}".replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'{indent}raise NotImplementedError("{message}")')
        cursor = end + 1
    out.extend(lines[cursor:])
    body = "\n".join(out) + ("\n" if text.endswith("\n") else "")
    return HEADER + body if spans else body


def _study_results(solution_dir: Path) -> set[str]:
    """The study's table and write-up in a lab's solution folder: the
    reference's own results, which no starter may hand out."""
    from grader.labs.lab import Lab

    try:
        study = Lab.load(solution_dir.name).study
    except Exception:  # noqa: BLE001 - not a lab's solution folder: nothing to leave out
        return set()
    return {study.table, study.report} if study else set()


def starter_files(solution_dir: Path) -> dict[str, str]:
    """Relative path → starter text for every file of a lab's solution folder
    (but the study's table and write-up)."""
    files = {}
    results = _study_results(solution_dir)
    for path in sorted(solution_dir.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.relative_to(solution_dir).as_posix() not in results:
            rel = path.relative_to(solution_dir).as_posix()
            text = path.read_text()
            files[rel] = make_starter(text, str(path)) if path.suffix == ".py" else text
    return files


def write_starter(solution_dir: Path, starter_dir: Path) -> list[Path]:
    starter_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, text in starter_files(solution_dir).items():
        target = starter_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text() != text:
            target.write_text(text)
            written.append(target)
    return written


def drift(solution_dir: Path, starter_dir: Path) -> list[str]:
    """Unified diffs (one per file) where the committed starter differs from
    what the solution's markers generate; empty when in sync."""
    expected = starter_files(solution_dir)
    diffs = []
    for rel, text in expected.items():
        target = starter_dir / rel
        current = target.read_text() if target.is_file() else ""
        if current != text:
            diffs.append("".join(difflib.unified_diff(
                current.splitlines(True), text.splitlines(True), f"starter/{rel} (committed)", f"starter/{rel} (generated)")))
    if starter_dir.is_dir():
        for path in starter_dir.rglob("*"):
            rel = path.relative_to(starter_dir).as_posix()
            if path.is_file() and "__pycache__" not in path.parts and rel not in expected:
                diffs.append(f"starter/{rel}: not generated from the solution (remove it)")
    return diffs
