"""The batch's small parts, without grading: the ETA, a row's status from
its result, and the regrade record."""

import os
import time

import pytest

from grader.core import batch
from grader.core.results import CheckResult, Reason, Result, Row, RowStatus, RunInfo, Status


@pytest.mark.parametrize("seconds, remaining, workers, expected", [
    ([], 10, 2, None),                   # nothing finished yet: no estimate
    ([30.0], 10, 2, 150.0),              # 10 left, 2 at a time, 30 s each
    ([30.0, 31.0, 600.0], 4, 1, 124.0),  # one submission that hung until its limit does not swing it
    ([30.0, 0.5, 29.0, 1.0, 31.0], 3, 1, 87.0),  # nor do a few that failed at once
    ([30.0], 1, 4, 30.0),                # the last one takes as long with more workers idle
    ([30.0], 0, 2, 0.0),
])
def test_eta_is_the_median_time_per_submission_times_what_is_left(seconds, remaining, workers, expected):
    assert batch.eta(seconds, remaining, workers) == expected


def test_eta_words():
    assert batch.format_eta(None) == "estimating…"
    assert batch.format_eta(42.4) == "42 s"
    assert batch.format_eta(-3) == "0 s"
    assert batch.format_eta(12 * 60 + 10) == "12 min"
    assert batch.format_eta(2 * 3600 + 5 * 60) == "2 h 05 min"


def _result(reasons, import_error=None):
    checks = []
    for i, reason in enumerate(reasons):
        c = CheckResult(f"c{i}", f"c{i}", 1.0, "public", "function", status=Status.ERROR if reason else Status.PASSED,
                        score=0.0 if reason else 1.0)
        c.reason = reason
        checks.append(c)
    return Result("cnn", "x", checks, info=RunInfo(import_error=import_error))


def test_row_status_says_why_nothing_could_run():
    assert RowStatus.of(_result([None, None])) is RowStatus.GRADED
    assert RowStatus.of(_result([Reason.IMPORT] * 3, "SyntaxError")) is RowStatus.SYNTAX_ERROR
    assert RowStatus.of(_result([Reason.IMPORT] * 3, "IndentationError")) is RowStatus.SYNTAX_ERROR
    assert RowStatus.of(_result([Reason.IMPORT] * 3, "ModuleNotFoundError")) is RowStatus.IMPORT_ERROR
    # A hang or a crash at import time: no exception was recorded.
    assert RowStatus.of(_result([Reason.IMPORT] * 3)) is RowStatus.IMPORT_ERROR
    # One check that could not run is that check's failure, not the file's.
    assert RowStatus.of(_result([Reason.IMPORT, None], "SyntaxError")) is RowStatus.GRADED
    for status in (RowStatus.SYNTAX_ERROR, RowStatus.IMPORT_ERROR):
        assert status.ran and status.scored
        assert Row("x", status=status, result=_result([Reason.IMPORT])).to_dict()["status"] == str(status)
    assert not RowStatus.GRADER_ERROR.scored and not RowStatus.INTAKE_ERROR.ran


def test_a_regrade_is_recorded_until_it_finishes(tmp_path):
    selection = {"lab": "cnn", "checks": ["a"], "format": batch.RESULT_FORMAT}
    assert batch._regrade(tmp_path, selection, regrade=False) is None
    first = batch._regrade(tmp_path, selection, regrade=True)
    assert first["new"] and (tmp_path / batch.RUN_FILE).is_file()
    # The same command again, or the plain one: the unfinished regrade goes on from where it was.
    for again in (True, False):
        same = batch._regrade(tmp_path, selection, regrade=again)
        assert not same["new"] and same["started_ns"] == first["started_ns"]
    # Other checks: a regrade of its own.
    other = batch._regrade(tmp_path, {**selection, "checks": ["b"]}, regrade=True)
    assert other["new"] and other["started_ns"] > first["started_ns"]


def test_results_older_than_the_regrade_are_stale(tmp_path):
    from grader.intake import Submission

    sub = Submission("PB01", str(tmp_path), fingerprint="f")
    selection = {"lab": "cnn", "checks": ["c0"], "format": batch.RESULT_FORMAT}
    result = _result([None])
    result.info.fingerprint, result.info.selection = "f", selection
    (tmp_path / "PB01").mkdir()
    record = tmp_path / "PB01" / batch.RECORD_FILE
    record.write_text(result.to_json())
    assert batch._finished(tmp_path / "PB01", sub, selection) is not None
    now = time.time_ns()
    os.utime(record, ns=(now - 10**9, now - 10**9))
    assert batch._finished(tmp_path / "PB01", sub, selection, since_ns=now) is None
    os.utime(record, ns=(now + 10**9, now + 10**9))
    assert batch._finished(tmp_path / "PB01", sub, selection, since_ns=now) is not None
