"""The competition's metrics against scikit-learn, and SMAPE against a case worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from grader.competition.metrics import METRICS, canonical_label, get_metric


@pytest.fixture(params=[0, 1, 2])
def rng(request):
    return np.random.default_rng(request.param)


def test_accuracy_matches_scikit_learn(rng):
    t = rng.integers(0, 5, 200)
    p = np.where(rng.random(200) < 0.6, t, rng.integers(0, 5, 200))
    assert get_metric("accuracy")(t.astype(str), p.astype(str)) == pytest.approx(skm.accuracy_score(t, p))


def test_macro_f1_matches_scikit_learn_with_classes_missing_on_either_side(rng):
    t = rng.integers(0, 6, 150)
    p = np.where(rng.random(150) < 0.5, t, rng.integers(0, 7, 150))  # class 6 is only ever predicted
    p[p == 3] = 4  # class 3 is never predicted
    ours = get_metric("macro-F1")([str(v) for v in t], [str(v) for v in p])
    assert ours == pytest.approx(skm.f1_score(t, p, average="macro", zero_division=0))


def test_binary_f1_scores_the_positive_class(rng):
    t = rng.integers(0, 2, 120)
    p = np.where(rng.random(120) < 0.7, t, 1 - t)
    f1 = get_metric("f1")
    assert f1(t.astype(str), p.astype(str)) == pytest.approx(skm.f1_score(t, p))
    assert f1(t.astype(str), p.astype(str), positive="0") == pytest.approx(skm.f1_score(t, p, pos_label=0))
    labels = np.array(["cat", "dog"])
    assert f1(labels[t], labels[p], positive="dog") == pytest.approx(skm.f1_score(t, p))


def test_rmse_and_mae_match_scikit_learn(rng):
    t, p = rng.normal(size=80), rng.normal(size=80)
    assert get_metric("rmse")(t, p) == pytest.approx(np.sqrt(skm.mean_squared_error(t, p)))
    assert get_metric("mae")(t, p) == pytest.approx(skm.mean_absolute_error(t, p))


def test_roc_auc_matches_scikit_learn_with_tied_scores(rng):
    t = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300) + 0.3 * t, 1)  # rounding makes many ties
    assert get_metric("roc_auc")(t.astype(str), scores) == pytest.approx(skm.roc_auc_score(t, scores))


def test_roc_auc_needs_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        get_metric("roc_auc")(["1", "1"], [0.2, 0.3])


def test_smape_as_kaggle_defines_it_with_zero_over_zero_counted_as_zero():
    actual, forecast = [100, 0, 50, 0], [110, 0, 40, 5]
    # terms: 10/105, 0/0 → 0, 10/45, 5/2.5  →  100/4 * (2/21 + 2/9 + 2) = 14600/252
    assert get_metric("smape")(actual, forecast) == pytest.approx(14600 / 252)
    assert get_metric("smape")([0, 0], [0, 0]) == 0
    assert get_metric("smape")([1, 2], [-1, -2]) == pytest.approx(200)


def test_directions_and_kinds():
    lower = {name for name, m in METRICS.items() if not m.higher_is_better}
    assert lower == {"rmse", "mae", "smape"}
    assert get_metric("smape").better(1.0, 2.0) and get_metric("accuracy").better(0.9, 0.8)
    with pytest.raises(ValueError, match="unknown metric 'top5'.*accuracy"):
        get_metric("top5")


def test_labels_compare_as_written_numbers():
    assert canonical_label(" 1.0 ") == "1" and canonical_label("猫 ") == "猫" and canonical_label("1.5") == "1.5"
    assert get_metric("accuracy")(["1", "2"], ["1.0", "2"]) == 1.0
