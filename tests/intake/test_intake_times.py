"""Submission times: what each LMS export says of when a student handed in,
carried from intake into grades.csv and results.jsonl (``submitted_at``).
Grading itself is replaced by a stand-in: fast."""

import csv
import datetime
import io
import json
import os
import zipfile

import pytest

from grader.core import batch
from grader.core.grading import select
from grader.core.results import CheckResult, Result, Status
from grader.intake import stage_submissions
from grader.intake.exports.layout import submission_time
from grader.labs.lab import Lab
from grader.reports import write_class
from grader.rubric.store import recorded_rows

GOOD = "def add(a, b):\n    return a + b\n"

CHECKS = '''
from grader import Check


class Adds(Check):
    """add: adds two numbers"""

    points = 2

    def observe(self, sub):
        return {}

    def judge(self, got, want, secret):
        return 1.0
'''


def metadata(times: dict[str, str]) -> str:
    """Gradescope's ``submission_metadata.yml`` as it writes it (Ruby's YAML):
    one entry per folder, the graded attempt's time at the top and the
    earlier attempts under ``:history:``."""
    out = []
    for n, (folder, created) in enumerate(times.items(), 1):
        out.append(f"{folder}:\n  :submitters:\n  - :name: Student {n}\n    :sid: 'PB{n:02d}'\n"
                   f"    :email: s{n}@mail.ustc.edu.cn\n")
        if created is not None:
            out.append(f"  :created_at: {created}\n")
        out.append("  :score: 2.0\n  :history:\n  - :created_at: 2026-10-01 09:00:00.000000000 +08:00\n"
                   "    :score: 0.0\n")
    return "".join(out)


def export(path, times: dict[str, str], *, files=None):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("assignment_7_export/submission_metadata.yml", metadata(times))
        for folder in times:
            zf.writestr(f"assignment_7_export/{folder}/adder.py", (files or {}).get(folder, GOOD))
    return path


def by_id(subs):
    return {s.id: s for s in subs}


@pytest.mark.parametrize("value, expected", [
    ("2026-10-15 23:59:02.187000000 +08:00", "2026-10-15T23:59:02+08:00"),  # as Ruby's YAML writes it, quoted
    ("2026-10-15T15:59:02Z", "2026-10-15T15:59:02+00:00"),
    (datetime.datetime(2026, 10, 15, 8, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-7))),
     "2026-10-15T08:00:00-07:00"),
])
def test_a_submission_time_is_iso_with_its_offset(value, expected):
    assert submission_time(value) == expected


@pytest.mark.parametrize("value", ["2026-10-15 23:59:02", datetime.datetime(2026, 10, 15, 8, 0),
                                   datetime.date(2026, 10, 15), "yesterday", "", None, 1760000000])
def test_a_time_without_an_offset_or_no_time_at_all_is_refused(value):
    with pytest.raises(ValueError):
        submission_time(value)


def test_gradescope_metadata_dates_each_submission(tmp_path):
    zip_path = export(tmp_path / "export.zip", {
        "submission_1": "2026-10-15 23:59:02.187000000 +08:00",  # a YAML timestamp: read as a datetime
        "submission_2": "'2026-10-16T01:00:00-07:00'",           # quoted: read as text
        "submission_3": "yesterday",
        "submission_4": "2026-10-15 23:59:02",                   # no offset: which zone?
        "submission_5": None,                                    # no time in the metadata
    })
    subs = by_id(stage_submissions([zip_path], "adder", tmp_path / "s"))
    assert all(s.ok for s in subs.values())
    # The graded attempt's time, not the earlier attempts' under :history:.
    assert subs["PB01"].submitted_at == "2026-10-15T23:59:02+08:00"
    assert subs["PB02"].submitted_at == "2026-10-16T01:00:00-07:00"
    for sid, raw in (("PB03", "'yesterday'"), ("PB04", "'2026-10-15 23:59:02'")):
        assert subs[sid].submitted_at is None
        assert any(f"submission time {raw}, which is not a date and time with a UTC offset" in n
                   for n in subs[sid].notes), subs[sid].notes
    assert subs["PB05"].submitted_at is None and subs["PB05"].notes == []


def test_canvas_moodle_and_folders_give_no_time(tmp_path):
    # Canvas marks a late file in its name but gives no time; a zip's file times are not submission times.
    late = zipfile.ZipInfo("lisi_late_102_9002_adder.py", date_time=(2026, 10, 20, 12, 0, 0))
    with zipfile.ZipFile(tmp_path / "canvas.zip", "w") as zf:
        zf.writestr("zhangsan_101_9001_adder.py", GOOD)
        zf.writestr(late, GOOD)
    with zipfile.ZipFile(tmp_path / "moodle.zip", "w") as zf:
        zf.writestr("Wang Wu_5501_assignsubmission_file_/adder.py", GOOD)
        zf.writestr("Zhao Liu_5502_assignsubmission_file_/adder.py", GOOD)
    (tmp_path / "class" / "alice").mkdir(parents=True)
    (tmp_path / "class" / "alice" / "adder.py").write_text(GOOD)
    (tmp_path / "class" / "bob.py").write_text(GOOD)
    os.utime(tmp_path / "class" / "bob.py", (1760000000, 1760000000))
    subs = stage_submissions([tmp_path / "canvas.zip", tmp_path / "moodle.zip", tmp_path / "class"], "adder",
                             tmp_path / "s")
    assert {s.id for s in subs} == {"zhangsan", "lisi", "Wang_Wu_5501", "Zhao_Liu_5502", "alice", "bob"}
    assert all(s.ok and s.submitted_at is None for s in subs), [(s.id, s.error, s.submitted_at) for s in subs]


# -- into the grading output ------------------------------------------------------------

def make_lab(root) -> Lab:
    folder = root / "kit" / "assignments" / "adder"
    (folder / "checks").mkdir(parents=True)
    (folder / "lab.toml").write_text('id = "adder"\ntitle = "Adder"\nmodule = "adder"\n')
    (folder / "checks" / "__init__.py").write_text('"""Checks."""\n')
    (folder / "checks" / "public.py").write_text(CHECKS)
    return Lab.load(folder)


def grade(lab, inputs, out, monkeypatch, graded: list):
    """The real batch, with grading replaced by full marks (``graded``: who was graded)."""

    def fake_grade(lab, path, *, limits, threads, prepared):
        graded.append(path.name)
        return Result(lab.id, path.name, [CheckResult(c.name, c.title, c.points, c.visibility, c.kind,
                                                      score=c.points, status=Status.PASSED) for c in select(lab)])

    class Plan:
        def close(self):
            pass

    with monkeypatch.context() as m:
        m.setattr(batch, "grade", fake_grade)
        m.setattr(batch, "prepare", lambda *a, **k: Plan())
        return batch.run(lab, inputs, out, batch.Options(progress=False))


def grades(out) -> tuple[list[str], dict[str, dict]]:
    text = (out / "grades.csv").read_text(encoding="utf-8-sig")
    return next(csv.reader(io.StringIO(text))), {r["id"]: r for r in csv.DictReader(io.StringIO(text))}


def test_grades_csv_records_when_each_student_submitted(tmp_path, monkeypatch):
    lab, out = make_lab(tmp_path), tmp_path / "out"
    zip_path = export(tmp_path / "export.zip", {"submission_1": "2026-10-15 23:59:02.187000000 +08:00",
                                                "submission_2": "yesterday"})
    (tmp_path / "more" / "carol").mkdir(parents=True)
    (tmp_path / "more" / "carol" / "adder.py").write_text(GOOD)
    graded = []
    grade(lab, [zip_path, tmp_path / "more" / "carol"], out, monkeypatch, graded)
    header, rows = grades(out)
    # Appended after every column readers already know.
    assert header[-2:] == ["note", "submitted_at"] and header[:6] == ["id", "name", "total", "max_total", "status",
                                                                      "roster"]
    assert rows["PB01"]["submitted_at"] == "2026-10-15T23:59:02+08:00" and rows["PB01"]["total"] == "2"
    assert rows["PB02"]["submitted_at"] == "" and "'yesterday', which is not a date and time" in rows["PB02"]["note"]
    assert rows["carol"]["submitted_at"] == ""
    lines = {d["id"]: d for d in map(json.loads, (out / "results.jsonl").read_text().splitlines())}
    assert lines["PB01"]["result"]["info"]["submitted_at"] == "2026-10-15T23:59:02+08:00"
    # Reports rewritten from the recorded rows (as a rubric import does) keep the times.
    again = tmp_path / "again"
    again.mkdir()
    write_class(recorded_rows(out), select(lab), again, lab_id=lab.id)
    assert grades(again)[1]["PB01"]["submitted_at"] == "2026-10-15T23:59:02+08:00"

    # The export downloaded again: the same files, dated anew. Nothing is graded
    # again, and grades.csv and the student's record say the new time.
    export(zip_path, {"submission_1": "2026-10-17 08:00:00.000000000 +08:00", "submission_2": "yesterday"})
    graded.clear()
    outcome = grade(lab, [zip_path, tmp_path / "more" / "carol"], out, monkeypatch, graded)
    assert graded == [] and outcome.reused == 3
    assert grades(out)[1]["PB01"]["submitted_at"] == "2026-10-17T08:00:00+08:00"
    assert json.loads((out / "PB01" / "result.json").read_text())["info"]["submitted_at"] == \
        "2026-10-17T08:00:00+08:00"
