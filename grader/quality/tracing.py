"""Which checks call which functions of a lab's reference, and with what.

Kit tooling (never in a bundle): the kit's tests use it to prove that every
documented argument value and branch of a lab's public functions is
exercised by some check (``assignments/<lab>/cases.toml``), and mutation
testing (:mod:`grader.quality.mutation`) to run only the checks that reach a
mutated function.

A lab's ``cases.toml`` lists the cases::

    [[case]]
    function = "residual_block"   # a function, or Class.method, of the solution module
    when = "strides == 1 and x.shape[-1] != filters"   # over the call's arguments (defaults filled in)
    why = "stride 1 with a channel change needs the 1x1 projection"

A :class:`Recorder` watches the reference while the checks observe (with
``sys.settrace``, call events only, so nothing in the module is replaced)
and notes, per check, the functions called and the cases that held.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
import tomllib
from pathlib import Path
from typing import Any

import numpy as np


@dataclasses.dataclass(frozen=True)
class Case:
    function: str
    when: str
    why: str = ""

    @property
    def code(self):
        return compile(self.when, f"<case {self.function}: {self.when}>", "eval")


def load_cases(lab) -> list[Case]:
    """The cases of ``assignments/<lab>/cases.toml`` (none when absent)."""
    path = lab.assignment_dir / "cases.toml"
    if not path.is_file():
        return []
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return [Case(c["function"], c["when"], c.get("why", "")) for c in data.get("case", [])]


class Recorder:
    """Notes, for each check, what it made the module at ``filename`` do."""

    def __init__(self, filename: str | Path, cases: list[Case] = ()):
        self.filename = str(Path(filename).resolve())
        self.cases = list(cases)
        self._codes = [(c, c.code) for c in self.cases]
        #: function (qualified name) → names of the checks that called it
        self.callers: dict[str, set[str]] = {}
        #: index into ``cases`` → names of the checks under which it held
        self.hits: dict[int, set[str]] = {}
        #: (case index, message) for cases whose ``when`` raised
        self.errors: dict[int, str] = {}
        self._check: str | None = None

    def _trace(self, frame, event, arg):
        if event == "call" and frame.f_code.co_filename == self.filename and self._check is not None:
            qualname = frame.f_code.co_qualname
            self.callers.setdefault(qualname, set()).add(self._check)
            if self._codes:
                self._evaluate(qualname, frame.f_locals)
        return None

    def _evaluate(self, qualname: str, arguments: dict[str, Any]) -> None:
        for index, (case, code) in enumerate(self._codes):
            if case.function != qualname:
                continue
            try:
                held = eval(code, {"np": np, "__builtins__": __builtins__}, dict(arguments))  # noqa: S307 - kit's own file
            except Exception as exc:  # noqa: BLE001 - a case that does not apply to this call
                self.errors.setdefault(index, f"{type(exc).__name__}: {exc}")
                continue
            if held:
                self.hits.setdefault(index, set()).add(self._check)

    @contextlib.contextmanager
    def around(self, check):
        """Record while ``check`` observes."""
        self._check = check.name
        previous = sys.gettrace()
        sys.settrace(self._trace)
        threading.settrace(self._trace)
        try:
            yield
        finally:
            sys.settrace(previous)
            threading.settrace(None)
            self._check = None

    def unexercised(self) -> list[Case]:
        return [c for i, c in enumerate(self.cases) if i not in self.hits]

    def table(self) -> str:
        """Each case and the checks that exercise it, for a report."""
        lines = []
        for i, case in enumerate(self.cases):
            checks = ", ".join(sorted(self.hits.get(i, ()))) or "NONE"
            lines.append(f"{case.function}: {case.when}  <-  {checks}")
        return "\n".join(lines)


def public_functions(module) -> list[tuple[str, Any]]:
    """(qualified name, function) of every public function ``module`` defines,
    and of the public methods (and ``call``/``__init__``) of its classes."""
    import inspect

    out = []
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            out.append((name, obj))
        elif isinstance(obj, type):
            for attr, member in vars(obj).items():
                if inspect.isfunction(member) and (not attr.startswith("_") or attr == "__init__"):
                    out.append((f"{name}.{attr}", member))
    return out
