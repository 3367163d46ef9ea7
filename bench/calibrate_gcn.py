"""Calibrate the GCN lab's training checks: the reference over several seeds.

    python bench/calibrate_gcn.py [--seeds 0 1 2 3 4] [--only gcn_cora_training ...]

Runs each training check's own ``observe`` (the same loop, configuration and
data the graders use) on the reference solution with the seeds given, and
prints its metric per seed (and for the check's own graded seed), the wall
and CPU time, and the threshold from ``lab.toml``. The Cora check is also run on Citeseer (same hyper-parameters,
Planetoid split: 120 training nodes, 1,000 test nodes), which is reported but
not graded. Thresholds are set below the worst seed with the margin stated in
``lab.toml``.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.device import configure, seed_everything  # noqa: E402
from grader.lab import Lab, load_submission  # noqa: E402
from grader.protocol import roundtrip  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--only", nargs="+", help="training checks to run (default: all, plus Citeseer)")
    args = p.parse_args()

    info = configure()
    lab = Lab.load("gcn")
    ref = load_submission(lab.solution_file, lab.module, alias="_gcn_calibrated_reference")
    checks = [c for c in lab.checks() if c.kind == "training"]
    cora = next(c for c in checks if c.name == "gcn_cora_training")
    citeseer = type("GcnCiteseerTraining", (type(cora),), {"dataset": "citeseer", "__module__": __name__})()
    checks.insert(checks.index(cora) + 1, citeseer)
    if args.only:
        checks = [c for c in checks if c.name in args.only]
    print(f"gcn: reference on {info['device']} ({info['threads']} threads), seeds {args.seeds}")

    for chk in checks:
        made = chk.make_inputs()
        section = "gcn_cora" if chk is citeseer else chk.name
        threshold = _threshold(lab, section)
        figures = []
        for seed in [*args.seeds, None]:
            seed_everything(chk.seed if seed is None else seed)
            wall, cpu = time.perf_counter(), time.process_time()
            got = roundtrip(chk.observe(ref, **made.public))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            metric = chk.metric(got, made.secret)
            label = "graded seed" if seed is None else f"seed {seed}"
            print(f"  {chk.name:28s} {label:>11}: {metric:.4f}  [{wall:5.1f}s wall, {cpu:5.1f}s CPU]", flush=True)
            if seed is not None:
                figures.append(metric)
        worst = min(figures)
        note = f"threshold {threshold:.3f}, margin {worst - threshold:+.3f}" if chk is not citeseer else "not graded"
        print(f"  {chk.name:28s} mean {statistics.mean(figures):.4f} ± {statistics.pstdev(figures):.4f}, "
              f"worst {worst:.4f} ({note})", flush=True)


def _threshold(lab: Lab, check_name: str) -> float:
    sections = {"gcn_cora_training": "gcn_cora", "gat_training": "gat_sbm", "sage_inductive": "sage_inductive",
                "link_prediction_cora": "link_cora", "gcn_cora": "gcn_cora"}
    return float(lab.meta["training"][sections[check_name]]["threshold"])


if __name__ == "__main__":
    main()
