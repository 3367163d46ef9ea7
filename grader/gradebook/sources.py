"""Readers of the gradebook's sources, one per kind of file.

* a lab's grading output (``grades.csv`` written by ``grader grade``; the
  write-up's rubric points are already in its ``total`` once
  ``grader rubric import`` merged them);
* a points CSV (the competition's ``student_id,team,rank,points,source``, or
  a TA's sheet of participation marks);
* submission times: the ``submitted_at`` column of ``grades.csv`` (what the
  LMS export said), or a CSV of them (``id,submitted_at``) that the course
  names instead.

Every reader keeps each row as it was (its number and its cells), so a
number of the final grade can be traced back to the row it came from, and
says what is wrong with a file rather than guessing: a row it cannot read
becomes an :class:`Entry` that is a *hole* with the reason, never a 0.
Row numbers are the spreadsheet's: the header is row 1.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import math
from pathlib import Path
from typing import Callable

from grader.core.results import RowStatus
from grader.gradebook.course import Component, parse_time
from grader.intake.text import decode_utf8_or_gbk
from grader.roster import ID_COLUMNS

#: Header cells (case-insensitive) of the score column of a points CSV, tried in order.
POINTS_COLUMNS = ("points", "score", "得分", "分数", "成绩")
#: Header cells of the submission time column.
TIME_COLUMNS = ("submitted_at", "submitted", "submission_time", "submission time", "created_at", "time", "提交时间")
#: The class-wide file of a lab's grading output.
GRADES_FILE = "grades.csv"
#: Its column of submission times.
SUBMITTED_AT = "submitted_at"

#: What an entry is: a score, a submission that is not there, or a hole (no usable value).
SCORED, MISSING, HOLE = "scored", "missing", "hole"


@dataclasses.dataclass(frozen=True)
class Entry:
    """What one row of a source says of one student."""

    #: The id as the source writes it (matched against the roster later).
    student: str
    #: The row (header = 1).
    row: int
    #: :data:`SCORED`, :data:`MISSING` or :data:`HOLE`.
    status: str
    points: float | None = None
    max: float | None = None
    #: Why it is missing or a hole; the row's status otherwise.
    detail: str = ""
    #: Submission times only.
    time: datetime.datetime | None = None


@dataclasses.dataclass
class Source:
    """One file, read: its rows as they were and what they say."""

    file: Path
    header: list[str] = dataclasses.field(default_factory=list)
    #: Row number → the row's cells by header.
    rows: dict[int, dict[str, str]] = dataclasses.field(default_factory=dict)
    entries: list[Entry] = dataclasses.field(default_factory=list)
    #: What is wrong with rows of the file, in words.
    problems: list[str] = dataclasses.field(default_factory=list)
    #: Why nothing of the file can be used (None: it can).
    error: str | None = None
    #: How messages name the file (default: its path).
    name: str = ""

    def __post_init__(self):
        self.name = self.name or str(self.file)


def read_table(path: Path, display: Callable[[Path], str] = str) -> Source:
    """A CSV as Excel and the kit write it (UTF-8 with or without a BOM, or
    GBK; comma, semicolon or tab separated), header first; ``display``
    names a path in messages."""
    source = Source(path, name=display(path))
    try:
        text, _ = decode_utf8_or_gbk(path.read_bytes(), strip_bom=True)
    except FileNotFoundError:
        source.error = f"{source.name} does not exist"
        return source
    except OSError as exc:
        source.error = f"{source.name} cannot be read: {exc.strerror or exc}"
        return source
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        records = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        source.error = f"{source.name} is not a readable CSV: {exc}"
        return source
    if not records or not any(c.strip() for c in records[0]):
        source.error = f"{source.name} is empty (a header row is needed)"
        return source
    source.header = [c.strip() for c in records[0]]
    for number, record in enumerate(records[1:], 2):
        if any(c.strip() for c in record):
            source.rows[number] = {h: (record[i].strip() if i < len(record) else "")
                                   for i, h in enumerate(source.header)}
    return source


def _column(header: list[str], candidates, what: str, source: Source, *, named: str | None = None) -> str | None:
    """The header cell among ``candidates`` (or exactly ``named``); sets ``source.error`` when there is none."""
    folded = {h.casefold(): h for h in header}
    if named is not None:
        found = folded.get(named.casefold())
        if found is None:
            source.error = f"{source.name} has no column {named!r} (its columns: {', '.join(header)})"
        return found
    found = next((folded[c] for c in candidates if c in folded), None)
    if found is None:
        source.error = (f"{source.name} has no {what} column (one of {', '.join(candidates)}; "
                        f"its columns: {', '.join(header)})")
    return found


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_lab(component: Component, display: Callable[[Path], str] = str) -> Source:
    """A lab's ``grades.csv``: each row's ``total`` out of ``max_total`` (or
    the component's ``max``). Statuses: a submission that ran or could not
    be used scores its total; ``missing`` is missing; a row the grader did
    not finish (``grader error``, ``not graded``) or whose write-up is not
    graded yet is a hole."""
    folder = component.source
    source = read_table(folder / GRADES_FILE if folder.is_dir() else folder, display)
    if source.error:
        if not folder.exists():
            source.error = f"{display(folder)} does not exist (the folder `grader grade -o` wrote)"
        return source
    for needed in ("id", "total", "max_total", "status"):
        if needed not in source.header:
            source.error = (f"{source.name} has no {needed!r} column: is it the grades.csv `grader grade` wrote? "
                            f"(its columns: {', '.join(source.header)})")
            return source
    rubric = "rubric_total" in source.header
    if not rubric and folder.is_dir() and (folder / "rubric.csv").is_file():
        source.error = (f"{display(folder)}: the study's write-ups were exported for grading (rubric.csv) but "
                        f"their scores are not in {GRADES_FILE} yet: run `grader rubric import` first")
        return source
    statuses = {s.value: s for s in RowStatus}
    for number, row in source.rows.items():
        sid, status = row["id"], statuses.get(row["status"])
        note = row.get("note", "")
        if status is None:
            source.entries.append(Entry(sid, number, HOLE, detail=f"unknown status {row['status']!r}"))
            source.problems.append(f"{source.name} row {number}: unknown status {row['status']!r}")
            continue
        if status is RowStatus.MISSING:
            source.entries.append(Entry(sid, number, MISSING, detail="no submission"))
            continue
        if not status.scored:
            why = f"not graded ({status}{': ' + note if note else ''})"
            source.entries.append(Entry(sid, number, HOLE, detail=why))
            source.problems.append(f"{source.name} row {number}: {sid} {why}")
            continue
        total, maximum = _float(row["total"]), component.max or _float(row["max_total"])
        if total is None or maximum is None or maximum <= 0 or total < 0:
            why = f"total {row['total']!r} of max_total {row['max_total']!r} is not a score"
            source.entries.append(Entry(sid, number, HOLE, detail=why))
            source.problems.append(f"{source.name} row {number}: {why}")
            continue
        if rubric and not row.get("rubric_total"):
            why = "the study's write-up is not graded yet (empty rubric cells)"
            source.entries.append(Entry(sid, number, HOLE, detail=why))
            source.problems.append(f"{source.name} row {number}: {sid}: {why}")
            continue
        source.entries.append(Entry(sid, number, SCORED, total, maximum, detail=str(status)))
    return source


def read_points(component: Component, display: Callable[[Path], str] = str) -> Source:
    """A points CSV (competition or manual): an id column and the score
    column (``column`` of the component, else ``points``, ``score``, …), out
    of the component's ``max`` (default: its weight). An empty cell is a
    missing score; a cell that is not a number in range is a hole."""
    source = read_table(component.source, display)
    if source.error:
        return source
    id_col = _column(source.header, ID_COLUMNS, "student id", source)
    points_col = _column(source.header, POINTS_COLUMNS, "points", source, named=component.column)
    if source.error:
        return source
    maximum = component.max or component.weight
    for number, row in source.rows.items():
        sid, cell = row[id_col], row[points_col]
        if not sid:
            source.problems.append(f"{source.name} row {number}: no student id")
            continue
        if not cell:
            source.entries.append(Entry(sid, number, MISSING, detail=f"empty {points_col!r} cell"))
            continue
        value = _float(cell)
        if value is None or not 0 <= value <= maximum + 1e-9:
            why = f"{points_col} {cell!r} is not a number from 0 to {maximum:g}"
            source.entries.append(Entry(sid, number, HOLE, detail=why))
            source.problems.append(f"{source.name} row {number}: {sid}: {why}")
            continue
        source.entries.append(Entry(sid, number, SCORED, value, maximum, detail=points_col))
    return source


def read_times(path: Path, tz: datetime.tzinfo, display: Callable[[Path], str] = str) -> Source:
    """Submission times: an id column and a time column (``submitted_at``,
    …), ISO 8601 or ``2026/10/15 23:59``; a time without an offset is in
    the course's ``tz``. A time that cannot be read is a problem, and that
    submission has no time."""
    source = read_table(path, display)
    if source.error:
        return source
    id_col = _column(source.header, ID_COLUMNS, "student id", source)
    time_col = _column(source.header, TIME_COLUMNS, "submission time", source)
    if source.error:
        return source
    _time_entries(source, id_col, time_col, tz, skip_empty=False)
    return source


def lab_times(lab: Source, tz: datetime.tzinfo) -> Source:
    """The submission times in a lab's ``grades.csv`` (read by
    :func:`read_lab`): its ``submitted_at`` column, which ``grader grade``
    fills from the LMS export. The same file and rows, so a time is traced
    to the row its score came from; an empty cell (the export gave no time,
    a student who did not submit) is no time. ``error`` says why there are
    none at all: no such column (an older grading output) or every cell empty."""
    source = Source(lab.file, lab.header, lab.rows, name=lab.name)
    if SUBMITTED_AT not in lab.header:
        source.error = f"{lab.name} has no {SUBMITTED_AT} column"
        return source
    _time_entries(source, "id", SUBMITTED_AT, tz, skip_empty=True)
    if not source.entries and not source.problems:
        source.error = f"{lab.name} records no submission time (its {SUBMITTED_AT} cells are empty)"
    return source


def _time_entries(source: Source, id_col: str, time_col: str, tz: datetime.tzinfo, *, skip_empty: bool) -> None:
    """An entry per row of ``source`` with a time (an empty cell is none when
    ``skip_empty``); a time that cannot be read is a problem, and that
    submission has none."""
    for number, row in source.rows.items():
        sid, cell = row[id_col], row[time_col]
        if skip_empty and not cell:
            continue
        try:
            stamp = parse_time(cell, tz)
        except ValueError:
            source.problems.append(f"{source.name} row {number}: {sid}: {cell!r} is not a date and time; "
                                   "the submission is taken as on time")
            continue
        source.entries.append(Entry(sid, number, SCORED, time=stamp, detail=time_col))
