"""From the TA's inputs to staged submissions: :func:`stage_submissions`.

Each input (a command-line argument) is one student or a collection of them;
this module works out which (:func:`input_units`, :func:`is_student_folder`),
makes the ids unique, then stages every student under ``staging/<id>/``.
Whatever goes wrong with one student's input becomes that student's
:class:`Submission` with ``error`` set, never an exception.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from grader.intake import exports
from grader.intake.archives import list_members
from grader.intake.ids import make_ids_unique, safe_id
from grader.intake.staging import fingerprint, stage_file, stage_folder, stage_zip_file
from grader.intake.submission import JUNK, OTHER_ARCHIVES, UNIT_SUFFIXES, IntakeError, IntakeLimits, Submission, Unit


def stage_submissions(inputs: list[Path | str], module: str, staging: Path, *, exclude: list[Path] = (),
                      limits: IntakeLimits | None = None) -> list[Submission]:
    """Stage every submission found in ``inputs`` under ``staging/<id>/``
    (each holding ``<module>.py``), in input order; ``staging`` is emptied
    first. ``exclude``: folders never looked into (the batch's own output
    folder)."""
    limits = limits or IntakeLimits()
    staging = Path(staging)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    excluded = {Path(p).resolve() for p in exclude}
    units: list[Unit] = []
    for raw in inputs:
        path = Path(raw)
        if path.resolve() in excluded:
            continue
        parent = path.resolve().parent.name
        if not path.exists():
            units.append(Unit(Submission(safe_id(path.stem), str(path), error=f"{path} does not exist"), parent, None))
        elif path.is_dir() and not is_student_folder(path, module):
            for child in sorted(path.iterdir()):
                if child.resolve() in excluded or child.name in JUNK or child.name.startswith("."):
                    continue
                if child.is_dir() or child.suffix.lower() in UNIT_SUFFIXES + OTHER_ARCHIVES:
                    units.append(student_unit(child, path.name, module, limits))
        else:
            try:
                units += input_units(path, parent, module, limits)
            except Exception as exc:  # noqa: BLE001 - one unreadable input is one error row
                units.append(Unit(Submission(safe_id(path.stem), str(path),
                                             error=f"could not read {path.name} ({type(exc).__name__}: {exc})"[:500]),
                                  parent, None))
    subs = [u.submission for u in units]
    make_ids_unique(subs, [u.parent for u in units])
    for unit in units:
        sub = unit.submission
        if sub.error or unit.stage is None:
            continue
        dest = staging / sub.id
        try:
            unit.stage(dest)
            sub.path = dest
            sub.fingerprint = fingerprint(dest)
        except IntakeError as exc:
            sub.error = str(exc)
            shutil.rmtree(dest, ignore_errors=True)
        except Exception as exc:  # noqa: BLE001 - a corrupt archive can raise anything (zlib.error, EOFError, …)
            sub.error = f"could not read the submission ({type(exc).__name__}: {exc})"[:500]
            shutil.rmtree(dest, ignore_errors=True)
    return subs


def input_units(path: Path, parent: str, module: str, limits: IntakeLimits) -> list[Unit]:
    """The units of one input that is a student, or (a zip export) a whole class."""
    if path.is_file() and path.suffix.lower() == ".zip":
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            error = f"{path.name} is not a readable zip file ({exc})"
            return [Unit(Submission(safe_id(path.stem), str(path), error=error), parent, None)]
        try:
            members = list_members(zf, limits, path.name)
        except IntakeError as exc:
            return [Unit(Submission(safe_id(path.stem), str(path), error=str(exc)), parent, None)]
        export = exports.export_format(members, module)
        if export is not None:
            return export.units(zf, members, path, module, limits)
    return [student_unit(path, parent, module, limits)]


def student_unit(path: Path, parent: str, module: str, limits: IntakeLimits) -> Unit:
    """The unit of one student's folder, ``.py``, ``.ipynb`` or ``.zip``
    (another archive, or another file, is an error unit)."""
    sub = Submission(safe_id(path.stem if path.is_file() else path.name), str(path))
    suffix = path.suffix.lower()
    if path.is_dir():
        return Unit(sub, parent, lambda dest: stage_folder(path, dest, module, limits, sub.notes))
    if suffix in (".py", ".ipynb"):
        return Unit(sub, parent, lambda dest: stage_file(path.read_bytes(), path.name, dest, module, sub.notes))
    if suffix == ".zip":
        return Unit(sub, parent, lambda dest: stage_zip_file(path, dest, module, limits, sub.notes))
    sub.error = (f"{path.name}: only .zip archives are read; unpack it or zip it instead" if suffix in OTHER_ARCHIVES
                 else f"{path.name}: not a folder, .py, .ipynb or .zip")
    return Unit(sub, parent, None)


def is_student_folder(path: Path, module: str) -> bool:
    """Whether a folder is one student's (rather than a folder of students):
    it holds the lab's file, or only one sub-folder (``alice/lab3/cnn.py``),
    or only one ``.py`` or notebook under another name (``alice/homework.py``)."""
    names = {p.name for p in path.iterdir()}
    if f"{module}.py" in names or f"{module}.ipynb" in names:
        return True
    units = [p for p in path.iterdir() if p.name not in JUNK and not p.name.startswith(".")
             and (p.is_dir() or p.suffix.lower() in UNIT_SUFFIXES)]
    if len(units) == 1 and units[0].is_dir():
        return True  # alice/lab3/cnn.py
    # Two or more .py or notebooks are a folder of students (alice.py, bob.py).
    return len(units) == 1 and units[0].suffix.lower() in (".py", ".ipynb")
