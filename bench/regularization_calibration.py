"""Calibrate the regularisation lab's statistical tests (Part 3, ``assignments/regularization/lab.toml``).

    python bench/regularization_calibration.py [masks|equivalence|training|all] [--seeds 20]

For the reference over ``--seeds`` seeds and for each classic mistake, the z of every test
the checks make on a random mask (as ``judge_draws`` computes them): the zeros of
``dropout(ones(n), rate, True)`` and of the slides' form, the zeros of two
``DropConnectDense`` calls and how many weights their masks treat differently. The
reference's largest |z| must stay under 5; a mistake is caught where its smallest |z|
is above 5. Rates: the public 0.3 and the ends of the hidden draw, 0.1 and 0.6.
``equivalence``: Part 6's relative gap between τ steps of gradient descent and the L2
solution with α = 1/(τε) on the checks' spectra, and with the mistake α = τε.
``training``: Part 8 over ``--seeds`` tasks drawn as the public and the hidden check draw them:
the grader's held-out accuracy of the reference, of the same network unregularised (the
baseline and its gap), of that network given every label right (the ceiling), and of
half-measures (one regulariser alone). Slow: about 3 s per network on 2 cores.
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


def train_variant(x, y, setup, seed, rate=0.0, l2=0.0, smoothing=0.0):
    """Part 8's network trained as the reference trains it, with the given regularisers (0: none)."""
    import keras

    keras.utils.set_random_seed(seed)
    penalty = keras.regularizers.L2(l2) if l2 else None
    layers = [keras.Input((x.shape[1],))]
    for _ in range(2):
        layers.append(keras.layers.Dense(REF.WIDTH, activation="relu", kernel_regularizer=penalty))
        if rate:
            layers.append(keras.layers.Dropout(rate))
    model = keras.Sequential(layers + [keras.layers.Dense(REF.CLASSES, kernel_regularizer=penalty)])
    model.compile(keras.optimizers.Adam(setup["learning_rate"]), keras.losses.CategoricalCrossentropy(from_logits=True))
    targets = REF.smooth_labels(np.eye(REF.CLASSES)[y], smoothing) if smoothing else np.eye(REF.CLASSES)[y]
    model.fit(x, targets.astype(np.float32), epochs=setup["epochs"], batch_size=setup["batch_size"], verbose=0)
    return model


def training(seeds):
    """Part 8: held-out accuracy and training-label fit of each variant, for the public and the hidden check."""
    sys.path.insert(0, str(LAB.assignment_dir))
    from checks.common import noisy_digits
    from checks.public import forward, regularized_inputs

    variants = {"reference": None, "unregularised": {}, "every label right (ceiling)": "clean",
                "dropout 0.5 alone": {"rate": 0.5}, "L2 3e-3 alone": {"l2": 3e-3}, "smoothing 0.2 alone": {"smoothing": 0.2}}
    for name in ("regularized_training", "regularized_training_hidden"):
        cfg = LAB.settings(name)
        rows = {key: [] for key in variants}
        for seed in range(seeds):
            task = regularized_inputs(np.random.default_rng(10_000 + seed), cfg)
            x, y, setup, run_seed = (task.public[k] for k in ("x", "y", "setup", "seed"))
            for key, how in variants.items():
                if how is None:
                    model = REF.train_regularized(x, y, setup["epochs"], setup["batch_size"], setup["learning_rate"], run_seed)
                elif how == "clean":
                    model = train_variant(x, clean_labels(x, noisy_digits), setup, run_seed)
                else:
                    model = train_variant(x, y, setup, run_seed, **how)
                weights = model.get_weights()
                rows[key].append((np.mean(forward(weights, task.secret["x_held"]).argmax(1) == task.secret["y_held"]),
                                  np.mean(forward(weights, x).argmax(1) == y)))
            print(f"  {name} seed {seed}: " + ", ".join(f"{k.split()[0]} {v[-1][0]:.3f}" for k, v in rows.items()), flush=True)
        base = np.array(rows["unregularised"])
        gap = float(np.mean(base[:, 1] - base[:, 0]))
        print(f"{name} (train_size {cfg['train_size']}, wrong {cfg['wrong_share']}), {seeds} seeds: unregularised "
              f"held-out {base[:, 0].mean():.4f}, fit {base[:, 1].mean():.4f}, gap {gap:.4f}")
        for key, values in rows.items():
            acc, fit = np.array(values).T
            share = (acc - base[:, 0].mean()) / gap
            print(f"  {key:30s} held-out {acc.min():.3f} … {acc.max():.3f} (mean {acc.mean():.3f}), share of the gap "
                  f"{share.min():+.2f} … {share.max():+.2f}, fit {fit.min():.3f} … {fit.max():.3f}")


def clean_labels(x, noisy_digits):
    """The true labels of digits ``x`` (rows of scikit-learn's digits, flattened)."""
    images, labels = noisy_digits(np.random.default_rng(0), 1797, 0.0)[:2]
    index = {row.tobytes(): label for row, label in zip(images, labels)}
    return np.array([index[row.tobytes()] for row in x])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", nargs="?", default="all", choices=("masks", "equivalence", "training", "all"))
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    seeds = args.seeds
    if args.what == "training":
        return training(seeds)
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
