"""Helpers the optimisation lab's checks share (public and hidden): the
"implement it yourself" rules (:mod:`grader.checks.byhand`), the observe
side's calls into the student's module (update rules run for many steps on a
function whose gradient the grader computes, a small model trained with the
student's optimiser by ``model.fit``, schedules read step by step and through
a Keras optimiser, initialisers drawn), and the judge side's statistics of a
draw (NumPy only). Whatever ``observe`` needs of the lab's settings arrives in
its inputs."""

import math

import numpy as np

from grader.checks import parts
from grader.checks.byhand import FRAMEWORKS, ByHand

UPDATE_FUNCTIONS = ("sgd_step", "momentum_step", "nesterov_step", "adagrad_step", "rmsprop_step",
                    "rmsprop_nesterov_step", "adam_step")
LIBRARY_OPTIMISERS = FRAMEWORKS + ("torch", "optax", "scipy.optimize")


def update_rule(*functions):
    """The rule of Part 1's checks: the update rules they run, in NumPy by hand."""
    return ByHand(functions=functions, forbid=LIBRARY_OPTIMISERS,
                  why="Part 1's update rules are the slides' formulas written in NumPy: no library optimiser")


UPDATE_RULE = update_rule(*UPDATE_FUNCTIONS)

#: Keras's ready-made optimisers: SlideAdam is an Optimizer of its own.
KERAS_OPTIMIZERS = tuple(f"keras.optimizers.{name}" for name in (
    "Adam", "AdamW", "Adamax", "Nadam", "Adagrad", "Adadelta", "Adafactor", "RMSprop", "SGD", "Ftrl", "Lion",
    "Lamb", "LossScaleOptimizer", "Muon", "get", "deserialize"))
OPTIMIZER_RULE = ByHand(functions=("SlideAdam",), forbid=KERAS_OPTIMIZERS,
                        why="Part 2's SlideAdam updates its own slot variables with keras.ops: it may not wrap, "
                            "call or inherit from a Keras optimiser other than the base class Optimizer")

KERAS_SCHEDULES = tuple(f"keras.optimizers.schedules.{name}" for name in (
    "InverseTimeDecay", "ExponentialDecay", "CosineDecay", "CosineDecayRestarts", "PiecewiseConstantDecay",
    "PolynomialDecay", "deserialize"))
SCHEDULE_CLASSES = ("InverseTimeSchedule", "ExponentialSchedule", "NaturalExpSchedule", "CosineSchedule")
SCHEDULE_RULE = ByHand(functions=SCHEDULE_CLASSES, forbid=KERAS_SCHEDULES,
                       why="Part 3's decays compute the slides' formulas themselves: no Keras decay schedule "
                           "inside")

KERAS_INITIALIZERS = tuple(f"keras.initializers.{name}" for name in (
    "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "VarianceScaling",
    "RandomNormal", "RandomUniform", "TruncatedNormal", "Orthogonal", "get", "deserialize"))


def initializer_rule(*functions):
    """The rule of Part 4's checks: the initialisers (and fans) they draw from, without a Keras initialiser."""
    return ByHand(functions=functions, forbid=KERAS_INITIALIZERS,
                  why="Part 4's initialisers compute their variance or bound from the fans themselves: "
                      "no Keras initialiser inside (keras.random draws are fine)")


FANS_RULE = initializer_rule("fan_in_and_out")
NORMAL_RULE = initializer_rule("XavierNormal", "HeNormal", "PReLUNormal")
UNIFORM_RULE = initializer_rule("XavierUniform", "UniformFromVariance")


# -- Part 1 ---------------------------------------------------------------------------------------

def quadratic_gradient(a, b, wiggle=0.0):
    """The gradient of ½θᵀAθ − bᵀθ (+ a wiggle, −wiggle/3·Σcos 3θ), the grader's own."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)

    def grad(theta):
        theta = np.asarray(theta, dtype=np.float64)
        return a @ theta - b + wiggle * np.sin(3.0 * theta)
    return grad


def run_rule(sub, rule, theta0, grad, steps, kwargs):
    """``steps`` updates of the student's ``rule`` from ``theta0`` and zero state:
    the parameters after every step (steps, d), the final state, and whether a
    call changed an array it was given (``pure``: the rules return new arrays)."""
    fn = getattr(sub, rule)
    theta = np.array(theta0, dtype=np.float64)
    state = {"v": np.zeros_like(theta), "r": np.zeros_like(theta), "s": np.zeros_like(theta), "t": 0}
    path, pure = [], True
    for _ in range(int(steps)):
        passed = [theta] + [state[k] for k in ("v", "r", "s")]
        copies = [p.copy() for p in passed]
        if rule == "sgd_step":
            theta = fn(theta, grad(theta), **kwargs)
        elif rule == "momentum_step":
            theta, state["v"] = fn(theta, state["v"], grad(theta), **kwargs)
        elif rule == "nesterov_step":
            theta, state["v"] = fn(theta, state["v"], grad, **kwargs)
        elif rule in ("adagrad_step", "rmsprop_step"):
            theta, state["r"] = fn(theta, state["r"], grad(theta), **kwargs)
        elif rule == "rmsprop_nesterov_step":
            theta, state["v"], state["r"] = fn(theta, state["v"], state["r"], grad, **kwargs)
        else:
            theta, state["s"], state["r"], state["t"] = fn(theta, state["s"], state["r"], state["t"], grad(theta),
                                                           **kwargs)
        pure = pure and all(np.array_equal(p, c) for p, c in zip(passed, copies))
        theta = np.array(theta, dtype=np.float64)
        state = {k: (np.array(v, dtype=np.float64) if k != "t" else int(v)) for k, v in state.items()}
        path.append(theta.copy())
    return {"path": np.array(path), "pure": bool(pure), **{k: state[k] for k in RULE_STATE[rule]}}


#: The state each rule returns besides theta.
RULE_STATE = {"sgd_step": (), "momentum_step": ("v",), "nesterov_step": ("v",), "adagrad_step": ("r",),
              "rmsprop_step": ("r",), "rmsprop_nesterov_step": ("v", "r"), "adam_step": ("s", "r", "t")}


def rule_paths(sub, rules, theta0, a, b, wiggle, steps, kwargs):
    """Every rule of ``rules`` run by :func:`run_rule`, each a part of its own
    (``kwargs``: the keyword arguments of each rule)."""
    grad = quadratic_gradient(a, b, wiggle)
    return {rule: parts.attempt(lambda: run_rule(sub, rule, theta0, grad, steps, kwargs.get(rule, {})))
            for rule in rules}


# -- Part 2 ---------------------------------------------------------------------------------------

def observe_slide_adam(sub, x, y, weights, hidden, hyper, batch_size, epochs):
    """A Dense(hidden, tanh) → Dense(out) model with the given weights, trained by
    ``model.fit`` (MSE, no shuffling) with the student's ``SlideAdam(**hyper)``:
    every weight after every batch, the optimiser's iteration count, and the
    hyperparameters of ``SlideAdam.from_config(get_config())``."""
    import keras

    class Record(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.path = []

        def on_train_batch_end(self, batch, logs=None):
            self.path.append(np.concatenate([np.ravel(w) for w in self.model.get_weights()]))

    def fit():
        model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(int(hidden), activation="tanh"),
                                  keras.layers.Dense(y.shape[1])])
        model.set_weights([np.asarray(w, dtype=np.float32) for w in weights])
        optimizer = sub.SlideAdam(**hyper)
        model.compile(optimizer=optimizer, loss="mse", jit_compile=False)
        record = Record()
        model.fit(x.astype(np.float32), y.astype(np.float32), batch_size=int(batch_size), epochs=int(epochs),
                  shuffle=False, verbose=0, callbacks=[record])
        return {"path": np.array(record.path, dtype=np.float64), "iterations": int(optimizer.iterations),
                "is_optimizer": isinstance(optimizer, keras.optimizers.Optimizer)}

    def config():
        values = []
        for optimizer in (sub.SlideAdam(**hyper), sub.SlideAdam()):
            again = type(optimizer).from_config(optimizer.get_config()).get_config()
            values += [float(again[k]) for k in ("learning_rate", "rho1", "rho2", "delta")]
        return values

    out = parts.together(("path", "iterations", "is_optimizer"), fit)
    out["config"] = parts.attempt(config)
    return out


# -- Part 3 ---------------------------------------------------------------------------------------

def make_schedule(sub, spec):
    """A schedule from plain data: ``[class name, kwargs]``; a LinearWarmup's
    ``after`` is itself such a spec, or ``["keras.ExponentialDecay", kwargs]``."""
    import keras

    name, kwargs = spec
    kwargs = dict(kwargs)
    if name == "keras.ExponentialDecay":
        return keras.optimizers.schedules.ExponentialDecay(**kwargs)
    if "after" in kwargs:
        kwargs["after"] = make_schedule(sub, kwargs["after"])
    return getattr(sub, name)(**kwargs)


def schedule_values(sub, spec, steps, tensor=False):
    """The schedule's learning rate at each step (Python ints, or int64 tensors as
    Keras's ``iterations``)."""
    import keras

    schedule = make_schedule(sub, spec)
    if tensor:
        return np.array([float(schedule(keras.ops.convert_to_tensor(int(t), dtype="int64"))) for t in steps])
    return np.array([float(schedule(int(t))) for t in steps])


def schedule_round_trip(sub, spec, steps):
    """``from_config(get_config())`` of the schedule, read at ``steps``; whether the config is JSON."""
    import json

    schedule = make_schedule(sub, spec)
    config = schedule.get_config()
    json.dumps(config)
    again = type(schedule).from_config(config)
    return np.array([float(again(int(t))) for t in steps])


def schedule_in_sgd(sub, spec, n):
    """Keras's SGD with the schedule as its learning rate, ``n`` updates of a variable
    with gradient 1: the rate Keras used at each update."""
    import keras

    optimizer = keras.optimizers.SGD(learning_rate=make_schedule(sub, spec))
    variable = keras.Variable(np.zeros(1, dtype=np.float32))
    rates = []
    for _ in range(int(n)):
        before = float(variable.numpy()[0])
        optimizer.apply_gradients([(keras.ops.ones((1,)), variable)])
        rates.append(before - float(variable.numpy()[0]))
    return np.array(rates)


# -- Part 4 ---------------------------------------------------------------------------------------

def draw(sub, spec, shape, seed, dtype):
    """One draw of the student's initialiser ``[class name, kwargs]`` as float64,
    and the dtype it came in."""
    name, kwargs = spec
    init = getattr(sub, name)(seed=int(seed), **kwargs)
    value = init(tuple(int(d) for d in shape), dtype=dtype)
    return np.asarray(value).astype(np.float64), str(np.asarray(value).dtype)


def observe_initializer(sub, spec, shapes, seed):
    """Draws of one initialiser on each shape (the first in float64, the others in
    the default dtype), their dtypes, and whether the same seed gives the same
    draw, another seed another one, and no seed a new draw at each call."""
    def run():
        out = {"draws": [], "dtypes": []}
        for i, shape in enumerate(shapes):
            value, dtype = draw(sub, spec, shape, seed + i, "float64" if i == 0 else None)
            out["draws"].append(value)
            out["dtypes"].append(dtype)
        small = shapes[-1]
        out["same_seed"] = bool(np.array_equal(draw(sub, spec, small, seed + 7, None)[0],
                                               draw(sub, spec, small, seed + 7, None)[0]))
        out["other_seed"] = bool(not np.array_equal(draw(sub, spec, small, seed + 7, None)[0],
                                                    draw(sub, spec, small, seed + 8, None)[0]))
        unseeded = getattr(sub, spec[0])(**spec[1])
        first, second = np.asarray(unseeded(tuple(small))), np.asarray(unseeded(tuple(small)))
        out["unseeded"] = bool(not np.array_equal(first, second))
        return out
    return parts.attempt(run)


#: The z of every statistical test of a draw: two-sided false alarm 5.7e-7 per test.
Z = 5.0


def keras_fans(shape):
    """Keras's (fan_in, fan_out) of a kernel shape (the judge's own)."""
    dims = [int(d) for d in shape] or [1]
    if len(dims) == 1:
        return dims[0], dims[0]
    field = math.prod(dims[:-2])
    return field * dims[-2], field * dims[-1]


def draw_problems(sample, variance, uniform, what):
    """The statistical tests one draw must pass, each at |z| ≤ Z (a correct
    initialiser fails one with probability 5.7e-7): mean 0, variance ``variance``
    (sd of s²/σ² is √((κ − 1)/n), κ = 3 normal, 1.8 uniform), and the shape: a
    uniform within ±r = √(3σ²) reaching past 0.998 r, a normal with 4.55 % of
    its values beyond 2σ (binomial). Returns the failures in words."""
    x = np.ravel(np.asarray(sample, dtype=np.float64))
    n = x.size
    sigma = math.sqrt(variance)
    problems = []
    if not np.all(np.isfinite(x)):
        return [f"{what}: values that are not finite"]
    mean_z = x.mean() / (sigma / math.sqrt(n))
    if abs(mean_z) > Z:
        problems.append(f"{what}: mean {x.mean():.3g} is {abs(mean_z):.0f} standard errors from 0")
    kappa = 1.8 if uniform else 3.0
    ratio = float(np.mean(x * x)) / variance
    var_z = (ratio - 1.0) / math.sqrt((kappa - 1.0) / n)
    if abs(var_z) > Z:
        problems.append(f"{what}: E[w²] is {ratio:.3g}× the variance asked for ({abs(var_z):.0f} standard errors "
                        "off): which fan, and is it the variance or the standard deviation?")
    if uniform:
        bound = math.sqrt(3.0 * variance)
        top = float(np.max(np.abs(x)))
        if top > bound * (1 + 1e-6) or top < 0.998 * bound:
            problems.append(f"{what}: the largest |w| is {top / bound:.4g}·r, not just under r = √(3σ²)")
    else:
        p = math.erfc(2.0 / math.sqrt(2.0))
        frac = float(np.mean(np.abs(x) > 2.0 * sigma))
        if abs(frac - p) > Z * math.sqrt(p * (1 - p) / n):
            problems.append(f"{what}: {100 * frac:.2f} % of the values lie beyond 2σ (a normal has 4.55 %): "
                            "not an untruncated normal")
    return problems


# -- Part 5 ---------------------------------------------------------------------------------------

INITS = ("small", "large", "xavier", "he")
ACTIVATIONS = ("tanh", "relu")


def observe_activation_stats(sub, width, n, n_layers, seed):
    """The student's activation_stats for the 8 (initialisation, activation) pairs, each a part."""
    def one(init, act):
        stats = sub.activation_stats(init, act, n_layers=n_layers, width=width, n=n, seed=seed)
        return {k: np.asarray(stats[k], dtype=np.float64) for k in ("mean", "std", "saturated")}
    return {f"{init}/{act}": parts.attempt(lambda: one(init, act)) for init in INITS for act in ACTIVATIONS}


# -- Part 6 ---------------------------------------------------------------------------------------

def observe_symmetry(sub, x, y, hidden, steps, learning_rate, seed):
    """For each initialisation: the weights of the student's symmetric_mlp before and
    after its train_steps, the losses, and the weights' shapes."""
    def one(init):
        model = sub.symmetric_mlp(init, x.shape[1], int(hidden), int(y.max()) + 1, seed=int(seed))
        before = [np.asarray(w, dtype=np.float64) for w in model.get_weights()]
        losses = [float(v) for v in sub.train_steps(model, x, y, int(steps), float(learning_rate))]
        after = [np.asarray(w, dtype=np.float64) for w in model.get_weights()]
        return {"before": before, "after": after, "losses": losses, "shapes": [list(w.shape) for w in after]}
    return {init: parts.together(("before", "after", "losses", "shapes"), lambda: one(init))
            for init in ("zero", "constant", "random")}


# -- Part 7 ---------------------------------------------------------------------------------------

RUN_RULE_RULE = ByHand(functions=("run_rule",), forbid=LIBRARY_OPTIMISERS,
                       why="the race runs YOUR Part 1 step functions in a loop of your own: no library optimiser")
RACE_RULES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
#: The race's hyperparameters (the handout states them) and step budgets.
RACE_HYPER = {
    "bowl": {"sgd": {"lr": 0.015}, "momentum": {"lr": 0.01, "momentum": 0.8},
             "nesterov": {"lr": 0.01, "momentum": 0.8}, "adagrad": {"lr": 0.5},
             "rmsprop": {"lr": 0.01, "rho": 0.9}, "adam": {"lr": 0.05}},
    "rosenbrock": {"sgd": {"lr": 1e-3}, "momentum": {"lr": 1e-3, "momentum": 0.9},
                   "nesterov": {"lr": 1e-3, "momentum": 0.9}, "adagrad": {"lr": 1.0},
                   "rmsprop": {"lr": 2e-3, "rho": 0.9}, "adam": {"lr": 0.02}},
    "saddle": {"sgd": {"lr": 0.01}, "momentum": {"lr": 0.01, "momentum": 0.9},
               "nesterov": {"lr": 0.01, "momentum": 0.9}, "adagrad": {"lr": 0.1},
               "rmsprop": {"lr": 0.01, "rho": 0.9}, "adam": {"lr": 0.01}},
}
RACE_STEPS = {"bowl": 200, "rosenbrock": 3000, "saddle": 1500}


def race_problem(name, kappa):
    """The grader's loss and gradient of θ (2,): the bowl ½(x² + κy²), Rosenbrock, the saddle x² − y²."""
    if name == "bowl":
        return (lambda t: 0.5 * (t[0] ** 2 + kappa * t[1] ** 2)), (lambda t: np.array([t[0], kappa * t[1]]))
    if name == "rosenbrock":
        return ((lambda t: (1 - t[0]) ** 2 + 100 * (t[1] - t[0] ** 2) ** 2),
                (lambda t: np.array([-2 * (1 - t[0]) - 400 * t[0] * (t[1] - t[0] ** 2), 200 * (t[1] - t[0] ** 2)])))
    return (lambda t: t[0] ** 2 - t[1] ** 2), (lambda t: np.array([2 * t[0], -2 * t[1]]))


def observe_race(sub, kappa, starts, head_steps):
    """Every rule on the three problems through the student's run_rule: the first
    ``head_steps`` + 1 points, the final loss, the path's length, whether run_rule
    called the student's own ``<rule>_step`` once per step, the saddle's escape step
    (the grader's count and the student's steps_to_escape) and the bowl's
    per-coordinate progress (the grader's and the student's coordinate_progress)."""
    out = {}
    for problem, start in starts.items():
        loss, grad = race_problem(problem, kappa)
        for rule in RACE_RULES:
            def one():
                name = f"{rule}_step"
                original, calls = getattr(sub, name), []

                def counted(*args, **kwargs):
                    calls.append(1)
                    return original(*args, **kwargs)
                setattr(sub, name, counted)
                try:
                    with np.errstate(all="ignore"):
                        path = np.asarray(sub.run_rule(rule, grad, np.array(start, dtype=np.float64),
                                                       RACE_STEPS[problem], **RACE_HYPER[problem][rule]),
                                          dtype=np.float64)
                finally:
                    setattr(sub, name, original)
                res = {"head": path[:head_steps + 1], "final_loss": float(loss(path[-1])), "length": int(len(path)),
                       "own_step": len(calls) >= RACE_STEPS[problem]}
                if problem == "saddle":
                    hit = np.nonzero(np.abs(path[:, 1]) > 1.0)[0]
                    res["escape"] = int(hit[0]) if hit.size else int(len(path))
                    res["student_escape"] = parts.attempt(lambda: int(sub.steps_to_escape(path)))
                if problem == "bowl":
                    with np.errstate(all="ignore"):
                        res["progress"] = np.log(np.abs(path[-1])) - np.log(np.abs(path[0]))
                    res["student_progress"] = parts.attempt(
                        lambda: np.asarray(sub.coordinate_progress(path), dtype=np.float64))
                return res
            out[f"{problem}/{rule}"] = parts.attempt(one)
    return out


# -- Part 8 ---------------------------------------------------------------------------------------

def observe_digits(sub, x, y, x_test, setup, seed):
    """The grader's network (Dense(hidden, relu) → Dense(10), He-normal kernels) trained
    by ``model.fit`` with the student's SlideAdam: logits on ``x_test`` and the step count."""
    import keras

    keras.utils.set_random_seed(int(seed))
    model = keras.Sequential([keras.Input((x.shape[1],)),
                              keras.layers.Dense(int(setup["hidden"]), "relu", kernel_initializer="he_normal"),
                              keras.layers.Dense(10)])
    optimizer = sub.SlideAdam(learning_rate=setup["learning_rate"])
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=int(setup["epochs"]), batch_size=int(setup["batch_size"]), shuffle=True, verbose=0)
    return {"is_optimizer": isinstance(optimizer, keras.optimizers.Optimizer),
            "logits": np.asarray(model(x_test, training=False)), "iterations": int(optimizer.iterations.numpy())}
