"""Calibrate the feed-forward lab's training checks: the reference over several salts.

    python bench/calibrate_ffn_training.py [--salts 5] [--only mdn_training regressor_training]

Runs each training check's own ``inputs``, ``observe`` and ``judge`` (the data,
network, loop and settings of ``lab.toml`` the graders use) on the reference
for salts 01…N (salt ``k`` is the byte ``k`` repeated 32 times, as
``DLKIT_SALT=0101…``: each draws the held-out points, and for the regressor
the training points, and the observe seed as grading does) and prints the
figures each threshold applies to, with the CPU and wall time:

* ``mdn_training``: the grader's NLL of the trained MDN on the held-out
  points minus the NLL of the data's own density on them (threshold
  ``max_excess_nll``), and the smallest mass the mixture puts within
  ``branch_half_width`` of either branch at the probe points
  (``min_branch_mass``);
* ``regressor_training``: the grader's MSE on held-out points of [0, 2π]
  (``max_val_mse``).

Thresholds sit beyond the worst run with the margin stated in ``lab.toml``.
The mistakes they must fail (a mixture without its softmax, one over the
batch axis, a single Gaussian, a network trained on unscaled inputs, SGD)
are the lab's mutants, proven caught by the kit's tests.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from grader.core.protocol import roundtrip  # noqa: E402
from grader.device import configure, seed_everything  # noqa: E402
from grader.labs.lab import Lab, load_submission  # noqa: E402


def figures(chk, got, secret):
    """The numbers ``chk``'s thresholds apply to, computed as its judge does."""
    from importlib import import_module

    common = import_module(f"{type(chk).__module__.rsplit('.', 1)[0]}.common")
    cfg = chk.config
    if chk.name == "mdn_training":
        k = cfg["k"]
        excess = common.mixture_nll(secret["y_test"], got["out"], k) - secret["true_nll"]
        masses = [min(common.branch_masses(row, k, float(px), cfg["branch_half_width"]))
                  for row, px in zip(np.asarray(got["probe"]), cfg["probe_x"])]
        return {"excess_nll": excess, "min_branch_mass": min(masses)}
    if chk.name == "regressor_training":
        return {"val_mse": float(np.mean((np.asarray(got["pred"]) - secret["y_test"]) ** 2))}
    return {}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--salts", type=int, default=5, help="number of salts (1, 2, …; default 5)")
    p.add_argument("--only", nargs="+", help="training checks to run (default: all)")
    args = p.parse_args()
    info = configure()
    lab = Lab.load("ffn")
    ref = load_submission(lab.solution_file, lab.module, alias="_ffn_training_reference")
    checks = [c for c in lab.checks() if c.kind == "training" and (not args.only or c.name in args.only)]
    print(f"ffn: reference on {info['device']} ({info['threads']} threads), salts 01…{args.salts:02x}")
    for chk in checks:
        rows = []
        for salt in (bytes([k]) * 32 for k in range(1, args.salts + 1)):
            chk.salt = salt
            made = chk.make_inputs()
            seed_everything(chk.observe_seed)
            wall, cpu = time.perf_counter(), time.process_time()
            got = roundtrip(chk.observe(ref, **made.public))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            verdict = chk.judge(got, None, made.secret)
            numbers = figures(chk, got, made.secret)
            rows.append(numbers)
            shown = ", ".join(f"{k} {v:.4g}" for k, v in numbers.items())
            print(f"  {chk.name:20s} salt {salt[0]:02x}: {shown}; score {verdict.fraction:.2f} "
                  f"[{wall:4.1f}s wall, {cpu:4.1f}s CPU]", flush=True)
        for key in rows[0]:
            values = [r[key] for r in rows]
            print(f"  {chk.name:20s} {key}: {min(values):.4g} … {max(values):.4g} over {len(values)} salts")


if __name__ == "__main__":
    main()
