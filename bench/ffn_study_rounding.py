"""How far another machine's rounding can move a row of the feed-forward lab's
study, trained in float64 (as ``run_config`` does) and in float32, side by side
(not a test): ``python bench/ffn_study_rounding.py [--learning-rates 0.01 0.1] [--seeds 0]``.

A student's table is made on their machine and re-run on the graders', whose
CPU kernels sum in another order. As a stand-in, the training inputs are moved
by one ulp of the training precision (``np.nextafter``) and each row is trained
with and without the nudge. Training at a large learning rate is chaotic, so
the difference grows from that ulp; how far it grows sets a floor under
``[study.tolerance]`` in ``assignments/ffn/lab.toml``. float32 rows are trained
by the reference's ``run_config`` with its ``float64_keras`` block made a
no-op, so the two precisions run the same code in one process.

Prints one line per row (both precisions' differences in log10 validation and
training MSE), then per precision the largest difference and how many rows
move by more than 0.1 and 0.5 decades.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

METRICS = ("log10_val_mse", "log10_train_mse")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learning-rates", nargs="+", type=float, default=[0.01, 0.1])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    args = parser.parse_args()

    from grader.device import configure

    configure(2)
    import contextlib

    from grader.labs.lab import Lab, load_submission

    lab = Lab.load("ffn")
    ref = load_submission(lab.solution_file, lab.module, alias="_ffn_rounding")
    given_data, float64_keras = ref.sincos_data, ref.float64_keras

    def run(row, seed, precision, nudge):
        dtype = np.float64 if precision == "float64" else np.float32

        def data(*a):
            x_train, y_train, x_val, y_val = (v.astype(dtype) for v in given_data(*a))
            if nudge:
                x_train = np.nextafter(x_train, dtype(np.inf)).astype(dtype)
            return x_train, y_train, x_val, y_val

        ref.sincos_data = data
        ref.float64_keras = float64_keras if precision == "float64" else contextlib.nullcontext
        try:
            return ref.run_config(*row, seed=seed)
        finally:
            ref.sincos_data, ref.float64_keras = given_data, float64_keras

    factors = lab.study.factors
    moved = {p: [] for p in ("float64", "float32")}
    for row in itertools.product(*factors.values()):
        row = dict(zip(factors, row))
        if row["learning_rate"] not in args.learning_rates:
            continue
        for seed in args.seeds:
            start, line = time.perf_counter(), []
            for precision in moved:
                base, nudged = run(tuple(row.values()), seed, precision, False), run(tuple(row.values()), seed, precision, True)
                differences = [abs(nudged[m] - base[m]) for m in METRICS]
                moved[precision].append(max(differences))
                line.append(f"{precision} " + " ".join(f"{d:.1e}" for d in differences))
            print(f"{row} seed {seed}: " + "; ".join(line) + f" ({time.perf_counter() - start:.1f}s)", flush=True)
    for precision, values in moved.items():
        values = np.asarray(values)
        print(f"{precision}: largest {values.max():.3g} decades; {int((values > 0.1).sum())} of {len(values)} rows "
              f"beyond 0.1, {int((values > 0.5).sum())} beyond 0.5")


if __name__ == "__main__":
    main()
