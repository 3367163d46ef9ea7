"""``course.toml``: what a course's final grade is made of.

A course is a roster, components (each worth ``weight`` points of the total)
and the policies applied to them::

    [course]
    name = "深度学习导论"
    term = "2026 秋"
    roster = "roster.csv"          # paths are relative to course.toml
    total = 100                    # the weights must add up to it

    [late]
    grace_hours = 1                # this late still counts as on time
    per_day = 0.1                  # each late day costs 10 % of the component
    late_days = 3                  # free late days per student, spent first
    max_days = 5                   # later than this: 0

    [[components]]
    id = "cnn"
    kind = "lab"                   # lab | competition | manual
    weight = 14
    source = "out/cnn"             # what `grader grade -o` wrote
    deadline = 2026-10-15T23:59:00+08:00
    times = "times/cnn.csv"        # when each student submitted

:func:`load_course` refuses a file with a mistake in it (an unknown key, a
weight that is not a number, weights that do not add up to ``total``) and
names every mistake at once. Whether the files it names exist is a question
for the run (:meth:`Course.missing_files`): a source that is missing costs
its component, it does not stop the gradebook.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import math
import tomllib
from pathlib import Path
from typing import Any

#: What a component is: a lab graded by ``grader grade``, the team
#: competition's points, or a column of a CSV a TA keeps by hand.
KINDS = ("lab", "competition", "manual")
#: What a missing submission counts: 0, or nothing (the total waits for it).
MISSING_POLICIES = ("zero", "incomplete")

_COURSE_KEYS = {"name", "term", "roster", "total", "store", "timezone", "missing"}
_LATE_KEYS = {"grace_hours", "per_day", "late_days", "max_days"}
_COMPONENT_KEYS = {"id", "title", "kind", "weight", "source", "deadline", "times", "max", "column", "missing"}
_TOP_KEYS = {"course", "late", "scale", "components"}


class CourseError(ValueError):
    """A ``course.toml`` that cannot be used; ``problems`` lists every mistake."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path, self.problems = Path(path), problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclasses.dataclass(frozen=True)
class LatePolicy:
    """How late submissions to a lab are treated (``[late]``).

    A submission ``grace_hours`` or less after the deadline is on time; later,
    every started day after the deadline is a late day. Late days are paid
    from the student's budget of ``late_days`` first (in the order of the
    deadlines), and each one left costs ``per_day`` of the component's
    weight. More than ``max_days`` late days (budget or not) scores 0.
    """

    grace_hours: float = 0.0
    per_day: float = 0.0
    late_days: int = 0
    max_days: int | None = None


@dataclasses.dataclass(frozen=True)
class Component:
    """One part of the total (``[[components]]``)."""

    id: str
    kind: str
    #: Points of the total this component is worth.
    weight: float
    #: The lab's grading output folder, or the competition's or TA's CSV.
    source: Path
    title: str = ""
    #: Labs: when the submission was due (timezone-aware).
    deadline: datetime.datetime | None = None
    #: Labs: a CSV of submission times (id, submitted_at).
    times: Path | None = None
    #: The source's full score (labs: ``max_total`` of grades.csv; others: ``weight``).
    max: float | None = None
    #: Competition and manual CSVs: the column holding the score.
    column: str | None = None
    #: What a missing submission counts (``zero`` or ``incomplete``).
    missing: str = "zero"

    @property
    def label(self) -> str:
        return self.title or self.id


@dataclasses.dataclass(frozen=True)
class Course:
    """A course's gradebook, as ``course.toml`` declares it."""

    path: Path
    name: str
    term: str
    roster: Path
    total: float
    components: tuple[Component, ...]
    late: LatePolicy
    #: ``(grade, lowest total)`` from the best grade down; empty without a scale.
    scale: tuple[tuple[str, float], ...]
    #: The SQLite file keeping every import and score's history.
    store: Path
    timezone: datetime.tzinfo

    def grade(self, total: float) -> str:
        """The grade of ``total`` on the scale (``""`` without one)."""
        return next((grade for grade, lowest in self.scale if total >= lowest - 1e-9), "")

    def component(self, cid: str) -> Component:
        return next(c for c in self.components if c.id == cid)

    def missing_files(self) -> list[str]:
        """What the course names that is not there, in words."""
        out = []
        if not self.roster.is_file():
            out.append(f"the roster {self.roster} does not exist")
        for c in self.components:
            if not c.source.exists():
                out.append(f"{c.id}: the source {c.source} does not exist")
            if c.times is not None and not c.times.is_file():
                out.append(f"{c.id}: the submission times {c.times} do not exist")
        return out


def load_course(path: Path | str) -> Course:
    """Read and check ``course.toml``; :class:`CourseError` lists every mistake."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise CourseError(path, ["no such file"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CourseError(path, [f"not valid TOML: {exc}"]) from None
    return parse_course(data, path)


def parse_course(data: dict[str, Any], path: Path | str) -> Course:
    """The course that ``data`` (``course.toml`` as parsed) declares; relative
    paths are read from ``path``'s folder."""
    path = Path(path)
    base = path.parent
    problems: list[str] = []
    _unknown(data, _TOP_KEYS, "", problems)
    head = _table(data, "course", problems)
    _unknown(head, _COURSE_KEYS, "[course]", problems)
    late_table = _table(data, "late", problems)
    _unknown(late_table, _LATE_KEYS, "[late]", problems)

    name = _text(head, "name", "[course]", problems, required=True)
    roster = _text(head, "roster", "[course]", problems, required=True)
    total = _number(head, "total", "[course]", problems, default=100.0, positive=True)
    tz = _timezone(head.get("timezone", "+08:00"), problems)
    missing = _choice(head, "missing", "[course]", MISSING_POLICIES, problems, default="zero")
    late = LatePolicy(
        grace_hours=_number(late_table, "grace_hours", "[late]", problems, default=0.0),
        per_day=_number(late_table, "per_day", "[late]", problems, default=0.0, at_most=1.0),
        late_days=int(_number(late_table, "late_days", "[late]", problems, default=0, integer=True)),
        max_days=(None if "max_days" not in late_table
                  else int(_number(late_table, "max_days", "[late]", problems, default=0, integer=True))),
    )

    components = []
    raw_components = data.get("components", [])
    if not isinstance(raw_components, list) or not all(isinstance(c, dict) for c in raw_components):
        problems.append("components must be a list of [[components]] tables")
        raw_components = []
    if not raw_components:
        problems.append("no [[components]]: the course has nothing to grade")
    seen = set()
    for i, raw in enumerate(raw_components, 1):
        where = f"[[components]] #{i}" + (f" ({raw['id']})" if isinstance(raw.get("id"), str) else "")
        component = _component(raw, where, base, tz, missing, problems)
        if component is None:
            continue
        if component.id in seen:
            problems.append(f"{where}: the id {component.id!r} is used twice")
        seen.add(component.id)
        components.append(component)
    weights = sum(c.weight for c in components)
    if components and len(components) == len(raw_components) and not math.isclose(weights, total, abs_tol=1e-9):
        listed = " + ".join(f"{c.id} {c.weight:g}" for c in components)
        problems.append(f"the weights add up to {weights:g}, not to the total {total:g} ({listed})")
    scale = _scale(data.get("scale"), total, problems)
    if problems:
        raise CourseError(path, problems)
    return Course(path=path, name=name, term=str(head.get("term", "")), roster=base / roster, total=total,
                  components=tuple(components), late=late, scale=scale,
                  store=base / str(head.get("store", "gradebook.sqlite")), timezone=tz)


def _component(raw: dict, where: str, base: Path, tz, missing: str, problems: list[str]) -> Component | None:
    start = len(problems)
    _unknown(raw, _COMPONENT_KEYS, where, problems)
    cid = _text(raw, "id", where, problems, required=True)
    kind = _choice(raw, "kind", where, KINDS, problems, default=None)
    weight = _number(raw, "weight", where, problems, default=None, positive=True)
    source = _text(raw, "source", where, problems, required=True)
    deadline = raw.get("deadline")
    if kind == "lab" and deadline is None:
        problems.append(f"{where}: a lab needs a deadline (e.g. deadline = 2026-10-15T23:59:00+08:00)")
    elif kind is not None and kind != "lab" and (deadline is not None or "times" in raw):
        problems.append(f"{where}: only labs have a deadline and submission times (this is a {kind})")
    if deadline is not None:
        deadline = _datetime(deadline, tz, f"{where}: deadline", problems)
    if kind == "lab" and "column" in raw:
        problems.append(f"{where}: column is for competition and manual CSVs (a lab's score is grades.csv's total)")
    maximum = _number(raw, "max", where, problems, default=None, positive=True) if "max" in raw else None
    times = _text(raw, "times", where, problems) if "times" in raw else None
    column = _text(raw, "column", where, problems) if "column" in raw else None
    policy = _choice(raw, "missing", where, MISSING_POLICIES, problems, default=missing)
    if len(problems) > start:
        return None
    return Component(id=cid, kind=kind, weight=weight, source=base / source, title=str(raw.get("title", "")),
                     deadline=deadline, times=base / times if times else None, max=maximum,
                     column=column, missing=policy)


def _scale(raw, total: float, problems: list[str]) -> tuple[tuple[str, float], ...]:
    """``[scale]``: grade = lowest total (``A = 90``, ``"优秀" = 90``); the lowest must be 0."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        problems.append('[scale] must map each grade to the lowest total that earns it (A = 90, …, F = 0)')
        return ()
    out = []
    for grade, lowest in raw.items():
        if isinstance(lowest, bool) or not isinstance(lowest, (int, float)) or not 0 <= lowest <= total:
            problems.append(f"[scale] {grade}: the lowest total must be a number from 0 to {total:g}, not {lowest!r}")
        else:
            out.append((str(grade), float(lowest)))
    out.sort(key=lambda g: -g[1])
    if len({lowest for _, lowest in out}) < len(out):
        problems.append("[scale]: two grades have the same lowest total")
    if out and out[-1][1] != 0:
        problems.append(f"[scale]: the lowest grade ({out[-1][0]} = {out[-1][1]:g}) must start at 0, "
                        "so that every total has a grade")
    return tuple(out)


# -- small readers, each appending what is wrong to ``problems`` ----------------

def _unknown(table: dict, known: set[str], where: str, problems: list[str]) -> None:
    for key in table:
        if key not in known:
            near = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else f" (known: {', '.join(sorted(known))})"
            problems.append(f"{where + ': ' if where else ''}unknown key {key!r}{hint}")


def _table(data: dict, key: str, problems: list[str]) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        problems.append(f"[{key}] must be a table")
        return {}
    return value


def _text(table: dict, key: str, where: str, problems: list[str], *, required: bool = False) -> str:
    value = table.get(key)
    if value is None:
        if required:
            problems.append(f"{where}: {key} is missing")
        return ""
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: {key} must be a non-empty string, not {value!r}")
        return ""
    return value


def _number(table: dict, key: str, where: str, problems: list[str], *, default, positive: bool = False,
            integer: bool = False, at_most: float | None = None):
    if key not in table:
        if default is None:
            problems.append(f"{where}: {key} is missing")
            return 0.0
        return default
    value = table[key]
    wrong = (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
             or value < 0 or (positive and value == 0) or (integer and value != int(value))
             or (at_most is not None and value > at_most))
    if wrong:
        what = "a whole number" if integer else "a number"
        bounds = " greater than 0" if positive else " of 0 or more"
        bounds += f" and at most {at_most:g}" if at_most is not None else ""
        problems.append(f"{where}: {key} must be {what}{bounds}, not {value!r}")
        return default if default is not None else 0.0
    return float(value)


def _choice(table: dict, key: str, where: str, choices, problems: list[str], *, default):
    value = table.get(key, default)
    if value is None:
        problems.append(f"{where}: {key} is missing (one of {', '.join(choices)})")
    elif value not in choices:
        problems.append(f"{where}: {key} must be one of {', '.join(choices)}, not {value!r}")
        return None
    return value


def _timezone(value, problems: list[str]) -> datetime.tzinfo:
    """``"+08:00"`` → a fixed offset (the course's clock)."""
    try:
        stamp = datetime.datetime.fromisoformat(f"2000-01-01T00:00:00{value}")
        if stamp.tzinfo is None:
            raise ValueError
        return stamp.tzinfo
    except (ValueError, TypeError):
        problems.append(f"[course]: timezone must be an offset such as \"+08:00\", not {value!r}")
        return datetime.timezone.utc


def _datetime(value, tz, where: str, problems: list[str]) -> datetime.datetime | None:
    """A TOML date-time (or an ISO 8601 string); without an offset, in the course's ``tz``."""
    if isinstance(value, str):
        try:
            value = parse_time(value, tz)
        except ValueError:
            problems.append(f"{where} {value!r} is not a date and time (2026-10-15T23:59:00+08:00)")
            return None
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        problems.append(f"{where} {value} needs a time of day (2026-10-15T23:59:00+08:00)")
        return None
    if not isinstance(value, datetime.datetime):
        problems.append(f"{where} must be a date and time, not {value!r}")
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def parse_time(text: str, tz: datetime.tzinfo) -> datetime.datetime:
    """A submission time as LMS exports write it: ISO 8601 (``2026-10-15T23:59:00+08:00``,
    ``…Z``, ``2026-10-15 23:59``) or with slashes (``2026/10/15 23:59``); a time
    without an offset is in the course's ``tz``. ValueError otherwise."""
    text = text.strip().replace("/", "-")
    stamp = datetime.datetime.fromisoformat(text)
    if len(text) <= 10:  # a date alone: no time of day to compare with a deadline
        raise ValueError(text)
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=tz)
