"""Observing one submission: start workers until every check is observed.

:func:`observe` makes the submission's work folder
(:mod:`grader.sandbox.workdir`), builds the command for the isolation level
(:mod:`grader.sandbox.levels`, :mod:`grader.sandbox.launch`), and starts
``python -m grader.sandbox.worker`` with a :class:`~grader.sandbox.job.Job`
for the checks that remain. It watches each start
(:func:`grader.sandbox.watch.watch`), reads back the observations
(:mod:`grader.sandbox.readback`), and turns how a worker ended into the
observation of the check it was running: a crash, a hang or an exit costs
that check only, and a fresh worker (in a fresh box) takes the rest.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from grader.core.results import Reason, RunInfo, RunMode, Status
from grader.core.runner import Observation
from grader.labs.lab import Lab
from grader.sandbox import job as jobfile
from grader.sandbox.launch import (JAIL_BOX, JAIL_FAILED, JAIL_INPUTS, JAIL_JOB, JAIL_LIB, child_env, jail_command,
                                   jail_spec, pdeathsig, uid_command)
from grader.sandbox.levels import describe, isolation
from grader.sandbox.limits import Cancelled, Limits, SandboxError
from grader.sandbox.readback import Output, load_observation
from grader.sandbox.shared import SharedFiles
from grader.sandbox.users import allocate_uid, lock_down, release_uid
from grader.sandbox.watch import EventLog, Watchdog, WorkerEnd, exit_reason, watch
from grader.sandbox.workdir import PREFIX, claim, clear_folder, fresh_box, make_layout


@dataclasses.dataclass
class Run:
    """Everything the observing process produced for one submission."""

    #: One observation per check (name → observation).
    observations: dict[str, Observation]
    #: How it ran (mode ``sandbox``): worker starts (1, plus one per crash or
    #: time-out that left checks to do), wall seconds, isolation level, peak
    #: memory and processes, the sandbox's user id, and what it printed
    #: (``output``: head and tail).
    info: RunInfo


def observe(lab: Lab, submission: Path, shared: SharedFiles, *, limits: Limits | None = None,
            threads: int | None = None, inputs: dict[str, dict] | None = None) -> Run:
    """Run ``observe`` for ``shared.checks`` on ``submission`` (a ``.py`` file
    or a folder) in sandboxed child processes, with the runtime and inputs
    of ``shared``; ``inputs`` (check name → plain public inputs) replaces a
    check's batch inputs for this submission alone (sent in ``job.json``).
    Raises :class:`SandboxError` when the sandbox itself fails,
    :class:`Cancelled` when ``limits.cancel`` is set."""
    limits = limits or Limits()
    level = isolation(limits.isolation)
    uid = None
    if level in ("root-jail", "uid"):
        uid = limits.uid if limits.uid is not None else allocate_uid()
    scratch = limits.scratch
    if scratch is not None:
        Path(scratch).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=PREFIX, dir=scratch))
    try:
        claim(work)
        return _observe(lab, Path(submission), shared, limits, threads, work, level, uid, inputs or {})
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if uid is not None and limits.uid is None:
            release_uid(uid)


def _observe(lab: Lab, submission: Path, shared: SharedFiles, limits: Limits, threads: int | None, work: Path,
             level: str, uid: int | None, own: dict[str, dict]) -> Run:
    make_layout(work, uid)
    jailed = level in ("root-jail", "userns-jail")
    if jailed:
        paths = {"lib": JAIL_LIB, "job": JAIL_JOB, "inputs": JAIL_INPUTS, "box": JAIL_BOX}
    elif level == "uid":
        paths = {"lib": str(shared.lib), "job": str(work / "job"), "inputs": str(shared.inputs_dir),
                 "box": str(work / "box")}
    else:
        shared.copy_into(work / "lib", work / "job" / "in")
        paths = {"lib": str(work / "lib"), "job": str(work / "job"), "inputs": str(work / "job" / "in"),
                 "box": str(work / "box")}
    env = child_env(f"{paths['box']}/home", "/tmp" if jailed else str(work / "box" / "tmp"), paths["lib"],
                    threads, level)
    argv = [sys.executable, "-s", "-P", "-m", "grader.sandbox.worker", paths["job"]]
    if jailed:
        command = jail_command(level, jail_spec(work, uid, argv, env, limits, lib=shared.lib,
                                                inputs=shared.inputs_dir))
    elif level == "uid":
        lock_down([Path(submission), *limits.protect], work, shared.folder)
        command = uid_command(uid, argv)
    else:
        command = pdeathsig() + argv
    rlimits = {} if jailed else {"CORE": 0, "FSIZE": limits.max_file_size}
    if level == "uid":
        rlimits["NPROC"] = limits.max_tasks

    checks = shared.checks
    budgets = {c.name: lab.check_budget(c) * limits.time_scale for c in checks}
    output = Output(limits.output_tail)
    box_fd = os.open(work / "box", os.O_RDONLY | os.O_DIRECTORY)
    out_fd = os.open("out", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=box_fd)
    events = EventLog(box_fd)
    observations: dict[str, Observation] = {}
    by_name = {c.name: c for c in checks}
    remaining = [c.name for c in checks]
    started_at = time.monotonic()
    starts, peak_rss, peak_processes = 0, 0, 0
    import_error = None
    # The study's table stays outside: code that read it could echo the claims back.
    withhold = (lab.study.table,) if lab.study is not None else ()
    try:
        while remaining:
            fresh_box(work, submission, lab.module, uid, withhold)
            clear_folder(out_fd)
            events.reset()
            job = jobfile.Job(
                module=lab.module, checks_dir=f"{paths['lib']}/lab/checks", submission=f"{paths['box']}/submission",
                inputs=paths["inputs"], out=f"{paths['box']}/out", events=f"{paths['box']}/events",
                threads=threads, rlimits=rlimits,
                checks=tuple(jobfile.JobCheck(n, by_name[n].visibility, by_name[n].observe_seed, own.get(n))
                            for n in remaining))
            (work / "job" / "job.json").write_text(job.to_json())
            starts += 1
            read_fd, write_fd = os.pipe()
            try:
                proc = subprocess.Popen(command, cwd=work / "box" / "submission", env=env,
                                        stdin=subprocess.PIPE, stdout=write_fd, stderr=write_fd,
                                        start_new_session=True)
            finally:
                os.close(write_fd)
            _send(proc, shared.payload)
            reader = output.pump(read_fd)
            dog = Watchdog(proc.pid, wrapped=jailed)
            deadline = limits.startup + sum(budgets[n] for n in remaining) + 10
            end = watch(proc, dog, events, budgets, limits, started_at, deadline, work / "box")
            reader.join(timeout=10)
            peak_rss, peak_processes = max(peak_rss, dog.peak_rss), max(peak_processes, dog.peak_processes)
            if end.cancelled:
                raise Cancelled("grading was stopped")
            import_error = end.import_error or import_error

            for name in remaining:
                obs = load_observation(out_fd, name)
                if obs is not None:
                    observations[name] = obs
            remaining = [n for n in remaining if n not in observations]
            if not remaining:
                break
            lost = _lost(end, proc.returncode, remaining, budgets, output)
            observations.update(lost)
            remaining = [n for n in remaining if n not in lost]
    finally:
        os.close(out_fd)
        os.close(box_fd)

    info = RunInfo(mode=RunMode.SANDBOX, starts=starts, wall=round(time.monotonic() - started_at, 3),
                   isolation=level, isolation_detail=describe(level), peak_rss=peak_rss,
                   peak_processes=peak_processes, output_bytes=output.total, output_truncated=output.dropped > 0,
                   uid=uid, output=output.text(), import_error=import_error)
    return Run(observations, info)


def _lost(end: WorkerEnd, returncode: int | None, remaining: list[str], budgets: dict[str, float],
          output: Output) -> dict[str, Observation]:
    """The observations a worker that ended early cost: every remaining
    check when the code could not be loaded or the submission's time ran
    out, else only the check that was running (the rest get a new worker)."""
    kind, reason = end.killed or exit_reason(returncode)
    if not end.ready:
        # No student code runs before "ready": this is the grader's
        # (or the machine's) problem, not the submission's.
        why = "the jail could not be built" if returncode == JAIL_FAILED else reason
        raise SandboxError(f"the sandbox could not start the worker ({why}): {output.text().strip()[-500:]}")
    if not end.imported:
        status = Status.TIMEOUT if kind is Reason.TIMEOUT else Status.CRASHED
        return {name: Observation(status, message=f"the grader could not load your code: {reason}",
                                  reason=Reason.IMPORT) for name in remaining}
    if end.total:
        return {name: Observation(Status.TIMEOUT, message="the submission's total time limit ran out before this check",
                                  reason=Reason.TOTAL) for name in remaining}
    name = end.current if end.current in remaining else remaining[0]
    if kind is Reason.TIMEOUT:
        return {name: Observation(Status.TIMEOUT, message=f"took longer than its limit of {budgets[name]:.0f}s",
                                  time=budgets[name], reason=Reason.TIMEOUT)}
    if kind in (Reason.MEMORY, Reason.PROCESSES, Reason.DISK, Reason.JOB):
        return {name: Observation(Status.CRASHED, message=reason, reason=kind)}
    return {name: Observation(Status.CRASHED, reason=kind,
                              message=f"the process running your code died during this check: {reason}")}


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
