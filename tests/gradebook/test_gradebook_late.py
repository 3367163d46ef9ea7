"""The late policy, branch by branch: grace, per-day penalty, the budget spent
in the order of the deadlines, and the cap."""

import datetime

from grader.gradebook.course import LatePolicy
from grader.gradebook.late import apply, days_late

TZ = datetime.timezone(datetime.timedelta(hours=8))
DEADLINE = datetime.datetime(2026, 10, 11, 23, 59, tzinfo=TZ)


def _after(hours: float, deadline=DEADLINE) -> datetime.datetime:
    return deadline + datetime.timedelta(hours=hours)


def test_grace_period_and_started_days():
    assert days_late(_after(-5), DEADLINE, 1)[0] == 0
    assert days_late(_after(0.5), DEADLINE, 1) == (0, 0.5)          # within the grace period
    assert days_late(_after(1), DEADLINE, 1)[0] == 0                # its last second still counts
    assert days_late(_after(1.01), DEADLINE, 1)[0] == 1             # past it: the day from the deadline counts
    assert days_late(_after(24), DEADLINE, 0)[0] == 1
    assert days_late(_after(24 + 1 / 3600), DEADLINE, 0)[0] == 2    # a day and a second: two started days
    # A submission time in another zone is compared as the same instant.
    utc = _after(0.5).astimezone(datetime.timezone.utc)
    assert days_late(utc, DEADLINE, 0)[0] == 1


def test_each_late_day_without_budget_costs_per_day_up_to_everything():
    policy = LatePolicy(per_day=0.1)
    got = apply(policy, [("cnn", DEADLINE, _after(30))])["cnn"]
    assert (got.days, got.used, got.penalized, got.fraction, got.zeroed) == (2, 0, 2, 0.2, False)
    assert "2 days × 10% = 20% of the weight off" in got.describe(policy)
    assert apply(LatePolicy(per_day=0.4), [("cnn", DEADLINE, _after(24 * 3))])["cnn"].fraction == 1.0
    on_time = apply(policy, [("cnn", DEADLINE, _after(-1))])["cnn"]
    assert on_time.fraction == 0 and on_time.describe(policy) == "on time"


def test_the_budget_goes_to_the_earliest_deadline_first():
    policy = LatePolicy(per_day=0.1, late_days=3)
    later = DEADLINE + datetime.timedelta(days=14)
    # Listed latest deadline first: the order of the deadlines decides, not the order given.
    got = apply(policy, [("rnn", later, _after(40, later)), ("cnn", DEADLINE, _after(40))])
    assert (got["cnn"].used, got["cnn"].penalized, got["cnn"].left) == (2, 0, 1)
    assert (got["rnn"].used, got["rnn"].penalized, got["rnn"].left) == (1, 1, 0)
    assert got["rnn"].fraction == 0.1 and got["cnn"].fraction == 0
    assert "1 late day used (0 left)" in got["rnn"].describe(policy)


def test_past_the_cap_scores_zero_and_spends_no_budget():
    policy = LatePolicy(per_day=0.1, late_days=2, max_days=5)
    later = DEADLINE + datetime.timedelta(days=14)
    got = apply(policy, [("cnn", DEADLINE, _after(24 * 6)), ("rnn", later, _after(30, later))])
    assert got["cnn"].zeroed and got["cnn"].fraction == 1.0 and got["cnn"].used == 0
    assert "more than 5 late days scores 0" in got["cnn"].describe(policy)
    assert (got["rnn"].used, got["rnn"].penalized) == (2, 0)  # the budget is still there for the next lab
    # Exactly at the cap is late, not zero.
    at_cap = apply(policy, [("cnn", DEADLINE, _after(24 * 5))])["cnn"]
    assert not at_cap.zeroed and (at_cap.used, at_cap.penalized) == (2, 3)


def test_no_submission_time_is_on_time_and_spends_nothing():
    policy = LatePolicy(per_day=0.1, late_days=1)
    later = DEADLINE + datetime.timedelta(days=14)
    got = apply(policy, [("cnn", DEADLINE, None), ("rnn", later, _after(10, later))])
    assert got["cnn"].days == 0 and got["cnn"].fraction == 0
    assert got["rnn"].used == 1 and got["rnn"].fraction == 0
