"""What a TA reads after ``grader grade``: the class table on an 80-column
terminal, and ``grades.csv`` opened in Excel (Chinese names)."""

import csv
import io

from rich.console import Console

from grader.core.results import CheckResult, Reason, Result, Row, RowStatus, RunInfo, Status
from grader.reports.class_reports import write_class
from grader.reports.console import class_table, legend

NAMES = [f"check_{i:02d}_with_a_long_name" for i in range(15)]


class Check:
    def __init__(self, name):
        self.name, self.points, self.visibility = name, 1.0, "public"


def result(statuses, reason=None, import_error=None):
    checks = []
    for name, status in zip(NAMES, statuses):
        score = {Status.PASSED: 1.0, Status.PARTIAL: 2 / 3}.get(status, 0.0)
        c = CheckResult(name, name, 1.0, "public", "function", score=score, status=status)
        c.reason = reason
        checks.append(c)
    return Result("cnn", "x", checks, info=RunInfo(import_error=import_error))


def rows():
    full = result([Status.PASSED] * 15)
    mixed = result([Status.PARTIAL, Status.FAILED, Status.TIMEOUT, Status.TODO, Status.CRASHED] + [Status.PASSED] * 10)
    broken = result([Status.ERROR] * 15, Reason.IMPORT, "SyntaxError")
    return [Row("PB21000001", "张伟", result=full),
            Row("zhang.wei.2023@student.example.edu.cn", "欧阳娜娜娜娜娜娜娜娜娜", result=mixed),
            Row("PB21000003", "王芳", status=RowStatus.SYNTAX_ERROR, result=broken,
                message="cnn.py could not be imported: SyntaxError: invalid syntax (cnn.py, line 25)"),
            Row("PB21000004", "赵敏", status=RowStatus.MISSING, message="no submission")]


def test_class_table_fits_80_columns():
    console = Console(width=80, record=True, color_system=None)
    console.print(class_table(rows(), NAMES, 15.0))
    console.print(legend(NAMES), markup=False)
    text = console.export_text()
    assert all(console.measure(line).maximum <= 80 for line in text.splitlines())
    assert "…" not in text
    lines = text.splitlines()
    # Every row's total and status whole, on the row's first line.
    for first, total, status in (("PB21000001", "15/15", "graded"), ("zhang.wei", "10.67/15", "graded"),
                                 ("PB21000003", "0/15", "syntax error"), ("PB21000004", "–", "missing")):
        [line] = [line for line in lines if line.lstrip().startswith(first)]
        assert f" {total} " in line and status in line, line
    # One mark per check, in groups of five.
    assert "✓✓✓✓✓ ✓✓✓✓✓ ✓✓✓✓✓" in text and "½✗T-! ✓✓✓✓✓ ✓✓✓✓✓" in text and "····· ····· ·····" in text
    assert "1 check_00_with_a_long_name" in text and "T time-out" in text


def test_grades_csv_opens_in_excel_with_chinese_names(tmp_path):
    write_class(rows(), [Check(n) for n in NAMES], tmp_path, lab_id="cnn")
    data = (tmp_path / "grades.csv").read_bytes()
    assert data[:3] == b"\xef\xbb\xbf"  # the byte-order mark Excel needs to read UTF-8
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["id"] for r in table][:3] == ["PB21000001", "zhang.wei.2023@student.example.edu.cn", "PB21000003"]
    assert [r["name"] for r in table] == ["张伟", "欧阳娜娜娜娜娜娜娜娜娜", "王芳", "赵敏"]
    assert table[1]["total"] == "10.667" and table[1][NAMES[0]] == "0.667"
    assert table[2]["status"] == "syntax error" and "line 25" in table[2]["note"]
    # results.jsonl stays plain UTF-8, for scripts.
    assert (tmp_path / "results.jsonl").read_bytes()[:1] == b"{"


def test_summary_lists_files_that_could_not_be_imported(tmp_path):
    write_class(rows(), [Check(n) for n in NAMES], tmp_path, lab_id="cnn")
    html = (tmp_path / "summary.html").read_text()
    assert "3 submission(s), 3 graded (1 could not be imported)" in html
    section = html.split("<h2>Could not be imported</h2>", 1)[1].split("</table>", 1)[0]
    assert "PB21000003" in section and "syntax error" in section and "line 25" in section
    assert "PB21000001" not in section
    assert ">10.67</td>" in html  # scores shown to people: 2 decimals
