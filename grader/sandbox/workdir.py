"""The folders a worker runs in, and what is copied into them.

One submission's work folder (a fresh temporary folder per submission)::

    work/job/          job.json (read-only to the worker); job/in is where
                       the checks' inputs appear inside a jail
    work/root/         the jail's empty root (a mount point)
    work/box/          root-owned; inside it, owned by the sandbox's user:
        submission/    a copy of the submission: the working directory
        home/ tmp/     $HOME and $TMPDIR
        out/           observations written by the worker
        events         the worker's progress log

The grader runtime (``lib/``) and the checks' inputs (``in/``) are not
copied per submission: they are written once into a
:class:`~grader.sandbox.shared.SharedFiles` folder that every box reads.

A work folder names the grading process that owns it (:func:`claim`), so a
folder left behind by a grader that was killed (``kill -9``: nothing ran
its clean-up) is removed by the next one (:func:`sweep`), and a folder of
a grader still running never is.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from grader.labs.lab import Lab


def copy_submission(submission: Path, dest: Path, module: str) -> Path:
    """Copy a submission (a ``.py`` file or a folder) into ``dest``. Only
    regular files and folders are copied: a symlink cannot pull in files from
    elsewhere, and a FIFO cannot block the copy."""
    dest.mkdir(parents=True, exist_ok=True)
    if submission.is_file():
        shutil.copyfile(submission, dest / f"{module}.py")
        return dest
    for folder, dirs, files in os.walk(submission, followlinks=False):
        rel = Path(folder).relative_to(submission)
        dirs[:] = [d for d in dirs if d not in ("__pycache__", ".git") and not os.path.islink(os.path.join(folder, d))]
        (dest / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            source = os.path.join(folder, name)
            if stat.S_ISREG(os.lstat(source).st_mode):
                shutil.copyfile(source, dest / rel / name)
    return dest


def copy_runtime(lab: Lab, lib: Path) -> None:
    """The code the worker runs besides the submission: the grader package
    (``lib/grader``), the lab's *shipped* check files (``lib/lab/checks``:
    what students have anyway) and the files ``lab.toml`` ships to students
    (``[release] student_files``, such as a pre-trained model), at the path
    they have in a student's bundle (``lib/assignments/<lab>/...``), where
    ``grader.data`` finds them, the data sets the bundle ships
    (:func:`bundled_data`) and the study's data (:func:`study_data`). No
    ``lab.toml``, hidden or private check file, fixture or salt."""
    from grader.labs.anatomy import SHIPPED_CHECK_FILES

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(Path(__file__).resolve().parents[1], lib / "grader", ignore=ignore)
    checks = lib / "lab" / "checks"
    checks.mkdir(parents=True)
    for name in SHIPPED_CHECK_FILES:
        if (lab.assignment_dir / "checks" / name).is_file():
            shutil.copyfile(lab.assignment_dir / "checks" / name, checks / name)
    for rel in lab.meta.get("release", {}).get("student_files", []):
        target = lib / "assignments" / lab.id / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lab.assignment_dir / rel, target)
    for name, source in {**bundled_data(lab), **study_data(lab)}.items():
        target = lib / "shared" / "data" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            target.write_bytes(source)
        else:
            shutil.copyfile(source, target)
    open_to_all(lib)


def study_data(lab: Lab) -> dict[str, Path | bytes]:
    """The files the grader's own study data is made of (``[study] data``
    names the function of :mod:`grader.data` that lists them), such as the
    instructor's images a TA switched the CNN study to: a re-run of a row
    must read what the grader's table was made from."""
    if lab.study is None or not lab.study.data:
        return {}
    import grader.data

    return getattr(grader.data, lab.study.data)()


def bundled_data(lab: Lab) -> dict[str, Path]:
    """The data sets a student's bundle ships (``[release] data``), for a lab
    with a study, whose re-run of a row may read them: ``lib/shared/data``
    is where ``grader.data`` looks in a bundle, and in the sandbox. Only
    those: the rest of the data directory stays out, and so do a lab's data
    sets when no study needs them (least privilege: the checks' own inputs
    come through ``in/``). Data the grader's own data directory lacks is left
    out too; the submission's loader then raises its "data files not found"
    error, reported as the row's failure."""
    from grader.data import DataError, data_sets

    if lab.study is None:
        return {}
    try:
        return data_sets(lab.meta.get("release", {}).get("data", []))
    except DataError:
        return {}


def open_to_all(folder: Path) -> None:
    """Folders 0755 and files 0644 under ``folder``: readable by the
    sandbox's user whatever the kit's own permissions are (a umask of 077,
    or the uid level's lock-down of the kit), writable by the grader alone."""
    for parent, dirs, files in os.walk(folder):
        os.chmod(parent, 0o755)
        for name in files:
            os.chmod(os.path.join(parent, name), 0o644)


def make_layout(work: Path, uid: int | None) -> None:
    """The work folder's skeleton; ``out`` and ``events`` handed to ``uid``."""
    for sub in ("job/in", "root", "box"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    box = work / "box"
    box.chmod(0o711)  # the box itself stays the grader's: nothing in it can be replaced
    (box / "out").mkdir(exist_ok=True)
    (box / "events").touch()
    if uid is not None:
        for path in (box / "out", box / "events"):
            os.chown(path, uid, uid)
            path.chmod(0o700 if path.is_dir() else 0o600)


def fresh_box(work: Path, submission: Path, module: str, uid: int | None, withhold: tuple[str, ...] = ()) -> None:
    """A clean home, tmp and copy of the submission for each worker start:
    nothing a killed worker left behind (a disk filler's files, a half-written
    state) reaches the next one. ``withhold`` names files of the submission
    the box must not hold (the study's table: its claims stay outside)."""
    box = work / "box"
    for sub in ("home", "tmp", "submission"):
        shutil.rmtree(box / sub, ignore_errors=True)
        (box / sub).mkdir()
    copy_submission(submission, box / "submission", module)
    for name in withhold:
        target = box / "submission" / name
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
    if uid is not None:
        for sub in ("home", "tmp", "submission"):
            chown_tree(box / sub, uid)
            (box / sub).chmod(0o700)


def chown_tree(path: Path, uid: int) -> None:
    """Give ``path`` and everything under it (links themselves, not their targets) to ``uid``."""
    for folder, dirs, files in os.walk(path):
        os.chown(folder, uid, uid)
        for name in files:
            os.lchown(os.path.join(folder, name), uid, uid)


def clear_folder(dir_fd: int) -> None:
    """Empty the observations folder between worker starts (whatever the
    previous worker left in it, files or folders)."""
    try:
        names = os.listdir(dir_fd)
    except OSError:
        return
    for name in names:
        try:
            os.unlink(name, dir_fd=dir_fd)
        except IsADirectoryError:
            shutil.rmtree(name, dir_fd=dir_fd, ignore_errors=True)
        except OSError:
            pass


#: The file naming a work folder's owner: ``{"pid", "started"}``.
OWNER_FILE = "owner.json"
#: How work folders are named (``tempfile.mkdtemp(prefix=...)``).
PREFIX = "dlkit-"


def claim(work: Path) -> None:
    """Record that this process owns ``work`` (see :func:`sweep`)."""
    (work / OWNER_FILE).write_text(json.dumps({"pid": os.getpid(), "started": _started(os.getpid())}))


def sweep(folder: Path) -> list[Path]:
    """Remove the work folders in ``folder`` whose owner is dead (a pid no
    longer running, or reused by another process since); a folder without
    an owner file is left alone (it may be being made right now). Returns
    the folders removed."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for work in entries:
        if not work.name.startswith(PREFIX) or work.is_symlink() or not work.is_dir():
            continue
        try:
            owner = json.loads((work / OWNER_FILE).read_text())
            pid, started = int(owner["pid"]), owner["started"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _started(pid) is None or _started(pid) != started:
            shutil.rmtree(work, ignore_errors=True)
            removed.append(work)
    return removed


def _started(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot, from
    ``/proc``), or None when there is no such process: with the pid, it
    names one process even after the pid is reused."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: fields are
    # counted after its closing parenthesis; the start time is field 22.
    return int(data[data.rindex(b")") + 2:].split()[19])
