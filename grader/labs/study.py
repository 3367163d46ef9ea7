"""A lab's *study*: the experiment the course asks students to run and write up.

The slides' homework is a study ("how do depth, learning rate, width and the
activation change the result?"): students run a grid of configurations with
their own code, hand in the table of what they measured, plots and a short
write-up. A lab declares its study in ``lab.toml``::

    [study]
    title = "Depth, width, learning rate and activation"
    function = "run_config"          # run_config(**factors, seed=...) -> {metric: number}
    table = "study.csv"              # what the student hands in (or study.json)
    report = "report.md"             # the write-up
    metrics = ["val_accuracy"]
    reproduce = 2                    # rows the grader re-runs in the sandbox
    points = 1                       # for the table being reproducible
    budget = 60                      # seconds per re-run row (2 CPU cores)
    data = "cnn_study_files"         # optional: what the re-runs read (a function of grader.data)

    [study.factors]                  # each factor's levels, in order
    depth = [1, 2, 4]
    activation = ["relu", "tanh"]

    [study.tolerance]                # per metric: |claimed − re-run| allowed
    val_accuracy = 0.02

    [[study.rubric]]                 # the write-up, graded by a TA
    id = "explains_depth"
    item = "Explains why depth helps up to a point, with the table's numbers"
    points = 1

This module only reads and checks the declaration (trusted side and bundles
alike; standard library only). Running, reproducing and grading the study
live elsewhere.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

_ID = re.compile(r"^[a-z_][a-z0-9_]*$")
#: Values a factor's level may take: what a CSV cell and JSON both carry.
LEVEL_TYPES = (bool, int, float, str)


class StudyError(ValueError):
    """A ``[study]`` table that is malformed; the message says what to fix."""


@dataclasses.dataclass(frozen=True)
class RubricItem:
    """One item of the write-up's rubric: an id (a column of the TA's CSV),
    what earns it, and its points."""

    id: str
    item: str
    points: float


@dataclasses.dataclass(frozen=True)
class Study:
    """A lab's study, as declared in ``lab.toml``'s ``[study]`` table."""

    title: str
    function: str
    factors: dict[str, tuple]
    metrics: tuple[str, ...]
    tolerance: dict[str, float]
    reproduce: int = 2
    points: float = 1.0
    budget: float = 60.0
    table: str = "study.csv"
    report: str = "report.md"
    rubric: tuple[RubricItem, ...] = ()
    #: The name of a function of :mod:`grader.data` giving the files (beyond
    #: the bundle's data sets) the grader's study data is made of, for the
    #: sandbox's re-runs: ``{path in a data directory: file or bytes}``.
    data: str = ""

    @property
    def rubric_points(self) -> float:
        return sum(item.points for item in self.rubric)

    @property
    def configurations(self) -> int:
        """How many rows the full grid has."""
        count = 1
        for levels in self.factors.values():
            count *= len(levels)
        return count

    @classmethod
    def from_toml(cls, table: dict[str, Any]) -> "Study":
        """The study of ``lab.toml``'s ``[study]`` table, or :class:`StudyError`."""
        if not isinstance(table, dict):
            raise StudyError("[study] must be a table")
        known = {f.name for f in dataclasses.fields(cls)}
        if unknown := sorted(set(table) - known):
            raise StudyError(f"[study] has unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        for key in ("function", "factors", "metrics", "tolerance"):
            if key not in table:
                raise StudyError(f"[study] needs `{key}`")
        function = table["function"]
        if not isinstance(function, str) or not function.isidentifier():
            raise StudyError(f"[study] function must be a function's name, not {function!r}")
        factors = table["factors"]
        if not isinstance(factors, dict) or not factors:
            raise StudyError("[study.factors] must name at least one factor with its levels")
        for name, levels in factors.items():
            if not _ID.match(name) or name in ("seed",):
                raise StudyError(f"factor {name!r}: a name must be a lower-case identifier, and not `seed`")
            if not isinstance(levels, list) or not levels:
                raise StudyError(f"factor {name!r}: its levels must be a non-empty list")
            if not all(isinstance(level, LEVEL_TYPES) for level in levels) or len(set(map(repr, levels))) != len(levels):
                raise StudyError(f"factor {name!r}: levels must be distinct numbers, strings or booleans")
        metrics = table["metrics"]
        if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) and _ID.match(m) for m in metrics):
            raise StudyError("[study] metrics must be a non-empty list of lower-case identifiers")
        if clash := set(metrics) & (set(factors) | {"seed"}):
            raise StudyError(f"[study] {', '.join(sorted(clash))} is both a metric and a factor (or `seed`)")
        tolerance = table["tolerance"]
        if not isinstance(tolerance, dict) or set(tolerance) != set(metrics):
            raise StudyError("[study.tolerance] must give one tolerance per metric: " + ", ".join(metrics))
        if not all(isinstance(t, (int, float)) and not isinstance(t, bool) and t >= 0 for t in tolerance.values()):
            raise StudyError("[study.tolerance] values must be numbers ≥ 0")
        rubric = []
        for i, item in enumerate(table.get("rubric", []), 1):
            if not isinstance(item, dict) or set(item) != {"id", "item", "points"}:
                raise StudyError(f"[[study.rubric]] item {i} needs exactly `id`, `item` and `points`")
            if not isinstance(item["id"], str) or not _ID.match(item["id"]):
                raise StudyError(f"[[study.rubric]] item {i}: id must be a lower-case identifier")
            if not isinstance(item["points"], (int, float)) or isinstance(item["points"], bool) or item["points"] <= 0:
                raise StudyError(f"[[study.rubric]] {item['id']}: points must be a number > 0")
            rubric.append(RubricItem(item["id"], str(item["item"]), float(item["points"])))
        if len({r.id for r in rubric}) != len(rubric):
            raise StudyError("[[study.rubric]] ids must be distinct")
        reproduce = table.get("reproduce", 2)
        if not isinstance(reproduce, int) or isinstance(reproduce, bool) or reproduce < 1:
            raise StudyError("[study] reproduce must be a whole number ≥ 1")
        for key in ("table", "report"):
            name = table.get(key, cls.__dataclass_fields__[key].default)
            if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
                raise StudyError(f"[study] {key} must be a plain file name, not {name!r}")
        data = table.get("data", "")
        if not isinstance(data, str) or (data and not data.isidentifier()):
            raise StudyError(f"[study] data must name a function of grader.data, not {data!r}")
        if not str(table.get("table", "study.csv")).endswith((".csv", ".json")):
            raise StudyError("[study] table must be a .csv or .json file")
        return cls(
            title=str(table.get("title", "Study")), function=function,
            factors={name: tuple(levels) for name, levels in factors.items()},
            metrics=tuple(metrics), tolerance={m: float(tolerance[m]) for m in metrics},
            reproduce=reproduce, points=float(table.get("points", 1.0)), budget=float(table.get("budget", 60.0)),
            table=table.get("table", "study.csv"), report=table.get("report", "report.md"), rubric=tuple(rubric),
            data=data,
        )
