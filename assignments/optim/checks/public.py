"""Public checks of the optimisation lab: students run these with ``pytest``
or ``grader check optim``. Each ``observe`` calls your code; each ``judge``
compares with the reference's result on the same inputs (float64 for Part 1,
float32 where Keras trains), or tests a draw of your initialiser
statistically."""

import math

import numpy as np

from grader.checks import Check, Inputs, judges, parts

from .common import (FANS_RULE, NORMAL_RULE, OPTIMIZER_RULE, RACE_RULES, RACE_STEPS, RULE_STATE, RUN_RULE_RULE,
                     SCHEDULE_RULE, UNIFORM_RULE, draw_problems, keras_fans, observe_activation_stats, observe_digits,
                     observe_initializer, observe_race, observe_slide_adam, observe_symmetry, rule_paths,
                     schedule_in_sgd, schedule_round_trip, schedule_values, update_rule)

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

    points = 0.25
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

    points = 0.5
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

    points = 0.5
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

    points = 0.5
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

    points = 0.5
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

    points = 0.5
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

    points = 0.25
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

    points = 0.5
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

    points = 0.25
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


# -- Part 5 ---------------------------------------------------------------------------------------

def _within(value, bounds):
    return bool(np.isfinite(value) and bounds[0] <= value <= bounds[1])


def judge_activation_stats(got, cfg, n_layers):
    """The slides' regimes as properties of the student's per-layer statistics."""
    failures, stats = [], {}
    for key, value in got.items():
        what = f"activation_stats{tuple(key.split('/'))}"
        failed = judges.failed_part(value, what)
        if failed is not None:
            failures.append(failed)
            continue
        try:
            stats[key] = {k: judges.as_array(value[k], f"{what}['{k}']", shape=(n_layers,), finite=False)
                          for k in ("mean", "std", "saturated")}
        except (judges.BadObservation, KeyError, TypeError) as exc:
            failures.append(judges.Verdict(0.0, str(exc)))
    if failures:
        return judges.all_of(failures)
    s = stats

    def decay(std):
        return float(np.exp(np.mean(np.diff(np.log(np.maximum(std, 1e-300))))))
    relu_means = all(float(np.min(s[f"{i}/relu"]["mean"] / np.maximum(s[f"{i}/relu"]["std"], 1e-300)))
                     >= cfg["relu_mean_over_std"] for i in ("xavier", "he"))
    props = [
        (s["small/tanh"]["std"][-1] <= cfg["vanished_std"],
         "0.01·randn + tanh: the activations vanish (「所有的激活输出都变成0」)", "is the small std 0.01?"),
        (s["small/relu"]["std"][-1] <= cfg["vanished_std"], "0.01·randn + ReLU: the activations vanish", ""),
        (_within(s["small/tanh"]["std"][0], cfg["small_tanh_first_std"]),
         "0.01·randn + tanh: layer 1's std is about 0.01·√width", "the first entry is layer 1's output, not the input"),
        (_within(s["large/relu"]["std"][0], cfg["large_relu_first_std"]),
         "1·randn + ReLU: layer 1's std is about 0.58·√width", "is the large std 1?"),
        (s["large/tanh"]["saturated"][-1] >= cfg["saturated_share"],
         "1·randn + tanh: most units saturate at ±1 (「激活函数输出饱和」)", "saturated = share of |a| > sat_level"),
        (s["large/relu"]["std"][-1] >= cfg["exploded_std"], "1·randn + ReLU: the activations explode", ""),
        (_within(s["xavier/tanh"]["std"][-1], cfg["xavier_tanh_last_std"]),
         "Xavier + tanh: layer 10 keeps a useful spread", "Xavier in the slides' fan-in form: randn/√fan_in"),
        (s["xavier/tanh"]["saturated"][-1] <= cfg["unsaturated_share"], "Xavier + tanh: no saturation", ""),
        (s["he/tanh"]["saturated"][-1] <= cfg["unsaturated_share"], "He + tanh: no saturation",
         "He's std is √(2/fan_in); the slides' code randn/√(2/fan_in) is wrong"),
        (_within(decay(s["xavier/relu"]["std"]), cfg["xavier_relu_decay"]),
         "Xavier + ReLU: the std shrinks by about 1/√2 per layer (「当使用ReLU时，方差又接近0」)",
         "Xavier's variance is 1/fan_in"),
        (_within(decay(s["he/relu"]["std"]), cfg["he_relu_decay"])
         and _within(s["he/relu"]["std"][-1] / s["he/relu"]["std"][0], cfg["he_relu_ratio"]),
         "He + ReLU: the std is preserved through the layers",
         "He's variance is 2/fan_in; the slides' randn/np.sqrt(2/fan_in) has variance fan_in/2"),
        (relu_means, "ReLU outputs are non-negative: each layer's mean is well above 0",
         "record each layer's OUTPUT f(a W), not the pre-activation a W"),
    ]
    return judges.all_of([judges.property_holds(bool(ok), what, why) for ok, what, why in props])


class ActivationStatistics(Check):
    """activation_stats: the slides' experiment, 10 layers of 500 units: vanishing, saturation and preserved regimes"""

    points = 0.5
    kind = "training"  # ten layers of 500 units, eight times: about 1 s; run per mutant only when targeted
    uses_reference = False
    budget = 15

    def inputs(self, rng):
        cfg = self.config
        return {"width": cfg["width"], "n": cfg["n"], "n_layers": cfg["n_layers"], "seed": int(rng.integers(2**31))}

    def observe(self, sub, width, n, n_layers, seed):
        return observe_activation_stats(sub, width, n, n_layers, seed)

    def judge(self, got, want, secret):
        return judge_activation_stats(got, self.config, self.config["n_layers"])


# -- Part 6 ---------------------------------------------------------------------------------------

def unit_spread(weights):
    """How far the hidden units are from identical: the largest difference between a
    unit's incoming weights, bias and outgoing weights and unit 0's (0: symmetric)."""
    w1, b1, w2 = (np.asarray(w, dtype=np.float64) for w in weights[:3])
    return float(max(np.abs(w1 - w1[:, :1]).max(), np.abs(b1 - b1[0]).max(), np.abs(w2 - w2[:1]).max()))


def judge_symmetry(got, cfg, d, hidden, k):
    expected = [[d, hidden], [hidden], [hidden, k], [k]]
    for init, g in got.items():
        failed = judges.failed_part(g["after"], f"symmetric_mlp('{init}') then train_steps")
        if failed is not None:
            return failed
        if [list(s) for s in g["shapes"]] != expected:
            return judges.Verdict(0.0, f"symmetric_mlp('{init}'): weight shapes {g['shapes']}, expected {expected} "
                                       "(Dense(hidden, tanh) → Dense(n_out))")
    z, c, r = got["zero"], got["constant"], got["random"]
    tol = cfg["identical_tol"]

    def moved(g):
        return max(float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in zip(g["after"][:3], g["before"][:3]))
    substantive = [
        judges.property_holds(unit_spread(z["after"]) <= tol and unit_spread(c["after"]) <= tol,
                              "zero and constant initialisation: the hidden units are still identical after training "
                              "(对称权重问题)", "every kernel of 'zero' is 0 and of 'constant' the same value; biases 0"),
        judges.property_holds(all(np.all(np.asarray(w) == v) for w, v in zip(c["before"][::2] + z["before"][::2],
                                                                            (0.5, 0.5, 0.0, 0.0))),
                              "before training, every kernel of 'zero' is 0 and of 'constant' 0.5",
                              "keras.initializers.Zeros() and Constant(0.5)"),
        judges.property_holds(unit_spread(r["after"]) >= cfg["broken_min_spread"],
                              "random initialisation breaks the symmetry", "'random' draws every weight"),
        judges.property_holds(moved(c) >= cfg["min_moved"],
                              "constant initialisation: the hidden layer does learn (all units alike)",
                              "train_steps applies w ← w − lr·g to every trainable weight"),
        judges.property_holds(bool(np.isfinite(r["losses"][-1]) and r["losses"][-1] < r["losses"][0] - 0.1),
                              "random initialisation: the loss falls over the steps", "return the loss of each step"),
    ]
    trivial = [judges.property_holds(moved(z) == 0.0, "zero initialisation: the hidden layer gets no gradient at all "
                                                      "(tanh(0) = 0 and W2 = 0)")]
    return judges.gated(substantive, trivial)


class SymmetryProblem(Check):
    """symmetric_mlp + train_steps: zero and constant initialisation keep the hidden units identical; random breaks it"""

    points = 0.5
    kind = "property"
    uses_reference = False
    budget = 20

    def inputs(self, rng):
        cfg = self.config
        x = rng.normal(size=(cfg["n"], cfg["d"]))
        y = (x @ rng.normal(size=(cfg["d"], cfg["k"]))).argmax(1)
        return Inputs(public={"x": x, "y": y, "hidden": cfg["hidden"], "steps": cfg["steps"],
                              "learning_rate": cfg["learning_rate"], "seed": int(rng.integers(2**31))},
                      secret={"d": cfg["d"], "k": int(y.max()) + 1, "hidden": cfg["hidden"]})

    def observe(self, sub, x, y, hidden, steps, learning_rate, seed):
        return observe_symmetry(sub, x, y, hidden, steps, learning_rate, seed)

    def judge(self, got, want, secret):
        return judge_symmetry(got, self.config, secret["d"], secret["hidden"], secret["k"])


def softmax(b):
    b = np.asarray(b, dtype=np.float64)
    e = np.exp(b - b.max())
    return e / e.sum()


def judge_prior_bias(got, cs, tol):
    verdicts = []
    for b, c in zip(got["b"], cs):
        failed = judges.failed_part(b, "prior_bias")
        if failed is not None:
            verdicts.append(failed)
            continue
        try:
            b = judges.as_array(b, f"prior_bias(c) for {len(c)} classes", shape=(len(c),))
        except judges.BadObservation as exc:
            verdicts.append(judges.Verdict(0.0, str(exc)))
            continue
        verdicts.append(judges.close(softmax(b), c, f"softmax(prior_bias(c)) for {len(c)} classes", tol=tol,
                                     hint="softmax(b) = c: b = log c (plus any constant)"))
    return judges.all_of(verdicts)


class PriorBias(Check):
    """prior_bias(c): softmax(b) = c for class frequencies c (2, 3 and 10 classes)"""

    points = 0.125
    uses_reference = False
    budget = 5

    def inputs(self, rng):
        cs = []
        for k in (2, 3, 10):
            c = np.maximum(rng.dirichlet(np.full(k, 0.7)), 1e-3)
            cs.append(c / c.sum())
        return Inputs(public={"cs": cs}, secret={"cs": cs})

    def observe(self, sub, cs):
        return {"b": [parts.attempt(lambda: np.asarray(sub.prior_bias(c), dtype=np.float64)) for c in cs]}

    def judge(self, got, want, secret):
        return judge_prior_bias(got, secret["cs"], self.config["tol"])


# -- Part 7 ---------------------------------------------------------------------------------------

def judge_race(got, want, cfg):
    verdicts = []
    for key, w in want.items():
        g = got[key]
        failed = judges.failed_part(g, f"run_rule on {key}")
        if failed is not None:
            verdicts.append(failed)
            continue
        problem, rule = key.split("/")
        if not g["own_step"]:
            verdicts.append(judges.Verdict(0.0, f"run_rule('{rule}') on the {problem}: does not call your {rule}_step "
                                                "once per step"))
            continue
        if g["length"] != w["length"]:
            verdicts.append(judges.Verdict(0.0, f"run_rule on the {problem}: a path of {g['length']} points, expected "
                                                f"steps + 1 = {w['length']} (θ0 first)"))
            continue
        head = judges.close(g["head"], w["head"], f"the first {cfg['head_steps']} steps of {rule} on the {problem}",
                            tol=cfg["head_tol"], hint=f"the state starts at zero; the slides' {rule} formula")
        if problem == "saddle":
            reach = judges.property_holds(g["escape"] <= math.ceil(w["escape"] * cfg["escape_slack"]),
                                          f"{rule} escapes the saddle (|y| > 1) within {RACE_STEPS[problem]} steps "
                                          f"(step {g['escape']})")
        else:
            final = g["final_loss"]
            lg = (-400.0 if final == 0 else math.log10(abs(final))) if np.isfinite(final) else math.inf
            lw = math.log10(max(abs(w["final_loss"]), 1e-300))
            reach = judges.property_holds(lg <= lw + cfg["loss_margin_decades"],
                                          f"{rule} reaches the target loss on the {problem} in {RACE_STEPS[problem]} "
                                          f"steps (log10 loss {lg:.2f}, target ≤ {lw + cfg['loss_margin_decades']:.2f})")
        verdicts.append(judges.all_of([head, reach]))
    props = []
    try:
        ada = np.asarray(got["bowl/adagrad"]["progress"], dtype=float)
        gd = np.asarray(got["bowl/sgd"]["progress"], dtype=float)
        props.append(judges.property_holds(abs(ada[0] / ada[1] - 1) <= cfg["adagrad_ratio_tol"],
                                           "AdaGrad makes the same relative progress on both coordinates of the bowl "
                                           "(「不同参数可以相同学习率」)", "AdaGrad divides by √(Σg²) per coordinate"))
        props.append(judges.property_holds(gd[0] / gd[1] <= cfg["gd_max_ratio"],
                                           "gradient descent's progress on the flat coordinate lags far behind"))
        props.append(judges.property_holds(
            got["saddle/momentum"]["escape"] <= cfg["momentum_escape_ratio"] * got["saddle/sgd"]["escape"],
            "momentum escapes the saddle much faster than gradient descent"))
        props.append(judges.equal([got[f"saddle/{r}"]["student_escape"] for r in RACE_RULES],
                                  [got[f"saddle/{r}"]["escape"] for r in RACE_RULES],
                                  "steps_to_escape on your paths"))
        props.append(judges.all_of([judges.close(got[f"bowl/{r}"]["student_progress"], got[f"bowl/{r}"]["progress"],
                                                 f"coordinate_progress ({r})", tol=1e-9) for r in ("sgd", "adagrad")]))
    except (TypeError, KeyError, ZeroDivisionError, IndexError) as exc:
        props.append(judges.Verdict(0.0, f"the race's properties could not be computed ({exc})"))
    return judges.gated([judges.all_of(verdicts)], [judges.all_of(props)], weights=[3, 2])


class OptimizerRace(Check):
    """run_rule: every rule on the ill-conditioned bowl, Rosenbrock and the saddle; AdaGrad's per-coordinate progress and momentum's escape"""

    points = 0.75
    kind = "property"
    budget = 15
    by_hand = (RUN_RULE_RULE,)

    def inputs(self, rng):
        return {"kappa": 100.0, "starts": {"bowl": [1.0, 1.0], "rosenbrock": [-1.2, 1.0], "saddle": [1.0, 1e-8]},
                "head_steps": self.config["head_steps"]}

    def observe(self, sub, kappa, starts, head_steps):
        return observe_race(sub, kappa, starts, head_steps)

    def judge(self, got, want, secret):
        return judge_race(got, want, self.config)


# -- Part 8 ---------------------------------------------------------------------------------------

def digits_split(rng, test_size):
    """scikit-learn's digits (x/16 in [0, 1], float32, flattened to 64 features), split by the check's rng."""
    from grader.data import digits

    x, y = digits(seed=0)
    x = np.asarray(x, dtype=np.float32).reshape(len(y), -1)
    y = np.asarray(y, dtype=np.int64)
    perm = rng.permutation(len(y))
    return x[perm[test_size:]], y[perm[test_size:]], x[perm[:test_size]], y[perm[:test_size]]


def judge_digits(got, secret, cfg):
    failed = judges.failed_part(got.get("logits"), "training with SlideAdam")
    if failed is not None:
        return failed
    is_optimizer = judges.property_holds(bool(got["is_optimizer"]), "SlideAdam is a keras.optimizers.Optimizer")
    try:
        accuracy = judges.accuracy(got["logits"], secret["y_test"], "the trained network's logits")
    except judges.BadObservation as exc:
        return judges.Verdict(0.0, str(exc))
    fit = judges.at_least(accuracy, cfg["min_accuracy"], "held-out accuracy on the digits")
    steps = judges.property_holds(got["iterations"] == secret["steps"],
                                  f"SlideAdam counted {got['iterations']} steps ({secret['steps']} batches were fitted)",
                                  "let the base class count iterations (apply_gradients does)")
    return judges.gated([fit], [is_optimizer, steps], weights=[4, 1, 1])


def digits_inputs(rng, cfg):
    x, y, x_test, y_test = digits_split(rng, cfg["test_size"])
    setup = {k: cfg[k] for k in ("epochs", "batch_size", "learning_rate", "hidden")}
    steps = cfg["epochs"] * math.ceil(len(y) / cfg["batch_size"])
    return Inputs(public={"x": x, "y": y, "x_test": x_test, "setup": setup, "seed": int(rng.integers(2**31))},
                  secret={"y_test": y_test, "steps": steps})


class DigitsTraining(Check):
    """Your SlideAdam trains the grader's network on the digits through model.fit: held-out accuracy"""

    points = 0.75
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
