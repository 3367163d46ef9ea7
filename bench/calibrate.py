"""Calibrate a lab's training checks: run the reference over several seeds.

    python bench/calibrate.py cnn [--check cnn_training] [--seeds 0 1 2 3 4] [--quick]

Prints, per training check and seed, the judge's message (the metric against
the threshold in lab.toml's ``[checks.<name>]``) and the wall time: first the
check's own graded inputs and model seed (from the salt in use), then, for
seed ``s``, inputs drawn from ``default_rng(s)`` (another data split) and a
model seeded with ``s``. Thresholds in lab.toml are set below the worst seed
with a margin.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader import Inputs
from grader.core import runner  # noqa: E402
from grader.device import configure  # noqa: E402
from grader.labs.lab import Lab, load_submission  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("lab")
    p.add_argument("--check", action="append", help="training check(s); default: all of the lab's")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--quick", action="store_true", help="the graded seed and seed 0 only")
    args = p.parse_args()
    if args.quick:
        args.seeds = args.seeds[:1]

    info = configure()
    lab = Lab.load(args.lab)
    ref = load_submission(lab.solution_file, lab.module, alias="_calibrated_reference")
    checks = [c for c in lab.checks() if (c.name in args.check if args.check else c.kind == "training")]
    print(f"{lab.id}: {len(checks)} training check(s) on {info['device']} with {info['threads']} threads")
    for chk in checks:
        for seed in [None, *args.seeds]:
            made = chk.make_inputs() if seed is None else _inputs(chk, seed)
            start = time.perf_counter()
            obs = runner.observe(chk, ref, made.public, seed=seed)
            result = runner.judge(chk, obs, None, made.secret)
            label = "graded seed" if seed is None else f"seed {seed}"
            print(f"  {chk.name} {label:>11}: {result.score:g}/{chk.points:g} {result.message} "
                  f"[{time.perf_counter() - start:.1f}s]", flush=True)


def _inputs(chk, seed):
    """The check's inputs drawn with another seed than its own."""
    import numpy as np

    made = chk.inputs(np.random.default_rng(seed))
    return made if isinstance(made, Inputs) else Inputs(public=dict(made))


if __name__ == "__main__":
    main()
