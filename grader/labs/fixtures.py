"""Expected values: the reference solution's observations, stored as fixtures.

``judge`` compares a student's observation with the reference's on the same
inputs. Those reference observations are produced by running the reference,
never typed in:

* ``fixtures/public.{json,npz}``: public checks, whose inputs have public
  seeds. Committed, shipped to students; ``grader fixtures --check`` and a
  kit test fail when the reference no longer matches them.
* ``fixtures/hidden.{json,npz}``: hidden and optional checks, whose inputs
  come from the secret salt (:mod:`grader.labs.salt`). Made for the salt in use
  (``fixtures/hidden.key`` says which salt and which sources) and remade by
  :func:`ensure` whenever either changes; never committed, shipped only in
  the autograder bundle made with the same salt.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from grader.core import protocol, runner
from grader.files import files_digest
from grader.labs import salt as salt_file
from grader.checks.check import HIDDEN, OPTIONAL, PUBLIC
from grader.core.results import Status
from grader.labs.lab import Lab, load_submission

PACKAGE_DIR = Path(__file__).resolve().parents[1]
#: Parts of the package that cannot change an observation.
NOT_OBSERVING = ("release", "reports", "templates", "integrations", "quality")


class FixtureError(Exception):
    pass


def reference_observations(lab: Lab, visibility: str, *, source: Path | None = None) -> dict[str, Any]:
    """Run the reference (trusted, in this process) on every check of one visibility."""
    from grader.device import configure

    configure()
    ref = load_submission(source or lab.solution_file, lab.module, alias=f"_dlkit_reference_{lab.id}")
    out: dict[str, Any] = {}
    for chk in lab.checks(visibility):
        if not chk.uses_reference:
            continue
        obs = runner.observe(chk, ref, chk.make_inputs().public)
        if obs.status is not Status.OK:
            raise FixtureError(f"reference failed on {chk.name}: {obs.message}")
        out[chk.name] = obs.value
    return out


def path(lab: Lab, visibility: str) -> Path:
    return lab.fixtures_dir / visibility


def key_file(lab: Lab) -> Path:
    return lab.fixtures_dir / "hidden.key"


def sources_digest(lab: Lab) -> str:
    """What hidden fixtures depend on besides the salt: the reference, the
    lab's checks and settings, and the grader's own modules (not its
    release tooling or reports, which cannot change an observation)."""
    files = [lab.solution_file, lab.assignment_dir / "lab.toml", *sorted((lab.assignment_dir / "checks").glob("*.py")),
             *sorted(p for p in PACKAGE_DIR.rglob("*.py") if p.relative_to(PACKAGE_DIR).parts[0] not in NOT_OBSERVING)]
    return files_digest((f.relative_to(PACKAGE_DIR).as_posix() if f.is_relative_to(PACKAGE_DIR) else f.name, f)
                        for f in files if f.is_file())[:24]


def write_public(lab: Lab) -> list[Path]:
    """Regenerate the committed public fixtures from the reference."""
    lab.fixtures_dir.mkdir(parents=True, exist_ok=True)
    protocol.dump(reference_observations(lab, PUBLIC), path(lab, PUBLIC))
    return [path(lab, PUBLIC).with_suffix(".json"), path(lab, PUBLIC).with_suffix(".npz")]


def write_hidden(lab: Lab) -> list[Path]:
    """Make the hidden fixtures for the lab's salt (trusted, in this process)."""
    if lab.salt is None:
        raise FixtureError(f"{lab.id}: no salt here, so no hidden fixtures can be made")
    lab.fixtures_dir.mkdir(parents=True, exist_ok=True)
    data = reference_observations(lab, HIDDEN)
    data.update(reference_observations(lab, OPTIONAL))
    protocol.dump(data, path(lab, HIDDEN))
    key = {"salt": salt_file.digest(lab.salt), "sources": sources_digest(lab)}
    key_file(lab).write_text(json.dumps(key) + "\n")
    return [path(lab, HIDDEN).with_suffix(".json"), path(lab, HIDDEN).with_suffix(".npz"), key_file(lab)]


def write(lab: Lab) -> list[Path]:
    """Regenerate both fixture files from the reference."""
    return write_public(lab) + write_hidden(lab)


def _current_key(lab: Lab) -> dict:
    try:
        return json.loads(key_file(lab).read_text())
    except (OSError, ValueError):
        return {}


@contextlib.contextmanager
def _locked(lab: Lab):
    import fcntl

    lab.fixtures_dir.mkdir(parents=True, exist_ok=True)
    with open(lab.fixtures_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure(lab: Lab) -> None:
    """Hidden fixtures for the lab's salt, made (in a child process, so this
    one need not import TensorFlow) when missing or stale. In a bundle
    without the reference, only the salt is checked."""
    if lab.salt is None:
        return
    want_salt = salt_file.digest(lab.salt)
    if not lab.solution_file.is_file():
        if _current_key(lab).get("salt") != want_salt:
            raise FixtureError(f"{lab.id}: the hidden fixtures were not made with this bundle's salt; "
                               "rebuild the bundle with `grader release`")
        return
    with _locked(lab):
        key = _current_key(lab)
        if key.get("salt") == want_salt and key.get("sources") == sources_digest(lab) \
                and path(lab, HIDDEN).with_suffix(".json").is_file():
            return
        env = {**os.environ, "DLKIT_SALT": lab.salt.hex(), "TF_CPP_MIN_LOG_LEVEL": "2"}
        proc = subprocess.run([sys.executable, "-m", "grader.labs.fixtures", str(lab.assignment_dir)], env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if proc.returncode != 0:
            raise FixtureError(f"{lab.id}: making the hidden fixtures failed: {proc.stderr.strip()[-2000:]}")


def load(lab: Lab) -> dict[str, Any]:
    """All expected observations available here (a student bundle has only public)."""
    want: dict[str, Any] = {}
    for vis in (PUBLIC, HIDDEN):
        stem = path(lab, vis)
        if stem.with_suffix(".json").is_file():
            want.update(protocol.load(stem))
    return want


def expected_for(lab: Lab, checks) -> dict[str, Any]:
    """Expected observations for ``checks``; hidden ones made first if needed."""
    if any(c.uses_reference and c.visibility != PUBLIC for c in checks):
        ensure(lab)
    want = load(lab)
    missing = [c.name for c in checks if c.uses_reference and c.name not in want]
    if missing:
        raise FixtureError(
            f"no fixture for {', '.join(missing)} in {lab.fixtures_dir}; run `grader fixtures {lab.id}`"
        )
    return want


if __name__ == "__main__":
    # ``python -m grader.labs.fixtures LAB_DIR``: what :func:`ensure` runs.
    from grader.device import quiet_tensorflow_logs

    quiet_tensorflow_logs()
    write_hidden(Lab.load(sys.argv[1]))
