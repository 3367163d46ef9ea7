"""Console output: the per-check table students and TAs read, and the
class's table a TA reads after ``grader grade`` (:func:`class_table`: one
line per student that fits 80 columns, each check one character)."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.checks.check import HIDDEN
from grader.core.results import Reason, Result, Row, RowStatus, Status
from grader.reports.failures import import_failure, shown
from grader.reports.numbers import format_points, format_score

#: The colour of each check status.
STYLE = {Status.PASSED: "green", Status.PARTIAL: "yellow", Status.FAILED: "red", Status.TODO: "dim",
         Status.ERROR: "red", Status.INVALID: "red", Status.TIMEOUT: "magenta", Status.CRASHED: "magenta",
         Status.SKIPPED: "dim"}


def table(result: Result) -> Table:
    """One row per check: points, status, time and message."""
    t = Table(title=result.summary(), title_justify="left", show_lines=False, expand=False)
    t.add_column("check", no_wrap=True)
    t.add_column("points", justify="right", no_wrap=True)
    t.add_column("status", no_wrap=True)
    t.add_column("time", justify="right", no_wrap=True)
    t.add_column("message", overflow="fold")
    for c in result.checks:
        style = STYLE.get(c.status, "")
        name = c.name + (" (hidden)" if c.visibility == HIDDEN else "")
        status, message, _ = shown(c)  # an import error reads "not run": it is printed once, above the table
        if c.reason is Reason.IMPORT:
            style = STYLE[Status.SKIPPED]
        # escape: messages quote code such as doc[i+1] or PE[pos + k], which rich would read as markup
        t.add_row(name, format_score(c.score, c.points), f"[{style}]{status}[/]", f"{c.time:.1f}s",
                  escape(message))
    return t


def print_result(result: Result, console: Console | None = None) -> None:
    """The table of :func:`table`, after the error that stopped the file
    from being imported, if one did (told once, not once per check)."""
    console = console or Console()
    if error := import_failure(result):
        console.print(error, style="red", markup=False, highlight=False)
    console.print(table(result))


#: Each check as one character in the class table (:func:`check_strip`).
MARKS = {Status.PASSED: "✓", Status.PARTIAL: "½", Status.FAILED: "✗", Status.ERROR: "✗", Status.INVALID: "✗",
         Status.TODO: "-", Status.TIMEOUT: "T", Status.CRASHED: "!", Status.SKIPPED: "·"}
#: What the marks mean, as the legend under the class table says it.
LEGEND = "✓ passed  ½ partly  ✗ wrong or error  - not implemented  T time-out  ! crashed  · not run"
#: The colour of each row status in the class table (graded rows are not coloured).
ROW_STYLE = {RowStatus.SYNTAX_ERROR: "red", RowStatus.IMPORT_ERROR: "red", RowStatus.INTAKE_ERROR: "red",
             RowStatus.GRADER_ERROR: "magenta", RowStatus.MISSING: "dim", RowStatus.NOT_GRADED: "yellow"}


def check_strip(result: Result | None, names: list[str]) -> str:
    """One character per check of ``names``, in order (:data:`MARKS`), in
    groups of five; a check that could not run because the file could not
    be used is ``·``."""
    if result is None:
        return ""
    by = result.by_name()
    marks = []
    for name in names:
        c = by.get(name)
        if c is None or c.reason in (Reason.IMPORT, Reason.INTAKE):
            marks.append(MARKS[Status.SKIPPED])
        else:
            marks.append(MARKS.get(c.status, "?"))
    # In groups of five, to find the 12th check by eye (and fold between groups).
    return " ".join("".join(marks[i:i + 5]) for i in range(0, len(marks), 5))


def class_table(rows: list[Row], names: list[str], max_total: float) -> Table:
    """One line per row: id, name, total, status and the checks (``names``,
    in order) as :func:`check_strip`. The total and the status never wrap
    or shrink; an id or a name folds first, then a strip of many checks."""
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    t.add_column("id", overflow="fold", max_width=24)
    t.add_column("name", overflow="fold", max_width=16)
    t.add_column("total", justify="right", no_wrap=True, min_width=len(f"{format_points(max_total)}/{format_points(max_total)}"))
    t.add_column("status", no_wrap=True, min_width=max(len(s) for s in RowStatus))
    # Whole on its line while it leaves room for the rest (25 checks: 29
    # characters); an id or a name folds first.
    t.add_column("checks", overflow="fold", no_wrap=len(names) <= 25)
    for r in rows:
        style = ROW_STYLE.get(r.status, "")
        total = format_score(r.score, max_total) if r.status.scored else "–"
        t.add_row(escape(r.id), escape(r.name), total, f"[{style}]{r.status}[/]" if style else str(r.status),
                  check_strip(r.result, names))
    return t


def legend(names: list[str]) -> str:
    """What the class table's check marks mean, and which check each is."""
    numbered = ", ".join(f"{i} {n}" for i, n in enumerate(names, 1))
    return f"checks, in order: {numbered}\n{LEGEND}"


def comparison(results: list[Result]) -> Table:
    """One row per submission, one column per check (``grader grade
    --by-check``, ``make demo``): wide, for a wide terminal."""
    t = Table(title="scores per check", title_justify="left")
    t.add_column("submission", no_wrap=True)
    t.add_column("total", justify="right")
    names = [c.name for c in results[0].checks] if results else []
    for n in names:
        t.add_column(n, justify="right")
    for r in results:
        by = r.by_name()
        cells = []
        for n in names:
            c = by.get(n)
            cells.append("" if c is None else f"[{STYLE.get(c.status, '')}]{format_points(c.score)}[/]")
        t.add_row(r.submission, format_score(r.score, r.max_score), *cells)
    return t
