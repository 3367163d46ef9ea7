"""The class's reports: ``grades.csv``, ``results.jsonl`` and ``summary.html``,
one :class:`~grader.core.results.Row` per line.

``grades.csv`` is for people: UTF-8 with a byte-order mark, which Excel
needs to read names in Chinese (without it, it guesses the system's code
page); Python reads it with ``encoding="utf-8-sig"``. ``results.jsonl`` is
for scripts (plain UTF-8, every field).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import statistics
from collections import Counter
from pathlib import Path

from grader.checks.check import HIDDEN
from grader.core.results import RosterFlag, Row, RowStatus
from grader.files import atomic_write
from grader.reports import plots
from grader.reports.failures import failure_kind
from grader.templates import render

#: Rows the summary lists as not graded, with the reason.
UNGRADED = (RowStatus.INTAKE_ERROR, RowStatus.GRADER_ERROR, RowStatus.NOT_GRADED)
#: Rows whose file could not be imported (every check scores 0).
NOT_IMPORTED = (RowStatus.SYNTAX_ERROR, RowStatus.IMPORT_ERROR)
#: The byte-order mark that starts ``grades.csv``.
BOM = "\ufeff"


def write_class(rows: list[Row], checks: list, out: Path, *, lab_id: str, lab_title: str = "",
                rubric=None) -> list[Path]:
    """Write the three class-level files into ``out``; ``checks`` are the
    graded checks (objects with ``name``, ``points``, ``visibility``);
    ``rubric`` (:class:`grader.rubric.Scores`): the TA's scores of the
    write-ups, merged into ``grades.csv`` and ``results.jsonl``."""
    out = Path(out)
    paths = [out / "grades.csv", out / "results.jsonl", out / "summary.html"]
    atomic_write(paths[0], BOM + grades_csv(rows, checks, rubric))
    atomic_write(paths[1], "".join(json.dumps(_line(r, rubric), ensure_ascii=False, allow_nan=False) + "\n"
                                   for r in rows))
    atomic_write(paths[2], summary_html(rows, checks, lab_id=lab_id, lab_title=lab_title))
    return paths


def grades_csv(rows: list[Row], checks: list, rubric=None) -> str:
    """id, name, total, max_total, status, roster, one column per check,
    note, submitted_at (without the byte-order mark :func:`write_class` puts
    first). ``submitted_at`` is when the student handed the submission in, as
    the LMS export said (ISO 8601 with its offset; empty when it did not
    say); it comes last so that readers of the earlier columns by position
    keep working. Scores
    have at most 3 decimals (``0.667``): enough to add up, short to read.
    With ``rubric`` (:class:`grader.rubric.Scores`), a column per rubric
    item (``rubric:<id>``) and ``rubric_total`` come before the note, and
    the totals count them; a write-up not graded yet has empty cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    items = rubric.items if rubric is not None else ()
    max_total = sum(c.points for c in checks) + sum(i.points for i in items)
    extra = [*[f"rubric:{i.id}" for i in items], "rubric_total"] if rubric is not None else []
    writer.writerow(["id", "name", "total", "max_total", "status", "roster", *[c.name for c in checks], *extra,
                     "note", "submitted_at"])
    for r in rows:
        by = r.result.by_name() if r.result else {}
        cells = [_number(by[c.name].score) if c.name in by else "" for c in checks]
        note = r.message or "; ".join((r.result.info.notes or []) if r.result else [])
        total = r.score
        if rubric is not None:
            graded = rubric.get(r.id)
            cells += [_number(graded.scores.get(i.id, 0.0)) for i in items] + [_number(graded.total)] if graded \
                else [""] * (len(items) + 1)
            total += graded.total if graded else 0.0
        submitted = (r.result.info.submitted_at if r.result else None) or ""
        writer.writerow([r.id, r.name, _number(total), _number(max_total), r.status, r.roster, *cells, note,
                         submitted])
    return buffer.getvalue()


def _line(row: Row, rubric) -> dict:
    """``row`` as one line of ``results.jsonl``, with its graded write-up (``rubric``) when there is one."""
    line = row.to_dict()
    graded = rubric.get(row.id) if rubric is not None else None
    if graded is not None:
        line["rubric"] = {"scores": graded.scores, "total": graded.total, "max_total": graded.max_total,
                          "comment": graded.comment, "by": graded.by, "at": graded.at}
    return line


def _number(x: float) -> str:
    """``x`` with at most 3 decimals and no trailing zeros (``8.167``, ``1``)."""
    return f"{round(x, 3):g}"


def summary_html(rows: list[Row], checks: list, *, lab_id: str, lab_title: str = "") -> str:
    graded = [r for r in rows if r.status.ran and r.result is not None]
    max_total = sum(c.points for c in checks)
    scores = [r.score for r in graded]
    per_check = []
    for c in checks:
        results = [r.result.by_name().get(c.name) for r in graded]
        results = [x for x in results if x is not None]
        kinds = Counter(failure_kind(x) for x in results if not x.passed)
        per_check.append({
            "name": c.name, "points": c.points, "hidden": c.visibility == HIDDEN,
            "pass_rate": sum(x.passed for x in results) / len(results) if results else 0.0,
            "mean": statistics.fmean(x.score for x in results) if results else 0.0,
            "failures": ", ".join(f"{k} ×{n}" for k, n in kinds.most_common(3)),
        })
    failures: dict[str, dict] = {}
    for r in graded:
        for x in r.result.checks:
            kind = failure_kind(x)
            if kind:
                entry = failures.setdefault(kind, {"kind": kind, "count": 0, "checks": Counter(), "ids": []})
                entry["count"] += 1
                entry["checks"][x.name] += 1
                if r.id not in entry["ids"]:
                    entry["ids"].append(r.id)
    failure_rows = [{"kind": f["kind"], "count": f["count"],
                     "checks": ", ".join(f"{n} ×{k}" for n, k in f["checks"].most_common(4)),
                     "ids": ", ".join(f["ids"][:6]) + (" …" if len(f["ids"]) > 6 else "")}
                    for f in sorted(failures.values(), key=lambda f: -f["count"])]
    slowest = sorted(graded, key=lambda r: -r.result.time)[:10]
    images = {}
    if graded:
        images["histogram"] = base64.b64encode(plots.histogram(scores, max_total)).decode()
        images["pass_rates"] = base64.b64encode(plots.pass_rates([c["name"] for c in per_check],
                                                                 [c["pass_rate"] for c in per_check])).decode()
    isolation = Counter((r.result.info.isolation, r.result.info.isolation_detail or "")
                        for r in graded if r.result.info.isolation)
    return render(
        "summary.html.j2",
        lab_id=lab_id, lab_title=lab_title or lab_id, rows=rows, graded=graded, max_total=max_total,
        submissions=sum(r.status is not RowStatus.MISSING for r in rows),
        mean=statistics.fmean(scores) if scores else 0.0, median=statistics.median(scores) if scores else 0.0,
        full_marks=sum(s >= max_total - 1e-9 for s in scores), per_check=per_check, failures=failure_rows,
        slowest=[{"id": r.id, "time": r.result.time, "starts": _or(r.result.info.starts, ""),
                  "peak_rss": _or(r.result.info.peak_rss, 0) / 2**30} for r in slowest],
        intake_errors=[r for r in rows if r.status in UNGRADED],
        not_imported=[r for r in rows if r.status in NOT_IMPORTED],
        missing=[r for r in rows if r.roster is RosterFlag.MISSING],
        unknown=[r for r in rows if r.roster is RosterFlag.NOT_ON_ROSTER],
        isolation=[{"level": level, "detail": detail, "count": n} for (level, detail), n in isolation.most_common()],
        images=images,
    )


def _or(value, default):
    """``value``, or ``default`` where the run did not record it."""
    return default if value is None else value
