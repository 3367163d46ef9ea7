"""Class exports of learning-management systems: one zip holding a whole class.

Each format is a module with two functions:

* ``detect(members, module) -> bool``: whether a zip (its
  :class:`~grader.intake.archives.ZipMember` list, for the lab whose file is
  ``<module>.py``) is a class export in this format;
* ``units(zf, members, path, module, limits) -> list[Unit]``: one
  :class:`~grader.intake.submission.Unit` per student of the export at
  ``path``, open as ``zf``, read under ``limits``.

A zip that no format detects is one student's work. Adding an LMS is one
module with these two functions, and one line in :data:`FORMATS`.

The order of :data:`FORMATS` matters: the first format that detects a zip
reads it, and layouts overlap. Gradescope's submission folders would pass the
generic test, but only its metadata names the students; a Canvas export whose
students handed in zips (``login_1_2_lab.zip``) has zips at the top, which the
generic test takes for a class too, but only Canvas's reading groups a
student's files; Moodle's folders would pass the generic test with the whole
folder name as the id. So: the formats that recognise a vendor's naming
first, the generic "one entry per student" layout last. (A zip mixing two
vendors' naming, which no LMS writes, is read by the first of them.)
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Protocol

from grader.intake.archives import ZipMember
from grader.intake.exports import canvas, folders, gradescope, moodle
from grader.intake.submission import IntakeLimits, Unit


class ExportFormat(Protocol):
    """What a format module provides (see the module docstring)."""

    def detect(self, members: list[ZipMember], module: str) -> bool: ...

    def units(self, zf: zipfile.ZipFile, members: list[ZipMember], path: Path, module: str,
              limits: IntakeLimits) -> list[Unit]: ...


#: Tried in this order; the first that detects a zip reads it.
FORMATS: tuple[ExportFormat, ...] = (gradescope, canvas, moodle, folders)


def export_format(members: list[ZipMember], module: str) -> ExportFormat | None:
    """The format of a class export, or None: the zip is one student's work."""
    return next((fmt for fmt in FORMATS if fmt.detect(members, module)), None)
