"""The course's competition teams, read from a CSV a TA writes.

One row per team: the team's name, then its members' ids (one per cell, or
several in one cell separated by ``;``, ``,`` inside quotes, ``、`` or
spaces). A header row is optional (``team``/``队名`` in its first cell). With a
roster, members may also be named by e-mail or name, and are stored under
their roster id.

:func:`load_teams` refuses the whole file, naming every bad row, when a
student is in two teams, a team has more members than allowed, a member is
not on the roster, or two teams have the same name. Names are compared
normalised (:func:`normalise_name`): the same rule matches them to the names
on a Kaggle leaderboard.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import unicodedata
from pathlib import Path

from grader.intake.text import decode_utf8_or_gbk

#: First cells of a header row (case-insensitive).
HEADER_CELLS = ("team", "team name", "team_name", "teamname", "name", "队名", "队伍", "团队")
#: What separates several member ids written in one cell.
_MEMBER_SEPARATORS = re.compile(r"[;；,，、\s]+")


def normalise_name(name: str) -> str:
    """``name`` as compared: full-width letters made half-width (NFKC), case
    folded, without whitespace, punctuation or invisible characters.
    ``"Ｄｅｅｐ-Thinkers "`` and ``"deep thinkers"`` are the same team."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PZC")


class TeamsError(ValueError):
    """A teams file that cannot be used: every problem, one per line, each naming its row."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclasses.dataclass(frozen=True)
class Team:
    """A team: its name as written, its members' ids and the line it was on."""

    name: str
    members: tuple[str, ...]
    line: int

    @property
    def key(self) -> str:
        return normalise_name(self.name)


@dataclasses.dataclass(frozen=True)
class Teams:
    """Every team of the course, in file order."""

    teams: tuple[Team, ...]

    def __iter__(self):
        return iter(self.teams)

    def __len__(self) -> int:
        return len(self.teams)

    def find(self, name: str) -> Team | None:
        """The team called ``name`` (compared normalised), or None."""
        key = normalise_name(name)
        return next((t for t in self.teams if t.key == key), None)

    def of_student(self, student: str) -> Team | None:
        """The team ``student`` (a member id) is in, or None."""
        return next((t for t in self.teams if student in t.members), None)


def load_teams(path: Path | str, *, roster=None, size: int = 2) -> Teams:
    """Read and check the teams file at ``path``. ``roster`` (a
    :class:`grader.roster.Roster`, optional) is who may be in a team; ``size``
    is the most members a team may have. :class:`TeamsError` lists every
    problem, by line, when the file cannot be used."""
    path = Path(path)
    text, _ = decode_utf8_or_gbk(path.read_bytes(), strip_bom=True)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    problems: list[str] = []
    teams: list[Team] = []
    first_line_of: dict[str, int] = {}  # normalised team name → line
    team_of: dict[str, tuple[str, int]] = {}  # member id → (team, line)
    first = True
    for row in reader:
        line = reader.line_num
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if first and cells[0].casefold() in HEADER_CELLS:
            first = False
            continue
        first = False
        where = f"{path.name} line {line}"
        name = cells[0]
        written = [m for cell in cells[1:] for m in _MEMBER_SEPARATORS.split(cell) if m]
        if not normalise_name(name):
            problems.append(f"{where}: the team has no name (the first cell must name it)")
            continue
        if not written:
            problems.append(f"{where}: team {name!r} has no members (their ids follow the name)")
            continue
        members: list[str] = []
        for who in written:
            sid = who
            if roster is not None:
                sid = roster.match(who)
                if sid is None:
                    problems.append(f"{where}: {who!r} of team {name!r} is not on the roster")
                    continue
            if sid in members:
                problems.append(f"{where}: {who!r} is listed twice in team {name!r}")
                continue
            members.append(sid)
        if len(written) > size:
            problems.append(f"{where}: team {name!r} has {len(written)} members; a team has at most {size}")
        key = normalise_name(name)
        if key in first_line_of:
            problems.append(f"{where}: team name {name!r} is already used on line {first_line_of[key]} "
                            "(names are compared ignoring case, width, spaces and punctuation)")
        else:
            first_line_of[key] = line
        for sid in members:
            if sid in team_of:
                other, other_line = team_of[sid]
                problems.append(f"{where}: student {sid} is in team {name!r} and in team {other!r} "
                                f"(line {other_line}); a student is in one team")
            else:
                team_of[sid] = (name, line)
        teams.append(Team(name, tuple(members), line))
    if problems:
        raise TeamsError(problems)
    return Teams(tuple(teams))
