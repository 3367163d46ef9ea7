"""Public checks of the optimisation lab: students run these with ``pytest``
or ``grader check optim``. Each ``observe`` calls your code; each ``judge``
compares with the reference's result on the same inputs (float64 for Part 1,
float32 where Keras trains), or tests a draw of your initialiser
statistically."""

import numpy as np

from grader.checks import Check, judges, parts

from .common import (FANS_RULE, NORMAL_RULE, OPTIMIZER_RULE, RULE_STATE, SCHEDULE_RULE, UNIFORM_RULE,
                     draw_problems, keras_fans, observe_initializer, observe_slide_adam, rule_paths, schedule_in_sgd,
                     schedule_round_trip, schedule_values, update_rule)

#: Part 1 is float64 arithmetic: a correct rule agrees to about 1e-13 after 40 steps.
TOL = 1e-9
#: Parts 2 and 3 compute in float32 (Keras's default).
FLOAT32 = 1e-5

HINTS = {
    "sgd_step": "θ − η·g",
    "momentum_step": "v ← λv − ηg, then θ ← θ + v (v starts at 0)",
    "nesterov_step": "the gradient at the look-ahead point θ + αv, not at θ",
    "adagrad_step": "r accumulates g⊙g; the step is η·g/(δ + √r), δ outside the root",
    "rmsprop_step": "r ← ρr + (1 − ρ)g⊙g: ρ weighs the old r",
    "rmsprop_nesterov_step": "g at θ + αv; r as RMSProp; v ← αv − η·g/(δ + √r); θ ← θ + v",
    "adam_step": "t ← t + 1 first; ŝ = s/(1 − ρ1^t), r̂ = r/(1 − ρ2^t); θ − η·ŝ/(δ + √r̂)",
}


def problem(rng, d, condition=50.0):
    """An ill-conditioned quadratic: A = Qᵀ diag(1 … condition) Q, b, θ0."""
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    a = q.T @ np.diag(np.geomspace(1.0, condition, d)) @ q
    return {"a": a, "b": rng.normal(size=d), "theta0": rng.normal(size=d)}


def judge_rules(got, want, weights=None):
    """Each rule's path and final state, and that it changed no array it was given."""
    verdicts = []
    for rule in want:
        g, w = got[rule], want[rule]
        failed = judges.failed_part(g, rule)
        if failed is not None:
            verdicts.append(failed)
            continue
        sub = [judges.close(g["path"], w["path"], f"{rule}: θ after each step", tol=TOL, hint=HINTS[rule])]
        sub += [judges.close(g[k], w[k], f"{rule}: the final {k}", tol=TOL) for k in RULE_STATE[rule]]
        pure = judges.property_holds(g["pure"], f"{rule} leaves its arguments unchanged",
                                     "a rule returns new arrays; it must not update θ or its state in place")
        verdicts.append(judges.gated(sub, [pure]))
    return judges.all_of(verdicts, weights=weights)


class MomentumRules(Check):
    """sgd_step and momentum_step: 40 steps on an ill-conditioned quadratic (the default λ and λ = 0.5)"""

    points = 0.5
    budget = 10
    by_hand = (update_rule("sgd_step", "momentum_step"),)

    def inputs(self, rng):
        return {**problem(rng, 6), "steps": 40}

    def observe(self, sub, a, b, theta0, steps):
        out = rule_paths(sub, ("sgd_step", "momentum_step"), theta0, a, b, 0.0, steps,
                         {"sgd_step": {"lr": 0.015}, "momentum_step": {"lr": 0.01}})
        out["momentum_half"] = rule_paths(sub, ("momentum_step",), theta0, a, b, 0.0, steps,
                                          {"momentum_step": {"lr": 0.01, "momentum": 0.5}})["momentum_step"]
        return out

    def judge(self, got, want, secret):
        return judges.all_of([judge_rules({k: got[k] for k in ("sgd_step", "momentum_step")},
                                          {k: want[k] for k in ("sgd_step", "momentum_step")}),
                              judge_rules({"momentum_step": got["momentum_half"]},
                                          {"momentum_step": want["momentum_half"]})], weights=[2, 1])


class AdaptiveRules(Check):
    """adagrad_step and rmsprop_step (default δ and ρ, then others): 40 steps on an ill-conditioned quadratic"""

    points = 0.75
    budget = 10
    by_hand = (update_rule("adagrad_step", "rmsprop_step"),)

    def inputs(self, rng):
        return {**problem(rng, 6), "steps": 40}

    def observe(self, sub, a, b, theta0, steps):
        defaults = rule_paths(sub, ("adagrad_step", "rmsprop_step"), theta0, a, b, 0.0, steps,
                              {"adagrad_step": {"lr": 0.3}, "rmsprop_step": {"lr": 0.02}})
        other = rule_paths(sub, ("adagrad_step", "rmsprop_step"), theta0, a, b, 0.0, steps,
                           {"adagrad_step": {"lr": 0.3, "delta": 0.1},
                            "rmsprop_step": {"lr": 0.02, "rho": 0.7, "delta": 0.05}})
        return {"defaults": defaults, "other": other}

    def judge(self, got, want, secret):
        return judges.all_of([judge_rules(got["defaults"], want["defaults"]),
                              judge_rules(got["other"], want["other"])])


class AdamRule(Check):
    """adam_step with the slides' ρ1 = 0.9, ρ2 = 0.999 (default δ, then δ = 0.01, ρ1 = 0.8): 40 steps"""

    points = 0.75
    budget = 10
    by_hand = (update_rule("adam_step"),)

    def inputs(self, rng):
        return {**problem(rng, 6), "steps": 40}

    def observe(self, sub, a, b, theta0, steps):
        return {"defaults": rule_paths(sub, ("adam_step",), theta0, a, b, 0.0, steps, {"adam_step": {"lr": 0.05}}),
                "other": rule_paths(sub, ("adam_step",), theta0, a, b, 0.0, steps,
                                    {"adam_step": {"lr": 0.05, "rho1": 0.8, "rho2": 0.99, "delta": 0.01}})}

    def judge(self, got, want, secret):
        return judges.all_of([judge_rules(got["defaults"], want["defaults"]),
                              judge_rules(got["other"], want["other"])])


class LookAheadRules(Check):
    """nesterov_step and rmsprop_nesterov_step: the gradient at θ + αv, 40 steps on an ill-conditioned quadratic"""

    points = 0.75
    budget = 10
    by_hand = (update_rule("nesterov_step", "rmsprop_nesterov_step"),)

    def inputs(self, rng):
        return {**problem(rng, 6), "steps": 40}

    def observe(self, sub, a, b, theta0, steps):
        defaults = rule_paths(sub, ("nesterov_step", "rmsprop_nesterov_step"), theta0, a, b, 0.0, steps,
                              {"nesterov_step": {"lr": 0.01}, "rmsprop_nesterov_step": {"lr": 0.005}})
        other = rule_paths(sub, ("nesterov_step", "rmsprop_nesterov_step"), theta0, a, b, 0.0, steps,
                           {"nesterov_step": {"lr": 0.01, "momentum": 0.6},
                            "rmsprop_nesterov_step": {"lr": 0.005, "rho": 0.8, "momentum": 0.7, "delta": 0.01}})
        return {"defaults": defaults, "other": other}

    def judge(self, got, want, secret):
        return judges.all_of([judge_rules(got["defaults"], want["defaults"]),
                              judge_rules(got["other"], want["other"])])


# -- Part 2 ---------------------------------------------------------------------------------------

def slide_adam_inputs(rng, n, d, hidden, out):
    weights = [rng.normal(size=(d, hidden)) / np.sqrt(d), rng.normal(0.0, 0.1, size=hidden),
               rng.normal(size=(hidden, out)) / np.sqrt(hidden), rng.normal(0.0, 0.1, size=out)]
    x = rng.normal(size=(n, d))
    return {"x": x, "y": np.tanh(x @ rng.normal(size=(d, out))), "weights": weights, "hidden": hidden}


def judge_slide_adam(got, want):
    failed = judges.failed_part(got["path"], "training with SlideAdam")
    fit = failed if failed is not None else judges.gated(
        [judges.close(got["path"], want["path"], "the weights after each batch of model.fit", tol=1e-4,
                      hint="t = iterations + 1 inside update_step; ŝ and r̂ bias-corrected; δ outside √r̂")],
        [judges.property_holds(got["is_optimizer"], "SlideAdam is a keras.optimizers.Optimizer"),
         judges.equal(got["iterations"], want["iterations"], "optimizer.iterations after fit",
                      hint="one update per batch; Keras counts them")], weights=[6, 1, 1])
    config = judges.failed_part(got["config"], "SlideAdam.from_config(get_config())") or judges.close(
        got["config"], want["config"], "learning_rate, rho1, rho2, delta after from_config(get_config()), given and default", tol=1e-6)
    return judges.gated([fit], [config], weights=[5, 1])


class SlideAdamFit(Check):
    """SlideAdam trains a small model by model.fit (12 batches): every weight after every batch, and its config"""

    points = 1.0
    kind = "training"
    budget = 30
    by_hand = (OPTIMIZER_RULE,)

    def inputs(self, rng):
        return {**slide_adam_inputs(rng, 48, 4, 6, 2), "hyper": {"learning_rate": 0.02}, "batch_size": 8,
                "epochs": 2}

    def observe(self, sub, x, y, weights, hidden, hyper, batch_size, epochs):
        return observe_slide_adam(sub, x, y, weights, hidden, hyper, batch_size, epochs)

    def judge(self, got, want, secret):
        return judge_slide_adam(got, want)


# -- Part 3 ---------------------------------------------------------------------------------------

def judge_values(got, want, what, hint=""):
    return judges.failed_part(got, what) or judges.close(got, want, what, tol=FLOAT32, hint=hint)


class DecaySchedules(Check):
    """The four decays (inverse-time, exponential, natural-exponential, cosine) at steps 0 … 40"""

    points = 0.75
    budget = 10
    by_hand = (SCHEDULE_RULE,)
    SPECS = {"inverse_time": ["InverseTimeSchedule", {"initial_learning_rate": 0.1, "decay_rate": 0.5}],
             "exponential": ["ExponentialSchedule", {"initial_learning_rate": 0.1, "decay_rate": 0.9}],
             "natural_exp": ["NaturalExpSchedule", {"initial_learning_rate": 0.1, "decay_rate": 0.1}],
             "cosine": ["CosineSchedule", {"initial_learning_rate": 0.1, "decay_steps": 30}]}
    HINTS = {"inverse_time": "α0 / (1 + βt)", "exponential": "α0·β^t", "natural_exp": "α0·exp(−βt)",
             "cosine": "½α0(1 + cos(πt/T)) up to T, then 0"}

    def inputs(self, rng):
        return {"specs": self.SPECS, "steps": list(range(41))}

    def observe(self, sub, specs, steps):
        return {name: parts.attempt(lambda: schedule_values(sub, spec, steps)) for name, spec in specs.items()}

    def judge(self, got, want, secret):
        return judges.all_of([judge_values(got[k], want[k], f"{k} at steps 0 … 40", self.HINTS[k]) for k in want])


class WarmupSchedule(Check):
    """LinearWarmup (T′ = 5) before this lab's cosine decay and before Keras's ExponentialDecay; the rates Keras's SGD uses"""

    points = 0.5
    budget = 10
    by_hand = (SCHEDULE_RULE,)

    def inputs(self, rng):
        cosine = ["CosineSchedule", {"initial_learning_rate": 0.1, "decay_steps": 10}]
        keras_exp = ["keras.ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 1, "decay_rate": 0.8}]
        return {"warm_cosine": ["LinearWarmup", {"initial_learning_rate": 0.1, "warmup_steps": 5, "after": cosine}],
                "warm_exp": ["LinearWarmup", {"initial_learning_rate": 0.1, "warmup_steps": 5, "after": keras_exp}],
                "steps": list(range(20))}

    def observe(self, sub, warm_cosine, warm_exp, steps):
        return parts.each(cosine=lambda: schedule_values(sub, warm_cosine, steps),
                          exponential=lambda: schedule_values(sub, warm_exp, steps, tensor=True),
                          sgd=lambda: schedule_in_sgd(sub, warm_cosine, 12))

    def judge(self, got, want, secret):
        hint = "α0·(step + 1)/T′ for step < T′ (no zero rate at step 0), then after(step − T′): no jump at T′"
        return judges.all_of([judge_values(got["cosine"], want["cosine"], "warm-up then cosine", hint),
                              judge_values(got["exponential"], want["exponential"],
                                           "warm-up then Keras's ExponentialDecay (int64 steps)", hint),
                              judge_values(got["sgd"], want["sgd"], "the rates SGD(learning_rate=warm-up) applied",
                                           "Keras calls the schedule with optimizer.iterations, 0 at the first update")])


class ScheduleConfig(Check):
    """get_config/from_config round trip of all five schedules (a warm-up holding a cosine): JSON config, same rates"""

    points = 0.25
    budget = 10
    by_hand = (SCHEDULE_RULE,)

    def inputs(self, rng):
        specs = dict(DecaySchedules.SPECS)
        specs["warmup"] = ["LinearWarmup", {"initial_learning_rate": 0.2, "warmup_steps": 3,
                                            "after": DecaySchedules.SPECS["cosine"]}]
        return {"specs": specs, "steps": [0, 1, 2, 3, 4, 10, 35]}

    def observe(self, sub, specs, steps):
        return {name: parts.attempt(lambda: schedule_round_trip(sub, spec, steps)) for name, spec in specs.items()}

    def judge(self, got, want, secret):
        return judges.all_of([judge_values(got[k], want[k], f"{k} rebuilt by from_config(get_config())",
                                           "get_config returns every constructor argument (JSON-able)")
                              for k in want])


# -- Part 4 ---------------------------------------------------------------------------------------

def target_variance(name, kwargs, shape):
    fan_in, _ = keras_fans(shape)
    if name in ("XavierNormal", "XavierUniform"):
        return 1.0 / fan_in
    if name == "HeNormal":
        return 2.0 / fan_in
    if name == "PReLUNormal":
        return 2.0 / ((1.0 + kwargs.get("negative_slope", 0.25) ** 2) * fan_in)
    return kwargs["variance"]


def judge_initializers(got, specs, shapes):
    verdicts = []
    for key, (name, kwargs) in specs.items():
        g = got[key]
        failed = judges.failed_part(g, name)
        if failed is not None:
            verdicts.append(failed)
            continue
        problems = []
        for sample, shape in zip(g["draws"], shapes):
            if list(np.shape(sample)) != list(shape):
                problems.append(f"{name}: shape {list(np.shape(sample))} asked for {list(shape)}")
                continue
            problems += draw_problems(sample, target_variance(name, kwargs, shape), "Uniform" in name,
                                      f"{name}{tuple(shape)}")
        if g["dtypes"][0] != "float64" or any(d != "float32" for d in g["dtypes"][1:]):
            problems.append(f"{name}: dtypes {g['dtypes']} (the dtype asked for, float32 by default)")
        if not g["same_seed"] or not g["other_seed"] or not g["unseeded"]:
            problems.append(f"{name}: the same seed must give the same draw, another seed another one, and "
                            "seed=None a new draw at each call")
        verdicts.append(judges.property_holds(not problems, f"{name} draws", "; ".join(problems[:3])))
    return judges.all_of(verdicts)


class NormalInitializers(Check):
    """XavierNormal, HeNormal and PReLUNormal(0.5): statistical tests of a Dense (300, 60) and a conv (3, 3, 48, 12) draw"""

    points = 0.75
    kind = "property"
    uses_reference = False
    budget = 15
    by_hand = (NORMAL_RULE,)
    SPECS = {"xavier": ["XavierNormal", {}], "he": ["HeNormal", {}], "prelu": ["PReLUNormal", {"negative_slope": 0.5}],
             "prelu_default": ["PReLUNormal", {}]}
    SHAPES = [[300, 60], [3, 3, 48, 12]]

    def inputs(self, rng):
        return {"specs": self.SPECS, "shapes": self.SHAPES, "seed": int(rng.integers(2**20))}

    def observe(self, sub, specs, shapes, seed):
        return {key: observe_initializer(sub, spec, shapes, seed) for key, spec in specs.items()}

    def judge(self, got, want, secret):
        return judge_initializers(got, self.SPECS, self.SHAPES)


class UniformInitializers(Check):
    """XavierUniform and UniformFromVariance(0.02): bounds ±√(3σ²), mean and variance of a Dense and a conv draw"""

    points = 0.5
    kind = "property"
    uses_reference = False
    budget = 15
    by_hand = (UNIFORM_RULE,)
    SPECS = {"xavier": ["XavierUniform", {}], "uniform": ["UniformFromVariance", {"variance": 0.02}]}
    SHAPES = [[300, 60], [3, 3, 48, 12]]

    def inputs(self, rng):
        return {"specs": self.SPECS, "shapes": self.SHAPES, "seed": int(rng.integers(2**20))}

    def observe(self, sub, specs, shapes, seed):
        return {key: observe_initializer(sub, spec, shapes, seed) for key, spec in specs.items()}

    def judge(self, got, want, secret):
        return judge_initializers(got, self.SPECS, self.SHAPES)


class Fans(Check):
    """fan_in_and_out for a scalar, a bias, a Dense kernel and 1-, 2- and 3-D convolution kernels"""

    points = 0.25
    kind = "shape"
    budget = 5
    by_hand = (FANS_RULE,)

    def inputs(self, rng):
        return {"shapes": [[], [7], [5, 3], [4, 6, 9], [3, 3, 4, 8], [2, 3, 2, 5, 7]]}

    def observe(self, sub, shapes):
        return [parts.attempt(lambda: [int(f) for f in sub.fan_in_and_out(tuple(s))]) for s in shapes]

    def judge(self, got, want, secret):
        return judges.all_of([judges.failed_part(g, f"fan_in_and_out({tuple(s)})")
                              or judges.equal(g, w, f"fan_in_and_out({tuple(s)})",
                                              hint="receptive field (all but the last two dims) × channels")
                              for g, w, s in zip(got, want, [[], [7], [5, 3], [4, 6, 9], [3, 3, 4, 8], [2, 3, 2, 5, 7]])])
