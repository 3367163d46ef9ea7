"""Where a TA's rubric scores live: ``OUT/rubric-scores.json``.

One file beside ``grades.csv``, written atomically, holding per student the
score of each rubric item, the TA's comment, who imported them and when.
Grading never writes it (a student's folder is rewritten by every regrade),
and every report is rebuilt from it: that is what makes scores outlive a
regrade.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from grader.files import atomic_write
from grader.labs.study import RubricItem

#: The scores of the write-ups, in the batch's output folder.
SCORES_FILE = "rubric-scores.json"
#: Bump when the file's layout changes.
FORMAT = 1


class RubricStoreError(ValueError):
    """A scores file that cannot be read; the message names the file."""


@dataclasses.dataclass(frozen=True)
class Graded:
    """One student's graded write-up: a score per rubric item, a comment,
    who imported it and when."""

    items: tuple[RubricItem, ...]
    scores: dict[str, float]
    comment: str = ""
    by: str = ""
    at: str = ""

    @property
    def total(self) -> float:
        return sum(self.scores.get(item.id, 0.0) for item in self.items)

    @property
    def max_total(self) -> float:
        return sum(item.points for item in self.items)


@dataclasses.dataclass
class Scores:
    """Every student's graded write-up, against the lab's rubric ``items``."""

    items: tuple[RubricItem, ...]
    students: dict[str, dict] = dataclasses.field(default_factory=dict)

    def get(self, student: str) -> Graded | None:
        """``student``'s graded write-up, or None when it is not graded yet."""
        entry = self.students.get(student)
        if entry is None:
            return None
        return Graded(self.items, {k: float(v) for k, v in entry["scores"].items()}, str(entry.get("comment", "")),
                      str(entry.get("by", "")), str(entry.get("at", "")))

    @property
    def max_total(self) -> float:
        return sum(item.points for item in self.items)


def path(out: Path | str) -> Path:
    return Path(out) / SCORES_FILE


def load(out: Path | str, lab) -> Scores | None:
    """The scores stored in ``out`` for ``lab``'s rubric; None when the lab
    has no rubric or nothing was imported yet. A file that cannot be read is
    an error, never "no scores": reports written without them would lose a
    TA's work silently."""
    study = lab.study
    if study is None or not study.rubric:
        return None
    file = path(out)
    if not file.is_file():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        students = data["students"]
        if not isinstance(students, dict) or not all(isinstance(e.get("scores"), dict) for e in students.values()):
            raise TypeError("students must map ids to {scores, comment, by, at}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RubricStoreError(f"{file} cannot be read ({type(exc).__name__}: {exc}); fix or restore it") from exc
    return Scores(study.rubric, students)


def save(out: Path | str, scores: Scores) -> Path:
    """Write ``scores`` into ``out`` atomically (the old file stays whole until the new one is)."""
    data = {"format": FORMAT,
            "rubric": [dataclasses.asdict(item) for item in scores.items],
            "students": dict(sorted(scores.students.items()))}
    return atomic_write(path(out), json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def recorded_rows(out: Path | str) -> list:
    """The batch's rows as its last run recorded them (``OUT/results.jsonl``),
    results included: what the rubric's pages and the rewritten reports are
    made from, without grading anything again."""
    from grader.core.results import Result, Row

    file = Path(out) / "results.jsonl"
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found: grade the class into {out} first (grader grade … -o {out})")
    rows = []
    for line in file.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        rows.append(Row(d["id"], d.get("name", ""), status=d["status"], roster=d["roster"],
                        result=Result.from_dict(d["result"]) if d.get("result") else None,
                        message=d.get("message", ""), source=d.get("source", "")))
    return rows
