"""Checking an observation before a judge sees it (trusted side, NumPy only).

A check may declare what its ``observe`` returns in ``Check.schema``, written
with plain Python values::

    int, float, bool, str    a value of that type (``float`` also takes ints)
    (2, 6, 6, 4)             a numeric array of this shape (a nested list that
                             converts to one is fine); ``None`` for any length
                             on an axis, ``()`` for a scalar
    [spec]                   a list whose items all match ``spec``
    {"key": spec, ...}       a dict with exactly these keys
    None                     anything plain

    class Conv2dForward(Check):
        schema = {"y": (2, 6, 6, 4)}

Without a schema (the default) only the generic caps apply: nesting depth,
list and dict lengths, string and key lengths. An observation that breaks
its schema or a cap is ``invalid`` with a message naming what is wrong,
before any judge code runs on it.

NaN and inf are not refused (a judge may accept them: a loss that diverged
is a result too) but :func:`non_finite_note` names where they are, and the
runner adds that to the message of a check that did not pass.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MAX_DEPTH = 16
MAX_ITEMS = 100_000
MAX_KEY = 200
MAX_STRING = 100_000
#: Names of per-epoch histories a training check's observation may carry;
#: reports plot them as training curves.
CURVE_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy", "acc", "val_acc", "perplexity", "val_perplexity")
MAX_CURVE = 10_000


def validate(value: Any, schema: Any = None) -> list[str]:
    """Problems with ``value`` (empty when it is fine): generic caps first,
    then ``schema``. At most five, each naming the offending part."""
    problems: list[str] = []
    _caps(value, "", 0, problems)
    if not problems and schema is not None:
        _match(value, schema, "", problems)
    return problems[:5]


def _where(path: str) -> str:
    return path or "the result"


def _caps(value: Any, path: str, depth: int, problems: list[str]) -> None:
    if len(problems) >= 5:
        return
    if depth > MAX_DEPTH:
        problems.append(f"{_where(path)}: nested more than {MAX_DEPTH} levels deep")
    elif isinstance(value, str) and len(value) > MAX_STRING:
        problems.append(f"{_where(path)}: a string of {len(value):,} characters (at most {MAX_STRING:,})")
    elif isinstance(value, (list, dict)) and len(value) > MAX_ITEMS:
        problems.append(f"{_where(path)}: {len(value):,} items (at most {MAX_ITEMS:,}; return an array instead)")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _caps(item, f"{path}[{i}]", depth + 1, problems)
    elif isinstance(value, dict):
        for key, item in value.items():
            if len(key) > MAX_KEY:
                problems.append(f"{_where(path)}: a key of {len(key)} characters")
                return
            _caps(item, f"{path}[{key!r}]", depth + 1, problems)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)[:6]}"
    if value is None:
        return "None"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) < 40 else text[:37] + '...'}"


def _match(value: Any, spec: Any, path: str, problems: list[str]) -> None:
    if len(problems) >= 5 or spec is None:
        return
    where = _where(path)
    if spec is bool:
        if not isinstance(value, bool):
            problems.append(f"{where}: expected True or False, got {_describe(value)}")
    elif spec is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{where}: expected an integer, got {_describe(value)}")
    elif spec is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(f"{where}: expected a number, got {_describe(value)}")
    elif spec is str:
        if not isinstance(value, str):
            problems.append(f"{where}: expected a string, got {_describe(value)}")
    elif isinstance(spec, tuple):
        _match_array(value, spec, where, problems)
    elif isinstance(spec, list):
        if not isinstance(value, list):
            problems.append(f"{where}: expected a list, got {_describe(value)}")
        elif spec:
            for i, item in enumerate(value):
                _match(item, spec[0], f"{path}[{i}]", problems)
    elif isinstance(spec, dict):
        if not isinstance(value, dict):
            problems.append(f"{where}: expected a dict with keys {sorted(spec)}, got {_describe(value)}")
            return
        missing, extra = sorted(set(spec) - set(value)), sorted(set(value) - set(spec))
        if missing or extra:
            parts = ([f"missing {missing}"] if missing else []) + ([f"unexpected {extra}"] if extra else [])
            problems.append(f"{where}: {', '.join(parts)}")
            return
        for key, sub in spec.items():
            _match(value[key], sub, f"{path}[{key!r}]", problems)
    else:
        raise TypeError(f"unknown schema element {spec!r} at {where}")


def _match_array(value: Any, shape: tuple, where: str, problems: list[str]) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, (str, dict)):
        problems.append(f"{where}: expected a numeric array of shape {_shape(shape)}, got {_describe(value)}")
        return
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        problems.append(f"{where}: expected a numeric array of shape {_shape(shape)}, got a ragged list")
        return
    if arr.dtype.kind not in "biuf":
        problems.append(f"{where}: expected a numeric array of shape {_shape(shape)}, got {_describe(arr)}")
    elif arr.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, arr.shape)):
        problems.append(f"{where}: expected shape {_shape(shape)}, got shape {tuple(arr.shape)}")


def _shape(shape: tuple) -> str:
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def non_finite(value: Any, path: str = "") -> list[tuple[str, int, int]]:
    """``(where, NaN count, inf count)`` for every part of ``value`` holding NaN or inf."""
    out: list[tuple[str, int, int]] = []
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        nan, inf = int(np.isnan(value).sum()), int(np.isinf(value).sum())
        if nan or inf:
            out.append((_where(path), nan, inf))
    elif isinstance(value, float) and not math.isfinite(value):
        out.append((_where(path), int(math.isnan(value)), int(math.isinf(value))))
    elif isinstance(value, list):
        floats = [v for v in value if isinstance(v, float)]
        if floats and len(floats) == len(value):  # a list of numbers: count it as one
            nan, inf = sum(math.isnan(v) for v in floats), sum(math.isinf(v) for v in floats)
            if nan or inf:
                out.append((_where(path), nan, inf))
        else:
            for i, item in enumerate(value):
                out += non_finite(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            out += non_finite(item, f"{path}[{key!r}]")
    return out


def non_finite_note(value: Any) -> str:
    """A short note naming where NaN/inf are, or ``""``."""
    found = non_finite(value)
    if not found:
        return ""
    parts = []
    for where, nan, inf in found[:3]:
        counts = " and ".join(c for c in (f"{nan} NaN" if nan else "", f"{inf} inf" if inf else "") if c)
        parts.append(f"{where} holds {counts}")
    more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
    return "your result is not finite: " + "; ".join(parts) + more


def curves(value: Any) -> dict[str, list[float]]:
    """Per-epoch histories (``loss``, ``val_accuracy``, …) found at the top of
    an observation or under its ``history`` key, for plotting."""
    found: dict[str, list[float]] = {}
    for source in (value, value.get("history") if isinstance(value, dict) else None):
        if not isinstance(source, dict):
            continue
        for key in CURVE_KEYS:
            series = source.get(key)
            if isinstance(series, np.ndarray) and series.ndim == 1:
                series = series.tolist()
            if (isinstance(series, list) and 0 < len(series) <= MAX_CURVE
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in series)):
                found.setdefault(key, [float(v) for v in series])
    return found
