"""A lab's ``[study]`` declaration: read when well formed, refused with a
message that says what to fix when not."""

import pytest

from grader.labs.study import Study, StudyError

GOOD = {
    "title": "Depth and activation", "function": "run_config", "metrics": ["val_accuracy"],
    "factors": {"depth": [1, 2, 4], "activation": ["relu", "tanh"]},
    "tolerance": {"val_accuracy": 0.02}, "reproduce": 3,
    "rubric": [{"id": "depth", "item": "Explains depth with the table's numbers", "points": 2}],
}


def test_a_well_formed_study_is_read():
    study = Study.from_toml(GOOD)
    assert study.factors == {"depth": (1, 2, 4), "activation": ("relu", "tanh")}
    assert study.configurations == 6 and study.reproduce == 3 and study.rubric_points == 2
    assert (study.table, study.report, study.data) == ("study.csv", "report.md", "")
    assert Study.from_toml({**GOOD, "data": "cnn_study_files"}).data == "cnn_study_files"


@pytest.mark.parametrize("change, words", [
    ({"function": None}, "needs `function`"),
    ({"factors": {"seed": [0, 1]}}, "not `seed`"),
    ({"factors": {"depth": []}}, "non-empty list"),
    ({"factors": {"depth": [1, 1]}}, "distinct"),
    ({"tolerance": {}}, "one tolerance per metric"),
    ({"metrics": ["depth"]}, "both a metric and a factor"),
    ({"table": "../study.csv"}, "plain file name"),
    ({"table": "study.xlsx"}, ".csv or .json"),
    ({"rubric": [{"id": "x", "item": "y", "points": 0}]}, "points must be a number > 0"),
    ({"rubric": [{"id": "x", "item": "y", "points": 1}, {"id": "x", "item": "z", "points": 1}]}, "distinct"),
    ({"reproduce": 0}, "reproduce"),
    ({"colour": "red"}, "unknown key"),
    ({"data": "os.system"}, "must name a function of grader.data"),
])
def test_a_malformed_study_is_refused_with_what_to_fix(change, words):
    table = {**GOOD, **change}
    table = {k: v for k, v in table.items() if v is not None}
    with pytest.raises(StudyError, match=words):
        Study.from_toml(table)
