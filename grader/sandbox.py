"""Running *observe* in a separate process, with time limits (DESIGN §4).

The parent (trusted) writes each check's public inputs to a job folder,
starts ``python -m grader.worker`` in a fresh working directory holding a
copy of the submission, and watches its progress events. A check that runs
past its budget, or a process that crashes or exits, costs only the check
that was running: the parent kills the process group, records why, and
starts a new worker for the checks that remain. The verdict is never formed
in the child.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import protocol
from .check import Check
from .lab import Lab
from .runner import Observation


@dataclasses.dataclass
class Limits:
    """Time and size limits for one submission's observing process."""

    #: Seconds allowed to start Python, import TensorFlow and the submission.
    startup: float = 120.0
    #: Seconds for the whole submission (all checks, restarts included).
    total: float = 900.0
    #: Multiplies every check's budget (slow machines, emulation, debugging).
    time_scale: float = 1.0
    #: Bytes of the student's printed output kept for the report.
    output_tail: int = 20_000
    #: Largest file the student's process may write (bytes).
    max_file_size: int = 1 << 30


@dataclasses.dataclass
class Run:
    """Everything the observing process produced for one submission."""

    observations: dict[str, Observation]
    output: str
    starts: int
    info: dict[str, Any]


def _child_env(work: Path, threads: int | None) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(
        HOME=str(work / "home"),
        TMPDIR=str(work / "tmp"),
        PYTHONPATH=str(Path(__file__).resolve().parent.parent),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        PYTHONHASHSEED="0",
        TF_CPP_MIN_LOG_LEVEL="2",
        TF_ENABLE_ONEDNN_OPTS=os.environ.get("TF_ENABLE_ONEDNN_OPTS", "0"),
        KERAS_BACKEND="tensorflow",
        MPLBACKEND="Agg",
    )
    if threads:
        env.update(DLKIT_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    return env


def _limit_child(max_file_size: int):
    def apply():
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_size, max_file_size))

    return apply


def _read_events(path: Path) -> list[dict]:
    events = []
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return events
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("event"), str):
            events.append(event)
    return events


def _tail(path: Path, limit: int) -> str:
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            fh.seek(max(0, size - limit))
            text = fh.read().decode(errors="replace")
    except FileNotFoundError:
        return ""
    return (f"[… {size - limit} earlier bytes of output not shown]\n" if size > limit else "") + text


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "it was stopped"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (often: out of memory)" if name == "SIGKILL" else ""
        return f"it was killed by {name}{hint}"
    return f"it exited with code {code} (sys.exit/os._exit in your code?)"


def copy_submission(submission: Path, dest: Path, module: str) -> Path:
    """Copy a submission (a ``.py`` file or a folder) into ``dest``; symlinks
    are not followed, so a link cannot pull in files from elsewhere."""
    dest.mkdir(parents=True, exist_ok=True)
    if submission.is_file():
        shutil.copyfile(submission, dest / f"{module}.py")
    else:
        shutil.copytree(submission, dest, symlinks=True, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", ".git"))
    return dest


def observe(
    lab: Lab,
    submission: Path,
    checks: list[Check],
    inputs: dict[str, dict[str, Any]],
    *,
    limits: Limits | None = None,
    threads: int | None = None,
) -> Run:
    """Run ``observe`` for ``checks`` on ``submission`` in child processes."""
    limits = limits or Limits()
    work = Path(tempfile.mkdtemp(prefix="dlkit-"))
    try:
        return _observe(lab, Path(submission), checks, inputs, limits, threads, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _observe(lab, submission, checks, inputs, limits, threads, work) -> Run:
    for sub in ("home", "tmp"):
        (work / sub).mkdir()
    sub_dir = copy_submission(submission, work / "submission", lab.module)
    job_dir = work / "job"
    (job_dir / "in").mkdir(parents=True)
    for chk in checks:
        protocol.dump(inputs[chk.name], job_dir / "in" / chk.name)
    budgets = {c.name: lab.check_budget(c) * limits.time_scale for c in checks}
    log = work / "output.log"
    observations: dict[str, Observation] = {}
    remaining = [c.name for c in checks]
    started_at = time.monotonic()
    starts = 0

    while remaining:
        out_dir = job_dir / "out"
        shutil.rmtree(out_dir, ignore_errors=True)
        (job_dir / "events").unlink(missing_ok=True)
        job = {"assignment_dir": str(lab.assignment_dir), "submission": str(sub_dir),
               "checks": remaining, "threads": threads}
        (job_dir / "job.json").write_text(json.dumps(job))
        starts += 1
        with log.open("ab") as fh:
            proc = subprocess.Popen(
                [sys.executable, "-m", "grader.worker", str(job_dir)],
                cwd=sub_dir, env=_child_env(work, threads), stdin=subprocess.DEVNULL,
                stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_limit_child(limits.max_file_size),
            )
        killed, current, imported = _watch(proc, job_dir / "events", budgets, limits, started_at)

        for name in remaining:
            if (out_dir / f"{name}.json").is_file():
                try:
                    observations[name] = Observation.from_plain(protocol.load(out_dir / name))
                except Exception as exc:  # noqa: BLE001 - the student's process may have written garbage
                    observations[name] = Observation("invalid", message=f"unreadable observation ({exc})")
        remaining = [n for n in remaining if n not in observations]
        if not remaining:
            break
        reason = killed or _exit_reason(proc.returncode)
        if not imported:
            status = "timeout" if killed else "crashed"
            for name in remaining:
                observations[name] = Observation(status, message=f"the grader could not load your code: {reason}")
            break
        if killed == "total":
            for name in remaining:
                observations[name] = Observation("timeout", message="the submission's total time limit ran out before this check")
            break
        name = current if current in remaining else remaining[0]
        if killed:
            observations[name] = Observation("timeout", message=f"took longer than its limit of {budgets[name]:.0f}s", time=budgets[name])
        else:
            observations[name] = Observation("crashed", message=f"the process running your code died during this check: {reason}")
        remaining.remove(name)

    return Run(observations, _tail(log, limits.output_tail), starts,
               {"starts": starts, "wall": round(time.monotonic() - started_at, 3)})


def _watch(proc, events_path: Path, budgets, limits: Limits, started_at: float):
    """Wait for the worker; kill it when a deadline passes.

    Returns ``(killed_reason or None, check running at the end, imported?)``.
    """
    spawned = time.monotonic()
    current, current_since, imported, killed = None, None, False, None
    seen = 0
    while True:
        code = proc.poll()
        events = _read_events(events_path)
        for event in events[seen:]:
            kind = event["event"]
            if kind in ("imported", "import_failed"):
                imported = True
            elif kind == "start":
                current, current_since = event.get("check"), time.monotonic()
            elif kind == "done":
                current, current_since = None, None
        seen = len(events)
        if code is not None:
            break
        now = time.monotonic()
        if now - started_at > limits.total:
            killed = "total"
        elif not imported and now - spawned > limits.startup:
            killed = f"starting took longer than {limits.startup:.0f}s"
        elif current is not None and current in budgets and now - current_since > budgets[current]:
            killed = f"check {current} ran out of time"
        if killed:
            _kill(proc)
            break
        time.sleep(0.05)
    return killed, current, imported


def _kill(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
