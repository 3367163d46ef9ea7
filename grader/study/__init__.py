"""A lab's study: run the grid, write and plot the table, check it is reproduced.

For students (standard library, NumPy and matplotlib; they run in your
process and in bundles): :func:`run_study` runs every configuration with
your ``run_config`` and writes the table; :func:`plot` draws a metric
against a factor. For the grader: :mod:`grader.study.table` reads and
validates a handed-in table, :mod:`grader.study.check` re-runs rows of it
in the sandbox (the ``study`` check).
"""

from grader.study.plots import plot
from grader.study.run import run_study
from grader.study.table import Row, TableError

__all__ = ["Row", "TableError", "plot", "run_study"]
