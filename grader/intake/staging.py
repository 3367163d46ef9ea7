"""Staging: one student's input copied to ``staging/<id>/``, holding ``<module>.py``.

Whatever the student handed in (a folder, a ``.py``, a notebook, a zip, a zip
inside a class export), the grader gets a folder with the lab's file under
its expected name, plus the student's other files beside it. This module
finds that file (:func:`find_main_file`), copies what is around it, converts
notebooks and GBK sources, and records every liberty taken in the
submission's notes. Walking folders and reading archives both stop at
:class:`IntakeLimits`.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import zipfile
from pathlib import Path

from grader.files import tree_digest
from grader.intake.archives import ZipMember, extract_members, list_members, open_zip, read_member
from grader.intake.notebooks import notebook_to_script
from grader.intake.submission import JUNK, IntakeError, IntakeLimits
from grader.intake.text import python_source_as_utf8


# -- single files and folders ---------------------------------------------------------

def stage_file(data: bytes, name: str, dest: Path, module: str, notes: list[str]) -> None:
    """Stage one ``.py`` or ``.ipynb`` file (``data``, named ``name``) as ``dest/<module>.py``."""
    dest.mkdir(parents=True)
    if name.lower().endswith(".ipynb"):
        source, dropped = notebook_to_script(data, name)
        notes += dropped
        (dest / f"{module}.py").write_text(source, encoding="utf-8")
        return
    if name != f"{module}.py":
        notes.append(f"{name} is graded as {module}.py")
    (dest / f"{module}.py").write_bytes(python_source_as_utf8(data, name, notes))


def stage_folder(src: Path, dest: Path, module: str, limits: IntakeLimits, notes: list[str]) -> None:
    """Copy the part of ``src`` holding the lab's file into ``dest``: the
    folder the main file is in, with everything under it."""
    files = walk_files(src, limits, notes)
    rel_names = [f.relative_to(src).as_posix() for f in files]
    base, main = find_main_file(rel_names, module)
    dest.mkdir(parents=True)
    total = 0
    for file, rel in zip(files, rel_names):
        if base and not rel.startswith(base + "/"):
            continue
        target = dest / rel[len(base) + 1 if base else 0:]
        size = file.stat().st_size
        if size > limits.max_file:
            notes.append(f"skipped {rel} ({size / 2**20:.0f} MB, more than {limits.max_file >> 20} MB)")
            continue
        total += size
        if total > limits.max_total:
            raise IntakeError(f"the submission holds more than {limits.max_total >> 20} MB")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
    if base:
        notes.append(f"found {posixpath.basename(main)} in {base}/")
    write_main_module(dest, base, main, module, notes)


def write_main_module(dest: Path, base: str, main: str, module: str, notes: list[str]) -> None:
    """Make ``dest/<module>.py`` from the main file found (``main``, relative
    to the submission, in folder ``base`` which ``dest`` now stands for):
    a notebook is converted, another name copied, a GBK source re-encoded."""
    local = dest / (main[len(base) + 1:] if base else main)
    target = dest / f"{module}.py"
    if main.lower().endswith(".ipynb"):
        source, dropped = notebook_to_script(local.read_bytes(), local.name)
        notes += dropped
        target.write_text(source, encoding="utf-8")
    else:
        if local != target:
            notes.append(f"{local.name} is graded as {module}.py")
            shutil.copyfile(local, target)
        target.write_bytes(python_source_as_utf8(target.read_bytes(), target.name, notes))


def walk_files(src: Path, limits: IntakeLimits, notes: list[str]) -> list[Path]:
    """Regular files under ``src`` (no symlinks, devices or junk), at most
    ``limits.max_files``, in a stable order."""
    out = []
    for folder, dirs, files in os.walk(src, followlinks=False):
        kept = []
        for d in sorted(dirs):
            if d in JUNK or d.startswith("."):
                continue
            if os.path.islink(os.path.join(folder, d)):
                notes.append(f"skipped the symbolic link {os.path.relpath(os.path.join(folder, d), src)}")
                continue
            kept.append(d)
        dirs[:] = kept
        for name in sorted(files):
            if name in JUNK or name.startswith("."):
                continue
            path = Path(folder) / name
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                notes.append(f"skipped the symbolic link {path.relative_to(src)}")
            elif stat.S_ISREG(mode):
                out.append(path)
            if len(out) > limits.max_files:
                raise IntakeError(f"the submission holds more than {limits.max_files} files")
    return out


def find_main_file(rel_names: list[str], module: str) -> tuple[str, str]:
    """(base folder, main file) among a submission's files: ``<module>.py``,
    else ``<module>.ipynb``, else the only ``.py``, else the only ``.ipynb``
    (at most three folders deep). :class:`IntakeError` when there is none,
    or several with nothing to choose between them."""
    shallow = [n for n in rel_names if n.count("/") <= 3]
    for pick in (lambda n: posixpath.basename(n) == f"{module}.py",
                 lambda n: posixpath.basename(n) == f"{module}.ipynb",
                 lambda n: n.lower().endswith(".py"),
                 lambda n: n.lower().endswith(".ipynb")):
        found = [n for n in shallow if pick(n)]
        top = [n for n in found if "/" not in n]
        if top:
            found = top  # the top level wins over copies in sub-folders
        if len(found) == 1:
            return posixpath.dirname(found[0]), found[0]
        if len(found) > 1:
            raise IntakeError(f"found several candidates for {module}.py: {', '.join(sorted(found)[:5])}; "
                              f"name the file to grade {module}.py")
    listing = ", ".join(rel_names[:8]) + (" …" if len(rel_names) > 8 else "")
    raise IntakeError(f"no {module}.py (or notebook) in the submission"
                      + (f" (it holds: {listing})" if rel_names else " (it is empty)"))


def fingerprint(folder: Path) -> str:
    """A hash of a staged submission's files (names and bytes): 16 hex
    digits. The batch compares it with a recorded result's to tell whether
    the submission changed since it was graded."""
    return tree_digest(folder)[:16]


# -- archives ----------------------------------------------------------------------------

def stage_zip_file(path: Path, dest: Path, module: str, limits: IntakeLimits, notes: list[str]) -> None:
    """Stage a student's ``.zip`` file."""
    with open_zip(path, path.name) as zf:
        stage_zip_members(zf, list_members(zf, limits, path.name), "", dest, module, limits, notes, path.name)


def stage_inner_zip(zf: zipfile.ZipFile, members: list[ZipMember], member_name: str, dest: Path, module: str,
                    limits: IntakeLimits, notes: list[str]) -> None:
    """Stage a student's zip inside a class export (member ``member_name`` of
    ``zf``): opened once more, no deeper."""
    member = next(m for m in members if m.name == member_name)
    data = read_member(zf, member, limits, [limits.max_total])
    if not data:
        raise IntakeError(f"{posixpath.basename(member_name)} is larger than {limits.max_file >> 20} MB")
    with open_zip(data, posixpath.basename(member_name)) as inner:
        stage_zip_members(inner, list_members(inner, limits, posixpath.basename(member_name)), "", dest, module,
                          limits, notes, member_name, depth=2)


def stage_zip_members(zf: zipfile.ZipFile, members: list[ZipMember], prefix: str, dest: Path, module: str,
                      limits: IntakeLimits, notes: list[str], label: str, *, depth: int = 1) -> None:
    """Stage the members of ``zf`` under ``prefix`` (``""``: all); ``label``
    names the archive in notes. A zip inside (``depth`` 2 at most: an export
    holding a student's zip, or a student's zip holding their zipped folder)
    is opened only when the lab's file is not found otherwise."""
    raw = dest.with_name(dest.name + ".raw")
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    try:
        nested = extract_members(zf, members, prefix, raw, limits, notes)
        files = [p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file()]
        try:
            find_main_file(files, module)
            found = True
        except IntakeError:
            found = False
        for name, data in nested:
            if found or depth >= 2:
                notes.append(f"did not open the archive {name} inside {label}; put the files in directly")
                continue
            with open_zip(data, name) as inner:
                target = raw / posixpath.splitext(name)[0]
                target.mkdir(parents=True, exist_ok=True)
                for inner_name, _ in extract_members(inner, list_members(inner, limits, name), "", target, limits,
                                                     notes):
                    notes.append(f"did not open the archive {inner_name} inside {name}; put the files in directly")
        stage_folder(raw, dest, module, limits, notes)
    finally:
        shutil.rmtree(raw, ignore_errors=True)
