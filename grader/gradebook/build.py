"""From a course's sources to each student's total, every number traced.

:func:`build` reads every source (:mod:`~grader.gradebook.sources`), records
what changed in the store (:mod:`~grader.gradebook.store`), applies the late
policy (:mod:`~grader.gradebook.late`) and returns a :class:`Gradebook`: per
student, a :class:`Cell` per component whose :class:`Step`\\ s say where each
number came from (a file and a row) and what the policy did to it.

Nothing is ever quietly 0. A source that cannot be read, a row that cannot
be used, a student with no row and a row for a student not on the roster
are :class:`Problem`\\ s; a missing submission counts 0 only where the
component's ``missing`` policy says so, and a value that is not known (a
submission not graded yet, say) leaves the student's total empty rather
than wrong.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
from collections import defaultdict
from pathlib import Path

from grader.files import sha256_file
from grader.gradebook import late, sources
from grader.gradebook.course import Component, Course
from grader.gradebook.sources import HOLE, MISSING, SCORED, Source
from grader.gradebook.store import Row, Store, open_store
from grader.reports.numbers import format_points
from grader.roster import Roster, load_roster


@dataclasses.dataclass(frozen=True)
class Step:
    """One number of a student's total and where it came from."""

    component: str
    #: ``score``, ``late``, ``missing``, ``hole`` or ``total``.
    what: str
    #: Points it adds to the total (negative: taken off; None: not known).
    points: float | None
    #: The file and row (header = 1) it was read from ("" / None: none).
    file: str
    row: int | None
    detail: str


@dataclasses.dataclass
class Cell:
    """A student's result in one component."""

    #: Points counted in the total (None: not known, so the total is not either).
    points: float | None
    #: What final.csv shows: the points, ``missing``, or why there is no value.
    text: str
    steps: list[Step]


@dataclasses.dataclass
class Student:
    id: str
    name: str
    cells: dict[str, Cell]
    notes: list[str]
    total: float | None = None
    grade: str = ""

    @property
    def steps(self) -> list[Step]:
        out = [s for cell in self.cells.values() for s in cell.steps]
        detail = "the sum of the components" if self.total is not None else \
            "not known: " + "; ".join(f"{c}: {cell.text}" for c, cell in self.cells.items() if cell.points is None)
        return out + [Step("", "total", self.total, "", None, detail)]


@dataclasses.dataclass(frozen=True)
class Problem:
    """Something about the sources a person must look at."""

    #: ``source``, ``row``, ``roster``, ``missing`` or ``late``.
    kind: str
    component: str
    message: str


@dataclasses.dataclass
class Gradebook:
    course: Course
    students: list[Student]
    problems: list[Problem]
    #: Component id → what importing it did, in words (for the console).
    imported: dict[str, str]


def build(course: Course) -> Gradebook:
    """Import every source of ``course`` into its store and compute every total."""
    roster = load_roster(course.roster)
    if not roster.names:
        raise ValueError(f"the roster {course.roster} names no student")
    problems: list[Problem] = []
    imported: dict[str, str] = {}
    with open_store(course.store) as store, store.transaction():
        store.set_students(roster.names)
        unusable: dict[str, tuple[str, str]] = {}  # component → (file, why)
        timed: set[str] = set()
        for c in course.components:
            store.set_component(c.id, c.kind, c.weight, _rel(course, c.source),
                                c.deadline.isoformat() if c.deadline else None)
            display = functools.partial(_rel, course)
            source = (sources.read_lab if c.kind == "lab" else sources.read_points)(c, display)
            if source.error:
                unusable[c.id] = (source.name, source.error)
                problems.append(Problem("source", c.id, f"{c.id}: {source.error}; its scores are not known"))
                imported[c.id] = f"not imported: {source.error}"
                continue
            imported[c.id] = _import_scores(course, store, c, source, roster, problems)
            if c.kind != "lab":
                continue
            # The course's times file, when it names one, wins over what grades.csv recorded.
            times = (sources.read_times(c.times, course.timezone, display) if c.times is not None
                     else sources.lab_times(source, course.timezone))
            if times.error and c.times is not None:
                problems.append(Problem("late", c.id, f"{c.id}: {times.error}; the late policy is not applied"))
            elif times.error and _policy_matters(course):
                problems.append(Problem("late", c.id, f"{c.id}: no submission times (times = \"…csv\"): "
                                                      f"the late policy is not applied to it ({times.error})"))
            elif not times.error:
                imported[c.id] += "; " + _import_times(course, store, c, times, roster, problems)
                timed.add(c.id)
        students = [_student(course, store, sid, name, unusable, timed, problems)
                    for sid, name in roster.names.items()]
    return Gradebook(course, students, problems, imported)


def _policy_matters(course: Course) -> bool:
    policy = course.late
    return policy.per_day > 0 or policy.max_days is not None or policy.late_days > 0


def _rel(course: Course, path: Path) -> str:
    """``path`` as the trace names it: relative to course.toml's folder when inside it."""
    try:
        return path.resolve().relative_to(course.path.parent.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def _match(course: Course, c: Component, source: Source, roster: Roster, problems: list[Problem]
           ) -> dict[str, list[sources.Entry]]:
    """Roster id → the source's entries naming that student (rows for
    students not on the roster are problems)."""
    found: dict[str, list[sources.Entry]] = defaultdict(list)
    for entry in source.entries:
        sid = roster.match(entry.student)
        if sid is None:
            problems.append(Problem("roster", c.id, f"{c.id}: {source.name} row {entry.row}: "
                                                    f"{entry.student!r} is not on the roster; row ignored"))
        else:
            found[sid].append(entry)
    return found


def _import_scores(course: Course, store: Store, c: Component, source: Source, roster: Roster,
                   problems: list[Problem]) -> str:
    file = source.name
    ids, new = store.import_rows(c.id, "scores", file, sha256_file(source.file), source.rows)
    problems.extend(Problem("row", c.id, f"{c.id}: {p}") for p in source.problems)
    found = _match(course, c, source, roster, problems)
    changed = 0
    for sid in roster.names:
        entries = found.get(sid, [])
        if not entries:
            status, points, maximum, detail, row = MISSING, None, None, f"no row in {file}", None
            problems.append(Problem("roster", c.id, f"{c.id}: {sid} is on the roster but has no row in {file}"))
        elif len(entries) > 1:
            rows = " and ".join(str(e.row) for e in entries)
            status, points, maximum, detail, row = HOLE, None, None, f"rows {rows} of {file} all name {sid}", None
            problems.append(Problem("row", c.id, f"{c.id}: {detail}: which one counts?"))
        else:
            e = entries[0]
            status, points, maximum, detail, row = e.status, e.points, e.max, e.detail, ids[e.row]
            if status == MISSING:
                counts = "counts 0" if c.missing == "zero" else "the total waits for it"
                problems.append(Problem("missing", c.id, f"{c.id}: {sid} {detail} ({file} row {e.row}); {counts}"))
        kind = _edit_kind(store, sid, c, store.row(row))
        changed += store.record_score(sid, c.id, status=status, points=points, max_points=maximum, detail=detail,
                                      source_row=row, kind=kind)
    what = "read again" if new else "unchanged since the last import"
    return f"{file}: {len(source.rows)} rows, {what}; {changed} score(s) changed"


def _edit_kind(store: Store, sid: str, c: Component, row: Row | None) -> str:
    """What a change of the score is: a TA's sheet (``manual``), the
    competition, a rubric score merged into a lab's grades (only rubric
    cells and the total differ), or a ``regrade``."""
    if c.kind != "lab":
        return c.kind
    current = store.current(sid, c.id)
    if current is None or current.row is None or row is None:
        return "regrade"
    differ = {k for k in set(row.cells) | set(current.row.cells) if row.cells.get(k) != current.row.cells.get(k)}
    rubric = {k for k in differ if k.startswith("rubric")}
    return "rubric" if rubric and differ <= rubric | {"total"} else "regrade"


def _import_times(course: Course, store: Store, c: Component, times: Source, roster: Roster,
                  problems: list[Problem]) -> str:
    """Record each roster student's submission time from ``times``: the
    course's times file, or the lab's own grades.csv (whose rows were
    imported with its scores: the time is traced to the score's row)."""
    file = times.name
    own = c.times is None
    ids, new = store.import_rows(c.id, "scores" if own else "times", file, sha256_file(times.file), times.rows)
    problems.extend(Problem("late", c.id, f"{c.id}: {p}") for p in times.problems)
    found = _match(course, c, times, roster, problems)
    for sid in roster.names:
        entries = found.get(sid, [])
        # An LMS lists every attempt: the one graded is the last.
        last = max(entries, key=lambda e: e.time, default=None)
        store.record_time(sid, c.id, last.time.isoformat() if last else None, ids[last.row] if last else None)
    if own:
        return f"times from its {sources.SUBMITTED_AT} column: {len(times.entries)} of {len(times.rows)} rows"
    return f"times {file}: {len(times.rows)} rows, {'read again' if new else 'unchanged'}"


def _student(course: Course, store: Store, sid: str, name: str, unusable: dict[str, tuple[str, str]],
             timed: set[str], problems: list[Problem]) -> Student:
    versions = {c.id: store.current(sid, c.id) for c in course.components if c.id not in unusable}
    submissions = []
    for c in course.components:
        v = versions.get(c.id)
        if c.kind == "lab" and v is not None and v.status == SCORED:
            stamp = None
            if c.id in timed:
                iso, _ = store.time(sid, c.id)
                stamp = datetime.datetime.fromisoformat(iso) if iso else None
                if stamp is None:
                    problems.append(Problem("late", c.id, f"{c.id}: no submission time for {sid}; "
                                                          "taken as on time"))
            submissions.append((c.id, c.deadline, stamp))
    verdicts = late.apply(course.late, submissions)
    store.clear_late(sid)
    student = Student(sid, name, {}, [])
    for c in course.components:
        if c.id in unusable:
            file, why = unusable[c.id]
            student.cells[c.id] = Cell(None, "no source", [Step(c.id, "hole", None, file, None, why)])
            continue
        student.cells[c.id] = _cell(course, store, c, sid, versions[c.id], verdicts.get(c.id), student.notes)
        verdict = verdicts.get(c.id)
        if verdict is not None:
            store.set_late(sid, c.id, days=verdict.days, used=verdict.used, penalized=verdict.penalized,
                           fraction=verdict.fraction, zeroed=verdict.zeroed)
    if all(cell.points is not None for cell in student.cells.values()):
        student.total = sum(cell.points for cell in student.cells.values())
        student.grade = course.grade(round(student.total, 2))
    else:
        student.notes.append("total not known yet")
    return student


def _cell(course: Course, store: Store, c: Component, sid: str, v, verdict: late.Lateness | None,
          notes: list[str]) -> Cell:
    row = v.row if v is not None else None
    file = row.file if row else _rel(course, c.source)
    number = row.number if row else None
    if v is None or v.status == HOLE:
        why = v.detail if v is not None else "nothing recorded"
        notes.append(f"{c.id}: {why}")
        return Cell(None, "not known", [Step(c.id, "hole", None, file, number, why)])
    if v.status == MISSING:
        if c.missing == "zero":
            notes.append(f"{c.id}: missing")
            return Cell(0.0, "missing", [Step(c.id, "missing", 0.0, file, number,
                                              f"{v.detail}: counts 0 (missing = \"zero\")")])
        notes.append(f"{c.id}: missing, the total waits for it")
        return Cell(None, "missing", [Step(c.id, "missing", None, file, number,
                                           f"{v.detail}: not counted until it is known (missing = \"incomplete\")")])
    scaled = v.points / v.max * c.weight
    steps = [Step(c.id, "score", scaled, file, number,
                  f"{v.points:g} / {v.max:g} × {c.weight:g} ({v.detail})")]
    points = scaled
    if verdict is not None and (verdict.days or verdict.hours > 0):
        _, time_row = store.time(sid, c.id)
        taken = scaled if verdict.zeroed else min(scaled, verdict.fraction * c.weight)
        steps.append(Step(c.id, "late", -taken, time_row.file if time_row else "", time_row.number if time_row
                          else None, verdict.describe(course.late)))
        points -= taken
        if verdict.days:
            notes.append(f"{c.id}: {verdict.describe(course.late)}")
    return Cell(points, format_points(points), steps)
