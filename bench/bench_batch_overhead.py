"""Benchmark of a batch's fixed cost per submission, two checkouts side by side (not a test):
``python bench/bench_batch_overhead.py --before PATH --after PATH [-n 20] [-j 2] [--rounds 2] [--all]``.

Grades the same batch of ``n`` CNN submissions (the reference, the starter and
the lab's hand-written mutants from ``grader mutants cnn --write``, cycled to
``n`` folders) with each checkout's own virtual environment, exactly as a TA
would: ``PATH/.venv/bin/python -m grader grade cnn <subs> -o <out> -j J``.
The two checkouts alternate in an ABBA order (before, after, after, before, …)
so that a change in the load of a shared machine hits both alike; each is
first warmed up, untimed, on the reference alone (hidden fixtures made for the
salt if missing, files in the OS cache).

What it measures, from the batch's wall time and each submission's
``result.json`` (the same fields in both versions):

* **batch wall**: the ``grader grade`` command from start to exit (Python and
  TensorFlow start-up, intake, grading, reports);
* **checks' own work**: Σ over submissions and checks of the check's
  ``time``, the seconds its ``observe`` ran inside the worker;
* **fixed cost per submission** = (batch wall × J − checks' own work) / n:
  the worker-seconds the batch spends on anything but the checks, per
  submission. Judging is not timed by the grader, so it is counted here
  (it is the same code in both versions). Split three ways, which add up:

  - *sandbox*: mean of ``info.wall`` − Σ check times: starting a worker in its
    box, TensorFlow and the student's module imported, files copied in and
    read back;
  - *trusted side*: mean of ``time`` − ``info.wall``: the grader's own work for
    one submission outside the box (inputs made, when made per submission;
    judging);
  - *batch level*: (batch wall × J − Σ ``time``) / n: the command's start-up,
    selection and work done once per batch, intake, reports, and any worker
    slot left idle at the end.

The checks' own work is the same code in both checkouts: its ratio says how
much the machine's load differed between the two checkouts' runs. Two
figures are less hit by that load: the median over every submission of
every round of the *sandbox* figure (one busy moment inflates a mean, not a
median), and the **CPU time per submission**: user + system seconds of the
``grader grade`` command and every process it waited for (its workers), per
submission, which counts work done, not time spent waiting for a core.

The training check is left out (its minute of training would hide the fixed
cost) unless ``--all``. Scores and statuses of the two checkouts are compared
submission by submission; a difference is printed in red.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from grader.labs.lab import Lab  # noqa: E402

LAB = "cnn"


def python_of(checkout: Path) -> Path:
    """The checkout's own interpreter (``make setup`` makes it)."""
    python = checkout / ".venv" / "bin" / "python"
    if not python.is_file():
        raise SystemExit(f"{python} not found: run `make setup` in {checkout}")
    return python


def make_submissions(checkout: Path, folder: Path, n: int) -> list[Path]:
    """``n`` submission folders: the reference, the starter, then the mutants, cycled."""
    mutants_dir = folder / "mutants"
    subprocess.run([str(python_of(checkout)), "-m", "grader", "mutants", LAB, "--write", str(mutants_dir)],
                   cwd=checkout, check=True, capture_output=True)
    module = Lab.load(LAB).filename
    sources = [("reference", checkout / "solutions" / LAB / module), ("starter", checkout / "starter" / LAB / module)]
    mutants = [(p.name, p / module) for p in sorted(mutants_dir.iterdir()) if (p / module).is_file()]
    subs = []
    for i, (name, source) in enumerate(itertools.islice(itertools.chain(sources, itertools.cycle(mutants)), n), 1):
        sub = folder / "subs" / f"s{i:02d}_{name}"
        sub.mkdir(parents=True)
        shutil.copy(source, sub / module)
        subs.append(sub)
    return subs


def grade(checkout: Path, subs: list[Path], out: Path, jobs: int, names: list[str]) -> tuple[float, float]:
    """Run ``grader grade`` of ``checkout`` on ``subs``: its wall seconds and
    the CPU seconds of the command and every process it waited for."""
    command = [str(python_of(checkout)), "-m", "grader", "grade", LAB, *map(str, subs), "-o", str(out),
               "-j", str(jobs), "--only", *names, "--no-progress", "--show", "0"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    cpu_before, start = _children_cpu(), time.perf_counter()
    proc = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu_before
    (out.parent / f"{out.name}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError(f"{checkout}: grader grade exited {proc.returncode}\n{proc.stderr[-2000:]}")
    return wall, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def figures(wall: float, cpu: float, out: Path, jobs: int, n: int) -> dict:
    """The figures of one batch from its wall time and its ``result.json`` files."""
    results = [json.loads(p.read_text()) for p in sorted(out.glob("*/result.json"))]
    if len(results) != n:
        raise RuntimeError(f"{out}: {len(results)} result.json files for {n} submissions")
    observe = [sum(c["time"] for c in r["checks"]) for r in results]
    graded = sum(r["time"] for r in results)
    return {
        "wall": wall,
        "cpu": cpu / n,
        "observe": sum(observe),
        "fixed": (wall * jobs - sum(observe)) / n,
        "sandbox": statistics.mean(r["info"]["wall"] - o for r, o in zip(results, observe)),
        "trusted": statistics.mean(r["time"] - r["info"]["wall"] for r in results),
        "batch": (wall * jobs - graded) / n,
        "sandbox_each": [r["info"]["wall"] - o for r, o in zip(results, observe)],
        "starts": sum(r["info"].get("starts", 1) for r in results),
        "grades": {r["submission"]: (r["score"], [c["status"] for c in r["checks"]]) for r in results},
    }


ROWS = [  # key, label, format (seconds)
    ("wall", "batch wall", "{:.1f}"),
    ("observe", "checks' own work (Σ observe)", "{:.1f}"),
    ("fixed", "fixed cost per submission", "{:.2f}"),
    ("sandbox", "  sandbox: worker start, imports, files", "{:.2f}"),
    ("trusted", "  trusted side: inputs, judging", "{:.2f}"),
    ("batch", "  batch level: start-up, intake, reports, idle", "{:.2f}"),
    ("cpu", "CPU time per submission (grader and workers)", "{:.2f}"),
]


def table_of(runs: dict[str, list[dict]], title: str) -> Table:
    """The figures of the ``before`` and ``after`` runs side by side: medians over the rounds."""
    table = Table(title=title)
    table.add_column("", no_wrap=True)
    for col in ("before", "after", "after/before", "after−before"):
        table.add_column(col, justify="right", no_wrap=True)

    def add(label: str, before: float, after: float, fmt: str) -> None:
        ratio = f"{after / before:.2f}×" if before > 0 else ""
        table.add_row(label, *(f"{fmt.format(x)} s" for x in (before, after)), ratio,
                      f"{fmt.format(after - before)} s")

    for key, label, fmt in ROWS:
        add(label, *(statistics.median(f[key] for f in runs[c]) for c in ("before", "after")), fmt)
    add("sandbox per submission, median", *(statistics.median(x for f in runs[c] for x in f["sandbox_each"])
                                            for c in ("before", "after")), "{:.2f}")
    table.add_row("batch wall of each round", *(", ".join(f"{f['wall']:.1f}" for f in runs[c]) + " s"
                                               for c in ("before", "after")))
    table.add_row("worker starts (per batch)", *(str(runs[c][0]["starts"]) for c in ("before", "after")))
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the checkout before the change (with .venv)")
    parser.add_argument("--after", type=Path, required=True, help="the checkout after the change (with .venv)")
    parser.add_argument("-n", type=int, default=20, help="submissions in the batch (default 20)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="grader grade -j (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="timed batches per checkout (default 2)")
    parser.add_argument("--all", action="store_true", help="include the training check")
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for submissions, outputs and logs, kept (default: a private temporary one)")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 120))
    checkouts = {"before": args.before.resolve(), "after": args.after.resolve()}
    names = [c.name for c in Lab.load(LAB).checks() if args.all or c.kind != "training"]
    work = args.work or Path(tempfile.mkdtemp(prefix="dlkit-bench-overhead-"))  # mode 700: outputs hold hidden text
    work.mkdir(parents=True, exist_ok=True, mode=0o700)
    console.print(f"{args.n} {LAB} submissions, {len(names)} checks each, -j {args.jobs}, {args.rounds} rounds; "
                  f"{os.cpu_count()} cores; load average at start {os.getloadavg()[0]:.1f}; work in {work}")
    try:
        subs = make_submissions(checkouts["after"], work, args.n)
        for label, checkout in checkouts.items():  # untimed warm-up
            grade(checkout, subs[:1], work / f"warmup-{label}", 1, names)
        runs: dict[str, list[dict]] = {label: [] for label in checkouts}
        for r in range(args.rounds):
            for label in (("before", "after") if r % 2 == 0 else ("after", "before")):
                out = work / f"{label}-r{r + 1}"
                wall, cpu = grade(checkouts[label], subs, out, args.jobs, names)
                runs[label].append(figures(wall, cpu, out, args.jobs, args.n))
                console.print(f"  round {r + 1} {label}: {wall:.1f} s "
                              f"(load average {os.getloadavg()[0]:.1f})")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)

    console.print(table_of(runs, f"grading {args.n} {LAB} submissions ({len(names)} checks each, -j {args.jobs}), "
                                  f"median of {args.rounds} rounds"))
    console.print(f"load average at the end {os.getloadavg()[0]:.1f} (a shared machine inflates every figure)")
    reference = runs["before"][0]["grades"]
    differ = sorted({sub for f in runs["before"] + runs["after"] for sub, grade_ in f["grades"].items()
                     if grade_ != reference.get(sub)})
    if differ:
        console.print(f"[red]scores or statuses differ between runs for: {', '.join(differ)}[/]")
    else:
        console.print(f"scores and statuses identical in every run ({args.n} submissions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
