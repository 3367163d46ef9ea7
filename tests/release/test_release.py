"""`grader release`: bundles, gates, the leak scan, Gradescope and otter.

Default tier (CI): the CNN lab is released once per module with the sandboxed
gates on the reference, the starter and two mutants, then built again from
the cached gate result to prove the zips are byte-identical. The bundles are
then used as students, Gradescope and otter would use them, on the starter
(fast: everything fails at once) and on the reference without its training
check. The leak scan runs on every lab's student bundles. ``-m full`` adds
the release with every mutant, and the reference graded in full through
``run_autograder``, ``otter run``, the bundle's ``pytest`` and its notebook.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grader.labs import mutants
from grader.labs.lab import Lab, all_lab_ids, repo_root
from grader.release import ReleaseRefused, release_lab, write_index
from grader.release import bundles, contents, gates, leaks, notebooks, otter_bundle
from grader.release.archive import FIXED_DATE, Bundle
from grader.core.results import CheckResult, Result

LABS = all_lab_ids()
GATE_MUTANTS = ["maxpool_grad_to_all", "batchnorm_batch_stats_at_inference"]
#: CI machines run several TensorFlow processes at once; the budgets assume an idle machine.
TIME_SCALE = 3.0
PYTHON = sys.executable
OTTER = str(Path(sys.executable).with_name("otter"))
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
#: Gradescope's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/).
GRADESCOPE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["tests"],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": VISIBILITY,
        "stdout_visibility": VISIBILITY,
        "extra_data": {"type": "object"},
        "leaderboard": {"type": "array"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "score": {"type": "number"},
                "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string"},
                "name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
                "number": {"type": "string"},
                "output": {"type": "string"},
                "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": VISIBILITY,
                "extra_data": {"type": "object"},
            },
        }},
    },
}


def _env(**extra) -> dict:
    """A child environment without the CI data folder: bundles must be self-sufficient."""
    env = {k: v for k, v in os.environ.items() if k not in ("DLKIT_DATA", "DLKIT_ROOT", "PYTHONPATH")}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="0", **extra)
    return env


def unzip(path: Path, dest: Path) -> Path:
    """Extract with the permission bits the zip records (as `unzip` does)."""
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            target = dest / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            target.chmod((info.external_attr >> 16) & 0o777 or 0o644)
    return dest


@pytest.fixture(scope="module")
def lab():
    return Lab.load("cnn")


@pytest.fixture(scope="module")
def release(lab, tmp_path_factory):
    """The CNN lab released once, gates sandboxed on the reference, the starter
    and two mutants (two at a time)."""
    root = tmp_path_factory.mktemp("release")
    built = release_lab(lab, root / "dist", cache_dir=root / "cache", mutant_names=GATE_MUTANTS, jobs=2,
                        time_scale=TIME_SCALE)
    write_index(root / "dist", [built], {})
    return built, root


@pytest.fixture(scope="module")
def rebuilt(release, lab):
    """The same release built again into another folder, reusing the gates."""
    _, root = release
    return release_lab(lab, root / "dist2", cache_dir=root / "cache", mutant_names=GATE_MUTANTS, reuse_gates=True,
                       time_scale=TIME_SCALE)


# -- building ---------------------------------------------------------------------

def test_gates_pass_and_are_recorded(release):
    built, root = release
    report = built.gates
    assert report.passed and not report.reused
    # The lab's 14 points and its study's (the reference hands in its table).
    assert report.reference["score"] == report.reference["max_score"] == 14 + built.lab.study.points
    assert report.starter["score"] == 0
    assert [m["name"] for m in report.mutants] == GATE_MUTANTS and all(m["caught"] for m in report.mutants)
    recorded = json.loads((root / "dist" / "cnn" / "build.json").read_text())
    assert recorded["gates"]["key"] == report.key and recorded["gates"]["scope"]["of"] > len(GATE_MUTANTS)
    assert any("only 2 of" in n for n in recorded["notes"])


def test_building_twice_gives_identical_zips(release, rebuilt):
    built, _ = release
    assert rebuilt.gates.reused and rebuilt.gates.key == built.gates.key
    assert rebuilt.seconds["gates"] == 0
    for kind, written in built.files.items():
        again = rebuilt.files[kind]
        assert written.path.read_bytes() == again.path.read_bytes(), kind
        with zipfile.ZipFile(written.path) as zf:
            names = zf.namelist()
            assert names == sorted(names)
            for info in zf.infolist():
                assert info.date_time == FIXED_DATE
                mode = (info.external_attr >> 16) & 0o777
                assert mode == (0o755 if info.filename in ("run_autograder", "setup.sh") else 0o644), info.filename


def test_index_lists_points_checks_budget_sizes_and_checksums(release):
    built, root = release
    index = json.loads((root / "dist" / "index.json").read_text())
    entry = next(e for e in index["labs"] if e["lab"] == "cnn")
    assert entry["points"] == 14 and entry["cpu_budget_seconds"] == built.lab.cpu_budget
    assert entry["checks"] == {"public": len(built.lab.checks("public")), "hidden": len(built.lab.checks("hidden"))}
    assert set(entry["bundles"]) == {"student", "autograder", "otter-student", "otter-autograder"}
    for b in entry["bundles"].values():
        data = (root / "dist" / b["file"]).read_bytes()
        assert b["bytes"] == len(data) and b["sha256"] == hashlib.sha256(data).hexdigest()
    sums = (root / "dist" / "SHA256SUMS").read_text().splitlines()
    assert f"{entry['bundles']['student']['sha256']}  cnn/cnn-student.zip" in sums
    assert "| cnn |" in (root / "dist" / "index.md").read_text()


def test_student_bundle_holds_what_students_need_and_nothing_private(release, lab):
    built, _ = release
    with zipfile.ZipFile(built.files["student"].path) as zf:
        names = set(zf.namelist())
        read = lambda n: zf.read(n).decode()  # noqa: E731
        assert {"cnn/cnn.py", "cnn/README.md", "cnn/README.zh.md", "cnn/CHECKING.md", "cnn/cnn.ipynb",
                "cnn/test_public.py", "cnn/pytest.ini", "cnn/conftest.py", "cnn/pyproject.toml",
                "cnn/requirements.txt", "cnn/grader/cli.py",
                "cnn/grader/__main__.py", "cnn/grader/sandbox/worker.py", "cnn/grader/data/__init__.py",
                "cnn/assignments/cnn/checks/public.py", "cnn/assignments/cnn/fixtures/public.npz"} <= names
        assert read("cnn/cnn.py") == lab.starter_file.read_text()
        lines = [l for l in read("cnn/requirements.txt").splitlines() if l and not l.startswith("#")]
        assert lines[-1] == "-e ."  # the bundle itself, for the `grader` command
        pins = [l.split(";")[0].strip() for l in lines[:-1]]
        locked = set(contents._lock().values()) | {"tensorflow==2.21.0"}  # tensorflow-cpu's stand-in on macOS/aarch64
        assert pins and all(p in locked for p in pins), set(pins) - locked
        assert not any(p.lower().startswith("otter-grader") for p in pins)
    private = ("checks/hidden", "fixtures/hidden", "mutants.toml", "solutions/", "grader/release/",
               "otter_bridge", "grader/integrations/gradescope.py")
    assert not [n for n in names if any(p in n for p in private)]


def test_autograder_bundle_has_gradescope_scripts_grader_and_every_check(release):
    built, _ = release
    with zipfile.ZipFile(built.files["autograder"].path) as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder", "requirements.txt", "grader/integrations/gradescope.py", "grader/sandbox/worker.py",
                "assignments/cnn/checks/hidden.py", "assignments/cnn/fixtures/hidden.npz"} <= names
        assert not [n for n in names if n.startswith(("grader/release", "solutions", "starter"))]
        setup = zf.read("setup.sh").decode()
    proc = subprocess.run(["bash", "-n", "-c", setup], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_otter_bundles(release, lab):
    built, _ = release
    from otter.test_files.exception_test import ExceptionTestFile

    with zipfile.ZipFile(built.files["otter-autograder"].path) as zf:
        names = set(zf.namelist())
        config = json.loads(zf.read("otter_config.json"))
        tests = {n: zf.read(n).decode() for n in names if n.startswith("tests/")}
        assert {"run_autograder", "run_otter.py", "setup.sh", "environment.yml",
                "files/grader/integrations/otter.py", "files/assignments/cnn/checks/hidden.py"} <= names
        assert "python=3.11" in zf.read("environment.yml").decode()
    assert config["assignment_name"] == notebooks.otter_assignment_name(lab)
    assert set(tests) == {f"tests/{c.name}.py" for c in lab.checks()}
    for check in lab.checks():
        parsed = ExceptionTestFile.from_string(tests[f"tests/{check.name}.py"], path=f"tests/{check.name}.py")
        assert "OK_FORMAT = False" in parsed.source
        [case] = parsed.test_cases
        assert case.points == check.points and case.hidden == (check.visibility == "hidden")
    with zipfile.ZipFile(built.files["otter-student"].path) as zf:
        names = set(zf.namelist())
        nb = json.loads(zf.read("cnn-otter/cnn.ipynb"))
    assert {n for n in names if "/tests/" in n} == {f"cnn-otter/tests/{c.name}.py" for c in lab.checks("public")}
    sources = ["".join(c["source"]) for c in nb["cells"]]
    assert [s for s in sources if s.startswith("grader.check(")] == \
        [f'grader.check("{c.name}")' for c in lab.checks("public")]
    assert nb["metadata"]["otter"]["assignment_name"] == config["assignment_name"]


def test_student_notebook_walks_through_every_public_check(release, lab):
    built, _ = release
    with zipfile.ZipFile(built.files["student"].path) as zf:
        nb = json.loads(zf.read("cnn/cnn.ipynb"))
    import nbformat

    nbformat.validate(nbformat.from_dict(nb))
    assert [c["id"] for c in nb["cells"]] == [f"cell-{i:03d}" for i in range(1, len(nb["cells"]) + 1)]
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    for check in lab.checks("public"):
        assert f'check("{check.name}")' in code


# -- using the bundles -----------------------------------------------------------

def test_student_bundle_runs_its_checks_with_pytest_and_grader_check(release, tmp_path):
    built, _ = release
    folder = unzip(built.files["student"].path, tmp_path) / "cnn"
    starter = subprocess.run([PYTHON, "-m", "pytest"], cwd=folder, env=_env(), capture_output=True, text=True,
                             timeout=600)
    assert starter.returncode == 1
    assert "8 failed" in starter.stdout and "not implemented yet" in starter.stdout
    assert "Traceback" not in starter.stdout  # failures read as messages, not stack traces
    shutil.copy(built.lab.solution_file, folder / "cnn.py")
    quick = [c.name for c in built.lab.checks("public") if c.kind != "training"]
    reference = subprocess.run([PYTHON, "-m", "grader", "check", "cnn", "--only", *quick], cwd=folder, env=_env(),
                               capture_output=True, text=True, timeout=600)
    assert reference.returncode == 0, reference.stdout[-3000:] + reference.stderr[-3000:]
    assert f"{len(quick)}/{len(quick)} checks passed" in reference.stdout


def _gradescope(built, tmp_path: Path, submission: Path | None) -> dict:
    root = tmp_path / "autograder"
    unzip(built.files["autograder"].path, root / "source")
    (root / "submission").mkdir()
    if submission is not None:
        (root / "submission" / "my-work").mkdir()
        shutil.copy(submission, root / "submission" / "my-work" / "cnn.py")
    env = _env(DLKIT_AUTOGRADER_DIR=str(root), DLKIT_PYTHON=PYTHON, DLKIT_TIME_SCALE=str(TIME_SCALE))
    proc = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    import jsonschema

    jsonschema.validate(results, GRADESCOPE_SCHEMA)
    published = Path(__file__).parent.parent / "reports" / "gradescope_results.schema.json"  # the reports' own schema
    if published.is_file():
        jsonschema.validate(results, json.loads(published.read_text()))
    assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    assert all(0 <= t["score"] <= t["max_score"] for t in results["tests"])
    assert Path(results["extra_data"].get("grader", root)).resolve().is_relative_to(root.resolve())
    return results


def test_run_autograder_grades_the_starter_in_a_gradescope_layout(release, lab, tmp_path):
    built, _ = release
    results = _gradescope(built, tmp_path, lab.starter_file)
    # Every check of the lab, then the study's (public).
    assert results["score"] == 0 and len(results["tests"]) == len(lab.checks()) + 1
    assert sorted(t["visibility"] for t in results["tests"]) == sorted(
        ["visible" if c.visibility == "public" else "after_published" for c in lab.checks()] + ["visible"])
    assert all(t["status"] == "failed" and t["score"] == 0 for t in results["tests"])
    assert "not implemented yet" in results["tests"][1]["output"]
    assert results["stdout_visibility"] == "hidden"


def test_run_autograder_explains_a_submission_without_the_lab_file(release, tmp_path):
    built, _ = release
    results = _gradescope(built, tmp_path, None)
    assert results["score"] == 0 and len(results["tests"]) == len(built.lab.checks()) + 1
    assert "could not be graded: no cnn.py found" in results["tests"][0]["output"]


def _otter_run(zip_path: Path, notebook: str, tmp_path: Path) -> dict:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "cnn.ipynb").write_text(notebook)
    proc = subprocess.run([OTTER, "run", "-a", str(zip_path), "-o", str(tmp_path), "--no-logo", "sub/cnn.ipynb"],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    return {t["name"]: t for t in results["tests"] if "max_score" in t}


def test_otter_run_scores_the_starter_zero(release, lab, tmp_path):
    built, _ = release
    tests = _otter_run(built.files["otter-autograder"].path, notebooks.otter_notebook(lab, lab.starter_file.read_text()),
                       tmp_path)
    assert set(tests) == {c.name for c in lab.checks()}
    assert all(t["score"] == 0 for t in tests.values())
    assert "not implemented yet" in tests["conv2d_forward"]["output"]


def test_otter_run_gives_the_reference_full_marks_without_training(release, lab, tmp_path):
    """Default tier: the otter autograder minus the training check's test file
    (the full run is in the `full` tier)."""
    built, _ = release
    trimmed = Bundle.read(built.files["otter-autograder"].path)
    del trimmed.files["tests/cnn_training.py"]
    (tmp_path / "ag.zip").write_bytes(trimmed.to_bytes())
    tests = _otter_run(tmp_path / "ag.zip", notebooks.otter_notebook(lab, lab.solution_file.read_text()), tmp_path)
    assert set(tests) == {c.name for c in lab.checks()} - {"cnn_training"}
    assert all(t["score"] == t["max_score"] for t in tests.values()), {n: t["output"] for n, t in tests.items()}


# -- the leak scan ----------------------------------------------------------------

@functools.cache
def _bundles(lab_id):
    """A lab's bundles, built once for the leak-scan tests (building takes ~20 s)."""
    return bundles.build(Lab.load(lab_id))


@pytest.mark.parametrize("lab_id", LABS)
def test_student_bundles_pass_the_leak_scan(lab_id):
    lab = Lab.load(lab_id)
    built = _bundles(lab_id)
    scanner = leaks.LeakScanner(lab)
    found = [str(leak) for name, bundle in built.for_students for leak in scanner.scan(bundle, name)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("lab_id", LABS)
def test_leak_scan_finds_planted_leaks(lab_id):
    """Every kind of leak, planted in a copy of the lab's student bundle, is found."""
    lab = Lab.load(lab_id)
    scanner = leaks.LeakScanner(lab)
    base = _bundles(lab_id).student
    hidden_check = lab.checks("hidden")[0]
    solution_line = next(iter(scanner.solution_lines), None)
    hidden_source = (lab.assignment_dir / "checks" / "hidden.py").read_bytes()
    hidden_npz = lab.fixtures_dir / "hidden.npz"
    plants = {
        "private file": ("x/notes.txt", hidden_source),
        "hidden check title": ("x/nb.ipynb", json.dumps({"cells": [{"cell_type": "code", "source": "check()",
            "metadata": {}, "outputs": [{"output_type": "stream", "name": "stdout",
                                          "text": [f"│ {hidden_check.title} │ 1/1 │\n"]}]}], "metadata": {}})),
    }
    if solution_line:
        plants["solution line"] = ("x/help.md", f"```\n    # {solution_line}\n```\n")
    plants["salt"] = ("x/config.txt", f"seed material: {lab.salt.hex()}\n")
    scanned, _ = leaks.hidden_names(lab)
    if scanned:
        plants["hidden check name"] = ("x/todo.txt", f"see `{scanned[0]}` for details\n")
    if hidden_npz.is_file():
        with np.load(hidden_npz) as npz:
            big = [k for k in npz.files if npz[k].size >= leaks.MIN_ARRAY]
            if big:
                buffer = io.BytesIO()
                np.savez(buffer, copied=npz[big[0]])
                plants["private array"] = ("x/data.npz", buffer.getvalue())
    for kind, (path, data) in plants.items():
        bundle = Bundle(dict(base.files))
        bundle.add(path, data)
        found = {leak.kind for leak in scanner.scan(bundle, "planted") if leak.path.startswith(path)}
        assert kind in found, f"{kind} planted in {path} was not found (found: {found})"


def test_leak_scan_lets_a_lone_common_idiom_through(lab):
    scanner = leaks.LeakScanner(lab)
    assert "with tf.GradientTape() as tape:" in scanner.hidden_lines
    bundle = Bundle({"a.py": b"with tf.GradientTape() as tape:\n    y = model(x)\n"})
    assert scanner.scan(bundle, "idiom") == []


def test_leak_scan_exempts_only_short_solution_idioms_that_shipped_code_has():
    """A solution line like ``rng = np.random.default_rng(seed)``, which the
    grader package ships anyway, cannot be told from the kit's own code; a
    longer solution line is found even where shipped code has it."""
    lab = Lab.load("gcn")
    scanner = leaks.LeakScanner(lab)
    assert "rng = np.random.default_rng(seed)" in scanner.exempt_lines
    assert all(len(line) < leaks.MIN_HIDDEN_LONE for line in scanner.exempt_lines)
    assert not scanner.exempt_lines & set(scanner.solution_lines)
    idiom = Bundle({"a.py": b"rng = np.random.default_rng(seed)\n"})
    assert scanner.scan(idiom, "idiom") == []
    longest = max(scanner.solution_lines, key=len)
    assert len(longest) >= leaks.MIN_HIDDEN_LONE
    found = scanner.scan(Bundle({"a.py": f"x = 1\n{longest}\n".encode()}), "copied")
    assert [leak.kind for leak in found] == ["solution line"]


def test_handouts_name_no_hidden_check_in_the_student_copy(lab):
    text, replaced = bundles.student_handout(lab, "| conv_custom_gradient | 1 | hidden |\n| conv2d_forward | 1.5 |\n",
                                             "README.md")
    assert replaced == ["conv_custom_gradient"]
    assert text == "| hidden check | 1 | hidden |\n| conv2d_forward | 1.5 |\n"


def test_student_lab_toml_keeps_only_public_checks_settings(lab):
    meta = dict(lab.meta, checks={"conv_custom_gradient": {"tol": 1e-7, "budget": 30},
                                  "conv2d_forward": {"budget": 10}})
    fake = Lab(lab.assignment_dir, meta)
    text = contents.student_lab_toml(fake)
    assert "conv_custom_gradient" not in text and "1e-07" not in text
    assert "[checks.conv2d_forward]" in text and "budget = 10" in text
    assert 'title = "Convolutional neural networks"' in text


# -- refusals ---------------------------------------------------------------------

@pytest.fixture
def kit_copy(tmp_path, lab):
    """A copy of the CNN lab's folders, to break on purpose."""
    for part in ("assignments", "solutions", "starter"):
        shutil.copytree(repo_root() / part / "cnn", tmp_path / "kit" / part / "cnn")
    return Lab.load(tmp_path / "kit" / "assignments" / "cnn")


def test_release_refuses_a_leak_and_a_stale_starter_and_writes_nothing(kit_copy, tmp_path):
    source = kit_copy.solution_file.read_text()
    leaked = next(l.strip() for l in source.splitlines() if "span = n + 2 * padding - f" in l)
    notebook = kit_copy.assignment_dir / "notebook.py"
    notebook.write_text(notebook.read_text() + f"\n# %%\n# {leaked}\nprint('conv_custom_gradient')\n")
    starter = kit_copy.starter_file
    starter.write_text(starter.read_text().replace("# TODO: the slide's formula", "# TODO: a formula", 1))
    with pytest.raises(ReleaseRefused) as refused:
        release_lab(kit_copy, tmp_path / "dist")
    message = str(refused.value)
    assert "starter out of sync with the solution markers (run `grader starter cnn`)" in message
    assert "-    # TODO: a formula" in message  # the diff's first lines say where
    assert "leak scan: 2 finding(s)" in message
    assert "cnn-student.zip: cnn/cnn.ipynb cell" in message
    assert "solution line: # span = n + 2 * padding - f (as in solutions/cnn/cnn.py:" in message
    assert "hidden check name: 'conv_custom_gradient'" in message
    assert "(the sandboxed grading gates were not run)" in message
    assert not list((tmp_path / "dist").rglob("*.zip"))
    assert "leak scan" in (tmp_path / "dist" / "cnn" / "REFUSED.txt").read_text()


def test_cli_refuses_and_says_why(kit_copy, tmp_path, monkeypatch, capsys):
    from grader import cli

    (kit_copy.assignment_dir / "mutants.toml").write_text(
        (kit_copy.assignment_dir / "mutants.toml").read_text() + "\n[[mutant]]\nname = \"stale\"\nwhy = \"x\"\n"
        "targets = [\"conv2d_forward\"]\n[[mutant.replace]]\nold = \"text that is not in the solution\"\nnew = \"y\"\n")
    for name in ("pyproject.toml", "requirements.lock"):
        shutil.copy(repo_root() / name, tmp_path / "kit" / name)
    monkeypatch.setenv("DLKIT_ROOT", str(tmp_path / "kit"))
    monkeypatch.setattr(gates, "grade", lambda *a, **k: pytest.fail("gates graded despite a broken mutant list"))
    code = cli.main(["release", "cnn", "-o", str(tmp_path / "dist"), "--gate-cache", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 1
    assert "cnn: release refused" in err and "mutant stale: the text to replace occurs 0 times" in err
    index = json.loads((tmp_path / "dist" / "index.json").read_text())
    assert index["labs"] == [] and "cnn" in index["refused"]


@pytest.mark.full  # 2 min: every lab built again; each lab's build is tested above
def test_release_all_builds_every_lab_it_can_and_indexes_them(tmp_path, monkeypatch):
    """`release all` over whatever labs exist (some still being written): each
    is built or refused on its own, and the index says which. The sandboxed
    gates are stubbed here (they are exercised above)."""
    from grader.release import build

    def passing(lab, **_):
        return gates.GateReport(lab.id, "stub", scope={"stub": True})

    monkeypatch.setattr(build.gates, "run", passing)
    built, refused = build.release(None, tmp_path / "dist")
    index = json.loads((tmp_path / "dist" / "index.json").read_text())
    assert sorted([e["lab"] for e in index["labs"]] + list(index["refused"])) == LABS
    assert "cnn" in [r.lab.id for r in built]
    for lab_id, exc in refused.items():
        assert exc.failures and (tmp_path / "dist" / lab_id / "REFUSED.txt").is_file()
    for entry in index["labs"]:
        for b in entry["bundles"].values():
            assert hashlib.sha256((tmp_path / "dist" / b["file"]).read_bytes()).hexdigest() == b["sha256"]


def _result(lab, scores: dict[str, tuple[float, str]]) -> Result:
    checks = []
    for c in lab.checks():
        score, status = scores.get(c.name, (c.points, "passed"))
        checks.append(CheckResult(c.name, c.title, c.points, c.visibility, c.kind, score=score, status=status,
                                  message=f"{c.name} {status}"))
    return Result(lab.id, "x", checks, 1.0)


def test_gates_say_exactly_which_submission_failed_how(lab, monkeypatch, tmp_path):
    """The gates' verdicts, with grading replaced by fixed results."""
    mutant = next(m for m in mutants.load(lab) if m.name == "conv_ignores_stride")

    def fake_grade(lab_, path, names=None, **_):
        path = Path(path)
        if path == lab.solution_dir:
            return _result(lab, {"cnn_training": (0.75, "partial")})
        if path == lab.starter_dir:
            return _result(lab, {c.name: (0, "todo") for c in lab.checks()} | {"lenet5": (0, "timeout")})
        # the mutant fails one of its two targets only
        result = _result(lab, {"conv2d_forward_strided": (0, "failed")})
        result.checks = [c for c in result.checks if names is None or c.name in names]
        return result

    monkeypatch.setattr(gates, "grade", fake_grade)
    report = gates.run(lab, mutant_names=[mutant.name], cache_dir=tmp_path)
    assert report.failures[0].startswith("reference scores 13.25/14, not full marks: cnn_training 0.75/1.5 (partly right")
    assert report.failures[1].startswith("untouched starter breaks the grader: lenet5 ran out of time")
    assert report.failures[2].startswith("mutant conv_ignores_stride escaped check(s) it targets: conv_custom_gradient")
    assert not list(tmp_path.glob("*.json")), "a failing gate result must not be cached"


def test_bundles_ship_the_grader_but_not_the_release_tooling():
    shipped = contents.grader_files()
    assert {"grader/sandbox/worker.py", "grader/cli.py", "grader/sandbox/__init__.py", "grader/data_checksums.txt"} <= set(shipped)
    assert not [f for f in shipped if f.startswith("grader/release") or "release_" in f
                or f in ("grader/integrations/gradescope.py", "grader/integrations/otter.py")]
    assert "grader/integrations/gradescope.py" in contents.grader_files(add=["grader.integrations.gradescope"])


def test_otter_test_file_runs_the_same_check(lab):
    check = lab.check("conv_arithmetic")
    text = otter_bundle.test_file(lab, check)
    compile(text, "t.py", "exec")
    assert "run_check(env, 'cnn', 'conv_arithmetic')" in text and "hidden=False" in text


# -- the full tier --------------------------------------------------------------------

@pytest.mark.full
def test_full_release_with_every_mutant(lab, tmp_path):
    built = release_lab(lab, tmp_path / "dist", cache_dir=tmp_path / "cache", jobs=2, time_scale=TIME_SCALE)
    assert built.gates.passed and len(built.gates.mutants) == len(mutants.load(lab))


@pytest.mark.full
def test_run_autograder_gives_the_reference_full_marks(release, lab, tmp_path):
    built, _ = release
    results = _gradescope(built, tmp_path, lab.solution_file)
    assert results["score"] == 14 and all(t["status"] == "passed" for t in results["tests"])


@pytest.mark.full
def test_otter_run_gives_the_reference_full_marks(release, lab, tmp_path):
    built, _ = release
    tests = _otter_run(built.files["otter-autograder"].path,
                       notebooks.otter_notebook(lab, lab.solution_file.read_text()), tmp_path)
    assert sum(t["score"] for t in tests.values()) == 14


@pytest.mark.full
def test_student_notebook_runs_end_to_end_on_the_reference(release, tmp_path):
    built, _ = release
    folder = unzip(built.files["student"].path, tmp_path) / "cnn"
    shutil.copy(built.lab.solution_file, folder / "cnn.py")
    proc = subprocess.run([str(Path(PYTHON).with_name("jupyter")), "nbconvert", "--to", "notebook", "--execute",
                           "--output", "executed.ipynb", "cnn.ipynb"], cwd=folder, env=_env(),
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    executed = Bundle({"cnn/cnn.ipynb": (folder / "executed.ipynb").read_bytes()})
    assert leaks.LeakScanner(built.lab).scan(executed, "executed notebook") == []


GRADESCOPE_ATTACK = '''
import os as _os, pathlib as _pathlib
_escaped = []
for _target in ["{AG}/results/results.json", "{AG}/source/grader/checks/judges.py", "{AG}/source/run_autograder"]:
    try:
        with open(_target, "a") as _fh:
            _fh.write("")
        _escaped.append("wrote " + _target)
    except OSError:
        pass
for _target in ["{AG}/source/assignments/cnn/checks/hidden.py", "{AG}/source/assignments/cnn/fixtures/hidden.json",
                "{AG}/source/.dlkit/salt", "{AG}/source/assignments/cnn/lab.toml", "{AG}/results"]:
    try:
        _path = _pathlib.Path(_target)
        _path.read_text() if not _path.is_dir() else _os.listdir(_path)
        _escaped.append("read " + _target)
    except OSError:
        pass
if _escaped:
    raise RuntimeError("ESCAPED: " + "; ".join(_escaped))
'''


def test_run_autograder_keeps_the_student_away_from_results_grader_and_hidden_files(release, lab, tmp_path,
                                                                                     monkeypatch):
    """Gradescope runs as root in a container that usually refuses namespaces:
    there the kit runs the student's code as an unprivileged user id (the
    ``uid`` level, forced here), which can neither forge the results, patch
    the grader nor read its hidden files. The submission is the reference
    plus those attempts: full marks means every attempt was refused."""
    if os.geteuid() != 0:
        pytest.skip("the uid level needs root")
    built, _ = release
    sub = tmp_path / "cnn.py"
    sub.write_text(lab.solution_file.read_text() + GRADESCOPE_ATTACK.format(AG=tmp_path / "autograder"))
    monkeypatch.setenv("DLKIT_ISOLATION", "uid")
    results = _gradescope(built, tmp_path, sub)
    assert results["extra_data"]["isolation"] == "uid"
    # Only the study, whose table this submission does not hand in, is lost.
    short = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert results["score"] == pytest.approx(results["extra_data"]["max_score"] - lab.study.points), \
        [t["output"] for t in short][:2]
    assert len(short) == 1 and "no study.csv handed in" in short[0]["output"]
