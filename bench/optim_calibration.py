"""Calibrate the optimisation lab's thresholds: every bound in ``assignments/optim/lab.toml``.

    python bench/optim_calibration.py [initializers|activations|symmetry|race|digits|all] [--seeds 20]

* ``initializers``: the z-statistics of Part 4's tests (mean, E[w²]/σ², the tails or
  the bound: :func:`draw_problems` of the checks) for the reference's draws over
  ``--seeds`` seeds (the largest |z| must stay under 5), and for each classic
  mistake (the smallest |z| over the seeds: the test's power is 1 where it is far
  above 5).
* ``activations``: the statistics Part 5's check reads, for the reference over the
  seeds at widths 300, 400 and 500 (the public and hidden checks' widths).
* ``symmetry``: Part 6's spreads, the constant network's move and the losses.
* ``race``: Part 7's progress ratios and escape steps over starts drawn as the
  hidden check draws them.
* ``digits``: Part 8's held-out accuracy of the reference's SlideAdam (public and
  hidden settings), of Keras's Adam and of three mistakes that still train, and the
  CPU time of one training.

Each prints the range over the seeds; the bounds in ``lab.toml`` are set outside
these ranges with the margin written there.
"""

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.labs.lab import Lab, load_submission  # noqa: E402

LAB = Lab.load("optim")
REF = load_submission(LAB.solution_file, "optim", alias="_ref_optim_bench")
Z = 5.0


def draw_z(sample, variance, uniform):
    """The z of the mean test, of the E[w²] test and of the shape test (as the checks compute them)."""
    x = np.ravel(np.asarray(sample, dtype=np.float64))
    n, sigma = x.size, math.sqrt(variance)
    z_mean = x.mean() / (sigma / math.sqrt(n))
    kappa = 1.8 if uniform else 3.0
    z_var = (float(np.mean(x * x)) / variance - 1.0) / math.sqrt((kappa - 1.0) / n)
    if uniform:
        bound = math.sqrt(3.0 * variance)
        top = float(np.max(np.abs(x))) / bound
        z_shape = 0.0 if 0.998 <= top <= 1 + 1e-6 else math.inf
    else:
        p = math.erfc(2.0 / math.sqrt(2.0))
        z_shape = (float(np.mean(np.abs(x) > 2.0 * sigma)) - p) / math.sqrt(p * (1 - p) / n)
    return abs(z_mean), abs(z_var), abs(z_shape)


def initializers(seeds):
    shapes = [(300, 60), (3, 3, 48, 12)]
    fans = [REF.fan_in_and_out(s) for s in shapes]
    rng = np.random.default_rng(0)
    normal = lambda shape, var: rng.normal(0.0, math.sqrt(var), size=shape)  # noqa: E731
    uniform = lambda shape, bound, low=None: rng.uniform(-bound if low is None else low, bound, size=shape)  # noqa: E731

    def truncated(shape, var):
        x = rng.normal(0.0, 1.0, size=int(np.prod(shape)) * 2)
        x = x[np.abs(x) <= 2.0][:int(np.prod(shape))]
        return (x * math.sqrt(var)).reshape(shape)

    # (name, target variance, uniform?, how a wrong draw is made from (shape, fan_in, fan_out))
    cases = [
        ("XavierNormal: reference", lambda fi, fo: 1 / fi, False,
         lambda s, fi, fo, seed: REF.XavierNormal(seed=seed)(s, dtype="float64")),
        ("HeNormal: reference", lambda fi, fo: 2 / fi, False, lambda s, fi, fo, seed: REF.HeNormal(seed=seed)(s, dtype="float64")),
        ("PReLUNormal(0.5): reference", lambda fi, fo: 2 / (1.25 * fi), False,
         lambda s, fi, fo, seed: REF.PReLUNormal(0.5, seed=seed)(s, dtype="float64")),
        ("XavierUniform: reference", lambda fi, fo: 1 / fi, True,
         lambda s, fi, fo, seed: REF.XavierUniform(seed=seed)(s, dtype="float64")),
        ("UniformFromVariance(0.02): reference", lambda fi, fo: 0.02, True,
         lambda s, fi, fo, seed: REF.UniformFromVariance(0.02, seed=seed)(s, dtype="float64")),
        ("He from fan_out", lambda fi, fo: 2 / fi, False, lambda s, fi, fo, seed: normal(s, 2 / fo)),
        ("He, the slides' code (variance fan_in/2)", lambda fi, fo: 2 / fi, False, lambda s, fi, fo, seed: normal(s, fi / 2)),
        ("He truncated at 2σ", lambda fi, fo: 2 / fi, False, lambda s, fi, fo, seed: truncated(s, 2 / fi)),
        ("Xavier with Glorot's 2/(fan_in + fan_out)", lambda fi, fo: 1 / fi, False,
         lambda s, fi, fo, seed: normal(s, 2 / (fi + fo))),
        ("Xavier with 1/fan_in as the std", lambda fi, fo: 1 / fi, False, lambda s, fi, fo, seed: normal(s, 1 / fi ** 2)),
        ("PReLU(0.5) with 1 + a", lambda fi, fo: 2 / (1.25 * fi), False, lambda s, fi, fo, seed: normal(s, 2 / (1.5 * fi))),
        ("XavierUniform with Glorot's bound", lambda fi, fo: 1 / fi, True,
         lambda s, fi, fo, seed: uniform(s, math.sqrt(6 / (fi + fo)))),
        ("uniform bound √(3σ)", lambda fi, fo: 0.02, True, lambda s, fi, fo, seed: uniform(s, math.sqrt(3 * math.sqrt(0.02)))),
        ("uniform U[0, r) (the slides' rand)", lambda fi, fo: 0.02, True,
         lambda s, fi, fo, seed: uniform(s, math.sqrt(0.06), low=0.0)),
    ]
    print(f"{'draw':45s} {'shape':>14s} {'max|z| mean':>12s} {'var':>10s} {'shape':>10s}   (reference: max; mistake: min over {seeds} seeds)")
    for name, target, is_uniform, make in cases:
        reference = name.endswith("reference")
        for shape, (fi, fo) in zip(shapes, fans):
            zs = np.array([draw_z(np.asarray(make(shape, fi, fo, seed)), target(fi, fo), is_uniform)
                           for seed in range(seeds)])
            row = zs.max(axis=0) if reference else zs.min(axis=0)
            flag = "" if reference else ("  caught" if row.max() > Z else "  MISSED")
            print(f"{name:45s} {str(shape):>14s} {row[0]:12.2f} {row[1]:10.1f} {row[2]:10.1f}{flag}")


def activations(seeds):
    for width, n in ((500, 1000), (400, 500), (300, 500)):
        rows = {}
        for seed in range(seeds):
            for init in REF.INIT_NAMES:
                for act in ("tanh", "relu"):
                    s = REF.activation_stats(init, act, width=width, n=n, seed=seed)
                    rows.setdefault((init, act), []).append(s)

        def rng_of(key, f):
            values = [f(s) for s in rows[key]]
            return f"{min(values):.3g}–{max(values):.3g}"

        def decay(s):
            return float(np.exp(np.mean(np.diff(np.log(s["std"])))))
        print(f"width {width}, n {n}, {seeds} seeds:")
        print("  small/tanh std10", rng_of(("small", "tanh"), lambda s: s["std"][-1]),
              " std1", rng_of(("small", "tanh"), lambda s: s["std"][0]),
              " small/relu std10", rng_of(("small", "relu"), lambda s: s["std"][-1]))
        print("  large/tanh saturated10", rng_of(("large", "tanh"), lambda s: s["saturated"][-1]),
              " large/relu std10", rng_of(("large", "relu"), lambda s: s["std"][-1]))
        print("  xavier/tanh std10", rng_of(("xavier", "tanh"), lambda s: s["std"][-1]),
              " saturated10", rng_of(("xavier", "tanh"), lambda s: s["saturated"][-1]),
              " he/tanh saturated10", rng_of(("he", "tanh"), lambda s: s["saturated"][-1]))
        print("  xavier/relu decay", rng_of(("xavier", "relu"), decay), " he/relu decay", rng_of(("he", "relu"), decay),
              " std10/std1", rng_of(("he", "relu"), lambda s: s["std"][-1] / s["std"][0]))
        print("  relu min mean/std", rng_of(("he", "relu"), lambda s: float(np.min(s["mean"] / s["std"]))),
              rng_of(("xavier", "relu"), lambda s: float(np.min(s["mean"] / s["std"]))))


def symmetry(seeds):
    cfg = LAB.meta["checks"]["symmetry_problem"]
    out = {}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(cfg["n"], cfg["d"]))
        y = (x @ rng.normal(size=(cfg["d"], cfg["k"]))).argmax(1)
        for init in ("zero", "constant", "random"):
            model = REF.symmetric_mlp(init, cfg["d"], cfg["hidden"], int(y.max()) + 1, seed=seed)
            before = model.get_weights()
            losses = REF.train_steps(model, x, y, cfg["steps"], cfg["learning_rate"])
            after = model.get_weights()
            w1, b1, w2 = after[:3]
            spread = max(np.abs(w1 - w1[:, :1]).max(), np.abs(b1 - b1[0]).max(), np.abs(w2 - w2[:1]).max())
            moved = max(np.abs(a - b).max() for a, b in zip(after[:3], before[:3]))
            out.setdefault(init, []).append((spread, moved, losses[0], losses[-1]))
    for init, rows in out.items():
        rows = np.array(rows)
        print(f"{init:9s} spread {rows[:, 0].min():.3g}–{rows[:, 0].max():.3g}  moved {rows[:, 1].min():.3g}–"
              f"{rows[:, 1].max():.3g}  loss {rows[:, 2].min():.3g}–{rows[:, 2].max():.3g} → "
              f"{rows[:, 3].min():.3g}–{rows[:, 3].max():.3g}")


def race(seeds):
    import importlib.util

    spec = importlib.util.spec_from_file_location("_optim_checks_common", LAB.assignment_dir / "checks" / "common.py")
    common = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(common)
    RACE_HYPER, RACE_STEPS, race_problem = common.RACE_HYPER, common.RACE_STEPS, common.race_problem
    ratios = {"sgd": [], "adagrad": []}
    escapes = {"sgd": [], "momentum": []}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        start = rng.uniform(0.7, 1.5) * rng.choice([-1.0, 1.0], 2)
        kappa = float(rng.choice([50.0, 100.0]))
        _, grad = race_problem("bowl", kappa)
        for rule in ratios:
            progress = REF.coordinate_progress(REF.run_rule(rule, grad, start, RACE_STEPS["bowl"],
                                                            **RACE_HYPER["bowl"][rule]))
            ratios[rule].append(progress[0] / progress[1])
        saddle = [rng.uniform(0.5, 1.5), float(rng.choice([-1, 1]) * 10 ** rng.uniform(-9, -7))]
        _, grad = race_problem("saddle", kappa)
        for rule in escapes:
            path = REF.run_rule(rule, grad, saddle, RACE_STEPS["saddle"], **RACE_HYPER["saddle"][rule])
            escapes[rule].append(REF.steps_to_escape(path))
    for rule, values in ratios.items():
        print(f"bowl progress ratio x/y, {rule}: {min(values):.4g}–{max(values):.4g}")
    for rule, values in escapes.items():
        print(f"saddle escape step, {rule}: {min(values)}–{max(values)}")
    print("momentum/sgd escape ratio:", f"{min(m / s for m, s in zip(escapes['momentum'], escapes['sgd'])):.3f}–"
          f"{max(m / s for m, s in zip(escapes['momentum'], escapes['sgd'])):.3f}")


class _NoSqrt(REF.SlideAdam):
    """The mistake "√ dropped": θ − η ŝ/(δ + r̂)."""

    def update_step(self, gradient, variable, learning_rate):
        ops = __import__("keras").ops
        index = self._get_variable_index(variable)
        s, r = self._first_moments[index], self._second_moments[index]
        grad = ops.cast(gradient, variable.dtype)
        count = ops.cast(self.iterations + 1, variable.dtype)
        self.assign(s, self.rho1 * s + (1.0 - self.rho1) * grad)
        self.assign(r, self.rho2 * r + (1.0 - self.rho2) * ops.square(grad))
        s_hat = s / (1.0 - ops.power(ops.cast(self.rho1, variable.dtype), count))
        r_hat = r / (1.0 - ops.power(ops.cast(self.rho2, variable.dtype), count))
        self.assign_sub(variable, ops.cast(learning_rate, variable.dtype) * s_hat / (self.delta + r_hat))


def digits(seeds):
    import keras

    from grader.data import digits as load_digits

    x_all, y_all = load_digits(seed=0)
    x_all = np.asarray(x_all, dtype=np.float32).reshape(len(y_all), -1)
    optimizers = {"reference SlideAdam": lambda lr: REF.SlideAdam(learning_rate=lr),
                  "Keras's Adam": lambda lr: keras.optimizers.Adam(learning_rate=lr),
                  "mistake: √ dropped": lambda lr: _NoSqrt(learning_rate=lr),
                  "mistake: learning rate ignored (1e-3)": lambda lr: REF.SlideAdam(),
                  "mistake: plain SGD at the rate": lambda lr: keras.optimizers.SGD(learning_rate=lr)}
    for name in ("digits_training", "digits_training_hidden"):
        cfg = LAB.meta["checks"][name]
        for label, make in optimizers.items():
            accs, cpus = [], []
            for seed in range(seeds):
                rng = np.random.default_rng(seed)
                perm = rng.permutation(len(y_all))
                test, train = perm[:cfg["test_size"]], perm[cfg["test_size"]:]
                keras.utils.set_random_seed(seed)
                model = keras.Sequential([keras.Input((64,)),
                                          keras.layers.Dense(cfg["hidden"], "relu", kernel_initializer="he_normal"),
                                          keras.layers.Dense(10)])
                model.compile(optimizer=make(cfg["learning_rate"]),
                              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
                start = time.process_time()
                model.fit(x_all[train], y_all[train], epochs=cfg["epochs"], batch_size=cfg["batch_size"], verbose=0)
                cpus.append(time.process_time() - start)
                accs.append(float(np.mean(np.argmax(model(x_all[test]), axis=1) == y_all[test])))
            print(f"{name}, {label}: accuracy {min(accs):.4f}–{max(accs):.4f} over {seeds} seeds (threshold "
                  f"{cfg['min_accuracy']}), {min(cpus):.2f}–{max(cpus):.2f} s CPU per training")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", default="all",
                        choices=["initializers", "activations", "symmetry", "race", "digits", "all"])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    for name, fn in (("initializers", initializers), ("activations", activations), ("symmetry", symmetry),
                     ("race", race), ("digits", digits)):
        if args.what in (name, "all"):
            print(f"== {name}")
            fn(args.seeds)


if __name__ == "__main__":
    main()
