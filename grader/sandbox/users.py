"""The sandbox's user ids: one per run, and closing the kit to it.

Where the grader runs as root (the ``root-jail`` and ``uid`` levels), each
worker runs as an unprivileged user id of its own (:func:`allocate_uid`).
At the ``uid`` level no private filesystem hides the kit, so
:func:`lock_down` makes the kit, the output folder and the submissions
unreadable to that id instead.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from grader.sandbox.workdir import open_to_all

#: The user id of the level probes (:mod:`grader.sandbox.levels`).
PROBE_UID = 2_000_000_000 - 1

_uid_lock = threading.Lock()
_uids_in_use: set[int] = set()


def allocate_uid() -> int:
    """A user id no one else uses: RLIMIT_NPROC counts every task of a user
    id machine-wide, so concurrent sandboxes must not share one. Derived from
    this process's pid, so two grader processes do not collide either."""
    base = 1_000_000_000 + (os.getpid() % 1_000_000) * 64
    with _uid_lock:
        uid = next(base + i for i in range(1_000_000) if base + i not in _uids_in_use)
        _uids_in_use.add(uid)
    return uid


def release_uid(uid: int) -> None:
    with _uid_lock:
        _uids_in_use.discard(uid)


def _python_paths() -> list[Path]:
    """Real paths the worker must reach: the interpreter and its packages."""
    from grader.sandbox.launch import python_prefixes

    return sorted({Path(real) for real, _ in python_prefixes()})


def _close(path: Path, keep: list[Path]) -> None:
    """No access for group and others to ``path``, except traversal towards
    the paths in ``keep`` (a virtual environment inside the kit, say)."""
    try:
        info = os.lstat(path)
    except OSError:
        return
    if stat.S_ISLNK(info.st_mode):
        return
    inside = [k for k in keep if k == path or path in k.parents]
    if path in inside:
        return
    mode = stat.S_IMODE(info.st_mode) & ~0o077
    if not inside or not stat.S_ISDIR(info.st_mode):
        os.chmod(path, mode)
        return
    os.chmod(path, mode | 0o011)  # traverse, not list
    for child in path.iterdir():
        _close(child, keep)


def _open_towards(path: Path) -> None:
    """Let others traverse every folder above ``path`` (not list it)."""
    for folder in reversed(path.parents):
        try:
            mode = stat.S_IMODE(os.stat(folder).st_mode)
            if not mode & 0o001:
                os.chmod(folder, mode | 0o001)
        except OSError:
            pass


def lock_down(protect: list[Path], work: Path, shared: Path | None = None) -> None:
    """Before the ``uid`` level runs a worker: the kit (grader, checks,
    fixtures, salt), ``protect`` (the output folder, the submissions) become
    the grader's alone, while the interpreter, the worker's own folders and
    the ``shared`` folder (the runtime and inputs every box reads) stay
    reachable. Permissions are changed for good: grading as root without
    namespaces is a throw-away container's business."""
    from grader.labs.lab import repo_root

    # All work folders stay reachable (each box inside is its own user's,
    # 0700): closing a concurrent submission's folder would break its worker.
    keep = [*_python_paths(), work.resolve().parent]
    if shared is not None:
        keep.append(shared.resolve().parent)
    for path in [repo_root(), *protect]:
        _close(Path(path).resolve(), keep)
    for path in [*keep, work.resolve(), *([shared.resolve()] if shared is not None else [])]:
        _open_towards(path)
    os.chmod(work, 0o711)
    open_to_all(work / "job")
    os.chmod(work / "box", 0o711)
    if shared is not None:
        os.chmod(shared, 0o711)  # traverse, not list: its lib/ and in/ are 0755
