"""Expected values: the reference solution's observations, stored as fixtures.

``judge`` compares a student's observation with the reference's on the same
inputs. Those reference observations are produced by running the reference
(``grader fixtures <lab>``) and committed as ``fixtures/public.{json,npz}``
(ships to students) and ``fixtures/hidden.{json,npz}`` (graders only). No
expected number is typed in by hand; a kit test regenerates them and judges
the regenerated values against the committed ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import protocol, runner
from .check import HIDDEN, PUBLIC
from .lab import Lab, load_submission


class FixtureError(Exception):
    pass


def reference_observations(lab: Lab, visibility: str, *, source: Path | None = None) -> dict[str, Any]:
    """Run the reference (trusted, in this process) on every check of one visibility."""
    from .device import configure

    configure()
    ref = load_submission(source or lab.solution_file, lab.module, alias=f"_dlkit_reference_{lab.id}")
    out: dict[str, Any] = {}
    for chk in lab.checks(visibility):
        if not chk.uses_reference:
            continue
        obs = runner.observe(chk, ref, chk.make_inputs().public)
        if obs.status != "ok":
            raise FixtureError(f"reference failed on {chk.name}: {obs.message}")
        out[chk.name] = obs.value
    return out


def path(lab: Lab, visibility: str) -> Path:
    return lab.fixtures_dir / visibility


def write(lab: Lab) -> list[Path]:
    """Regenerate both fixture files from the reference."""
    lab.fixtures_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for vis in (PUBLIC, HIDDEN):
        data = reference_observations(lab, vis)
        protocol.dump(data, path(lab, vis))
        written += [path(lab, vis).with_suffix(".json"), path(lab, vis).with_suffix(".npz")]
    return written


def load(lab: Lab) -> dict[str, Any]:
    """All expected observations available here (a student bundle has only public)."""
    want: dict[str, Any] = {}
    for vis in (PUBLIC, HIDDEN):
        stem = path(lab, vis)
        if stem.with_suffix(".json").is_file():
            want.update(protocol.load(stem))
    return want


def expected_for(lab: Lab, checks) -> dict[str, Any]:
    """Expected observations for ``checks``; a clear error when one is missing."""
    want = load(lab)
    missing = [c.name for c in checks if c.uses_reference and c.name not in want]
    if missing:
        raise FixtureError(
            f"no fixture for {', '.join(missing)} in {lab.fixtures_dir}; run `grader fixtures {lab.id}`"
        )
    return want
