"""Batch grading through the command line (grader.core.batch, `grader grade`):
Ctrl-C stops cleanly, `kill -9` loses nothing finished, a rerun grades only
what is missing, and the reports end with exactly one row per submission,
the roster's missing and unknown students flagged."""

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import psutil
import pytest

from grader.labs.lab import Lab, repo_root

CLI = [sys.executable, "-c", "import sys; from grader.cli import main; sys.exit(main(sys.argv[1:]))", "grade", "cnn"]


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    """Four students (a folder, a .py, a notebook, a folder with its file one
    level down) and a roster that lists three of them and one who did not submit."""
    lab = Lab.load("cnn")
    root = tmp_path_factory.mktemp("inbox")
    (root / "PB01").mkdir()
    shutil.copy(lab.solution_file, root / "PB01" / "cnn.py")
    shutil.copy(lab.starter_file, root / "PB02.py")
    source = lab.solution_file.read_text().replace("return f * f * d_in * k + (k if bias else 0)",
                                                   "return f * f * d_in * k")
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
              "source": ["%load_ext autoreload\n", source]}]
    (root / "PB03.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (root / "zed" / "lab1").mkdir(parents=True)
    shutil.copy(lab.solution_file, root / "zed" / "lab1" / "cnn.py")
    roster = root.parent / "roster.csv"
    roster.write_text("student_id,name\nPB01,Ann\nPB02,Ben\nPB03,Cai\nPB04,Dora\n")
    return root, roster


def run_cli(out, inbox, *extra, wait=True):
    root, roster = inbox
    cmd = CLI + [str(root), "-o", str(out), "-j", "1", "--roster", str(roster), "--only", "conv_arithmetic",
                 "--no-progress", *extra]
    # A TA's shell starts the grader with Ctrl-C at its default; an earlier test
    # in this process may have left SIGINT ignored, which a child would inherit.
    proc = subprocess.Popen(cmd, cwd=repo_root(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    if wait:
        stdout, stderr = proc.communicate(timeout=600)
        return proc.returncode, stdout, stderr
    return proc


def finished(out):
    return {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/result.json")}


def wait_for(condition, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def sandboxes_under(out):
    """Processes still running with a working folder inside ``out`` (the sandboxes' wrappers)."""
    found = []
    for proc in psutil.process_iter(["cwd"]):
        cwd = proc.info.get("cwd") or ""
        if cwd.startswith(str(out)):
            found.append(proc.pid)
    return found


def test_interrupt_kill_and_resume(tmp_path, inbox):
    out = tmp_path / "grades"

    # 1. Ctrl-C while it grades: a clean stop, partial reports, exit 130. (Sent as
    # soon as a sandbox runs: waiting for a finished submission let a fast batch
    # finish all four before the signal arrived.)
    proc = run_cli(out, inbox, wait=False)
    assert wait_for(lambda: sandboxes_under(out) or finished(out)), proc.communicate()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "run the same command again" in stderr
    first = finished(out)
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8-sig"))))
    assert {r["status"] for r in rows} <= {"graded", "not graded", "missing"}
    assert wait_for(lambda: not sandboxes_under(out), 30)

    # 2. kill -9 of the whole batch while it grades: what finished stays finished.
    proc = run_cli(out, inbox, wait=False)
    assert wait_for(lambda: len(finished(out)) > len(first)), proc.communicate()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    second = finished(out)
    assert all(second[k] == v for k, v in first.items())
    assert wait_for(lambda: not sandboxes_under(out), 30), "a sandbox outlived the killed batch"

    # 3. The same command again grades only what is missing.
    code, stdout, stderr = run_cli(out, inbox)
    assert code == 0, stderr
    third = finished(out)
    assert all(third[k] == v for k, v in second.items()), "a finished submission was graded again"
    assert set(third) == {"PB01", "PB02", "PB03", "zed"}
    assert f"{4 - len(second)} graded now, {len(second)} kept from an earlier run" in stdout

    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8-sig"))))
    assert [r["id"] for r in rows] == ["PB01", "PB02", "PB03", "zed", "PB04"]
    by = {r["id"]: r for r in rows}
    assert by["PB01"]["name"] == "Ann" and by["PB01"]["total"] == "1" and by["PB01"]["roster"] == "listed"
    assert by["PB02"]["total"] == "0"
    assert 0 < float(by["PB03"]["total"]) < 1 and "autoreload" in by["PB03"]["note"]  # its bug costs the LeNet part
    assert by["zed"]["roster"] == "not on roster" and by["zed"]["total"] == "1"
    assert by["PB04"]["status"] == "missing" and by["PB04"]["name"] == "Dora"
    lines = (out / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["PB01", "PB02", "PB03", "zed", "PB04"]
    summary = (out / "summary.html").read_text()
    assert "Dora" in summary and "zed" in summary
    for sid in ("PB01", "PB02", "PB03", "zed"):
        assert {p.name for p in (out / sid).iterdir()} >= {"feedback.md", "feedback.html", "gradescope-results.json",
                                                            "result.json"}


@pytest.fixture(scope="module")
def slow_class(tmp_path_factory):
    """Three submissions that take a few seconds each (they sleep while being
    imported), one with a syntax error, one importing a missing package; a
    roster with the students' names in Chinese."""
    lab = Lab.load("cnn")
    root = tmp_path_factory.mktemp("slow")
    solution = lab.solution_file.read_text()
    for sid in ("PA1", "PA2", "PA3"):
        (root / sid).mkdir()
        (root / sid / "cnn.py").write_text("import time\ntime.sleep(4)\n" + solution)
    (root / "PA4").mkdir()
    (root / "PA4" / "cnn.py").write_text(solution.replace("def ", "def broken(:\n    pass\n\n\ndef ", 1))
    (root / "PA5").mkdir()
    (root / "PA5" / "cnn.py").write_text("import nonexistent_mod_for_the_test\n" + solution)
    roster = root.parent / "slow-roster.csv"
    roster.write_text("student_id,name\nPA1,张伟\nPA2,李娜\nPA3,王芳\nPA4,刘洋\nPA5,陈静\n", encoding="utf-8")
    return root, roster


def workers(proc):
    """The grader's sandboxes (every process below it), once one runs a worker."""
    try:
        below = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    running = any("grader.sandbox.worker" in " ".join(p.cmdline()) for p in below if p.is_running())
    return below if running else []


def test_statuses_csv_and_a_killed_regrade_resumes(tmp_path, slow_class):
    out = tmp_path / "grades"

    # 1. A whole run: the files that cannot be imported say why, in grades.csv (which Excel reads).
    code, stdout, stderr = run_cli(out, slow_class)
    assert code == 0, stderr
    data = (out / "grades.csv").read_bytes()
    assert data[:3] == b"\xef\xbb\xbf"
    by = {r["id"]: r for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))}
    assert [by[s]["status"] for s in ("PA1", "PA2", "PA3", "PA4", "PA5")] == \
        ["graded", "graded", "graded", "syntax error", "import error"]
    assert by["PA1"]["name"] == "张伟" and by["PA1"]["total"] == "1" and by["PA4"]["total"] == "0"
    assert "SyntaxError" in by["PA4"]["note"] and "nonexistent_mod_for_the_test" in by["PA5"]["note"]
    first = finished(out)
    assert len(first) == 5

    # 2. A regrade, killed (kill -9 of the grader alone) while it grades: its
    # sandboxes die with it, and its work folders stay behind.
    proc = run_cli(out, slow_class, "--regrade", wait=False)
    redone = lambda: {k for k, v in finished(out).items() if v != first[k]}  # noqa: E731
    assert wait_for(lambda: redone() and workers(proc)), proc.communicate()
    below = workers(proc)
    left = set((out / ".work").glob("dlkit-*"))
    assert left
    proc.kill()
    proc.wait()
    gone, alive = psutil.wait_procs(below, timeout=2)
    assert not alive, f"outlived the killed grader: {[p.pid for p in alive]}"
    assert (out / "run.json").is_file()
    second = finished(out)
    done = redone()
    assert 0 < len(done) < 5

    # 3. The same command again: it goes on with what the regrade had not done.
    code, stdout, stderr = run_cli(out, slow_class, "--regrade")
    assert code == 0, stderr
    assert f"{5 - len(done)} graded now, {len(done)} kept from an earlier run" in stdout, stdout
    assert "continued the regrade" in stdout
    third = finished(out)
    assert all(third[k] == second[k] for k in done), "a submission the regrade had done was graded again"
    assert all(third[k] != first[k] for k in first), "a result from before the regrade was kept"
    assert not (out / "run.json").exists()
    assert not any(p.exists() for p in left), "the killed grader's work folders were not removed"

    # 4. Finished: the next plain run keeps everything.
    code, stdout, stderr = run_cli(out, slow_class)
    assert code == 0 and "0 graded now, 5 kept from an earlier run" in stdout, stdout
