"""``grader gradebook`` end to end on a small course whose labs were graded
by the real batch: the final grades, the trace behind every number, and
the problems a TA must see (never a quiet 0)."""

import csv
import io
import shutil

import pytest
from gradebook_course import make_course, write_csv

from grader.cli import main
from grader.gradebook import build, explain, load_course, write
from grader.gradebook.store import open_store


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    with pytest.MonkeyPatch.context() as monkeypatch:
        make_course(root, monkeypatch)
    return root


@pytest.fixture
def course(base, tmp_path):
    """A fresh copy of the course (its store included) for each test."""
    root = tmp_path / "course"
    shutil.copytree(base, root)
    return root


def _csv(path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with a byte-order mark
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def _book(root, **changes):
    text = (root / "course.toml").read_text(encoding="utf-8")
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    (root / "course.toml").write_text(text, encoding="utf-8")
    return build(load_course(root / "course.toml"))


def _student(book, sid):
    return next(s for s in book.students if s.id == sid)


def _kinds(book) -> dict[str, list[str]]:
    out = {}
    for p in book.problems:
        out.setdefault(p.kind, []).append(p.message)
    return out


def test_cli_end_to_end(course, capsys):
    out = course / "final"
    assert main(["gradebook", str(course / "course.toml"), "-o", str(out), "--explain", "2023002"]) == 0
    console = capsys.readouterr().out
    assert "lab_a: out/lab_a/grades.csv: 4 rows, read again; 4 score(s) changed" in console
    assert "[roster] lab_b: out/lab_b/grades.csv row 5: 'stranger' is not on the roster; row ignored" in console
    assert "[row] lab_a: out/lab_a/grades.csv row 4: 2023003 not graded (grader error" in console
    assert "[missing] lab_a: 2023004 no submission (out/lab_a/grades.csv row 5); counts 0" in console
    assert "3 of 4 totals known" in console
    assert "2023002 李四: total 43 of 60, grade B" in console
    assert "-6.00  3 days late (60.0 h), 3 days × 10% = 30% of the weight off  [times/lab_b.csv row 3]" in console

    final = _csv(out / "final.csv")
    assert list(final[0]) == ["学号", "姓名", "lab_a", "lab_b", "competition", "participation", "total", "grade",
                              "note"]
    by = {r["学号"]: r for r in final}
    # 2023001: 10/10 → 20 (half an hour late: grace), 8/10 → 16, 25/25 → 15, 5/5.
    assert [by["2023001"][k] for k in ("lab_a", "lab_b", "competition", "participation", "total", "grade")] == \
        ["20", "16", "15", "5", "56", "A"]
    # 2023002: lab_a 2 days late paid by the 2 late days; lab_b 3 days late, none left: -30 % of 20.
    assert [by["2023002"][k] for k in ("lab_a", "lab_b", "total", "grade")] == ["10", "14", "43", "B"]
    # 2023003: the grader failed on lab_a: not known, so no total (and no grade), with the reason.
    assert (by["2023003"]["lab_a"], by["2023003"]["lab_b"], by["2023003"]["total"], by["2023003"]["grade"]) == \
        ("not known", "missing", "", "")
    assert "lab_a: not graded (grader error: RuntimeError: the sandbox could not start)" in by["2023003"]["note"]
    assert (by["2023004"]["lab_a"], by["2023004"]["total"], by["2023004"]["grade"]) == ("missing", "35", "F")
    assert by["2023004"]["姓名"] == "赵六"

    with open_store(course / "gradebook.sqlite") as store:
        assert store.late_days_used("2023002") == 2 and store.late_days_used("2023001") == 0

    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Problems (4)" in page and "&#39;stranger&#39; is not on the roster" in page
    assert "赵六" in page and 'class="hist"' in page and "<th>median</th>" in page


def test_every_number_of_a_total_comes_from_a_file_and_row(course):
    book = build(load_course(course / "course.toml"))
    write(book, course / "final")
    trace = _csv(course / "final" / "trace.csv")
    for student in book.students:
        lines = [t for t in trace if t["学号"] == student.id]
        total = [t for t in lines if t["step"] == "total"]
        assert len(total) == 1
        if student.total is None:
            assert total[0]["points"] == "" and total[0]["detail"].startswith("not known")
            continue
        counted = [t for t in lines if t["step"] != "total"]
        assert abs(sum(float(t["points"]) for t in counted) - student.total) < 1e-6
        assert float(total[0]["points"]) == pytest.approx(student.total, abs=0.005)
        for t in counted:
            assert t["file"] and t["row"].isdigit(), t  # every number, 0 included, names its row
            assert t["component"] and t["detail"]
    assert explain(book, "2023003").startswith("2023003 王五: total not known\n")
    # The rows named say what the trace says they say.
    lab_b = _csv(course / "out" / "lab_b" / "grades.csv")
    step = next(t for t in trace if t["学号"] == "2023004" and t["component"] == "lab_b" and t["step"] == "score")
    assert lab_b[int(step["row"]) - 2]["id"] == "2023004" and lab_b[int(step["row"]) - 2]["total"] == "9"
    assert "9 / 10 × 20" in step["detail"] and step["points"] == "18"


def test_reimporting_unchanged_sources_changes_nothing_and_a_change_is_a_new_version(course):
    book = build(load_course(course / "course.toml"))
    with open_store(course / "gradebook.sqlite") as store:
        before = store.counts()
    again = build(load_course(course / "course.toml"))
    with open_store(course / "gradebook.sqlite") as store:
        assert store.counts() == before
    assert "unchanged since the last import; 0 score(s) changed" in again.imported["participation"]
    assert [s.total for s in again.students] == [s.total for s in book.students]

    # A TA corrects one mark: one new version, the old one kept, the edit logged and explained.
    write_csv(course / "participation.csv", [["学号", "姓名", "score"], ["2023001", "张三", "5"],
                                              ["2023002", "李四", "4.5"], ["2023003", "王五", "3.5"],
                                              ["2023004", "赵六", "5"]], encoding="gbk")
    edited = build(load_course(course / "course.toml"))
    assert "read again; 1 score(s) changed" in edited.imported["participation"]
    assert _student(edited, "2023002").total == pytest.approx(43.5)
    with open_store(course / "gradebook.sqlite") as store:
        counts = store.counts()
        assert counts["scores"] == before["scores"] + 1 and counts["imports"] == before["imports"] + 1
        assert [v.points for v in store.history("2023002", "participation")] == [4, 4.5]
        assert [e[2:5] for e in store.edits("2023002")] == [("manual", "4/5", "4.5/5")]
    text = explain(edited, "2023002")
    assert "participation: v1 4/5" in text and "v2 4.5/5" in text
    assert "edit: participation 4/5 → 4.5/5 (manual" in text


def test_a_regrade_and_a_rubric_score_are_told_apart(course):
    build(load_course(course / "course.toml"))
    grades = course / "out" / "lab_b" / "grades.csv"
    rows = list(csv.reader(io.StringIO(grades.read_text(encoding="utf-8-sig"))))
    assert rows[0][2] == "total" and rows[0][7] == "trains"
    rows[1][2], rows[1][7] = "9", "5.8"   # 2023001 regraded: 8 → 9
    write_csv(grades, rows)
    build(load_course(course / "course.toml"))
    header = rows[0]
    rows = [header[:-1] + ["rubric_total", "note"]] + [r[:-1] + ["0", r[-1]] for r in rows[1:]]
    write_csv(grades, rows)
    build(load_course(course / "course.toml"))   # the write-up columns appear: a regrade of the layout
    rows[2][2], rows[2][-2] = "6", "1"            # 2023002's write-up scored 1 (total 5 → 6)
    write_csv(grades, rows)
    book = build(load_course(course / "course.toml"))
    with open_store(course / "gradebook.sqlite") as store:
        assert [e[2:5] for e in store.edits("2023001")] == [("regrade", "8/10", "9/10")]
        assert [e[2:5] for e in store.edits("2023002")][-1] == ("rubric", "10/10", "6/10")
    assert _student(book, "2023001").cells["lab_b"].text == "18"


def test_a_missing_or_malformed_source_is_a_problem_not_a_zero(course):
    (course / "competition" / "points.csv").unlink()
    write_csv(course / "participation.csv", [["学号", "score"], ["2023001", "five"], ["2023002", "7"],
                                              ["2023003", ""], ["2023004", "5"], ["2023004", "4"]])
    book = build(load_course(course / "course.toml"))
    kinds = _kinds(book)
    assert any("competition/points.csv does not exist; its scores are not known" in m for m in kinds["source"])
    assert "participation: participation.csv row 2: 2023001: score 'five' is not a number from 0 to 5" in kinds["row"]
    assert "participation: participation.csv row 3: 2023002: score '7' is not a number from 0 to 5" in kinds["row"]
    assert "participation: rows 5 and 6 of participation.csv all name 2023004: which one counts?" in kinds["row"]
    assert any("2023003 empty 'score' cell (participation.csv row 4); counts 0" in m for m in kinds["missing"])
    for student in book.students:
        assert student.total is None and student.cells["competition"].text == "no source"
    assert _student(book, "2023001").cells["participation"].points is None
    assert _student(book, "2023003").cells["participation"].text == "missing"
    assert _student(book, "2023004").cells["participation"].points is None  # two rows: which?

    # A file that is not what grader grade writes, and an empty one.
    write_csv(course / "out" / "lab_a" / "grades.csv", [["id", "name", "total"], ["2023001", "张三", "3"]])
    (course / "participation.csv").write_bytes(b"")
    kinds = _kinds(build(load_course(course / "course.toml")))
    assert any("has no 'max_total' column: is it the grades.csv `grader grade` wrote?" in m for m in kinds["source"])
    assert any("participation.csv is empty (a header row is needed)" in m for m in kinds["source"])


def test_roster_mismatches_and_the_missing_policy(course):
    # 2023004 has no row at all (the competition's sheet forgot him), and a row names someone not on the roster.
    write_csv(course / "competition" / "points.csv",
              [["student_id", "team", "rank", "points", "source"], ["2023001", "t1", "1", "25", "lb"],
               ["2023002", "t1", "1", "25", "lb"], ["2023003", "t2", "2", "20", "lb"],
               ["2099999", "t3", "3", "5", "lb"]])
    book = build(load_course(course / "course.toml"))
    kinds = _kinds(book)
    assert "competition: 2023004 is on the roster but has no row in competition/points.csv" in kinds["roster"]
    assert "competition: competition/points.csv row 5: '2099999' is not on the roster; row ignored" in kinds["roster"]
    assert "2099999" not in [s.id for s in book.students]
    cell = _student(book, "2023004").cells["competition"]
    assert (cell.points, cell.text) == (0.0, "missing")
    assert cell.steps[0].detail == 'no row in competition/points.csv: counts 0 (missing = "zero")'

    # Where the policy says a missing submission is not 0, the total waits for it.
    book = _book(course, **{'total = 60\n': 'total = 60\nmissing = "incomplete"\n'})
    assert _student(book, "2023004").total is None and _student(book, "2023004").cells["lab_a"].text == "missing"
    assert "lab_a: missing, the total waits for it" in _student(book, "2023004").notes
    assert _student(book, "2023002").total == pytest.approx(43)


def test_a_write_up_not_graded_yet_leaves_the_lab_unknown(course):
    (course / "out" / "lab_b" / "rubric.csv").write_text("id,name,explains (/2),comment\n")
    book = build(load_course(course / "course.toml"))
    assert any("the study's write-ups were exported for grading (rubric.csv) but their scores are not in "
               "grades.csv yet: run `grader rubric import` first" in m for m in _kinds(book)["source"])
    grades = course / "out" / "lab_b" / "grades.csv"
    rows = list(csv.reader(io.StringIO(grades.read_text(encoding="utf-8-sig"))))
    rows = [rows[0][:-1] + ["rubric_total", "note"]] + [r[:-1] + ["1" if r[0] != "2023001" else "", r[-1]]
                                                       for r in rows[1:]]
    write_csv(grades, rows)
    book = build(load_course(course / "course.toml"))
    assert _student(book, "2023001").cells["lab_b"].points is None
    assert any("2023001: the study's write-up is not graded yet" in m for m in _kinds(book)["row"])
    assert _student(book, "2023002").cells["lab_b"].points == pytest.approx(14)


def test_submission_times_that_are_missing_or_unreadable_are_reported(course):
    write_csv(course / "times" / "lab_b.csv", [["id", "submitted_at"], ["2023001", "tomorrow"],
                                               ["2023004", "2026-10-25 08:00"], ["2023004", "2026-10-27 08:00"]])
    book = build(load_course(course / "course.toml"))
    late = _kinds(book)["late"]
    assert "lab_b: times/lab_b.csv row 2: 2023001: 'tomorrow' is not a date and time; the submission is taken " \
           "as on time" in late
    assert "lab_b: no submission time for 2023002; taken as on time" in late
    # An LMS lists every attempt: the last one counts (2 days late, paid by the 2 late days).
    step = _student(book, "2023004").cells["lab_b"].steps[1]
    assert (step.what, step.file, step.row) == ("late", "times/lab_b.csv", 4) and "2 late days used" in step.detail
    (course / "times" / "lab_a.csv").unlink()
    book = _book(course, **{'times = "times/lab_b.csv"\n': ""})
    late = _kinds(book)["late"]
    assert any("lab_a: times/lab_a.csv does not exist; the late policy is not applied" in m for m in late)
    assert any('lab_b: no submission times (times = "…csv"): the late policy is not applied' in m for m in late)


def test_cli_refuses_a_broken_course_and_an_unknown_student(course, capsys):
    (course / "bad.toml").write_text('[course]\nname = "x"\nroster = "roster.csv"\ntotl = 3\n', encoding="utf-8")
    assert main(["gradebook", str(course / "bad.toml")]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'totl' (did you mean 'total'?)" in err and "no [[components]]" in err
    assert main(["gradebook", str(course / "course.toml"), "--explain", "nobody"]) == 2
    assert "'nobody' is not on the roster" in capsys.readouterr().err
    assert (course / "gradebook" / "final.csv").is_file()  # the default output folder, beside course.toml
