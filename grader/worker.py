"""The observing process: ``python -m grader.worker JOBDIR``.

Runs *inside* the sandbox (:mod:`grader.sandbox`) with the student's code.
It imports TensorFlow once, imports the submission, then runs each
requested check's ``observe`` and writes the plain-data observation to
``OUT/<check>.{json,npz}``. It never judges and never sees expected values
or labels. Progress events go to the events file so the parent can enforce
per-check time limits; ``ready`` is written *before* the student's code is
imported, so the parent can tell a sandbox that failed to start (the
grader's problem) from a submission that failed to load (the student's).

``JOBDIR/job.json`` holds: ``assignment_dir`` (the lab's ``lab.toml`` and
``checks/``), ``submission`` (the folder holding the student's module),
``checks`` (names, in order), ``threads``, and optionally ``out`` and
``events`` (default ``JOBDIR/out`` and ``JOBDIR/events``) and ``rlimits``
(``{"FSIZE": bytes, ...}``, applied before the student's code runs, when
no jail did it already).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def _emit(events: Path, event: str, **fields) -> None:
    line = json.dumps({"event": event, "t": time.time(), **fields})
    with events.open("a") as fh:
        fh.write(line + "\n")
        fh.flush()


def _apply_rlimits(limits: dict) -> None:
    import resource

    for name, value in limits.items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))


def main(jobdir: str) -> int:
    job_dir = Path(jobdir).resolve()
    job = json.loads((job_dir / "job.json").read_text())
    events = Path(job.get("events") or job_dir / "events")
    out = Path(job.get("out") or job_dir / "out")
    out.mkdir(exist_ok=True)
    _apply_rlimits(job.get("rlimits") or {})

    from . import protocol, runner
    from .device import configure
    from .lab import Lab, load_submission

    configure(threads=job.get("threads"))
    lab = Lab.load(job["assignment_dir"])
    checks = {c.name: c for c in lab.checks()}
    _emit(events, "ready")

    try:
        sub = load_submission(job["submission"], lab.module)
    except BaseException as exc:  # noqa: BLE001 - a broken submission must not kill the grader
        message = f"{lab.filename} could not be imported: {runner.describe_exception(exc, lab.filename)}"
        for name in job["checks"]:
            protocol.dump(runner.Observation("error", message=message).to_plain(), out / name)
        _emit(events, "import_failed", message=message[:2000])
        return 0
    _emit(events, "imported")

    for name in job["checks"]:
        check = checks[name]
        inputs = protocol.load(job_dir / "in" / name)
        _emit(events, "start", check=name)
        obs = runner.observe(check, sub, inputs)
        try:
            protocol.dump(obs.to_plain(), out / name)
        except protocol.NotPlainData as exc:
            protocol.dump(runner.Observation("error", message=f"unusable result: {exc}", time=obs.time).to_plain(), out / name)
        _emit(events, "done", check=name)
    _emit(events, "finished")
    return 0


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    # os._exit skips interpreter teardown: a submission's atexit hooks or
    # lingering threads cannot change the outcome after the last check.
    code = main(sys.argv[1])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
