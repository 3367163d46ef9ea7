"""Grading one submission: inputs and judging here, observing there.

* :func:`self_check` runs everything in this process against the student's
  own module (what ``grader check`` and the bundle's ``pytest`` do).
* :func:`grade` runs *observe* in a sandboxed child (:mod:`grader.sandbox`)
  and *judge* here, so nothing the submission does can forge its verdict.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Callable, ContextManager, Iterable

from grader.labs import fixtures
from grader.core import runner
from grader import sandbox
from grader.checks.check import OPTIONAL, PUBLIC, Check, Inputs
from grader.labs.lab import Lab, load_submission
from grader.core.results import CheckResult, Result


def select(lab: Lab, *, visibility: str | None = None, names: Iterable[str] | None = None) -> list[Check]:
    """The lab's checks, filtered by visibility and/or an explicit list of
    names (an optional check is graded when named, or with its visibility)."""
    checks = lab.checks(visibility)
    if names is not None:
        wanted = list(names)
        if visibility is None:
            checks = checks + lab.checks(OPTIONAL)
        unknown = set(wanted) - {c.name for c in checks}
        if unknown:
            raise KeyError(f"unknown check(s) for {lab.id}: {', '.join(sorted(unknown))}")
        checks = [c for c in checks if c.name in wanted]
    return checks


def prepare_inputs(checks: list[Check]) -> tuple[dict[str, Inputs], dict[str, str]]:
    """Each check's inputs, and a message for each check whose inputs could not
    be made here (a data set missing on the grading machine, say): such a
    check is reported as skipped, and the others are still graded."""
    made, missing = {}, {}
    for chk in checks:
        try:
            made[chk.name] = chk.make_inputs()
        except Exception as exc:  # noqa: BLE001 - trusted code, but one missing data set must not stop the rest
            missing[chk.name] = f"the grader could not prepare this check's inputs: {type(exc).__name__}: {exc}"
    return made, missing


def _skipped(chk: Check, message: str) -> CheckResult:
    return CheckResult(chk.name, chk.title, chk.points, chk.visibility, chk.kind, status="skipped", message=message)


def _observers(lab: Lab, checks: list[Check]) -> dict[str, Check]:
    """What observes each check here: the check itself when public, else
    the observe-only code the sandbox would run (:mod:`grader.labs.anatomy`), so
    a check that reads a setting or a private helper while observing fails
    here as it would in the sandbox."""
    from grader.labs import anatomy

    sources = anatomy.observe_sources(lab, checks)
    if not sources:
        return {c.name: c for c in checks}
    lab.check_module(PUBLIC)  # the package the observe-only code imports from
    hidden = anatomy.load_observe_checks(lab.package, sources, [], [c.name for c in checks if c.visibility != PUBLIC])
    return {c.name: hidden.get(c.name, c) for c in checks}


def _submission_name(path: Path) -> str:
    return path.stem if path.is_file() else path.name


def self_check(lab: Lab, path: Path | str, *, visibility: str | None = PUBLIC,
               names: Iterable[str] | None = None, alias: str | None = None,
               around: Callable[[Check], ContextManager] | None = None) -> Result:
    """Run checks in this process (TensorFlow imported here once). ``around``
    (the kit's tooling: :mod:`grader.quality.tracing`) is entered while each check observes."""
    from grader.device import configure

    path = Path(path)
    info = configure()
    checks = select(lab, visibility=visibility, names=names)
    want = fixtures.expected_for(lab, checks)
    start = time.perf_counter()
    try:
        sub = load_submission(path, lab.module, alias=alias)
    except BaseException as exc:  # noqa: BLE001 - report, don't crash
        message = f"{lab.filename} could not be imported: {runner.describe_exception(exc, lab.filename)}"
        results = [runner.judge(c, runner.Observation("error", message=message), None, {}) for c in checks]
        return Result(lab.id, _submission_name(path), results, time.perf_counter() - start, {"mode": "in-process", **info})
    made_all, missing = prepare_inputs(checks)
    observers = _observers(lab, checks)
    results = []
    for chk in checks:
        if chk.name in missing:
            results.append(_skipped(chk, missing[chk.name]))
            continue
        made = made_all[chk.name]
        with around(chk) if around else contextlib.nullcontext():
            obs = runner.observe(observers[chk.name], sub, made.public, seed=chk.observe_seed)
        if obs.status == "ok":
            from grader.core.protocol import roundtrip

            obs.value = roundtrip(obs.value)
        results.append(runner.judge(chk, obs, want.get(chk.name), made.secret))
    return Result(lab.id, _submission_name(path), results, time.perf_counter() - start, {"mode": "in-process", **info})


def grade(lab: Lab, path: Path | str, *, visibility: str | None = None, names: Iterable[str] | None = None,
          limits: sandbox.Limits | None = None, threads: int | None = None) -> Result:
    """Grade one submission: observe in a child process, judge here."""
    path = Path(path)
    checks = select(lab, visibility=visibility, names=names)
    want = fixtures.expected_for(lab, checks)
    start = time.perf_counter()
    made, missing = prepare_inputs(checks)
    if not (path.is_dir() and (path / lab.filename).is_file()) and not (path.is_file() and path.suffix == ".py"):
        message = f"no {lab.filename} found in the submission {path.name}"
        results = [runner.judge(c, runner.Observation("error", message=message), None, {}) for c in checks]
        return Result(lab.id, _submission_name(path), results, time.perf_counter() - start, {"mode": "sandbox"})
    runnable = [c for c in checks if c.name not in missing]
    run = sandbox.observe(lab, path, runnable, {n: m.public for n, m in made.items()}, limits=limits, threads=threads)
    results = [_skipped(c, missing[c.name]) if c.name in missing
               else runner.judge(c, run.observations[c.name], want.get(c.name), made[c.name].secret) for c in checks]
    info = {"mode": "sandbox", **run.info, "output": run.output}
    return Result(lab.id, _submission_name(path), results, time.perf_counter() - start, info)
