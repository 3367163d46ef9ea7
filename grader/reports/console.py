"""Console output: the per-check table students and TAs read."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.checks.check import HIDDEN
from grader.core.results import Result, Status

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
        # escape: messages quote code such as doc[i+1] or PE[pos + k], which rich would read as markup
        t.add_row(name, f"{c.score:g}/{c.points:g}", f"[{style}]{c.status.text}[/]", f"{c.time:.1f}s",
                  escape(c.message))
    return t


def print_result(result: Result, console: Console | None = None) -> None:
    console = console or Console()
    console.print(table(result))


def comparison(results: list[Result]) -> Table:
    """One row per submission, one column per check (for `make demo`)."""
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
            cells.append("" if c is None else f"[{STYLE.get(c.status, '')}]{c.score:g}[/]")
        t.add_row(r.submission, f"{r.score:g}/{r.max_score:g}", *cells)
    return t
