"""Reports for students and TAs (grader.reports), from results built here:
Gradescope's results.json validated against a JSON Schema written from
Gradescope's published specification, feedback in Markdown and HTML, and
the class's grades.csv, results.jsonl and summary.html. No grading: fast."""

import csv
import io
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from grader.reports import explain, failure_kind, gradescope_results, write_class, write_student
from grader.core.results import CheckResult, Result, Row

SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())


class C:
    """A graded check's description, as the class reports need it."""

    def __init__(self, name, points, visibility="public"):
        self.name, self.points, self.visibility = name, points, visibility


CHECKS = [C("shapes", 1), C("forward", 1.5), C("loop", 1), C("bomb", 1), C("load", 0.5, "hidden"),
          C("form", 1, "hidden"), C("train", 1.5)]


def result(student="张三_PB21", *, scores=None, output="Score: 14/14 <script>alert(1)</script>\n"):
    checks = [
        CheckResult("shapes", "output shapes", 1, "public", "shape", 1, "passed", "all 3 parts correct", 0.2),
        CheckResult("forward", "conv forward", 1.5, "public", "value", 0.75, "partial", "relative error 3e-2", 0.1),
        CheckResult("loop", "pooling", 1, "public", "value", 0, "timeout", "took longer than its limit of 5s", 5,
                    extra={"reason": "timeout"}),
        CheckResult("bomb", "conv backward", 1, "public", "gradient", 0, "crashed",
                    "your code used more than 2.0 GB of memory", 1.2, extra={"reason": "memory"}),
        CheckResult("load", "hidden strides", 0.5, "hidden", "value", 0, "error",
                    "cnn.py could not be imported: SyntaxError", 0, extra={"reason": "import"}),
        CheckResult("form", "hidden property", 1, "hidden", "property", 0, "invalid",
                    "wrong shape: conv2d_forward(x) returned shape (2, 5), expected (2, 6)", 0,
                    extra={"reason": "schema"}),
        CheckResult("train", "training", 1.5, "public", "training", 1.5, "passed", "accuracy 0.96 ≥ 0.94", 40.0,
                    extra={"curves": {"loss": [0.9, 0.2, 0.1], "val_accuracy": [0.8, 0.9, 0.95]}}),
    ]
    if scores is not None:
        for c, s in zip(checks, scores):
            c.score, c.status = s, "passed" if s >= c.points else "failed"
    info = {"isolation": "root-jail", "isolation_detail": "separate user", "output": output, "starts": 3,
            "peak_rss": 7e8, "notes": ["hw3.py is graded as cnn.py"], "output_truncated": True,
            "output_bytes": 123456}
    return Result("cnn", student, checks, 47.5, info)


def test_gradescope_results_follow_the_published_schema():
    data = gradescope_results(result())
    Draft202012Validator.check_schema(SCHEMA)
    Draft202012Validator(SCHEMA).validate(data)
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
    assert {t["visibility"] for t in data["tests"] if "hidden" in t["tags"]} == {"after_published"}
    assert [t["status"] for t in data["tests"]].count("passed") == 2
    assert "more memory than one submission may use" in data["tests"][3]["output"]
    json.dumps(data, allow_nan=False)


def test_the_schema_rejects_what_gradescope_would():
    validator = Draft202012Validator(SCHEMA)
    good = gradescope_results(result())
    for bad in ({**good, "visibility": "public"}, {**good, "tests": [{**good["tests"][0], "status": "partial"}]},
                {**good, "output_format": "markdown"}, {"tests": [{"name": "no score anywhere"}]}):
        assert list(validator.iter_errors(bad)), bad


def test_failure_kinds_and_plain_words():
    r = result()
    kinds = [failure_kind(c) for c in r.checks]
    assert kinds == ["", "partial", "timeout", "memory", "import", "invalid", ""]
    assert "infinite loop" in explain(r.checks[2])
    assert "could not import your file" in explain(r.checks[4])
    assert explain(r.checks[1]) == ""  # a partly right result: the judge's message says it all


def test_student_feedback(tmp_path):
    written = write_student(result(), tmp_path, name="张三", lab_title="Convolutional neural networks")
    md = (tmp_path / "feedback.md").read_text()
    html = (tmp_path / "feedback.html").read_text()
    assert [p.name for p in written] == ["feedback.md", "feedback.html", "gradescope-results.json"]
    assert f"**Score: {result().score:g} / {result().max_score:g}**" in md and "张三" in md
    for c in result().checks:
        assert f"`{c.name}`" in md and c.name in html
    assert "| `loop` | 0/1 | ran out of time | 5.0 s |" in md
    assert "infinite loop" in md and "more memory than one submission may use" in html
    assert "hw3.py is graded as cnn.py" in md
    assert "![training curve of train](curve-train.png)" in md
    assert (tmp_path / "curve-train.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "data:image/png;base64," in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "shortened: 123,456 bytes in all" in md
    Draft202012Validator(SCHEMA).validate(json.loads((tmp_path / "gradescope-results.json").read_text()))


def test_long_output_is_excerpted(tmp_path):
    write_student(result(output="x" * 50_000 + "THE END"), tmp_path)
    md = (tmp_path / "feedback.md").read_text()
    assert "THE END" in md and len(md) < 12_000 and "earlier characters not shown" in md


def test_class_reports(tmp_path):
    intake_failed = result("eve", scores=[0] * 7)
    intake_failed.info = {"intake_error": "eve.zip is not a readable zip file"}
    rows = [Row("张三_PB21", "张三", roster="listed", result=result()),
            Row("bob", "Bob", roster="listed", result=result("bob", scores=[1, 1.5, 1, 1, 0.5, 1, 1.5])),
            Row("eve", status="intake error", roster="not on roster", result=intake_failed,
                message="eve.zip is not a readable zip file"),
            Row("carol", "Carol", status="missing", roster="missing", message="no submission")]
    write_class(rows, CHECKS, tmp_path, lab_id="cnn", lab_title="CNN")
    table = list(csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text(encoding="utf-8-sig"))))
    assert [r["id"] for r in table] == ["张三_PB21", "bob", "eve", "carol"]
    assert table[1]["total"] == "7.5" and table[1]["forward"] == "1.5" and table[1]["max_total"] == "7.5"
    assert table[0]["status"] == "graded" and table[0]["total"] == f"{result().score:g}"
    assert table[2]["status"] == "intake error" and "not a readable zip" in table[2]["note"]
    assert table[3]["status"] == "missing" and table[3]["forward"] == ""
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == [r.id for r in rows]
    html = (tmp_path / "summary.html").read_text()
    assert html.count("data:image/png;base64,") == 2  # histogram and pass rates
    for needle in ("Pass rate per check", "Failures by kind", "Slowest submissions", "memory", "timeout",
                   "eve.zip is not a readable zip file", "Carol", "root-jail"):
        assert needle in html, needle


# -- what people read: rounded scores, an import error told once ----------------------------------

SYNTAX = "cnn.py could not be imported: SyntaxError: unmatched ')' (cnn.py, line 34)\n" \
         "    span = n + 2 * padding - f)\n                              ^"


def import_failed(student="alice"):
    checks = [CheckResult(name, name, points, "public", "value", 0, "error", SYNTAX, extra={"reason": "import"})
              for name, points in (("sizes", 1), ("forward", 1.5), ("backward", 1))]
    return Result("cnn", student, checks, 0.1, {"import_error": "SyntaxError"})


def thirds(student="bob"):
    checks = [CheckResult("sizes", "sizes", 1, "public", "value", 2 / 3, "partial", "2 of 3 parts correct"),
              CheckResult("forward", "forward", 1.5, "public", "value", 0.5, "partial", "close")]
    return Result("cnn", student, checks, 1.0)


def test_format_points():
    from grader.reports.numbers import format_points, format_score

    assert [format_points(x) for x in (3.0, 1.5, 2 / 3, 0.005, 12.345, -1e-9, 0)] == \
        ["3", "1.5", "0.67", "0.01", "12.35", "0", "0"]
    assert format_score(2 / 3, 1) == "0.67/1"


def test_scores_are_rounded_wherever_people_read_them(tmp_path):
    from rich.console import Console

    from grader.reports.console import comparison, print_result

    r = thirds()
    write_student(r, tmp_path)
    md, html = (tmp_path / "feedback.md").read_text(), (tmp_path / "feedback.html").read_text()
    assert "| 0.67/1 |" in md and "**Score: 1.17 / 2.5**" in md
    assert "0.67/1" in html and "1.17 / 2.5" in html
    assert r.summary() == "cnn bob: 1.17/2.5 points, 0/2 checks passed in 1.0s"
    console = Console(record=True, width=200)
    print_result(r, console)
    console.print(comparison([r]))
    text = console.export_text()
    assert "0.67/1" in text and "1.17/2.5" in text and "0.666667" not in text and "1.16667" not in text


def test_the_submission_is_named_only_when_it_says_something():
    assert thirds("cnn").summary().startswith("cnn: 1.17/2.5 points")  # a self-check of cnn.py
    assert thirds("alice").summary().startswith("cnn alice: 1.17/2.5 points")


def test_an_import_error_is_told_once_and_every_check_is_not_run(tmp_path):
    from rich.console import Console

    from grader.reports.console import print_result

    write_student(import_failed(), tmp_path)
    md, html = (tmp_path / "feedback.md").read_text(), (tmp_path / "feedback.html").read_text()
    for text in (md, html):
        assert text.count("(cnn.py, line 34)") == 1
        assert text.count("could not import your file") == 1  # the explanation, once too
        assert text.count("the file cannot be imported") == 3
    assert "```text\n" + SYNTAX + "\n```" in md  # the line and the caret, as Python shows them
    assert md.count("| not run | 0.0 s | the file cannot be imported |") == 3
    assert "## What went wrong" not in md
    console = Console(record=True, width=200)
    print_result(import_failed(), console)
    out = console.export_text()
    assert out.count("unmatched ')'") == 1 and out.count("the file cannot be imported") == 3
    assert out.index("unmatched") < out.index("not run") and "^" in out


def test_checks_that_ran_are_told_as_before_beside_an_import_failure(tmp_path):
    r = result()  # one check (hidden "load") failed to import, the others ran
    write_student(r, tmp_path)
    md = (tmp_path / "feedback.md").read_text()
    assert "| `load` (hidden) | 0/0.5 | not run | 0.0 s | the file cannot be imported |" in md
    assert "| `loop` | 0/1 | ran out of time | 5.0 s |" in md and "infinite loop" in md


def test_gradescope_tells_an_import_error_once():
    data = gradescope_results(import_failed())
    assert data["output"].count("SyntaxError") == 1 and "line 34" in data["output"]
    for test in data["tests"]:
        assert "SyntaxError" not in test["output"] and "not run" in test["output"]
