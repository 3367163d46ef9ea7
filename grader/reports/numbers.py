"""Scores as people read them: every table, feedback file, self-check and
test message shows points through :func:`format_points` and
:func:`format_score`, so a third of a point reads ``0.33`` everywhere,
never ``0.333333``. (``grades.csv``, which people open in a spreadsheet,
keeps three decimals, so its columns still add up to the total; the
machine-read ``results.json`` and ``results.jsonl`` keep the recorded
precision.)

Standard library only: the check API, the sandbox's worker and the student
bundle's tests all import it.
"""

from __future__ import annotations

#: Decimals shown: a check's share of its points is rarely finer than a hundredth.
DECIMALS = 2


def format_points(value: float) -> str:
    """``value`` with at most two decimals and no trailing zeros:
    ``3.0`` → ``"3"``, ``1.5`` → ``"1.5"``, ``2/3`` → ``"0.67"``."""
    text = f"{float(value):.{DECIMALS}f}".rstrip("0").rstrip(".")
    # A tiny negative (round-off) must not read "-0".
    return "0" if text in ("-0", "") else text


def format_score(score: float, points: float) -> str:
    """``score/points`` as shown in tables: ``"0.67/1"``."""
    return f"{format_points(score)}/{format_points(points)}"
