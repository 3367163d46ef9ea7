"""Submissions as TAs get them, turned into folders the grader can grade.

:func:`collect` accepts, for a lab whose module is ``cnn``:

* a student's **folder** holding ``cnn.py`` (or ``cnn.ipynb``), at the top or
  in its only sub-folder (``alice/lab3/cnn.py``); a folder holding a single
  other ``.py`` or ``.ipynb`` file is graded as that file, with a note;
* a **folder of students**: every sub-folder, ``.py``, ``.ipynb`` and ``.zip``
  in it is one student;
* a single **.py** or **.ipynb** file per student: the notebook's code cells
  are joined into ``cnn.py``; IPython magics (``%matplotlib``), cell magics
  (``%%bash``) and shell escapes (``!pip install``) are dropped with a note;
* a **.zip** of one student's work, or an export holding a whole class:
  Gradescope's (``submission_metadata.yml`` + ``submission_<n>/``), Canvas's
  (flat ``login_<id>_<id>_cnn.py`` files), Moodle's
  (``Name_<id>_assignsubmission_file_/`` folders) or any zip whose top level
  holds one folder, ``.py``, ``.ipynb`` or ``.zip`` per student.

Archives are never trusted: a member whose path is absolute or escapes its
folder (zip-slip) rejects that student's archive with a message; symlinks,
devices and archives nested deeper than export → student are skipped with a
note; sizes are counted while extracting (not read from headers), so an
archive that expands past the limits (a zip bomb) is refused; names not
flagged UTF-8 are decoded as UTF-8, else GBK (Chinese Windows), else with
replacement characters. ``.py`` files that are not UTF-8 but are GBK are
converted, with a note.

Whatever goes wrong with one student's input becomes that student's
:class:`Submission` with ``error`` set, never an exception: the batch turns it
into the student's row.

Student ids come from folder/file names (made safe for file names and
unique), Gradescope's metadata, or the LMS naming scheme; :func:`load_roster`
reads a roster CSV that maps ids (or e-mails, logins, names) to names.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import posixpath
import re
import shutil
import stat
import zipfile
from pathlib import Path

JUNK = {"__MACOSX", "__pycache__", ".git", ".ipynb_checkpoints", ".DS_Store", "Thumbs.db", ".idea", ".vscode"}
UNIT_SUFFIXES = (".py", ".ipynb", ".zip")
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

    @property
    def ok(self) -> bool:
        return self.error is None


class IntakeError(Exception):
    """Why one student's input cannot be graded (shown to TA and student)."""


# -- ids ----------------------------------------------------------------------------

def safe_id(text: str) -> str:
    """A student id usable as a folder name: letters (any script), digits,
    ``.``, ``-``, ``_`` and ``@``; everything else becomes ``_``."""
    text = re.sub(r"[^\w.@-]+", "_", text.strip(), flags=re.UNICODE).strip("._")
    return text[:100] or "submission"


def _unique(subs: list[Submission], parents: list[str]) -> None:
    """Make ids unique: ``solutions/cnn`` and ``starter/cnn`` become
    ``solutions-cnn`` and ``starter-cnn``; a remaining clash gets ``-2``, ``-3``."""
    counts: dict[str, int] = {}
    for s in subs:
        counts[s.id] = counts.get(s.id, 0) + 1
    for s, parent in zip(subs, parents):
        if counts[s.id] > 1 and parent:
            s.id = safe_id(f"{parent}-{s.id}")
    seen: dict[str, int] = {}
    for s in subs:
        if s.id in seen:
            seen[s.id] += 1
            s.id = f"{s.id}-{seen[s.id]}"
        else:
            seen[s.id] = 1


# -- collecting -----------------------------------------------------------------------

def collect(inputs: list[Path | str], module: str, staging: Path, *, exclude: list[Path] = (),
            limits: IntakeLimits | None = None) -> list[Submission]:
    """Stage every submission found in ``inputs`` under ``staging/<id>/``
    (each holding ``<module>.py``). ``exclude``: folders never looked into
    (the batch's own output folder)."""
    limits = limits or IntakeLimits()
    staging = Path(staging)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    excluded = {Path(p).resolve() for p in exclude}
    units: list[tuple[Submission, str, object]] = []  # (submission, parent name, how to stage it)
    for raw in inputs:
        path = Path(raw)
        if path.resolve() in excluded:
            continue
        parent = path.resolve().parent.name
        if not path.exists():
            units.append((Submission(safe_id(path.stem), str(path), error=f"{path} does not exist"), parent, None))
        elif path.is_dir() and not _is_student_folder(path, module):
            for child in sorted(path.iterdir()):
                if child.resolve() in excluded or child.name in JUNK or child.name.startswith("."):
                    continue
                if child.is_dir() or child.suffix.lower() in UNIT_SUFFIXES + OTHER_ARCHIVES:
                    units.append(_unit(child, path.name, module, limits, nested_zip=True))
        else:
            try:
                units += _expand_input(path, parent, module, limits)
            except Exception as exc:  # noqa: BLE001 - one unreadable input is one error row
                units.append((Submission(safe_id(path.stem), str(path),
                                         error=f"could not read {path.name} ({type(exc).__name__}: {exc})"[:500]),
                              parent, None))
    subs = [u[0] for u in units]
    _unique(subs, [u[1] for u in units])
    for sub, _, stage in units:
        if sub.error or stage is None:
            continue
        dest = staging / sub.id
        try:
            stage(dest)
            sub.path = dest
            sub.fingerprint = fingerprint(dest)
        except IntakeError as exc:
            sub.error = str(exc)
            shutil.rmtree(dest, ignore_errors=True)
        except Exception as exc:  # noqa: BLE001 - a corrupt archive can raise anything (zlib.error, EOFError, …)
            sub.error = f"could not read the submission ({type(exc).__name__}: {exc})"[:500]
            shutil.rmtree(dest, ignore_errors=True)
    return subs


def _expand_input(path: Path, parent: str, module: str, limits: IntakeLimits):
    """One command-line input: a student, or (a zip export) a whole class."""
    if path.is_file() and path.suffix.lower() == ".zip":
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            return [(Submission(safe_id(path.stem), str(path), error=f"{path.name} is not a readable zip file ({exc})"),
                     parent, None)]
        try:
            members = _members(zf, limits, path.name)
        except IntakeError as exc:
            return [(Submission(safe_id(path.stem), str(path), error=str(exc)), parent, None)]
        if _is_export(members, module):
            return _export_units(zf, members, path, module, limits)
    return [_unit(path, parent, module, limits, nested_zip=True)]


def _unit(path: Path, parent: str, module: str, limits: IntakeLimits, *, nested_zip: bool):
    """(Submission, parent name, stager) for one student's folder/file/zip."""
    sub = Submission(safe_id(path.stem if path.is_file() else path.name), str(path))
    suffix = path.suffix.lower()
    if path.is_dir():
        return sub, parent, lambda dest: _stage_folder(path, dest, module, limits, sub.notes)
    if suffix == ".py":
        return sub, parent, lambda dest: _stage_file(path.read_bytes(), path.name, dest, module, sub.notes)
    if suffix == ".ipynb":
        return sub, parent, lambda dest: _stage_file(path.read_bytes(), path.name, dest, module, sub.notes)
    if suffix == ".zip":
        return sub, parent, lambda dest: _stage_zip_file(path, dest, module, limits, sub.notes)
    sub.error = (f"{path.name}: only .zip archives are read; unpack it or zip it instead" if suffix in OTHER_ARCHIVES
                 else f"{path.name}: not a folder, .py, .ipynb or .zip")
    return sub, parent, None


def _is_student_folder(path: Path, module: str) -> bool:
    names = {p.name for p in path.iterdir()}
    if f"{module}.py" in names or f"{module}.ipynb" in names:
        return True
    units = [p for p in path.iterdir() if p.name not in JUNK and not p.name.startswith(".")
             and (p.is_dir() or p.suffix.lower() in UNIT_SUFFIXES)]
    if len(units) == 1 and units[0].is_dir():
        return True  # alice/lab3/cnn.py
    # A single .py or notebook under another name (alice/homework.py); two or
    # more are a folder of students (alice.py, bob.py).
    return len(units) == 1 and units[0].suffix.lower() in (".py", ".ipynb")


# -- staging -----------------------------------------------------------------------------

def _stage_file(data: bytes, name: str, dest: Path, module: str, notes: list[str]) -> None:
    dest.mkdir(parents=True)
    if name.lower().endswith(".ipynb"):
        source, dropped = notebook_to_script(data, name)
        notes += dropped
        (dest / f"{module}.py").write_text(source, encoding="utf-8")
        return
    if name != f"{module}.py":
        notes.append(f"{name} is graded as {module}.py")
    (dest / f"{module}.py").write_bytes(_utf8(data, name, notes))


def _stage_folder(src: Path, dest: Path, module: str, limits: IntakeLimits, notes: list[str]) -> None:
    """Copy the part of ``src`` holding the lab's file into ``dest``."""
    files = _walk(src, limits, notes)
    rel_names = [f.relative_to(src).as_posix() for f in files]
    base, main = _find_main(rel_names, module)
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
    _finish(dest, base, main, module, notes)


def _finish(dest: Path, base: str, main: str, module: str, notes: list[str]) -> None:
    """Make ``dest/<module>.py`` from the main file found."""
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
        target.write_bytes(_utf8(target.read_bytes(), target.name, notes))


def _walk(src: Path, limits: IntakeLimits, notes: list[str]) -> list[Path]:
    """Regular files under ``src`` (no symlinks, devices or junk), at most ``max_files``."""
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


def _find_main(rel_names: list[str], module: str) -> tuple[str, str]:
    """(base folder, main file) among a submission's files: ``<module>.py``,
    else ``<module>.ipynb``, else the only ``.py``, else the only ``.ipynb``
    (at most three folders deep)."""
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
    raise IntakeError(f"no {module}.py (or notebook) in the submission" + (f" (it holds: {listing})" if rel_names else " (it is empty)"))


def _utf8(data: bytes, name: str, notes: list[str]) -> bytes:
    """Python source as UTF-8: GBK-encoded files (common on Chinese Windows)
    are converted; a file with a coding declaration is left alone."""
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    if re.search(rb"^[ \t\f]*#.*?coding[:=]", b"\n".join(data.splitlines()[:2]), re.M):
        return data
    try:
        text = data.decode("gbk")
    except UnicodeDecodeError:
        return data  # Python will say what is wrong, with the line
    notes.append(f"{name} was not UTF-8; converted from GBK")
    return text.encode("utf-8")


def fingerprint(folder: Path) -> str:
    """A hash of a staged submission's files (names and bytes)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


# -- notebooks -----------------------------------------------------------------------------

_CELL_MAGIC_KEEP = {"%%time", "%%timeit", "%%capture"}
_LINE_MAGIC = re.compile(r"^\s*(?:[%!]|[\w.]+\?{1,2}\s*$|[\w.,\s]+=\s*[%!])")


def notebook_to_script(data: bytes, name: str = "notebook") -> tuple[str, list[str]]:
    """The code cells of a notebook as one Python file, and notes on what was
    dropped. Magic and shell lines become ``pass`` at the same indentation,
    so blocks around them stay valid and line numbers stay close."""
    try:
        nb = json.loads(data.decode("utf-8-sig"))
        cells = nb["cells"] if "cells" in nb else nb["worksheets"][0]["cells"]
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError) as exc:
        raise IntakeError(f"{name} is not a readable notebook ({type(exc).__name__}: {exc})") from None
    out = [f"# Code cells of {name}, extracted by the grader (IPython magics and shell escapes dropped).", ""]
    dropped: list[str] = []
    number = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", cell.get("input", ""))
        source = "".join(source) if isinstance(source, list) else str(source)
        lines = source.splitlines()
        if lines and lines[0].lstrip().startswith("%%"):
            magic = lines[0].split()[0]
            if magic in _CELL_MAGIC_KEEP:
                lines = lines[1:]
            else:
                dropped.append(f"cell {number}: dropped the whole {magic} cell")
                continue
        out.append(f"# %% cell {number}")
        for line in lines:
            if _LINE_MAGIC.match(line) or "get_ipython()" in line:
                indent = line[: len(line) - len(line.lstrip())]
                out.append(f"{indent}pass  # dropped: {line.strip()[:60]}")
                dropped.append(f"cell {number}: dropped `{line.strip()[:60]}`")
            else:
                out.append(line)
        out.append("")
    if dropped:
        dropped = [f"{name}: IPython magics and shell escapes are ignored when grading"] + dropped[:10] + (
            [f"… and {len(dropped) - 10} more"] if len(dropped) > 10 else [])
    return "\n".join(out) + "\n", dropped


# -- zip archives ------------------------------------------------------------------------------

@dataclasses.dataclass
class _Member:
    info: zipfile.ZipInfo
    name: str  # decoded, normalised, relative


def _decode_name(info: zipfile.ZipInfo) -> str:
    name = info.filename
    if not info.flag_bits & 0x800:  # not flagged UTF-8: zipfile decoded it as cp437
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            raw = name.encode("utf-8", "replace")
        for encoding in ("utf-8", "gbk"):
            try:
                name = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            name = raw.decode("utf-8", "replace")
    return name.replace("\\", "/")


def _members(zf: zipfile.ZipFile, limits: IntakeLimits, label: str) -> list[_Member]:
    """The archive's regular files, with safe relative names. Raises
    :class:`IntakeError` for a path that is absolute or escapes the archive,
    and for an archive too large to be a submission."""
    infos = zf.infolist()
    if len(infos) > limits.max_files * 10:
        raise IntakeError(f"{label} holds {len(infos)} entries, too many for a submission")
    out = []
    declared = 0
    for info in infos:
        name = _decode_name(info)
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
            raise IntakeError(f"{label} holds an absolute path ({name!r}); zip your folder again from inside it")
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise IntakeError(f"{label} holds a path that escapes its folder ({name!r}); zip your folder again")
        if info.is_dir() or not parts:
            continue
        if any(p in JUNK or p.startswith("._") for p in parts):
            continue
        declared += info.file_size
        if declared > limits.max_export:
            raise IntakeError(f"{label} expands to more than {limits.max_export >> 30} GB")
        parts = [re.sub(r"[\x00-\x1f]", "_", p) for p in parts]
        out.append(_Member(info, "/".join(parts)))
    return out


def _kind(info: zipfile.ZipInfo) -> str:
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_IFMT(mode):  # made on Unix, with a file type
        if stat.S_ISLNK(mode):
            return "symlink"
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            return "special"
    return "file"


def _read_member(zf: zipfile.ZipFile, m: _Member, limits: IntakeLimits, budget: list[int]) -> bytes:
    """A member's bytes, counted as they are inflated (headers can lie)."""
    info = m.info
    if info.compress_size and info.file_size > (1 << 20) and info.file_size / info.compress_size > limits.max_ratio:
        raise IntakeError(f"{m.name} is compressed {info.file_size // info.compress_size}:1, "
                          "which only a zip bomb is; refusing the archive")
    chunks, size = [], 0
    with zf.open(info) as fh:
        while chunk := fh.read(1 << 20):
            size += len(chunk)
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise IntakeError(f"the archive expands to more than {limits.max_total >> 20} MB (a zip bomb?)")
            if size > limits.max_file:
                return b""
            chunks.append(chunk)
    return b"".join(chunks)


def _extract(zf: zipfile.ZipFile, members: list[_Member], prefix: str, dest: Path, limits: IntakeLimits,
             notes: list[str]) -> list[tuple[str, bytes]]:
    """Extract members under ``prefix`` into ``dest`` (safely); the zips
    found inside are returned as (name, bytes), not extracted."""
    budget = [limits.max_total]
    nested = []
    count = 0
    for m in members:
        if prefix and not m.name.startswith(prefix + "/"):
            continue
        rel = m.name[len(prefix) + 1:] if prefix else m.name
        kind = _kind(m.info)
        if kind != "file":
            notes.append(f"skipped {rel} (a {'symbolic link' if kind == 'symlink' else 'special file'} in the archive)")
            continue
        count += 1
        if count > limits.max_files:
            raise IntakeError(f"the archive holds more than {limits.max_files} files")
        data = _read_member(zf, m, limits, budget)
        if not data and m.info.file_size > limits.max_file:
            notes.append(f"skipped {rel} ({m.info.file_size / 2**20:.0f} MB, more than {limits.max_file >> 20} MB)")
            continue
        if rel.lower().endswith(".zip"):
            nested.append((rel, data))
            continue
        target = (dest / rel).resolve()
        if not str(target).startswith(str(dest.resolve()) + os.sep):
            raise IntakeError(f"the archive holds a path that escapes its folder ({rel!r})")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return nested


def _stage_zip_bytes(zf: zipfile.ZipFile, members: list[_Member], prefix: str, dest: Path, module: str,
                     limits: IntakeLimits, notes: list[str], label: str, *, depth: int = 1) -> None:
    """Stage the members under ``prefix``. A zip inside (``depth`` 2 at most:
    an export holding a student's zip, or a student's zip holding their
    zipped folder) is opened only when the lab's file is not found otherwise."""
    raw = dest.with_name(dest.name + ".raw")
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(parents=True)
    try:
        nested = _extract(zf, members, prefix, raw, limits, notes)
        files = [p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file()]
        try:
            _find_main(files, module)
            found = True
        except IntakeError:
            found = False
        for name, data in nested:
            if found or depth >= 2:
                notes.append(f"did not open the archive {name} inside {label}; put the files in directly")
                continue
            try:
                inner = zipfile.ZipFile(io.BytesIO(data))
            except zipfile.BadZipFile as exc:
                raise IntakeError(f"{name} is not a readable zip file ({exc})") from None
            with inner:
                target = raw / posixpath.splitext(name)[0]
                target.mkdir(parents=True, exist_ok=True)
                for inner_name, _ in _extract(inner, _members(inner, limits, name), "", target, limits, notes):
                    notes.append(f"did not open the archive {inner_name} inside {name}; put the files in directly")
        _stage_folder(raw, dest, module, limits, notes)
    finally:
        shutil.rmtree(raw, ignore_errors=True)


def _stage_zip_file(path: Path, dest: Path, module: str, limits: IntakeLimits, notes: list[str]) -> None:
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise IntakeError(f"{path.name} is not a readable zip file ({exc})") from None
    with zf:
        _stage_zip_bytes(zf, _members(zf, limits, path.name), "", dest, module, limits, notes, path.name)


def _is_export(members: list[_Member], module: str) -> bool:
    """Whether a zip holds a whole class rather than one student's work:
    Gradescope's metadata, Moodle's folder names, the lab file at the top
    (one student), zips at the top (one per student), the lab file in two or
    more places, or Canvas's flat file names."""
    names = [m.name for m in members]
    if any(posixpath.basename(n) == "submission_metadata.yml" for n in names):
        return True
    prefix = _common_folder(names)
    rel = [n[len(prefix) + 1:] if prefix else n for n in names]
    if any("/" in n and _MOODLE.match(n.split("/")[0]) for n in rel):
        return True
    top_files = [n for n in rel if "/" not in n]
    if f"{module}.py" in top_files or f"{module}.ipynb" in top_files:
        return False
    if any(n.lower().endswith(".zip") for n in top_files):
        return True
    if sum(posixpath.basename(n) in (f"{module}.py", f"{module}.ipynb") for n in rel) >= 2:
        return True
    return len(_canvas_groups(rel)) > 1


def _common_folder(names: list[str]) -> str:
    tops = {n.split("/")[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        return tops.pop()
    return ""


_CANVAS = re.compile(r"^(?P<login>[^_/]+?)(?:_late|_LATE)?_(?P<uid>\d+)_(?P<sid>\d+)_(?P<file>.+)$")
_MOODLE = re.compile(r"^(?P<who>.+?)_(?P<pid>\d+)_assign(?:submission|feedback)_\w+?_?$")


def _canvas_groups(rel: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for n in rel:
        m = _CANVAS.match(n) if "/" not in n else None
        if m:
            groups.setdefault(m["login"], []).append(n)
    return groups if groups and sum(len(v) for v in groups.values()) == len([n for n in rel if "/" not in n]) else {}


def _export_units(zf: zipfile.ZipFile, members: list[_Member], path: Path, module: str, limits: IntakeLimits):
    """One unit per student of an export archive."""
    names = [m.name for m in members]
    prefix = _common_folder(names)
    meta = _gradescope_metadata(zf, members)
    rel = [n[len(prefix) + 1:] if prefix else n for n in names]
    units = []
    canvas = _canvas_groups(rel)
    if canvas and not meta:
        for login, files in sorted(canvas.items()):
            sub = Submission(safe_id(login), f"{path.name}: {', '.join(files[:3])}")

            def stage(dest, files=files, sub=sub):
                dest.mkdir(parents=True)
                by_name = {m.name[len(prefix) + 1:] if prefix else m.name: m for m in members}
                budget = [limits.max_total]
                for f in files:
                    original = re.sub(r"-\d+(\.\w+)$", r"\1", _CANVAS.match(f)["file"])  # Canvas renames resubmissions
                    data = _read_member(zf, by_name[f], limits, budget)
                    (dest / safe_id(original)).write_bytes(data)
                staged = [p.name for p in dest.iterdir()]
                base, main = _find_main(staged, module)
                _finish(dest, base, main, module, sub.notes)
            units.append((sub, path.stem, stage))
        return units
    tops = sorted({n.split("/")[0] for n in rel})
    for top in tops:
        if top == "submission_metadata.yml":
            continue
        member_prefix = "/".join(p for p in (prefix, top) if p)
        is_dir = any(n.startswith(top + "/") for n in rel)
        who = meta.get(top, {})
        moodle = _MOODLE.match(top)
        ident = who.get("sid") or who.get("email", "").split("@")[0] or (
            f"{moodle['who']}_{moodle['pid']}" if moodle else posixpath.splitext(top)[0])
        sub = Submission(safe_id(ident), f"{path.name}: {top}", name=who.get("name", moodle["who"] if moodle else ""))
        if who.get("others"):
            sub.notes.append(f"group submission, also by {', '.join(who['others'])}")
        if is_dir:
            stage = (lambda dest, mp=member_prefix, sub=sub:
                     _stage_zip_bytes(zf, members, mp, dest, module, limits, sub.notes, path.name))
        elif top.lower().endswith(".zip"):
            stage = (lambda dest, mp=member_prefix, sub=sub: _stage_nested_zip(zf, members, mp, dest, module, limits, sub.notes))
        elif top.lower().endswith((".py", ".ipynb")):
            stage = (lambda dest, mp=member_prefix, top=top, sub=sub:
                     _stage_file(_read_member(zf, next(m for m in members if m.name == mp), limits, [limits.max_total]),
                                 top, dest, module, sub.notes))
        else:
            continue
        units.append((sub, path.stem, stage))
    return units


def _stage_nested_zip(zf, members, member_name, dest, module, limits, notes) -> None:
    """A student's zip inside a class export: opened once more, no deeper."""
    member = next(m for m in members if m.name == member_name)
    data = _read_member(zf, member, limits, [limits.max_total])
    if not data:
        raise IntakeError(f"{posixpath.basename(member_name)} is larger than {limits.max_file >> 20} MB")
    try:
        inner = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise IntakeError(f"{posixpath.basename(member_name)} is not a readable zip file ({exc})") from None
    with inner:
        _stage_zip_bytes(inner, _members(inner, limits, posixpath.basename(member_name)), "", dest, module, limits,
                         notes, member_name, depth=2)


def _gradescope_metadata(zf: zipfile.ZipFile, members: list[_Member]) -> dict[str, dict]:
    """Gradescope's ``submission_metadata.yml``: folder → {sid, name, email, others}."""
    meta_member = next((m for m in members if posixpath.basename(m.name) == "submission_metadata.yml"), None)
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
                                "others": [str(p.get("name") or p.get("sid") or "") for p in people[1:]]}
    return out


# -- rosters ---------------------------------------------------------------------------------

ID_COLUMNS = ("id", "student_id", "student id", "studentid", "sid", "student number", "number", "学号", "login",
              "username", "user")
NAME_COLUMNS = ("name", "full name", "student name", "student", "姓名")
EMAIL_COLUMNS = ("email", "e-mail", "mail", "邮箱")


@dataclasses.dataclass
class Roster:
    """Students of a course: ids in roster order, their names, and aliases
    (e-mail, its local part, the name) that submissions may be named by."""

    names: dict[str, str]
    aliases: dict[str, str]

    def match(self, submission_id: str) -> str | None:
        """The roster id a submission id refers to, or None (not on the roster)."""
        if submission_id in self.names:
            return submission_id
        return self.aliases.get(_alias(submission_id))


def _alias(text: str) -> str:
    return re.sub(r"[\s_.-]+", "", text).casefold()


def load_roster(path: Path | str) -> Roster:
    """Read a roster CSV (UTF-8, UTF-8 with BOM, or GBK as Excel writes it in
    China; comma, semicolon or tab separated) with a header row naming an id
    column (``id``, ``student_id``, ``学号``, …) and optionally a name and an
    e-mail column. Without a recognised header: id, then name."""
    data = Path(path).read_bytes()
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = data.decode("utf-8", "replace")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    if not rows:
        return Roster({}, {})
    header = [c.strip().casefold() for c in rows[0]]

    def column(candidates):
        return next((header.index(c) for c in candidates if c in header), None)

    i_id, i_name, i_email = column(ID_COLUMNS), column(NAME_COLUMNS), column(EMAIL_COLUMNS)
    body = rows[1:]
    if i_id is None:
        if i_name is not None or i_email is not None:
            raise ValueError(f"{path}: no id column (one of {', '.join(ID_COLUMNS)})")
        i_id, i_name, body = 0, 1 if len(rows[0]) > 1 else None, rows
    names, aliases = {}, {}
    for row in body:
        cell = lambda i: row[i].strip() if i is not None and i < len(row) else ""  # noqa: E731
        sid = safe_id(cell(i_id))
        if not cell(i_id):
            continue
        names[sid] = cell(i_name)
        for alias in (cell(i_email), cell(i_email).split("@")[0], cell(i_name), cell(i_id)):
            if alias:
                aliases.setdefault(_alias(alias), sid)
    return Roster(names, aliases)
