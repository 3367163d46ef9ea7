"""Where an in-class competition keeps its submissions: one SQLite file.

Every scored submission is kept with its team, time (UTC), file name,
bytes, SHA-256, public and private scores, whether it came after the
deadline and whether the team chose it. Files that could not be scored, and
submissions over the daily limit, are kept apart (``rejections``): they
never count against the limit.

The schema lives here, as numbered :data:`MIGRATIONS`; the database's
``PRAGMA user_version`` says how many have been applied, and opening a
database applies the rest in one transaction. A database made by a newer
kit (a version this code does not know) is refused rather than guessed at.
Standard library only.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import sqlite3
from pathlib import Path

#: Schema changes in order; never edit one that has shipped, append a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: submissions and rejected attempts.
    """
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        team TEXT NOT NULL,
        submitted_at TEXT NOT NULL,      -- UTC, ISO 8601 with microseconds: sorts as time does
        filename TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        content BLOB NOT NULL,
        public_score REAL NOT NULL,
        private_score REAL NOT NULL,
        late INTEGER NOT NULL DEFAULT 0,
        chosen INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE rejections (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        team TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        filename TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    """,
    # 2: the daily limit counts a team's submissions of one day.
    "CREATE INDEX submissions_team_time ON submissions (team, submitted_at);",
)


class StoreError(RuntimeError):
    """A database this kit cannot use; the message says why."""


@dataclasses.dataclass(frozen=True)
class Submission:
    """One scored submission as stored."""

    id: int
    team: str
    submitted_at: datetime.datetime
    filename: str
    sha256: str
    public_score: float
    private_score: float
    late: bool
    chosen: bool


def utc_text(when: datetime.datetime) -> str:
    """``when`` as stored: UTC, fixed width, so text order is time order."""
    if when.tzinfo is None:
        raise ValueError("a time without a time zone")
    return when.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds")


def schema_version(connection: sqlite3.Connection) -> int:
    return connection.execute("PRAGMA user_version").fetchone()[0]


def migrate(connection: sqlite3.Connection, *, upto: int | None = None) -> int:
    """Apply the migrations ``connection``'s database lacks (up to ``upto``,
    default all), in one transaction; the version reached."""
    target = len(MIGRATIONS) if upto is None else upto
    version = schema_version(connection)
    if version > len(MIGRATIONS):
        raise StoreError(f"the database has schema version {version}, newer than this kit knows "
                         f"({len(MIGRATIONS)}): use the kit that made it")
    if version >= target:
        return version
    # executescript commits first, so run each statement inside one explicit transaction.
    connection.execute("BEGIN IMMEDIATE")
    try:
        for number in range(version, target):
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {int(target)}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return target


class Store:
    """The submissions of one competition (``competition.db``)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        # isolation_level=None: transactions are begun explicitly (BEGIN IMMEDIATE), so
        # a submission's limit check and its insert cannot interleave with another's.
        self.connection = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            migrate(self.connection)
        except BaseException:
            self.connection.close()
            raise

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def transaction(self):
        """A write transaction that holds the database from its first read (``BEGIN IMMEDIATE``)."""
        return _Transaction(self.connection)

    def count(self, team: str, start: datetime.datetime, end: datetime.datetime) -> int:
        """Scored submissions of ``team`` with ``start <= time < end``."""
        row = self.connection.execute(
            "SELECT COUNT(*) FROM submissions WHERE team = ? AND submitted_at >= ? AND submitted_at < ?",
            (team, utc_text(start), utc_text(end))).fetchone()
        return row[0]

    def add(self, team: str, when: datetime.datetime, filename: str, content: bytes,
            public_score: float, private_score: float, late: bool) -> int:
        """Store a scored submission; its id."""
        cursor = self.connection.execute(
            "INSERT INTO submissions (team, submitted_at, filename, sha256, content, public_score, private_score, late)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (team, utc_text(when), filename, hashlib.sha256(content).hexdigest(), content,
             public_score, private_score, int(late)))
        return cursor.lastrowid

    def reject(self, team: str, when: datetime.datetime, filename: str, reason: str) -> int:
        """Record an attempt that was not scored (it does not count against the limit)."""
        cursor = self.connection.execute(
            "INSERT INTO rejections (team, submitted_at, filename, reason) VALUES (?, ?, ?, ?)",
            (team, utc_text(when), filename, reason))
        return cursor.lastrowid

    def submissions(self, team: str | None = None) -> list[Submission]:
        """Scored submissions (of ``team``, or all), oldest first."""
        query = ("SELECT id, team, submitted_at, filename, sha256, public_score, private_score, late, chosen "
                 "FROM submissions")
        rows = self.connection.execute(query + (" WHERE team = ?" if team else "") + " ORDER BY submitted_at, id",
                                       (team,) if team else ()).fetchall()
        return [Submission(r[0], r[1], datetime.datetime.fromisoformat(r[2]), r[3], r[4], r[5], r[6],
                           bool(r[7]), bool(r[8])) for r in rows]

    def rejections(self, team: str | None = None) -> list[tuple[str, str, str]]:
        """Attempts not scored: ``(time, file name, reason)``, oldest first."""
        query = "SELECT submitted_at, filename, reason FROM rejections"
        return self.connection.execute(query + (" WHERE team = ?" if team else "") + " ORDER BY submitted_at, id",
                                       (team,) if team else ()).fetchall()

    def content(self, submission_id: int) -> bytes:
        """The bytes of a stored submission."""
        row = self.connection.execute("SELECT content FROM submissions WHERE id = ?", (submission_id,)).fetchone()
        if row is None:
            raise KeyError(f"no submission {submission_id}")
        return row[0]

    def set_scores(self, submission_id: int, public_score: float, private_score: float) -> None:
        self.connection.execute("UPDATE submissions SET public_score = ?, private_score = ? WHERE id = ?",
                                (public_score, private_score, submission_id))

    def choose(self, team: str, ids: list[int]) -> None:
        """Make ``ids`` the team's chosen submissions (replacing its earlier choice)."""
        self.connection.execute("UPDATE submissions SET chosen = 0 WHERE team = ?", (team,))
        for i in ids:
            self.connection.execute("UPDATE submissions SET chosen = 1 WHERE team = ? AND id = ?", (team, i))


class _Transaction:
    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def __enter__(self):
        self.connection.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, exc_type, *_):
        self.connection.execute("ROLLBACK" if exc_type else "COMMIT")
