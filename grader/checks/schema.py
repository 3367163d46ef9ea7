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
before any judge code runs on it: "wrong shape" or "wrong type", and the
call of the student's code that returned it (read from the check's
``observe`` by :mod:`grader.checks.describe`; ``names``), never the
observation's own keys.

NaN and inf are not refused (a judge may accept them: a loss that diverged
is a result too) but :func:`non_finite_note` names where they are, and the
runner adds that to the message of a check that did not pass.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from grader.checks import describe
from grader.checks.parts import failed as _failed_part

MAX_DEPTH = 16
MAX_ITEMS = 100_000
MAX_KEY = 200
MAX_STRING = 100_000
#: Names of per-epoch histories a training check's observation may carry;
#: reports plot them as training curves.
CURVE_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy", "acc", "val_acc", "perplexity", "val_perplexity")
MAX_CURVE = 10_000


def validate(value: Any, schema: Any = None, names: describe.Producers = describe.NONE) -> list[str]:
    """Problems with ``value`` (empty when it is fine): generic caps first,
    then ``schema``. At most five, each naming the offending part as
    ``names`` (:func:`grader.checks.describe.producers` of the check) says:
    the call that returned it, else "your result"."""
    problems: list[str] = []
    _caps(value, (), 0, problems, names)
    if not problems and schema is not None:
        _match(value, schema, (), problems, names)
    return problems[:5]


def _caps(value: Any, path: tuple, depth: int, problems: list[str], names: describe.Producers) -> None:
    if len(problems) >= 5:
        return
    where = names.subject(path).text
    if depth > MAX_DEPTH:
        problems.append(f"{where}: nested more than {MAX_DEPTH} levels deep")
    elif isinstance(value, str) and len(value) > MAX_STRING:
        problems.append(f"{where}: a string of {len(value):,} characters (at most {MAX_STRING:,})")
    elif isinstance(value, (list, dict)) and len(value) > MAX_ITEMS:
        problems.append(f"{where}: {len(value):,} items (at most {MAX_ITEMS:,}; return an array instead)")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _caps(item, path + (i,), depth + 1, problems, names)
    elif isinstance(value, dict):
        for key, item in value.items():
            if len(key) > MAX_KEY:
                problems.append(f"{where}: a key of {len(key)} characters")
                return
            _caps(item, path + (key,), depth + 1, problems, names)


#: A scalar's type in words.
_TYPE_WORDS = {bool: "a bool", int: "an int", float: "a float", str: "a string"}


def _describe(value: Any) -> str:
    """``value`` in a student's words: ``4.0 (a float)``, ``a list of 3 items``."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return f"a dict with keys {', '.join(map(repr, sorted(value)[:6]))}" if value else "an empty dict"
    if value is None:
        return "None"
    text = repr(value)
    text = text if len(text) < 40 else text[:37] + "..."
    return f"{text} ({_TYPE_WORDS.get(type(value), 'a ' + type(value).__name__)})"


def _wrong_type(subject: describe.Subject, value: Any, expected: str) -> str:
    return f"wrong type: {subject.is_} {_describe(value)}, expected {expected}"


def _match(value: Any, spec: Any, path: tuple, problems: list[str], names: describe.Producers) -> None:
    # A part that failed (:mod:`grader.checks.parts`) stands wherever a value
    # may: its judge scores it 0 with the reason.
    if len(problems) >= 5 or spec is None or _failed_part(value) is not None:
        return
    where = names.subject(path)
    if spec is bool:
        if not isinstance(value, bool):
            problems.append(_wrong_type(where, value, "True or False"))
    elif spec is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(_wrong_type(where, value, "an int"))
    elif spec is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append(_wrong_type(where, value, "a number"))
    elif spec is str:
        if not isinstance(value, str):
            problems.append(_wrong_type(where, value, "a string"))
    elif isinstance(spec, tuple):
        _match_array(value, spec, where, problems)
    elif isinstance(spec, list):
        if not isinstance(value, list):
            problems.append(_wrong_type(where, value, "a list"))
        elif spec:
            # Items that are wrong alike (every size a float) are told once, with a count.
            bad: list[str] = []
            for i, item in enumerate(value):
                found: list[str] = []
                _match(item, spec[0], path + (i,), found, names)
                bad += found[:1]
            if bad:
                more = f" (and {len(bad) - 1} more of the {len(value)} items)" if len(bad) > 1 else ""
                problems.append(bad[0] + more)
    elif isinstance(spec, dict):
        if not isinstance(value, dict):
            problems.append(_wrong_type(where, value, f"a dict with keys {', '.join(map(repr, sorted(spec)))}"))
            return
        missing, extra = sorted(set(spec) - set(value)), sorted(set(value) - set(spec))
        if missing or extra:
            parts = ([f"missing {', '.join(map(repr, missing))}"] if missing else []) + \
                    ([f"unexpected {', '.join(map(repr, extra))}"] if extra else [])
            problems.append(f"{where.text}: {'; '.join(parts)}")
            return
        for key, sub in spec.items():
            _match(value[key], sub, path + (key,), problems, names)
    else:
        raise TypeError(f"unknown schema element {spec!r} at {where.text}")


def _match_array(value: Any, shape: tuple, where: describe.Subject, problems: list[str]) -> None:
    expected = f"a numeric array of shape {_shape(shape)}"
    if isinstance(value, bool) or value is None or isinstance(value, (str, dict)):
        problems.append(_wrong_type(where, value, expected))
        return
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        problems.append(f"wrong type: {where.is_} a ragged list, expected {expected}")
        return
    if arr.dtype.kind not in "biuf":
        problems.append(_wrong_type(where, arr, expected))
    elif arr.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, arr.shape)):
        problems.append(f"wrong shape: {where.has} shape {tuple(arr.shape)}, expected {_shape(shape)}")


def _shape(shape: tuple) -> str:
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def non_finite(value: Any, path: tuple = (), names: describe.Producers = describe.NONE) -> list[tuple[str, int, int]]:
    """``(where, NaN count, inf count)`` for every part of ``value`` holding
    NaN or inf; ``where`` as ``names`` says (see :func:`validate`)."""
    out: list[tuple[str, int, int]] = []
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        nan, inf = int(np.isnan(value).sum()), int(np.isinf(value).sum())
        if nan or inf:
            out.append((names.subject(path).text, nan, inf))
    elif isinstance(value, float) and not math.isfinite(value):
        out.append((names.subject(path).text, int(math.isnan(value)), int(math.isinf(value))))
    elif isinstance(value, list):
        floats = [v for v in value if isinstance(v, float)]
        if floats and len(floats) == len(value):  # a list of numbers: count it as one
            nan, inf = sum(math.isnan(v) for v in floats), sum(math.isinf(v) for v in floats)
            if nan or inf:
                out.append((names.subject(path).text, nan, inf))
        else:
            for i, item in enumerate(value):
                out += non_finite(item, path + (i,), names)
    elif isinstance(value, dict):
        for key, item in value.items():
            out += non_finite(item, path + (key,), names)
    return out


def non_finite_note(value: Any, names: describe.Producers = describe.NONE) -> str:
    """A short note naming where NaN/inf are, or ``""``."""
    found: dict[str, list[int]] = {}
    for where, nan, inf in non_finite(value, names=names):  # parts named alike ("your result") are counted together
        counts = found.setdefault(where, [0, 0])
        counts[0], counts[1] = counts[0] + nan, counts[1] + inf
    if not found:
        return ""
    parts = []
    for where, (nan, inf) in list(found.items())[:3]:
        counts = " and ".join(c for c in (f"{nan} NaN" if nan else "", f"{inf} inf" if inf else "") if c)
        parts.append(f"{where} holds {counts}")
    more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
    return "not finite: " + "; ".join(parts) + more


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
