"""Gradescope's "Export Submissions" zip.

Layout: ``<assignment>_export/submission_metadata.yml`` beside one folder per
submission (``submission_<n>/``). The metadata names each submission's
students (``:submitters:`` with ``:sid:``, ``:name:``, ``:email:``); the first
submitter's student id (else e-mail login) becomes the id, and the others of
a group submission are named in a note. Each submission's ``:created_at:``
(a YAML timestamp: ``2026-10-15 23:59:02.187000000 +08:00``) is when the
graded attempt was handed in (earlier ones are under ``:history:``) and
becomes its ``submitted_at``; one that cannot be read is a note, not a guess.
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from grader.intake.archives import ZipMember
from grader.intake.exports.layout import Student, default_id, entry_units, submission_time
from grader.intake.submission import IntakeLimits, Unit

METADATA = "submission_metadata.yml"


def detect(members: list[ZipMember], module: str) -> bool:
    """Whether the zip holds Gradescope's metadata file (at any depth)."""
    return any(posixpath.basename(m.name) == METADATA for m in members)


def units(zf: zipfile.ZipFile, members: list[ZipMember], path: Path, module: str, limits: IntakeLimits) -> list[Unit]:
    """One unit per submission folder, named by the metadata (by the folder
    name where the metadata cannot be read or does not list it)."""
    metadata = read_metadata(zf, members)

    def identify(entry: str) -> Student | None:
        if entry == METADATA:
            return None
        who = metadata.get(entry)
        if who is None:
            return Student(default_id(entry))
        notes = [f"group submission, also by {', '.join(who['others'])}"] if who["others"] else []
        notes += who["time_notes"]
        return Student(who["sid"] or who["email"].split("@")[0] or default_id(entry), who["name"], notes,
                       who["submitted_at"])

    return entry_units(zf, members, path, module, limits, identify)


def read_metadata(zf: zipfile.ZipFile, members: list[ZipMember]) -> dict[str, dict]:
    """``submission_metadata.yml``: folder → ``{sid, name, email, others,
    submitted_at, time_notes}`` (strings; ``others`` the names of a group's
    other students, ``submitted_at`` None when the metadata gives no usable
    time, ``time_notes`` why it is not usable); ``{}`` when the file is
    missing or unreadable."""
    meta_member = next((m for m in members if posixpath.basename(m.name) == METADATA), None)
    if meta_member is None:
        return {}
    try:
        import yaml
    except ImportError:  # PyYAML comes with the kit's requirements; without it, ids come from folder names
        return {}
    try:
        data = yaml.safe_load(zf.read(meta_member.info)[: 10 << 20]) or {}
    except (yaml.YAMLError, zipfile.BadZipFile, OSError):
        return {}
    out = {}
    for folder, entry in (data.items() if isinstance(data, dict) else []):
        if not isinstance(entry, dict):
            continue
        people = entry.get(":submitters") or entry.get("submitters") or []
        people = [{str(k).lstrip(":"): v for k, v in p.items()} for p in people if isinstance(p, dict)]
        if people:
            first = people[0]
            out[str(folder)] = {"sid": str(first.get("sid") or ""), "name": str(first.get("name") or ""),
                                "email": str(first.get("email") or ""),
                                "others": [str(p.get("name") or p.get("sid") or "") for p in people[1:]],
                                **_created_at(str(folder), entry)}
    return out


def _created_at(folder: str, entry: dict) -> dict:
    """``{submitted_at, time_notes}`` of one submission's metadata."""
    raw = entry.get(":created_at", entry.get("created_at"))
    if raw is None:
        return {"submitted_at": None, "time_notes": []}
    try:
        return {"submitted_at": submission_time(raw), "time_notes": []}
    except ValueError:
        return {"submitted_at": None, "time_notes": [
            f"Gradescope's metadata gives {folder} the submission time {str(raw)[:60]!r}, which is not a date and "
            "time with a UTC offset; no submission time is recorded"]}
