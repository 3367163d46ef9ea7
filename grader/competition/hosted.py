"""The in-class competition: teams submit prediction files, the kit scores them.

* **Hidden labels** (``labels = …`` in ``competition.toml``) are split once
  into a *public* part, scored on the leaderboard while the competition
  runs, and a *private* part, which decides the final ranking
  (:func:`split`: each id's place follows from ``split_seed`` and the id
  alone, within each class, so the split is the same on every run and in
  any row order).
* **Submitting** (:func:`submit`) scores a file on both parts and stores it
  with its time and both scores (:mod:`~grader.competition.store`). A team
  has ``daily_limit`` scored submissions per local day (``timezone``, by
  default Asia/Shanghai). A malformed file is never scored and never counts:
  the team is told what to fix. A submission after the deadline is scored
  and kept, marked late, and never ranked. Before the deadline a team sees
  only its public score.
* **The final score** follows Kaggle's rule: a team may choose up to
  ``max_chosen`` of its on-time submissions (:func:`choose`, before the
  deadline); its final score is the best private score among them. A team
  that chose none is ranked by the submission with its best public score
  (the earliest of equals), with that submission's private score.
  ``max_chosen = 0`` leaves no choice: always the best public submission.
* **Standings**: :func:`public_standings` holds public numbers only (what the
  public page is made from); :func:`final_standings` exists only after the
  deadline. Ties share a rank (``1, 2, 2, 4``).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib

import numpy as np

from grader.competition.config import Competition
from grader.competition.leaderboard import TeamResult, competition_ranks, rank_teams
from grader.competition.metrics import LABEL, NUMBER, canonical_label
from grader.competition.predictions import MalformedPredictions, read_predictions
from grader.competition.store import Store, Submission


class SubmissionRefused(ValueError):
    """A request the competition refuses (an unknown team, a choice after the deadline, …)."""


class CompetitionNotOver(SubmissionRefused):
    """The private part is asked for before the deadline."""


def _now(now: datetime.datetime | None) -> datetime.datetime:
    if now is None:
        return datetime.datetime.now(datetime.timezone.utc)
    if now.tzinfo is None:
        raise ValueError("`now` needs a time zone")
    return now


def is_over(comp: Competition, now: datetime.datetime | None = None) -> bool:
    """Whether the deadline has passed (a submission exactly at it is on time)."""
    return _now(now) > comp.deadline


# -- the hidden labels and their split -------------------------------------------

@dataclasses.dataclass(frozen=True)
class Answer:
    """The hidden labels: ids and true targets in file order, and which rows are public."""

    ids: tuple[str, ...]
    truth: tuple[str, ...]
    public: np.ndarray
    #: The classes (canonical), for a metric whose predictions are labels.
    classes: frozenset[str]


def split(ids, strata, fraction: float, seed: str) -> np.ndarray:
    """Which of ``ids`` are public: within each stratum (class), the
    ``round(fraction * n)`` ids whose hash of ``seed`` and id is smallest.
    Stable: the same for any order of the rows."""
    def draw(i: str) -> bytes:
        return hashlib.sha256(f"{seed}\0{i}".encode("utf-8")).digest()

    public = np.zeros(len(ids), dtype=bool)
    groups: dict[str, list[int]] = {}
    for index, stratum in enumerate(strata):
        groups.setdefault(stratum, []).append(index)
    for members in groups.values():
        members.sort(key=lambda index: draw(ids[index]))
        public[members[:round(fraction * len(members))]] = True
    return public


def load_answer(comp: Competition) -> Answer:
    """The hidden labels of ``comp``, checked and split."""
    path = comp.labels_file
    try:
        rows = read_predictions(path.read_bytes(), id_column=comp.id_column, target_column=comp.target_column,
                                kind=LABEL if comp.metric.kind != NUMBER else NUMBER)
    except MalformedPredictions as exc:
        raise SubmissionRefused(f"the labels file {path.name} is malformed: {exc}") from None
    ids, truth = tuple(rows), tuple(rows.values())
    strata = [canonical_label(t) for t in truth] if comp.metric.kind != NUMBER else [""] * len(ids)
    public = split(ids, strata, comp.public_fraction, comp.split_seed)
    if public.all() or not public.any():
        raise SubmissionRefused(f"{path.name}: {len(ids)} rows are too few for a public and a private part")
    return Answer(ids, truth, public, frozenset(canonical_label(t) for t in truth))


def score(comp: Competition, answer: Answer, data: bytes) -> tuple[float, float]:
    """``(public, private)`` scores of a prediction file's bytes;
    :class:`MalformedPredictions` when it cannot be scored."""
    predicted = read_predictions(data, id_column=comp.id_column, target_column=comp.target_column,
                                 kind=comp.metric.kind, ids=answer.ids,
                                 labels=answer.classes if comp.metric.kind == LABEL else None)
    values = [predicted[i] for i in answer.ids]
    truth = list(answer.truth)
    if comp.metric.kind != LABEL:
        values = [float(v) for v in values]
    if comp.metric.kind == NUMBER:
        truth = [float(t) for t in truth]

    def on(mask):
        pick = np.flatnonzero(mask)
        return comp.metric([truth[i] for i in pick], [values[i] for i in pick], positive=comp.positive_label)

    return on(answer.public), on(~answer.public)


# -- submitting -----------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a submission came to, in words for the team (``message``) and as data."""

    accepted: bool
    message: str
    submission_id: int | None = None
    public_score: float | None = None
    #: Only once the competition is over.
    private_score: float | None = None
    late: bool = False
    used_today: int = 0


def day_window(comp: Competition, when: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """The local day (``comp.timezone``) holding ``when``: its start and the next day's."""
    day = when.astimezone(comp.timezone).date()
    start = datetime.datetime.combine(day, datetime.time(0), tzinfo=comp.timezone)
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0), tzinfo=comp.timezone)
    return start, end


def _team(comp: Competition, name: str):
    team = comp.load_teams().find(name)
    if team is None:
        raise SubmissionRefused(f"no team called {name!r} in {comp.teams_file.name}")
    return team


def submit(comp: Competition, team_name: str, data: bytes, filename: str, *,
           now: datetime.datetime | None = None, answer: Answer | None = None) -> Outcome:
    """Score ``data`` (a prediction file called ``filename``) for the team
    ``team_name`` at ``now`` (default: the current time) and store it."""
    now = _now(now)
    team = _team(comp, team_name)
    answer = answer or load_answer(comp)
    with Store(comp.database) as store:
        try:
            public, private = score(comp, answer, data)
        except MalformedPredictions as exc:
            store.reject(team.name, now, filename, f"malformed: {exc}")
            return Outcome(False, f"not scored, and not counted against your daily limit: {exc}")
        late = is_over(comp, now)
        with store.transaction():
            start, end = day_window(comp, now)
            used = store.count(team.name, start, end)
            if used >= comp.daily_limit:
                store.reject(team.name, now, filename, "daily limit")
                local_end = end.strftime("%Y-%m-%d %H:%M %Z")
                return Outcome(False, f"not scored: team {team.name} has used its {comp.daily_limit} submissions "
                                      f"of today; the next day begins at {local_end}", used_today=used)
            sid = store.add(team.name, now, filename, data, public, private, late)
    name = comp.metric.name
    if late:
        return Outcome(True, f"submission {sid} is after the deadline: kept, not ranked; "
                             f"public {name} {public:.5g}, private {private:.5g}",
                       sid, public, private, True, used + 1)
    return Outcome(True, f"submission {sid} scored: public {name} {public:.5g} "
                         f"({used + 1} of {comp.daily_limit} today)", sid, public, None, False, used + 1)


def choose(comp: Competition, team_name: str, ids: list[int], *, now: datetime.datetime | None = None) -> list[int]:
    """Make ``ids`` the submissions that decide ``team_name``'s final score
    (replacing an earlier choice; an empty list goes back to the best public
    one). Only before the deadline, only the team's own on-time submissions."""
    team = _team(comp, team_name)
    if is_over(comp, now):
        raise SubmissionRefused("the competition is over: submissions can no longer be chosen")
    if comp.max_chosen == 0:
        raise SubmissionRefused("in this competition each team's best public submission counts; there is no choice")
    if len(set(ids)) > comp.max_chosen:
        raise SubmissionRefused(f"a team chooses at most {comp.max_chosen} submissions")
    with Store(comp.database) as store:
        own = {s.id for s in store.submissions(team.name) if not s.late}
        foreign = sorted(set(ids) - own)
        if foreign:
            raise SubmissionRefused(f"submission(s) {', '.join(map(str, foreign))} are not scored submissions "
                                    f"of team {team.name}")
        with store.transaction():
            store.choose(team.name, sorted(set(ids)))
    return sorted(set(ids))


def rescore(comp: Competition) -> int:
    """Score every stored submission again (after the hidden labels were
    corrected); how many scores changed."""
    answer = load_answer(comp)
    changed = 0
    with Store(comp.database) as store, store.transaction():
        for s in store.submissions():
            public, private = score(comp, answer, store.content(s.id))
            if (public, private) != (s.public_score, s.private_score):
                store.set_scores(s.id, public, private)
                changed += 1
    return changed


# -- standings ------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class PublicRow:
    """A team on the public leaderboard: public numbers only."""

    rank: int
    team: str
    score: float
    entries: int
    last: datetime.datetime


@dataclasses.dataclass(frozen=True)
class FinalRow:
    """A team in the final ranking (exists only after the deadline)."""

    rank: int | None
    team: str
    private_score: float | None
    public_score: float | None
    submission_id: int | None
    chosen: bool
    entries: int
    points: float


def _best(comp: Competition, subs: list[Submission], attribute: str) -> Submission:
    """The submission with the best ``attribute`` score, the earliest of equals."""
    key = comp.metric.sort_key
    return min(subs, key=lambda s: (key(getattr(s, attribute)), s.submitted_at, s.id))


def public_standings(comp: Competition) -> list[PublicRow]:
    """Each team's best public score among its on-time submissions, ranked."""
    with Store(comp.database) as store:
        subs = [s for s in store.submissions() if not s.late]
    by_team: dict[str, list[Submission]] = {}
    for s in subs:
        by_team.setdefault(s.team, []).append(s)
    best = {team: _best(comp, own, "public_score") for team, own in by_team.items()}
    teams = list(best)
    ranks = competition_ranks([comp.metric.sort_key(best[t].public_score) for t in teams])
    rows = [PublicRow(rank, team, best[team].public_score, len(by_team[team]),
                      max(s.submitted_at for s in by_team[team]).astimezone(comp.timezone))
            for team, rank in zip(teams, ranks)]
    return sorted(rows, key=lambda r: (r.rank, r.team))


def final_results(comp: Competition, *, now: datetime.datetime | None = None) -> tuple[list[TeamResult], list[FinalRow]]:
    """After the deadline: every course team's final place and points
    (:class:`~grader.competition.leaderboard.TeamResult`, for ``points.csv``)
    and the rows of the final page. :class:`CompetitionNotOver` before it."""
    if not is_over(comp, now):
        raise CompetitionNotOver(f"the competition ends at {comp.deadline:%Y-%m-%d %H:%M %Z}: "
                                 "private scores and the final ranking exist only after it")
    teams = comp.load_teams()
    with Store(comp.database) as store:
        subs = [s for s in store.submissions() if not s.late]
    entries, decided = {}, {}
    for team in teams:
        own = [s for s in subs if s.team == team.name]
        if not own:
            continue
        chosen = [s for s in own if s.chosen]
        final = _best(comp, chosen, "private_score") if chosen else _best(comp, own, "public_score")
        decided[team.name] = (final, bool(chosen), len(own))
        entries[team.name] = (comp.metric.sort_key(final.private_score), None, f"submission {final.id}",
                              final.private_score)
    results = rank_teams(entries, comp.points, teams)
    rows = []
    for r in results:
        final, chosen, count = decided.get(r.team.name, (None, False, 0))
        if final is None:
            rows.append(FinalRow(None, r.team.name, None, None, None, False, 0, r.points))
        else:
            rows.append(FinalRow(r.rank, r.team.name, final.private_score, final.public_score, final.id, chosen,
                                 count, r.points))
    rows.sort(key=lambda row: (row.rank is None, row.rank or 0, row.team))
    return results, rows
