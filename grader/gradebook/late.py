"""The late policy: from submission times to late days, spent budget and penalties.

One student's labs are taken in the order of their deadlines, so the free
late days go to the earliest late submission first: what a student sees
happen during the term, and what no later import can reorder.
"""

from __future__ import annotations

import dataclasses
import datetime
import math

from grader.gradebook.course import LatePolicy

#: One day, the unit of lateness.
DAY = datetime.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class Lateness:
    """What the policy made of one submission."""

    #: Started days after the deadline (0: on time, or within the grace period).
    days: int = 0
    #: Late days paid from the student's budget.
    used: int = 0
    #: Late days that cost ``per_day`` each.
    penalized: int = 0
    #: The share of the component's weight taken off (0 to 1).
    fraction: float = 0.0
    #: Later than ``max_days``: the submission scores 0.
    zeroed: bool = False
    #: The student's budget left after this submission.
    left: int = 0
    #: Hours after the deadline (negative: early).
    hours: float = 0.0

    def describe(self, policy: LatePolicy) -> str:
        """The policy's verdict in words, for the trace."""
        if self.days == 0:
            if self.hours > 0:
                return f"{self.hours:.1f} h late, within the {policy.grace_hours:g} h grace period: on time"
            return "on time"
        days = f"{self.days} day{'s' * (self.days != 1)} late ({self.hours:.1f} h)"
        if self.zeroed:
            return f"{days}: more than {policy.max_days} late days scores 0 (no late day spent)"
        parts = [days]
        if self.used:
            parts.append(f"{self.used} late day{'s' * (self.used != 1)} used ({self.left} left)")
        if self.penalized:
            parts.append(f"{self.penalized} day{'s' * (self.penalized != 1)} × {policy.per_day:.0%} "
                         f"= {self.fraction:.0%} of the weight off")
        return ", ".join(parts)


def days_late(submitted: datetime.datetime, deadline: datetime.datetime, grace_hours: float) -> tuple[int, float]:
    """``(late days, hours late)``: every started day after the deadline
    counts, unless the submission is within ``grace_hours`` of it."""
    late = submitted - deadline
    hours = late.total_seconds() / 3600
    if late <= datetime.timedelta(hours=grace_hours) or late <= datetime.timedelta(0):
        return 0, hours
    return math.ceil(late / DAY), hours


def apply(policy: LatePolicy, submissions: list[tuple[str, datetime.datetime, datetime.datetime | None]]
          ) -> dict[str, Lateness]:
    """One student's ``submissions`` (component id, deadline, submitted at; None:
    no time recorded, taken as on time) → the :class:`Lateness` of each.

    Late days are paid from the budget in the order of the deadlines (ties:
    the order given); a submission later than ``max_days`` scores 0 and
    spends nothing; each late day the budget does not cover costs
    ``per_day`` of the weight, up to all of it."""
    left = policy.late_days
    out = {}
    for cid, deadline, submitted in sorted(submissions, key=lambda s: s[1]):
        if submitted is None:
            out[cid] = Lateness(left=left)
            continue
        days, hours = days_late(submitted, deadline, policy.grace_hours)
        if policy.max_days is not None and days > policy.max_days:
            out[cid] = Lateness(days=days, fraction=1.0, zeroed=True, left=left, hours=hours)
            continue
        used = min(days, left)
        left -= used
        penalized = days - used
        out[cid] = Lateness(days=days, used=used, penalized=penalized, fraction=min(1.0, penalized * policy.per_day),
                            left=left, hours=hours)
    return out
