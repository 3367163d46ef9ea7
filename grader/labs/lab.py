"""A lab: its metadata (``lab.toml``), checks, fixtures, mutants and code paths.

The same loader works in the kit's repository (``assignments/<id>``,
``solutions/<id>``, ``starter/<id>``) and inside a student or autograder
bundle, where the lab folder holds ``lab.toml`` and whatever part of the
anatomy that bundle ships.

Every lab has the same anatomy, and what reaches students follows from it::

    lab.toml              metadata; [budget], [release], [shared] (settings several
                          checks share) and [checks.<name>] (one check's settings,
                          read as ``check.config``)
    checks/__init__.py    a docstring, nothing else
    checks/common.py      helpers public (and hidden) checks share      ships
    checks/public.py      public checks                                 ships
    checks/hidden.py      hidden checks                                 never ships
    checks/private.py     helpers only hidden checks import             never ships
    checks/optional.py    optional checks (graded when asked for)       never ships
    fixtures/public.*     the reference's observations, public checks   ships
    fixtures/hidden.*     the same for hidden checks, made with the salt never ships

A student's copy of ``lab.toml`` keeps ``[checks.<name>]`` of public checks
only. :mod:`grader.labs.anatomy` states these rules as code and the kit's tests
hold every lab to them.
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

from grader.labs import salt as salt_file
from grader.checks.check import HIDDEN, OPTIONAL, PUBLIC, VISIBILITIES, Check, collect


def repo_root() -> Path:
    """The kit's root: ``$DLKIT_ROOT`` or the folder above the ``grader`` package."""
    env = os.environ.get("DLKIT_ROOT")
    return Path(env).resolve() if env else Path(__file__).resolve().parents[2]


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

    @functools.cached_property
    def study(self) -> "Study | None":
        """The lab's study (``[study]`` of ``lab.toml``), or None when it has none."""
        from grader.labs.study import Study

        return Study.from_toml(self.meta["study"]) if "study" in self.meta else None

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
        """A check's time budget: ``budget`` in its ``[checks.<name>]`` table, else the class's."""
        return float(self.settings(check.name).get("budget", check.budget))

    def settings(self, check_name: str) -> dict:
        """The ``[checks.<name>]`` table of ``lab.toml`` (empty when there is none)."""
        return dict(self.meta.get("checks", {}).get(check_name, {}))

    @property
    def root(self) -> Path:
        """The kit (or bundle) this lab belongs to: the folder above ``assignments/``."""
        return self.assignment_dir.parent.parent

    @functools.cached_property
    def salt(self) -> bytes | None:
        """The secret salt of hidden seeds (:mod:`grader.labs.salt`): the bundle's or
        checkout's; a checkout that has the solutions makes one on first use.
        None in a student bundle (only public checks run there)."""
        return salt_file.load(self.root, create=self.solution_dir.is_dir())

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
    @property
    def package(self) -> str:
        """The name the lab's ``checks`` package is imported under (one per
        folder: a lab and a bundle's copy of it can be loaded side by side)."""
        import zlib

        return f"_dlkit_checks_{self.id}_{zlib.crc32(str(self.assignment_dir).encode()):08x}"

    def check_module(self, visibility: str) -> ModuleType | None:
        """``checks/<visibility>.py`` imported (None when this copy of the lab has none)."""
        folder = self.assignment_dir / "checks"
        if not (folder / f"{visibility}.py").is_file():
            return None
        if self.package not in sys.modules:
            spec = importlib.util.spec_from_file_location(
                self.package, folder / "__init__.py", submodule_search_locations=[str(folder)]
            )
            module = importlib.util.module_from_spec(spec)
            sys.modules[self.package] = module
            spec.loader.exec_module(module)
        return importlib.import_module(f"{self.package}.{visibility}")

    def checks(self, visibility: str | None = None) -> list[Check]:
        """The lab's checks in grading order (public, then hidden); with
        ``visibility``, only those (``optional`` checks only when asked for)."""
        wanted = (PUBLIC, HIDDEN) if visibility is None else (visibility,)
        if visibility is not None and visibility not in VISIBILITIES:
            raise LabError(f"unknown visibility {visibility!r} (one of {', '.join(VISIBILITIES)})")
        out: list[Check] = []
        for vis in wanted:
            module = self.check_module(vis)
            for chk in collect(vars(module)) if module else []:
                if chk.visibility != vis:
                    raise LabError(f"check {chk.name} declared {chk.visibility} but lives in {vis}.py")
                out.append(self._configure(chk))
        names = [c.name for c in out]
        if len(set(names)) != len(names):
            raise LabError(f"duplicate check names in lab {self.id}: {names}")
        return out

    def _configure(self, chk: Check) -> Check:
        chk.config = self.settings(chk.name)
        chk.shared = dict(self.meta.get("shared", {}))
        chk.salt = self.salt
        chk.lab_id = self.id
        return chk

    def check(self, name: str) -> Check:
        """Any check of the lab by name, optional ones included."""
        for chk in self.checks() + self.checks(OPTIONAL):
            if chk.name == name:
                return chk
        raise LabError(f"lab {self.id} has no check {name!r}")

    @property
    def points(self) -> float:
        return float(sum(c.points for c in self.checks()))


def all_lab_ids() -> list[str]:
    """The id of every lab of the kit (each folder of ``assignments/`` with a ``lab.toml``), sorted."""
    return sorted(p.parent.name for p in (repo_root() / "assignments").glob("*/lab.toml"))


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
