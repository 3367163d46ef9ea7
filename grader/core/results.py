"""Results of grading: one :class:`CheckResult` per check, one :class:`Result`
per submission, serialisable as JSON."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

#: Statuses a check can end in, and what they mean to a student.
STATUS_TEXT = {
    "passed": "passed",
    "partial": "partly right",
    "failed": "wrong result",
    "todo": "not implemented yet",
    "error": "your code raised an error",
    "invalid": "returned something the grader cannot use",
    "timeout": "ran out of time",
    "crashed": "the process running your code died",
    "skipped": "not run",
}


@dataclasses.dataclass
class CheckResult:
    name: str
    title: str
    points: float
    visibility: str
    kind: str
    score: float = 0.0
    status: str = "skipped"
    message: str = ""
    time: float = 0.0
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclasses.dataclass
class Result:
    lab: str
    submission: str
    checks: list[CheckResult]
    time: float = 0.0
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

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
        passed = sum(c.passed for c in self.checks)
        return (
            f"{self.lab} {self.submission}: {self.score:g}/{self.max_score:g} points, "
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
            "info": self.info,
            "checks": [dataclasses.asdict(c) for c in self.checks],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        return cls(
            lab=data["lab"],
            submission=data["submission"],
            time=data.get("time", 0.0),
            info=data.get("info", {}),
            checks=[CheckResult(**c) for c in data["checks"]],
        )

    def write_json(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False))
