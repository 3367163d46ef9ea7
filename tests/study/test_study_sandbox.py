"""The study check graded as a batch grades it: the table staged with the
code, the drawn rows re-run in the sandbox, the verdicts in every report,
and no claimed metric in anything the sandbox receives."""

import json

import pytest

from grader.core import batch
from grader.core.grading import select, submission_inputs
from grader.core.results import Status
from grader.labs.lab import Lab
from grader.reports.gradescope_json import gradescope_results
from grader.sandbox import Limits, job, shared, supervisor
from grader.study.check import NOT_REPRODUCED, REPRODUCED

from study_lab import make_lab, make_submission

#: A claimed score no honest run gives: if these digits reach the sandbox, a claim leaked.
FORGED = 7.123456789

#: A run_config that answers with the table's own claims when it can read the table.
COPY = """
import csv, os
if os.path.exists("study.csv"):
    for r in csv.DictReader(open("study.csv")):
        if (r["a"], r["b"], r["seed"]) == (str(a), b, str(seed)):
            return {"score": float(r["score"])}
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("study_batch")
    lab = Lab.load(make_lab(tmp / "kit", reproduce=6))
    inputs = tmp / "inputs"
    make_submission(inputs / "honest")
    make_submission(inputs / "forger", forge=lambda a, b, s: FORGED if (a, b) == (3, "high") else s)
    make_submission(inputs / "no_table", table=False)
    make_submission(inputs / "copier", extra=COPY, forge=lambda a, b, s: FORGED if (a, b) == (3, "high") else s)
    seen = {"jobs": [], "stdin": [], "shared": []}
    to_json, send, init = job.Job.to_json, supervisor._send, shared.SharedFiles.__init__

    def record_job(self):
        seen["jobs"].append(to_json(self))
        return seen["jobs"][-1]

    def record_stdin(proc, payload):
        seen["stdin"].append(payload)
        return send(proc, payload)

    def record_shared(self, *args, **kwargs):
        init(self, *args, **kwargs)
        seen["shared"] += [p.read_bytes() for p in sorted(self.folder.rglob("*")) if p.is_file()]

    patch = pytest.MonkeyPatch()
    patch.setattr(job.Job, "to_json", record_job)
    patch.setattr(supervisor, "_send", record_stdin)
    patch.setattr(shared.SharedFiles, "__init__", record_shared)
    try:
        options = batch.Options(jobs=1, progress=False, threads=1, limits=Limits(startup=180))
        outcome = batch.run(lab, [inputs], tmp / "out", options)
    finally:
        patch.undo()
    return {"lab": lab, "outcome": outcome, "rows": {r.id: r for r in outcome.rows}, "out": tmp / "out",
            "seen": seen}


def _study(row):
    return next(c for c in row.result.checks if c.name == "study")


def test_the_table_comes_along_and_is_reproduced_in_the_sandbox(graded):
    check = _study(graded["rows"]["honest"])
    assert graded["rows"]["honest"].result.info.mode == "sandbox"
    assert check.status is Status.PASSED, check.message
    assert [r["verdict"] for r in check.extra["study"]] == [REPRODUCED] * 6


def test_a_forged_row_is_caught_in_the_sandbox(graded):
    check = _study(graded["rows"]["forger"])
    bad = [r for r in check.extra["study"] if r["verdict"] != REPRODUCED]
    assert [(r["factors"], r["verdict"]) for r in bad] == [({"a": 3, "b": "high"}, NOT_REPRODUCED)]
    assert bad[0]["claimed"]["score"] == FORGED and bad[0]["rerun"]["score"] == pytest.approx(6, abs=1e-2)
    assert "claimed 7.123, re-run 6" in check.message


def test_a_missing_table_costs_the_study_only(graded):
    result = graded["rows"]["no_table"].result
    assert _study(graded["rows"]["no_table"]).score == 0
    assert "no study.csv handed in" in _study(graded["rows"]["no_table"]).message
    assert next(c for c in result.checks if c.name == "present").status is Status.PASSED


def test_no_claim_reaches_the_sandbox(graded):
    seen = graded["seen"]
    assert seen["jobs"] and seen["shared"]
    assert any('"rows"' in text for text in seen["jobs"])  # the drawn rows did travel in job.json
    everything = seen["jobs"] + [p.decode("latin-1") for p in seen["stdin"] + seen["shared"]]
    assert not [text for text in everything if "123456789" in text]


def test_the_study_is_in_every_report(graded):
    out, row = graded["out"], graded["rows"]["forger"]
    header = (out / "grades.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert "study" in header
    folder = next(p.parent for p in out.rglob("result.json") if "forger" in str(p.parent))
    data = json.loads((folder / "result.json").read_text())
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["study"]["kind"] == "study"
    assert checks["study"]["extra"]["study"] == json.loads(json.dumps(_study(row).extra["study"]))
    tests = {t.get("name", ""): t for t in gradescope_results(row.result)["tests"]}
    assert any("reproduced" in name or "study" in name.lower() for name in tests)
    assert any("study" in p.read_text(errors="replace").lower() for p in folder.glob("feedback*"))


def test_a_regrade_draws_the_same_rows(graded, tmp_path):
    lab = graded["lab"]
    chk = next(c for c in select(lab) if c.name == "study")
    folder = next(p.parent for p in (graded["out"] / ".intake").rglob("toy.py") if "forger" in str(p))
    again, _ = submission_inputs(lab, [chk], folder)
    drawn = [{"factors": r["factors"], "seed": r["seed"]} for r in _study(graded["rows"]["forger"]).extra["study"]]
    assert again["study"].public["rows"] == drawn


def test_code_that_reads_the_table_cannot_echo_a_claim(graded):
    check = _study(graded["rows"]["copier"])
    bad = [r for r in check.extra["study"] if r["verdict"] != REPRODUCED]
    assert [(r["factors"], r["verdict"]) for r in bad] == [({"a": 3, "b": "high"}, NOT_REPRODUCED)]


def test_a_row_that_hangs_in_the_sandbox_fails_alone(tmp_path):
    from grader.core.grading import grade

    lab = Lab.load(make_lab(tmp_path / "kit", reproduce=6, budget=1))
    folder = make_submission(tmp_path / "slow", extra='if (a, b) == (2, "low"):\n    time.sleep(60)\n')
    result = grade(lab, folder, limits=Limits(startup=180), threads=1)
    check = next(c for c in result.checks if c.name == "study")
    verdicts = {(r["factors"]["a"], r["factors"]["b"]): r["verdict"] for r in check.extra["study"]}
    assert verdicts.pop((2, "low")) == "failed" and set(verdicts.values()) == {REPRODUCED}
    assert "a = 2, b = low, seed = 0: failed (took longer than its limit of 1s)" in check.message


#: A run_config that reads a file of the data directory (as the CNN study reads the instructor's images).
READS_DATA = """
from grader.data import locate
offset = float((locate(["toy/offset.txt"]) / "toy/offset.txt").read_text())
return {"score": a * WEIGHT[b] + rng.random() * 1e-3 + offset}
"""


def test_the_studys_data_reaches_the_sandbox_and_nothing_without_it(tmp_path, monkeypatch):
    """``[study] data`` names a function of ``grader.data`` listing the files
    the grader's study data is made of: they reach the sandbox's data
    directory, so a row that reads them is reproduced; without it, it fails."""
    import grader.data
    from grader.core.grading import grade

    monkeypatch.setattr(grader.data, "toy_study_files", lambda: {"toy/offset.txt": b"0.25\n"}, raising=False)
    monkeypatch.setenv("DLKIT_DATA", str(tmp_path / "no-data-here"))
    folder = make_submission(tmp_path / "reader", extra=READS_DATA, forge=lambda a, b, s: s + 0.25)
    verdicts = {}
    for data in ("toy_study_files", ""):
        kit = make_lab(tmp_path / f"kit-{data or 'none'}", reproduce=2)
        toml = kit / "lab.toml"
        toml.write_text(toml.read_text().replace("budget = 5\n", f'budget = 5\ndata = "{data}"\n'))
        result = grade(Lab.load(kit), folder, limits=Limits(startup=180), threads=1)
        check = next(c for c in result.checks if c.name == "study")
        verdicts[data] = [r["verdict"] for r in check.extra["study"]]
    assert verdicts == {"toy_study_files": [REPRODUCED] * 2, "": ["failed"] * 2}
