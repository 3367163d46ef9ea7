"""Console output: the per-check table students and TAs read."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from grader.core.results import STATUS_TEXT, Result

STYLE = {"passed": "green", "partial": "yellow", "failed": "red", "todo": "dim", "error": "red",
         "invalid": "red", "timeout": "magenta", "crashed": "magenta", "skipped": "dim"}


def table(result: Result, *, show_hidden_messages: bool = True) -> Table:
    t = Table(title=result.summary(), title_justify="left", show_lines=False, expand=False)
    t.add_column("check", no_wrap=True)
    t.add_column("points", justify="right", no_wrap=True)
    t.add_column("status", no_wrap=True)
    t.add_column("time", justify="right", no_wrap=True)
    t.add_column("message", overflow="fold")
    for c in result.checks:
        style = STYLE.get(c.status, "")
        name = c.name + (" (hidden)" if c.visibility == "hidden" else "")
        # escape: messages quote code such as doc[i+1] or PE[pos + k], which rich would read as markup
        message = escape(c.message) if (show_hidden_messages or c.visibility != "hidden") else ""
        t.add_row(name, f"{c.score:g}/{c.points:g}", f"[{style}]{STATUS_TEXT.get(c.status, c.status)}[/]",
                  f"{c.time:.1f}s", message)
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
