"""The anatomy every lab shares, and the observe-only code the worker gets.

Visibility follows from where things live, never from a list of names:

* ``checks/__init__.py`` (a docstring), ``checks/common.py`` (helpers public
  and hidden checks share) and ``checks/public.py`` ship to students and are
  the only check files the sandbox holds;
* ``checks/hidden.py``, ``checks/optional.py`` and ``checks/private.py``
  (helpers only hidden checks import) never ship and never exist as files in
  the sandbox;
* ``lab.toml`` holds ``[budget]``, ``[release]``, ``[shared]`` (settings
  several checks share, which ship) and one ``[checks.<name>]`` table per
  check that has settings; a student's copy keeps public checks' tables only.

A hidden check still has to *observe* inside the sandbox. The worker gets,
through a pipe and never as a file, the **observe-only source** of the
checks it runs (:func:`observe_source`): the check module's imports, each
requested class cut down to its ``name`` and its ``observe`` (and
``observe_*``) methods, and the module-level definitions those use — no
``inputs``, no ``judge``, no docstrings, no settings, nothing from
``private.py``. What ``observe`` needs of the settings travels in its inputs.
"""

from __future__ import annotations

import ast
import re
import sys
import types
from pathlib import Path

from grader.checks.check import HIDDEN, OPTIONAL, Check

#: Check files that ship to students (and are the only ones in the sandbox).
SHIPPED_CHECK_FILES = ("__init__.py", "common.py", "public.py")
#: Check files that stay with the graders.
TRUSTED_CHECK_FILES = ("hidden.py", "optional.py", "private.py")
#: Top-level tables ``lab.toml`` may have.
LAB_TABLES = ("budget", "release", "shared", "checks", "study")
#: Methods of a check class that run in the sandbox.
OBSERVE_METHOD = re.compile(r"^observe(_\w+)?$")
#: Class attributes the runner reads while observing (not through ``self``).
OBSERVE_ATTRIBUTES = ("by_hand",)
#: Sibling modules the observe-only source may import.
OBSERVABLE_MODULES = ("common", "public")


class AnatomyError(Exception):
    """A lab whose files break the anatomy (a grader's mistake, not a student's)."""


def _strip_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return body or [ast.Pass()]


def _without_docstrings(node: ast.AST) -> ast.AST:
    for sub in ast.walk(node):
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            sub.body = _strip_docstring(sub.body)
    return node


def _names_used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _defined(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def _imported(stmt: ast.stmt) -> list[str]:
    return [(a.asname or a.name).split(".")[0] for a in stmt.names]


def _self_attributes(node: ast.AST) -> set[str]:
    return {n.attr for n in ast.walk(node)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"}


def _reduce_class(cls: ast.ClassDef, check_name: str | None) -> ast.ClassDef:
    """A check class cut down to what runs in the sandbox: its ``observe``
    methods and the class attributes and methods they use through ``self``."""
    members: dict[str, ast.stmt] = {}
    for stmt in cls.body:
        for name in _defined(stmt):
            members[name] = stmt
    kept: dict[int, ast.stmt] = {}
    todo = [n for n, s in members.items()
            if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and OBSERVE_METHOD.match(n)]
    todo += [n for n in OBSERVE_ATTRIBUTES if n in members]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in members or name in ("inputs", "judge", "config", "shared", "salt"):
            continue
        seen.add(name)
        stmt = members[name]
        kept[id(stmt)] = _without_docstrings(stmt)
        todo += sorted(_self_attributes(stmt) - seen)
    body: list[ast.stmt] = []
    if check_name is not None:
        body.append(ast.parse(f"name = {check_name!r}").body[0])
    body += [kept[id(s)] for s in cls.body if id(s) in kept]
    return ast.ClassDef(name=cls.name, bases=cls.bases, keywords=cls.keywords, body=body or [ast.Pass()],
                        decorator_list=[], type_params=[])


def observe_source(path: Path, classes: dict[str, str]) -> str:
    """The observe-only source of the check module at ``path`` for
    ``classes`` (class name → check name). Raises :class:`AnatomyError`
    when what observe uses lives in ``private.py`` or is missing."""
    tree = ast.parse(path.read_text(), filename=str(path))
    imports: list[ast.stmt] = []
    forbidden: dict[str, str] = {}  # name -> where it comes from
    defs: dict[str, ast.stmt] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            if isinstance(stmt, ast.ImportFrom) and stmt.level and (stmt.module or "").split(".")[0] \
                    not in OBSERVABLE_MODULES:
                for name in _imported(stmt):
                    forbidden[name] = f"checks/{stmt.module or '__init__'}.py"
            else:
                imports.append(stmt)
        else:
            for name in _defined(stmt):
                defs[name] = stmt
    missing = set(classes) - {n for n, s in defs.items() if isinstance(s, ast.ClassDef)}
    if missing:
        raise AnatomyError(f"{path.name} defines no class {', '.join(sorted(missing))}")

    kept: dict[int, ast.stmt] = {}
    todo = list(classes)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        stmt = defs[name]
        if isinstance(stmt, ast.ClassDef):
            reduced = _reduce_class(stmt, classes.get(name))
        else:
            reduced = _without_docstrings(stmt)
        kept[id(stmt)] = reduced
        used = _names_used(reduced)
        bad = sorted(used & set(forbidden))
        if bad:
            raise AnatomyError(
                f"{path.name}: {name} needs {', '.join(f'{b} (from {forbidden[b]})' for b in bad)} in the sandbox; "
                "helpers that observe uses belong in checks/common.py (or in the check module itself), and "
                "settings travel in the check's inputs")
        todo += sorted(used - seen)
    order = [kept[id(s)] for s in tree.body if id(s) in kept]
    module = ast.Module(body=imports + order, type_ignores=[])
    return ast.unparse(ast.fix_missing_locations(module))


def observe_sources(lab, checks: list[Check]) -> dict[str, str]:
    """``visibility → observe-only source`` for the hidden and optional checks
    among ``checks`` (public check files ship, so the sandbox imports those)."""
    out = {}
    for vis in (HIDDEN, OPTIONAL):
        wanted = {type(c).__name__: c.name for c in checks if c.visibility == vis}
        if wanted:
            out[vis] = observe_source(lab.assignment_dir / "checks" / f"{vis}.py", wanted)
    return out


def view_module_name(package: str, visibility: str) -> str:
    return f"{package}._observe_{visibility}"


def load_observe_checks(package: str, sources: dict[str, str], public_names: list[str],
                        names: list[str]) -> dict[str, Check]:
    """Check objects that can only observe: hidden and optional ones built
    from their observe-only ``sources``, public ones from ``public.py``;
    ``package`` must already be importable (the lab's ``checks`` package)."""
    from grader.checks.check import collect

    found: dict[str, Check] = {}
    for vis, source in sources.items():
        name = view_module_name(package, vis)
        module = types.ModuleType(name)
        module.__package__ = package
        sys.modules[name] = module
        exec(compile(source, f"<{vis} checks>", "exec"), module.__dict__)  # noqa: S102 - the grader's own code
        found.update({c.name: c for c in collect(vars(module))})
    if public_names:
        import importlib

        public = importlib.import_module(f"{package}.public")
        found.update({c.name: c for c in collect(vars(public)) if c.name in public_names})
    absent = [n for n in names if n not in found]
    if absent:
        raise AnatomyError(f"no observe code for check(s) {', '.join(absent)}")
    return found


def problems(lab) -> list[str]:
    """Every way ``lab`` breaks the anatomy, in words (empty: none). The
    kit's tests hold every lab to it, and a release refuses a lab that
    breaks it."""
    from grader.checks.check import VISIBILITIES

    out: list[str] = []
    folder = lab.assignment_dir / "checks"
    init = folder / "__init__.py"
    if init.is_file():
        body = ast.parse(init.read_text()).body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]
        if body:
            out.append("checks/__init__.py holds code; it may hold only a docstring "
                       "(shared helpers go in common.py, hidden-only ones in private.py)")
    known = set(SHIPPED_CHECK_FILES) | set(TRUSTED_CHECK_FILES)
    for path in sorted(folder.glob("*.py")):
        if path.name not in known:
            out.append(f"checks/{path.name} is not part of the anatomy ({', '.join(sorted(known))})")
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                target = (node.module or "").split(".")[0]
                if path.name in SHIPPED_CHECK_FILES and f"{target}.py" in TRUSTED_CHECK_FILES:
                    out.append(f"checks/{path.name} (ships) imports checks/{target}.py (never ships)")
                if path.name in TRUSTED_CHECK_FILES and target in ("public", "common"):
                    private = [a.name for a in node.names if a.name.startswith("_")]
                    if private:
                        out.append(f"checks/{path.name} imports private name(s) {', '.join(private)} from "
                                   f"checks/{target}.py; share them through common.py under public names")
                if not node.module and any(a.name not in ("common", "public") for a in node.names):
                    out.append(f"checks/{path.name} imports from the package itself "
                               f"({', '.join(a.name for a in node.names)}); import from .common")
            if isinstance(node, ast.Constant) and node.value == "lab.toml":
                out.append(f"checks/{path.name} reads lab.toml itself; use self.config and self.shared")
    tables = {k for k, v in lab.meta.items() if isinstance(v, dict)}
    for table in sorted(tables - set(LAB_TABLES)):
        out.append(f"lab.toml has a table [{table}]; settings belong in [checks.<name>] or [shared]")
    extra_budget = set(lab.meta.get("budget", {})) - {"cpu_seconds"}
    if extra_budget:
        out.append(f"lab.toml [budget] has {', '.join(sorted(extra_budget))}; a check's own budget goes in "
                   "its [checks.<name>] table")
    try:
        checks = [c for vis in VISIBILITIES for c in lab.checks(vis)]
    except Exception as exc:  # noqa: BLE001 - a broken lab is reported, not raised
        return out + [f"the checks cannot be loaded: {type(exc).__name__}: {exc}"]
    names = {c.name for c in checks}
    for name in sorted(set(lab.meta.get("checks", {})) - names):
        out.append(f"lab.toml has [checks.{name}], but the lab has no check {name!r}")
    try:
        observe_sources(lab, checks)
    except AnatomyError as exc:
        out.append(str(exc))
    return out
