"""Calibrate the GAN lab's training checks: run each on the reference (or on a
submission) over several seeds and print the figures its judge uses.

    python bench/calibrate_gan.py                      # the 4 graded training checks, seeds 0..4
    python bench/calibrate_gan.py gan wgan --seeds 0 1 2
    python bench/calibrate_gan.py cycle --set cyclegan_training.steps=2000
    python bench/calibrate_gan.py gan --set shared.ring.sigma=0.1
    python bench/calibrate_gan.py dcgan --seeds 0 1 2  # the optional long check
    python bench/calibrate_gan.py dcgan --submission path/to/gan.py   # grade one submission on it
    python bench/calibrate_gan.py --quick              # one seed of each graded training check

Each seed stands for one salt of a graded run: the check's inputs are drawn
from ``numpy.random.default_rng(seed)`` (in grading, from the check's salted
seed: the noise, the held-out samples and the CycleGAN's Y ring), and Python,
NumPy and Keras are seeded with it before training exactly as the check's
``observe`` does. Wall and CPU seconds are printed (CPU seconds are the better
guide on a shared machine). ``--set CHECK.key=value`` (or
``shared.ring.key=value``, ``checks.CHECK.key=value``) overrides lab.toml for
this run only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHECKS = {"gan": "gan_ring_training", "wgan": "wgan_ring_training", "cgan": "cgan_ring_training",
          "cycle": "cyclegan_training", "dcgan": "dcgan_digits"}


def figures(name, check, got, secret, seed, common, private):
    """The judge's figures (not just its verdict), for the table; ``common`` and
    ``private``: the lab's helper modules ``checks/common.py`` and ``checks/private.py``."""
    import numpy as np

    cfg, ring = check.config, check.shared["ring"]
    if name in ("gan", "wgan"):
        samples = np.asarray(got["samples"], dtype=np.float64)
        f = common.ring_figures(samples, ring, k_sigma=cfg["k_sigma"], min_count=cfg["min_count"])
        # The WGAN's judge compares with its held-out sample; the GAN's sliced EMD is for information only.
        fresh = secret.get("fresh")
        if fresh is None:
            fresh, _ = common.sample_ring(cfg["samples"], np.random.default_rng(seed + 10_000), ring)
        return {"modes": f["modes"], "high_quality": round(f["high_quality"], 4), "per_mode": sorted(f["counts"].tolist()),
                "sliced_emd": round(private.sliced_emd(samples, np.asarray(fresh, dtype=np.float64)), 4)}
    if name == "cgan":
        f = private.requested_mode_figures(np.asarray(got["samples"]), secret["requested"], ring, cfg["k_sigma"])
        return {"overall": round(f["overall"], 4), "worst_class": round(f["worst_class"], 4)}
    if name == "cycle":
        out = {}
        for key, spec in (("fake_y", cfg["target"]), ("fake_x", ring)):
            counts, good, _ = common.mode_report(np.asarray(got[key]), common.ring_centers(spec), spec["sigma"], cfg["k_sigma"])
            out[f"{key}_on_mode"] = round(float(np.mean(good)), 4)
            out[f"{key}_modes"] = int(np.sum(counts >= 20))
        out["cycle_l1"] = round(float(np.mean(np.abs(got["cycled_x"] - secret["x_test"]))
                                      + np.mean(np.abs(got["cycled_y"] - secret["y_test"]))), 4)
        return out
    return {}


def override(meta, item):
    """Apply one ``--set`` to lab.toml's parsed ``meta`` (before the checks read it)."""
    key, value = item.split("=", 1)
    path = key.split(".")
    if path[0] not in ("shared", "checks", "budget"):
        path = ["checks", *path]
    table = meta
    for part in path[:-1]:
        table = table.setdefault(part, {})
    table[path[-1]] = json.loads(value)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("which", nargs="*", help=f"some of {', '.join(CHECKS)} (default: gan wgan cgan cycle)")
    p.add_argument("--seeds", nargs="+", type=int, default=None, help="default 0 1 2 3 4")
    p.add_argument("--quick", action="store_true", help="seed 0 only (a smoke run)")
    p.add_argument("--submission", default=None, help="a gan.py (or its folder) instead of the reference")
    p.add_argument("--set", action="append", default=[], metavar="CHECK.KEY=VALUE", help="override lab.toml")
    args = p.parse_args(argv)
    unknown = sorted(set(args.which) - set(CHECKS))
    if unknown:
        p.error(f"unknown check(s) {', '.join(unknown)}; choose from {', '.join(CHECKS)}")
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2, 3, 4])

    import importlib

    import numpy as np

    from grader import Inputs
    from grader.core import protocol, runner
    from grader.device import configure, seed_everything
    from grader.labs.lab import Lab, load_submission

    info = configure()
    lab = Lab.load("gan")
    for item in args.set:
        override(lab.meta, item)
    checks = {c.name: c for c in lab.checks() + lab.checks("optional")}
    common = importlib.import_module(f"{lab.package}.common")
    private = importlib.import_module(f"{lab.package}.private")
    sub = load_submission(args.submission or lab.solution_file, "gan", alias="_calibrate_gan")
    print(f"# {info['device']}, {info['threads']} threads, TensorFlow {info['tensorflow']}; "
          f"submission {args.submission or 'reference'}; overrides {args.set or 'none'}", flush=True)

    for which in args.which or ["gan", "wgan", "cgan", "cycle"]:
        check = checks[CHECKS[which]]
        for seed in seeds:
            made = check.inputs(np.random.default_rng(seed))
            made = made if isinstance(made, Inputs) else Inputs(public=dict(made))
            seed_everything(seed)
            wall, cpu = time.perf_counter(), time.process_time()
            obs = runner.Observation("ok", check.observe(sub, **made.public))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            obs.value = protocol.roundtrip(protocol.to_plain(obs.value))
            result = runner.judge(check, obs, None, made.secret)
            figs = figures(which, check, obs.value, made.secret, seed, common, private)
            print(f"{which:6s} seed {seed}: wall {wall:5.1f}s cpu {cpu:5.1f}s  {json.dumps(figs)}  "
                  f"-> {result.status} {result.score:g}/{result.points:g}", flush=True)
            if which == "dcgan" or result.status != "passed":
                print(f"         {result.message}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
