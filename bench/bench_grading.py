"""Benchmark of batch grading (not a test): ``python bench/bench_grading.py [--quick] [-j 2]``.

Grades 8 CNN submissions (the reference, the starter and six mutants) three
ways, in one run, and prints the figures side by side:

1. **naive**: a serial loop of one plain ``python`` process per submission
   running the checks in-process (``self_check``; TensorFlow imported in
   each process, no sandbox): what a TA's shell loop would do;
2. **sandboxed**: the same submissions one after the other through
   ``grader.core.grading.grade`` (observe in the jail, judge in the parent).
   Its extra time over (1) is the sandbox+judge overhead (target ≤ 15 %);
3. **batch**: ``grader.core.batch.run`` with ``-j`` workers (default 2), each with
   ``cores // j`` TensorFlow threads. Its throughput against (1) is the
   batch speed-up (target ≥ 1.3×); the peak RSS of each worker's process tree
   is the memory figure (target ≤ 2 GB).

(1) and (2) alternate submission by submission, so a change in the load of
a shared machine hits both alike. ``--quick`` leaves out the training
check (the figures are then dominated by start-up, the sandbox's worst case).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from grader.core import batch
from grader.labs import mutants  # noqa: E402
from grader.core.grading import grade  # noqa: E402
from grader.labs.lab import Lab  # noqa: E402
from grader.sandbox import GIB, Limits, describe, isolation  # noqa: E402

NAIVE = """
import json, resource, sys, time
start = time.perf_counter()
from grader.core.grading import self_check
from grader.labs.lab import Lab
lab = Lab.load(sys.argv[1])
result = self_check(lab, sys.argv[2], visibility=None, names=json.loads(sys.argv[3]), alias="bench_submission")
print(json.dumps({"score": result.score, "wall": time.perf_counter() - start,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def submissions(lab: Lab, folder: Path) -> list[Path]:
    """The reference, the starter and the first six mutants, as folders."""
    out = [lab.solution_dir, lab.starter_dir]
    for mutant in mutants.load(lab)[:6]:
        out.append(mutants.materialize(lab, mutant, folder))
    return out


def naive(lab: Lab, path: Path, names: list[str]) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", NAIVE, lab.id, str(path), json.dumps(names)], cwd=ROOT,
                          capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    data["wall"] = time.perf_counter() - start
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default="cnn")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="leave out training checks")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 110))
    lab = Lab.load(args.lab)
    names = [c.name for c in lab.checks() if not (args.quick and c.kind == "training")]
    level = isolation()
    console.print(f"sandbox: {level} ({describe(level)}); {os.cpu_count()} cores; "
                  f"load average at start {os.getloadavg()[0]:.1f}; checks: {len(names)}")
    with tempfile.TemporaryDirectory(prefix="dlkit-bench-") as tmp:
        subs = submissions(lab, Path(tmp) / "mutants")
        rows = []
        for path in subs:
            plain = naive(lab, path, names)
            start = time.perf_counter()
            sandboxed = grade(lab, path, names=names)
            rows.append((path.name, plain, time.perf_counter() - start, sandboxed))
            console.print(f"  {path.name}: naive {plain['wall']:.1f}s, sandboxed {rows[-1][2]:.1f}s "
                          f"(scores {plain['score']:g} / {sandboxed.score:g})")
        start = time.perf_counter()
        outcome = batch.run(lab, subs, Path(tmp) / "batch", batch.Options(jobs=args.jobs, names=names,
                                                                             limits=Limits()), console=console)
        batch_wall = time.perf_counter() - start

    naive_total = sum(r[1]["wall"] for r in rows)
    sandbox_total = sum(r[2] for r in rows)
    overhead = sandbox_total / naive_total - 1
    speedup = naive_total / batch_wall
    worker_rss = max(r.info.peak_rss or 0 for r in outcome.results) / GIB
    naive_rss = max(r[1]["rss"] for r in rows) / GIB

    table = Table(title=f"grading {len(subs)} {lab.id} submissions ({len(names)} checks each)")
    for col in ("", "naive serial (plain process each)", "sandboxed serial", f"batch -j {args.jobs}", "target"):
        table.add_column(col, justify="right")
    table.add_row("wall time", f"{naive_total:.1f} s", f"{sandbox_total:.1f} s", f"{batch_wall:.1f} s", "")
    table.add_row("throughput", f"{len(subs) / naive_total * 60:.2f} /min", f"{len(subs) / sandbox_total * 60:.2f} /min",
                  f"{len(subs) / batch_wall * 60:.2f} /min", "")
    table.add_row("sandbox+judge overhead", "", f"{overhead:+.1%}", "", "≤ 15 %")
    table.add_row("batch speed-up vs naive", "", "", f"{speedup:.2f}×", "≥ 1.3×")
    table.add_row("peak RSS per worker", f"{naive_rss:.2f} GB", "", f"{worker_rss:.2f} GB", "≤ 2 GB")
    console.print(table)
    console.print(f"load average at the end {os.getloadavg()[0]:.1f} (a shared machine inflates every figure)")
    mismatched = [r[0] for r in rows if abs(r[1]["score"] - r[3].score) > 1e-9]
    if mismatched:
        console.print(f"[red]scores differ between in-process and sandboxed grading: {mismatched}[/]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
