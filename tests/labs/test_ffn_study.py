"""The feed-forward lab's study (the slides' 编程作业): the starter leaves
it to the student, and the reference's table is a valid hand-in whose
factors matter (what every study must satisfy: test_lab_studies.py)."""

import numpy as np
import pytest

from grader.labs.lab import Lab
from grader.study import table


@pytest.fixture(scope="module")
def lab():
    return Lab.load("ffn")


def test_the_starter_leaves_the_study_to_the_student(lab):
    starter = lab.starter_file.read_text()
    for name in ("build_regressor", "train_regressor", "run_config"):
        body = starter.split(f"def {name}(", 1)[1].split("\ndef ", 1)[0]
        assert "raise NotImplementedError" in body, name


def test_the_reference_table_is_a_valid_hand_in_whose_factors_matter(lab):
    study = lab.study
    rows = table.read(lab.solution_dir, study)
    assert len(rows) == study.configurations
    assert {r.seed for r in rows} == {0}
    val = np.array([r.metrics["log10_val_mse"] for r in rows])
    assert np.all(np.isfinite(val))
    # The configurations differ by orders of magnitude: the best fits the curve, the worst barely learns it.
    assert val.min() < -2.5 and val.max() > -1.0
    by_rate = {rate: np.median([r.metrics["log10_val_mse"] for r in rows if r.factors["learning_rate"] == rate])
               for rate in study.factors["learning_rate"]}
    # 0.001 under-trains in the fixed step budget: the slowest rate is the worst on the median row.
    assert by_rate[0.001] == max(by_rate.values())
