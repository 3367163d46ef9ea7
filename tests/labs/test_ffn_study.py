"""The feed-forward lab's study (the slides' 编程作业): its declaration
matches the reference's ``run_config``, the starter leaves it to the
student, and the reference's table is a valid hand-in whose factors matter."""

import inspect

import numpy as np
import pytest

from grader.labs import markers
from grader.labs.lab import Lab, load_submission
from grader.study import table


@pytest.fixture(scope="module")
def lab():
    return Lab.load("ffn")


@pytest.fixture(scope="module")
def reference(lab):
    return load_submission(lab.solution_file, lab.module, alias="_ref_ffn_study")


def test_the_declaration_names_run_config_and_its_arguments(lab, reference):
    study = lab.study
    assert study is not None and study.function == "run_config"
    assert study.configurations == 81 and study.reproduce == 2
    parameters = inspect.signature(getattr(reference, study.function)).parameters
    assert list(parameters) == [*study.factors, "seed"]
    assert parameters["seed"].kind is inspect.Parameter.KEYWORD_ONLY
    assert all(p.default is inspect.Parameter.empty for p in parameters.values())
    assert study.rubric and 3 <= len(study.rubric) <= 5
    assert lab.points == pytest.approx(lab.meta["points"])


def test_the_starter_leaves_the_study_to_the_student(lab):
    starter = lab.starter_file.read_text()
    for name in ("build_regressor", "train_regressor", "run_config"):
        body = starter.split(f"def {name}(", 1)[1].split("\ndef ", 1)[0]
        assert "raise NotImplementedError" in body, name


def test_the_reference_results_stay_out_of_the_starter(lab):
    assert (lab.solution_dir / lab.study.table).is_file() and (lab.solution_dir / lab.study.report).is_file()
    generated = markers.starter_files(lab.solution_dir)
    assert lab.study.table not in generated and lab.study.report not in generated
    assert not (lab.starter_dir / lab.study.table).exists() and not (lab.starter_dir / lab.study.report).exists()


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
