"""The bundles' ``requirements.txt``: one file, one command, every platform students use.

The offline tests check the marker logic (which line applies where). The
``network`` tests ask the package index, for each platform, whether every line
that applies there has a distribution for it, and whether those pins are a
complete, consistent set by the metadata of the very distributions pip would
install there: pip evaluates markers for the interpreter it runs in, never for
``--platform``, so the markers are evaluated here for each platform and pip is
asked about that platform's list (``--no-deps``: the dependency check is made
on the metadata pip reports, which also lets the one sdist-only pin through).
They are skipped, saying why, when the index cannot be reached.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import urllib.request

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from grader.release import contents
from grader.release.contents import (GRADING_PLATFORMS, LINUX_AARCH64, LINUX_X86_64, MACOS_ARM64, MACOS_INTEL,
                                     STUDENT_PLATFORMS, WINDOWS)


def applying(lines: list[str], platform) -> dict[str, str]:
    """canonical name → pin of the ``lines`` whose marker holds on ``platform``."""
    out = {}
    for line in lines:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({**platform.environment, "extra": ""}):
            assert canonicalize_name(req.name) not in out, f"two lines for {req.name} on {platform.name}"
            out[canonicalize_name(req.name)] = f"{req.name}{req.specifier}"
    return out


@functools.cache
def student_lines(otter: bool = False) -> list[str]:
    return contents.student_requirements(otter=otter)


# -- which line applies where (offline) ---------------------------------------------

def test_tensorflow_cpu_on_x86_linux_and_windows_tensorflow_on_macos_and_aarch64():
    tf = {p.name: {n for n in applying(student_lines(), p) if n in ("tensorflow", "tensorflow-cpu")}
          for p in (*STUDENT_PLATFORMS, MACOS_INTEL)}
    assert tf == {LINUX_X86_64.name: {"tensorflow-cpu"}, WINDOWS.name: {"tensorflow-cpu"},
                  MACOS_ARM64.name: {"tensorflow"}, LINUX_AARCH64.name: {"tensorflow"},
                  MACOS_INTEL.name: {"tensorflow"}}  # no wheel there: pip stops (see the network tests)


@pytest.mark.parametrize("platform", STUDENT_PLATFORMS, ids=lambda p: p.name)
def test_each_platform_reads_exactly_its_own_closure(platform):
    want = contents.pinned_requirements(contents.platform_roots(
        [r for r in contents.project_dependencies() if not r.startswith("otter-grader")], platform), platform)
    assert sorted(applying(student_lines(), platform).values()) == sorted(want)


@pytest.mark.parametrize("otter", [False, True], ids=["student", "otter-student"])
def test_every_line_is_an_exact_pin_from_the_lock(otter):
    locked = contents._lock()
    for line in student_lines(otter):
        req = Requirement(line)
        assert locked.get(canonicalize_name(req.name)) == f"{req.name}{req.specifier}" or (
            req.name == "tensorflow" and f"tensorflow_cpu{req.specifier}" == locked["tensorflow-cpu"]), line


def test_platform_only_dependencies_carry_markers():
    lines = {Requirement(l).name: l for l in student_lines()}
    assert lines["colorama"] == 'colorama==0.4.6; sys_platform == "win32"'  # pytest's, on Windows only
    assert "colorama" not in applying(student_lines(), LINUX_X86_64)
    assert "array-record" in applying(student_lines(), LINUX_X86_64)  # tensorflow-datasets', Linux only
    assert "array-record" not in applying(student_lines(), MACOS_ARM64)
    assert "numpy" in applying(student_lines(), WINDOWS) and ";" not in lines["numpy"]


def test_grading_images_get_plain_pins_from_the_lock():
    lines = contents.student_requirements(platforms=GRADING_PLATFORMS)
    assert lines and not [l for l in lines if ";" in l]
    assert "tensorflow_cpu==2.21.0" in lines
    locked = contents._lock()
    assert all(locked[canonicalize_name(Requirement(l).name)] == l for l in lines)


def test_requirements_text_says_where_it_installs_and_installs_the_bundle_last():
    text = contents.requirements_text(student_lines(), "the cnn lab", install_bundle=True)
    assert "Intel Macs" in text and "Colab" in text
    assert text.splitlines()[-1] == "-e ."
    grading = contents.requirements_text(contents.student_requirements(platforms=GRADING_PLATFORMS), "grading",
                                         platforms=GRADING_PLATFORMS)
    assert "-e ." not in grading and "Intel" not in grading


# -- what the package index says (network) --------------------------------------------

#: pip's ``--platform`` tags per platform. pip widens a macOS tag to older macOS
#: versions itself, but not a ``manylinux_2_X`` one: every glibc from 2.17 (manylinux2014)
#: to 2.35 (Ubuntu 22.04) is listed.
WHEEL_TAGS = {
    LINUX_X86_64.name: [f"manylinux_2_{v}_x86_64" for v in range(17, 36)] + ["manylinux2014_x86_64"],
    LINUX_AARCH64.name: [f"manylinux_2_{v}_aarch64" for v in range(17, 36)] + ["manylinux2014_aarch64"],
    WINDOWS.name: ["win_amd64"],
    MACOS_ARM64.name: ["macosx_12_0_arm64"],  # TensorFlow 2.21 needs macOS 12
    MACOS_INTEL.name: ["macosx_14_0_x86_64"],
}


@functools.cache
def index_unreachable() -> str:
    """Why the package index cannot be asked ('' when it can)."""
    url = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple/").rstrip("/") + "/pip/"
    try:
        with urllib.request.urlopen(url, timeout=5):
            return ""
    except Exception as exc:  # noqa: BLE001 - any failure means: offline
        return f"the package index ({url}) cannot be reached: {exc}"


def pip_resolve(platform, pins: list[str], tmp_path) -> subprocess.CompletedProcess:
    if reason := index_unreachable():
        pytest.skip(reason)
    (tmp_path / "req.txt").write_text("\n".join(pins) + "\n")
    tags = [a for t in WHEEL_TAGS[platform.name] for a in ("--platform", t)]
    return subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps", "--quiet",
         "--target", str(tmp_path / "target"), "--python-version", platform.environment["python_full_version"], "--implementation", "cp", *tags,
         "-r", str(tmp_path / "req.txt"), "--report", "-"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})


@pytest.mark.network
@pytest.mark.parametrize("otter", [False, True], ids=["student", "otter-student"])
@pytest.mark.parametrize("platform", STUDENT_PLATFORMS, ids=lambda p: p.name)
def test_every_pin_installs_and_the_set_is_complete_on(platform, otter, tmp_path):
    pins = applying(student_lines(otter), platform)
    proc = pip_resolve(platform, sorted(pins.values()), tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    got = {canonicalize_name(i["metadata"]["name"]): i for i in report["install"]}
    assert set(got) == set(pins)
    # Every dependency, by the metadata of the distribution pip picked for this
    # platform, is pinned here at a version it accepts (pip brings setuptools itself).
    missing = []
    for name, item in got.items():
        for dep in map(Requirement, item["metadata"].get("requires_dist", [])):
            env = {**platform.environment, "extra": ""}
            extras = Requirement(pins[name]).extras | set(item.get("requested_extras") or [])
            if dep.marker is not None and not any(dep.marker.evaluate({**env, "extra": e}) for e in ["", *extras]):
                continue
            dep_name = canonicalize_name(dep.name)
            if dep_name in contents.INSTALLER_TOOLING:
                continue
            if dep_name not in got or got[dep_name]["metadata"]["version"] not in dep.specifier:
                missing.append(f"{name} needs {dep} (pinned: {pins.get(dep_name, 'nothing')})")
    assert not missing, "\n".join(missing)


@pytest.mark.network
def test_intel_macs_have_no_tensorflow_so_pip_installs_nothing(tmp_path):
    pins = applying(student_lines(), MACOS_INTEL)
    proc = pip_resolve(MACOS_INTEL, sorted(pins.values()), tmp_path)
    assert proc.returncode != 0
    assert "No matching distribution found for tensorflow==2.21.0" in proc.stderr
