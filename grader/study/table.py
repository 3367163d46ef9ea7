"""A study's table: the rows a student measured, read, written and validated.

One row is one configuration (a level of every factor), the ``seed`` it ran
with and the metrics it measured. On disk a table is CSV (one column per
factor, ``seed``, one per metric; other columns are ignored) or JSON (a list
of row objects, or ``{"rows": [...]}``). :func:`read` accepts what a student
hands in, defensively (size caps, UTF-8 with or without a byte-order mark,
GBK), and refuses a table with a :class:`TableError` that lists, in the
student's terms, every problem found (``study.csv row 4: depth = 5 is not a
level of depth (1, 2, 4)``). Standard library only: it runs in the student's
process and in bundles as well as in the grader.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import json
import math
from pathlib import Path
from typing import Any, Iterable

#: A table larger than this is refused unread (a grid of thousands of rows fits easily).
MAX_BYTES = 2 << 20
#: More rows than this are refused.
MAX_ROWS = 20_000
#: Problems listed in one message; the rest are counted.
MAX_PROBLEMS = 12


class TableError(ValueError):
    """A table that cannot be graded; ``problems`` lists why, one line each."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS]
        more = len(self.problems) - len(shown)
        super().__init__("; ".join(shown) + (f"; and {more} more problem(s)" if more else ""))


@dataclasses.dataclass(frozen=True)
class Row:
    """One measured configuration: a level of each factor, the seed, the metrics."""

    factors: dict[str, Any]
    seed: int
    metrics: dict[str, float]

    def key(self, study) -> tuple:
        """(configuration, seed) in the study's grid order: the row's identity."""
        return tuple(study.factors[f].index(self.factors[f]) for f in study.factors) + (self.seed,)

    def to_plain(self) -> dict:
        return {"factors": dict(self.factors), "seed": self.seed, "metrics": dict(self.metrics)}


def grid(study) -> list[dict[str, Any]]:
    """Every configuration of the study, in order (the last factor varies fastest)."""
    names = list(study.factors)
    return [dict(zip(names, levels)) for levels in itertools.product(*study.factors.values())]


def configuration_text(factors: dict[str, Any]) -> str:
    return ", ".join(f"{name} = {_show(level)}" for name, level in factors.items())


def _show(level: Any) -> str:
    if isinstance(level, bool):
        return "true" if level else "false"
    return str(level)


def _level(value: Any, levels: tuple) -> tuple[bool, Any]:
    """``(True, level)`` for the declared level ``value`` (a CSV cell or a
    JSON value) stands for, else ``(False, None)``. Numbers match by value
    (``4``, ``4.0``), booleans as ``true``/``false``, strings exactly."""
    text = _show(value).strip() if not isinstance(value, str) else value.strip()
    for level in levels:
        if isinstance(level, bool):
            if text.lower() == _show(level):
                return True, level
        elif isinstance(level, (int, float)):
            try:
                if not isinstance(value, bool) and float(text) == float(level):
                    return True, level
            except ValueError:
                continue
        elif text == level:
            return True, level
    return False, None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _seed(value: Any) -> int | None:
    number = _number(value)
    if number is None or number != int(number) or not 0 <= number < 2**31:
        return None
    return int(number)


def _records(data: bytes, name: str) -> list[dict[str, Any]]:
    """The table's rows as ``{column: value}`` records, or :class:`TableError`."""
    from grader.intake.text import decode_utf8_or_gbk

    text, _ = decode_utf8_or_gbk(data, strip_bom=True)
    if name.endswith(".json"):
        try:
            loaded = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise TableError([f"{name} is not valid JSON ({exc})"]) from None
        if isinstance(loaded, dict) and isinstance(loaded.get("rows"), list):
            loaded = loaded["rows"]
        if not isinstance(loaded, list) or not all(isinstance(r, dict) for r in loaded):
            raise TableError([f"{name} must hold a list of rows, each an object of column: value"])
        return loaded
    if "\0" in text:
        raise TableError([f"{name} is not a CSV file (it holds binary data)"])
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        lines = [line for line in reader if any(cell.strip() for cell in line)]
    except csv.Error as exc:
        raise TableError([f"{name} is not a readable CSV file ({exc})"]) from None
    if not lines:
        raise TableError([f"{name} is empty: it needs a header line and one line per run"])
    header = [cell.strip() for cell in lines[0]]
    records = []
    for i, line in enumerate(lines[1:], 2):
        if len(line) != len(header):
            raise TableError([f"{name} line {i} has {len(line)} cells, but the header has {len(header)}"])
        records.append(dict(zip(header, line)))
    return records


def parse(data: bytes, study, name: str = "study.csv") -> list[Row]:
    """The rows of a table's bytes, validated against ``study``: every
    column present, every level declared, every metric a finite number, no
    (configuration, seed) twice, every configuration of the grid there.
    Raises :class:`TableError` listing every problem."""
    if len(data) > MAX_BYTES:
        raise TableError([f"{name} is larger than {MAX_BYTES >> 20} MB"])
    records = _records(data, name)
    if not records:
        raise TableError([f"{name} has no rows"])
    if len(records) > MAX_ROWS:
        raise TableError([f"{name} has more than {MAX_ROWS} rows"])
    needed = [*study.factors, "seed", *study.metrics]
    absent = [column for column in needed if column not in records[0]]
    if absent:
        raise TableError([f"{name} has no column {', '.join(absent)} (it needs {', '.join(needed)})"])
    problems: list[str] = []
    rows: list[Row] = []
    seen: dict[tuple, int] = {}
    for number, record in enumerate(records, 1):
        where = f"{name} row {number}"
        factors, ok = {}, True
        for factor, levels in study.factors.items():
            cell = record.get(factor)
            found, level = _level(cell, levels)
            if not found:
                empty = cell is None or (isinstance(cell, str) and not cell.strip())
                problems.append(f"{where}: {factor} is empty" if empty else
                                f"{where}: {factor} = {_show(cell).strip()} is not a level of {factor} "
                                f"({', '.join(map(_show, levels))})")
                ok = False
            factors[factor] = level
        seed = _seed(record.get("seed"))
        if seed is None:
            problems.append(f"{where}: seed = {_show(record.get('seed')).strip() or '(empty)'} is not a whole "
                            "number from 0 to 2**31 - 1")
            ok = False
        metrics = {}
        for metric in study.metrics:
            value = _number(record.get(metric))
            if value is None:
                cell = _show(record.get(metric)).strip()
                problems.append(f"{where}: {metric} = {cell or '(empty)'} is not a finite number")
                ok = False
            metrics[metric] = value
        if not ok:
            continue
        row = Row(factors, seed, metrics)
        key = row.key(study)
        if key in seen:
            problems.append(f"{where}: {configuration_text(factors)}, seed = {seed} is already row {seen[key]}")
            continue
        seen[key] = number
        rows.append(row)
    if not problems:
        present = {tuple(r.factors[f] for f in study.factors) for r in rows}
        missing = [c for c in grid(study) if tuple(c.values()) not in present]
        for configuration in missing:
            problems.append(f"{name} has no row for {configuration_text(configuration)}")
    if problems:
        raise TableError(problems)
    return sorted(rows, key=lambda r: r.key(study))


def read(folder: Path | str, study) -> list[Row]:
    """The validated rows of ``study.table`` in ``folder`` (a submission's
    folder), or :class:`TableError` saying what is missing or wrong. Links
    are not followed: the file must be the student's own."""
    path = Path(folder) / study.table
    if path.is_symlink() or not path.is_file():
        raise TableError([f"no {study.table} handed in next to your code: run the study "
                          f"(grader.study.run_study) and hand in the table it writes"])
    with path.open("rb") as fh:
        data = fh.read(MAX_BYTES + 1)
    return parse(data, study, study.table)


def write(rows: Iterable[Row], study, path: Path | str) -> Path:
    """Write ``rows`` as ``study``'s table (CSV or JSON by the file's suffix)."""
    path = Path(path)
    rows = list(rows)
    if path.suffix == ".json":
        text = json.dumps([{**r.factors, "seed": r.seed, **r.metrics} for r in rows], indent=1)
    else:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*study.factors, "seed", *study.metrics])
        for r in rows:
            writer.writerow([*(_show(r.factors[f]) for f in study.factors), r.seed,
                             *(repr(float(r.metrics[m])) for m in study.metrics)])
        text = out.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
