"""Running a lab's checks as otter-grader tests (the otter bundle).

The otter bundle's test files (``tests/<check>.py``, exception format) each
call :func:`run_check` with otter's ``env`` (the notebook's globals) and let
the raised exception fail the test. The check is the same class the kit
grades with: ``observe`` runs on the notebook's functions, ``judge`` compares
with the lab's fixtures (or labels), and the student sees the judge's
message.

Unlike ``grader grade``, otter runs the tests *inside* the student's kernel:
there is no sandbox, no time limit per check and no protection against a
notebook that patches the grader. Use otter where a course already does;
use the kit's own autograder for integrity.
"""

from __future__ import annotations

import functools
import os
import types
from pathlib import Path
from typing import Any

from grader.labs import fixtures
from grader.core import protocol, runner
from grader.labs.lab import Lab
from grader.core.results import Status
from grader.reports.numbers import format_score


class CheckFailed(AssertionError):
    """Raised when a check does not earn full marks; otter shows its message."""


@functools.cache
def _lab(lab_id: str) -> Lab:
    """The lab folder beside the notebook (where otter copies the support
    files: ``assignments/<lab>``), else the kit's own."""
    local = Path(os.getcwd()) / "assignments" / lab_id
    return Lab.load(local if (local / "lab.toml").is_file() else lab_id)


def module_from(env: dict[str, Any], name: str) -> types.ModuleType:
    """The notebook's globals as a module, so checks call ``sub.<function>``
    exactly as on a submitted ``.py`` file."""
    module = types.ModuleType(name)
    module.__dict__.update({k: v for k, v in env.items() if not (k.startswith("__") and k.endswith("__"))})
    return module


def run_check(env: dict[str, Any], lab_id: str, name: str) -> str:
    """Run one check on the notebook's code; raise :class:`CheckFailed` with the
    judge's message unless it earns full marks. Returns the message."""
    from grader.device import configure

    configure()
    lab = _lab(lab_id)
    check = lab.check(name)
    want = fixtures.expected_for(lab, [check])
    made = check.make_inputs()
    obs = runner.observe(check, module_from(env, lab.module), made.public)
    if obs.status is Status.OK:
        obs.value = protocol.roundtrip(obs.value)
    result = runner.judge(check, obs, want.get(check.name), made.secret)
    if result.score < result.points:
        status = result.status.text
        detail = result.message if result.message.startswith(status) else f"{status}: {result.message}"
        raise CheckFailed(f"{check.title} ({format_score(result.score, result.points)} points): {detail}".rstrip(": "))
    return result.message

