"""The course roster: who should have submitted, under which id and name.

:func:`load_roster` reads the CSV a TA exports from the school's system
(UTF-8, UTF-8 with a byte-order mark, or GBK as Excel writes it in China).
The batch uses the :class:`Roster` to name students, to match a submission
named by e-mail, login or name to its student, and to flag students who did
not submit and submissions from students not on it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from pathlib import Path

from grader.intake.ids import safe_id
from grader.intake.text import decode_utf8_or_gbk

#: Header cells (case-insensitive) naming the id column, tried in this order.
ID_COLUMNS = ("id", "student_id", "student id", "studentid", "sid", "student number", "number", "学号", "login",
              "username", "user")
#: Header cells naming the name column.
NAME_COLUMNS = ("name", "full name", "student name", "student", "姓名")
#: Header cells naming the e-mail column.
EMAIL_COLUMNS = ("email", "e-mail", "mail", "邮箱")


@dataclasses.dataclass
class Roster:
    """Students of a course: ids in roster order, their names, and aliases
    (e-mail, its local part, the name) that submissions may be named by."""

    #: Roster id → name (``""`` when the roster has none), in roster order.
    names: dict[str, str]
    #: Normalised alias (:func:`_alias`) → roster id.
    aliases: dict[str, str]

    def match(self, submission_id: str) -> str | None:
        """The roster id a submission id refers to, or None (not on the roster)."""
        if submission_id in self.names:
            return submission_id
        return self.aliases.get(_alias(submission_id))


def _alias(text: str) -> str:
    """``text`` without spaces, ``_``, ``.`` or ``-``, case-folded: ``Zhang San`` matches ``zhang_san``."""
    return re.sub(r"[\s_.-]+", "", text).casefold()


def load_roster(path: Path | str) -> Roster:
    """Read a roster CSV (UTF-8, UTF-8 with BOM, or GBK as Excel writes it in
    China; comma, semicolon or tab separated) with a header row naming an id
    column (``id``, ``student_id``, ``学号``, …) and optionally a name and an
    e-mail column. Without a recognised header: id, then name."""
    text, _ = decode_utf8_or_gbk(Path(path).read_bytes(), strip_bom=True)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    if not rows:
        return Roster({}, {})
    header = [c.strip().casefold() for c in rows[0]]

    def column(candidates):
        return next((header.index(c) for c in candidates if c in header), None)

    i_id, i_name, i_email = column(ID_COLUMNS), column(NAME_COLUMNS), column(EMAIL_COLUMNS)
    body = rows[1:]
    if i_id is None:
        if i_name is not None or i_email is not None:
            raise ValueError(f"{path}: no id column (one of {', '.join(ID_COLUMNS)})")
        i_id, i_name, body = 0, 1 if len(rows[0]) > 1 else None, rows
    names, aliases = {}, {}
    for row in body:
        cell = lambda i: row[i].strip() if i is not None and i < len(row) else ""  # noqa: E731
        sid = safe_id(cell(i_id))
        if not cell(i_id):
            continue
        names[sid] = cell(i_name)
        for alias in (cell(i_email), cell(i_email).split("@")[0], cell(i_name), cell(i_id)):
            if alias:
                aliases.setdefault(_alias(alias), sid)
    return Roster(names, aliases)
