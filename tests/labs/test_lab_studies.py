"""What every lab with a study must satisfy, parametrised over those labs:
``run_config`` takes the declared factors in order and a keyword-only seed
(no defaults), the starter leaves it to the student, the reference's table
and write-up stay out of the starter, and the reference's table is a
complete, valid hand-in. Each lab's own figures are tested in
``test_<lab>_study.py``."""

import inspect
import math

import pytest

from grader.labs import markers
from grader.labs.lab import Lab, all_lab_ids, load_submission
from grader.study import table

STUDY_LABS = [lab_id for lab_id in all_lab_ids() if Lab.load(lab_id).study is not None]


def test_the_labs_with_studies():
    assert {"cnn", "ffn", "gcn", "transformer"} <= set(STUDY_LABS)


@pytest.mark.parametrize("lab_id", STUDY_LABS)
def test_run_config_takes_the_factors_in_order_and_a_keyword_only_seed(lab_id):
    lab = Lab.load(lab_id)
    reference = load_submission(lab.solution_file, lab.module, alias=f"_study_signature_{lab_id}")
    parameters = inspect.signature(getattr(reference, lab.study.function)).parameters
    assert list(parameters) == [*lab.study.factors, "seed"]
    assert parameters["seed"].kind is inspect.Parameter.KEYWORD_ONLY
    assert all(p.default is inspect.Parameter.empty for p in parameters.values())
    assert 3 <= len(lab.study.rubric) <= 6 and 1 <= lab.study.reproduce <= 3
    # The study's points are its own: the checks' points still add up to the lab's.
    assert lab.points == pytest.approx(lab.meta["points"])


@pytest.mark.parametrize("lab_id", STUDY_LABS)
def test_the_starter_leaves_run_config_to_the_student(lab_id):
    lab = Lab.load(lab_id)
    body = lab.starter_file.read_text().split(f"def {lab.study.function}(", 1)[1].split("\ndef ", 1)[0]
    assert "raise NotImplementedError" in body


@pytest.mark.parametrize("lab_id", STUDY_LABS)
def test_the_reference_results_stay_out_of_the_starter(lab_id):
    """study.csv and report.md are the reference's answers: the starter
    generated from the solution folder leaves them out."""
    lab = Lab.load(lab_id)
    assert (lab.solution_dir / lab.study.table).is_file() and (lab.solution_dir / lab.study.report).is_file()
    generated = markers.starter_files(lab.solution_dir)
    assert lab.study.table not in generated and lab.study.report not in generated
    assert lab.filename in generated
    assert not (lab.starter_dir / lab.study.table).exists() and not (lab.starter_dir / lab.study.report).exists()


@pytest.mark.parametrize("lab_id", STUDY_LABS)
def test_the_reference_table_is_complete_and_valid(lab_id):
    lab = Lab.load(lab_id)
    rows = table.read(lab.solution_dir, lab.study)
    assert len(rows) == lab.study.configurations
    assert {tuple(r.factors.values()) for r in rows} == {tuple(c.values()) for c in table.grid(lab.study)}
    assert {r.seed for r in rows} == {0}
    assert all(math.isfinite(v) for r in rows for v in r.metrics.values())
