"""Running one check's halves: :func:`observe` (with the student's code) and
:func:`judge` (trusted). Both the in-process self-check and the sandboxed
worker use these, so a student sees exactly what the batch grader sees."""

from __future__ import annotations

import dataclasses
import re
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.checks import byhand, describe, parts, schema
from grader.core import protocol
from grader.checks.check import Check, Verdict
from grader.checks.judges import BadObservation
from grader.core.results import CheckResult, Reason, Status


@dataclasses.dataclass
class Observation:
    """What ``observe`` produced: ``status`` is ``ok``, ``todo`` or ``error``
    (the sandbox adds ``timeout``, ``crashed`` and ``invalid``), and, for a
    failure, its ``reason`` where the status does not say it all."""

    status: Status
    value: Any = None
    message: str = ""
    time: float = 0.0
    reason: Reason | None = None
    #: What a ``by_hand`` rule forbids that the code used (see :mod:`grader.checks.byhand`).
    by_hand: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self):
        self.status = Status(self.status)
        self.reason = Reason(self.reason) if self.reason else None

    def to_plain(self) -> dict:
        """Plain data for :func:`grader.core.protocol.dump` (the worker's side)."""
        return {"status": str(self.status), "value": self.value, "message": self.message, "time": self.time,
                "by_hand": self.by_hand, "reason": str(self.reason or "")}

    @classmethod
    def from_plain(cls, data: Any) -> "Observation":
        """What :meth:`to_plain` wrote, read back in the grading process. The
        student's code could have written it: anything unexpected is refused."""
        if not isinstance(data, dict) or data.get("status") not in WORKER_STATUSES:
            return cls(Status.INVALID, message="the worker returned a malformed observation")
        found = data.get("by_hand") or []
        reason = data.get("reason") or None
        if not isinstance(found, list) or (reason is not None and reason not in WORKER_REASONS):
            return cls(Status.INVALID, message="the worker returned a malformed observation")
        return cls(data["status"], data.get("value"), str(data.get("message", ""))[:4000], float(data.get("time") or 0),
                   reason=reason, by_hand=[str(f)[:300] for f in found[:byhand.MAX_FINDINGS]])


#: What an observation written by the worker may say (the rest is the sandbox's to say).
WORKER_STATUSES = (Status.OK, Status.TODO, Status.ERROR)
WORKER_REASONS = (Reason.IMPORT,)


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def clean_message(text: str) -> str:
    """Strip terminal colours and Keras's "Exception encountered when calling
    X.call()" wrapper (with its argument dump) from an exception message."""
    text = ANSI.sub("", text)
    if text.startswith("Exception encountered when calling"):
        body = text.split("\n", 1)[1] if "\n" in text else ""
        body = body.split("Arguments received by", 1)[0]
        text = " ".join(body.split()) or text
    return text.strip()


def describe_exception(exc: BaseException, student_file: str | None = None) -> str:
    """A short, student-facing description: the exception and where in *their*
    file it happened (not the grader's frames)."""
    if isinstance(exc, SystemExit):
        return "your code called sys.exit()/exit(); a graded function must return, not exit"
    if isinstance(exc, KeyboardInterrupt):
        return "your code raised KeyboardInterrupt"
    text = f"{type(exc).__name__}: {clean_message(str(exc))}".strip()
    if isinstance(exc, AttributeError) and getattr(exc, "name", None) and isinstance(getattr(exc, "obj", None), ModuleType):
        text = f"{Path(getattr(exc.obj, '__file__', '') or 'your file').name} does not define `{exc.name}`"
    frames = traceback.extract_tb(exc.__traceback__)
    if student_file:
        mine = [f for f in frames if Path(f.filename).name == Path(student_file).name]
        if mine:
            f = mine[-1]
            text += f"\n  at {Path(f.filename).name} line {f.lineno}, in {f.name}: {(f.line or '').strip()}"
    if isinstance(exc, SyntaxError) and exc.text:
        text += "\n" + _caret(exc.text, exc.offset)
    return text[:2000]


def _caret(line: str, offset: int | None) -> str:
    """The line a syntax error is on, and a caret under where Python stopped reading."""
    line = line.rstrip("\n")
    code = line.lstrip()
    at = max(0, min(len(code), (offset or 1) - 1 - (len(line) - len(code))))
    return f"    {code}\n    {' ' * at}^"


def observe(check: Check, sub: ModuleType, inputs: dict[str, Any], seed: int | None = None) -> Observation:
    """Run ``check.observe`` on the student's module, seeded, catching everything."""
    from grader.device import seed_everything

    seed_everything(check.observe_seed if seed is None else seed)
    start = time.perf_counter()
    found: list[str] = []
    try:
        with byhand.watching(sub, check.by_hand) as watch, parts.student_file(getattr(sub, "__file__", None)):
            value = check.observe(sub, **inputs)
        found = watch.findings()
        value = protocol.to_plain(value)
        status, message = Status.OK, ""
    except NotImplementedError as exc:
        value, status = None, Status.TODO
        detail = clean_message(str(exc))
        message = f"not implemented yet ({detail})" if detail else "not implemented yet"
    except protocol.NotPlainData as exc:
        value, status, message = None, Status.ERROR, f"unusable result: {exc}"
    except BaseException as exc:  # noqa: BLE001 - student code may raise anything, even SystemExit
        value, status = None, Status.ERROR
        message = describe_exception(exc, getattr(sub, "__file__", None))
    return Observation(status, value, message, time.perf_counter() - start, by_hand=found)


def judge(check: Check, obs: Observation, want: Any, secret: dict[str, Any]) -> CheckResult:
    """Judge an observation in the trusted process and build the check's result."""
    result = CheckResult.of(check, time=round(obs.time, 3))
    if obs.status is not Status.OK:
        result.status, result.message, result.reason = obs.status, obs.message, obs.reason
        return result
    if check.by_hand and obs.by_hand:
        result.status, result.message = Status.FAILED, byhand.verdict_message(check.by_hand, obs.by_hand)
        result.reason = Reason.BY_HAND
        return result
    names = describe.producers(check)  # each part of the observation named by the call that returned it
    problems = schema.validate(obs.value, getattr(check, "schema", None), names)
    if problems:
        result.status = Status.INVALID
        result.message = "; ".join(problems)
        result.reason = Reason.SCHEMA
        return result
    failures = parts.failures(obs.value)
    if failures and parts.all_failed(obs.value):
        return _failed_parts(result, failures)
    try:
        verdict = check.judge(obs.value, want, secret)
        if not isinstance(verdict, Verdict):
            verdict = Verdict(float(verdict))
    except Exception as exc:  # noqa: BLE001 - a malformed observation can break any judge
        if failures:  # a judge that needs every part: what failed is the reason
            return _failed_parts(result, failures)
        result.status = Status.INVALID
        result.message = str(exc) if isinstance(exc, BadObservation) else \
            f"the grader could not read your result ({type(exc).__name__}: {exc})"
        return result
    result.score = round(check.points * verdict.fraction, 6)
    result.message = verdict.message
    result.extra.update(verdict.extra)
    result.status = Status.PASSED if verdict.passed else (Status.PARTIAL if verdict.fraction > 0 else Status.FAILED)
    note = "" if verdict.passed else schema.non_finite_note(obs.value, names)
    if note and "NaN" not in result.message:
        result.message = f"{result.message} ({note})" if result.message else note
    if check.kind == "training" and (curves := schema.curves(obs.value)):
        result.extra["curves"] = curves
    return result


def _failed_parts(result: CheckResult, failures: list[dict[str, str]]) -> CheckResult:
    """A check no part of which could be scored: ``todo`` when every failed
    part is not implemented yet, else ``error``; the message lists each
    reason once."""
    todo = all(f[parts.MARKER] == parts.TODO for f in failures)
    result.status = Status.TODO if todo else Status.ERROR
    result.message = "; ".join(dict.fromkeys(f["message"] for f in failures))[:4000]
    return result
