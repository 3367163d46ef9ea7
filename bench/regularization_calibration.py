"""Calibrate the regularisation lab's statistical tests (Part 3, ``assignments/regularization/lab.toml``).

    python bench/regularization_calibration.py [--seeds 20]

For the reference over ``--seeds`` seeds and for each classic mistake, the z of every test
the checks make on a random mask (as ``judge_draws`` computes them): the zeros of
``dropout(ones(n), rate, True)`` and of the slides' form, the zeros of two
``DropConnectDense`` calls and how many weights their masks treat differently. The
reference's largest |z| must stay under 5; a mistake is caught where its smallest |z|
is above 5. Rates: the public 0.3 and the ends of the hidden draw, 0.1 and 0.6.
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    seeds = parser.parse_args().seeds
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
