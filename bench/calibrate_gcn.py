"""Calibrate the GCN lab's training checks: the reference over several salts and seeds.

    python bench/calibrate_gcn.py [--salts 5] [--seeds 0 1 2 3 4] [--only gcn_cora_training ...] [--quick]

Runs each training check's own ``inputs`` and ``observe`` (the same loop,
configuration and data the graders use) on the reference solution and prints
its metric for every salt and seed, the wall and CPU time, and the threshold
from the check's ``[checks.<name>]`` table in ``lab.toml``.

The inputs of a training check come from the secret salt (the SBM graphs of
``gat_training`` and ``sage_inductive``, the held-out edges of
``link_prediction_cora``; Cora's Planetoid split is fixed), so a threshold
must hold for any salt: salt ``k`` here is the byte ``k`` repeated 32 times
(as ``DLKIT_SALT=0101…``), and each salt's inputs are trained with every seed
(and with the check's own observe seed, "graded seed", which the salt also
sets); inputs that do not depend on the salt (Cora's) are trained with the
seeds once, then with each salt's graded seed only. The Cora check is
also run on Citeseer (same hyper-parameters, Planetoid split: 120 training
nodes, 1,000 test nodes), which is reported but not graded. Thresholds are set
below the worst run with the margin stated in ``lab.toml``. ``--quick``: one
salt, one seed.
"""

import argparse
import hashlib
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.device import configure, seed_everything  # noqa: E402
from grader.labs.lab import Lab, load_submission  # noqa: E402
from grader.core.protocol import roundtrip  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--salts", type=int, default=5, help="number of salts (1, 2, …; default 5)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--only", nargs="+", help="training checks to run (default: all, plus Citeseer)")
    p.add_argument("--quick", action="store_true", help="one salt and one seed")
    args = p.parse_args()
    if args.quick:
        args.salts, args.seeds = 1, args.seeds[:1]

    info = configure()
    lab = Lab.load("gcn")
    ref = load_submission(lab.solution_file, lab.module, alias="_gcn_calibrated_reference")
    checks = [c for c in lab.checks() if c.kind == "training"]
    cora = next(c for c in checks if c.name == "gcn_cora_training")
    citeseer = type("GcnCiteseerTraining", (type(cora),), {"dataset": "citeseer", "__module__": __name__})()
    citeseer.config, citeseer.shared, citeseer.lab_id = cora.config, cora.shared, cora.lab_id
    checks.insert(checks.index(cora) + 1, citeseer)
    if args.only:
        checks = [c for c in checks if c.name in args.only]
    salts = [bytes([k]) * 32 for k in range(1, args.salts + 1)]
    print(f"gcn: reference on {info['device']} ({info['threads']} threads), salts 01…{args.salts:02x}, "
          f"seeds {args.seeds}")

    for chk in checks:
        threshold = float(chk.config["threshold"])
        figures, seen = [], set()
        for salt in salts:
            chk.salt = salt
            made = chk.make_inputs()
            digest = _digest(made.public)
            seeds = [None] if digest in seen else [*args.seeds, None]
            seen.add(digest)
            for seed in seeds:
                seed_everything(chk.observe_seed if seed is None else seed)
                wall, cpu = time.perf_counter(), time.process_time()
                got = roundtrip(chk.observe(ref, **made.public))
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                metric = chk.metric(got, made.secret)
                label = f"salt {salt[0]:02x} " + ("graded seed" if seed is None else f"seed {seed}")
                print(f"  {chk.name:28s} {label:>19}: {metric:.4f}  [{wall:5.1f}s wall, {cpu:5.1f}s CPU]", flush=True)
                figures.append(metric)
        worst = min(figures)
        note = f"threshold {threshold:.3f}, margin {worst - threshold:+.3f}" if chk is not citeseer else "not graded"
        print(f"  {chk.name:28s} {len(figures)} runs: mean {statistics.mean(figures):.4f} "
              f"± {statistics.pstdev(figures):.4f}, range {worst:.4f}–{max(figures):.4f} ({note})", flush=True)


def _digest(value) -> str:
    """A digest of plain input data (to spot inputs the salt leaves unchanged)."""
    import numpy as np

    h = hashlib.sha256()

    def walk(v):
        if isinstance(v, dict):
            for k in sorted(v):
                h.update(k.encode())
                walk(v[k])
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif isinstance(v, np.ndarray):
            h.update(str((v.dtype, v.shape)).encode())
            h.update(np.ascontiguousarray(v).tobytes())
        else:
            h.update(repr(v).encode())

    walk(value)
    return h.hexdigest()


if __name__ == "__main__":
    main()
