"""The runner with checks made of parts (:mod:`grader.checks.parts`): each
part is scored on its own, errors included; a check none of whose parts
worked keeps the status ``todo`` or ``error``; the sandbox and the
in-process self-check agree."""

import importlib.util

import pytest

from grader.checks import Check, judges, parts
from grader.core import protocol, runner
from grader.core.grading import self_check
from grader.labs.lab import Lab

STUDENT = '''\
def size(n):
    return n + 1


def same(n):
    raise NotImplementedError("same: the slide's formula")


def params(n):
    return n // 0


def bye(n):
    raise SystemExit(0)
'''


@pytest.fixture
def student(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(STUDENT)
    spec = importlib.util.spec_from_file_location("mine", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Arithmetic(Check):
    """Three functions, each a part"""

    USES = ("size", "same", "params")

    def observe(self, sub):
        return parts.each(**{name: (lambda f=getattr(sub, name): f(3)) for name in self.USES})

    def judge(self, got, want, secret):
        return judges.all_of([judges.equal(got[k], want[k], k) for k in self.USES])


def _grade(check, sub, want=None):
    obs = runner.observe(check, sub, {})
    obs.value = protocol.roundtrip(obs.value)
    return runner.judge(check, obs, want or {"size": 4, "same": 1.0, "params": 3}, {})


def test_a_part_not_written_yet_costs_only_its_share(student):
    check = type("OnlySame", (Arithmetic,), {"USES": ("size", "same")})()
    result = _grade(check, student)
    assert result.status == "partial" and result.score == pytest.approx(0.5)
    assert result.message == "same: not implemented yet (same: the slide's formula)"


def test_a_part_that_raises_is_zero_with_the_line_the_others_are_scored(student):
    result = _grade(type("SizeParams", (Arithmetic,), {"USES": ("size", "params")})(), student)
    assert result.status == "partial" and result.score == pytest.approx(0.5)
    assert result.message.startswith("params: your code raised ZeroDivisionError: integer division or modulo by zero")
    assert "at mine.py line 10, in params: return n // 0" in result.message


def test_every_part_todo_is_todo(student):
    result = _grade(type("Same", (Arithmetic,), {"USES": ("same",)})(), student)
    assert (result.status, result.score) == ("todo", 0)
    assert result.message == "not implemented yet (same: the slide's formula)"


def test_every_part_an_error_is_an_error(student):
    result = _grade(type("Params", (Arithmetic,), {"USES": ("params",)})(), student)
    assert (result.status, result.score) == ("error", 0)
    assert "ZeroDivisionError" in result.message and "mine.py line 10" in result.message


def test_todo_and_errors_with_nothing_working_is_an_error(student):
    result = _grade(type("SameParams", (Arithmetic,), {"USES": ("same", "params")})(), student)
    assert (result.status, result.score) == ("error", 0)
    assert "not implemented yet" in result.message and "ZeroDivisionError" in result.message


def test_a_part_that_exits_still_stops_the_whole_check(student):
    result = _grade(type("Bye", (Arithmetic,), {"USES": ("size", "bye")})(), student)
    assert (result.status, result.score) == ("error", 0) and "sys.exit" in result.message


def test_a_judge_that_needs_a_failed_part_reports_the_part(student):
    class Sum(Arithmetic):
        USES = ("size", "same")

        def judge(self, got, want, secret):  # computes on every part: breaks on a marker
            return judges.equal(got["size"] + got["same"], 5.0, "size + same")

    result = _grade(Sum(), student)
    assert (result.status, result.score) == ("todo", 0)
    assert result.message == "not implemented yet (same: the slide's formula)"


# -- a lab's starter ------------------------------------------------------------------

def test_the_starter_still_shows_not_implemented_yet_per_check():
    lab = Lab.load("cnn")
    names = ["conv_arithmetic", "max_pool", "batch_norm_layer", "conv_arithmetic_large", "avg_pool"]
    result = self_check(lab, lab.starter_file, visibility=None, names=names, alias="_parts_starter")
    assert result.score == 0
    for check in result.checks:
        assert check.status == "todo" and check.message.startswith("not implemented yet ("), (check.name, check.message)
    assert "same_padding" in result.by_name()["conv_arithmetic"].message
