"""The gradebook's memory: one SQLite file holding every import and every score's history.

The schema lives here, as ordered :data:`MIGRATIONS`; ``schema_version``
says how many were applied, and :func:`open_store` applies the rest (each in
its own transaction) before anything else touches the file. A file made by a
newer kit is refused rather than misread.

What is kept, and why:

* ``imports`` and ``source_rows``: every file read (its path, hash and when)
  and each of its rows as it was, so any number can be traced to a row of a
  file even after the file changed. Reading a file whose hash is the one
  last imported adds nothing: importing is idempotent.
* ``scores`` and ``submission_times``: one *version* per change, never
  overwritten; the current value is the highest version (views
  ``current_scores``, ``current_times``). ``edits`` says what each change was
  (a regrade, a rubric score, a TA's sheet) from what to what.
* ``late_days``: what the late policy made of each submission on the last run.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import sqlite3
from pathlib import Path
from typing import Iterable

#: The schema, one migration per version: ``MIGRATIONS[i]`` takes version ``i`` to ``i + 1``.
MIGRATIONS: tuple[str, ...] = (
    # 1: students, components, the files read and the scores taken from them.
    """
    CREATE TABLE students (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        on_roster INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE components (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        weight REAL NOT NULL,
        source TEXT NOT NULL,
        deadline TEXT
    );
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        component TEXT NOT NULL,
        role TEXT NOT NULL,
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        imported_at TEXT NOT NULL
    );
    CREATE TABLE source_rows (
        id INTEGER PRIMARY KEY,
        import_id INTEGER NOT NULL REFERENCES imports(id),
        row_number INTEGER NOT NULL,
        raw TEXT NOT NULL,
        UNIQUE (import_id, row_number)
    );
    CREATE TABLE scores (
        id INTEGER PRIMARY KEY,
        student TEXT NOT NULL,
        component TEXT NOT NULL,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        points REAL,
        max_points REAL,
        detail TEXT NOT NULL DEFAULT '',
        source_row INTEGER REFERENCES source_rows(id),
        recorded_at TEXT NOT NULL,
        UNIQUE (student, component, version)
    );
    CREATE VIEW current_scores AS
        SELECT s.* FROM scores s
        WHERE s.version = (SELECT MAX(version) FROM scores t
                           WHERE t.student = s.student AND t.component = s.component);
    """,
    # 2: submission times and the late policy's verdicts; a log of what changed.
    """
    CREATE TABLE submission_times (
        id INTEGER PRIMARY KEY,
        student TEXT NOT NULL,
        component TEXT NOT NULL,
        version INTEGER NOT NULL,
        submitted_at TEXT,
        source_row INTEGER REFERENCES source_rows(id),
        recorded_at TEXT NOT NULL,
        UNIQUE (student, component, version)
    );
    CREATE VIEW current_times AS
        SELECT s.* FROM submission_times s
        WHERE s.version = (SELECT MAX(version) FROM submission_times t
                           WHERE t.student = s.student AND t.component = s.component);
    CREATE TABLE late_days (
        student TEXT NOT NULL,
        component TEXT NOT NULL,
        days_late INTEGER NOT NULL,
        used INTEGER NOT NULL,
        penalized INTEGER NOT NULL,
        fraction REAL NOT NULL,
        zeroed INTEGER NOT NULL,
        computed_at TEXT NOT NULL,
        PRIMARY KEY (student, component)
    );
    CREATE TABLE edits (
        id INTEGER PRIMARY KEY,
        student TEXT NOT NULL,
        component TEXT NOT NULL,
        kind TEXT NOT NULL,
        old TEXT NOT NULL,
        new TEXT NOT NULL,
        source_row INTEGER REFERENCES source_rows(id),
        at TEXT NOT NULL
    );
    """,
)
#: The schema version this kit writes.
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(RuntimeError):
    """A gradebook file this kit cannot use."""


@dataclasses.dataclass(frozen=True)
class Row:
    """A source row as stored: where it came from, and its cells."""

    id: int
    file: str
    number: int
    cells: dict[str, str]
    imported_at: str


@dataclasses.dataclass(frozen=True)
class Version:
    """One version of a student's score in a component."""

    version: int
    status: str
    points: float | None
    max: float | None
    detail: str
    row: Row | None
    recorded_at: str


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def open_store(path: Path | str, *, upto: int | None = None) -> "Store":
    """The store at ``path`` (created if new), migrated to :data:`SCHEMA_VERSION`
    (or to ``upto``: how older files are made, for tests)."""
    target = SCHEMA_VERSION if upto is None else upto
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)  # transactions are explicit
    db.execute("PRAGMA foreign_keys = ON")
    try:
        version = _version(db)
        if version > SCHEMA_VERSION:
            raise StoreError(f"{path} has schema version {version}, newer than this kit's {SCHEMA_VERSION}: "
                             "update the kit")
        for number in range(version, target):
            db.execute("BEGIN")
            try:
                for statement in _statements(MIGRATIONS[number]):
                    db.execute(statement)
                db.execute("DELETE FROM schema_version")
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (number + 1,))
                db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                db.execute("ROLLBACK")
                raise StoreError(f"{path}: migrating it to schema version {number + 1} failed ({exc}); "
                                 f"it is left at version {number}") from None
            except BaseException:
                db.execute("ROLLBACK")
                raise
    except sqlite3.DatabaseError as exc:
        db.close()
        raise StoreError(f"{path} is not a gradebook store: {exc}") from None
    except BaseException:
        db.close()
        raise
    return Store(db, path)


def _version(db: sqlite3.Connection) -> int:
    db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def _statements(script: str) -> list[str]:
    """``script`` split into statements (``executescript`` would commit the migration's transaction)."""
    out, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            out.append(buffer.strip())
            buffer = ""
    return [s for s in out if s]


class Store:
    """An open gradebook file (:func:`open_store`); use as a context manager or :meth:`close` it."""

    def __init__(self, db: sqlite3.Connection, path: Path):
        self.db, self.path = db, path

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        self.db.close()

    @property
    def version(self) -> int:
        return _version(self.db)

    def transaction(self):
        """``with store.transaction():`` everything inside is written, or nothing."""
        return _Transaction(self.db)

    # -- what the course is -----------------------------------------------------

    def set_students(self, names: dict[str, str]) -> None:
        """The roster: these students (id → name) are on it, any other is not."""
        self.db.execute("UPDATE students SET on_roster = 0")
        self.db.executemany("INSERT INTO students (id, name, on_roster) VALUES (?, ?, 1) "
                            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, on_roster = 1", names.items())

    def set_component(self, cid: str, kind: str, weight: float, source: str, deadline: str | None) -> None:
        self.db.execute("INSERT INTO components VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                        "kind = excluded.kind, weight = excluded.weight, source = excluded.source, "
                        "deadline = excluded.deadline", (cid, kind, weight, source, deadline))

    # -- files --------------------------------------------------------------------

    def import_rows(self, component: str, role: str, file: str, sha256: str,
                    rows: dict[int, dict[str, str]]) -> tuple[dict[int, int], bool]:
        """Record the rows of ``file`` (row number → cells) unless the last
        import of it for ``component`` and ``role`` had this very hash:
        ``(row number → source row id, whether this is a new import)``."""
        last = self.db.execute("SELECT id, sha256 FROM imports WHERE component = ? AND role = ? AND file = ? "
                               "ORDER BY id DESC LIMIT 1", (component, role, file)).fetchone()
        if last is not None and last[1] == sha256:
            ids = self.db.execute("SELECT row_number, id FROM source_rows WHERE import_id = ?", (last[0],))
            return dict(ids.fetchall()), False
        cursor = self.db.execute("INSERT INTO imports (component, role, file, sha256, imported_at) "
                                 "VALUES (?, ?, ?, ?, ?)", (component, role, file, sha256, _now()))
        import_id = cursor.lastrowid
        out = {}
        for number, cells in rows.items():
            cursor = self.db.execute("INSERT INTO source_rows (import_id, row_number, raw) VALUES (?, ?, ?)",
                                     (import_id, number, json.dumps(cells, ensure_ascii=False)))
            out[number] = cursor.lastrowid
        return out, True

    def row(self, row_id: int | None) -> Row | None:
        if row_id is None:
            return None
        found = self.db.execute("SELECT r.id, i.file, r.row_number, r.raw, i.imported_at FROM source_rows r "
                                "JOIN imports i ON i.id = r.import_id WHERE r.id = ?", (row_id,)).fetchone()
        return None if found is None else Row(found[0], found[1], found[2], json.loads(found[3]), found[4])

    def counts(self) -> dict[str, int]:
        """Rows per table (what an idempotent import must leave unchanged)."""
        return {t: self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: S608 - fixed names
                for t in ("imports", "source_rows", "scores", "submission_times", "edits")}

    # -- scores -------------------------------------------------------------------

    def record_score(self, student: str, component: str, *, status: str, points: float | None,
                     max_points: float | None, detail: str, source_row: int | None, kind: str) -> bool:
        """Record what the source says now; a new version only when it differs
        from the current one (value, status, or the row it comes from), with
        an ``edits`` line of kind ``kind`` when a value changed. Whether a
        version was added."""
        current = self.current(student, component)
        new = (status, points, max_points, detail, self._row_key(source_row))
        if current is not None and (current.status, current.points, current.max, current.detail,
                                    self._row_key(current.row.id if current.row else None)) == new:
            return False
        version = 1 if current is None else current.version + 1
        self.db.execute("INSERT INTO scores (student, component, version, status, points, max_points, detail, "
                        "source_row, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (student, component, version, status, points, max_points, detail, source_row, _now()))
        if current is not None and (current.status, current.points, current.max) != (status, points, max_points):
            self.db.execute("INSERT INTO edits (student, component, kind, old, new, source_row, at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (student, component, kind, _describe(current.status, current.points, current.max),
                             _describe(status, points, max_points), source_row, _now()))
        return True

    def _row_key(self, row_id: int | None):
        """A source row by what it says (its number and cells), not its id:
        a file re-imported with this student's row unchanged is the same evidence."""
        row = self.row(row_id)
        return None if row is None else (row.file, row.number, json.dumps(row.cells, sort_keys=True))

    def current(self, student: str, component: str) -> Version | None:
        found = self.db.execute("SELECT version, status, points, max_points, detail, source_row, recorded_at "
                                "FROM current_scores WHERE student = ? AND component = ?",
                                (student, component)).fetchone()
        return None if found is None else self._version_of(found)

    def history(self, student: str, component: str) -> list[Version]:
        """Every version of the score, oldest first."""
        found = self.db.execute("SELECT version, status, points, max_points, detail, source_row, recorded_at "
                                "FROM scores WHERE student = ? AND component = ? ORDER BY version",
                                (student, component)).fetchall()
        return [self._version_of(f) for f in found]

    def _version_of(self, found) -> Version:
        return Version(found[0], found[1], found[2], found[3], found[4], self.row(found[5]), found[6])

    def edits(self, student: str | None = None) -> list[tuple]:
        """``(student, component, kind, old, new, at)``, oldest first."""
        query = "SELECT student, component, kind, old, new, at FROM edits"
        args: Iterable = ()
        if student is not None:
            query, args = query + " WHERE student = ?", (student,)
        return self.db.execute(query + " ORDER BY id", args).fetchall()

    # -- submission times and lateness ---------------------------------------------

    def record_time(self, student: str, component: str, submitted_at: str | None, source_row: int | None) -> bool:
        """Record a submission time (None: none recorded); a new version only when it changed."""
        found = self.db.execute("SELECT version, submitted_at, source_row FROM current_times "
                                "WHERE student = ? AND component = ?", (student, component)).fetchone()
        if found is not None and (found[1], self._row_key(found[2])) == (submitted_at, self._row_key(source_row)):
            return False
        self.db.execute("INSERT INTO submission_times (student, component, version, submitted_at, source_row, "
                        "recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (student, component, 1 if found is None else found[0] + 1, submitted_at, source_row, _now()))
        return True

    def time(self, student: str, component: str) -> tuple[str | None, Row | None]:
        """The current submission time (ISO) and the row it came from."""
        found = self.db.execute("SELECT submitted_at, source_row FROM current_times WHERE student = ? "
                                "AND component = ?", (student, component)).fetchone()
        return (None, None) if found is None else (found[0], self.row(found[1]))

    def clear_late(self, student: str) -> None:
        """Forget the last run's verdicts for ``student`` (a submission may have become missing since)."""
        self.db.execute("DELETE FROM late_days WHERE student = ?", (student,))

    def set_late(self, student: str, component: str, *, days: int, used: int, penalized: int, fraction: float,
                 zeroed: bool) -> None:
        self.db.execute("INSERT OR REPLACE INTO late_days VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (student, component, days, used, penalized, fraction, int(zeroed), _now()))

    def late_days_used(self, student: str) -> int:
        return self.db.execute("SELECT COALESCE(SUM(used), 0) FROM late_days WHERE student = ?",
                               (student,)).fetchone()[0]


def _describe(status: str, points: float | None, maximum: float | None) -> str:
    return f"{points:g}/{maximum:g}" if points is not None and maximum is not None else status


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN")
        return self

    def __exit__(self, kind, value, tb):
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
        return False
