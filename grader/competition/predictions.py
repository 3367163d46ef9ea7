"""Reading a team's prediction file, and saying what to fix when it is wrong.

A prediction file is a UTF-8 CSV (no byte-order mark) with exactly two
columns, the competition's id column and its target column, and one row per
id of the test set. :func:`read_predictions` either returns the predictions
in the test set's order or raises :class:`MalformedPredictions` whose
message tells the team what to fix: an empty file, GBK or a byte-order
mark, other columns, ids missing, repeated or not in the test set, empty or
not-a-number predictions, labels no class has. A malformed file is never
scored, so it costs the team nothing.

The hidden labels are read with the same function (their own file must be
well formed), so both sides agree on what a row is.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Sequence

from grader.competition.metrics import LABEL, canonical_label

#: Files larger than this are refused unread.
MAX_BYTES = 64 * 1024 * 1024
#: Problems listed before "… and N more".
SHOWN = 5


class MalformedPredictions(ValueError):
    """A prediction file that cannot be scored; the message says what to fix."""


def _decode(data: bytes) -> str:
    if not data.strip():
        raise MalformedPredictions("the file is empty: write a header line and one row per test id")
    if data.startswith(b"\xef\xbb\xbf"):
        raise MalformedPredictions(
            "the file starts with a byte-order mark (Excel's \"CSV UTF-8\" adds one): save it as plain UTF-8, "
            "e.g. pandas' df.to_csv(path, index=False)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise MalformedPredictions("the file is UTF-16: save it as UTF-8, e.g. pandas' df.to_csv(path, index=False)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gbk")
        hint = "the file is in GBK (as Excel saves CSV on Chinese Windows)"
    except UnicodeDecodeError:
        hint = "the file is not UTF-8 text"
    raise MalformedPredictions(f"{hint}: save it as UTF-8, e.g. pandas' df.to_csv(path, index=False, encoding='utf-8')")


def _listed(items: list[str]) -> str:
    more = f" … and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def read_predictions(data: bytes, *, id_column: str, target_column: str, kind: str,
                     ids: Sequence[str] | None = None, labels: set[str] | None = None) -> dict[str, str]:
    """Parse ``data`` (a prediction file's bytes) into ``{id: prediction}``
    in file order. ``kind`` is the metric's (:data:`~grader.competition.metrics.LABEL`:
    any text, checked against ``labels`` when given; otherwise a finite
    number). ``ids``: the test set's ids; every one must appear exactly once
    and no other. :class:`MalformedPredictions` says what is wrong."""
    if len(data) > MAX_BYTES:
        raise MalformedPredictions(f"the file is {len(data) / 2**20:.0f} MiB; at most {MAX_BYTES // 2**20} MiB")
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise MalformedPredictions(f"line {reader.line_num}: not a CSV row ({exc})") from None
    rows = [(n, row) for n, row in rows if any(c.strip() for c in row)]
    if not rows:
        raise MalformedPredictions("the file is empty: write a header line and one row per test id")
    header = [c.strip() for c in rows[0][1]]
    expected = [id_column, target_column]
    if header != expected:
        hint = ""
        if len(header) == 1 and any(sep in header[0] for sep in ";\t"):
            hint = "; separate the columns with commas"
        elif sorted(h.casefold() for h in header) == sorted(e.casefold() for e in expected):
            hint = " (the names are case-sensitive)" if sorted(header) != sorted(expected) else ""
        raise MalformedPredictions(f"the header is {','.join(header)!r}; it must be exactly "
                                   f"{','.join(expected)!r}{hint}")
    predictions: dict[str, str] = {}
    first_line: dict[str, int] = {}
    problems: list[str] = []
    for line, row in rows[1:]:
        if len(row) != 2:
            problems.append(f"line {line} has {len(row)} cells, not 2")
            continue
        key, value = row[0].strip(), row[1].strip()
        if not key:
            problems.append(f"line {line} has no id")
            continue
        if key in first_line:
            problems.append(f"id {key} appears twice (lines {first_line[key]} and {line})")
            continue
        first_line[key] = line
        if not value:
            problems.append(f"line {line}: no prediction for id {key}")
            continue
        if kind == LABEL:
            if labels is not None and canonical_label(value) not in labels:
                problems.append(f"line {line}: {value!r} (id {key}) is not one of the classes")
                continue
        else:
            try:
                number = float(value)
            except ValueError:
                problems.append(f"line {line}: the prediction for id {key} is {value!r}, not a number")
                continue
            if not math.isfinite(number):
                problems.append(f"line {line}: the prediction for id {key} is {value} (write a finite number)")
                continue
        predictions[key] = value
    if ids is not None:
        known = set(ids)
        extra = [k for k in first_line if k not in known]
        missing = [k for k in ids if k not in first_line]
        if extra:
            problems.append(f"{len(extra)} id(s) are not in the test set: {_listed(extra)}")
        if missing:
            problems.append(f"{len(missing)} id(s) of the test set have no row: {_listed(missing)}")
    if problems:
        message = "; ".join(problems[:SHOWN])
        if len(problems) > SHOWN:
            message += f" … and {len(problems) - SHOWN} more problem(s)"
        if kind == LABEL and labels is not None and any("not one of the classes" in p for p in problems):
            message += f" (the classes are: {_listed(sorted(labels))})"
        raise MalformedPredictions(message)
    return predictions
