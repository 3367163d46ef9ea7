"""Canvas's "Download Submissions" zip.

Layout: flat, every file named ``<login>[_late]_<user id>_<submission id>_<file>``
(``zhangsan_101_9001_cnn.py``); a resubmitted file gets ``-1``, ``-2``
before its suffix. A student's files are grouped by login (the id) and
staged under their original names. The names mark a late submission
(``_late``) but give no time, so none is recorded (the zip's file times are
when Canvas made the zip, not when the student submitted).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from grader.intake.archives import ZipMember, read_member
from grader.intake.exports import folders
from grader.intake.exports.layout import relative_names
from grader.intake.ids import safe_id
from grader.intake.staging import find_main_file, write_main_module
from grader.intake.submission import IntakeLimits, Submission, Unit

_CANVAS = re.compile(r"^(?P<login>[^_/]+?)(?:_late|_LATE)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$")


def detect(members: list[ZipMember], module: str) -> bool:
    """Whether every loose file at the top is named the Canvas way, and the
    zip is a class's: files of two students or more, or of one student in a
    zip that is a class export by the generic test (:func:`folders.detect`).
    One student's own files, renamed by Canvas, are otherwise that student's zip."""
    groups = _files_by_login(relative_names(members)[1])
    return bool(groups) and (len(groups) > 1 or folders.detect(members, module))


def units(zf: zipfile.ZipFile, members: list[ZipMember], path: Path, module: str, limits: IntakeLimits) -> list[Unit]:
    """One unit per login, staging that student's loose files."""
    prefix, rel = relative_names(members)
    by_name = dict(zip(rel, members))
    out = []
    for login, files in sorted(_files_by_login(rel).items()):
        sub = Submission(safe_id(login), f"{path.name}: {', '.join(files[:3])}")

        def stage(dest: Path, files: list[str] = files, sub: Submission = sub) -> None:
            dest.mkdir(parents=True)
            budget = [limits.max_total]
            for f in files:
                original = re.sub(r"-\d+(\.\w+)$", r"\1", _CANVAS.match(f)["file"])  # Canvas renames resubmissions
                data = read_member(zf, by_name[f], limits, budget)
                (dest / safe_id(original)).write_bytes(data)
            staged = [p.name for p in dest.iterdir()]
            base, main = find_main_file(staged, module)
            write_main_module(dest, base, main, module, sub.notes)
        out.append(Unit(sub, path.stem, stage))
    return out


def _files_by_login(rel: list[str]) -> dict[str, list[str]]:
    """The loose top-level files grouped by Canvas login; ``{}`` unless
    every loose top-level file follows Canvas's naming."""
    groups: dict[str, list[str]] = {}
    for n in rel:
        m = _CANVAS.match(n) if "/" not in n else None
        if m:
            groups.setdefault(m["login"], []).append(n)
    return groups if groups and sum(len(v) for v in groups.values()) == len([n for n in rel if "/" not in n]) else {}
