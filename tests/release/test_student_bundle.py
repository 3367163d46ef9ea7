"""The student bundle installs as its docs say, and then `grader check <lab>`
and `pytest` work in it as documented."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

from grader.labs.lab import Lab
from grader.release import bundles, contents

LAB_ID = "cnn"


@pytest.fixture(scope="module")
def lab():
    return Lab.load(LAB_ID)


@pytest.fixture(scope="module")
def folder(lab, tmp_path_factory) -> Path:
    """The student bundle, unpacked (built in memory: no gates)."""
    root = tmp_path_factory.mktemp("student")
    bundle = bundles.build(lab).student
    for rel, data in bundle.files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root / LAB_ID


def test_the_bundle_declares_the_grader_command_and_requirements_install_it(folder):
    project = tomllib.loads((folder / "pyproject.toml").read_text())
    assert project["project"]["scripts"] == {"grader": "grader.cli:main"}
    assert project["project"]["dependencies"] == []  # requirements.txt pins them
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["grader", "grader.*"]
    lines = [l for l in (folder / "requirements.txt").read_text().splitlines() if l and not l.startswith("#")]
    assert lines[-1] == contents.INSTALL_BUNDLE == "-e ."


def test_every_command_the_bundle_documents_is_the_installed_one(folder):
    """CHECKING.md, the handouts and test_public.py say `grader check <lab>`,
    the name pyproject.toml declares; the install line is the same everywhere."""
    script = next(iter(tomllib.loads((folder / "pyproject.toml").read_text())["project"]["scripts"]))
    docs = ["CHECKING.md", "README.md", "README.zh.md", "test_public.py"]
    found = []
    for name in docs:
        text = (folder / name).read_text()
        for m in re.finditer(r"(python -m )?grader check( \w+)?", text):
            found.append(m.group(0))
            assert m.group(1) is None and m.group(2) == f" {LAB_ID}", f"{name}: {m.group(0)}"
    assert script == "grader" and f"grader check {LAB_ID}" in found
    checking = (folder / "CHECKING.md").read_text()
    assert "python -m pip install -r requirements.txt" in checking
    assert "Intel Macs" in checking and "Colab" in checking


def _bundle_venv(folder: Path, tmp_path: Path) -> Path:
    """A fresh virtual environment that sees the kit's packages (so nothing is
    downloaded) and has the bundle installed as requirements.txt's last line does."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    kit_site = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "tensorflow").is_dir())
    Path(site, "kit_packages.pth").write_text(kit_site + "\n")
    # The line of requirements.txt, offline: the kit's setuptools builds it.
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                    contents.INSTALL_BUNDLE.split()[0], "."], cwd=folder, check=True, capture_output=True)
    return env_dir / "bin"


def test_grader_check_works_in_the_installed_bundle(folder, lab, tmp_path):
    bin_dir = _bundle_venv(folder, tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("DLKIT_ROOT", "PYTHONPATH", "DLKIT_DATA")}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the command silences TensorFlow itself
    quick = ["conv_arithmetic", "conv2d_forward"]
    starter = subprocess.run([bin_dir / "grader", "check", LAB_ID, "--only", *quick], cwd=folder, env=env,
                             capture_output=True, text=True, timeout=600)
    assert starter.returncode == 1, starter.stderr[-2000:]
    assert "not implemented yet" in starter.stdout and "0/2 checks passed" in starter.stdout
    assert "I0000" not in starter.stderr and "oneDNN" not in starter.stderr
    submission = tmp_path / "mine"
    submission.mkdir()
    (submission / lab.filename).write_text(lab.solution_file.read_text())
    reference = subprocess.run([bin_dir / "grader", "check", LAB_ID, str(submission / lab.filename), "--only", *quick],
                               cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert reference.returncode == 0, reference.stdout[-2000:] + reference.stderr[-2000:]
    assert "2/2 checks passed" in reference.stdout


def test_grader_check_uses_the_bundle_it_runs_in(folder, monkeypatch, capsys):
    """After another lab's bundle was installed, the command (now that bundle's
    copy) still checks this folder's lab."""
    from grader import cli

    monkeypatch.setenv("DLKIT_ROOT", str(folder.parent / "elsewhere"))
    monkeypatch.chdir(folder)
    assert cli.main(["check", LAB_ID, "--only", "conv_arithmetic"]) == 1
    assert "not implemented yet" in capsys.readouterr().out


def test_pytest_ends_with_the_public_points(folder, lab, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DLKIT_ROOT", "PYTHONPATH", "DLKIT_DATA")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-k", "conv_arithmetic or conv2d_forward"], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1
    last = proc.stdout.rstrip().splitlines()[-2:]  # just above pytest's "2 failed in 9s" line
    assert last[0] == "points: 0/2.5 (public checks)" and "2 failed" in last[1], proc.stdout[-1500:]
