"""Parts of a check scored on their own (:mod:`grader.checks.parts`): what a
failed part becomes, and how judges and schemas read it."""

import json

import numpy as np
import pytest

from grader.checks import judges, parts, schema
from grader.core import protocol


def _todo():
    raise NotImplementedError("same_padding: the slide's formula")


def _divide():
    return 1 / 0


def test_a_working_part_is_its_plain_value():
    assert parts.attempt(lambda: (np.int64(3), 4.5)) == [3, 4.5]
    assert parts.each(a=lambda: 1, b=lambda: "x") == {"a": 1, "b": "x"}


def test_not_implemented_is_a_todo_marker_with_the_reason():
    got = parts.each(sizes=lambda: [1, 2], same=_todo)
    assert got["sizes"] == [1, 2]
    assert parts.failed(got["same"]) == {parts.MARKER: parts.TODO,
                                         "message": "not implemented yet (same_padding: the slide's formula)"}
    assert parts.failed(parts.attempt(lambda: (_ for _ in ()).throw(NotImplementedError())))["message"] \
        == "not implemented yet"


def test_an_exception_is_an_error_marker_naming_the_students_line():
    with parts.student_file(__file__):
        found = parts.failed(parts.attempt(_divide))
    assert found[parts.MARKER] == parts.ERROR
    assert found["message"].startswith("ZeroDivisionError: division by zero")
    assert "test_parts.py line" in found["message"] and "in _divide: return 1 / 0" in found["message"]
    # Without the student's file only the exception is named.
    assert parts.failed(parts.attempt(_divide))["message"] == "ZeroDivisionError: division by zero"


def test_a_result_that_is_not_plain_data_fails_only_its_part():
    got = parts.each(good=lambda: np.zeros(2), bad=lambda: object())
    assert parts.failed(got["good"]) is None
    bad = parts.failed(got["bad"])
    assert bad[parts.MARKER] == parts.ERROR and bad["message"].startswith("unusable result: result['bad']")


@pytest.mark.parametrize("exc", [SystemExit(0), KeyboardInterrupt(), GeneratorExit()])
def test_base_exceptions_still_stop_the_whole_check(exc):
    def boom():
        raise exc

    with pytest.raises(type(exc)):
        parts.each(a=lambda: 1, b=boom)


def test_together_spreads_one_failure_over_its_keys():
    assert parts.together(("a", "b"), lambda: {"a": 1, "b": 2}) == {"a": 1, "b": 2}
    spread = parts.together(("a", "b"), _todo)
    assert list(spread) == ["a", "b"] and all(parts.failed(v)["message"].startswith("not implemented") for v in spread.values())


def test_a_marker_crosses_the_sandbox_as_plain_data():
    observation = parts.each(y=lambda: np.ones(3), same=_todo)
    back = protocol.roundtrip(observation)
    assert json.loads(json.dumps(back["same"])) == back["same"]
    assert parts.failed(back["same"])[parts.MARKER] == parts.TODO
    np.testing.assert_array_equal(back["y"], np.ones(3))


def test_only_exact_markers_count():
    assert parts.failed({parts.MARKER: "todo", "message": "m", "extra": 1}) is None
    assert parts.failed({parts.MARKER: "passed", "message": "m"}) is None
    assert parts.failed({"message": "m"}) is None
    assert parts.failed([1]) is None
    long = parts.failed({parts.MARKER: "error", "message": "x" * 10_000})
    assert len(long["message"]) == parts.MAX_MESSAGE


def test_failures_and_all_failed_walk_the_observation():
    todo, error = parts.marker(parts.TODO, "t"), parts.marker(parts.ERROR, "e")
    assert parts.failures({"a": [1, todo], "b": {"c": error}}) == [todo, error]
    assert parts.all_failed({"a": todo, "b": [error, todo]})
    assert not parts.all_failed({"a": todo, "b": 1})
    assert not parts.all_failed({}) and not parts.all_failed([]) and not parts.all_failed(None)


# -- judges -----------------------------------------------------------------------

TODO = parts.marker(parts.TODO, "not implemented yet (same_padding)")
ERROR = parts.marker(parts.ERROR, "ZeroDivisionError: division by zero\n  at cnn.py line 9, in f: 1 / 0")


@pytest.mark.parametrize("helper", [
    lambda got: judges.close(got, np.ones(3), "y"),
    lambda got: judges.gradient(got, np.ones(3), "y"),
    lambda got: judges.equal(got, [1, 2], "y"),
    lambda got: judges.at_least(got, 0.9, "y"),
    lambda got: judges.at_most(got, 0.9, "y"),
    lambda got: judges.property_holds(got, "y"),
])
def test_every_judge_helper_scores_a_failed_part_zero_with_its_reason(helper):
    todo, error = helper(TODO), helper(ERROR)
    assert todo.fraction == 0 and todo.message == "y: not implemented yet (same_padding)"
    assert error.fraction == 0 and error.message.startswith("y: your code raised ZeroDivisionError")
    assert "cnn.py line 9" in error.message


def test_array_helpers_refuse_a_failed_part_with_its_reason():
    with pytest.raises(judges.BadObservation, match="predictions: not implemented yet"):
        judges.accuracy(TODO, np.zeros(3))
    with pytest.raises(judges.BadObservation, match="logits: your code raised ZeroDivisionError"):
        judges.as_array(ERROR, "logits")


def test_an_unusable_part_is_not_said_to_have_raised():
    unusable = parts.attempt(lambda: object())
    assert judges.failed_part(unusable, "y").message.startswith("y: unusable result:")


def test_all_of_gives_the_parts_that_worked_their_share():
    verdict = judges.all_of([judges.equal([1, 2], [1, 2], "sizes"), judges.equal(TODO, [1.0], "same"),
                             judges.equal([5], [5], "lenet")])
    assert verdict.fraction == pytest.approx(2 / 3)
    assert verdict.message == "same: not implemented yet (same_padding)"


def test_failed_part_is_none_for_a_value():
    assert judges.failed_part(np.zeros(2), "y") is None and judges.failed_part(None) is None
    assert judges.failed_part(TODO).message == "not implemented yet (same_padding)"


# -- schemas ------------------------------------------------------------------------

def test_a_marker_stands_wherever_a_schemad_value_may():
    spec = {"y": (2, 3), "loss": [float], "n": int, "inner": {"a": str}}
    assert schema.validate({"y": TODO, "loss": ERROR, "n": TODO, "inner": TODO}, spec) == []
    assert schema.validate({"y": np.zeros((2, 3)), "loss": [0.5, TODO], "n": 1, "inner": {"a": ERROR}}, spec) == []
    # A marker does not excuse the rest of the observation.
    problems = schema.validate({"y": TODO, "loss": [0.5], "n": "x", "inner": {"a": "b"}}, spec)
    assert len(problems) == 1 and problems[0] == "wrong type: your result is 'x' (a string), expected an int"


def test_property_of_scores_a_failed_part_zero_and_tests_values():
    same = lambda a, b: abs(a - b) < 1e-9  # noqa: E731
    assert judges.property_of([1.0, 1.0], same, "cost equals emd").passed
    assert judges.property_of([1.0, 2.0], same, "cost equals emd", "differs").message == "cost equals emd: does not hold. differs"
    failed = judges.property_of([1.0, TODO], same, "cost equals emd")
    assert failed.fraction == 0 and failed.message == "cost equals emd: not implemented yet (same_padding)"
