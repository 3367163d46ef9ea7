"""The gradebook's SQLite store: migrations, idempotent imports, score history."""

import sqlite3

import pytest

from grader.gradebook import store as store_module
from grader.gradebook.store import SCHEMA_VERSION, StoreError, open_store

ROWS = {2: {"id": "2023001", "total": "8"}, 3: {"id": "2023002", "total": "5"}}


def _tables(path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}


def test_a_new_store_has_the_whole_schema(tmp_path):
    with open_store(tmp_path / "g.sqlite") as store:
        assert store.version == SCHEMA_VERSION == len(store_module.MIGRATIONS) >= 2
    assert {"schema_version", "students", "components", "imports", "source_rows", "scores", "current_scores",
            "submission_times", "current_times", "late_days", "edits"} <= _tables(tmp_path / "g.sqlite")


def test_an_older_store_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "g.sqlite"
    with open_store(path, upto=1) as old:
        assert old.version == 1
        ids, _ = old.import_rows("cnn", "scores", "out/cnn/grades.csv", "h1", ROWS)
        old.db.execute("INSERT INTO scores (student, component, version, status, points, max_points, detail, "
                       "source_row, recorded_at) VALUES ('2023001', 'cnn', 1, 'scored', 8, 10, 'graded', ?, 'then')",
                       (ids[2],))
    assert "late_days" not in _tables(path)
    with open_store(path) as store:
        assert store.version == SCHEMA_VERSION
        kept = store.current("2023001", "cnn")
        assert (kept.points, kept.row.file, kept.row.number) == (8, "out/cnn/grades.csv", 2)
        # What version 2 brought works on the migrated file.
        assert store.record_time("2023001", "cnn", "2026-10-11T23:00:00+08:00", ids[2])
        store.set_late("2023001", "cnn", days=1, used=1, penalized=0, fraction=0.0, zeroed=False)
        assert store.late_days_used("2023001") == 1


def test_a_failing_migration_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "g.sqlite"
    open_store(path, upto=1).close()
    broken = store_module.MIGRATIONS[1] + "\nCREATE TABLE students (id TEXT);\n"  # fails after creating tables
    monkeypatch.setattr(store_module, "MIGRATIONS", (store_module.MIGRATIONS[0], broken))
    with pytest.raises(StoreError, match="migrating it to schema version 2 failed.*left at version 1"):
        open_store(path)
    assert "late_days" not in _tables(path)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(1,)]


def test_a_newer_store_or_another_file_is_refused(tmp_path):
    path = tmp_path / "g.sqlite"
    open_store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer than this kit's"):
        open_store(path)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database, just some text that is long enough" * 20)
    with pytest.raises(StoreError, match="not a gradebook store"):
        open_store(junk)


def test_importing_the_same_file_again_adds_nothing(tmp_path):
    with open_store(tmp_path / "g.sqlite") as store:
        first, new = store.import_rows("cnn", "scores", "grades.csv", "h1", ROWS)
        before = store.counts()
        again, new_again = store.import_rows("cnn", "scores", "grades.csv", "h1", ROWS)
        assert new and not new_again and again == first and store.counts() == before
        changed, new_changed = store.import_rows("cnn", "scores", "grades.csv", "h2", ROWS)
        assert new_changed and set(changed) == {2, 3} and changed != first


def test_scores_keep_every_version_and_log_what_changed(tmp_path):
    with open_store(tmp_path / "g.sqlite") as store:
        rows, _ = store.import_rows("p", "scores", "p.csv", "h1", ROWS)
        kw = dict(status="scored", max_points=10, detail="score", kind="manual")
        assert store.record_score("2023001", "p", points=8, source_row=rows[2], **kw)
        assert not store.record_score("2023001", "p", points=8, source_row=rows[2], **kw)  # unchanged
        # The same row read again from a new import of the same file is the same evidence.
        same, _ = store.import_rows("p", "scores", "p.csv", "h2", ROWS)
        assert not store.record_score("2023001", "p", points=8, source_row=same[2], **kw)
        edited, _ = store.import_rows("p", "scores", "p.csv", "h3", {2: {"id": "2023001", "total": "9"}})
        assert store.record_score("2023001", "p", points=9, source_row=edited[2], **kw)
        history = store.history("2023001", "p")
        assert [(v.version, v.points) for v in history] == [(1, 8), (2, 9)]
        assert store.current("2023001", "p").row.cells["total"] == "9"
        assert [e[:5] for e in store.edits("2023001")] == [("2023001", "p", "manual", "8/10", "9/10")]
