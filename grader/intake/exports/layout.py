"""What the LMS export formats share: names relative to the export's own
folder, and the "one top-level entry per student" layout.

Gradescope, Moodle and a plain class zip all hold one entry per student at
the top (a folder, a ``.py``/``.ipynb``, or the student's own ``.zip``); they
differ only in how an entry names its student. :func:`entry_units` reads the
layout; each format passes the function that names the student.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import posixpath
import zipfile
from pathlib import Path
from typing import Callable

from grader.intake.archives import ZipMember, read_member
from grader.intake.ids import safe_id
from grader.intake.staging import stage_file, stage_inner_zip, stage_zip_members
from grader.intake.submission import IntakeLimits, Submission, Unit


@dataclasses.dataclass
class Student:
    """Who one export entry belongs to, as the format says."""

    #: The id before it is made safe (:func:`grader.intake.ids.safe_id`).
    id: str
    name: str = ""
    #: Notes for the TA and the student (a group submission's other members).
    notes: list[str] = dataclasses.field(default_factory=list)
    #: When it was handed in (:func:`submission_time`), where the export says.
    submitted_at: str | None = None


def relative_names(members: list[ZipMember]) -> tuple[str, list[str]]:
    """``(prefix, names)``: the folder every member is in (``""`` when they
    are not all in one), and the members' names relative to it. Exports are
    often zipped with their folder (``assignment_1_export/…``)."""
    names = [m.name for m in members]
    tops = {n.split("/")[0] for n in names}
    prefix = tops.pop() if len(tops) == 1 and all("/" in n for n in names) else ""
    return prefix, [n[len(prefix) + 1:] if prefix else n for n in names]


def entry_units(zf: zipfile.ZipFile, members: list[ZipMember], path: Path, module: str, limits: IntakeLimits,
                identify: Callable[[str], Student | None]) -> list[Unit]:
    """One unit per top-level entry of the export at ``path`` (open as ``zf``):
    a folder, a ``.py``/``.ipynb`` file or a student's ``.zip`` (opened once
    more, no deeper); other loose files are left out. ``identify(entry)``
    names the entry's student, or returns None for an entry that is no
    student's (the format's own metadata)."""
    prefix, rel = relative_names(members)
    units = []
    for top in sorted({n.split("/")[0] for n in rel}):
        who = identify(top)
        if who is None:
            continue
        member_prefix = "/".join(p for p in (prefix, top) if p)
        sub = Submission(safe_id(who.id), f"{path.name}: {top}", name=who.name, notes=list(who.notes),
                         submitted_at=who.submitted_at)
        if any(n.startswith(top + "/") for n in rel):
            stage = functools.partial(stage_zip_members, zf, members, member_prefix, module=module, limits=limits,
                                      notes=sub.notes, label=path.name)
        elif top.lower().endswith(".zip"):
            stage = functools.partial(stage_inner_zip, zf, members, member_prefix, module=module, limits=limits,
                                      notes=sub.notes)
        elif top.lower().endswith((".py", ".ipynb")):
            stage = functools.partial(_stage_member_file, zf, members, member_prefix, top, module=module,
                                      limits=limits, notes=sub.notes)
        else:
            continue
        units.append(Unit(sub, path.stem, stage))
    return units


def _stage_member_file(zf: zipfile.ZipFile, members: list[ZipMember], member_name: str, name: str, dest: Path, *,
                       module: str, limits: IntakeLimits, notes: list[str]) -> None:
    """Stage a loose ``.py``/``.ipynb`` member of an export, named ``name``."""
    member = next(m for m in members if m.name == member_name)
    stage_file(read_member(zf, member, limits, [limits.max_total]), name, dest, module, notes)


def submission_time(value: object) -> str:
    """A submission time as an export writes it (a YAML timestamp, read as a
    ``datetime``, or ISO 8601 text) in the form ``grades.csv`` records:
    ISO 8601 with its UTC offset, to the second (``2026-10-15T23:59:02+08:00``).
    ValueError for anything else, and for a time without an offset: which
    zone it was written in cannot be known, and a guess can make a student late."""
    if isinstance(value, datetime.datetime):
        stamp = value
    elif isinstance(value, str) and value.strip():
        stamp = datetime.datetime.fromisoformat(value.strip())  # ValueError when it is not ISO 8601
    else:
        raise ValueError(f"{value!r} is not a date and time")
    if stamp.utcoffset() is None:
        raise ValueError(f"{value!s} has no UTC offset")
    return stamp.isoformat(timespec="seconds")


def default_id(entry: str) -> str:
    """An entry's id when nothing else names the student: its name, less the suffix."""
    return posixpath.splitext(entry)[0]
