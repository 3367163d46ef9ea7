"""Shared helpers for the *judge* half of a check (trusted process, NumPy only).

Every helper returns a :class:`~grader.checks.check.Verdict` whose message tells the
student what went wrong (shape, dtype, relative error, which item) without
printing the hidden expected values. A value that is a failed part's marker
(:mod:`grader.checks.parts`) scores 0 with the part's reason, in every helper:
the parts that worked keep their share in :func:`all_of`.

Tolerances follow CS231n: the relative error
``max |a - b| / max(|a| + |b|, tiny)`` is about 1e-7 or less for a correct
float64 computation, 1e-5..1e-3 for float32, and > 1e-2 means wrong.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

from grader.checks import parts
from grader.checks.check import Verdict

#: Default thresholds on the relative error (documented in the handouts).
FLOAT32_TOL = 1e-4
FLOAT64_TOL = 1e-7


class BadObservation(Exception):
    """Raised by helpers when what the student returned cannot be judged
    (wrong type, wrong shape, NaN). The grader turns it into a 0 verdict
    with this message."""


def failed_part(value: Any, what: str = "") -> Verdict | None:
    """A 0 verdict saying why, when ``value`` is a part that failed (not
    implemented yet, or raised), else None. For judges that compute on an
    observed value before handing it to a helper::

        if (verdict := judges.failed_part(got["logits"], "logits")) is not None:
            return verdict
    """
    found = parts.failed(value)
    if found is None:
        return None
    text = found["message"]
    if found[parts.MARKER] == parts.ERROR and not text.startswith(parts.UNUSABLE):
        text = f"your code raised {text}"
    return Verdict(0.0, f"{what}: {text}" if what else text)


def _denominator(a: np.ndarray, b: np.ndarray, floor: float | None) -> np.ndarray:
    if floor is None:
        # Elements far smaller than the tensor's scale (cancellations near zero)
        # are measured against 1e-3 of that scale, so float32 round-off on them
        # does not fail an honest answer.
        floor = max(1e-3 * float(np.max(np.abs(b), initial=0.0)), 1e-8)
    return np.maximum(floor, np.abs(a) + np.abs(b))


def rel_error(a, b, floor: float | None = 1e-8) -> float:
    """CS231n relative error ``max |a-b| / max(|a|+|b|, floor)``, elementwise.

    ``floor=None`` uses 1e-3 of ``b``'s largest magnitude (see :func:`close`).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / _denominator(a, b, floor)))


def as_array(value: Any, what: str, *, shape: Sequence[int] | None = None, finite: bool = True) -> np.ndarray:
    """``value`` as a float64 array, or :class:`BadObservation` explaining why
    not ("wrong shape: ``what`` has shape …", "wrong type: …"): ``what``
    names the value in the student's terms, e.g. the call that returned it."""
    if (failure := failed_part(value, what)) is not None:
        raise BadObservation(failure.message)
    if value is None:
        raise BadObservation(f"wrong type: {what} is None (did the function return anything?)")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - any failure means "not an array"
        raise BadObservation(f"wrong type: {what} could not be read as an array ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise BadObservation(f"wrong type: {what} is an array of dtype {arr.dtype}, expected numbers")
    arr = arr.astype(np.float64)
    if shape is not None and tuple(arr.shape) != tuple(shape):
        expected = "a single number" if tuple(shape) == () else tuple(shape)
        raise BadObservation(f"wrong shape: {what} has shape {tuple(arr.shape)}, expected {expected}")
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise BadObservation(f"{what}: contains {bad} NaN/inf value(s)")
    return arr


def close(got, want, what: str, *, tol: float = FLOAT32_TOL, hint: str = "") -> Verdict:
    """Values agree up to relative error ``tol`` (shapes must match exactly).

    The relative error is CS231n's, except that elements much smaller than
    the expected tensor's largest magnitude are compared against 1e-3 of it.
    """
    if (failure := failed_part(got, what)) is not None:
        return failure
    want = np.asarray(want, dtype=np.float64)
    try:
        got = as_array(got, what, shape=want.shape)
    except BadObservation as exc:
        return Verdict(0.0, str(exc))
    err = rel_error(got, want, floor=None)
    if err <= tol:
        return Verdict(1.0, f"{what}: relative error {err:.1e} (≤ {tol:.0e})")
    where = np.unravel_index(int(np.argmax(np.abs(got - want) / _denominator(got, want, None))), want.shape) if want.ndim else ()
    loc = f" (worst at index {tuple(int(i) for i in where)})" if want.ndim else ""
    msg = f"{what}: relative error {err:.1e} > {tol:.0e}{loc}"
    return Verdict(0.0, f"{msg}. {hint}".strip() if hint else msg)


def gradient(got, want, what: str, *, tol: float = FLOAT64_TOL, hint: str = "") -> Verdict:
    """A gradient compared in float64: relative error ≤ ``tol`` (1e-7 by default)."""
    return close(got, want, what, tol=tol, hint=hint)


def equal(got, want, what: str, *, hint: str = "") -> Verdict:
    """Exact equality of integers, strings, shapes or small lists of them."""
    if (failure := failed_part(got, what)) is not None:
        return failure
    if _plain(got) == _plain(want):
        return Verdict(1.0, f"{what}: correct")
    return Verdict(0.0, f"{what}: got {_short(got)}, which is not right. {hint}".strip())


def at_least(value, threshold: float, what: str, *, baseline: float | None = None) -> Verdict:
    """``value >= threshold`` earns full marks. With a ``baseline`` (what a
    trivial model scores), partial credit grows linearly from baseline to threshold."""
    if (failure := failed_part(value, what)) is not None:
        return failure
    try:
        value = float(as_array(value, what, shape=()))
    except BadObservation as exc:
        return Verdict(0.0, str(exc))
    if value >= threshold:
        return Verdict(1.0, f"{what} = {value:.4f} ≥ {threshold:.4f}")
    fraction = 0.0
    if baseline is not None and threshold > baseline:
        fraction = max(0.0, (value - baseline) / (threshold - baseline)) * 0.5
    return Verdict(fraction, f"{what} = {value:.4f}, below the threshold {threshold:.4f}")


def at_most(value, threshold: float, what: str) -> Verdict:
    """``value <= threshold`` earns full marks (losses, perplexities, errors)."""
    if (failure := failed_part(value, what)) is not None:
        return failure
    try:
        value = float(as_array(value, what, shape=()))
    except BadObservation as exc:
        return Verdict(0.0, str(exc))
    if value <= threshold:
        return Verdict(1.0, f"{what} = {value:.4g} ≤ {threshold:.4g}")
    return Verdict(0.0, f"{what} = {value:.4g}, above the threshold {threshold:.4g}")


def accuracy(predictions, labels, what: str = "predictions") -> float:
    """Fraction of ``predictions`` (class ids, or scores whose argmax is taken)
    equal to ``labels``. Raises :class:`BadObservation` on a wrong shape or a
    part that failed."""
    if (failure := failed_part(predictions, what)) is not None:
        raise BadObservation(failure.message)
    labels = np.asarray(labels)
    pred = np.asarray(predictions)
    if pred.ndim == labels.ndim + 1:
        pred = pred.argmax(axis=-1)
    pred = as_array(pred, what, shape=labels.shape)
    return float(np.mean(pred == labels))


def binomial_ok(count: int, n: int, p: float, *, sigmas: float = 5.0) -> bool:
    """Whether ``count`` successes out of ``n`` is plausible for probability
    ``p`` (within ``sigmas`` standard deviations; 5σ: false alarm ≈ 6e-7)."""
    sd = math.sqrt(max(n * p * (1 - p), 1e-12))
    return abs(count - n * p) <= sigmas * sd


def property_holds(ok: bool, what: str, why_not: str = "") -> Verdict:
    """A yes/no property (invariance, identity, causality). ``ok`` may be the
    observed part itself (a failed part's marker scores 0 with its reason)."""
    if (failure := failed_part(ok, what)) is not None:
        return failure
    if ok:
        return Verdict(1.0, f"{what}: holds")
    return Verdict(0.0, f"{what}: does not hold. {why_not}".strip())


def property_of(values: Sequence[Any], test, what: str, why_not: str = "") -> Verdict:
    """:func:`property_holds` for ``test(*values)``, a property computed from
    observed parts (``abs(got["cost"] - got["emd"]) < 1e-9``): a part among
    ``values`` that failed scores 0 with its reason instead of breaking ``test``."""
    for value in values:
        if (failure := failed_part(value, what)) is not None:
            return failure
    return property_holds(bool(test(*values)), what, why_not)


def all_of(verdicts: Iterable[Verdict], weights: Sequence[float] | None = None) -> Verdict:
    """Combine sub-verdicts: the weighted mean of fractions; the message lists
    failures first (or all items when everything passed)."""
    verdicts = list(verdicts)
    if not verdicts:
        return Verdict(0.0, "nothing to judge")
    weights = list(weights) if weights is not None else [1.0] * len(verdicts)
    fraction = sum(v.fraction * w for v, w in zip(verdicts, weights)) / sum(weights)
    failed = [v.message for v in verdicts if not v.passed]
    if not failed:
        return Verdict(fraction, verdicts[0].message if len(verdicts) == 1 else f"all {len(verdicts)} parts correct")
    return Verdict(fraction, "; ".join(m for m in failed if m))


def gated(substantive: Iterable[Verdict], trivial: Iterable[Verdict],
          weights: Sequence[float] | None = None) -> Verdict:
    """:func:`all_of` over ``substantive + trivial``, where the ``trivial``
    verdicts (properties a constant answer also has: "masked weights are 0",
    "the same seed gives the same draws", "raises ValueError") count only
    once every substantive verdict has passed: an answer that does not
    depend on the inputs earns nothing."""
    substantive, trivial = list(substantive), list(trivial)
    if not all(v.passed for v in substantive):
        trivial = [Verdict(0.0, f"(not counted until the rest passes) {v.message}" if v.message else "")
                   for v in trivial]
    return all_of(substantive + trivial, weights=weights)


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _short(value, limit: int = 80) -> str:
    text = repr(_plain(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."
