"""Mutants: deliberately broken copies of a lab's reference solution.

A lab's ``mutants.toml`` lists each mutant as a small edit of the solution
file, so the solution stays the single source of truth and a mutant can
never silently go stale: applying it fails loudly when its ``old`` text is
no longer in the solution exactly once::

    [[mutant]]
    name = "pool_grad_to_all"
    why = "max-pool backward sends the gradient to every cell of the window"
    targets = ["max_pool_backward"]         # the checks it must fail, exactly
    [[mutant.replace]]
    old = "mask = window == window.max()"
    new = "mask = np.ones_like(window)"

``grader mutants <lab> --write DIR`` materialises them as files.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

from grader.labs.lab import Lab


class MutantError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    why: str
    targets: tuple[str, ...]
    replacements: tuple[tuple[str, str], ...]

    def apply(self, source: str) -> str:
        for old, new in self.replacements:
            count = source.count(old)
            if count != 1:
                raise MutantError(f"mutant {self.name}: the text to replace occurs {count} times in the solution "
                                  f"(must be exactly once):\n{old}")
            source = source.replace(old, new)
        return source


def read_table(lab: Lab) -> dict:
    """The lab's ``mutants.toml`` as a table (empty when the lab has none):
    hand-written ``[[mutant]]`` entries and machine-made ``[[equivalent]]`` ones."""
    path = lab.assignment_dir / "mutants.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def load(lab: Lab) -> list[Mutant]:
    data = read_table(lab)
    out = []
    for entry in data.get("mutant", []):
        reps = tuple((r["old"], r["new"]) for r in entry.get("replace", []))
        if not reps:
            raise MutantError(f"mutant {entry.get('name')} changes nothing")
        out.append(Mutant(entry["name"], entry.get("why", ""), tuple(entry.get("targets", [])), reps))
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise MutantError(f"duplicate mutant names in {path}")
    return out


def materialize(lab: Lab, mutant: Mutant, dest: Path) -> Path:
    """Write the mutant as ``dest/<mutant>/<module>.py`` and return that folder."""
    folder = dest / mutant.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / lab.filename).write_text(mutant.apply(lab.solution_file.read_text()))
    return folder
