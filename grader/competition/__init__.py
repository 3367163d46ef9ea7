"""The course's team competition, and the points its ranks earn.

A competition lives in a folder of the course staff's, configured by
``competition.toml`` (:mod:`~grader.competition.config`). Two kinds:

* **external** (a KDD Cup or Kaggle challenge): the host's leaderboard CSV is
  imported, its team names matched to the course's teams, and each team's
  rank turned into points (:mod:`~grader.competition.leaderboard`);
* **in-class**: teams submit prediction files, scored against hidden labels
  split into a public and a private part, with a daily limit and a deadline
  (:mod:`~grader.competition.hosted`, stored by :mod:`~grader.competition.store`,
  read by :mod:`~grader.competition.predictions`, shown by
  :mod:`~grader.competition.pages`).

Either way the result is ``points.csv`` (``student_id,team,rank,points,source``,
one row per member of every team: :func:`write_points_csv`), what the
gradebook reads. Teams: :mod:`~grader.competition.teams`; metrics:
:mod:`~grader.competition.metrics`.
"""

from grader.competition.config import Competition, CompetitionConfigError, load
from grader.competition.leaderboard import (LeaderboardError, PointsRule, competition_ranks, import_leaderboard,
                                            write_points_csv)
from grader.competition.metrics import METRICS, Metric, get_metric
from grader.competition.teams import Team, Teams, TeamsError, load_teams, normalise_name

__all__ = ["METRICS", "Competition", "CompetitionConfigError", "LeaderboardError", "Metric", "PointsRule", "Team",
           "Teams", "TeamsError", "competition_ranks", "get_metric", "import_leaderboard", "load", "load_teams",
           "normalise_name", "write_points_csv"]
