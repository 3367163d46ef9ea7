"""The observing process: ``python -m grader.sandbox.worker JOBDIR``.

Runs *inside* the sandbox (:mod:`grader.sandbox`) with the student's code.
It imports TensorFlow once, imports the submission, then runs each
requested check's ``observe`` and writes the plain-data observation to
``OUT/<check>.{json,npz}``. It never judges and never sees expected values
or labels. Progress events go to the events file so the parent can enforce
per-check time limits; ``ready`` is written *before* the student's code is
imported, so the parent can tell a sandbox that failed to start (the
grader's problem) from a submission that failed to load (the student's).

``JOBDIR/job.json`` is a :class:`grader.sandbox.job.Job` (the student's
module, the shipped check files, the submission, the inputs, where to
write observations and events, the checks to observe in order, threads and
resource limits); the events it writes are :class:`grader.sandbox.job.Event`
lines. Both formats are defined there, once, for this writer and the
parent's reader.

The observe-only source of the hidden and optional checks it runs
(:func:`grader.labs.anatomy.observe_source`) arrives on standard input, as JSON
``{"sources": {visibility: source}}``, and is read to the end before the
student's code is imported: it never exists as a file the student's code
could open. The worker imports only the checks it is asked to observe;
no ``lab.toml``, setting, salt, fixture or ``judge`` reaches it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from grader.sandbox.job import DONE, FINISHED, IMPORT_FAILED, IMPORTED, READY, START, Event, Job


def _emit(events: Path, kind: str, **fields) -> None:
    with events.open("a") as fh:
        fh.write(Event.now(kind, **fields).to_line() + "\n")
        fh.flush()


def _apply_rlimits(limits: dict) -> None:
    import resource

    for name, value in limits.items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))


def _read_sources() -> dict[str, str]:
    """The observe-only check sources sent on stdin; stdin is then /dev/null."""
    data = sys.stdin.buffer.read()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    return json.loads(data).get("sources", {}) if data.strip() else {}


def _import_checks_package(folder: Path, package: str) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(package, folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    spec.loader.exec_module(module)


def _write(obs, stem: Path) -> None:
    """Write an observation as plain data. Its value is plain already
    (:func:`grader.core.runner.observe` converted it), so only the other
    fields go through :func:`~grader.core.protocol.to_plain` here: the
    arrays are converted once. Raises ``NotPlainData`` as ``dump`` would."""
    from grader.core import protocol

    record = obs.to_plain()
    protocol.to_plain({k: v for k, v in record.items() if k != "value"})
    protocol.dump(record, stem, plain=True)


def main(jobdir: str) -> int:
    job_dir = Path(jobdir).resolve()
    job = Job.read(job_dir / "job.json")
    sources = _read_sources()
    events = Path(job.events)
    out = Path(job.out)
    out.mkdir(exist_ok=True)
    _apply_rlimits(job.rlimits)

    from grader.labs import anatomy
    from grader.core import protocol, runner
    from grader.core.results import Reason, Status
    from grader.device import configure
    from grader.labs.lab import load_submission

    configure(threads=job.threads)
    package = "_dlkit_checks"
    _import_checks_package(Path(job.checks_dir), package)
    from grader.study.check import observers as kit_observers

    # The kit's own checks (the study's): not in the lab's files, and the only ones given inputs of their own.
    kit = kit_observers([c.name for c in job.checks if c.inputs is not None])
    checks = anatomy.load_observe_checks(package, sources, [c.name for c in job.checks
                                                            if c.visibility == "public" and c.name not in kit],
                                         [c.name for c in job.checks if c.name not in kit])
    checks.update(kit)
    del sources
    filename = f"{job.module}.py"
    _emit(events, READY)

    try:
        sub = load_submission(job.submission, job.module)
    except BaseException as exc:  # noqa: BLE001 - a broken submission must not kill the grader
        message = f"{filename} could not be imported: {runner.describe_exception(exc, filename)}"
        for item in job.checks:
            _write(runner.Observation(Status.ERROR, message=message, reason=Reason.IMPORT), out / item.name)
        _emit(events, IMPORT_FAILED, message=message[:2000], error=type(exc).__name__)
        return 0
    _emit(events, IMPORTED)

    for item in job.checks:
        inputs = item.inputs if item.inputs is not None else protocol.load(Path(job.inputs) / item.name)
        _emit(events, START, check=item.name)
        obs = runner.observe(checks[item.name], sub, inputs, seed=item.seed)
        try:
            _write(obs, out / item.name)
        except protocol.NotPlainData as exc:
            _write(runner.Observation(Status.ERROR, message=f"unusable result: {exc}", time=obs.time), out / item.name)
        _emit(events, DONE, check=item.name)
    _emit(events, FINISHED)
    return 0


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    # os._exit skips interpreter teardown: a submission's atexit hooks or
    # lingering threads cannot change the outcome after the last check.
    code = main(sys.argv[1])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
