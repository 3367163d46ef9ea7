"""Ranks to points, and the leaderboard of an external (Kaggle) competition.

**Ranks.** Equal scores share a rank, and the ranks after them are skipped:
standard competition ranking, ``1, 2, 2, 4`` (:func:`competition_ranks`).
Kaggle ranks ties the same way.

**Points** (:class:`PointsRule`, the ``[points]`` table of ``competition.toml``):

* ``rule = "linear"``: rank 1 gets ``top``, the last ranked team ``bottom``
  (default: ``floor``), ranks between are spaced evenly;
* ``rule = "bands"``: ``bands = [[10, 25], [30, 22], [100, 18]]`` gives a
  team ranked in the top 10 % 25 points, the top 30 % 22, everyone else 18.
  A team's share is the share of the field ranked strictly above it
  (``(rank - 1) / n``), so a lone team is in the top band; the last band
  must be 100.

Course teams with no entry get ``floor``. ``rank = "course"`` (the default)
ranks the course's teams among themselves; ``rank = "overall"`` keeps a
public leaderboard's rank among every team on it (``n`` is then the whole
leaderboard).

**Kaggle.** :func:`import_leaderboard` reads the CSV a host downloads
(``TeamId, TeamName, SubmissionDate, Score``, with or without ``Rank``; one
row per team or per submission: a team's best row counts), matches its team
names to the course's (normalised: case, width, spaces, punctuation; plus
``[aliases]``) and reports the names matched on neither side.

Both members of a team receive the team's points: :func:`write_points_csv`
writes one row per student, ``student_id,team,rank,points,source``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from pathlib import Path
from typing import Sequence

from grader.files import atomic_write
from grader.intake.text import decode_utf8_or_gbk

#: The header of ``points.csv``, exactly.
POINTS_HEADER = ("student_id", "team", "rank", "points", "source")


def competition_ranks(keys: Sequence[float]) -> list[int]:
    """The rank of each of ``keys`` where a smaller key is better and equal
    keys share a rank: ``[0.9, 0.8, 0.8, 0.7]`` as ``-score`` → ``[1, 2, 2, 4]``."""
    ranks = [0] * len(keys)
    order = sorted(range(len(keys)), key=lambda i: keys[i])
    for place, i in enumerate(order):
        # The first of a run of equal keys sets the run's rank.
        tied = place > 0 and keys[order[place - 1]] == keys[i]
        ranks[i] = ranks[order[place - 1]] if tied else place + 1
    return ranks


@dataclasses.dataclass(frozen=True)
class PointsRule:
    """How a rank becomes points (see the module's docstring)."""

    rule: str = "linear"
    top: float = 25.0
    bottom: float | None = None
    floor: float = 0.0
    bands: tuple[tuple[float, float], ...] = ()
    rank: str = "course"

    def __post_init__(self):
        if self.rule not in ("linear", "bands"):
            raise ValueError(f"rule = {self.rule!r}: \"linear\" or \"bands\"")
        if self.rank not in ("course", "overall"):
            raise ValueError(f"rank = {self.rank!r}: \"course\" or \"overall\"")
        if self.rule == "bands":
            if not self.bands:
                raise ValueError("rule = \"bands\" needs bands = [[top percent, points], …]")
            percents = [p for p, _ in self.bands]
            if percents != sorted(percents) or len(set(percents)) != len(percents) or percents[0] <= 0:
                raise ValueError("bands must go from the smallest top percent to the largest")
            if percents[-1] != 100:
                raise ValueError("the last band must be 100 (every ranked team gets a band)")

    @classmethod
    def from_table(cls, table: dict) -> "PointsRule":
        """The rule a ``[points]`` table describes."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(table) - known
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(sorted(unknown))}: known are {', '.join(sorted(known))}")
        values = dict(table)
        try:
            values["bands"] = tuple((float(p), float(v)) for p, v in values.get("bands", ()))
        except (TypeError, ValueError):
            raise ValueError("bands = [[top percent, points], …], e.g. [[10, 25], [100, 18]]") from None
        for key in ("top", "bottom", "floor"):
            if values.get(key) is not None:
                values[key] = float(values[key])
        return cls(**values)

    def points(self, rank: int | None, n: int) -> float:
        """The points of ``rank`` among ``n`` ranked teams; ``floor`` for no entry (``rank`` None)."""
        if rank is None:
            return self.floor
        if not 1 <= rank <= n:
            raise ValueError(f"rank {rank} of {n}")
        if self.rule == "bands":
            above = 100 * (rank - 1) / n
            return next(value for percent, value in self.bands if above < percent)
        bottom = self.floor if self.bottom is None else self.bottom
        if n == 1:
            return self.top
        return bottom + (self.top - bottom) * (n - rank) / (n - 1)


@dataclasses.dataclass(frozen=True)
class TeamResult:
    """A course team's place: its rank (None: no entry), points, and where the rank came from."""

    team: object  # grader.competition.teams.Team
    rank: int | None
    points: float
    source: str
    score: float | None = None


def write_points_csv(results: Sequence[TeamResult], path: Path | str) -> Path:
    """``points.csv``: one row per member of every team (UTF-8, no byte-order
    mark), header :data:`POINTS_HEADER`. A team without an entry has an empty rank."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(POINTS_HEADER)
    for r in results:
        for student in r.team.members:
            writer.writerow([student, r.team.name, "" if r.rank is None else r.rank,
                             f"{round(r.points, 3):g}", r.source])
    return atomic_write(path, buf.getvalue())


def rank_teams(entries: dict, rule: PointsRule, teams, *, n_overall: int | None = None,
               no_entry: str = "no entry") -> list[TeamResult]:
    """Every team of ``teams`` with its rank and points. ``entries`` maps a
    team's name to ``(key, overall_rank, source, score)`` where a smaller
    ``key`` is better; teams missing from it get ``rule.floor``."""
    names = [t.name for t in teams if t.name in entries]
    if rule.rank == "overall":
        if n_overall is None:
            raise ValueError("rank = \"overall\" needs the size of the whole leaderboard")
        ranks = {name: entries[name][1] for name in names}
        n = n_overall
    else:
        keys = [entries[name][0] for name in names]
        ranks = dict(zip(names, competition_ranks(keys)))
        n = len(names)
    out = []
    for team in teams:
        if team.name in entries:
            _, _, source, score = entries[team.name]
            out.append(TeamResult(team, ranks[team.name], rule.points(ranks[team.name], n), source, score))
        else:
            out.append(TeamResult(team, None, rule.floor, no_entry))
    return out


# -- Kaggle --------------------------------------------------------------------

_NAME_COLUMNS = ("teamname", "team name", "team", "team_name")
_SCORE_COLUMNS = ("score", "privatescore", "private score", "publicscore", "public score")
_RANK_COLUMNS = ("rank", "#")


class LeaderboardError(ValueError):
    """A leaderboard file that cannot be read; the message says why."""


@dataclasses.dataclass(frozen=True)
class Entry:
    """One team's best row of a leaderboard: its name, score, rank and line."""

    name: str
    score: float | None
    rank: int | None
    line: int


@dataclasses.dataclass
class Imported:
    """A leaderboard matched to the course's teams."""

    results: list[TeamResult]
    #: Leaderboard names matching no course team (other entrants, or misspellings to fix with [aliases]).
    unmatched_leaderboard: list[str]
    #: Course teams not found on the leaderboard (they get the floor).
    unmatched_teams: list[str]
    #: Rows skipped, with why (no score, a second row of a team, …).
    notes: list[str]
    #: Teams with a score on the whole leaderboard.
    size: int


def read_leaderboard(path: Path | str, *, higher_is_better: bool) -> tuple[list[Entry], list[str]]:
    """The teams of a Kaggle leaderboard CSV, best first, one entry per team
    name (a team's best row when it has several), and notes on the rows
    skipped. Ranks come from a ``Rank`` column when every row has one, else
    from the scores (``higher_is_better``), ties sharing a rank."""
    path = Path(path)
    text, _ = decode_utf8_or_gbk(path.read_bytes(), strip_bom=True)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise LeaderboardError(f"{path.name} is empty")
    cells = [h.strip().casefold() for h in header]

    def column(names):
        return next((cells.index(n) for n in names if n in cells), None)

    i_name, i_score, i_rank = column(_NAME_COLUMNS), column(_SCORE_COLUMNS), column(_RANK_COLUMNS)
    if i_name is None or (i_score is None and i_rank is None):
        raise LeaderboardError(f"{path.name}: expected a TeamName column and a Score or Rank column; "
                               f"found {', '.join(header)}")
    rows: list[Entry] = []
    notes: list[str] = []
    for row in reader:
        if not any(c.strip() for c in row):
            continue
        line = reader.line_num
        cell = lambda i: row[i].strip() if i is not None and i < len(row) else ""  # noqa: E731
        name = cell(i_name)
        if not name:
            notes.append(f"line {line}: no team name; skipped")
            continue
        try:
            score = float(cell(i_score)) if cell(i_score) else None
            rank = int(float(cell(i_rank))) if cell(i_rank) else None
        except ValueError:
            raise LeaderboardError(f"{path.name} line {line}: score {cell(i_score)!r} or rank "
                                   f"{cell(i_rank)!r} is not a number") from None
        if score is not None and not math.isfinite(score):
            score = None
        rows.append(Entry(name, score, rank, line))
    by_rank = i_rank is not None and all(e.rank is not None for e in rows)
    if not by_rank:
        for e in rows:
            if e.score is None:
                notes.append(f"line {e.line}: {e.name!r} has no score; skipped")
        rows = [e for e in rows if e.score is not None]

    def key(e: Entry) -> float:  # smaller is better
        if by_rank:
            return float(e.rank)
        return -e.score if higher_is_better else e.score

    best: dict[str, Entry] = {}
    for e in rows:
        old = best.get(e.name)
        if old is None or key(e) < key(old):
            best[e.name] = e
        if old is not None:
            notes.append(f"{e.name!r} has several rows (lines {old.line}, {e.line}); its best counts")
    entries = list(best.values())
    if not by_rank:
        ranks = competition_ranks([key(e) for e in entries])
        entries = [dataclasses.replace(e, rank=r) for e, r in zip(entries, ranks)]
    return sorted(entries, key=lambda e: (e.rank, e.line)), notes


def import_leaderboard(path: Path | str, teams, rule: PointsRule, *, higher_is_better: bool,
                       aliases: dict[str, str] | None = None) -> Imported:
    """Match the leaderboard at ``path`` to ``teams`` (a :class:`~grader.competition.teams.Teams`)
    and give every team its rank and points. ``aliases`` maps a leaderboard
    name to a course team's name when the two differ by more than normalising."""
    from grader.competition.teams import normalise_name

    path = Path(path)
    entries, notes = read_leaderboard(path, higher_is_better=higher_is_better)
    alias = {normalise_name(k): v for k, v in (aliases or {}).items()}
    matched: dict[str, tuple] = {}
    by_team: dict[str, Entry] = {}
    unmatched = []
    problems = []
    for target in alias.values():
        if teams.find(target) is None:
            problems.append(f"[aliases]: {target!r} is not a course team")
    for e in entries:
        team = teams.find(alias.get(normalise_name(e.name), e.name))
        if team is None:
            unmatched.append(e.name)
            continue
        if team.name in by_team:
            other = by_team[team.name]
            problems.append(f"{path.name}: lines {other.line} ({other.name!r}) and {e.line} ({e.name!r}) both "
                            f"match team {team.name!r}; add the right one to [aliases] and rename the other")
            continue
        by_team[team.name] = e
        key = float(e.rank)  # ranks already follow the scores' direction
        matched[team.name] = (key, e.rank, f"{path.name}:line {e.line}", e.score)
    if problems:
        raise LeaderboardError("\n".join(problems))
    results = rank_teams(matched, rule, teams, n_overall=len(entries))
    missing = [t.name for t in teams if t.name not in matched]
    return Imported(results, unmatched, missing, notes, len(entries))
