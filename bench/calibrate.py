"""Calibrate a lab's training checks: run the reference over several seeds.

    python bench/calibrate.py cnn [--check cnn_training] [--seeds 0 1 2 3 4]

Prints, per training check and seed, the judge's message (the metric against
the threshold in lab.toml) and the wall time, then the check's own graded
seed. Thresholds in lab.toml are set below the worst seed with a margin.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader import runner  # noqa: E402
from grader.device import configure, seed_everything  # noqa: E402
from grader.lab import Lab, load_submission  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("lab")
    p.add_argument("--check", action="append", help="training check(s); default: all of the lab's")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = p.parse_args()

    info = configure()
    lab = Lab.load(args.lab)
    ref = load_submission(lab.solution_file, lab.module, alias="_calibrated_reference")
    checks = [c for c in lab.checks() if (c.name in args.check if args.check else c.kind == "training")]
    print(f"{lab.id}: {len(checks)} training check(s) on {info['device']} with {info['threads']} threads")
    for chk in checks:
        made = chk.make_inputs()
        for seed in [None, *args.seeds]:
            start = time.perf_counter()
            obs = runner.observe(chk, ref, made.public) if seed is None else _seeded(chk, ref, made, seed)
            result = runner.judge(chk, obs, None, made.secret)
            label = "graded seed" if seed is None else f"seed {seed}"
            print(f"  {chk.name} {label:>11}: {result.score:g}/{chk.points:g} {result.message} "
                  f"[{time.perf_counter() - start:.1f}s]", flush=True)


def _seeded(chk, ref, made, seed):
    """Like runner.observe, with another seed than the check's own."""
    original = type(chk).seed
    type(chk).seed = property(lambda self: seed)
    try:
        return runner.observe(chk, ref, made.public)
    finally:
        type(chk).seed = original


if __name__ == "__main__":
    main()
