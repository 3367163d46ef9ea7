"""One student's feedback: ``feedback.md``, ``feedback.html`` (same content,
rendered from the templates in ``grader/templates``), a training-curve PNG per
training check that reported a per-epoch history, and ``gradescope-results.json``
(the same result in Gradescope's format)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from grader.checks.check import HIDDEN
from grader.core.results import Reason, Result, Status
from grader.files import atomic_write
from grader.reports import plots
from grader.reports.failures import EXPLANATIONS, import_failure, shown
from grader.reports.gradescope_json import gradescope_results
from grader.templates import render

#: The Gradescope-format copy of a student's result, beside the full record ``result.json``.
GRADESCOPE_FILE = "gradescope-results.json"

#: Largest excerpt of the student's printed output shown in the feedback.
OUTPUT_EXCERPT = 4000

def output_excerpt(result: Result, limit: int = OUTPUT_EXCERPT) -> str:
    """The end of what the student's code printed (the whole of it is in result.json)."""
    text = str(result.info.output or "").strip()
    if len(text) <= limit:
        return text
    return f"[… {len(text) - limit:,} earlier characters not shown …]\n" + text[-limit:]


def context(result: Result, *, name: str = "", lab_title: str = "", rubric=None) -> dict:
    """What both feedback templates show. A file that could not be imported
    is told once (``import_error``, with its explanation), and each check
    then reads "not run". ``rubric``: the TA's grading of the write-up
    (:class:`grader.rubric.Graded`), counted in the score."""
    info = result.info
    rows = []
    for c in result.checks:
        status_text, message, explanation = shown(c)
        rows.append({"name": c.name, "title": c.title, "hidden": c.visibility == HIDDEN, "kind": c.kind,
                     "points": c.points, "score": c.score, "status_text": status_text,
                     # the colour: a check the import error kept from running was not run
                     "status": Status.SKIPPED if c.reason is Reason.IMPORT else c.status,
                     "time": c.time, "message": message, "explanation": explanation,
                     "curves": c.extra.get("curves") or {}})
    import_error = import_failure(result)
    return {
        "lab": result.lab, "lab_title": lab_title or result.lab, "student": result.submission,
        "name": name or info.name or "",
        "score": result.score + (rubric.total if rubric else 0.0),
        "max_score": result.max_score + (rubric.max_total if rubric else 0.0),
        "time": result.time, "checks": rows, "notes": info.notes or [],
        "intake_error": info.intake_error or "", "isolation": info.isolation or "",
        "isolation_detail": info.isolation_detail or "", "graded_at": info.graded_at or "",
        "output": output_excerpt(result), "output_truncated": bool(info.output_truncated),
        "output_bytes": info.output_bytes or 0, "import_error": import_error,
        "import_explanation": EXPLANATIONS[Reason.IMPORT] if import_error else "",
        "rubric": _rubric(rubric),
    }


def _rubric(graded) -> dict | None:
    """The graded write-up as the templates show it (None: not graded)."""
    if graded is None:
        return None
    return {"items": [{"id": i.id, "item": i.item, "points": i.points, "score": graded.scores.get(i.id, 0.0)}
                      for i in graded.items],
            "total": graded.total, "max_total": graded.max_total, "comment": graded.comment}


def write_student(result: Result, folder: Path | str, *, name: str = "", lab_title: str = "",
                  rubric=None) -> list[Path]:
    """Write ``feedback.md``, ``feedback.html``, ``gradescope-results.json``
    and ``curve-<check>.png`` for each training curve into ``folder``;
    returns the first three. ``rubric``: the TA's grading of the write-up
    (:class:`grader.rubric.Graded`), shown and counted when given."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ctx = context(result, name=name, lab_title=lab_title, rubric=rubric)
    images = {}
    for row in ctx["checks"]:
        if row["curves"]:
            png = plots.training_curve(row["curves"], f"{row['name']}: training curve")
            (folder / f"curve-{row['name']}.png").write_bytes(png)
            images[row["name"]] = base64.b64encode(png).decode()
    written = [folder / "feedback.md", folder / "feedback.html", folder / GRADESCOPE_FILE]
    atomic_write(written[0], render("feedback.md.j2", **ctx))
    atomic_write(written[1], render("feedback.html.j2", images=images, **ctx))
    atomic_write(written[2], json.dumps(gradescope_results(result, rubric=rubric), indent=2, ensure_ascii=False,
                                        allow_nan=False))
    return written
