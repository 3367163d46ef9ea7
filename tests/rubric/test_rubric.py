"""The study's write-up graded with its rubric: export the pages and the
sheet, import the TA's scores, and find them in every report, before and
after a regrade. A tiny lab made here; grading itself is replaced by a
stand-in (these tests are about the reports, not the sandbox)."""

import csv
import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from grader.cli import main
from grader.core import batch
from grader.core.grading import select
from grader.core.results import CheckResult, Result, Status
from grader.labs.lab import Lab
from grader.rubric import RubricImportError, export, import_scores, store

LAB_TOML = """
id = "toy"
title = "Toy lab"

[study]
title = "Depth study"
function = "run_config"
metrics = ["acc"]

[study.factors]
depth = [1, 2]

[study.tolerance]
acc = 0.05

[[study.rubric]]
id = "explains_depth"
item = "Explains why depth helps"
points = 2

[[study.rubric]]
id = "cites_table"
item = "Cites the table's numbers"
points = 1.5
"""

CHECKS = '''
from grader import Check


class Adds(Check):
    """add: adds two numbers"""

    points = 1

    def inputs(self, rng):
        return {}

    def observe(self, sub):
        return {}

    def judge(self, got, want, secret):
        return 1.0
'''

SCHEMA = json.loads((Path(__file__).parents[1] / "reports" / "gradescope_results.schema.json").read_text())
HOSTILE = ("# Findings\n\n<script>alert('pwned')</script>\n\n<img src=x onerror=alert(1)>\n\n"
           "[click](javascript:alert(1))\n")
VERDICTS = [
    {"factors": {"depth": 1}, "seed": 0, "claimed": {"acc": 0.81}, "rerun": {"acc": 0.8}, "verdict": "reproduced",
     "message": "within 0.05"},
    {"factors": {"depth": 2}, "seed": 1, "claimed": {"acc": 0.9}, "rerun": None, "verdict": "failed",
     "message": "run_config raised ValueError"},
]


def _png() -> bytes:
    """A valid 1×1 PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """A tiny lab, two students (alice: a full study; bob: a hostile write-up
    in his notebook), and grading replaced by a stand-in that gives every
    check full marks and the study check its row verdicts."""
    lab_dir = tmp_path / "kit" / "assignments" / "toy"
    (lab_dir / "checks").mkdir(parents=True)
    (lab_dir / "lab.toml").write_text(LAB_TOML)
    (lab_dir / "checks" / "__init__.py").write_text('"""Toy checks."""\n')
    (lab_dir / "checks" / "public.py").write_text(CHECKS)
    lab = Lab.load(lab_dir)
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "toy.py").write_text("def run_config(depth, seed):\n    return {'acc': 0.8}\n")
    (subs / "alice" / "study.csv").write_text("depth,seed,acc\n1,0,0.81\n2,1,0.9\n")
    (subs / "alice" / "report.md").write_text("# Depth\n\nDepth **helps**: 0.81 → 0.9.\n", encoding="utf-8")
    (subs / "alice" / "loss.png").write_bytes(_png())
    (subs / "alice" / "huge.png").write_bytes(_png() + b"\0" * (2 << 20))
    (subs / "bob").mkdir()
    (subs / "bob" / "toy.py").write_text("def run_config(depth, seed):\n    return {'acc': 0.5}\n")
    notebook = {"cells": [{"cell_type": "markdown", "source": HOSTILE.splitlines(True)},
                          {"cell_type": "code", "source": "x = 1", "outputs": []}], "nbformat": 4}
    (subs / "bob" / "work.ipynb").write_text(json.dumps(notebook))
    (subs / "bob" / "plot.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')

    graded = []

    def fake_grade(lab, path, *, limits, threads, prepared):
        graded.append(path.name)
        checks = []
        for c in select(lab):
            extra = {"study": VERDICTS} if c.name == "study" else {}
            checks.append(CheckResult(c.name, c.title, c.points, c.visibility, c.kind, score=c.points,
                                      status=Status.PASSED, extra=extra))
        return Result(lab.id, path.name, checks)

    class Plan:
        def close(self):
            pass

    monkeypatch.setattr(batch, "grade", fake_grade)
    monkeypatch.setattr(batch, "prepare", lambda *a, **k: Plan())
    out = tmp_path / "out"

    def grade(regrade=False):
        return batch.run(lab, [subs], out, batch.Options(progress=False, regrade=regrade))

    grade()
    return {"lab": lab, "lab_dir": lab_dir, "out": out, "grade": grade, "graded": graded}


def _grades(out):
    with open(out / "grades.csv", encoding="utf-8-sig", newline="") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


def _sheet(path, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _fill(out, scores):
    """The exported sheet with ``scores`` ({id: (explains_depth, cites_table, comment)}) typed in."""
    text = (out / "rubric.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows[1:]:
        if row[0] in scores:
            row[2:] = scores[row[0]]
    return _sheet(out / "filled.csv", rows)


def _assert_scores_everywhere(out):
    grades = _grades(out)
    assert grades["alice"]["rubric:explains_depth"] == "1.5" and grades["alice"]["rubric:cites_table"] == "1"
    assert grades["alice"]["rubric_total"] == "2.5"
    # 1 (add) + 1 (the study check) + 2.5 of the rubric's 3.5
    assert grades["alice"]["total"] == "4.5" and grades["alice"]["max_total"] == "5.5"
    assert grades["bob"]["rubric_total"] == "0.5" and grades["bob"]["total"] == "2.5"
    feedback = (out / "alice" / "feedback.md").read_text(encoding="utf-8")
    assert "Your write-up: 2.5 / 3.5" in feedback and "| Explains why depth helps | 1.5/2 |" in feedback
    assert "Clear, 清楚" in feedback and "**Score: 4.5 / 5.5**" in feedback
    assert "Clear, 清楚" in (out / "alice" / "feedback.html").read_text(encoding="utf-8")
    results = json.loads((out / "alice" / "gradescope-results.json").read_text(encoding="utf-8"))
    rubric_tests = {t["extra_data"]["rubric"]: t for t in results["tests"] if "rubric" in t.get("extra_data", {})}
    assert rubric_tests["explains_depth"]["score"] == 1.5 and rubric_tests["explains_depth"]["max_score"] == 2
    assert rubric_tests["cites_table"]["score"] == 1.0
    assert results["score"] == 4.5 == sum(t["score"] for t in results["tests"])
    assert rubric_tests["explains_depth"]["output"] == "Clear, 清楚"
    Draft202012Validator(SCHEMA).validate(results)


def test_export_import_and_regrade_keep_every_score(toy, capsys):
    out, lab_dir = toy["out"], toy["lab_dir"]
    assert main(["rubric", "export", str(lab_dir), str(out)]) == 0
    head = (out / "rubric.csv").read_bytes()
    assert head.startswith(b"\xef\xbb\xbf")  # a BOM, like grades.csv: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(head.decode("utf-8-sig"))))
    assert rows[0] == ["id", "name", "explains_depth (/2)", "cites_table (/1.5)", "comment"]
    assert sorted(r[0] for r in rows[1:]) == ["alice", "bob"]
    page = (out / "alice" / "rubric.html").read_text(encoding="utf-8")
    assert "<strong>helps</strong>" in page                      # the write-up, rendered
    assert "<td>0.81</td>" in page                               # the table
    assert page.count("data:image/png;base64,") == 1 and "huge.png" in page  # a plot; one too large, named
    assert "not reproduced" not in page and "run_config raised ValueError" in page  # the verdicts
    assert 'name="explains_depth"' in page and 'max="2.0"' in page

    sheet = _fill(out, {"alice": ["1.5", "1", "Clear, 清楚"], "bob": ["0", "0.5", ""]})
    assert main(["rubric", "import", str(lab_dir), str(out), str(sheet)]) == 0
    assert "imported the write-up scores of 2 student(s)" in capsys.readouterr().out
    _assert_scores_everywhere(out)
    stored = json.loads((out / store.SCORES_FILE).read_text(encoding="utf-8"))
    assert stored["students"]["alice"]["at"] and "by" in stored["students"]["alice"]

    toy["graded"].clear()
    outcome = toy["grade"](regrade=True)
    assert sorted(toy["graded"]) == ["alice", "bob"] and outcome.graded == 2  # really graded again
    _assert_scores_everywhere(out)
    # Exporting again shows what was imported: nothing is lost by a second round.
    export(toy["lab"], out)
    again = {r[0]: r for r in csv.reader(io.StringIO((out / "rubric.csv").read_text(encoding="utf-8-sig")))}
    assert again["alice"][2:] == ["1.5", "1", "Clear, 清楚"]


def test_a_hostile_write_up_is_shown_never_run(toy):
    export(toy["lab"], toy["out"])
    page = (toy["out"] / "bob" / "rubric.html").read_text(encoding="utf-8")
    assert "the Markdown cells of work.ipynb" in page
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page or "&lt;script&gt;alert('pwned')" in page
    body = page.split("<body>", 1)[1]
    assert "<script" not in body and "<img src=x" not in body and 'href="javascript:' not in body
    # Its SVG is embedded as an image (where scripts never run), never inline.
    assert "data:image/svg+xml;base64," in body and "<svg" not in body
    assert "script-src" not in page and "default-src 'none'" in page  # and the page forbids scripts anyway


def test_a_bad_sheet_is_refused_whole_and_nothing_is_lost(toy):
    lab, out = toy["lab"], toy["out"]
    export(lab, out)
    import_scores(lab, out, _fill(out, {"alice": ["1.5", "1", "ok"], "bob": ["1", "1", ""]}))
    before = {name: (out / name).read_bytes() for name in (store.SCORES_FILE, "grades.csv", "alice/feedback.md")}
    bad = _sheet(out / "bad.csv", [
        ["id", "name", "explains_depth (/2)", "cites_table (/1.5)", "comment"],
        ["alice", "", "2.5", "1", ""],        # above the item's points
        ["bob", "", "good", "-1", ""],        # not a number; below 0
        ["mallory", "", "1", "1", ""],        # not in this batch
    ])
    with pytest.raises(RubricImportError) as caught:
        import_scores(lab, out, bad)
    problems = caught.value.problems
    assert any("row 2" in p and "explains_depth" in p and "out of range 0..2" in p for p in problems)
    assert any("row 3" in p and "'good' is not a number" in p for p in problems)
    assert any("row 3" in p and "cites_table" in p and "out of range" in p for p in problems)
    assert any("row 4" in p and "unknown student id 'mallory'" in p for p in problems)
    assert {name: (out / name).read_bytes() for name in before} == before

    columns = _sheet(out / "columns.csv", [["id", "explains_depth", "style"], ["alice", "1", "2"]])
    with pytest.raises(RubricImportError) as caught:
        import_scores(lab, out, columns)
    assert any("'style': not a rubric item" in p for p in caught.value.problems)
    assert any("no column for rubric item(s) cites_table" in p for p in caught.value.problems)
    half = _sheet(out / "half.csv", [["id", "explains_depth", "cites_table"], ["bob", "1", ""]])
    with pytest.raises(RubricImportError, match=r"row 2 \(bob\), column 'cites_table': empty"):
        import_scores(lab, out, half)
    assert {name: (out / name).read_bytes() for name in before} == before


def test_the_cli_lists_the_problems_and_imports_nothing(toy, capsys):
    out = toy["out"]
    bad = _sheet(out / "bad.csv", [["id", "explains_depth", "cites_table"], ["alice", "x", "1"]])
    assert main(["rubric", "import", str(toy["lab_dir"]), str(out), str(bad)]) == 1
    assert "'x' is not a number" in capsys.readouterr().err
    assert not (out / store.SCORES_FILE).exists()
    assert "rubric_total" not in (out / "grades.csv").read_text(encoding="utf-8-sig")


def test_importing_again_replaces_a_students_scores_and_says_so(toy, capsys):
    lab, out = toy["lab"], toy["out"]
    export(lab, out)
    import_scores(lab, out, _fill(out, {"alice": ["2", "1.5", "first"]}))
    # Rows left empty are not graded (nor do they erase earlier scores).
    done = import_scores(lab, out, _sheet(out / "second.csv", [
        ["id", "explains_depth", "cites_table", "comment"], ["alice", "0.5", "0", "second look"], ["bob", "", "", ""]]))
    assert done.replaced == ["alice"] and done.empty == ["bob"]
    grades = _grades(out)
    assert grades["alice"]["rubric_total"] == "0.5" and grades["bob"]["rubric_total"] == ""
    assert "second look" in (out / "alice" / "feedback.md").read_text(encoding="utf-8")
    main(["rubric", "import", str(toy["lab_dir"]), str(out), str(out / "second.csv")])
    assert "replaced earlier scores of: alice" in capsys.readouterr().out


def test_a_lab_without_a_rubric_has_nothing_to_export(tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "lab.toml").write_text('id = "plain"\n')
    with pytest.raises(ValueError, match="no rubric"):
        export(Lab.load(folder), tmp_path)
    assert store.load(tmp_path, Lab.load(folder)) is None


def test_a_broken_scores_file_stops_the_batch_before_grading(toy):
    (toy["out"] / store.SCORES_FILE).write_text("{not json")
    toy["graded"].clear()
    with pytest.raises(store.RubricStoreError, match="rubric-scores.json cannot be read"):
        toy["grade"](regrade=True)
    assert toy["graded"] == []


def test_the_form_page_saves_a_sheet_that_imports(toy):
    """The class's form page: its only script is the one its policy allows
    by hash, and the CSV it makes is one ``grader rubric import`` takes."""
    import base64
    import hashlib
    import html
    import re
    import shutil
    import subprocess

    lab, out = toy["lab"], toy["out"]
    export(lab, out)
    page = (out / "rubric-form.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page
    assert 'href="alice/rubric.html"' in page
    header = json.loads(html.unescape(re.search(r"data-header='([^']*)'", page).group(1)))
    assert header == ["id", "name", "explains_depth (/2)", "cites_table (/1.5)", "comment"]
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the page's script is not run")
    script = out / "form.js"
    script.write_text(scripts[0])
    made = subprocess.run(
        ["node", "-e", "const f = require(process.argv[1]); process.stdout.write(f.rubricCsv("
         "['id', 'name', 'explains_depth (/2)', 'cites_table (/1.5)', 'comment'],"
         "[['alice', '', '2', '0.5', 'said \"deep\", well'], ['bob', '', '', '', '']]))", str(script)],
        capture_output=True, check=True, timeout=60).stdout
    assert made.startswith(b"\xef\xbb\xbf")
    (out / "saved.csv").write_bytes(made)
    done = import_scores(lab, out, out / "saved.csv")
    assert done.graded == ["alice"] and done.empty == ["bob"]
    assert store.load(out, lab).get("alice").comment == 'said "deep", well'
