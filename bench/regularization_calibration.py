"""Calibrate the regularisation lab's statistical tests (Part 3, ``assignments/regularization/lab.toml``).

    python bench/regularization_calibration.py [masks|equivalence|all] [--seeds 20]

For the reference over ``--seeds`` seeds and for each classic mistake, the z of every test
the checks make on a random mask (as ``judge_draws`` computes them): the zeros of
``dropout(ones(n), rate, True)`` and of the slides' form, the zeros of two
``DropConnectDense`` calls and how many weights their masks treat differently. The
reference's largest |z| must stay under 5; a mistake is caught where its smallest |z|
is above 5. Rates: the public 0.3 and the ends of the hidden draw, 0.1 and 0.6.
``equivalence``: Part 6's relative gap between τ steps of gradient descent and the L2
solution with α = 1/(τε) on the checks' spectra, and with the mistake α = τε.
"""

import argparse
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.labs.lab import Lab, load_submission  # noqa: E402

LAB = Lab.load("regularization")
REF = load_submission(LAB.solution_file, "regularization", alias="_ref_regularization_bench")
N, D, UNITS = 10**6, 200, 500
Z = 5.0


def z_score(count, n, p):
    return (count - n * p) / math.sqrt(n * p * (1 - p))


def dropout_zeros(fn, rate, seed):
    return int(np.sum(np.asarray(fn(np.ones(N, dtype="float32"), rate, True, seed=seed)) == 0))


def drop_connect(rate, fixed_seed=False):
    layer = REF.DropConnectDense(UNITS, rate)
    eye = np.eye(D, dtype="float32")
    layer(eye[:1])
    if fixed_seed:
        first = second = np.asarray(layer(eye, training=True, kernel_mask=np.asarray(
            np.random.default_rng(0).uniform(size=(D, UNITS)) >= rate, dtype="float32")))
    else:
        first, second = (np.asarray(layer(eye, training=True)) for _ in range(2))
    return int(np.sum(first == 0)), int(np.sum(second == 0)), int(np.sum((first != 0) != (second != 0)))


def equivalence(seeds):
    """Part 6: the relative gap between the early-stopped path and the L2 solution with α = 1/(τε),
    over spectra drawn as the checks draw them (public ε 0.5, τ 5 and 20; hidden ε up to 0.5, τ up to 20)."""
    sys.path.insert(0, str(LAB.assignment_dir))
    from checks.public import spectrum_inputs

    gaps = {}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        for d in (4, 6, 7):
            for eps, tau in ((0.5, 5), (0.5, 20), (0.2, 5), (0.2, 20)):
                inp = spectrum_inputs(rng, d, eps, (tau,))
                gd = REF.gd_path_solution(inp["h"], inp["w_star"], eps, tau)
                l2 = REF.l2_solution(inp["h"], inp["w_star"], REF.equivalent_alpha(eps, tau))
                gaps.setdefault((eps, tau), []).append(np.linalg.norm(gd - l2) / np.linalg.norm(l2))
                wrong = REF.l2_solution(inp["h"], inp["w_star"], tau * eps)
                gaps.setdefault(("α = τε", tau), []).append(np.linalg.norm(gd - wrong) / np.linalg.norm(wrong))
    for key, values in gaps.items():
        print(f"  gap {key}: {min(values):.4f} … {max(values):.4f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", nargs="?", default="all", choices=("masks", "equivalence", "all"))
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    seeds = args.seeds
    if args.what in ("equivalence", "all"):
        print(f"early stopping ≈ L2, {seeds} seeds:")
        equivalence(seeds)
    if args.what == "equivalence":
        return
    for rate in (0.3, 0.1, 0.6):
        rows = {"dropout: reference": [], "dropout_weight_scaling: reference": [], "dropout: rate as keep": [],
                "dropout: rate + 0.01": []}
        for seed in range(seeds):
            rows["dropout: reference"].append(z_score(dropout_zeros(REF.dropout, rate, seed), N, rate))
            rows["dropout_weight_scaling: reference"].append(
                z_score(dropout_zeros(REF.dropout_weight_scaling, rate, seed), N, rate))
            rows["dropout: rate as keep"].append(z_score(dropout_zeros(REF.dropout, 1 - rate, seed), N, rate))
            rows["dropout: rate + 0.01"].append(z_score(dropout_zeros(REF.dropout, rate + 0.01, seed), N, rate))
        weights, disagree = D * UNITS, 2 * rate * (1 - rate)
        dc = [drop_connect(rate) for _ in range(max(3, seeds // 4))]
        rows["DropConnect: reference zeros"] = [z_score(c, weights, rate) for a, b, _ in dc for c in (a, b)]
        rows["DropConnect: reference masks differ"] = [z_score(d, weights, disagree) for _, _, d in dc]
        a, b, d = drop_connect(rate, fixed_seed=True)
        rows["DropConnect: the same mask twice"] = [z_score(d, weights, disagree)]
        print(f"rate {rate}, n {N}, {seeds} seeds:")
        for name, zs in rows.items():
            zs = np.abs(np.array(zs))
            reference = "reference" in name
            value = zs.max() if reference else zs.min()
            flag = "" if reference else ("  caught" if value > Z else "  MISSED")
            print(f"  {name:40s} {'max' if reference else 'min'} |z| {value:10.1f}{flag}")


if __name__ == "__main__":
    main()
