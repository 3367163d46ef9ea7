"""Running a study's grid with the student's own code, in the student's process.

:func:`run_study` is what a starter calls in one line once ``run_config``
works; it writes the table the grader checks (:mod:`grader.study.table`).
Standard library (and whatever ``run_config`` itself imports) only.
"""

from __future__ import annotations

import math
import time
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from grader.study import table as tables


def _study(study: Any):
    """A :class:`~grader.labs.study.Study` from a study, a lab (or its id or folder)."""
    from grader.labs.study import Study

    if isinstance(study, Study):
        return study
    if isinstance(study, dict):
        return Study.from_toml(study)
    from grader.labs.lab import Lab

    lab = study if isinstance(study, Lab) else Lab.load(study)
    if lab.study is None:
        raise ValueError(f"lab {lab.id} declares no [study] in its lab.toml")
    return lab.study


def run_study(fn: Callable[..., dict] | ModuleType, study: Any, *, seeds=(0,), path: str | Path | None = None,
              only: dict[str, Any] | None = None, log=print) -> list[tables.Row]:
    """Run every configuration of ``study`` with ``fn`` and write the table.

    ``fn`` is your ``run_config`` (or your module: its study function is
    used), called as ``fn(**factors, seed=seed)`` for every configuration
    and every seed of ``seeds``; it must return ``{metric: number}`` for the
    study's metrics. ``study`` is the lab's id (``"cnn"``), its folder, its
    :class:`~grader.labs.lab.Lab` or its :class:`~grader.labs.study.Study`.
    ``only`` (``{"depth": [1, 2]}``) runs part of the grid, to try things
    out. The table is written to ``path`` (default: the study's file name,
    ``study.csv``, in the current folder) after every row, so an
    interrupted run keeps what it measured; a configuration that raises is
    reported and left out (the grader then says the row is missing), but
    ``NotImplementedError`` (a TODO left in your code) stops the run.

    **Seed everything from ``seed``** at the top of ``run_config``
    (``keras.utils.set_random_seed(seed)`` seeds Python, NumPy and
    TensorFlow): the grader re-runs some rows of your table, drawn at
    random, with the same factors and seed, and compares the metrics (it
    seeds everything from the row's seed before the call too, and allows
    a small tolerance for thread timing). Returns the rows written.

    Example::

        from grader.study import run_study
        rows = run_study(run_config, "cnn", seeds=(0,))
    """
    study = _study(study)
    if isinstance(fn, ModuleType):
        fn = getattr(fn, study.function)
    path = Path(path) if path is not None else Path(study.table)
    configurations = [c for c in tables.grid(study)
                      if not only or all(c[k] in tuple(v) for k, v in only.items())]
    rows: list[tables.Row] = []
    failed = 0
    total = len(configurations) * len(seeds)
    for configuration in configurations:
        for seed in seeds:
            label = f"{tables.configuration_text(configuration)}, seed = {seed}"
            start = time.perf_counter()
            try:
                got = fn(**configuration, seed=int(seed))
                metrics = {m: float(got[m]) for m in study.metrics}
                bad = [m for m, v in metrics.items() if not math.isfinite(v)]
                if bad:
                    raise ValueError(f"{', '.join(bad)} is not a finite number")
            except NotImplementedError:
                raise  # a TODO left in run_config: every row would fail the same way
            except Exception as exc:  # noqa: BLE001 - one failed configuration must not lose the rest
                failed += 1
                where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
                line = f" (line {where.lineno} of {Path(where.filename).name})" if where else ""
                log(f"[{len(rows) + failed}/{total}] {label}: FAILED, {type(exc).__name__}: {exc}{line}")
                continue
            rows.append(tables.Row(dict(configuration), int(seed), metrics))
            tables.write(rows, study, path)
            shown = ", ".join(f"{m} = {v:.4g}" for m, v in metrics.items())
            log(f"[{len(rows) + failed}/{total}] {label}: {shown} ({time.perf_counter() - start:.1f}s)")
    if failed:
        log(f"{failed} run(s) failed and are not in {path}: fix them and run again")
    return rows
