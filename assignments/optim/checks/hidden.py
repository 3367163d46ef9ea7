"""Hidden checks of the optimisation lab (graders only): other sizes,
hyperparameters, gradients and shapes than the public ones, drawn from the
salted seed, so hard-coding public answers earns nothing."""

import numpy as np

from grader.checks import HIDDEN, Check, Inputs, judges, parts

from .common import (FANS_RULE, NORMAL_RULE, OPTIMIZER_RULE, RUN_RULE_RULE, SCHEDULE_RULE, UNIFORM_RULE,
                     UPDATE_FUNCTIONS, UPDATE_RULE, observe_activation_stats, observe_digits, observe_initializer,
                     observe_race, observe_slide_adam, observe_symmetry, rule_paths, schedule_in_sgd,
                     schedule_round_trip, schedule_values)
from .public import (digits_inputs, judge_activation_stats, judge_digits, judge_initializers, judge_prior_bias,
                     judge_race, judge_rules, judge_slide_adam, judge_symmetry, judge_values, problem,
                     slide_adam_inputs)


class UpdateRulesHidden(Check):
    """All seven update rules, 60 steps on a salted quadratic with a sinusoidal wiggle, other hyperparameters"""

    visibility = HIDDEN
    points = 0.75
    budget = 15
    by_hand = (UPDATE_RULE,)

    def inputs(self, rng):
        d = int(rng.integers(5, 10))
        lr = float(rng.uniform(0.004, 0.008))
        # Decay rates below ½ too: 1 − ρ and 1 mod ρ agree only above ½.
        momentum, rho = float(rng.uniform(0.5, 0.85)), float(rng.uniform(0.3, 0.45))
        kwargs = {"sgd_step": {"lr": lr}, "momentum_step": {"lr": lr, "momentum": momentum},
                  "nesterov_step": {"lr": lr, "momentum": momentum},
                  "adagrad_step": {"lr": float(rng.uniform(0.1, 0.3)), "delta": float(rng.uniform(0.01, 0.1))},
                  "rmsprop_step": {"lr": 0.01, "rho": rho, "delta": float(rng.uniform(0.01, 0.1))},
                  "rmsprop_nesterov_step": {"lr": 0.003, "rho": rho, "momentum": momentum,
                                            "delta": float(rng.uniform(0.01, 0.1))},
                  "adam_step": {"lr": 0.03, "rho1": float(rng.uniform(0.3, 0.45)), "rho2": float(rng.uniform(0.4, 0.49)),
                                "delta": float(rng.uniform(0.01, 0.1))}}
        return {**problem(rng, d, condition=float(rng.uniform(20, 80))), "wiggle": float(rng.uniform(0.2, 0.5)),
                "steps": 60, "kwargs": kwargs}

    def observe(self, sub, a, b, theta0, wiggle, steps, kwargs):
        return rule_paths(sub, UPDATE_FUNCTIONS, theta0, a, b, wiggle, steps, kwargs)

    def judge(self, got, want, secret):
        return judge_rules(got, want)


class SlideAdamHidden(Check):
    """SlideAdam with salted rates and decays (δ = 1e-3) trains another model size by model.fit"""

    visibility = HIDDEN
    points = 0.25
    kind = "training"
    budget = 30
    by_hand = (OPTIMIZER_RULE,)

    def inputs(self, rng):
        # Short memories (ρ below ½): the decays and the bias corrections are then far from their defaults.
        hyper = {"learning_rate": float(rng.uniform(0.005, 0.03)), "rho1": float(rng.uniform(0.3, 0.45)),
                 "rho2": float(rng.uniform(0.4, 0.49)), "delta": 1e-3}
        return {**slide_adam_inputs(rng, 30, int(rng.integers(3, 6)), int(rng.integers(4, 9)), 3), "hyper": hyper,
                "batch_size": 6, "epochs": 2}

    def observe(self, sub, x, y, weights, hidden, hyper, batch_size, epochs):
        return observe_slide_adam(sub, x, y, weights, hidden, hyper, batch_size, epochs)

    def judge(self, got, want, secret):
        return judge_slide_adam(got, want)


class SchedulesHidden(Check):
    """All five schedules with salted α0, β, T and T′, at steps up to 10⁴ given as int64 tensors; config round trip"""

    visibility = HIDDEN
    points = 0.25
    budget = 15
    by_hand = (SCHEDULE_RULE,)

    def inputs(self, rng):
        a0 = float(rng.uniform(0.01, 1.0))
        total = int(rng.integers(20, 60))
        cosine = ["CosineSchedule", {"initial_learning_rate": a0, "decay_steps": total}]
        specs = {"inverse_time": ["InverseTimeSchedule", {"initial_learning_rate": a0,
                                                          "decay_rate": float(rng.uniform(0.01, 1.0))}],
                 "exponential": ["ExponentialSchedule", {"initial_learning_rate": a0,
                                                         "decay_rate": float(rng.uniform(0.9, 0.999))}],
                 "natural_exp": ["NaturalExpSchedule", {"initial_learning_rate": a0,
                                                        "decay_rate": float(rng.uniform(0.001, 0.1))}],
                 "cosine": cosine,
                 "warmup": ["LinearWarmup", {"initial_learning_rate": a0, "warmup_steps": int(rng.integers(3, 12)),
                                             "after": cosine}]}
        steps = sorted(set(range(0, 16)) | {total - 1, total, total + 1, total + 13, 200, 1000, 10000})
        return {"specs": specs, "steps": steps}

    def observe(self, sub, specs, steps):
        out = {name: parts.attempt(lambda: schedule_values(sub, spec, steps, tensor=True)) for name, spec in specs.items()}
        out["round_trip"] = {name: parts.attempt(lambda: schedule_round_trip(sub, spec, steps[:20]))
                             for name, spec in specs.items()}
        out["sgd"] = parts.attempt(lambda: schedule_in_sgd(sub, specs["warmup"], 16))
        return out

    def judge(self, got, want, secret):
        verdicts = [judge_values(got[k], want[k], f"{k} at salted steps") for k in want if k not in ("round_trip", "sgd")]
        verdicts += [judge_values(got["round_trip"][k], want["round_trip"][k], f"{k} after from_config(get_config())")
                     for k in want["round_trip"]]
        verdicts.append(judge_values(got["sgd"], want["sgd"], "the rates SGD applied with the warm-up"))
        return judges.all_of(verdicts)


class InitializersHidden(Check):
    """All five initialisers on salted Dense and conv shapes (fan_in ≠ fan_out), a salted PReLU slope and variance"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    uses_reference = False
    budget = 20
    by_hand = (NORMAL_RULE, UNIFORM_RULE, FANS_RULE)

    def inputs(self, rng):
        fan_in = int(rng.integers(150, 400))
        dense = [fan_in, int(fan_in // rng.integers(3, 6))]
        conv = [int(rng.integers(2, 4)), int(rng.integers(2, 4)), int(rng.integers(40, 64)), int(rng.integers(8, 16))]
        specs = {"xavier": ["XavierNormal", {}], "xavier_uniform": ["XavierUniform", {}], "he": ["HeNormal", {}],
                 "prelu": ["PReLUNormal", {"negative_slope": float(rng.uniform(0.4, 0.9))}],
                 "uniform": ["UniformFromVariance", {"variance": float(rng.uniform(0.001, 0.1))}]}
        public = {"specs": specs, "shapes": [dense, conv], "seed": int(rng.integers(2**20))}
        return Inputs(public=public, secret={"specs": specs, "shapes": [dense, conv]})

    def observe(self, sub, specs, shapes, seed):
        return {key: observe_initializer(sub, spec, shapes, seed) for key, spec in specs.items()}

    def judge(self, got, want, secret):
        return judge_initializers(got, secret["specs"], secret["shapes"])


class ActivationStatisticsHidden(Check):
    """activation_stats on another width and batch size, another seed: the same regimes"""

    visibility = HIDDEN
    points = 0.25
    kind = "training"  # ten layers of 500 units, eight times: about 1 s; run per mutant only when targeted
    uses_reference = False
    budget = 15

    def inputs(self, rng):
        cfg = self.config
        return Inputs(public={"width": int(rng.choice(cfg["widths"])), "n": cfg["n"], "n_layers": cfg["n_layers"],
                              "seed": int(rng.integers(2**31))}, secret={"n_layers": cfg["n_layers"]})

    def observe(self, sub, width, n, n_layers, seed):
        return observe_activation_stats(sub, width, n, n_layers, seed)

    def judge(self, got, want, secret):
        return judge_activation_stats(got, self.config, secret["n_layers"])


class SymmetryProblemHidden(Check):
    """The symmetry problem with another width, input size and class count"""

    visibility = HIDDEN
    points = 0.25
    kind = "property"
    uses_reference = False
    budget = 20

    def inputs(self, rng):
        cfg = self.config
        d, k, hidden = int(rng.integers(3, 7)), int(rng.integers(2, 5)), int(rng.integers(5, 10))
        x = rng.normal(size=(cfg["n"], d))
        y = (x @ rng.normal(size=(d, k))).argmax(1)
        return Inputs(public={"x": x, "y": y, "hidden": hidden, "steps": cfg["steps"],
                              "learning_rate": cfg["learning_rate"], "seed": int(rng.integers(2**31))},
                      secret={"d": d, "k": int(y.max()) + 1, "hidden": hidden})

    def observe(self, sub, x, y, hidden, steps, learning_rate, seed):
        return observe_symmetry(sub, x, y, hidden, steps, learning_rate, seed)

    def judge(self, got, want, secret):
        return judge_symmetry(got, self.config, secret["d"], secret["hidden"], secret["k"])


class PriorBiasHidden(Check):
    """prior_bias on other class counts and rare classes (frequencies down to 1e-4)"""

    visibility = HIDDEN
    points = 0.125
    uses_reference = False
    budget = 5

    def inputs(self, rng):
        cs = []
        for k in (int(rng.integers(4, 9)), 20):
            c = np.maximum(rng.dirichlet(np.full(k, 0.3)), 1e-4)
            cs.append(c / c.sum())
        return Inputs(public={"cs": cs}, secret={"cs": cs})

    def observe(self, sub, cs):
        return {"b": [parts.attempt(lambda: np.asarray(sub.prior_bias(c), dtype=np.float64)) for c in cs]}

    def judge(self, got, want, secret):
        return judge_prior_bias(got, secret["cs"], self.config["tol"])


class OptimizerRaceHidden(Check):
    """The race from other starting points and another condition number"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 15
    by_hand = (RUN_RULE_RULE,)

    def inputs(self, rng):
        scale = rng.uniform(0.7, 1.5)
        starts = {"bowl": list(scale * rng.choice([-1.0, 1.0], 2)),
                  "rosenbrock": list(np.array([-1.2, 1.0]) + rng.uniform(-0.05, 0.05, 2)),
                  "saddle": [float(rng.uniform(0.5, 1.5)), float(rng.choice([-1, 1]) * 10 ** rng.uniform(-9, -7))]}
        return {"kappa": float(rng.choice([50.0, 100.0])), "starts": starts, "head_steps": self.config["head_steps"]}

    def observe(self, sub, kappa, starts, head_steps):
        return observe_race(sub, kappa, starts, head_steps)

    def judge(self, got, want, secret):
        return judge_race(got, want, self.config)


class DigitsTrainingHidden(Check):
    """SlideAdam on another split of the digits, another batch size and learning rate"""

    visibility = HIDDEN
    points = 0.25
    kind = "training"
    uses_reference = False
    budget = 30
    by_hand = (OPTIMIZER_RULE,)

    def inputs(self, rng):
        return digits_inputs(rng, self.config)

    def observe(self, sub, x, y, x_test, setup, seed):
        return observe_digits(sub, x, y, x_test, setup, seed)

    def judge(self, got, want, secret):
        return judge_digits(got, secret, self.config)
