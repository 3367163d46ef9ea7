"""The observing process: ``python -m grader.sandbox.worker JOBDIR``.

Runs *inside* the sandbox (:mod:`grader.sandbox`) with the student's code.
It imports TensorFlow once, imports the submission, then runs each
requested check's ``observe`` and writes the plain-data observation to
``OUT/<check>.{json,npz}``. It never judges and never sees expected values
or labels. Progress events go to the events file so the parent can enforce
per-check time limits; ``ready`` is written *before* the student's code is
imported, so the parent can tell a sandbox that failed to start (the
grader's problem) from a submission that failed to load (the student's).

``JOBDIR/job.json`` holds: ``module`` (the student's module name),
``checks_dir`` (the lab's shipped check files: ``__init__.py``,
``common.py``, ``public.py``), ``submission`` (the folder holding the
student's module), ``checks`` (``{"name", "visibility", "seed"}`` for each
check to observe, in order), ``threads``, and optionally ``out`` and
``events`` (default ``JOBDIR/out`` and ``JOBDIR/events``) and ``rlimits``
(``{"FSIZE": bytes, ...}``, applied before the student's code runs, when
no jail did it already). ``JOBDIR/in/<check>.{json,npz}`` are the inputs.

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


def main(jobdir: str) -> int:
    job_dir = Path(jobdir).resolve()
    job = json.loads((job_dir / "job.json").read_text())
    sources = _read_sources()
    events = Path(job.get("events") or job_dir / "events")
    out = Path(job.get("out") or job_dir / "out")
    out.mkdir(exist_ok=True)
    _apply_rlimits(job.get("rlimits") or {})

    from grader.labs import anatomy
    from grader.core import protocol, runner
    from grader.device import configure
    from grader.labs.lab import load_submission

    configure(threads=job.get("threads"))
    package = "_dlkit_checks"
    _import_checks_package(Path(job["checks_dir"]), package)
    wanted = job["checks"]
    checks = anatomy.load_observe_checks(package, sources, [c["name"] for c in wanted if c["visibility"] == "public"],
                                         [c["name"] for c in wanted])
    del sources
    filename = f"{job['module']}.py"
    _emit(events, "ready")

    try:
        sub = load_submission(job["submission"], job["module"])
    except BaseException as exc:  # noqa: BLE001 - a broken submission must not kill the grader
        message = f"{filename} could not be imported: {runner.describe_exception(exc, filename)}"
        for item in wanted:
            protocol.dump(runner.Observation("error", message=message).to_plain(), out / item["name"])
        _emit(events, "import_failed", message=message[:2000])
        return 0
    _emit(events, "imported")

    for item in wanted:
        name = item["name"]
        inputs = protocol.load(job_dir / "in" / name)
        _emit(events, "start", check=name)
        obs = runner.observe(checks[name], sub, inputs, seed=item["seed"])
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
