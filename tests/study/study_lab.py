"""A tiny lab with a study, made in a test's folder: two factors, one
metric, a ``run_config`` that answers in microseconds."""

from __future__ import annotations

import itertools
import random
import textwrap
from pathlib import Path

LAB_TOML = """\
id = "toy"
title = "A toy lab with a study"
module = "toy"

[study]
title = "a and b"
function = "run_config"
metrics = ["score"]
reproduce = {reproduce}
points = 2
budget = {budget}

[study.factors]
a = [1, 2, 3]
b = ["low", "high"]

[study.tolerance]
score = 0.01
"""

CHECKS = '''\
from grader import Check


class Present(Check):
    "The module defines run_config."
    uses_reference = False

    def observe(self, sub):
        return {"ok": callable(getattr(sub, "run_config", None))}

    def judge(self, got, want, secret):
        return float(got["ok"])
'''

#: The student's module; ``{extra}`` is spliced into run_config's body.
MODULE = '''\
import random
import time

WEIGHT = {{"low": 0.5, "high": 2.0}}


def run_config(a, b, seed=0):
    rng = random.Random(seed)
{extra}
    return {{"score": a * WEIGHT[b] + rng.random() * 1e-3}}
'''


def score(a, b, seed):
    return a * {"low": 0.5, "high": 2.0}[b] + random.Random(seed).random() * 1e-3


def make_lab(root: Path, *, reproduce: int = 2, budget: float = 5) -> Path:
    """``root/assignments/toy`` with lab.toml and a public check."""
    folder = root / "assignments" / "toy"
    (folder / "checks").mkdir(parents=True)
    (folder / "lab.toml").write_text(LAB_TOML.format(reproduce=reproduce, budget=budget))
    (folder / "checks" / "__init__.py").write_text('"""Toy checks."""\n')
    (folder / "checks" / "public.py").write_text(CHECKS)
    return folder


def make_submission(folder: Path, *, extra: str = "", table: str | None = None, forge=None,
                    comment: str = "") -> Path:
    """A student's folder: toy.py (``extra`` lines in run_config) and
    study.csv (honest, with ``forge(a, b, score) -> score`` applied, or
    the ``table`` text as given)."""
    folder.mkdir(parents=True)
    body = textwrap.indent(textwrap.dedent(extra), "    ") if extra else ""
    (folder / "toy.py").write_text(MODULE.format(extra=body) + comment)
    if table is None:
        lines = ["a,b,seed,score"]
        for a, b in itertools.product((1, 2, 3), ("low", "high")):
            value = score(a, b, 0)
            lines.append(f"{a},{b},0,{forge(a, b, value) if forge else value!r}")
        table = "\n".join(lines) + "\n"
    if table is not False:
        (folder / "study.csv").write_text(table)
    return folder
