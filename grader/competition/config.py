"""A competition's settings: ``competition.toml`` in the competition's folder.

::

    [competition]
    title = "Isolated sign classification"
    metric = "accuracy"          # see grader.competition.metrics
    positive_label = "1"         # f1 and roc_auc: the positive class
    teams = "teams.csv"          # team name, member ids
    roster = "roster.csv"        # optional: members must be on it
    team_size = 2

    # an in-class competition (grader competition submit …) also needs:
    labels = "labels.csv"        # hidden: the id column and the true target
    id_column = "id"
    target_column = "label"
    public_fraction = 0.3        # share of rows on the public leaderboard
    split_seed = "spring-2025"   # any text; the split follows from it and the ids
    deadline = "2025-06-20 23:59"  # local time in `timezone`
    timezone = "Asia/Shanghai"
    daily_limit = 5              # scored submissions per team per local day
    max_chosen = 2               # submissions a team may choose for its final score

    [points]                     # see grader.competition.leaderboard.PointsRule
    rule = "linear"
    top = 25
    bottom = 15
    floor = 10

    [aliases]                    # a leaderboard's team name = the course's team name
    "DeepThinkers_USTC" = "Deep Thinkers"

Paths are relative to the folder. The folder also holds the submissions'
database (``competition.db``), so it must stay private to the course staff.
"""

from __future__ import annotations

import dataclasses
import datetime
import tomllib
import zoneinfo
from pathlib import Path

from grader.competition.leaderboard import PointsRule
from grader.competition.metrics import Metric, get_metric

CONFIG_FILE = "competition.toml"
DATABASE_FILE = "competition.db"
DEFAULT_TIMEZONE = "Asia/Shanghai"


class CompetitionConfigError(ValueError):
    """A ``competition.toml`` that cannot be used; the message says which setting."""


@dataclasses.dataclass(frozen=True)
class Competition:
    """Everything ``competition.toml`` says, with paths made absolute."""

    folder: Path
    title: str
    metric: Metric
    positive_label: str
    teams_file: Path
    roster_file: Path | None
    team_size: int
    points: PointsRule
    aliases: dict[str, str]
    # The in-class competition (None / defaults when the folder is for an external one).
    labels_file: Path | None = None
    id_column: str = "id"
    target_column: str = "label"
    public_fraction: float = 0.3
    split_seed: str = ""
    deadline: datetime.datetime | None = None
    timezone: zoneinfo.ZoneInfo = zoneinfo.ZoneInfo(DEFAULT_TIMEZONE)
    daily_limit: int = 5
    max_chosen: int = 2

    @property
    def database(self) -> Path:
        return self.folder / DATABASE_FILE

    @property
    def hosted(self) -> bool:
        """Whether this is an in-class competition (it has hidden labels)."""
        return self.labels_file is not None

    def load_teams(self):
        """The course's teams (:func:`grader.competition.teams.load_teams`), checked against the roster."""
        from grader.competition.teams import load_teams
        from grader.roster import load_roster

        roster = load_roster(self.roster_file) if self.roster_file else None
        return load_teams(self.teams_file, roster=roster, size=self.team_size)


def _local_time(text, tz: zoneinfo.ZoneInfo, what: str) -> datetime.datetime:
    if isinstance(text, datetime.datetime):
        value = text
    elif isinstance(text, str):
        try:
            value = datetime.datetime.fromisoformat(text.strip())
        except ValueError:
            raise CompetitionConfigError(f"{what} = {text!r}: write a time like \"2025-06-20 23:59\"") from None
    else:
        raise CompetitionConfigError(f"{what} must be a time like \"2025-06-20 23:59\"")
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


def load(folder: Path | str) -> Competition:
    """The competition configured in ``folder/competition.toml``."""
    folder = Path(folder).resolve()
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise CompetitionConfigError(f"no {CONFIG_FILE} in {folder}")
    try:
        meta = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CompetitionConfigError(f"{path}: {exc}") from None
    c = meta.get("competition", {})

    def need(key):
        if key not in c:
            raise CompetitionConfigError(f"{path}: [competition] needs {key} = …")
        return c[key]

    try:
        metric = get_metric(str(need("metric")))
        tz = zoneinfo.ZoneInfo(str(c.get("timezone", DEFAULT_TIMEZONE)))
    except (ValueError, zoneinfo.ZoneInfoNotFoundError) as exc:
        raise CompetitionConfigError(f"{path}: {exc}") from None
    try:
        points = PointsRule.from_table(meta.get("points", {}))
    except ValueError as exc:
        raise CompetitionConfigError(f"{path}: [points]: {exc}") from None
    hosted = {}
    if "labels" in c:
        fraction = float(c.get("public_fraction", 0.3))
        if not 0 < fraction < 1:
            raise CompetitionConfigError(f"{path}: public_fraction must lie between 0 and 1 (exclusive)")
        hosted = dict(
            labels_file=folder / need("labels"),
            id_column=str(c.get("id_column", "id")),
            target_column=str(c.get("target_column", "label")),
            public_fraction=fraction,
            split_seed=str(need("split_seed")),
            deadline=_local_time(need("deadline"), tz, "deadline"),
            timezone=tz,
            daily_limit=int(c.get("daily_limit", 5)),
            max_chosen=int(c.get("max_chosen", 2)),
        )
        if hosted["id_column"] == hosted["target_column"]:
            raise CompetitionConfigError(f"{path}: id_column and target_column must differ")
    return Competition(
        folder=folder,
        title=str(c.get("title", folder.name)),
        metric=metric,
        positive_label=str(c.get("positive_label", "1")),
        teams_file=folder / str(c.get("teams", "teams.csv")),
        roster_file=folder / c["roster"] if c.get("roster") else None,
        team_size=int(c.get("team_size", 2)),
        points=points,
        aliases={str(k): str(v) for k, v in meta.get("aliases", {}).items()},
        **hosted,
    )
