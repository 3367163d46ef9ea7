"""One student's feedback: ``feedback.md``, ``feedback.html`` (same content,
rendered from jinja2 templates), a training-curve PNG per training check
that reported a per-epoch history, and Gradescope's ``results.json``."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from grader.core.results import STATUS_TEXT, CheckResult, Result
from grader.reports import plots
from grader.reports.gradescope import gradescope_results

#: Largest excerpt of the student's printed output shown in the feedback.
OUTPUT_EXCERPT = 4000

#: What went wrong, in words a student understands, by kind of failure.
EXPLANATIONS = {
    "timeout": "Your code was still running when this check's time limit ran out, so the grader stopped it. "
               "The usual causes are an infinite loop (a `while` whose condition never becomes false), Python "
               "loops over every element where NumPy operations are expected, or training for more epochs than "
               "needed. The checks after it were graded in a fresh process.",
    "total": "The time allowed for your whole submission ran out before this check could run. Look at the time "
             "each check took and make the slowest parts faster.",
    "memory": "Your code used more memory than one submission may use, so the grader stopped it. The usual "
              "causes are a huge array built by accident (an outer product, an im2col matrix for a whole data "
              "set, a batch dimension multiplied in twice) or every intermediate result kept in a list.",
    "processes": "Your code started too many processes, so the grader stopped it. Graded functions must not start "
                 "processes (no fork, multiprocessing or subprocess).",
    "disk": "Your code wrote too much to disk (too many bytes or too many files), so the grader stopped it. "
            "Graded functions should not write files; keep results in memory and return them.",
    "exit": "The process running your code ended in the middle of this check: something called `os._exit`, "
            "`sys.exit` from a thread, or a library aborted. A graded function must return its result.",
    "signal": "The operating system killed the process running your code (the message names the signal). "
              "SIGSEGV or SIGABRT usually mean a crash inside a native library, often called with arrays of an "
              "unexpected dtype or shape; SIGKILL usually means the machine ran out of memory.",
    "job": "Your code kept the grader's worker busy longer than all of its checks' time limits together.",
    "intake": "The grader could not use what you handed in (the message says why: a broken or unsafe archive, no "
              "lab file, …), so no check could run. Hand in the lab's file as the handout asks.",
    "import": "The grader could not import your file, so no check could run. Fix the error shown (running "
              "`python` on your file shows it too); until then every check scores 0.",
    "error": "Your function raised an exception. The message shows the error and the line of your file where "
             "it happened; `grader check` reproduces it on your machine.",
    "invalid": "Your function returned something the grader cannot use: the message says what was expected and "
               "what came back. Return NumPy arrays (or tensors) of the documented shapes and plain numbers.",
    "todo": "This part still raises NotImplementedError: fill in its TODO.",
}


def failure_kind(check: CheckResult) -> str:
    """A short label for why a check did not pass: ``failed``, ``partial``,
    ``todo``, ``error``, ``import``, ``intake``, ``invalid``, ``timeout``,
    ``total``, ``memory``, ``processes``, ``disk``, ``exit``, ``signal``,
    ``job`` (``""`` if it passed)."""
    if check.status == "passed":
        return ""
    reason = check.extra.get("reason", "")
    if "could not be imported" in check.message or "could not load your code" in check.message:
        return "import"
    if reason in EXPLANATIONS:
        return reason
    if check.status == "crashed":
        return "signal" if "killed by" in check.message else "exit"
    if check.status in ("timeout", "invalid", "error", "todo"):
        return check.status
    if reason == "schema":
        return "invalid"
    return check.status


def explain(check: CheckResult) -> str:
    """Plain words about a check that did not pass (``""`` when the judge's
    message says it all: a wrong or partly right result)."""
    return EXPLANATIONS.get(failure_kind(check), "")


def output_excerpt(result: Result, limit: int = OUTPUT_EXCERPT) -> str:
    """The end of what the student's code printed (the whole of it is in result.json)."""
    text = str(result.info.get("output") or "").strip()
    if len(text) <= limit:
        return text
    return f"[… {len(text) - limit:,} earlier characters not shown …]\n" + text[-limit:]


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters["md_cell"] = lambda s: str(s).replace("|", "\\|").replace("\n", "<br>")
    env.filters["points"] = lambda x: f"{x:g}"
    return env


_ENV = None


def render(template: str, **context) -> str:
    global _ENV
    if _ENV is None:
        _ENV = _environment()
    return _ENV.get_template(template).render(**context)


def context(result: Result, *, name: str = "", lab_title: str = "") -> dict:
    """What both feedback templates show."""
    info = result.info
    rows = []
    for c in result.checks:
        rows.append({"name": c.name, "title": c.title, "hidden": c.visibility == "hidden", "kind": c.kind,
                     "points": c.points, "score": c.score, "status": c.status,
                     "status_text": STATUS_TEXT.get(c.status, c.status), "time": c.time, "message": c.message,
                     "explanation": explain(c), "curves": c.extra.get("curves") or {}})
    return {
        "lab": result.lab, "lab_title": lab_title or result.lab, "student": result.submission,
        "name": name or info.get("name", ""), "score": result.score, "max_score": result.max_score,
        "time": result.time, "checks": rows, "notes": info.get("notes") or [],
        "intake_error": info.get("intake_error", ""), "isolation": info.get("isolation", ""),
        "isolation_detail": info.get("isolation_detail", ""), "graded_at": info.get("graded_at", ""),
        "output": output_excerpt(result), "output_truncated": bool(info.get("output_truncated")),
        "output_bytes": info.get("output_bytes", 0),
    }


def write_student(result: Result, folder: Path | str, *, name: str = "", lab_title: str = "") -> list[Path]:
    """Write ``feedback.md``, ``feedback.html``, ``results.json`` (Gradescope)
    and ``curve-<check>.png`` for each training curve into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ctx = context(result, name=name, lab_title=lab_title)
    images = {}
    for row in ctx["checks"]:
        if row["curves"]:
            png = plots.training_curve(row["curves"], f"{row['name']}: training curve")
            (folder / f"curve-{row['name']}.png").write_bytes(png)
            images[row["name"]] = base64.b64encode(png).decode()
    written = [folder / "feedback.md", folder / "feedback.html", folder / "results.json"]
    _atomic_text(written[0], render("feedback.md.j2", **ctx))
    _atomic_text(written[1], render("feedback.html.j2", images=images, **ctx))
    _atomic_text(written[2], json.dumps(gradescope_results(result), indent=2, ensure_ascii=False, allow_nan=False))
    return written


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
