"""Where the kit lives must not matter: a checkout under ``/tmp``, in a
folder whose name has a space, with its virtual environment inside it,
grades with the strongest sandbox the machine allows (the ``/tmp`` of the
jail used to hide such an interpreter, and grading fell back to no
isolation at all), and the kit's hidden files stay out of reach there.

The copy holds the grader, the CNN lab and the hostile corpus's
``read_hidden`` attack; its ``.venv`` is a real virtual environment whose
packages come from the kit's own (a ``.pth`` file), so nothing is
downloaded."""

import csv
import os
import shutil
import site
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from grader.labs.lab import Lab
from grader.sandbox import supported

ROOT = Lab.load("cnn").root


@pytest.fixture(scope="module")
def checkout():
    if supported()[0] == "process":
        pytest.skip("no sandbox on this machine")
    top = Path(f"/tmp/dlkit checkout {uuid.uuid4().hex[:8]}")
    ignore = shutil.ignore_patterns("__pycache__", "hidden.json", "hidden.npz", "hidden.key", ".lock")
    for part in ("grader", "assignments/cnn", "solutions/cnn", "starter/cnn"):
        shutil.copytree(ROOT / part, top / part, ignore=ignore)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(top / ".venv")], check=True)
    packages = next((top / ".venv" / "lib").glob("python3*/site-packages"))
    (packages / "dlkit-packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    yield top
    shutil.rmtree(top, ignore_errors=True)


def test_grades_from_a_checkout_under_tmp_with_a_space(checkout, tmp_path):
    subs = checkout / "submissions"
    (subs / "honest").mkdir(parents=True)
    shutil.copy(checkout / "solutions" / "cnn" / "cnn.py", subs / "honest" / "cnn.py")
    attack = (ROOT / "tests" / "sandbox" / "hostile" / "read_hidden.py.in").read_text().replace("{{REPO}}", str(checkout))
    (subs / "snooper").mkdir()
    (subs / "snooper" / "cnn.py").write_text((checkout / "starter" / "cnn" / "cnn.py").read_text() + "\n" + attack)
    out = checkout / "grades out"
    env = {k: v for k, v in os.environ.items() if k not in ("DLKIT_ROOT", "PYTHONPATH", "DLKIT_ISOLATION")}
    proc = subprocess.run([str(checkout / ".venv" / "bin" / "python"), "-m", "grader", "grade", "cnn", str(subs),
                           "-o", str(out), "--only", "conv_arithmetic", "avg_pool", "--no-progress"],
                          cwd=checkout, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"sandbox: {supported()[0]}" in proc.stderr, proc.stderr[-2000:]
    rows = {r["id"]: r for r in csv.DictReader((out / "grades.csv").open(encoding="utf-8-sig"))}
    assert float(rows["honest"]["total"]) == float(rows["honest"]["max_total"]) > 0, rows["honest"]
    assert float(rows["snooper"]["total"]) == 0
    import json

    record = json.loads((out / "snooper" / "result.json").read_text())
    output = record["info"]["output"]
    assert "READ" not in output and "blocked" in output, output[-2000:]
