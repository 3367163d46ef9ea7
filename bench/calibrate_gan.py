"""Calibrate the GAN lab's training checks: run each on the reference (or on a
submission) over several seeds and print the figures its judge uses.

    python bench/calibrate_gan.py                      # the 4 graded training checks, seeds 0..4
    python bench/calibrate_gan.py gan wgan --seeds 0 1 2
    python bench/calibrate_gan.py cycle --set cyclegan_training.steps=2000
    python bench/calibrate_gan.py dcgan --seeds 0 1 2  # the optional long check
    python bench/calibrate_gan.py dcgan --submission path/to/gan.py   # grade one submission on it

Each run seeds Python, NumPy and Keras with the seed (the graded run uses the
check's own name-derived seed), trains exactly as the check's ``observe`` does,
and prints wall and CPU seconds (CPU seconds are the better guide on a shared
machine). ``--set section.key=value`` overrides lab.toml for this run only.
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


def figures(name, check, got, secret, checks_pkg):
    """The judge's figures (not just its verdict), for the table."""
    import numpy as np

    lab = checks_pkg.LAB
    if name in ("gan", "wgan"):
        cfg = lab[f"{name}_training"]
        samples = np.asarray(got["samples"], dtype=np.float64)
        f = checks_pkg.ring_figures(samples, k_sigma=cfg["k_sigma"], min_count=cfg["min_count"])
        fresh, _ = checks_pkg.sample_ring(cfg["samples"], np.random.default_rng(lab["ring"]["data_seed"] + 2))
        return {"modes": f["modes"], "high_quality": round(f["high_quality"], 4), "min_per_mode": int(f["counts"].min()),
                "sliced_emd": round(checks_pkg.sliced_emd(samples, fresh.astype(np.float64)), 4)}
    if name == "cgan":
        f = checks_pkg.requested_mode_figures(np.asarray(got["samples"]), secret["requested"], lab["cgan_training"]["k_sigma"])
        return {"overall": round(f["overall"], 4), "worst_class": round(f["worst_class"], 4)}
    if name == "cycle":
        cfg = lab["cycle"]
        out = {}
        for key, ring in (("fake_y", "target"), ("fake_x", "ring")):
            centers, sigma = checks_pkg.ring_spec(ring)
            counts, good, _ = checks_pkg.mode_report(np.asarray(got[key]), centers, sigma, cfg["k_sigma"])
            out[f"{key}_on_mode"] = round(float(np.mean(good)), 4)
            out[f"{key}_modes"] = int(np.sum(counts >= 20))
        out["cycle_l1"] = round(float(np.mean(np.abs(got["cycled_x"] - secret["x_test"]))
                                      + np.mean(np.abs(got["cycled_y"] - secret["y_test"]))), 4)
        return out
    return {}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("which", nargs="*", default=["gan", "wgan", "cgan", "cycle"], choices=sorted(CHECKS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    p.add_argument("--submission", default=None, help="a gan.py (or its folder) instead of the reference")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override lab.toml")
    args = p.parse_args(argv)

    from grader import protocol, runner
    from grader.device import configure, seed_everything
    from grader.lab import Lab, load_submission

    info = configure()
    lab = Lab.load("gan")
    checks = {c.name: c for c in lab.checks()}
    import importlib

    checks_pkg = importlib.import_module("_dlkit_checks_gan")
    checks.update({c.name: c for c in checks_pkg.optional_checks()})
    for item in args.set:
        key, value = item.split("=", 1)
        section, field = key.split(".", 1)
        checks_pkg.LAB[section][field] = json.loads(value)
    sub = load_submission(args.submission or lab.solution_file, "gan", alias="_calibrate_gan")
    print(f"# {info['device']}, {info['threads']} threads, TensorFlow {info['tensorflow']}; "
          f"submission {args.submission or 'reference'}; overrides {args.set or 'none'}", flush=True)

    for which in args.which:
        check = checks[CHECKS[which]]
        made = check.make_inputs()
        for seed in args.seeds:
            seed_everything(seed)
            wall, cpu = time.perf_counter(), time.process_time()
            obs = runner.Observation("ok", check.observe(sub, **made.public))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            obs.value = protocol.roundtrip(protocol.to_plain(obs.value))
            result = runner.judge(check, obs, None, made.secret)
            figs = figures(which, check, obs.value, made.secret, checks_pkg)
            print(f"{which:6s} seed {seed}: wall {wall:5.1f}s cpu {cpu:5.1f}s  {json.dumps(figs)}  "
                  f"-> {result.status} {result.score:g}/{result.points:g}", flush=True)
            if which == "dcgan":
                print(f"         {result.message}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
