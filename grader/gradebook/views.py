"""What people read of a gradebook: ``final.csv``, ``trace.csv``, ``index.html`` and one student's trace.

The CSVs are UTF-8 with a byte-order mark (Excel needs it to show Chinese
names) and show points with at most two decimals; the total is added up
before rounding, and the grade is read from the total as shown.
"""

from __future__ import annotations

import csv
import io
import statistics
from pathlib import Path

from grader.files import atomic_write
from grader.gradebook.build import Gradebook, Student
from grader.gradebook.store import open_store
from grader.reports.numbers import format_points
from grader.templates import render

#: The byte-order mark that starts each CSV.
BOM = "\ufeff"
#: Bars of each histogram.
BINS = 10


def write(book: Gradebook, out: Path | str) -> list[Path]:
    """``final.csv``, ``trace.csv`` and ``index.html`` in ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "final.csv", out / "trace.csv", out / "index.html"]
    atomic_write(paths[0], BOM + final_csv(book))
    atomic_write(paths[1], BOM + trace_csv(book))
    atomic_write(paths[2], index_html(book))
    return paths


def _points(value: float | None) -> str:
    return "" if value is None else format_points(value)


def final_csv(book: Gradebook) -> str:
    """学号, 姓名, one column per component, total, grade (with a scale), note."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    scale = bool(book.course.scale)
    components = [c.id for c in book.course.components]
    writer.writerow(["学号", "姓名", *components, "total", *(["grade"] * scale), "note"])
    for s in book.students:
        writer.writerow([s.id, s.name, *[s.cells[c.id].text for c in book.course.components], _points(s.total),
                         *([s.grade] * scale), "; ".join(s.notes)])
    return buffer.getvalue()


def trace_csv(book: Gradebook) -> str:
    """Every number of every total: the student, the component, what it is,
    its points, the file and row it came from, and what was done to it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["学号", "姓名", "component", "step", "points", "file", "row", "detail"])
    for s in book.students:
        for step in s.steps:
            writer.writerow([s.id, s.name, step.component, step.what, _points(step.points), step.file,
                             "" if step.row is None else step.row, step.detail])
    return buffer.getvalue()


def explain(book: Gradebook, student_id: str) -> str:
    """``student_id``'s total, number by number, with the history of each score."""
    student = next((s for s in book.students if s.id == student_id), None)
    if student is None:
        raise KeyError(f"{student_id!r} is not on the roster of {book.course.name}")
    total = f"{_points(student.total)} of {book.course.total:g}" if student.total is not None else "not known"
    grade = f", grade {student.grade}" if student.grade else ""
    lines = [f"{student.id} {student.name}: total {total}{grade}"]
    for step in student.steps:
        where = f"{step.file} row {step.row}" if step.row is not None else step.file
        points = "" if step.points is None else f"{step.points + 0.0:+.2f}"  # + 0.0: never "-0.00"
        label = step.component or "total"
        lines.append(f"  {label:<14} {step.what:<8} {points:>8}  {step.detail}" + (f"  [{where}]" if where else ""))
    with open_store(book.course.store) as store:
        history = [(c.id, store.history(student.id, c.id)) for c in book.course.components]
        edits = store.edits(student.id)
    changed = [(cid, versions) for cid, versions in history if len(versions) > 1]
    if changed:
        lines.append("  history:")
        for cid, versions in changed:
            lines.append(f"    {cid}: " + " → ".join(
                f"v{v.version} {_value(v)} ({v.recorded_at}"
                + (f", {v.row.file} row {v.row.number}" if v.row else "") + ")" for v in versions))
    for _, component, kind, old, new, at in edits:
        lines.append(f"  edit: {component} {old} → {new} ({kind}, {at})")
    return "\n".join(lines)


def _value(v) -> str:
    return f"{v.points:g}/{v.max:g}" if v.points is not None and v.max is not None else v.status


def _distribution(values: list[float], top: float) -> dict:
    """Quantiles and a histogram of ``values`` (0 to ``top``) for the page."""
    if not values:
        return {"n": 0, "bars": [], "quantiles": None, "mean": None}
    counts = [0] * BINS
    for v in values:
        counts[min(BINS - 1, max(0, int(v / top * BINS)))] += 1
    most = max(counts)
    bars = [{"low": top * i / BINS, "high": top * (i + 1) / BINS, "count": n, "height": round(100 * n / most)}
            for i, n in enumerate(counts)]
    q = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else [values[0]] * 3
    return {"n": len(values), "bars": bars, "mean": statistics.fmean(values),
            "quantiles": [min(values), *q, max(values)]}


def index_html(book: Gradebook) -> str:
    course = book.course
    components = []
    for c in course.components:
        cells = [s.cells[c.id] for s in book.students]
        values = [cell.points for cell in cells if cell.points is not None and cell.text != "missing"]
        components.append({"id": c.id, "title": c.label, "kind": c.kind, "weight": c.weight,
                           "missing": sum(cell.text == "missing" for cell in cells),
                           "unknown": sum(cell.points is None and cell.text != "missing" for cell in cells),
                           **_distribution(values, c.weight)})
    totals = _distribution([s.total for s in book.students if s.total is not None], course.total)
    total_row = {"id": "total", "title": "total", "kind": "", "weight": course.total, "missing": "",
                 "unknown": len(book.students) - totals["n"], **totals}
    grades = {g: sum(s.grade == g for s in book.students) for g, _ in course.scale}
    return render("gradebook.html.j2", course=course, components=components, total_row=total_row,
                  students=book.students, problems=book.problems, totals=totals, grades=grades,
                  cell_title=_cell_title)


def _cell_title(student: Student, cid: str) -> str:
    """A cell's steps, shown when the mouse rests on it."""
    return "\n".join(f"{step.what} {_points(step.points)}: {step.detail} ({step.file}"
                     + (f" row {step.row}" if step.row is not None else "") + ")"
                     for step in student.cells[cid].steps)
