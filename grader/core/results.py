"""Results of grading, and the words they are told in.

* :class:`Status`: how one check ended; :class:`Reason`: why it failed, when
  the status alone does not say (a time limit, the memory limit, an input
  that could not be staged, …); :class:`RowStatus` and :class:`RosterFlag`:
  a batch row's state and its standing on the roster; :class:`RunMode`: how a
  submission was run. All are ``StrEnum``s: a member *is* its string, so
  JSON, CSV and templates show exactly the words they always showed, and a
  value read back from JSON compares equal to its member.
* :class:`CheckResult` (one check), :class:`RunInfo` (how the submission
  was run and recorded) and :class:`Result` (one submission), serialisable as
  JSON; :meth:`Result.all_failed` for a submission no check could run on;
  :class:`Row`, one line of a batch's class reports.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol


class Status(enum.StrEnum):
    """How a check ended (``OK`` only for an observation not judged yet)."""

    PASSED = "passed"
    PARTIAL = "partial"
    FAILED = "failed"
    TODO = "todo"
    ERROR = "error"
    INVALID = "invalid"
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    SKIPPED = "skipped"
    #: An observation that ran to its end; :func:`grader.core.runner.judge` turns it into one of the above.
    OK = "ok"

    @property
    def text(self) -> str:
        """What the status means to a student."""
        return STATUS_TEXT[self]


#: Each check status in a student's words.
STATUS_TEXT = {
    Status.PASSED: "passed",
    Status.PARTIAL: "partly right",
    Status.FAILED: "wrong result",
    Status.TODO: "not implemented yet",
    Status.ERROR: "your code raised an error",
    Status.INVALID: "wrong shape or type",
    Status.TIMEOUT: "ran out of time",
    Status.CRASHED: "the process running your code died",
    Status.SKIPPED: "not run",
    Status.OK: "observed",
}


class Reason(enum.StrEnum):
    """Why a check failed, where its status does not say it all. Recorded in
    ``CheckResult.extra["reason"]`` and carried from the sandbox's worker to
    the grading process with the observation."""

    #: The code used what a ``by_hand`` rule forbids (:mod:`grader.checks.byhand`).
    BY_HAND = "by_hand"
    #: The observation does not have the check's schema.
    SCHEMA = "schema"
    #: The worker's observation file could not be read.
    INVALID = "invalid"
    #: The submission could not be staged (a broken archive, no lab file, …).
    INTAKE = "intake"
    #: The student's module could not be imported (or loading it was stopped).
    IMPORT = "import"
    #: The check's own time limit ran out.
    TIMEOUT = "timeout"
    #: The submission's total time limit ran out before the check.
    TOTAL = "total"
    #: The worker ran longer than all its checks' limits together.
    JOB = "job"
    MEMORY = "memory"
    PROCESSES = "processes"
    DISK = "disk"
    #: The worker exited by itself in the middle of a check.
    EXIT = "exit"
    #: The worker was killed by a signal it did not get from the grader.
    SIGNAL = "signal"
    #: The worker ended without an exit status.
    KILLED = "killed"
    #: The batch was stopped (never a check's reason: the submission is not recorded).
    CANCELLED = "cancelled"


class RowStatus(enum.StrEnum):
    """A batch row's state (column ``status`` of ``grades.csv``)."""

    GRADED = "graded"
    #: Graded, but the student's file could not be imported because of a
    #: syntax error: every check scores 0.
    SYNTAX_ERROR = "syntax error"
    #: Graded, but importing the student's file failed (a missing module, an
    #: exception, an exit or a hang at import time): every check scores 0.
    IMPORT_ERROR = "import error"
    #: Its input could not be staged (a broken zip, no cnn.py, …).
    INTAKE_ERROR = "intake error"
    #: The grader itself failed (retried on the next run).
    GRADER_ERROR = "grader error"
    #: On the roster, but no submission.
    MISSING = "missing"
    #: Not graded because the batch was stopped.
    NOT_GRADED = "not graded"

    @classmethod
    def of(cls, result: "Result") -> "RowStatus":
        """The status of a row whose submission was run: graded, unless no
        check could run because the file could not be imported (the
        exception's kind is recorded by the sandbox, never read from a
        message)."""
        if not result.checks or any(c.reason is not Reason.IMPORT for c in result.checks):
            return cls.GRADED
        return cls.SYNTAX_ERROR if result.info.import_error in SYNTAX_ERRORS else cls.IMPORT_ERROR

    @property
    def ran(self) -> bool:
        """Whether the submission was run: graded, or its file could not be imported."""
        return self in (RowStatus.GRADED, RowStatus.SYNTAX_ERROR, RowStatus.IMPORT_ERROR)

    @property
    def scored(self) -> bool:
        """Whether the row's score is the submission's grade (the student's
        code was run, or could not be used): not a grader failure, a stopped
        batch or a missing submission."""
        return self.ran or self is RowStatus.INTAKE_ERROR


#: The exceptions (by class name) that make an import failure a syntax error.
SYNTAX_ERRORS = frozenset(c.__name__ for c in (SyntaxError, IndentationError, TabError))


class RosterFlag(enum.StrEnum):
    """A batch row's standing on the roster (column ``roster``)."""

    NONE = ""  # no roster was given
    LISTED = "listed"
    NOT_ON_ROSTER = "not on roster"
    MISSING = "missing"


class RunMode(enum.StrEnum):
    """How a submission was run (``RunInfo.mode``)."""

    IN_PROCESS = "in-process"
    SANDBOX = "sandbox"
    #: Not run: intake could not stage it.
    INTAKE = "intake"


class GradedCheck(Protocol):
    """What results need of a check (:class:`grader.checks.Check` has it)."""

    name: str
    title: str
    points: float
    visibility: str
    kind: str


@dataclasses.dataclass
class CheckResult:
    name: str
    title: str
    points: float
    visibility: str
    kind: str
    score: float = 0.0
    status: Status = Status.SKIPPED
    message: str = ""
    time: float = 0.0
    #: ``reason`` (a :class:`Reason`) and ``curves`` (per-epoch histories of a training check).
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.status = Status(self.status)

    @classmethod
    def of(cls, check: GradedCheck, **fields) -> "CheckResult":
        """The result of ``check`` with ``fields`` (score, status, message, …)."""
        return cls(check.name, check.title, check.points, check.visibility, check.kind, **fields)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    @property
    def reason(self) -> Reason | None:
        """Why the check failed, when recorded."""
        value = self.extra.get("reason")
        return Reason(value) if value else None

    @reason.setter
    def reason(self, value: Reason | str | None) -> None:
        if value:
            self.extra["reason"] = Reason(value)
        else:
            self.extra.pop("reason", None)


@dataclasses.dataclass
class RunInfo:
    """How a submission was run and recorded: ``Result.info``.

    Written as a JSON object holding only the fields that are set (not None),
    in this order; which ones are set depends on who ran the submission.
    """

    mode: RunMode | None = None
    #: Why intake could not stage the submission (``mode`` intake).
    intake_error: str | None = None
    # In-process (:func:`grader.device.configure`): the device chosen.
    device: str | None = None
    gpus: int | None = None
    threads: int | None = None
    tensorflow: str | None = None
    # Sandboxed (:func:`grader.sandbox.observe`): workers started, wall seconds,
    # isolation level, peak memory (bytes) and process count, printed output.
    starts: int | None = None
    wall: float | None = None
    isolation: str | None = None
    isolation_detail: str | None = None
    peak_rss: int | None = None
    peak_processes: int | None = None
    output_bytes: int | None = None
    output_truncated: bool | None = None
    uid: int | None = None
    #: What the student's code printed (head and tail when long).
    output: str | None = None
    #: The class name of the exception that stopped the import of the
    #: student's file (``SyntaxError``, ``ModuleNotFoundError``, …).
    import_error: str | None = None
    # Recorded by the batch (:mod:`grader.core.batch`).
    id: str | None = None
    name: str | None = None
    #: The input the submission came from.
    source: str | None = None
    #: What intake did to the submission (a notebook converted, a file skipped, …).
    notes: list[str] | None = None
    #: Hash of the staged files: a rerun keeps a result only for the same files.
    fingerprint: str | None = None
    #: ``{"lab", "checks", "format"}``: a rerun keeps a result only for the same checks.
    selection: dict[str, Any] | None = None
    #: When the student handed it in, as the LMS export says (ISO 8601 with its offset).
    submitted_at: str | None = None
    graded_at: str | None = None

    def __post_init__(self):
        if self.mode is not None:
            self.mode = RunMode(self.mode)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: value for f in dataclasses.fields(self) if (value := getattr(self, f.name)) is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RunInfo":
        """Refuses (TypeError) a key it does not know."""
        return cls(**data)


@dataclasses.dataclass
class Result:
    lab: str
    submission: str
    checks: list[CheckResult]
    time: float = 0.0
    #: Given as a :class:`RunInfo` or as the JSON object one is written as.
    info: RunInfo = dataclasses.field(default_factory=RunInfo)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "info" and not isinstance(value, RunInfo):
            value = RunInfo.from_dict(value)
        super().__setattr__(name, value)

    @classmethod
    def all_failed(cls, lab: str, submission: str, checks: Iterable[GradedCheck], message: str, *,
                   status: Status = Status.ERROR, reason: Reason | None = None, time: float = 0.0,
                   info: RunInfo | None = None) -> "Result":
        """A submission no check could run on: every check scores 0 with
        ``status``, ``message`` and ``reason`` (an input that could not be
        staged, a module that could not be imported, …)."""
        results = []
        for check in checks:
            result = CheckResult.of(check, status=status, message=message)
            result.reason = reason
            results.append(result)
        return cls(lab, submission, results, time, info or RunInfo())

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.points for c in self.checks), 6)

    def by_name(self) -> dict[str, CheckResult]:
        return {c.name: c for c in self.checks}

    def failed(self) -> set[str]:
        """Names of checks that did not earn full points."""
        return {c.name for c in self.checks if c.score < c.points - 1e-9}

    def summary(self) -> str:
        """``cnn alice: 2.5/8.5 points, 2/8 checks passed in 3.1s``; the
        submission's name only when it says more than the lab's (a
        self-check of ``cnn.py`` is not "cnn cnn")."""
        from grader.reports.numbers import format_score  # here: reports import this module

        passed = sum(c.passed for c in self.checks)
        who = f" {self.submission}" if self.submission not in ("", self.lab) else ""
        return (
            f"{self.lab}{who}: {format_score(self.score, self.max_score)} points, "
            f"{passed}/{len(self.checks)} checks passed in {self.time:.1f}s"
        )

    def to_dict(self) -> dict:
        return {
            "lab": self.lab,
            "submission": self.submission,
            "score": self.score,
            "max_score": self.max_score,
            "time": round(self.time, 3),
            "summary": self.summary(),
            "info": self.info.to_dict(),
            "checks": [dataclasses.asdict(c) for c in self.checks],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        return cls(
            lab=data["lab"],
            submission=data["submission"],
            time=data.get("time", 0.0),
            info=RunInfo.from_dict(data.get("info", {})),
            checks=[CheckResult(**c) for c in data["checks"]],
        )

    def to_json(self) -> str:
        """The full record, as ``result.json`` holds it."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def write_json(self, path: Path | str) -> None:
        Path(path).write_text(self.to_json())


@dataclasses.dataclass
class Row:
    """One line of the class's reports (made by :mod:`grader.core.batch`): a
    submission, or a roster student without one."""

    id: str
    name: str = ""
    status: RowStatus = RowStatus.GRADED
    roster: RosterFlag = RosterFlag.NONE
    result: Result | None = None
    #: Why the row is not graded (intake error, grader error, …).
    message: str = ""
    source: str = ""
    #: The grader's traceback behind a grader error, for the staff; not in the class's files.
    detail: str = dataclasses.field(default="", repr=False)

    def __post_init__(self):
        self.status, self.roster = RowStatus(self.status), RosterFlag(self.roster)

    @property
    def score(self) -> float:
        return self.result.score if self.result and self.status.scored else 0.0

    def to_dict(self) -> dict:
        out = {"id": self.id, "name": self.name, "status": self.status, "roster": self.roster,
               "message": self.message, "source": self.source, "score": self.score}
        if self.result is not None:
            out["result"] = self.result.to_dict()
        return out
