"""Every lab has the same anatomy, and what students and the sandbox get
follows from it (:mod:`grader.labs.anatomy`):

* no lab breaks the anatomy, and the anatomy check does catch each way of
  breaking it (a copy of a lab, broken on purpose);
* a student's ``lab.toml`` and student bundle name no hidden check, none of
  their settings and no helper of ``private.py``; the autograder bundle
  carries the salt and hidden fixtures, the student bundle neither;
* the sandbox's copy of a lab holds only the shipped check files, and the
  observe-only code of a hidden check has no ``inputs``, ``judge``,
  docstring or setting;
* seeds of hidden inputs follow the salt.
"""

import ast
import shutil
import tomllib

import pytest

from grader.labs import anatomy
from grader.checks.check import HIDDEN, PUBLIC, Check
from grader.labs.lab import Lab, all_lab_ids
from grader.release import contents
from grader.release.leaks import private_helper_names

LABS = all_lab_ids()
KIT = Lab.load("cnn").root


@pytest.mark.parametrize("lab_id", LABS)
def test_lab_follows_the_anatomy(lab_id):
    assert anatomy.problems(Lab.load(lab_id)) == []


def _broken_copy(tmp_path, edit):
    """A copy of the CNN lab (its own kit root) with one edit."""
    root = tmp_path / "kit"
    for part in ("assignments/cnn", "solutions/cnn", "starter/cnn"):
        shutil.copytree(KIT / part, root / part,
                        ignore=shutil.ignore_patterns("__pycache__", "hidden.json", "hidden.npz", "hidden.key", ".lock"))
    edit(root / "assignments" / "cnn")
    return Lab.load(root / "assignments" / "cnn")


def _append(path, text):
    path.write_text(path.read_text() + text)


BREAKS = {
    "code in __init__": (lambda d: _append(d / "checks" / "__init__.py", "\nLAB = 1\n"), "holds code"),
    "a stray check file": (lambda d: (d / "checks" / "helpers.py").write_text("x = 1\n"), "not part of the anatomy"),
    "public imports private": (lambda d: _append(d / "checks" / "public.py", "\nfrom .private import *\n"),
                               "imports checks/private.py"),
    "free-named table": (lambda d: _append(d / "lab.toml", "\n[cycle]\nsteps = 3\n"), "table [cycle]"),
    "budget per check": (lambda d: _append(d / "lab.toml", "\n[budget.checks]\nmax_pool = 3\n"), "[budget] has"),
    "settings of no check": (lambda d: _append(d / "lab.toml", "\n[checks.no_such_check]\nx = 1\n"),
                             "no check 'no_such_check'"),
    "reading lab.toml": (lambda d: _append(d / "checks" / "public.py", "\nPATH = 'lab.toml'\n"), "reads lab.toml"),
    "observe uses a private helper": (
        lambda d: (_append(d / "checks" / "private.py", "\n\ndef secret_helper(x):\n    return x\n"),
                   _append(d / "checks" / "hidden.py", "\n\nfrom .private import secret_helper\n\n\n"
                           "class ExtraHidden(Check):\n    visibility = HIDDEN\n\n"
                           "    def observe(self, sub):\n        return secret_helper(1)\n")),
        "secret_helper (from checks/private.py)"),
}


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_each_break_of_the_anatomy_is_caught(tmp_path, case, monkeypatch):
    edit, words = BREAKS[case]
    monkeypatch.setenv("DLKIT_ROOT", str(tmp_path / "kit"))
    lab = _broken_copy(tmp_path, edit)
    found = anatomy.problems(lab)
    assert any(words in p for p in found), found


@pytest.mark.parametrize("lab_id", LABS)
def test_student_lab_toml_keeps_public_settings_only(lab_id):
    lab = Lab.load(lab_id)
    text = contents.student_lab_toml(lab)
    meta = tomllib.loads(text)
    public = {c.name for c in lab.checks(PUBLIC)}
    assert set(meta.get("checks", {})) <= public
    assert {k: v for k, v in meta.get("checks", {}).items()} == \
        {k: v for k, v in lab.meta.get("checks", {}).items() if k in public}
    hidden = [c for c in lab.checks(HIDDEN) + lab.checks("optional")]
    words = {c.name for c in hidden} | {type(c).__name__ for c in hidden} | private_helper_names(lab)
    # The study (factors such as `dropout`, its rubric) is public by design and
    # may share a word with a hidden check's name: look at everything else.
    assert not [w for w in words if w in _without_study(text)]
    assert meta.get("study") == lab.meta.get("study")


def _without_study(text: str) -> str:
    """A lab.toml's text without its ``[study]`` tables (and their comments)."""
    kept, in_study = [], False
    for line in text.splitlines():
        header = line.strip()
        if header.startswith("["):
            in_study = header.strip("[]").split(".")[0].strip() == "study"
        if not in_study:
            kept.append(line)
    return "\n".join(kept)


def test_salt_decides_hidden_seeds_not_public_ones(monkeypatch):
    lab = Lab.load("cnn")
    before = {c.name: (c.seed, c.observe_seed) for c in lab.checks() + lab.checks("optional")}
    monkeypatch.setenv("DLKIT_SALT", "ab" * 32)
    again = {c.name: (c.seed, c.observe_seed) for c in Lab.load(lab.assignment_dir).checks()}
    for chk in Lab.load(lab.assignment_dir).checks():
        if chk.salted:
            assert again[chk.name] != before[chk.name], chk.name
            assert chk.seed != chk.observe_seed
        else:
            assert again[chk.name] == before[chk.name], chk.name
    assert any(c.salted for c in lab.checks(PUBLIC)), "public checks judged on held-out labels are salted too"
    assert all(c.salted for c in lab.checks(HIDDEN))


def test_unsalted_seeds_are_public():
    """A student's self-check (no salt) makes the public fixtures' inputs."""
    chk = Lab.load("cnn").checks(PUBLIC)[0]
    chk.salt = None
    import zlib

    assert chk.seed == chk.observe_seed == zlib.crc32(chk.name.encode()) % 2**31


@pytest.mark.parametrize("lab_id", LABS)
def test_observe_only_code_keeps_nothing_but_observe(lab_id):
    lab = Lab.load(lab_id)
    checks = lab.checks() + lab.checks("optional")
    for vis, source in anatomy.observe_sources(lab, checks).items():
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.name not in ("inputs", "judge"), (vis, node.name)
                assert ast.get_docstring(node) is None
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.module in ("common", "public"), (vis, node.module)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                assert node.attr not in ("config", "shared", "salt", "seed"), (vis, node.attr)
        for chk in checks:
            if chk.visibility == vis and len(chk.title) >= 20:
                assert chk.title not in source, chk.name


def test_sandbox_copy_holds_only_shipped_check_files(tmp_path):
    from grader.sandbox.workdir import copy_runtime as _copy_runtime

    lab = Lab.load("gcn")
    _copy_runtime(lab, tmp_path)
    assert sorted(p.name for p in (tmp_path / "lab" / "checks").iterdir()) == \
        sorted(n for n in anatomy.SHIPPED_CHECK_FILES if (lab.assignment_dir / "checks" / n).is_file())
    assert not list(tmp_path.rglob("lab.toml")) and not list(tmp_path.rglob("salt"))
    assert not list(tmp_path.rglob("fixtures"))


def test_sandbox_copy_holds_the_data_the_student_bundle_ships_and_no_other(tmp_path):
    """A study's re-run may load what students have (the GCN lab ships Cora's
    Planetoid files); the rest of the data directory stays out."""
    from grader.data import data_sets, known_checksums
    from grader.sandbox.workdir import copy_runtime as _copy_runtime

    lab = Lab.load("gcn")
    _copy_runtime(lab, tmp_path)
    data = tmp_path / "shared" / "data"
    copied = sorted(str(p.relative_to(data)) for p in data.rglob("*") if p.is_file())
    assert copied == sorted(data_sets(["planetoid"])) and copied
    assert all(name.startswith("planetoid/") for name in copied)
    assert any(not name.startswith("planetoid/") for name in known_checksums())


def test_sandbox_copy_holds_the_instructors_study_images(tmp_path, monkeypatch):
    """A TA who switched the CNN study to other images: the sandbox's re-runs
    read those, through the copy's own data directory."""
    from PIL import Image

    from grader.data import STUDY_DATA_ENV, STUDY_DATA_FILE
    from grader.sandbox.workdir import copy_runtime as _copy_runtime

    images = tmp_path / "images"
    for label in ("a", "b"):
        (images / label).mkdir(parents=True)
        Image.new("L", (4, 4), 200).save(images / label / "1.png")
    monkeypatch.setenv(STUDY_DATA_ENV, f"folder:{images}")
    _copy_runtime(Lab.load("cnn"), tmp_path / "lib")
    data = tmp_path / "lib" / "shared" / "data"
    assert (data / STUDY_DATA_FILE).read_text() == "folder:cnn-study\n"
    assert sorted(p.relative_to(data).as_posix() for p in (data / "cnn-study").rglob("*.png")) == \
        ["cnn-study/a/1.png", "cnn-study/b/1.png"]
    monkeypatch.delenv(STUDY_DATA_ENV)
    _copy_runtime(Lab.load("cnn"), tmp_path / "lib2")  # the synthetic shapes: nothing to copy
    assert not (tmp_path / "lib2" / "shared").exists()


def test_sandbox_copy_of_a_lab_without_a_study_holds_no_data(tmp_path):
    """The RNN lab ships the Tang poems to students, but its checks get their
    inputs through the sandbox's inputs folder: no study, no data."""
    from grader.sandbox.workdir import copy_runtime as _copy_runtime

    lab = Lab.load("rnn")
    assert lab.study is None and lab.meta["release"]["data"]
    _copy_runtime(lab, tmp_path)
    assert not (tmp_path / "shared").exists()


def test_observe_only_checks_run_from_source_alone():
    """What the worker builds from the observe-only source observes like the check."""
    lab = Lab.load("cnn")
    checks = [c for c in lab.checks(HIDDEN)]
    sources = anatomy.observe_sources(lab, checks)
    lab.check_module(PUBLIC)
    built = anatomy.load_observe_checks(lab.package, sources, [], [c.name for c in checks])
    assert set(built) == {c.name for c in checks}
    for chk in built.values():
        assert type(chk).judge is Check.judge and type(chk).inputs is Check.inputs, chk.name
