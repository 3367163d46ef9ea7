"""What a lab's walkthrough notebook uses: its public checks and its parts.

Each lab's ``notebook.py`` (the student bundle's ``<lab>.ipynb``) starts with::

    walk = Walkthrough("cnn")
    check, part = walk.check, walk.part

then shows each part of the lab under ``with part("Part 1"):`` and ends it
with ``check("conv_arithmetic")``. A part whose code is not written yet, or
raises, prints one line and lets the notebook go on, so *Run All* reaches
the check below it, which says what is wrong.

Runs in the student's kernel (it ships in the student bundle).
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

from grader.core.grading import self_check
from grader.core.runner import describe_exception
from grader.labs.lab import Lab
from grader.reports.console import print_result


class Walkthrough:
    """A lab's notebook helpers: :meth:`check` and :meth:`part` for ``lab_id``."""

    def __init__(self, lab_id: str):
        self.lab = Lab.load(lab_id)
        self.filename = self.lab.filename

    def check(self, *names: str) -> None:
        """Run the public checks ``names`` (all of them when none is given) on your file."""
        print_result(self_check(self.lab, self.filename, names=names or None, alias=f"_checked_{self.lab.id}"))

    @contextlib.contextmanager
    def part(self, title: str) -> Iterator[None]:
        """Run a part's cell; if your code for it is not written yet or raises, say so in one
        line and carry on, so that "Run All" reaches the check below, which says what is wrong."""
        try:
            yield
        except NotImplementedError as exc:
            print(f"{title}: {self.raised_in(exc)} is not implemented yet — see the check below.")
        except Exception as exc:  # any error of your code: shown here, explained by the check
            print(f"{title}: your code raised an error — see the check below.\n"
                  f"{describe_exception(exc, self.filename)}")

    def raised_in(self, exc: BaseException) -> str:
        """The function of your file that raised ``exc`` (the innermost one), e.g. ``ResidualBlock.call``."""
        name, tb = f"a function of {self.filename}", exc.__traceback__
        while tb is not None:
            if os.path.basename(tb.tb_frame.f_code.co_filename) == self.filename:
                name = tb.tb_frame.f_code.co_qualname
            tb = tb.tb_next
        return name
