"""Grading one submission: inputs and judging here, observing there.

* :func:`self_check` runs everything in this process against the student's
  own module (what ``grader check`` and the bundle's ``pytest`` do).
* :func:`grade` runs *observe* in a sandboxed child (:mod:`grader.sandbox`)
  and *judge* here, so nothing the submission does can forge its verdict.
* :func:`prepare` does, once, what does not depend on the submission (the
  selected checks, the expected observations, every check's inputs, and
  on disk the runtime and inputs the sandbox reads): a batch prepares once
  and passes the :class:`Prepared` plan to :func:`grade` for every
  submission; :func:`grade` alone prepares for the one submission.
* :func:`submission_inputs` makes, per submission and on this side, the
  inputs of a check that defines ``inputs_for(folder, rng)`` (the lab's
  ``study`` check, :mod:`grader.study.check`: the rows of the handed-in
  table to re-run); only their public half enters the sandbox, in
  ``job.json``.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterable

from grader.labs import fixtures
from grader.core import runner
from grader import sandbox
from grader.checks.check import OPTIONAL, PUBLIC, Check, Inputs
from grader.labs.lab import Lab, load_submission
from grader.core.results import CheckResult, Reason, Result, Status
from grader.study.check import study_check


def select(lab: Lab, *, visibility: str | None = None, names: Iterable[str] | None = None) -> list[Check]:
    """The lab's checks, filtered by visibility and/or an explicit list of
    names (an optional check is graded when named, or with its visibility)."""
    checks = lab.checks(visibility)
    if visibility in (None, PUBLIC) and (study := study_check(lab)) is not None:
        if any(c.name == study.name for c in checks):
            raise KeyError(f"{lab.id} has a [study], so no check of its own may be named {study.name!r}")
        checks = checks + [study]
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


def submission_inputs(lab: Lab, checks: list[Check], path: Path) -> tuple[dict[str, Inputs], dict[str, str]]:
    """The inputs of the checks whose inputs depend on the submission (those
    defining ``inputs_for(folder, rng)``: the study's drawn rows), made here,
    on the trusted side, for the submission at ``path``; and a message for
    each that could not be made. ``rng`` is seeded from the check's salted
    seed and the submission's content: stable for one submission, different
    for another, and unknowable without the salt."""
    import numpy as np

    from grader.files import files_digest

    folder = path if path.is_dir() else path.parent
    own = [c for c in checks if callable(getattr(c, "inputs_for", None))]
    if not own:
        return {}, {}
    # The submission's content: the files it handed in next to its module (links not followed).
    files = sorted((p.name, p) for p in folder.iterdir() if p.is_file() and not p.is_symlink()) \
        if path.is_dir() else [(path.name, path)]
    digest = files_digest(files, header=lab.id)
    made, missing = {}, {}
    for chk in own:
        try:
            made[chk.name] = chk.inputs_for(folder, np.random.default_rng(chk._derive(f"submission/{digest}")))
        except Exception as exc:  # noqa: BLE001 - trusted code; the other checks are still graded
            missing[chk.name] = f"the grader could not prepare this check's inputs: {type(exc).__name__}: {exc}"
    return made, missing


def _skipped(chk: Check, message: str) -> CheckResult:
    return CheckResult.of(chk, status=Status.SKIPPED, message=message)


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
    from grader.device import configure, keras_settings_kept

    path = Path(path)
    info = configure()
    with keras_settings_kept():
        return _self_check(lab, path, info, visibility=visibility, names=names, alias=alias, around=around)


def _self_check(lab, path, info, *, visibility, names, alias, around) -> Result:
    checks = select(lab, visibility=visibility, names=names)
    want = fixtures.expected_for(lab, checks)
    start = time.perf_counter()
    try:
        sub = load_submission(path, lab.module, alias=alias)
    except BaseException as exc:  # noqa: BLE001 - report, don't crash
        message = f"{lab.filename} could not be imported: {runner.describe_exception(exc, lab.filename)}"
        return Result.all_failed(lab.id, _submission_name(path), checks, message, reason=Reason.IMPORT,
                                 time=time.perf_counter() - start, info={"mode": "in-process", **info})
    made_all, missing = prepare_inputs(checks)
    own, own_missing = submission_inputs(lab, checks, path)
    made_all.update(own)
    missing.update(own_missing)
    observers = _observers(lab, checks)
    results = []
    for chk in checks:
        if chk.name in missing:
            results.append(_skipped(chk, missing[chk.name]))
            continue
        made = made_all[chk.name]
        with around(chk) if around else contextlib.nullcontext():
            obs = runner.observe(observers[chk.name], sub, made.public, seed=chk.observe_seed)
        if obs.status is Status.OK:
            from grader.core.protocol import roundtrip

            obs.value = roundtrip(obs.value)
        results.append(runner.judge(chk, obs, want.get(chk.name), made.secret))
    return Result(lab.id, _submission_name(path), results, time.perf_counter() - start, {"mode": "in-process", **info})


class Prepared:
    """What grading ``lab`` needs besides a submission, made once by
    :func:`prepare` and shared (read-only, across threads) by every
    :func:`grade` given it.

    Attributes: ``lab``; ``checks``, the selected checks in grading order;
    ``want``, the expected observations (fixtures); ``inputs``, each check's
    made :class:`~grader.checks.check.Inputs`; ``missing``, a message for each
    check whose inputs could not be made here (graded ``skipped``). On disk,
    the runtime and public inputs every sandbox reads
    (:class:`grader.sandbox.SharedFiles`, made on the first sandboxed grade,
    in ``limits.scratch``): :meth:`close` removes them (a ``with`` block does too).
    """

    def __init__(self, lab: Lab, checks: list[Check], want: dict[str, Any], inputs: dict[str, Inputs],
                 missing: dict[str, str], limits: sandbox.Limits | None = None):
        self.lab, self.checks, self.want, self.inputs, self.missing = lab, checks, want, inputs, missing
        self.scratch = limits.scratch if limits is not None else None
        self._files: sandbox.SharedFiles | None = None
        self._lock = threading.Lock()

    @property
    def runnable(self) -> list[Check]:
        """The checks the sandbox observes: those whose inputs could be made."""
        return [c for c in self.checks if c.name not in self.missing]

    def shared_files(self) -> sandbox.SharedFiles:
        """The runtime and public inputs on disk, written on first use."""
        with self._lock:
            if self._files is None:
                self._files = sandbox.SharedFiles(self.lab, self.runnable,
                                                  {n: m.public for n, m in self.inputs.items()}, scratch=self.scratch)
            return self._files

    def judge(self, chk: Check, obs: runner.Observation, inputs: Inputs | None = None) -> CheckResult:
        """Judge one observation against this plan's expected value and secret
        (``inputs``: the submission's own, for a check that has them).
        They are copied first: a judge that changed them in place must not
        change the next submission's verdict."""
        want, secret = copy.deepcopy((self.want.get(chk.name), (inputs or self.inputs[chk.name]).secret))
        return runner.judge(chk, obs, want, secret)

    def close(self) -> None:
        """Remove the files on disk (again: nothing happens)."""
        with self._lock:
            if self._files is not None:
                self._files.close()
                self._files = None

    def __enter__(self) -> "Prepared":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def prepare(lab: Lab, *, visibility: str | None = None, names: Iterable[str] | None = None,
            limits: sandbox.Limits | None = None) -> Prepared:
    """Everything :func:`grade` needs besides the submission, for the checks
    :func:`select` picks. ``limits`` (give the ones you grade with) says
    where the files the sandbox reads are written (``limits.scratch``).
    Raises ``KeyError`` for an unknown check name and
    :class:`~grader.labs.fixtures.FixtureError` when fixtures are missing."""
    checks = select(lab, visibility=visibility, names=names)
    want = fixtures.expected_for(lab, checks)
    made, missing = prepare_inputs(checks)
    return Prepared(lab, checks, want, made, missing, limits)


def grade(lab: Lab, path: Path | str, *, visibility: str | None = None, names: Iterable[str] | None = None,
          limits: sandbox.Limits | None = None, threads: int | None = None,
          prepared: Prepared | None = None) -> Result:
    """Grade one submission: observe in a child process, judge here.
    ``prepared`` (from :func:`prepare`, for this lab) brings the checks,
    expected values and inputs; without it they are made here for this
    submission alone (``visibility``/``names`` select the checks; with a
    plan, the plan's selection holds and they must be left out)."""
    if prepared is None:
        checks = select(lab, visibility=visibility, names=names)
        want = fixtures.expected_for(lab, checks)
        start = time.perf_counter()
        made, missing = prepare_inputs(checks)
        with Prepared(lab, checks, want, made, missing, limits) as plan:
            return _grade(plan, Path(path), limits, threads, start)
    if prepared.lab is not lab:
        raise ValueError(f"the plan was prepared for {prepared.lab.id}, not for this {lab.id}")
    if visibility is not None or names is not None:
        raise ValueError("grade(prepared=...) grades the plan's checks: leave visibility and names out")
    return _grade(prepared, Path(path), limits, threads, time.perf_counter())


def _grade(plan: Prepared, path: Path, limits: sandbox.Limits | None, threads: int | None, start: float) -> Result:
    lab = plan.lab
    if not (path.is_dir() and (path / lab.filename).is_file()) and not (path.is_file() and path.suffix == ".py"):
        message = f"no {lab.filename} found in the submission {path.name}"
        return Result.all_failed(lab.id, _submission_name(path), plan.checks, message,
                                 time=time.perf_counter() - start, info={"mode": "sandbox"})
    own, own_missing = submission_inputs(lab, plan.runnable, path)
    missing = {**plan.missing, **own_missing}
    # Only the public half of a submission's own inputs enters the box (the study's rows, never their claims).
    public = {c.name: (own.get(c.name) or plan.inputs[c.name]).public for c in plan.runnable
              if callable(getattr(c, "inputs_for", None))}
    run = sandbox.observe(lab, path, plan.shared_files(), limits=limits, threads=threads, inputs=public)
    results = [_skipped(c, missing[c.name]) if c.name in missing
               else plan.judge(c, run.observations[c.name], own.get(c.name)) for c in plan.checks]
    return Result(lab.id, _submission_name(path), results, time.perf_counter() - start, run.info)
