"""The four bundles of a lab, assembled in memory.

============================  =====================================================
``<lab>-student.zip``         ``<lab>/``: starter, handouts, ``CHECKING.md``, the
                              notebook, ``test_public.py`` + ``pytest.ini`` +
                              ``conftest.py``, the public checks and fixtures, the
                              ``grader`` parts that checking needs,
                              ``requirements.txt`` (for every student platform) and
                              ``pyproject.toml`` (the ``grader`` command)
``<lab>-autograder.zip``      Gradescope's ``setup.sh`` + ``run_autograder`` at the
                              root, the grader, every check and fixture (hidden
                              fixtures made for the salt), the salt (``.dlkit/salt``)
``<lab>-otter-student.zip``   ``<lab>-otter/``: the otter notebook, public otter
                              tests, public checks and fixtures, the grader parts
``<lab>-otter-autograder.zip``  made by ``otter generate``: all otter tests, the
                              grader and every check and fixture as support files
============================  =====================================================

A lab may list data (groups or files of ``grader/data_checksums.txt``) in
``lab.toml`` as ``[release] data = ["planetoid"]``; they ship in
``shared/data/`` of every bundle, where :mod:`grader.data` finds them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from grader import templates
from grader.labs import fixtures, salt as salt_file
from grader.checks.check import HIDDEN, PUBLIC
from grader.data import DataError, data_sets
from grader.labs.lab import Lab
from grader.release import contents, leaks, notebooks, otter_bundle
from grader.release.archive import Bundle

#: Python of the grading images (Gradescope's and otter's): the version the kit is tested on.
PYTHON_VERSION = otter_bundle.PYTHON_VERSION
#: Where bundled data go: grader.data looks in <kit root>/shared/data.
DATA_PREFIX = "shared/data"


def render(template: str, **context) -> str:
    """``grader/templates/release_<template>.j2`` rendered with ``context``."""
    return templates.render(f"release_{template}.j2", **context)


@dataclasses.dataclass
class LabBundles:
    """Everything built for one lab, plus what the build noticed."""

    student: Bundle
    autograder: Bundle
    otter_student: Bundle
    otter_autograder: Bundle
    notes: list[str]

    def items(self) -> list[tuple[str, Bundle]]:
        return [("student", self.student), ("autograder", self.autograder),
                ("otter-student", self.otter_student), ("otter-autograder", self.otter_autograder)]

    @property
    def for_students(self) -> list[tuple[str, Bundle]]:
        return [("student", self.student), ("otter-student", self.otter_student)]


def zip_name(lab: Lab, kind: str) -> str:
    return f"{lab.id}-{kind}.zip"


def data_files(lab: Lab) -> dict[str, Path]:
    """``shared/data/<file>`` → path for the data ``lab.toml`` lists, checksums verified."""
    try:
        found = data_sets(lab.meta.get("release", {}).get("data", []))
    except DataError as exc:
        raise FileNotFoundError(f"{lab.id}: lab.toml [release] data: {exc}") from None
    return {f"{DATA_PREFIX}/{name}": path for name, path in found.items()}


#: What a student's copy of a handout says instead of a hidden check's name.
HIDDEN_LABEL = {"README.md": "hidden check", "README.zh.md": "隐藏检查"}


def student_handout(lab: Lab, text: str, name: str) -> tuple[str, list[str]]:
    """A handout as students get it: hidden check names (which must not reach
    a student bundle) replaced by a neutral label; the rest is untouched.
    Returns the text and the names replaced."""
    pattern = leaks.hidden_name_pattern(lab)
    if pattern is None:
        return text, []
    replaced = sorted(set(pattern.findall(text)))
    return pattern.sub(HIDDEN_LABEL.get(name, "hidden check"), text), replaced


def _add_lab(bundle: Bundle, prefix: str, lab: Lab, files: dict[str, Path], lab_toml: str | None = None) -> None:
    base = f"{prefix}assignments/{lab.id}"
    if lab_toml is not None:
        bundle.add(f"{base}/lab.toml", lab_toml)
    for rel, path in sorted(files.items()):
        if rel == "lab.toml" and lab_toml is not None:
            continue
        bundle.add(f"{base}/{rel}", path.read_bytes())


def _add_files(bundle: Bundle, prefix: str, files: dict[str, Path]) -> None:
    for rel, path in sorted(files.items()):
        bundle.add(f"{prefix}{rel}", path.read_bytes())


def build(lab: Lab) -> LabBundles:
    """Assemble the four bundles of ``lab`` (nothing is written)."""
    notes: list[str] = []
    public, hidden = lab.checks(PUBLIC), lab.checks(HIDDEN)
    if lab.salt is None:
        raise ValueError(f"{lab.id}: no salt (.dlkit/salt) to release with")
    fixtures.ensure(lab)  # hidden fixtures for this checkout's salt, which the autograders carry
    secret = {salt_file.path(Path("")).as_posix(): lab.salt.hex() + "\n"}
    public_files = contents.public_lab_files(lab)
    grading_files = contents.grading_lab_files(lab)
    student_toml = contents.student_lab_toml(lab)
    data = data_files(lab)
    student_grader = contents.grader_files()
    starter = {p.relative_to(lab.starter_dir).as_posix(): p for p in sorted(lab.starter_dir.rglob("*"))
               if p.is_file() and "__pycache__" not in p.parts}
    title_zh = lab.meta.get("title_zh", "")
    common = dict(lab_id=lab.id, title=lab.title, title_zh=title_zh, points=f"{lab.points:g}",
                  filename=lab.filename, module=lab.module, python_version=PYTHON_VERSION,
                  cpu_budget=f"{lab.cpu_budget:g}", data=sorted(lab.meta.get("release", {}).get("data", [])))

    # -- the student bundle ----------------------------------------------------
    s = Bundle()
    top = f"{lab.id}/"
    _add_files(s, top, starter)
    handouts = [name for name in ("README.md", "README.zh.md") if (lab.assignment_dir / name).is_file()]
    for name in handouts:
        text, replaced = student_handout(lab, (lab.assignment_dir / name).read_text(), name)
        s.add(f"{top}{name}", text)
        if replaced:
            notes.append(f"{name}: the student copy says {HIDDEN_LABEL[name]!r} instead of the hidden check "
                         f"name(s) {', '.join(replaced)}")
    if "README.md" not in handouts:
        s.add(f"{top}README.md", render("handout_fallback.md", **common))
        notes.append(f"no assignments/{lab.id}/README.md: the student bundle has a placeholder handout")
    if "README.zh.md" not in handouts:
        notes.append(f"no assignments/{lab.id}/README.zh.md: the student bundle has no Chinese handout")
    notebook_source = lab.assignment_dir / "notebook.py"
    notebook_name = f"{lab.module}.ipynb" if notebook_source.is_file() else None
    if notebook_name:
        s.add(f"{top}{notebook_name}", notebooks.from_percent(notebook_source.read_text()))
    else:
        notes.append(f"no assignments/{lab.id}/notebook.py: the student bundle has no notebook")
    s.add(f"{top}CHECKING.md", render(
        "checking.md", **common, starter_files=sorted(starter), has_zh="README.zh.md" in handouts,
        notebook=notebook_name, first_check=public[0].name if public else "<check>",
        platforms=", ".join(pl.name for pl in contents.STUDENT_PLATFORMS), intel_mac_note=contents.INTEL_MAC_NOTE,
        public_count=len(public), public_points=f"{sum(c.points for c in public):g}",
        hidden_count=len(hidden), hidden_points=f"{sum(c.points for c in hidden):g}"))
    s.add(f"{top}test_public.py", render("test_public.py", **common))
    s.add(f"{top}pytest.ini", render("pytest.ini", **common))
    s.add(f"{top}conftest.py", render("conftest.py", **common))
    s.add(f"{top}requirements.txt", contents.requirements_text(
        contents.student_requirements(), f"the {lab.id} lab's public checks", install_bundle=True))
    s.add(f"{top}pyproject.toml", contents.student_pyproject(lab))
    _add_files(s, top, student_grader)
    _add_lab(s, top, lab, public_files, student_toml)
    _add_files(s, top, data)

    # -- the Gradescope autograder ------------------------------------------------
    a = Bundle()
    a.add("setup.sh", render("setup.sh", **common), executable=True)
    a.add("run_autograder", render("run_autograder", **common), executable=True)
    a.add("README.md", render("autograder_readme.md", **common))
    grading_pins = contents.student_requirements(platforms=contents.GRADING_PLATFORMS)
    a.add("requirements.txt", contents.requirements_text(
        grading_pins, f"grading the {lab.id} lab", platforms=contents.GRADING_PLATFORMS))
    _add_files(a, "", contents.grader_files(add=["grader.integrations.gradescope"]))
    _add_lab(a, "", lab, grading_files)
    _add_files(a, "", data)
    for rel, text in secret.items():
        a.add(rel, text)

    # -- otter ----------------------------------------------------------------
    otter_grader = contents.grader_files(add=["grader.integrations.otter"])
    otter_notebook_name = f"{lab.module}.ipynb"
    o = Bundle()
    otop = f"{lab.id}-otter/"
    o.add(f"{otop}{otter_notebook_name}", notebooks.otter_notebook(lab, lab.starter_file.read_text()))
    for check in public:
        o.add(f"{otop}tests/{check.name}.py", otter_bundle.test_file(lab, check))
    o.add(f"{otop}README.md", render("otter_readme.md", **common, notebook=otter_notebook_name))
    o.add(f"{otop}requirements.txt", contents.requirements_text(
        contents.student_requirements(otter=True), f"the {lab.id} lab's otter notebook"))
    _add_files(o, otop, otter_grader)
    _add_lab(o, otop, lab, public_files, student_toml)
    _add_files(o, otop, data)

    support = Bundle()
    _add_files(support, "", otter_grader)
    _add_lab(support, "", lab, grading_files)
    _add_files(support, "", data)
    for rel, text in secret.items():
        support.add(rel, text)
    tests = {f"{c.name}.py": otter_bundle.test_file(lab, c) for c in public + hidden}
    oa = otter_bundle.autograder_zip(lab, tests, support, grading_pins)
    oa.add("README.md", render("otter_autograder_readme.md", **common, notebook=otter_notebook_name,
                               zip_name=zip_name(lab, "otter-autograder")))
    return LabBundles(s, a, o, oa, notes)
