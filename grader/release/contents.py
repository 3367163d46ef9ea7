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

def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _lock() -> dict[str, str]:
    """``canonical name -> "Name==version"`` from ``requirements.lock``."""
    path = repo_root() / "requirements.lock"
    pins = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                pins[_canonical(line.split("==")[0].split("[")[0])] = line
    return pins


def project_dependencies() -> list[str]:
    """The ``[project] dependencies`` of ``pyproject.toml`` (exact pins)."""
    with (repo_root() / "pyproject.toml").open("rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def pinned_requirements(roots: Iterable[str]) -> list[str]:
    """Exact pins for ``roots`` and everything they depend on.

    Versions come from ``requirements.lock`` (the set the kit is tested with);
    the dependency graph from the installed packages' metadata. A package
    missing from the lock keeps the pin written in ``roots``.
    """
    from packaging.requirements import Requirement

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
            requires = [Requirement(d) for d in importlib.metadata.requires(req.name) or []]
        except importlib.metadata.PackageNotFoundError:
            continue
        for extra in ["", *sorted(req.extras)]:
            if (name, extra) in done:
                continue
            done.add((name, extra))
            for dep in requires:
                base = dep.marker is None or dep.marker.evaluate({"extra": ""})
                wanted = base if not extra else (not base and dep.marker.evaluate({"extra": extra}))
                if wanted:
                    todo.append(dep)
    return [out[k] for k in sorted(out)]


def student_requirements(*, otter: bool = False) -> list[str]:
    """Pins for a student bundle: the kit's dependencies but the instructor-only
    ones (``otter`` adds otter-grader back, for the otter bundle)."""
    roots = [r for r in project_dependencies()
             if otter or _canonical(_dist_name(r)) not in INSTRUCTOR_ONLY_REQUIREMENTS]
    return pinned_requirements(roots)


def _dist_name(spec: str) -> str:
    return re.split(r"[\[=<>!~; ]", spec, maxsplit=1)[0]


def requirements_text(pins: list[str], purpose: str) -> str:
    return (f"# Pinned packages for {purpose} (generated by `grader release` from requirements.lock).\n"
            "# Install with: python -m pip install -r requirements.txt   (Python 3.11)\n"
            + "\n".join(pins) + "\n")
