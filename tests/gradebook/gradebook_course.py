"""A small course made in a test's folder: a roster, two labs' grading
output written by the real batch (grading itself replaced by a stand-in
that gives each student the score the test asks for), submission times, the
competition's points and a TA's participation sheet, and its course.toml."""

from __future__ import annotations

import csv
from pathlib import Path

from grader.core import batch
from grader.core.grading import select
from grader.core.results import CheckResult, Result, Status
from grader.labs.lab import Lab

ROSTER = [("2023001", "张三"), ("2023002", "李四"), ("2023003", "王五"), ("2023004", "赵六")]

CHECKS = '''
from grader import Check


class Adds(Check):
    """add: adds two numbers"""

    points = 4

    def observe(self, sub):
        return {}

    def judge(self, got, want, secret):
        return 1.0


class Trains(Check):
    """train: trains a model"""

    points = 6

    def observe(self, sub):
        return {}

    def judge(self, got, want, secret):
        return 1.0
'''

COURSE = """
[course]
name = "深度学习导论"
term = "2026 秋"
roster = "roster.csv"
total = 60
{course_extra}

[late]
grace_hours = 1
per_day = 0.1
late_days = 2
max_days = 5

[scale]
A = 50
B = 40
F = 0

[[components]]
id = "lab_a"
kind = "lab"
weight = 20
source = "out/lab_a"
deadline = 2026-10-11T23:59:00+08:00
times = "times/lab_a.csv"

[[components]]
id = "lab_b"
kind = "lab"
weight = 20
source = "out/lab_b"
deadline = 2026-10-25T23:59:00+08:00
times = "times/lab_b.csv"

[[components]]
id = "competition"
kind = "competition"
weight = 15
source = "competition/points.csv"
max = 25

[[components]]
id = "participation"
kind = "manual"
weight = 5
source = "participation.csv"
column = "score"
"""


def write_csv(path: Path, rows: list[list], *, encoding: str = "utf-8-sig") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def make_lab(root: Path, lab_id: str) -> Lab:
    folder = root / "kit" / "assignments" / lab_id
    (folder / "checks").mkdir(parents=True)
    (folder / "lab.toml").write_text(f'id = "{lab_id}"\ntitle = "Lab {lab_id}"\nmodule = "{lab_id}"\n')
    (folder / "checks" / "__init__.py").write_text('"""Checks."""\n')
    (folder / "checks" / "public.py").write_text(CHECKS)
    return Lab.load(folder)


def grade_lab(root: Path, lab_id: str, scores: dict[str, float | None], monkeypatch, *, roster: Path | None) -> Path:
    """Grade ``scores`` (folder name → share of the points; None: the grader
    fails on it) with the real batch into ``root/out/<lab_id>``."""
    lab = make_lab(root, lab_id)
    subs = root / "subs" / lab_id
    for who in scores:
        (subs / who).mkdir(parents=True)
        (subs / who / f"{lab_id}.py").write_text(f"WHO = {who!r}\n")

    def fake_grade(lab, path, *, limits, threads, prepared):
        share = scores[path.name]
        if share is None:
            raise RuntimeError("the sandbox could not start")
        return Result(lab.id, path.name, [CheckResult(c.name, c.title, c.points, c.visibility, c.kind,
                                                      score=share * c.points, status=Status.PASSED)
                                          for c in select(lab)])

    class Plan:
        def close(self):
            pass

    out = root / "out" / lab_id
    with monkeypatch.context() as m:
        m.setattr(batch, "grade", fake_grade)
        m.setattr(batch, "prepare", lambda *a, **k: Plan())
        batch.run(lab, [subs], out, batch.Options(progress=False, roster=roster))
    return out


def make_course(root: Path, monkeypatch, *, course_extra: str = "") -> Path:
    """The course of the tests; returns its course.toml.

    * lab_a (10 points → 20): 2023001 full marks, 2023002 half, 2023003 the
      grader failed on it, 2023004 did not submit;
    * lab_b: 2023001 0.8, 2023002 full, 2023004 0.9, and a stranger not on the roster;
    * times: 2023002 submitted lab_a 30 h late and lab_b 3 days late
      (2 late days, then 2 penalized days at 10 %); 2023001 half an hour late (grace);
    * competition (points out of 25 → 15), participation (GBK sheet, out of 5).
    """
    roster = write_csv(root / "roster.csv", [["学号", "姓名"], *ROSTER])
    grade_lab(root, "lab_a", {"2023001": 1.0, "2023002": 0.5, "2023003": None}, monkeypatch, roster=roster)
    grade_lab(root, "lab_b", {"2023001": 0.8, "2023002": 1.0, "2023004": 0.9, "stranger": 1.0}, monkeypatch,
              roster=roster)
    write_csv(root / "times" / "lab_a.csv", [["id", "submitted_at"], ["2023001", "2026-10-12T00:29:00+08:00"],
                                             ["2023002", "2026-10-13 05:59"], ["2023003", "2026-10-10 10:00"]])
    write_csv(root / "times" / "lab_b.csv", [["学号", "提交时间"], ["2023001", "2026/10/25 20:00"],
                                             ["2023002", "2026-10-28T12:00:00+08:00"], ["2023004", "2026-10-25 08:00"]])
    write_csv(root / "competition" / "points.csv",
              [["student_id", "team", "rank", "points", "source"], ["2023001", "t1", "1", "25", "leaderboard"],
               ["2023002", "t1", "1", "25", "leaderboard"], ["2023003", "t2", "2", "20", "leaderboard"],
               ["2023004", "t2", "2", "20", "leaderboard"]])
    write_csv(root / "participation.csv", [["学号", "姓名", "score"], ["2023001", "张三", "5"],
                                           ["2023002", "李四", "4"], ["2023003", "王五", "3.5"],
                                           ["2023004", "赵六", "5"]], encoding="gbk")
    course = root / "course.toml"
    course.write_text(COURSE.format(course_extra=course_extra), encoding="utf-8")
    return course
