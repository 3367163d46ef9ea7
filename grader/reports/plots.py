"""Figures for the reports, drawn with matplotlib's object API (no pyplot
state, so worker threads can draw at the same time) and returned as PNG
bytes."""

from __future__ import annotations

import io
from typing import Sequence


def _figure(width: float = 5.0, height: float = 3.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def training_curve(curves: dict[str, Sequence[float]], title: str) -> bytes:
    """Per-epoch histories (``loss``, ``val_accuracy``, …) against the epoch;
    losses on the left axis, accuracies on the right."""
    fig = _figure()
    ax = fig.add_subplot()
    accuracy_ax = None
    for key, values in curves.items():
        epochs = range(1, len(values) + 1)
        if "acc" in key:
            accuracy_ax = accuracy_ax or ax.twinx()
            accuracy_ax.plot(epochs, values, marker="o", linestyle="--", label=key, color="tab:green")
            accuracy_ax.set_ylabel("accuracy")
        else:
            ax.plot(epochs, values, marker="o", label=key)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    handles = ax.get_legend_handles_labels()
    if accuracy_ax is not None:
        more = accuracy_ax.get_legend_handles_labels()
        handles = (handles[0] + more[0], handles[1] + more[1])
    ax.legend(*handles, loc="best")
    ax.grid(alpha=0.3)
    return _png(fig)


def histogram(scores: Sequence[float], max_score: float) -> bytes:
    """How many submissions scored what."""
    fig = _figure(6, 3)
    ax = fig.add_subplot()
    bins = max(5, min(28, int(max_score * 2) or 5))
    ax.hist(list(scores), bins=bins, range=(0, max_score or 1), color="tab:blue", edgecolor="white")
    ax.set_xlabel(f"score (out of {max_score:g})")
    ax.set_ylabel("submissions")
    ax.set_title("score distribution")
    return _png(fig)


def pass_rates(names: Sequence[str], rates: Sequence[float]) -> bytes:
    """Share of submissions passing each check (horizontal bars)."""
    fig = _figure(6, 0.8 + 0.28 * max(1, len(names)))
    ax = fig.add_subplot()
    positions = range(len(names))
    ax.barh(list(positions), [100 * r for r in rates], color="tab:green")
    ax.set_yticks(list(positions), labels=list(names))
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of submissions passing")
    return _png(fig)
