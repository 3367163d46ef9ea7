"""The late policy from the times ``grader grade`` recorded in grades.csv
(``submitted_at``, from Gradescope's metadata), traced to grades.csv's row;
a course's own times file still wins. Grading is a stand-in: fast."""

import csv
import io
import zipfile

import pytest
from gradebook_course import make_lab, write_csv

from grader.core import batch
from grader.core.grading import select
from grader.core.results import CheckResult, Result, Status
from grader.gradebook import build, load_course

COURSE = """
[course]
name = "深度学习导论"
roster = "roster.csv"
total = 10

[late]
grace_hours = 1
per_day = 0.1
late_days = 0
max_days = 5

[[components]]
id = "lab_t"
kind = "lab"
weight = 10
source = "out/lab_t"
deadline = 2026-10-15T23:59:00+08:00
{times}
"""

#: Folder → (student id, Gradescope's :created_at:).
EXPORT = {"submission_1": ("PB01", "2026-10-15 23:30:00.000000000 +08:00"),   # on time
          "submission_2": ("PB02", "2026-10-18 10:00:00.000000000 +08:00"),   # 3 days late
          "submission_3": ("PB03", "2026-10-17 05:30:00.000000000 +00:00")}   # 37.5 h late (in UTC)


def gradescope_export(path):
    meta = "".join(f"{folder}:\n  :submitters:\n  - :name: S{sid}\n    :sid: '{sid}'\n  :created_at: {at}\n"
                   for folder, (sid, at) in EXPORT.items())
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("lab_t_export/submission_metadata.yml", meta)
        for folder in EXPORT:
            zf.writestr(f"lab_t_export/{folder}/lab_t.py", "X = 1\n")
    return path


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A one-lab course graded from a Gradescope export by the real batch (full marks for all)."""
    lab = make_lab(tmp_path, "lab_t")
    roster = write_csv(tmp_path / "roster.csv", [["学号", "姓名"], ["PB01", "张三"], ["PB02", "李四"], ["PB03", "王五"]])

    def fake_grade(lab, path, *, limits, threads, prepared):
        return Result(lab.id, path.name, [CheckResult(c.name, c.title, c.points, c.visibility, c.kind,
                                                      score=c.points, status=Status.PASSED) for c in select(lab)])

    class Plan:
        def close(self):
            pass

    monkeypatch.setattr(batch, "grade", fake_grade)
    monkeypatch.setattr(batch, "prepare", lambda *a, **k: Plan())
    batch.run(lab, [gradescope_export(tmp_path / "export.zip")], tmp_path / "out" / "lab_t",
              batch.Options(progress=False, roster=roster))
    return tmp_path


def _build(root, times=""):
    (root / "course.toml").write_text(COURSE.format(times=times), encoding="utf-8")
    return build(load_course(root / "course.toml"))


def _cell(book, sid):
    return next(s for s in book.students if s.id == sid).cells["lab_t"]


def _grades(root):
    text = (root / "out" / "lab_t" / "grades.csv").read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _set_times(root, times: dict[str, str]):
    """grades.csv with the ``submitted_at`` cells of ``times`` (id → cell) changed."""
    rows = _grades(root)
    column = rows[0].index("submitted_at")
    for r in rows[1:]:
        r[column] = times.get(r[0], r[column])
    write_csv(root / "out" / "lab_t" / "grades.csv", rows)


def _late_problems(book):
    return [p.message for p in book.problems if p.kind == "late"]


def test_the_late_policy_uses_the_times_in_grades_csv(course):
    rows = _grades(course)
    number = {r[0]: n for n, r in enumerate(rows[1:], 2)}  # spreadsheet rows: the header is row 1
    assert {r[0]: r[-1] for r in rows[1:]} == {"PB01": "2026-10-15T23:30:00+08:00",
                                               "PB02": "2026-10-18T10:00:00+08:00",
                                               "PB03": "2026-10-17T05:30:00+00:00"}
    book = _build(course)
    assert _late_problems(book) == []
    assert "times from its submitted_at column: 3 of 3 rows" in book.imported["lab_t"]
    assert _cell(book, "PB01").points == pytest.approx(10) and len(_cell(book, "PB01").steps) == 1
    for sid, days, points in (("PB02", 3, 7), ("PB03", 2, 8)):
        cell = _cell(book, sid)
        assert cell.points == pytest.approx(points)
        late = cell.steps[-1]
        # The trace names the row of grades.csv the time (and the score) came from.
        assert (late.what, late.points, late.file, late.row) == ("late", pytest.approx(points - 10),
                                                                 "out/lab_t/grades.csv", number[sid])
        assert late.detail.startswith(f"{days} days late")


def test_a_times_file_wins_over_grades_csv(course):
    write_csv(course / "times.csv", [["id", "submitted_at"], ["PB01", "2026-10-17T12:00:00+08:00"],
                                     ["PB02", "2026-10-15T20:00:00+08:00"], ["PB03", "2026-10-15 20:00"]])
    book = _build(course, 'times = "times.csv"')
    assert _cell(book, "PB02").points == pytest.approx(10) and _cell(book, "PB03").points == pytest.approx(10)
    late = _cell(book, "PB01").steps[-1]
    assert (late.what, late.file, late.row, _cell(book, "PB01").points) == ("late", "times.csv", 2,
                                                                           pytest.approx(8))


def test_unreadable_or_absent_times_in_grades_csv_are_reported(course):
    _set_times(course, {"PB02": "soon", "PB03": ""})
    book = _build(course)
    late = _late_problems(book)
    assert "lab_t: out/lab_t/grades.csv row 3: PB02: 'soon' is not a date and time; the submission is taken " \
           "as on time" in late
    assert "lab_t: no submission time for PB03; taken as on time" in late
    assert _cell(book, "PB02").points == pytest.approx(10) and _cell(book, "PB03").points == pytest.approx(10)

    # No time at all (a class graded from plain folders): the policy is not applied, and the problems say why.
    _set_times(course, {"PB01": "", "PB02": "", "PB03": ""})
    late = _late_problems(_build(course))
    assert late == ['lab_t: no submission times (times = "…csv"): the late policy is not applied to it '
                    "(out/lab_t/grades.csv records no submission time (its submitted_at cells are empty))"]
    # A grading output written before grades.csv had the column.
    write_csv(course / "out" / "lab_t" / "grades.csv", [r[:-1] for r in _grades(course)])
    late = _late_problems(_build(course))
    assert late == ['lab_t: no submission times (times = "…csv"): the late policy is not applied to it '
                    "(out/lab_t/grades.csv has no submitted_at column)"]
