"""A class zipped by hand: one entry per student at the top.

Layout: ``alice/…``, ``bob.py``, ``carol.ipynb``, ``dave.zip`` (a student's
own zip, opened once more); each entry's name, less its suffix, is the id.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from grader.intake.archives import ZipMember
from grader.intake.exports.layout import Student, default_id, entry_units, relative_names
from grader.intake.submission import IntakeLimits, Unit


def detect(members: list[ZipMember], module: str) -> bool:
    """Whether the zip holds a class rather than one student's work: not the
    lab's file at the top (that is one student), but zips at the top (one per
    student) or the lab's file in two or more places."""
    rel = relative_names(members)[1]
    top_files = [n for n in rel if "/" not in n]
    if f"{module}.py" in top_files or f"{module}.ipynb" in top_files:
        return False
    if any(n.lower().endswith(".zip") for n in top_files):
        return True
    return sum(posixpath.basename(n) in (f"{module}.py", f"{module}.ipynb") for n in rel) >= 2


def units(zf: zipfile.ZipFile, members: list[ZipMember], path: Path, module: str, limits: IntakeLimits) -> list[Unit]:
    """One unit per top-level folder, ``.py``, ``.ipynb`` or ``.zip``."""
    return entry_units(zf, members, path, module, limits, lambda entry: Student(default_id(entry)))
