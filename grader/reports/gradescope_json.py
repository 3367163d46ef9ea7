"""Gradescope's ``results.json`` format, for one graded submission (the
entry point that runs in Gradescope's container is
:mod:`grader.integrations.gradescope`).

Follows https://gradescope-autograders.readthedocs.io/en/latest/specs/
("Output format"): a top-level ``score`` and ``execution_time``, an
``output`` shown above the tests, and one entry in ``tests`` per check with
``score``, ``max_score``, ``status`` (``passed``/``failed``), ``name``,
``number``, ``output``, ``tags``, ``visibility`` and ``extra_data``. Public
checks are ``visible``; hidden checks become visible ``after_published``
(when the instructor publishes grades), so students cannot probe them
submission by submission.
"""

from __future__ import annotations

from grader.checks.check import PUBLIC
from grader.core.results import Reason, Result, Status
from grader.reports.failures import explain, import_failure, shown


def gradescope_results(result: Result, rubric=None) -> dict:
    """``result`` in Gradescope's results.json format (plain JSON, no NaN);
    ``rubric`` (:class:`grader.rubric.Graded`): the TA's grading of the
    write-up, one test per rubric item, counted in the score."""
    tests = []
    for i, c in enumerate(result.checks, 1):
        status, message, why = shown(c)  # an import error is told once, in the top-level output
        output = f"{status} ({c.time:.1f}s)"
        if message:
            output += f"\n{message}"
        if why:
            output += f"\n\n{why}"
        tests.append({
            "name": f"{c.name}: {c.title}" if c.title and c.title != c.name else c.name,
            "number": str(i),
            "score": round(float(c.score), 6),
            "max_score": round(float(c.points), 6),
            "status": "passed" if c.status is Status.PASSED else "failed",  # Gradescope's two words
            "output": output,
            "output_format": "text",
            "tags": [c.kind, c.visibility],
            "visibility": "visible" if c.visibility == PUBLIC else "after_published",
            "extra_data": {"check": c.name, "status": c.status, "time": round(float(c.time), 3)},
        })
    if rubric is not None:
        for n, item in enumerate(rubric.items):
            score = rubric.scores.get(item.id, 0.0)
            tests.append({
                "name": f"write-up: {item.item}", "number": str(len(tests) + 1),
                "score": round(float(score), 6), "max_score": round(float(item.points), 6),
                "status": "passed" if score >= item.points else "failed",
                "output": rubric.comment if n == 0 else "",  # the TA's one comment, once
                "output_format": "text", "tags": ["rubric"], "visibility": "visible",
                "extra_data": {"rubric": item.id},
            })
    info = result.info
    lines = [result.summary()]
    if info.intake_error:
        lines.append(f"Your submission could not be graded: {info.intake_error}")
    if error := import_failure(result):
        lines += ["Your file could not be imported, so no check could run:", error]
        if why := explain(next(c for c in result.checks if c.reason is Reason.IMPORT)):
            lines.append(why)
    lines += [f"Note: {n}" for n in info.notes or []]
    return {
        "score": round(float(result.score + (rubric.total if rubric else 0.0)), 6),
        "execution_time": int(round(float(result.time))),
        "output": "\n".join(lines),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"lab": result.lab, "submission": result.submission,
                       "max_score": result.max_score + (rubric.max_total if rubric else 0.0),
                       "isolation": info.isolation or ""},
        "tests": tests,
    }
