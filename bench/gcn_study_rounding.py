"""How much another machine's rounding can move a row of the GCN lab's study
(not a test): ``python bench/gcn_study_rounding.py [--datasets cora citeseer]``.

A student's table is made on their machine and re-run on the graders', whose
CPU kernels round differently. As a stand-in, every non-zero feature of the
graph is moved by one float32 ulp (``np.nextafter``) and the reference's
``run_config`` re-runs rows of its own table (``solutions/gcn/study.csv``,
seed 0): the largest |re-run − table| sets a floor under ``[study.tolerance]``
in ``assignments/gcn/lab.toml``. The rows chosen are those where it matters:
depth 2 and 8, with and without PairNorm (the deep ReLU stack without it is
the unstable one), and the node task's deep ReLU rows with every self-loop and
DropEdge level.

Prints one line per row (claimed, re-run, difference) and the largest
difference with how many rows exceed 0.01.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import itertools
import time

import numpy as np

FACTORS = ("task", "dataset", "self_loops", "depth", "dropedge", "pairnorm", "activation")


def rows(datasets):
    """The (task, dataset, self_loops, depth, dropedge, pairnorm, activation) rows to re-run."""
    chosen = []
    for task, depth, pairnorm, activation in itertools.product(("node", "link"), (2, 8), (False, True),
                                                               ("relu", "tanh")):
        chosen.append((task, datasets[0], True, depth, 0.0, pairnorm, activation))
    for dataset, depth, dropedge, self_loops in itertools.product(datasets, (4, 8), (0.0, 0.5), (True, False)):
        chosen.append(("node", dataset, self_loops, depth, dropedge, False, "relu"))
    return list(dict.fromkeys(chosen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    args = parser.parse_args()

    from grader.device import configure

    configure()
    from grader.labs.lab import Lab, load_submission

    lab = Lab.load("gcn")
    ref = load_submission(lab.solution_file, "gcn", alias="_gcn_rounding")
    table = {tuple(r[k] for k in FACTORS): float(r["score"])
             for r in csv.DictReader(open(lab.solution_dir / "study.csv", encoding="utf-8"))}
    graphs = ref.study_graphs

    def nudged(dataset):
        out = []
        for graph in graphs(dataset):
            features = graph.features.copy()
            features.data = np.nextafter(features.data, np.float32(np.inf)).astype(np.float32)
            out.append(dataclasses.replace(graph, features=features))
        return tuple(out)

    ref.study_graphs = nudged
    differences = []
    for row in rows(args.datasets):
        start = time.perf_counter()
        got = ref.run_config(*row, seed=0)["score"]
        want = table[tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in row)]
        differences.append(abs(got - want))
        print(f"{dict(zip(FACTORS, row))}: table {want:.4f}, one ulp off {got:.4f}, "
              f"difference {got - want:+.4f} ({time.perf_counter() - start:.1f}s)", flush=True)
    print(f"largest difference {max(differences):.4f}; {sum(d > 0.01 for d in differences)} of "
          f"{len(differences)} rows beyond 0.01")


if __name__ == "__main__":
    main()
