"""The shared judges (:mod:`grader.checks.judges`)."""

import numpy as np
import pytest

from grader.checks import judges
from grader.checks.check import Verdict


def test_rel_error_and_close():
    assert judges.rel_error([1.0, 2.0], [1.0, 2.0]) == 0
    assert judges.close([1.0, 2.0], [1.0, 2.0 + 1e-9], "y", tol=1e-7).passed
    v = judges.close([1.0, 2.5], [1.0, 2.0], "y")
    assert not v.passed and "relative error 1.1e-01" in v.message and "index (1,)" in v.message
    assert "shape (3,), expected (2,)" in judges.close([1, 2, 3], [1.0, 2.0], "y").message
    assert "NaN" in judges.close([np.nan, 1], [1.0, 2.0], "y").message
    assert "dtype" in judges.close(["a", "b"], [1.0, 2.0], "y").message


def test_messages_do_not_reveal_expected_values():
    secret = 123456.789
    for verdict in (judges.close([1.0], [secret], "y"), judges.equal(5, int(secret), "n")):
        assert "123456" not in verdict.message


def test_at_least_partial_credit_and_binomial():
    assert judges.at_least(0.96, 0.95, "acc").passed
    assert judges.at_least(0.5, 0.9, "acc", baseline=0.1).fraction == pytest.approx(0.25)
    assert judges.binomial_ok(3000, 10000, 0.3) and not judges.binomial_ok(3300, 10000, 0.3)


def test_all_of_weights_and_messages():
    v = judges.all_of([Verdict(1, "ok"), Verdict(0, "bad")], weights=[3, 1])
    assert v.fraction == 0.75 and v.message == "bad"


def test_gated_properties_count_only_with_the_substance_right():
    property_ok = Verdict(1, "masked weights are 0")
    assert judges.gated([Verdict(1, "values")], [property_ok]).fraction == 1
    junk = judges.gated([Verdict(0, "values wrong")], [property_ok])
    assert junk.fraction == 0 and "values wrong" in junk.message
    half = judges.gated([Verdict(1, "a"), Verdict(0, "b")], [property_ok])
    assert half.fraction == pytest.approx(1 / 3)
