"""course.toml: the shipped example is valid, and every mistake is named at once."""

import datetime
import fnmatch
import tomllib
from pathlib import Path

import pytest

from grader.gradebook import EXAMPLE, CourseError, load_course
from grader.gradebook.course import parse_course

ROOT = Path(__file__).resolve().parents[2]

GOOD = {
    "course": {"name": "DL", "roster": "roster.csv", "total": 30},
    "components": [
        {"id": "cnn", "kind": "lab", "weight": 20, "source": "out/cnn",
         "deadline": datetime.datetime(2026, 10, 11, 23, 59)},
        {"id": "participation", "kind": "manual", "weight": 10, "source": "p.csv"},
    ],
}


def _problems(data) -> list[str]:
    with pytest.raises(CourseError) as caught:
        parse_course(data, "/course/course.toml")
    return caught.value.problems


def _with(**changes):
    data = {"course": dict(GOOD["course"]), "components": [dict(c) for c in GOOD["components"]]}
    for where, value in changes.items():
        table, _, key = where.partition("__")
        if table.isdigit():
            data["components"][int(table)][key] = value
        else:
            data.setdefault(table, {})[key] = value
    return data


def test_the_shipped_example_is_valid_and_adds_up_to_100():
    course = load_course(EXAMPLE)
    assert course.total == 100 and sum(c.weight for c in course.components) == 100
    assert [c.id for c in course.components] == ["cnn", "rnn", "gcn", "transformer", "gan", "competition",
                                                 "participation"]
    assert {c.kind for c in course.components} == {"lab", "competition", "manual"}
    assert all(c.deadline.utcoffset() == datetime.timedelta(hours=8) for c in course.components if c.kind == "lab")
    assert course.late.late_days == 3 and course.late.max_days == 5 and course.grade(84.99) == "B"
    # It ships with the package (an installed kit has it too).
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["grader"]
    assert any(fnmatch.fnmatch(EXAMPLE.relative_to(ROOT / "grader").as_posix(), p) for p in patterns)


def test_a_good_course_reads_with_paths_beside_it_and_the_course_clock():
    course = parse_course(GOOD, "/course/course.toml")
    assert course.roster == Path("/course/roster.csv") and course.store == Path("/course/gradebook.sqlite")
    cnn = course.component("cnn")
    assert cnn.source == Path("/course/out/cnn") and cnn.missing == "zero"
    # A deadline without an offset is on the course's clock (+08:00 unless it says otherwise).
    assert cnn.deadline.utcoffset() == datetime.timedelta(hours=8)
    assert course.scale == () and course.grade(29) == ""


def test_unknown_keys_are_named_with_the_likely_key():
    problems = _problems(_with(course__nmae="x", **{"0__wieght": 3}, late__per_days=0.1))
    assert "[course]: unknown key 'nmae' (did you mean 'name'?)" in problems
    assert "[[components]] #1 (cnn): unknown key 'wieght' (did you mean 'weight'?)" in problems
    assert "[late]: unknown key 'per_days' (did you mean 'per_day'?)" in problems


def test_weights_that_do_not_add_up_to_the_total_are_refused():
    problems = _problems(_with(course__total=100))
    assert problems == ["the weights add up to 30, not to the total 100 (cnn 20 + participation 10)"]


@pytest.mark.parametrize("change, expected", [
    ({"0__kind": "quiz"}, "kind must be one of lab, competition, manual, not 'quiz'"),
    ({"0__weight": -1}, "weight must be a number greater than 0, not -1"),
    ({"0__weight": "14"}, "weight must be a number greater than 0, not '14'"),
    ({"0__deadline": None}, "a lab needs a deadline"),
    ({"0__deadline": datetime.date(2026, 10, 11)}, "needs a time of day"),
    ({"1__deadline": "2026-10-11T23:59"}, "only labs have a deadline"),
    ({"0__missing": "skip"}, "missing must be one of zero, incomplete"),
    ({"0__column": "score"}, "column is for competition and manual CSVs"),
    ({"1__id": "cnn"}, "the id 'cnn' is used twice"),
    ({"1__source": None}, "source is missing"),
    ({"course__roster": None}, "[course]: roster is missing"),
    ({"course__timezone": "Beijing"}, "timezone must be an offset"),
    ({"late__per_day": 1.5}, "per_day must be a number of 0 or more and at most 1"),
    ({"late__late_days": 1.5}, "late_days must be a whole number"),
    ({"scale__A": 25, "scale__B": 10}, "the lowest grade (B = 10) must start at 0"),
    ({"scale__A": 40, "scale__F": 0}, "[scale] A: the lowest total must be a number from 0 to 30"),
])
def test_each_mistake_says_what_is_wrong(change, expected):
    data = _with(**{k: v for k, v in change.items() if v is not None})
    for key, value in change.items():
        if value is None:
            table, _, name = key.partition("__")
            (data["components"][int(table)] if table.isdigit() else data[table]).pop(name)
    assert any(expected in p for p in _problems(data)), _problems(data)


def test_every_mistake_is_listed_at_once_and_a_scale_grades_totals(tmp_path):
    path = tmp_path / "course.toml"
    path.write_text('[course]\nname = "DL"\n[[components]]\nid = "x"\nkind = "lab"\n', encoding="utf-8")
    with pytest.raises(CourseError) as caught:
        load_course(path)
    assert len(caught.value.problems) >= 4 and str(path) in str(caught.value)
    path.write_text("[course\n")
    with pytest.raises(CourseError, match="not valid TOML"):
        load_course(path)
    course = parse_course(_with(scale__A=27, scale__优秀=29.5, scale__F=0), path)
    assert [course.grade(t) for t in (30, 29.5, 29.49, 27, 0)] == ["优秀", "优秀", "A", "A", "F"]


def test_files_that_do_not_exist_are_named(tmp_path):
    course = parse_course(GOOD, tmp_path / "course.toml")
    assert course.missing_files() == [f"the roster {tmp_path / 'roster.csv'} does not exist",
                                      f"cnn: the source {tmp_path / 'out' / 'cnn'} does not exist",
                                      f"participation: the source {tmp_path / 'p.csv'} does not exist"]
