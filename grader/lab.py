"""A lab: its metadata (``lab.toml``), checks, fixtures, mutants and code paths.

The same loader works in the kit's repository (``assignments/<id>``,
``solutions/<id>``, ``starter/<id>``) and inside a student or autograder
bundle, where the lab folder holds ``lab.toml`` and whatever part of the
anatomy that bundle ships.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
import sys
import tomllib
from pathlib import Path
from types import ModuleType

from .check import HIDDEN, PUBLIC, Check, collect


def repo_root() -> Path:
    """The kit's root: ``$DLKIT_ROOT`` or the folder above the ``grader`` package."""
    env = os.environ.get("DLKIT_ROOT")
    return Path(env).resolve() if env else Path(__file__).resolve().parent.parent


class LabError(Exception):
    """A lab id, file or folder that does not exist or is malformed."""


@dataclasses.dataclass(frozen=True)
class Lab:
    """One lab, found from its ``assignments/<id>`` folder (or a bundle's lab folder)."""

    assignment_dir: Path
    meta: dict

    # -- finding labs --------------------------------------------------------
    @classmethod
    def load(cls, lab_id_or_dir: str | Path) -> "Lab":
        path = Path(lab_id_or_dir)
        if not (path / "lab.toml").is_file():
            path = repo_root() / "assignments" / str(lab_id_or_dir)
        toml = path / "lab.toml"
        if not toml.is_file():
            known = ", ".join(all_lab_ids()) or "none"
            raise LabError(f"no lab {lab_id_or_dir!r} (known labs: {known})")
        with toml.open("rb") as fh:
            meta = tomllib.load(fh)
        return cls(path.resolve(), meta)

    # -- metadata ------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.meta["id"]

    @property
    def title(self) -> str:
        return self.meta.get("title", self.id)

    @property
    def module(self) -> str:
        """Name of the student's module (``cnn`` for ``cnn.py``)."""
        return self.meta.get("module", self.id)

    @property
    def filename(self) -> str:
        return f"{self.module}.py"

    @property
    def cpu_budget(self) -> float:
        """Stated CPU budget (seconds, 2 cores) for grading one submission."""
        return float(self.meta.get("budget", {}).get("cpu_seconds", 60))

    def check_budget(self, check: Check) -> float:
        overrides = self.meta.get("budget", {}).get("checks", {})
        return float(overrides.get(check.name, check.budget))

    # -- folders ---------------------------------------------------------------
    @property
    def solution_dir(self) -> Path:
        return self.assignment_dir.parent.parent / "solutions" / self.id

    @property
    def starter_dir(self) -> Path:
        return self.assignment_dir.parent.parent / "starter" / self.id

    @property
    def fixtures_dir(self) -> Path:
        return self.assignment_dir / "fixtures"

    @property
    def solution_file(self) -> Path:
        return self.solution_dir / self.filename

    @property
    def starter_file(self) -> Path:
        return self.starter_dir / self.filename

    # -- checks ------------------------------------------------------------------
    @functools.cached_property
    def _check_modules(self) -> dict[str, ModuleType]:
        package = f"_dlkit_checks_{self.id}"
        folder = self.assignment_dir / "checks"
        if package not in sys.modules:
            spec = importlib.util.spec_from_file_location(
                package, folder / "__init__.py", submodule_search_locations=[str(folder)]
            )
            module = importlib.util.module_from_spec(spec)
            sys.modules[package] = module
            spec.loader.exec_module(module)
        found = {}
        for visibility in (PUBLIC, HIDDEN):
            if (folder / f"{visibility}.py").is_file():
                found[visibility] = importlib.import_module(f"{package}.{visibility}")
        return found

    def checks(self, visibility: str | None = None) -> list[Check]:
        """The lab's checks in grading order (public first), optionally one visibility."""
        out: list[Check] = []
        for vis, module in self._check_modules.items():
            for chk in collect(vars(module)):
                if chk.visibility != vis:
                    raise LabError(f"check {chk.name} declared {chk.visibility} but lives in {vis}.py")
                if visibility in (None, vis):
                    out.append(chk)
        names = [c.name for c in out]
        if len(set(names)) != len(names):
            raise LabError(f"duplicate check names in lab {self.id}: {names}")
        return out

    def check(self, name: str) -> Check:
        for chk in self.checks():
            if chk.name == name:
                return chk
        raise LabError(f"lab {self.id} has no check {name!r}")

    @property
    def points(self) -> float:
        return float(sum(c.points for c in self.checks()))


def all_lab_ids(root: Path | None = None) -> list[str]:
    root = root or repo_root()
    return sorted(p.parent.name for p in (root / "assignments").glob("*/lab.toml"))


def load_submission(path: Path | str, module_name: str, *, alias: str | None = None) -> ModuleType:
    """Import a student's module from a file or a folder holding ``<module>.py``.

    The folder goes on ``sys.path`` so helper modules next to it import too.
    ``alias`` registers the module under another name (to load a reference,
    a starter and mutants side by side in one process).
    """
    path = Path(path)
    file = path if path.is_file() else path / f"{module_name}.py"
    if not file.is_file():
        raise FileNotFoundError(f"no {module_name}.py in {path}")
    name = alias or module_name
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    folder = str(file.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
