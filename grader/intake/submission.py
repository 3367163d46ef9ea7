"""The intake's vocabulary: one student's :class:`Submission`, the size
:class:`IntakeLimits` it is read under, the :class:`IntakeError` that refuses
it, the :class:`Unit` found before staging, and the names that never belong
to a submission.

Every other intake module speaks in these types; none of them does any work.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

#: Names that are never part of a submission (OS and editor litter), at any depth.
JUNK = {"__MACOSX", "__pycache__", ".git", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db", ".idea", ".vscode"}
#: What one student can hand in as a single file.
UNIT_SUFFIXES = (".py", ".ipynb", ".zip")
#: Archives the intake recognises only to say it cannot read them.
OTHER_ARCHIVES = (".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz")


@dataclasses.dataclass
class IntakeLimits:
    """Size guards for one student's submission."""

    #: Files in one submission.
    max_files: int = 2_000
    #: Largest single file kept (bigger ones are skipped with a note).
    max_file: int = 20 << 20
    #: Everything one submission expands to.
    max_total: int = 200 << 20
    #: Compression ratio beyond which a large member is taken for a bomb.
    max_ratio: int = 200
    #: A whole export archive.
    max_export: int = 4 << 30


@dataclasses.dataclass
class Submission:
    """One student's submission, staged (``path``) or refused (``error``)."""

    id: str
    source: str
    path: Path | None = None
    error: str | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    name: str = ""
    fingerprint: str = ""
    #: When the student handed it in, as the LMS export says (ISO 8601 with
    #: its UTC offset); None where the input does not say (a folder, a
    #: Canvas or Moodle export), never guessed from file times.
    submitted_at: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class IntakeError(Exception):
    """Why one student's input cannot be graded (shown to TA and student)."""


#: Writes a student's staged folder at the path it is given (which must not
#: exist yet); raises :class:`IntakeError` (or anything, for a corrupt archive).
Stager = Callable[[Path], None]


@dataclasses.dataclass
class Unit:
    """One student's input, found but not yet staged.

    Staging waits until every unit is found, because a unit's folder is named
    by its id, and ids are made unique only across all of them.
    """

    submission: Submission
    #: The name of the folder (or export archive) the input came from: it
    #: tells apart two students whose ids are equal (``solutions/cnn``, ``starter/cnn``).
    parent: str
    #: How to stage it; None when ``submission.error`` already says why it cannot be.
    stage: Stager | None
