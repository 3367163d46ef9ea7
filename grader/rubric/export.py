"""``grader rubric export``: what a TA needs to grade the study's write-ups.

For each student of a graded batch, ``OUT/<id>/rubric.html``: their table,
their plots (embedded, size-capped), their write-up (``report.md``, else the
Markdown cells of their notebook) rendered from Markdown with HTML disabled
(student text is untrusted: a ``<script>`` in it is shown, never run), the
verdicts of the reproduction check, and the rubric. Then ``OUT/rubric.csv``,
one row per student and one column per rubric item, for the TA to fill in
and give to ``grader rubric import``.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from pathlib import Path

from grader.core.results import RowStatus
from grader.files import atomic_write
from grader.reports.class_reports import BOM
from grader.reports.numbers import format_points
from grader.rubric import store
from grader.templates import render

#: The TA's sheet, in the output folder.
CSV_FILE = "rubric.csv"
#: The class's sheet as a page whose button saves the CSV (in the browser; no server).
FORM_FILE = "rubric-form.html"
#: One student's page, in their folder.
PAGE_FILE = "rubric.html"
#: Where the batch keeps the staged submissions (:mod:`grader.core.batch`).
STAGING = ".intake"
#: The name of the reproduction check, whose ``extra["study"]`` holds its row verdicts.
STUDY_CHECK = "study"
#: Plots larger than this are listed, not embedded (a page stays light enough to open).
MAX_IMAGE = 1 << 20
#: Plots embedded per student, at most.
MAX_IMAGES = 12
#: Rows of the student's table shown, at most.
MAX_TABLE_ROWS = 500
#: Characters of the write-up rendered, at most.
MAX_TEXT = 200_000
IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif"}


def export(lab, out: Path | str) -> list[Path]:
    """Write every student's ``rubric.html`` and ``rubric.csv`` into ``out``
    (a folder ``grader grade`` wrote); returns the CSV's path, then the pages'.
    Scores already imported are filled in, so exporting again loses nothing."""
    out = Path(out)
    study = lab.study
    if study is None or not study.rubric:
        raise ValueError(f"{lab.id} has no rubric: add [[study.rubric]] items to its lab.toml")
    scores = store.load(out, lab)
    rows = [r for r in store.recorded_rows(out) if r.status is not RowStatus.MISSING]
    pages = []
    for row in rows:
        graded = scores.get(row.id) if scores is not None else None
        page = render(PAGE_FILE + ".j2", **page_context(lab, row, out / STAGING / row.id, graded))
        (out / row.id).mkdir(parents=True, exist_ok=True)
        pages.append(atomic_write(out / row.id / PAGE_FILE, page))
    atomic_write(out / FORM_FILE, form(lab, rows, scores))
    return [atomic_write(out / CSV_FILE, BOM + sheet(study.rubric, rows, scores)), *pages]


def form(lab, rows, scores) -> str:
    """The sheet as a page to fill in: a number field per item and student,
    and a button that saves ``rubric.csv``. Its one script is allowed by its
    hash (Content-Security-Policy), so no text on the page could run as one."""
    items = lab.study.rubric
    script = render("rubric_form.js.j2")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    students = []
    for row in rows:
        graded = scores.get(row.id) if scores is not None else None
        students.append({"id": row.id, "name": row.name, "comment": graded.comment if graded else "",
                         "scores": [format_points(graded.scores.get(i.id, 0.0)) if graded else "" for i in items]})
    return render("rubric_form.html.j2", lab_id=lab.id, lab_title=lab.title, study_title=lab.study.title,
                  items=items, header=["id", "name", *[header(i) for i in items], "comment"], students=students,
                  script=script, script_hash=f"sha256-{digest}")


def header(item) -> str:
    """An item's column in the sheet: its id and its points (``explains_depth (/2)``)."""
    return f"{item.id} (/{format_points(item.points)})"


def sheet(items, rows, scores) -> str:
    """``id, name, <item> (/<points>)…, comment``: one row per student,
    with the scores already imported."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "name", *[header(i) for i in items], "comment"])
    for row in rows:
        graded = scores.get(row.id) if scores is not None else None
        cells = [format_points(graded.scores.get(i.id, 0.0)) for i in items] if graded else [""] * len(items)
        writer.writerow([row.id, row.name, *cells, graded.comment if graded else ""])
    return buffer.getvalue()


def page_context(lab, row, staged: Path, graded) -> dict:
    """What ``rubric.html.j2`` shows of one student."""
    study = lab.study
    table_head, table_rows, table_note = _table(_find(staged, study.table), study.table)
    writeup, source = _writeup(staged, study.report)
    images, too_large = _images(staged)
    check = row.result.by_name().get(STUDY_CHECK) if row.result is not None else None
    return {
        "lab_title": lab.title, "study_title": study.title, "student": row.id, "name": row.name,
        "staged": staged.is_dir(), "table_name": study.table, "table_head": table_head, "table_rows": table_rows,
        "table_note": table_note, "writeup": writeup, "writeup_source": source, "report_name": study.report,
        "images": images, "too_large": too_large,
        "verdicts": list((check.extra.get("study") or []) if check is not None else []),
        "check": None if check is None else {"score": check.score, "points": check.points, "message": check.message},
        "rubric": [{"id": i.id, "item": i.item, "points": i.points,
                    "score": graded.scores.get(i.id) if graded else None} for i in study.rubric],
        "comment": graded.comment if graded else "",
    }


def render_markdown(text: str) -> str:
    """``text`` (a student's Markdown) as HTML with every raw HTML tag escaped
    and unsafe links (``javascript:``) left as text."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text[:MAX_TEXT])


def _find(staged: Path, name: str) -> Path | None:
    """``name`` beside the student's lab file, else anywhere in their folder (first in name order)."""
    if not staged.is_dir():
        return None
    top = staged / name
    if top.is_file() and not top.is_symlink():
        return top
    found = sorted(p for p in staged.rglob(name) if p.is_file() and not p.is_symlink())
    return found[0] if found else None


def _read(path: Path, limit: int = MAX_TEXT) -> str:
    with path.open("rb") as fh:
        return fh.read(limit * 4).decode("utf-8-sig", errors="replace")


def _table(path: Path | None, name: str) -> tuple[list, list, str]:
    """The student's table as a header and rows of text, and a note on what
    could not be shown."""
    if path is None:
        return [], [], f"no {name} handed in"
    try:
        text = _read(path)
        if name.endswith(".json"):
            records = json.loads(text)
            if isinstance(records, dict):  # {"rows": [...]} as well as [...]
                records = next((v for v in records.values() if isinstance(v, list)), [])
            records = [r for r in records if isinstance(r, dict)]
            head = list(dict.fromkeys(k for r in records for k in r))
            rows = [[str(r.get(k, "")) for k in head] for r in records]
        else:
            head, *rows = list(csv.reader(io.StringIO(text))) or [[]]
    except (ValueError, csv.Error) as exc:
        return [], [], f"{name} could not be read ({type(exc).__name__}: {exc})"
    note = f"first {MAX_TABLE_ROWS} of {len(rows)} rows shown" if len(rows) > MAX_TABLE_ROWS else ""
    return head, rows[:MAX_TABLE_ROWS], note


def _writeup(staged: Path, name: str) -> tuple[str, str]:
    """The write-up rendered to safe HTML, and where it came from ("" when there is none)."""
    report = _find(staged, name)
    if report is not None:
        return render_markdown(_read(report)), report.name
    for notebook in sorted(staged.rglob("*.ipynb")) if staged.is_dir() else []:
        if notebook.is_symlink() or notebook.stat().st_size > 50 * MAX_IMAGE:
            continue
        try:
            cells = json.loads(notebook.read_bytes()).get("cells", [])
            text = "\n\n".join("".join(c["source"]) if isinstance(c["source"], list) else str(c["source"])
                               for c in cells if isinstance(c, dict) and c.get("cell_type") == "markdown")
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if text.strip():
            return render_markdown(text), f"the Markdown cells of {notebook.name}"
    return "", ""


def _images(staged: Path) -> tuple[list[dict], list[str]]:
    """The student's plots as data URIs (``<img>`` never runs an SVG's
    scripts), and the names of those too large to embed."""
    if not staged.is_dir():
        return [], []
    files = sorted(p for p in staged.rglob("*") if p.suffix.lower() in IMAGE_TYPES and p.is_file()
                   and not p.is_symlink())
    images, too_large = [], []
    for path in files:
        rel = path.relative_to(staged).as_posix()
        if path.stat().st_size > MAX_IMAGE or len(images) >= MAX_IMAGES:
            too_large.append(rel)
            continue
        data = base64.b64encode(path.read_bytes()).decode()
        images.append({"name": rel, "src": f"data:{IMAGE_TYPES[path.suffix.lower()]};base64,{data}"})
    return images, too_large
