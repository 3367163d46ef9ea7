"""A study's plot: one metric against one factor, a line per level of another.

Runs in the student's process and in bundles: matplotlib (Agg: no display
needed) and the standard library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from grader.study.table import Row


def plot(rows: Iterable[Row] | str | Path, study, *, x: str, y: str, hue: str | None = None,
         path: str | Path | None = None, title: str | None = None):
    """Plot ``y`` (a metric) against ``x`` (a factor), one line per level of
    ``hue`` (another factor), averaging over seeds and the other factors.

    ``rows`` is what :func:`grader.study.run_study` returned, or the table's
    path (read and validated). ``study`` as for ``run_study``. Saves to
    ``path`` (default ``<y>_by_<x>.png``) and returns the path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from grader.study import table as tables
    from grader.study.run import _study

    study = _study(study)
    if isinstance(rows, (str, Path)):
        rows = tables.parse(Path(rows).read_bytes(), study, Path(rows).name)
    rows = list(rows)
    if x not in study.factors or (hue is not None and hue not in study.factors):
        raise ValueError(f"x and hue must be factors of the study: {', '.join(study.factors)}")
    if y not in study.metrics:
        raise ValueError(f"y must be a metric of the study: {', '.join(study.metrics)}")
    xs = list(study.factors[x])
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in xs)
    figure, axes = plt.subplots(figsize=(5, 3.5))
    for group in (study.factors[hue] if hue else (None,)):
        points = []
        for i, level in enumerate(xs):
            values = [r.metrics[y] for r in rows
                      if r.factors[x] == level and (hue is None or r.factors[hue] == group)]
            if values:
                points.append((level if numeric else i, sum(values) / len(values)))
        if points:
            axes.plot(*zip(*points), marker="o", label=None if hue is None else f"{hue} = {group}")
    if not numeric:
        axes.set_xticks(range(len(xs)), [str(v) for v in xs])
    axes.set_xlabel(x)
    axes.set_ylabel(y)
    axes.set_title(title or f"{y} by {x}")
    if hue:
        axes.legend()
    figure.tight_layout()
    path = Path(path) if path is not None else Path(f"{y}_by_{x}.png")
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
