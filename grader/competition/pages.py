"""The leaderboard pages of an in-class competition.

Before the deadline there is only the public page, made from
:class:`~grader.competition.hosted.PublicRow` values, which hold public
scores and nothing else: a private score is never in its context, so no
comment, attribute or hidden field of the template can show one. After the
deadline the final page shows the private ranking, each team's public score
beside it, and the points.
"""

from __future__ import annotations

import datetime
from typing import Sequence

from grader.competition import hosted
from grader.competition.config import Competition
from grader.templates import render

#: Significant digits shown for a score.
DIGITS = 5


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.{DIGITS}g}"


def _common(comp: Competition, now: datetime.datetime) -> dict:
    metric = comp.metric
    return dict(
        title=comp.title,
        metric=metric.name,
        metric_description=metric.description,
        direction="higher is better" if metric.higher_is_better else "lower is better",
        deadline=f"{comp.deadline.astimezone(comp.timezone):%Y-%m-%d %H:%M} ({comp.timezone.key})",
        generated=f"{now.astimezone(comp.timezone):%Y-%m-%d %H:%M} ({comp.timezone.key})",
        daily_limit=comp.daily_limit,
        max_chosen=comp.max_chosen,
    )


def public_page(comp: Competition, rows: Sequence[hosted.PublicRow], *, now: datetime.datetime) -> str:
    """The public leaderboard's HTML: ranks by public score only."""
    if not all(isinstance(r, hosted.PublicRow) for r in rows):
        raise TypeError("the public page is made from PublicRow values only")
    table = [dict(rank=r.rank, team=r.team, score=_score(r.score), entries=r.entries,
                  last=f"{r.last.astimezone(comp.timezone):%Y-%m-%d %H:%M}") for r in rows]
    return render("competition/public.html.j2", rows=table,
                  public_percent=f"{100 * comp.public_fraction:g}", **_common(comp, now))


def final_page(comp: Competition, rows: Sequence[hosted.FinalRow], *, now: datetime.datetime) -> str:
    """The final leaderboard's HTML: ranks by private score, with points."""
    table = [dict(rank="" if r.rank is None else r.rank, team=r.team, private=_score(r.private_score),
                  public=_score(r.public_score), submission="" if r.submission_id is None else r.submission_id,
                  chosen=r.chosen, entries=r.entries, points=r.points) for r in rows]
    return render("competition/final.html.j2", rows=table, private_percent=f"{100 - 100 * comp.public_fraction:g}",
                  **_common(comp, now))


def leaderboard_page(comp: Competition, *, now: datetime.datetime | None = None) -> tuple[str, bool]:
    """The page to publish at ``now``: ``(html, final)``; the final page once
    the deadline has passed, the public one before."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if hosted.is_over(comp, now):
        _, rows = hosted.final_results(comp, now=now)
        return final_page(comp, rows, now=now), True
    return public_page(comp, hosted.public_standings(comp), now=now), False
