"""Isolation levels: which this machine allows, and which grading uses.

Strongest first (:data:`LEVELS`; :mod:`grader.sandbox` describes each).
:func:`supported` asks the machine (root? do namespaces work?);
:func:`isolation` picks the level to grade with and *refuses* when the
strongest supported level cannot actually be built here (it builds a real
sandbox around a small Python program once per process to find out),
rather than silently grade with less. A weaker level is used only when
asked for by name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from grader.sandbox.launch import JAIL_BOX, jail_command, jail_spec, uid_command
from grader.sandbox.limits import Limits, SandboxError
from grader.sandbox.users import PROBE_UID, lock_down
from grader.sandbox.workdir import make_layout

LEVELS = ("root-jail", "userns-jail", "uid", "process")  # strongest first

DESCRIPTIONS = {
    "root-jail": "separate unprivileged user, no network, private filesystem (only the submission, the grader's "
                 "public code and the check inputs are visible), own process tree",
    "userns-jail": "user namespace (the grader's own user outside, every capability dropped), no network, "
                   "private filesystem (only the submission, the grader's public code and the check inputs are "
                   "visible), own process tree",
    "uid": "separate unprivileged user id without namespaces (the grader, its checks, fixtures, results and "
           "other submissions are unreadable to it); it shares the machine's network and process list",
    "process": "plain child process with a scrubbed environment and resource limits only: it runs as the "
               "grader's user, can read what that user can read and may use the network",
}

_levels_lock = threading.Lock()
_available: dict[str, str | None] = {}  # level -> None if it works, else why not
_supported: list = []  # [(strongest level, {level: why not})] once asked


def isolation(requested: str = "auto") -> str:
    """The isolation level to grade with. ``auto`` (or ``$DLKIT_ISOLATION``)
    means the strongest level this machine supports (:func:`supported`),
    which must then be buildable; an explicit level must be supported and
    buildable. Raises :class:`SandboxError`, saying why, otherwise: grading
    never falls back silently to weaker isolation."""
    requested = os.environ.get("DLKIT_ISOLATION", requested) if requested == "auto" else requested
    if requested not in ("auto", *LEVELS):
        raise SandboxError(f"unknown isolation level {requested!r} (one of auto, {', '.join(LEVELS)})")
    best, why_not = supported()
    level = best if requested == "auto" else requested
    if LEVELS.index(level) < LEVELS.index(best):
        raise SandboxError(f"the {level} sandbox is not available on this machine ({why_not.get(level, '')}); "
                           f"the strongest available is {best}")
    problem = _probe(level)
    if problem is not None:
        weaker = ", ".join(LEVELS[LEVELS.index(level) + 1:])
        raise SandboxError(
            f"this machine supports the {level} sandbox, but it could not be built here: {problem}. "
            f"Grading refuses rather than run student code with weaker isolation; to accept weaker "
            f"isolation, pass it explicitly (--isolation {weaker.split(', ')[0]}; levels: {weaker})")
    return level


def describe(level: str) -> str:
    """What ``level`` isolates, in words for reports."""
    return DESCRIPTIONS.get(level, level)


def supported() -> tuple[str, dict[str, str]]:
    """The strongest level this *machine* allows, whatever the kit does:
    namespaces for the jails (tried with ``unshare … true``), root for
    ``uid``. Returns it and why each stronger level is not available."""
    with _levels_lock:
        if _supported:
            return _supported[0]
        why: dict[str, str] = {}
        unshare = shutil.which("unshare")
        root = os.geteuid() == 0
        for level in LEVELS:
            if level == "process":
                break
            if level in ("root-jail", "uid") and not root:
                why[level] = "needs root"
            elif level == "uid":
                break
            elif level == "userns-jail" and root:
                why[level] = "root uses root-jail"
            elif not unshare:
                why[level] = "the unshare command (util-linux) is missing"
            else:
                flags = ["--user", "--map-root-user"] if level == "userns-jail" else []
                try:
                    proc = subprocess.run(["unshare", *flags, "--net", "--mount", "--pid", "--ipc", "--uts", "--fork",
                                           "true"], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
                    ok = proc.returncode == 0
                    text = proc.stderr.decode(errors="replace").strip().splitlines()
                    reason = text[-1] if text else f"exit status {proc.returncode}"
                except (OSError, subprocess.SubprocessError) as exc:
                    ok, reason = False, str(exc)
                if ok:
                    break
                why[level] = f"namespaces refused: {reason}"
        _supported.append((level, why))
        return _supported[0]


def _probe(level: str) -> str | None:
    """Whether the kit can build ``level`` here (None) or why not; tried once
    per process by building a real sandbox around a small Python program."""
    with _levels_lock:
        if level in _available:
            return _available[level]
        if level == "process":
            problem = None
        elif level in ("root-jail", "uid") and os.geteuid() != 0:
            problem = "needs root"
        elif level == "uid":
            problem = _try_uid()
        elif not shutil.which("unshare"):
            problem = "the unshare command (util-linux) is missing"
        else:
            problem = _try_jail(level)
        _available[level] = problem
        return problem


#: What the probe runs in the sandbox: Python with its packages.
_PROBE_CODE = "import os, numpy; os.listdir('{box}/submission')"


def _run_probe(build) -> str | None:
    """Build a throw-away sandbox with ``build(work)`` (which returns the
    command and its ``subprocess.run`` options) and run it: None when it
    exits cleanly, else the last line it printed."""
    work = Path(tempfile.mkdtemp(prefix="dlkit-probe-"))
    try:
        command, options = build(work)
        proc = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, **options)
        if proc.returncode != 0:
            text = (proc.stderr or proc.stdout).decode(errors="replace").strip().splitlines()
            return text[-1] if text else f"exit status {proc.returncode}"
        return None
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _try_jail(level: str) -> str | None:
    def build(work: Path):
        uid = PROBE_UID if level == "root-jail" else None
        make_layout(work, uid=uid)
        (work / "lib").mkdir()
        for sub in ("home", "tmp", "submission"):
            (work / "box" / sub).mkdir()
        spec = jail_spec(work, uid, [sys.executable, "-s", "-P", "-c", _PROBE_CODE.format(box=JAIL_BOX)],
                         {"PATH": "/usr/bin:/bin"}, Limits(), lib=work / "lib", inputs=None)
        return jail_command(level, spec), {}

    return _run_probe(build)


def _try_uid() -> str | None:
    """Run Python as an unprivileged id and make sure the kit is closed to it."""
    if not shutil.which("setpriv"):
        return "the setpriv command (util-linux) is missing"
    from grader.labs.lab import repo_root

    def build(work: Path):
        make_layout(work, uid=PROBE_UID)
        lock_down([], work)
        box = work / "box"
        for sub in ("home", "tmp", "submission"):
            (box / sub).mkdir()
            os.chown(box / sub, PROBE_UID, PROBE_UID)
        closed = [str(repo_root() / n) for n in ("grader", "assignments", ".dlkit") if (repo_root() / n).exists()]
        code = (_PROBE_CODE.format(box=box) + "\nfor p in " + repr(closed) + ":\n"
                "    try:\n        os.listdir(p)\n    except PermissionError:\n        continue\n"
                "    raise SystemExit('readable by the sandbox: ' + p)\n")
        return (uid_command(PROBE_UID, [sys.executable, "-s", "-P", "-c", code]),
                {"cwd": box / "submission", "env": {"PATH": "/usr/bin:/bin", "HOME": str(box / "home")}})

    return _run_probe(build)
