"""The metrics a competition is scored with, by name.

Each :class:`Metric` says whether higher is better and what a prediction
is: a class label (``accuracy``, ``macro_f1``, ``f1``), a number
(``rmse``, ``mae``, ``smape``) or a score for the positive class
(``roc_auc``). The functions are NumPy only and follow scikit-learn's
definitions where it has one (the tests hold them to it); ``smape`` is the
one Kaggle's disease-progression challenge uses::

    SMAPE = 100/n * sum |F - A| / ((|A| + |F|) / 2)      with 0/0 counted as 0

Labels are compared as text after :func:`canonical_label` (``"1.0"`` is
the label ``"1"``), so a label column read from CSV needs no guessing of
types.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np

#: What a prediction is: a class label, a number, or a score for the positive class.
LABEL, NUMBER, SCORE = "label", "number", "score"


@dataclasses.dataclass(frozen=True)
class Metric:
    """A metric: its name, the function ``(truth, predicted, positive) -> float``,
    its direction and what a prediction is (:data:`LABEL`, :data:`NUMBER`, :data:`SCORE`)."""

    name: str
    function: Callable[..., float]
    higher_is_better: bool
    kind: str
    description: str

    def __call__(self, truth, predicted, *, positive: str = "1") -> float:
        return float(self.function(truth, predicted, positive))

    def better(self, a: float, b: float) -> bool:
        """Whether score ``a`` is strictly better than ``b``."""
        return a > b if self.higher_is_better else a < b

    def sort_key(self, score: float) -> float:
        """A key that sorts the best score first."""
        return -score if self.higher_is_better else score


def canonical_label(text: str) -> str:
    """A label as compared: stripped, and a whole number written as one
    (``" 1.0"`` → ``"1"``) so that pandas' floats match the labels' integers."""
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        return text
    if math.isfinite(value) and value == int(value) and abs(value) < 2 ** 53:
        return str(int(value))
    return text


def _labels(values) -> np.ndarray:
    return np.asarray([canonical_label(str(v)) for v in values], dtype=object)


def accuracy(truth, predicted, positive="1") -> float:
    t, p = _labels(truth), _labels(predicted)
    return float(np.mean(t == p))


def _f1(t: np.ndarray, p: np.ndarray, label: str) -> float:
    tp = np.sum((p == label) & (t == label))
    fp = np.sum((p == label) & (t != label))
    fn = np.sum((p != label) & (t == label))
    # scikit-learn's zero_division=0: a class never predicted nor present scores 0.
    return 0.0 if tp == 0 else float(2 * tp / (2 * tp + fp + fn))


def f1_binary(truth, predicted, positive="1") -> float:
    return _f1(_labels(truth), _labels(predicted), canonical_label(positive))


def f1_macro(truth, predicted, positive="1") -> float:
    t, p = _labels(truth), _labels(predicted)
    # As scikit-learn: the mean over every label seen in the truth or the predictions.
    labels = sorted(set(t.tolist()) | set(p.tolist()))
    return float(np.mean([_f1(t, p, label) for label in labels]))


def _numbers(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def rmse(truth, predicted, positive="1") -> float:
    return float(np.sqrt(np.mean((_numbers(truth) - _numbers(predicted)) ** 2)))


def mae(truth, predicted, positive="1") -> float:
    return float(np.mean(np.abs(_numbers(truth) - _numbers(predicted))))


def smape(truth, predicted, positive="1") -> float:
    a, f = _numbers(truth), _numbers(predicted)
    denominator = (np.abs(a) + np.abs(f)) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(denominator == 0, 0.0, np.abs(f - a) / denominator)
    return float(100 * np.mean(terms))


def roc_auc(truth, predicted, positive="1") -> float:
    """The area under the ROC curve: the chance that a positive's score beats
    a negative's, ties counting one half (Mann-Whitney U over average ranks)."""
    is_positive = _labels(truth) == canonical_label(positive)
    scores = _numbers(predicted)
    n_pos, n_neg = int(is_positive.sum()), int((~is_positive).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC-AUC needs both classes in the truth")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # Average ranks (1-based) over runs of equal scores.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(scores)]
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + 1 + e) / 2
    u = ranks[is_positive].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("accuracy", accuracy, True, LABEL, "share of rows whose label is right"),
    Metric("macro_f1", f1_macro, True, LABEL, "F1 of every class, averaged with equal weights"),
    Metric("f1", f1_binary, True, LABEL, "F1 of the positive class (binary)"),
    Metric("rmse", rmse, False, NUMBER, "root mean squared error"),
    Metric("mae", mae, False, NUMBER, "mean absolute error"),
    Metric("roc_auc", roc_auc, True, SCORE, "area under the ROC curve of the positive class's scores"),
    Metric("smape", smape, False, NUMBER, "symmetric mean absolute percentage error, in percent (Kaggle's)"),
)}


def get_metric(name: str) -> Metric:
    """The metric called ``name`` (``-`` and case ignored: ``Macro-F1`` is
    ``macro_f1``); ``ValueError`` naming the known ones otherwise."""
    key = name.strip().lower().replace("-", "_")
    if key not in METRICS:
        raise ValueError(f"unknown metric {name!r}: one of {', '.join(METRICS)}")
    return METRICS[key]
