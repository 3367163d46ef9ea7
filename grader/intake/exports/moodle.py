"""Moodle's "Download all submissions" zip.

Layout: one folder per student named ``<Full Name>_<participant id>_assignsubmission_<plugin>_``
(``Wang Wu_5501_assignsubmission_file_/cnn.py``). The id is the name and the
participant id (``Wang_Wu_5501``); the name is the student's name. The
names give no submission time, so none is recorded.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from grader.intake.archives import ZipMember
from grader.intake.exports.layout import Student, default_id, entry_units, relative_names
from grader.intake.submission import IntakeLimits, Unit

_MOODLE = re.compile(r"^(?P<who>.+?)_(?P<pid>\d+)_assign(?:submission|feedback)_\w+?_?$")


def detect(members: list[ZipMember], module: str) -> bool:
    """Whether a folder at the top is named the Moodle way."""
    return any("/" in n and _MOODLE.match(n.split("/")[0]) for n in relative_names(members)[1])


def units(zf: zipfile.ZipFile, members: list[ZipMember], path: Path, module: str, limits: IntakeLimits) -> list[Unit]:
    """One unit per student folder (other entries named by their own names)."""

    def identify(entry: str) -> Student:
        moodle = _MOODLE.match(entry)
        return Student(f"{moodle['who']}_{moodle['pid']}", moodle["who"]) if moodle else Student(default_id(entry))

    return entry_units(zf, members, path, module, limits, identify)
