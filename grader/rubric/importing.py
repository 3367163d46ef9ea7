"""``grader rubric import``: a TA's filled-in ``rubric.csv`` into the reports.

The sheet is checked whole before anything is written: an unknown student,
a missing or unknown column, a score that is not a number or out of
``0..points`` each becomes one problem naming the row and column, and one
problem means nothing is stored. A valid sheet's scores are stored
(:mod:`grader.rubric.store`; a student already graded has their scores
replaced, and the caller is told who), then every report is rewritten from
the batch's recorded results: ``grades.csv`` (a column per item and the
rubric's total, counted in ``total``), each student's feedback and
Gradescope ``results.json``. No result is graded again and no ``result.json``
is touched.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import getpass
import io
import math
import re
from pathlib import Path

from grader.core.results import RowStatus
from grader.reports import write_class, write_student
from grader.rubric import store

_HEADER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(\s*/\s*[^)]*\))?\s*$")


class RubricImportError(ValueError):
    """A sheet that cannot be imported: every problem found, one per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclasses.dataclass
class Imported:
    """What an import did: the students graded now, those whose earlier
    scores were replaced, and the rows left empty (not graded yet)."""

    graded: list[str]
    replaced: list[str]
    empty: list[str]


def import_scores(lab, out: Path | str, sheet: Path | str, *, by: str | None = None) -> Imported:
    """Check ``sheet`` (a filled ``rubric.csv``) against ``lab``'s rubric and
    the students graded in ``out``, store its scores and rewrite the
    reports; :class:`RubricImportError` (nothing written) when it is not valid."""
    out, sheet = Path(out), Path(sheet)
    study = lab.study
    if study is None or not study.rubric:
        raise RubricImportError([f"{lab.id} has no rubric: add [[study.rubric]] items to its lab.toml"])
    rows = store.recorded_rows(out)
    known = {r.id for r in rows if r.status is not RowStatus.MISSING}
    parsed, empty = parse(sheet.read_bytes(), study.rubric, known, name=sheet.name)
    scores = store.load(out, lab) or store.Scores(study.rubric)
    at = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    by = by or _user()
    replaced = [sid for sid in parsed if sid in scores.students]
    for sid, (values, comment) in parsed.items():
        scores.students[sid] = {"scores": values, "comment": comment, "by": by, "at": at, "sheet": sheet.name}
    store.save(out, scores)
    rewrite_reports(lab, out, rows, scores)
    return Imported(list(parsed), replaced, empty)


def parse(data: bytes, items, known: set[str], *, name: str = "rubric.csv") -> tuple[dict, list[str]]:
    """``{id: ({item: score}, comment)}`` for each filled row of the sheet,
    and the ids of rows left empty; :class:`RubricImportError` listing
    every problem otherwise."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RubricImportError([f"{name}: not UTF-8 ({exc}); save it as CSV UTF-8"]) from exc
    table = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if not table:
        raise RubricImportError([f"{name}: empty"])
    head, problems = table[0], []
    by_id = {i.id: i for i in items}
    columns: dict[str, int] = {}
    id_col = comment_col = None
    for j, cell in enumerate(head):
        title = cell.strip()
        match = _HEADER.match(title)
        key = match.group(1) if match else title
        if key == "id":
            id_col = j
        elif key == "comment":
            comment_col = j
        elif key in by_id:
            columns[key] = j
        elif key != "name":
            problems.append(f"{name}, column {j + 1} {title!r}: not a rubric item (items: {', '.join(by_id)})")
    if id_col is None:
        problems.append(f"{name}: no `id` column")
    if missing := [i for i in by_id if i not in columns]:
        problems.append(f"{name}: no column for rubric item(s) {', '.join(missing)}")
    if problems:
        raise RubricImportError(problems)
    parsed, empty, seen = {}, [], {}
    for n, row in enumerate(table[1:], 2):
        cell = lambda j: row[j].strip() if j is not None and j < len(row) else ""  # noqa: E731 - short rows
        sid = cell(id_col)
        where = f"{name}, row {n}"
        if not sid:
            problems.append(f"{where}: no id")
            continue
        if sid not in known:
            problems.append(f"{where}: unknown student id {sid!r} (not in this batch's results)")
            continue
        if sid in seen:
            problems.append(f"{where}: student {sid!r} is also on row {seen[sid]}")
            continue
        seen[sid] = n
        raw = {item: cell(j) for item, j in columns.items()}
        comment = cell(comment_col)
        if not any(raw.values()) and not comment:
            empty.append(sid)
            continue
        values = {}
        for item, value in raw.items():
            column = f"{where} ({sid}), column {head[columns[item]].strip()!r}"
            points = by_id[item].points
            if not value:
                problems.append(f"{column}: empty (score every item of a row, or leave the whole row empty)")
                continue
            try:
                score = float(value.replace(",", "."))  # a decimal comma, as some spreadsheets write
            except ValueError:
                problems.append(f"{column}: {value!r} is not a number")
                continue
            if not math.isfinite(score) or not 0 <= score <= points:
                problems.append(f"{column}: {value} is out of range 0..{points:g}")
                continue
            values[item] = score
        parsed[sid] = ({i: values.get(i, 0.0) for i in by_id}, comment)
    if problems:
        raise RubricImportError(problems)
    return parsed, empty


def rewrite_reports(lab, out: Path, rows, scores: store.Scores) -> None:
    """Every student's feedback and ``grades.csv`` (with ``results.jsonl``
    and ``summary.html``) again from the recorded ``rows``, with ``scores``."""
    for row in rows:
        if row.result is not None and (out / row.id).is_dir():
            write_student(row.result, out / row.id, name=row.name, lab_title=lab.title, rubric=scores.get(row.id))
    first = next((r.result for r in rows if r.result is not None), None)
    checks = first.checks if first is not None else []  # the graded checks: name, points, visibility
    write_class(rows, checks, out, lab_id=lab.id, lab_title=lab.title, rubric=scores)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return ""
