"""What goes into a bundle: the ``grader`` package (less the release
tooling), a lab's public or private files, and pinned requirements.

Every bundle carries the whole ``grader`` package but the release tooling
(``grader.release``, and ``grader.integrations.otter`` / ``grader.integrations.gradescope``
except in the bundles that run them). The package holds no lab's secrets,
and parts of it are started by file name rather than imported (the sandbox
runs ``grader/sandbox/worker.py`` and ``grader/sandbox/jail.py``), so leaving modules out by
following imports would break grading in a bundle.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib.metadata
import re
import tomllib
from pathlib import Path
from typing import Iterable

from grader.labs.anatomy import SHIPPED_CHECK_FILES, TRUSTED_CHECK_FILES
from grader.checks.check import PUBLIC
from grader.labs.lab import Lab, repo_root

#: The folder of the package this tooling ships.
PACKAGE_DIR = Path(__file__).resolve().parent.parent

#: Modules (and packages) of the release tooling: never in a student bundle.
#: ``grader.integrations.otter`` and ``.gradescope`` are added explicitly to the
#: bundles that run them; the kit's own quality tooling (``grader.quality``:
#: tracing, mutation testing) ships in none.
RELEASE_ONLY = ("grader.release", "grader.integrations.otter", "grader.integrations.gradescope", "grader.quality")

#: Instructor-only packages left out of students' requirements.
INSTRUCTOR_ONLY_REQUIREMENTS = {"otter-grader"}
#: Installer tooling that some packages declare; pip brings its own.
INSTALLER_TOOLING = {"pip", "setuptools", "wheel"}


# -- the grader package ---------------------------------------------------------

def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def is_release_only(module: str) -> bool:
    """Whether ``module`` (dotted) is, or lies in, one of :data:`RELEASE_ONLY`."""
    return any(module == m or module.startswith(m + ".") for m in RELEASE_ONLY)


def grader_files(add: Iterable[str] = ()) -> dict[str, Path]:
    """``grader/...`` archive path → file for every module of the package and
    its data files (checksums, report templates), without the release
    tooling and its templates unless a module is named in ``add``."""
    wanted = set(add)
    files = {}
    for path in sorted(PACKAGE_DIR.rglob("*")):
        rel = path.relative_to(PACKAGE_DIR.parent).as_posix()
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        if path.name.startswith("release_") and path.parent.name == "templates":
            continue
        if path.is_relative_to(PACKAGE_DIR / "release"):
            continue
        if path.suffix == ".py":
            name = _module_name(path)
            if is_release_only(name) and name not in wanted:
                continue
        files[rel] = path
    return files


# -- a lab's files ------------------------------------------------------------

def public_lab_files(lab: Lab) -> dict[str, Path]:
    """Files of ``assignments/<lab>`` a student may see, by path relative to
    that folder: the shipped check files (:data:`grader.labs.anatomy.SHIPPED_CHECK_FILES`),
    public fixtures, and any ``[release] student_files`` that ``lab.toml``
    lists. ``lab.toml`` itself is added sanitised (:func:`student_lab_toml`).
    What ships follows from the anatomy; a shipped check file that imports a
    trusted one is an error."""
    folder = lab.assignment_dir / "checks"
    files = {f"checks/{name}": folder / name for name in SHIPPED_CHECK_FILES if (folder / name).is_file()}
    for rel, path in files.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                targets = [node.module] if node.module else [a.name for a in node.names]
                bad = [t for t in targets if f"{t.split('.')[0]}.py" in TRUSTED_CHECK_FILES]
                if bad:
                    raise ValueError(f"{lab.id}: {rel} imports checks/{bad[0]}.py, which never ships")
    for path in sorted(lab.fixtures_dir.glob("public.*")):
        files[f"fixtures/{path.name}"] = path
    for rel in lab.meta.get("release", {}).get("student_files", []):
        path = lab.assignment_dir / rel
        if not path.is_file():
            raise FileNotFoundError(f"{lab.id}: lab.toml lists student file {rel}, which does not exist")
        files[Path(rel).as_posix()] = path
    return files


#: Files of a lab folder that grading never needs.
NOT_FOR_GRADING = {"README.md", "README.zh.md", "notebook.py", "mutants.toml"}


def grading_lab_files(lab: Lab) -> dict[str, Path]:
    """Files of ``assignments/<lab>`` an autograder needs: everything (checks,
    fixtures, labels, any data the checks read) but the handouts, the
    notebook source and the mutants."""
    files = {}
    for path in sorted(lab.assignment_dir.rglob("*")):
        rel = path.relative_to(lab.assignment_dir).as_posix()
        if path.is_file() and "__pycache__" not in path.parts and rel not in NOT_FOR_GRADING \
                and path.name != ".lock":
            files[rel] = path
    return files


def student_lab_toml(lab: Lab) -> str:
    """``lab.toml`` for students: comments dropped, and of the per-check
    tables only the public checks' (``[checks.<name>]``): a hidden check's
    settings, seeds and very name stay with the graders, by structure."""
    public = {c.name for c in lab.checks(PUBLIC)}
    meta = {k: v for k, v in lab.meta.items() if k != "checks"}
    kept = {name: table for name, table in lab.meta.get("checks", {}).items() if name in public}
    if kept:
        meta["checks"] = kept
    header = f"# {lab.id}: lab metadata for students (generated by `grader release` from lab.toml)\n"
    return header + dump_toml(meta)


def dump_toml(data: dict) -> str:
    """A small TOML writer for lab metadata (strings, numbers, booleans,
    arrays of them, nested tables); enough to round-trip ``lab.toml``."""
    lines: list[str] = []

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return _quote(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{_key(k)} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(f"cannot write {type(v).__name__} to TOML")

    def table(d: dict, path: tuple[str, ...]) -> None:
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict)}
        if path and (scalars or not d):
            lines.append("")
            lines.append("[" + ".".join(_key(p) for p in path) + "]")
        for k, v in scalars.items():
            lines.append(f"{_key(k)} = {value(v)}")
        for k, v in d.items():
            if isinstance(v, dict):
                table(v, path + (k,))

    table(data, ())
    text = "\n".join(lines).strip("\n") + "\n"
    assert tomllib.loads(text) == data, "TOML round-trip failed"
    return text


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _quote(k)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# -- requirements ---------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Platform:
    """A platform a bundle installs on: how ``requirements.txt`` names it (a
    PEP 508 marker) and the marker values pip sees there."""

    name: str
    marker: str
    environment: dict[str, str]


_CPYTHON_311 = {"python_version": "3.11", "python_full_version": "3.11.9", "implementation_name": "cpython",
                "platform_python_implementation": "CPython"}


def _platform(name: str, marker: str, **env: str) -> Platform:
    return Platform(name, marker, {**_CPYTHON_311, **env})


LINUX_X86_64 = _platform("Linux x86-64", 'sys_platform == "linux" and platform_machine == "x86_64"',
                         sys_platform="linux", platform_system="Linux", platform_machine="x86_64", os_name="posix")
# Any other Linux machine is sent to the ``tensorflow`` wheels: aarch64 has them, and
# elsewhere pip then stops with "no matching distribution" rather than install half.
LINUX_AARCH64 = _platform("Linux aarch64", 'sys_platform == "linux" and platform_machine != "x86_64"',
                          sys_platform="linux", platform_system="Linux", platform_machine="aarch64", os_name="posix")
WINDOWS = _platform("Windows x86-64", 'sys_platform == "win32"',
                    sys_platform="win32", platform_system="Windows", platform_machine="AMD64", os_name="nt")
MACOS_ARM64 = _platform("macOS on Apple silicon", 'sys_platform == "darwin"',
                        sys_platform="darwin", platform_system="Darwin", platform_machine="arm64", os_name="posix")
#: Intel Macs read the macOS lines too, but TensorFlow 2.21 has no wheel for them:
#: pip stops before installing anything. Students there use a hosted notebook.
MACOS_INTEL = _platform("macOS on Intel", 'sys_platform == "darwin"',
                        sys_platform="darwin", platform_system="Darwin", platform_machine="x86_64", os_name="posix")

#: Where students install a student bundle. One ``requirements.txt`` serves them all.
STUDENT_PLATFORMS = (LINUX_X86_64, LINUX_AARCH64, WINDOWS, MACOS_ARM64)
#: The grading images (Gradescope's, otter's): Linux on x86-64.
GRADING_PLATFORMS = (LINUX_X86_64,)

#: Packages that have no wheel for some platforms, and the package of the same
#: version and the same dependencies that replaces them there: ``tensorflow-cpu``
#: is built for x86-64 Linux and Windows only; ``tensorflow`` (CPU-only on these
#: platforms) also for Apple-silicon macOS and aarch64 Linux.
REPLACED_ON = {"tensorflow-cpu": ("tensorflow", (LINUX_AARCH64.name, MACOS_ARM64.name))}

#: What a student on an Intel Mac is told (the bundle's docs say the same).
INTEL_MAC_NOTE = ("TensorFlow 2.21 has no build for Intel Macs: there, use a hosted notebook "
                  "(Google Colab) or a Linux machine of the course.")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _lock() -> dict[str, str]:
    """``canonical name -> "Name==version"`` from ``requirements.lock`` (a
    line's marker says where the kit itself needs it, not the pin)."""
    from packaging.requirements import Requirement

    path = repo_root() / "requirements.lock"
    pins = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                req = Requirement(line)
                pins[_canonical(req.name)] = f"{req.name}{req.specifier}"
    return pins


def project_dependencies() -> list[str]:
    """The ``[project] dependencies`` of ``pyproject.toml`` (exact pins)."""
    with (repo_root() / "pyproject.toml").open("rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


@functools.cache
def _requires(name: str) -> tuple:
    """The installed metadata's dependencies of ``name`` (parsed
    ``Requirement`` objects); a replacement (:data:`REPLACED_ON`) has those of
    the package it replaces.

    Cached: each lookup walks every ``sys.path`` entry, and a process that has
    graded many submissions in-process has many, while installed metadata does
    not change under a running process."""
    from packaging.requirements import Requirement

    originals = {new: old for old, (new, _) in REPLACED_ON.items()}
    try:
        found = importlib.metadata.requires(name)
    except importlib.metadata.PackageNotFoundError:
        if _canonical(name) not in originals:
            raise
        found = importlib.metadata.requires(originals[_canonical(name)])
    return tuple(Requirement(d) for d in found or ())


def pinned_requirements(roots: Iterable[str], platform: Platform | None = None) -> list[str]:
    """Exact pins for ``roots`` and everything they depend on, on ``platform``
    (default: this machine).

    Versions come from ``requirements.lock`` (the set the kit is tested with);
    the dependency graph from the installed packages' metadata, its markers
    evaluated for ``platform``. A package missing from the lock keeps the pin
    written in ``roots``.
    """
    from packaging.requirements import Requirement

    env = dict(platform.environment) if platform else {}
    lock = _lock()
    out: dict[str, str] = {}
    done: set[tuple[str, str]] = set()
    todo = [Requirement(r) for r in roots]
    while todo:
        req = todo.pop()
        name = _canonical(req.name)
        if name in INSTALLER_TOOLING:
            continue
        out[name] = lock.get(name) or out.get(name) or str(req).split(";")[0].strip()
        try:
            requires = _requires(req.name)
        except importlib.metadata.PackageNotFoundError:
            continue
        for extra in ["", *sorted(req.extras)]:
            if (name, extra) in done:
                continue
            done.add((name, extra))
            for dep in requires:
                base = dep.marker is None or dep.marker.evaluate({**env, "extra": ""})
                wanted = base if not extra else (not base and dep.marker.evaluate({**env, "extra": extra}))
                if wanted:
                    todo.append(dep)
    return [out[k] for k in sorted(out)]


def platform_roots(roots: Iterable[str], platform: Platform) -> list[str]:
    """``roots`` with the packages :data:`REPLACED_ON` ``platform`` replaced."""
    out = []
    for spec in roots:
        name = _canonical(_dist_name(spec))
        new, where = REPLACED_ON.get(name, (None, ()))
        out.append(new + spec[len(_dist_name(spec)):] if platform.name in where else spec)
    return out


def _marker(platforms: Iterable[Platform]) -> str:
    names = [p.name for p in platforms]
    if LINUX_X86_64.name in names and LINUX_AARCH64.name in names:  # one condition for both
        names = [n for n in names if n != LINUX_AARCH64.name]
        conditions = ['sys_platform == "linux"' if n == LINUX_X86_64.name else _by_name(n).marker for n in names]
    else:
        conditions = [_by_name(n).marker for n in names]
    if len(conditions) == 1:
        return conditions[0]
    return " or ".join(f"({c})" if " and " in c else c for c in conditions)


def _by_name(name: str) -> Platform:
    return next(p for p in (*STUDENT_PLATFORMS, MACOS_INTEL) if p.name == name)


def requirement_lines(roots: Iterable[str], platforms: Iterable[Platform] = STUDENT_PLATFORMS) -> list[str]:
    """``requirements.txt`` lines that install the pinned closure of ``roots``
    on each of ``platforms`` with one command: a pin every platform needs is a
    plain line, one that only some need carries a PEP 508 marker naming them.
    With a single platform, plain pins (an image knows where it runs)."""
    platforms = tuple(platforms)
    where: dict[str, list[Platform]] = {}
    for platform in platforms:
        for pin in pinned_requirements(platform_roots(roots, platform), platform):
            where.setdefault(pin, []).append(platform)
    lines = []
    for pin in sorted(where, key=lambda p: (_canonical(_dist_name(p)), p)):
        on = where[pin]
        lines.append(pin if len(on) == len(platforms) else f"{pin}; {_marker(on)}")
    return lines


def student_requirements(*, otter: bool = False, platforms: Iterable[Platform] = STUDENT_PLATFORMS) -> list[str]:
    """Requirement lines for a bundle: the kit's dependencies but the
    instructor-only ones (``otter`` adds otter-grader back, for the otter
    bundle), for ``platforms`` (:func:`requirement_lines`)."""
    roots = [r for r in project_dependencies()
             if otter or _canonical(_dist_name(r)) not in INSTRUCTOR_ONLY_REQUIREMENTS]
    return requirement_lines(roots, platforms)


def _dist_name(spec: str) -> str:
    return re.split(r"[\[=<>!~; ]", spec, maxsplit=1)[0]


#: The last line of a student bundle's ``requirements.txt``: the bundle itself,
#: so that its ``grader`` command exists (``pyproject.toml`` of the bundle).
#: pip reads the path from the folder it runs in: the bundle's, as the docs say.
INSTALL_BUNDLE = "-e ."


def requirements_text(lines: list[str], purpose: str, *, platforms: Iterable[Platform] = STUDENT_PLATFORMS,
                      install_bundle: bool = False) -> str:
    """``requirements.txt``: a header saying what it is for and where it
    installs, then ``lines`` (and :data:`INSTALL_BUNDLE` when asked)."""
    names = [p.name for p in platforms]
    where = (f"# Installs on {', '.join(names[:-1])} and {names[-1]}." if len(names) > 1
             else f"# For {names[0]}.")
    header = [f"# Pinned packages for {purpose} (generated by `grader release` from requirements.lock).",
              "# Install with: python -m pip install -r requirements.txt   (Python 3.11"
              + (", in this folder)" if install_bundle else ")"),
              where]
    if MACOS_ARM64.name in names:
        header.append(f"# {INTEL_MAC_NOTE}")
    tail = [f"# This folder itself, for the `grader` command:", INSTALL_BUNDLE] if install_bundle else []
    return "\n".join(header + lines + tail) + "\n"


def student_pyproject(lab: Lab) -> str:
    """``pyproject.toml`` of a student bundle: it declares the ``grader``
    command and the bundle's copy of the ``grader`` package, nothing else
    (``requirements.txt`` pins the dependencies). Every lab's bundle is the
    same project, so installing the next lab's bundle replaces the last one
    instead of adding a second ``grader`` package."""
    return (f"# The {lab.id} bundle as an installable project (generated by `grader release`):\n"
            "# `python -m pip install -r requirements.txt` installs it, editable, for the `grader` command.\n"
            + dump_toml({
                "build-system": {"requires": ["setuptools>=64"], "build-backend": "setuptools.build_meta"},
                "project": {"name": STUDENT_PROJECT, "version": "1", "requires-python": ">=3.11",
                            "dependencies": [], "scripts": {"grader": "grader.cli:main"}},
                "tool": {"setuptools": {"packages": {"find": {"include": ["grader", "grader.*"]}},
                                        "package-data": {"grader": ["templates/*", "*.txt"]}}},
            }))


#: The project name of every student bundle (see :func:`student_pyproject`).
STUDENT_PROJECT = "dlkit-student-bundle"
