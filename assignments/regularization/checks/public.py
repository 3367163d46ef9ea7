"""Public checks of the regularisation lab: students run these with ``pytest``
or ``grader check regularization``. Each ``observe`` calls your code; each
``judge`` compares with the reference's result on the same inputs (float64
for the NumPy parts, float32 where Keras computes), with Keras's own layer or
loss where the handout says yours must match it, or tests a random draw
statistically (a two-sided test at 5 standard deviations)."""

import math

import numpy as np

from grader.checks import Check, Inputs, judges, parts

from .common import (AUGMENT_RULE, BATCH_NORM_RULE, CLASSES, DATA_RULE, DROPOUT_RULE, EARLY_RULE, GROUP_NORM_RULE, PENALTY_RULE, SCALING_RULE,
                     SMOOTHING_RULE, STEP_RULE, observe_adam_decay, observe_augment_draws, observe_augment_exact, observe_batch_norm,
                     observe_batch_norm_gradient, observe_dropout_draws, observe_dropout_masks, observe_early_stopping,
                     observe_equivalence, observe_group_norm, observe_leak, observe_penalties, observe_scalers,
                     observe_regularized, observe_sgd_decay, observe_smoothing, noisy_digits)

#: NumPy parts compute in float64.
FLOAT64 = 1e-9
#: Keras layers compute in float32.
FLOAT32 = 1e-4
#: Every statistical test is two-sided at this many standard deviations (false alarm 5.7e-7).
SIGMAS = 5.0
#: Part 6: the largest relative gap between the early-stopped path and the L2 solution with α = 1/(τε)
#: on a spectrum with ελ ≤ 0.01 (see lab.toml for the calibration).
MAX_GAP = 0.1


def judge_listed(got, want, what, tol, names=None, hint=""):
    """A list of arrays, each compared on its own."""
    failed = judges.failed_part(got, what)
    if failed is not None:
        return failed
    if not isinstance(got, list) or len(got) != len(want):
        return judges.Verdict(0.0, f"{what}: expected {len(want)} values")
    names = names or [f"{what} [{i}]" for i in range(len(want))]
    return judges.all_of([judges.close(g, w, n, tol=tol, hint=hint) for g, w, n in zip(got, want, names)])


# -- Part 1 ---------------------------------------------------------------------------------------

def scaling_inputs(rng, n, m, d):
    scale = rng.uniform(0.5, 50.0, size=d)
    x_train = rng.normal(rng.uniform(-20, 20, size=d), scale, size=(n, d))
    x_test = rng.normal(rng.uniform(-20, 20, size=d), scale, size=(m, d))
    return {"x_train": x_train, "x_test": x_test, "mean": rng.normal(size=d), "std": rng.uniform(0.5, 3.0, size=d),
            "lo": rng.uniform(-5, 0, size=d), "hi": rng.uniform(1, 5, size=d)}


def judge_scalers(got, want):
    verdicts = [judge_listed(got["standardizer"], want["standardizer"], "fit_standardizer", FLOAT64,
                             ["the mean m_d", "the standard deviation σ_d"],
                             hint="per feature (axis 0), the population variance (1/n, ddof=0)"),
                judges.close(got["standardize"], want["standardize"], "standardize(x, m, σ)", tol=FLOAT64,
                             hint="(x − m_d)/σ_d"),
                judge_listed(got["minmax"], want["minmax"], "fit_minmax", FLOAT64, ["min_d", "max_d"],
                             hint="per feature (axis 0)"),
                judges.close(got["minmax_scale"], want["minmax_scale"], "minmax_scale(x, min, max)", tol=FLOAT64,
                             hint="(x − min_d)/(max_d − min_d)"),
                judges.close(got["preprocess_test"], got["keras"],
                             "preprocess(..., 'standardize') against keras.layers.Normalization adapted to x_train",
                             tol=FLOAT32, hint="the same statistics Keras adapts: the training set's, 1/n")]
    return judges.all_of(verdicts, weights=[2, 1, 2, 1, 2])


class ScalingStatistics(Check):
    """Standardisation and min-max scaling (数据归一化): each function, and preprocess against keras.layers.Normalization"""

    points = 0.5
    budget = 15
    by_hand = (SCALING_RULE,)

    def inputs(self, rng):
        return scaling_inputs(rng, 200, 50, 5)

    def observe(self, sub, x_train, x_test, mean, std, lo, hi):
        return observe_scalers(sub, x_train, x_test, mean, std, lo, hi)

    def judge(self, got, want, secret):
        return judge_scalers(got, want)


def leak_inputs(rng, n, m, d):
    x_train = rng.normal(rng.uniform(-5, 5, size=d), rng.uniform(1.0, 10.0, size=d), size=(n, d))
    x_test = rng.normal(rng.uniform(-5, 5, size=d), rng.uniform(1.0, 10.0, size=d), size=(m, d))
    # The same test set shifted and stretched: its own statistics change, the training set's do not.
    shifted = 3.0 * x_test + rng.uniform(20.0, 40.0, size=d)
    return {"x_train": x_train, "x_tests": [x_test, shifted], "methods": ["standardize", "minmax"]}


def judge_leak(got, want):
    verdicts = []
    for method in want:
        g, w = got[method], want[method]
        what = f"preprocess(..., {method!r})"
        failed = judges.failed_part(g, what)
        if failed is not None:
            verdicts.append(failed)
            continue
        try:
            values = [judges.close(g[i][j], w[i][j], f"{what}: the {part} set, test set {i + 1}", tol=FLOAT64,
                                   hint="fit on x_train only; transform both sets with its statistics")
                      for i in range(len(w)) for j, part in enumerate(("training", "test"))]
            same = all(np.array_equal(judges.as_array(g[0][0], "train"), judges.as_array(g[i][0], "train"))
                       for i in range(len(w)))
        except (judges.BadObservation, IndexError, TypeError, KeyError):
            verdicts.append(judges.Verdict(0.0, f"{what}: expected (train, test) for each test set"))
            continue
        leak = judges.property_holds(same, f"{what}: the training set does not depend on the test set",
                                     "no statistic may come from x_test")
        verdicts.append(judges.gated(values, [leak]))
    return judges.all_of(verdicts)


class NoTestLeak(Check):
    """preprocess fits on the training set only: the same training set with a test set, then with it shifted and rescaled"""

    points = 0.5
    budget = 10
    by_hand = (SCALING_RULE,)

    def inputs(self, rng):
        return leak_inputs(rng, 120, 40, 4)

    def observe(self, sub, x_train, x_tests, methods):
        return observe_leak(sub, x_train, x_tests, methods)

    def judge(self, got, want, secret):
        return judge_leak(got, want)


# -- Part 2 ---------------------------------------------------------------------------------------

def batch_norm_inputs(rng, shape, n_batches):
    c = shape[-1]
    offset, scale = rng.uniform(-3, 3, size=c), rng.uniform(0.5, 4.0, size=c)
    batches = [(rng.normal(size=shape) * scale + offset).astype(np.float32) for _ in range(n_batches)]
    probe = (rng.normal(size=(3,) + tuple(shape[1:])) * scale + offset).astype(np.float32)
    return {"batches": batches, "probe": probe, "gamma": rng.uniform(0.5, 2.0, size=c).astype(np.float32),
            "beta": rng.normal(size=c).astype(np.float32)}


def judge_batch_norm(got, want, what):
    g, w, k = got["student"], want["student"], got["keras"]
    failed = judges.failed_part(g, what)
    if failed is not None:
        return failed
    try:
        train = [judges.close(a, b, f"{what}: training output, batch {i + 1}", tol=FLOAT32,
                              hint="the batch's mean and variance (1/K) over every axis but the last")
                 for i, (a, b) in enumerate(zip(g["train"], w["train"]))]
        moving = [judge_listed(a, b, f"{what}: moving statistics after batch {i + 1}", FLOAT32,
                               [f"{what}: moving_mean after batch {i + 1}", f"{what}: moving_variance after batch {i + 1}"],
                               hint="moving ← momentum·moving + (1 − momentum)·batch statistic")
                  for i, (a, b) in enumerate(zip(g["moving"], w["moving"]))]
        inference = judges.close(g["inference"], w["inference"], f"{what}: inference output", tol=FLOAT32,
                                 hint="at test time the moving mean and variance, not the batch's")
        keras_ = judges.all_of([judges.close(g["train"][-1], k["train"][-1], f"{what}: last training output against "
                                             "keras.layers.BatchNormalization", tol=FLOAT32),
                                judges.close(g["inference"], k["inference"], f"{what}: inference against "
                                             "keras.layers.BatchNormalization", tol=FLOAT32)])
        single = judges.close(g["single"], np.asarray(g["inference"])[:1], f"{what}: one sample alone at test time",
                              tol=FLOAT32, hint="inference must not depend on the other samples of the batch")
        weights = judges.equal(g["weights"], w["weights"], f"{what}: (trainable, non-trainable) weights",
                               hint="γ, β trainable; the moving mean and variance not")
    except (TypeError, KeyError, IndexError):
        return judges.Verdict(0.0, f"{what}: the layer's results have the wrong form")
    if len(g["train"]) != len(w["train"]):
        return judges.Verdict(0.0, f"{what}: expected {len(w['train'])} training outputs")
    return judges.gated([judges.all_of(train), judges.all_of(moving), inference, keras_], [single, weights],
                        weights=[3, 2, 2, 1, 1, 1])


class BatchNormLayer(Check):
    """BatchNorm (default momentum 0.99 and ε 1e-3, then 0.8 and 0.01) on dense (16, 6) and convolutional (4, 5, 5, 3) batches: training, moving statistics, inference, against Keras"""

    points = 0.5
    budget = 20
    by_hand = (BATCH_NORM_RULE,)

    def inputs(self, rng):
        return {"dense": batch_norm_inputs(rng, (16, 6), 5), "conv": batch_norm_inputs(rng, (4, 5, 5, 3), 5)}

    def observe(self, sub, dense, conv):
        return {"dense": observe_batch_norm(sub, **dense, kwargs={}),
                "conv": observe_batch_norm(sub, **conv, kwargs={"momentum": 0.8, "epsilon": 0.01})}

    def judge(self, got, want, secret):
        return judges.all_of([judge_batch_norm(got["dense"], want["dense"], "BatchNorm() on (16, 6)"),
                              judge_batch_norm(got["conv"], want["conv"],
                                               "BatchNorm(momentum=0.8, epsilon=0.01) on (4, 5, 5, 3)")])


def gradient_inputs(rng, shape, epsilon):
    c = shape[-1]
    x = rng.normal(size=shape) * rng.uniform(0.5, 3.0, size=c) + rng.uniform(-2, 2, size=c)
    axes = tuple(range(len(shape) - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    inv_std = 1.0 / np.sqrt(var + epsilon)
    return {"x": x, "gamma": rng.uniform(0.5, 2.0, size=c), "beta": rng.normal(size=c), "epsilon": epsilon,
            "w": rng.normal(size=shape), "dy": rng.normal(size=shape), "x_hat": (x - mean) * inv_std,
            "inv_std": inv_std}


def judge_gradient(got, want, what):
    backward = judge_listed(got["backward"], want["backward"], f"{what}: batch_norm_backward", 1e-8,
                            [f"{what}: dx", f"{what}: dgamma", f"{what}: dbeta"],
                            hint="dx = γ/σ·(dy − mean(dy) − x̂·mean(dy·x̂)), the means over the batch axes")
    tape = got["tape"]
    failed = judges.failed_part(tape, f"{what}: the gradient of batch_norm_train")
    if failed is not None:
        return judges.all_of([backward, failed])
    try:
        forward = judges.close(tape["y"], want["tape"]["y"], f"{what}: batch_norm_train's output", tol=1e-8)
        grads = judge_listed(tape["grads"], want["tape"]["grads"], f"{what}: the gradient through the tape", 1e-8,
                             [f"{what}: ∂L/∂x", f"{what}: ∂L/∂γ", f"{what}: ∂L/∂β"])
        used = judges.property_holds(int(tape["calls"]) > 0, f"{what}: the tape's gradient comes from "
                                     "batch_norm_backward", "decorate batch_norm_train with tf.custom_gradient and "
                                     "return a grad function that calls batch_norm_backward")
    except (TypeError, KeyError, ValueError):
        return judges.Verdict(0.0, f"{what}: the gradient's results have the wrong form")
    return judges.all_of([backward, judges.gated([forward, grads], [used])], weights=[1, 2])


class BatchNormBackward(Check):
    """batch_norm_backward (float64) on dense and convolutional shapes, and the tape's gradient through batch_norm_train's custom gradient"""

    points = 0.75
    kind = "gradient"
    budget = 15
    by_hand = (BATCH_NORM_RULE,)

    def inputs(self, rng):
        return {"dense": gradient_inputs(rng, (12, 5), 1e-3), "conv": gradient_inputs(rng, (3, 4, 4, 2), 1e-2)}

    def observe(self, sub, dense, conv):
        return {"dense": observe_batch_norm_gradient(sub, **dense), "conv": observe_batch_norm_gradient(sub, **conv)}

    def judge(self, got, want, secret):
        return judges.all_of([judge_gradient(got["dense"], want["dense"], "(12, 5)"),
                              judge_gradient(got["conv"], want["conv"], "(3, 4, 4, 2)")])


def group_norm_inputs(rng, shape, groups, epsilon=None):
    c = shape[-1]
    x = (rng.normal(size=shape) * rng.uniform(0.5, 3.0, size=c) + rng.uniform(-2, 2, size=c)).astype(np.float32)
    return {"x": x, "groups": list(groups), "gamma": rng.uniform(0.5, 2.0, size=c).astype(np.float32),
            "beta": rng.normal(size=c).astype(np.float32), "epsilon": epsilon}


def judge_group_norm(got, want, what):
    verdicts = []
    for key in want:
        if not key.startswith("student_"):
            continue
        g, w, k = got[key], want[key], got["keras_" + key.split("_")[1]]
        label = f"{what}: GroupNorm({key.split('_')[1]})"
        failed = judges.failed_part(g, label)
        if failed is not None:
            verdicts.append(failed)
            continue
        try:
            same = judges.close(g[1], g[0], f"{label}: inference against training", tol=1e-6,
                                hint="layer, instance and group normalisation are the same in training and "
                                     "inference (训练和测试时操作一致)")
            verdicts.append(judges.gated(
                [judges.close(g[0], w[0], label, tol=FLOAT32,
                              hint="per sample and group: the mean and variance over the positions and the group's "
                                   "channels; γ, β per channel"),
                 judges.close(g[0], k[0], f"{label} against keras.layers.GroupNormalization", tol=FLOAT32)],
                [same]))
        except (TypeError, IndexError):
            verdicts.append(judges.Verdict(0.0, f"{label}: expected two outputs"))
    return judges.all_of(verdicts)


class GroupNormLayer(Check):
    """GroupNorm on (4, 5, 5, 6): layer (1 group), 3 groups, instance (6 groups); on (8, 4) as layer normalisation"""

    points = 0.5
    budget = 15
    by_hand = (GROUP_NORM_RULE,)

    def inputs(self, rng):
        return {"conv": group_norm_inputs(rng, (4, 5, 5, 6), (1, 3, 6)), "dense": group_norm_inputs(rng, (8, 4), (1,))}

    def observe(self, sub, conv, dense):
        return {"conv": observe_group_norm(sub, **conv), "dense": observe_group_norm(sub, **dense)}

    def judge(self, got, want, secret):
        return judges.all_of([judge_group_norm(got["conv"], want["conv"], "(4, 5, 5, 6)"),
                              judge_group_norm(got["dense"], want["dense"], "(8, 4)")], weights=[3, 1])


# -- Part 3 ---------------------------------------------------------------------------------------

def mask_inputs(rng, shape, rate, d, units):
    return {"x": rng.normal(size=shape), "keep_mask": (rng.uniform(size=shape) >= rate).astype(np.float32),
            "rate": rate, "xin": rng.normal(size=(5, d)).astype(np.float32),
            "kernel": rng.normal(size=(d, units)).astype(np.float32),
            "bias": rng.normal(size=units).astype(np.float32),
            "kernel_mask": (rng.uniform(size=(d, units)) >= rate).astype(np.float32)}


def judge_masks(got, want, rate):
    names = {"inverted": ("dropout(x, rate, True, keep_mask)", "dropout(x, rate, False)"),
             "scaling": ("dropout_weight_scaling(x, rate, True, keep_mask)", "dropout_weight_scaling(x, rate, False)"),
             "drop_connect": ("DropConnectDense(training=True, kernel_mask)", "DropConnectDense(training=False)")}
    hints = {"inverted": "kept units scaled by 1/(1 − rate); the identity at test time",
             "scaling": "kept units not scaled; every unit × (1 − rate) at test time (权重比例推断规则)",
             "drop_connect": "mask the kernel's weights, not the inputs; (1 − rate)·W at test time; the bias kept"}
    verdicts = [judge_listed(got[k], want[k], names[k][0], FLOAT32, list(names[k]), hint=hints[k]) for k in names]
    verdicts.append(judges.close(got["gradient"], want["gradient"], "the gradient of Σ dropout(x) with respect to x",
                                 tol=FLOAT32, hint="keep_mask/(1 − rate)"))
    return judges.all_of(verdicts, weights=[2, 2, 2, 1])


class DropoutMasks(Check):
    """dropout, dropout_weight_scaling and DropConnectDense with injected masks (rate 0.3), at test time, and dropout's gradient"""

    points = 0.5
    budget = 15
    by_hand = (DROPOUT_RULE,)

    def inputs(self, rng):
        return mask_inputs(rng, (6, 7), 0.3, 5, 4)

    def observe(self, sub, x, keep_mask, rate, xin, kernel, bias, kernel_mask):
        return observe_dropout_masks(sub, x, keep_mask, rate, xin, kernel, bias, kernel_mask)

    def judge(self, got, want, secret):
        return judge_masks(got, want, 0.3)


def z_score(count, n, p):
    return (count - n * p) / math.sqrt(n * p * (1 - p))


def judge_draws(got, n, rate, d, units):
    """Every zero count within 5σ of rate·n (a two-sided binomial test);
    kept values exactly 1/(1 − rate) (inverted) or 1 (the slides' form); the
    kept weights of DropConnect unchanged; a fresh mask at each call."""
    verdicts = []
    for key, name, kept in (("inverted", "dropout", 1.0 / (1.0 - rate)), ("scaling", "dropout_weight_scaling", 1.0)):
        g = got[key]
        failed = judges.failed_part(g, name)
        if failed is not None:
            verdicts.append(failed)
            continue
        try:
            zeros, low, high = int(g[0]), float(g[1]), float(g[2])
        except (TypeError, ValueError, IndexError):
            verdicts.append(judges.Verdict(0.0, f"{name}: the draw's summary has the wrong form"))
            continue
        z = z_score(zeros, n, rate)
        verdicts.append(judges.gated([
            judges.property_holds(abs(z) <= SIGMAS, f"{name}(ones({n}), {rate}, True): {zeros} zeros (z = {z:.1f})",
                                  f"expected about {rate * n:.0f}: rate is the probability of DROPPING a unit")], [
            judges.property_holds(abs(low - kept) <= 1e-5 * kept and abs(high - kept) <= 1e-5 * kept,
                                  f"{name}: every kept unit of ones equals {kept:.6g} (got {low:.6g} … {high:.6g})",
                                  "inverted dropout scales the kept units by 1/(1 − rate); the slides' form does not")]))
    g = got["drop_connect"]
    failed = judges.failed_part(g, "DropConnectDense")
    if failed is not None:
        verdicts.append(failed)
    else:
        try:
            first, second, changed, differ = int(g[0]), int(g[1]), float(g[2]), int(g[3])
        except (TypeError, ValueError, IndexError):
            return judges.all_of(verdicts + [judges.Verdict(0.0, "DropConnectDense: the summary has the wrong form")])
        weights = d * units
        z1, z2 = z_score(first, weights, rate), z_score(second, weights, rate)
        # Two independent masks disagree on each weight with probability 2·rate·(1 − rate).
        zd = z_score(differ, weights, 2 * rate * (1 - rate))
        verdicts.append(judges.gated([
            judges.property_holds(abs(z1) <= SIGMAS and abs(z2) <= SIGMAS,
                                  f"DropConnectDense({units}, {rate}): {first} and {second} of {weights} weights "
                                  f"dropped (z = {z1:.1f}, {z2:.1f})", "each weight dropped with probability rate")], [
            judges.property_holds(changed <= 1e-5, "DropConnectDense: the kept weights are the kernel's",
                                  "the slides' DropConnect does not rescale the kept weights when training"),
            judges.property_holds(abs(zd) <= SIGMAS, f"DropConnectDense: two calls' masks differ on {differ} weights "
                                  f"(z = {zd:.1f})", "draw a fresh mask at every call (keras.random.SeedGenerator)")]))
    return judges.all_of(verdicts)


class DropoutStatistics(Check):
    """Random masks at rate 0.3: 10⁶ units of each dropout and 10⁵ weights of DropConnect (zeros within 5σ, kept values, fresh masks)"""

    points = 0.25
    kind = "property"
    uses_reference = False
    budget = 20
    by_hand = (DROPOUT_RULE,)

    def inputs(self, rng):
        return {"n": self.config["n"], "rate": 0.3, "seed": int(rng.integers(2**31)), "d": 200, "units": 500}

    def observe(self, sub, n, rate, seed, d, units):
        return observe_dropout_draws(sub, n, rate, seed, d, units)

    def judge(self, got, want, secret):
        return judge_draws(got, self.config["n"], 0.3, 200, 500)


def two_input_cases(rng, count, rates):
    cases = [[float(v) for v in rng.normal(size=4)] + [float(r)] for r in rates for _ in range(count)]
    return Inputs(public={"cases": cases}, secret={"cases": cases})


def judge_two_inputs(got, want, cases):
    failed = judges.failed_part(got, "expected_output_two_inputs")
    if failed is not None:
        return failed
    closed = [(1.0 - r) * (w1 * x + w2 * y) for w1, w2, x, y, r in cases]
    return judges.all_of([
        judges.close(got, want, "expected_output_two_inputs against the enumeration of the four masks", tol=FLOAT64,
                     hint="Σ over the masks (m1, m2) ∈ {0,1}² of P(m1)P(m2)·(m1·w1·x + m2·w2·y), P(m = 0) = rate"),
        judges.close(got, closed, "expected_output_two_inputs against (1 − rate)(w1·x + w2·y)", tol=FLOAT64)])


class TwoInputExpectation(Check):
    """The slides' example a = w1·x + w2·y: the expectation over the four dropout masks, at the slides' rate 0.5 and at 0.2, 0.7"""

    points = 0.25
    budget = 5

    def inputs(self, rng):
        return two_input_cases(rng, 3, (0.5, 0.2, 0.7))

    def observe(self, sub, cases):
        def run():
            out = []
            for w1, w2, x, y, rate in cases:
                if rate == 0.5:
                    out.append(float(sub.expected_output_two_inputs(w1, w2, x, y)))
                else:
                    out.append(float(sub.expected_output_two_inputs(w1, w2, x, y, rate=rate)))
            return out
        return parts.attempt(run)

    def judge(self, got, want, secret):
        return judge_two_inputs(got, want, secret["cases"])


# -- Part 4 ---------------------------------------------------------------------------------------

def smoothing_inputs(rng, n, k, epsilon):
    labels, logits = rng.integers(0, k, size=n), rng.normal(size=(n, k)) * 2.0
    # One sample's logits span ±800, where exp overflows: the log-softmax must subtract the row's maximum.
    logits[0] = np.linspace(-800.0, 800.0, k)
    return {"labels": labels, "logits": logits, "epsilon": epsilon}


def judge_smoothing(got, want):
    labels = judges.close(got["labels"], want["labels"], "smooth_labels", tol=FLOAT64,
                          hint="1 − ε on the true class and ε/(k − 1) on each other class (the slides' form)")
    s = judges.close(got["s"], want["s"], "keras_label_smoothing(ε, k)", tol=FLOAT64,
                     hint="Keras smooths to y(1 − s) + s/k: choose s so that s/k = ε/(k − 1)")
    loss = judges.close(got["loss"], want["loss"], "smoothed_cross_entropy", tol=FLOAT64,
                        hint="the batch's mean of −Σ ỹ·log softmax(z)")
    same = judges.failed_part(got["keras_loss"], "Keras's cross-entropy with your label_smoothing") or \
        judges.close(got["keras_loss"], got["loss"], "CategoricalCrossentropy(from_logits=True, label_smoothing=s) "
                     "against smoothed_cross_entropy", tol=FLOAT32)
    return judges.gated([labels, s, loss], [same], weights=[2, 1, 2, 1])


class LabelSmoothing(Check):
    """smooth_labels, keras_label_smoothing and smoothed_cross_entropy for k = 5, ε = 0.1, and Keras's loss with your s"""

    points = 0.25
    budget = 10
    by_hand = (SMOOTHING_RULE,)

    def inputs(self, rng):
        return smoothing_inputs(rng, 12, 5, 0.1)

    def observe(self, sub, labels, logits, epsilon):
        return observe_smoothing(sub, labels, logits, epsilon)

    def judge(self, got, want, secret):
        return judge_smoothing(got, want)


# -- Part 5 ---------------------------------------------------------------------------------------

def weight_shapes(spec):
    """The shapes of ``build_model(spec).get_weights()``, without Keras."""
    if spec[0] == "dense":
        _, d_in, units = spec
        shapes = [(d_in, units[0]), (units[0],)] + [(units[0],)] * 4
        for a, b in zip(units, units[1:]):
            shapes += [(a, b), (b,)]
        return shapes
    _, (h, w, c), filters, units = spec
    return [(3, 3, c, filters), (filters,), ((h - 2) * (w - 2) * filters, units), (units,)]


def penalty_inputs(rng, spec):
    return {"spec": spec, "weights": [rng.normal(size=shape) for shape in weight_shapes(spec)]}


def judge_penalties(got, want, what):
    return judges.all_of([
        judges.close(got["l2"], want["l2"], f"{what}: l2_penalty for each λ", tol=FLOAT32,
                     hint="½λ·Σ‖W‖² over every layer's kernel; no bias, no BatchNormalization γ or β"),
        judges.close(got["l1"], want["l1"], f"{what}: l1_penalty for each λ", tol=FLOAT32,
                     hint="λ·Σ|w| over every layer's kernel (the slides' gradient λ·sign θ: no ½)")])


class Penalties(Check):
    """l2_penalty and l1_penalty of a Dense → BatchNormalization → Dense model and of a small convolutional one, kernels only"""

    points = 0.25
    budget = 10
    by_hand = (PENALTY_RULE,)

    def inputs(self, rng):
        return {"dense": penalty_inputs(rng, ["dense", 4, [5, 3]]), "conv": penalty_inputs(rng, ["conv", [5, 5, 2], 3, 2]),
                "lams": [0.1, 0.01]}

    def observe(self, sub, dense, conv, lams):
        return {"dense": observe_penalties(sub, **dense, lams=lams), "conv": observe_penalties(sub, **conv, lams=lams)}

    def judge(self, got, want, secret):
        return judges.all_of([judge_penalties(got["dense"], want["dense"], "Dense model"),
                              judge_penalties(got["conv"], want["conv"], "convolutional model")])


def decay_inputs(rng, d, steps, lr, lam):
    quad = problem(rng, d)
    quad["theta0"][0] = 0.0  # sign(0) = 0: the L1 step moves a zero weight by the gradient alone
    return {**quad, "steps": steps, "lr": lr, "lam": lam}


def problem(rng, d, condition=20.0):
    """A quadratic ½θᵀAθ − bᵀθ with A = Qᵀ diag(1 … condition) Q, and θ0."""
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return {"a": q.T @ np.diag(np.geomspace(1.0, condition, d)) @ q, "b": rng.normal(size=d),
            "theta0": rng.normal(size=d) * 3.0}


def judge_sgd_decay(got, want):
    return judges.all_of([
        judges.close(got["decay"], want["decay"], "sgd_weight_decay_step: θ after each step", tol=FLOAT64,
                     hint="(1 − ηλ)θ − ηg"),
        judges.close(got["l1"], want["l1"], "sgd_l1_step: θ after each step", tol=FLOAT64,
                     hint="θ − ηλ·sign(θ) − ηg"),
        judges.close(got["one_step"], got["tape_step"], "sgd_weight_decay_step against plain SGD on L + ½λ‖θ‖² "
                     "(the grader's tape)", tol=FLOAT64, hint="weight decay is L2 for SGD: the same step")],
        weights=[2, 2, 1])


class WeightDecayStep(Check):
    """sgd_weight_decay_step and sgd_l1_step for 30 steps on a quadratic; weight decay against SGD on the L2-penalised loss"""

    points = 0.25
    budget = 10
    by_hand = (STEP_RULE,)

    def inputs(self, rng):
        return decay_inputs(rng, 5, 30, 0.05, 0.5)

    def observe(self, sub, a, b, theta0, steps, lr, lam):
        return observe_sgd_decay(sub, a, b, theta0, steps, lr, lam)

    def judge(self, got, want, secret):
        return judge_sgd_decay(got, want)


def judge_adam_decay(got, want, settings, theta0):
    verdicts = []
    for i, kwargs in enumerate(settings):
        label = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        for name, hint in (("adamw_step", "Adam's step on g alone, then − ηλθ beside it"),
                           ("adam_l2_step", "g + λθ before the moments")):
            verdicts.append(judges.close(got[f"{name}_{i}"], want[f"{name}_{i}"], f"{name}: θ after each step ({label})",
                                         tol=FLOAT64, hint=hint))
        decay = -kwargs["lr"] * kwargs["lam"] * np.asarray(theta0, dtype=np.float64)
        verdicts.append(judges.close(got[f"adamw_step_{i}_delta"], decay, f"adamw_step ({label}): one step with λ "
                                     "minus one with λ = 0, against −ηλθ", tol=FLOAT64,
                                     hint="decoupled: the decay is not divided by Adam's √r̂"))
    return judges.all_of(verdicts)


class DecoupledDecay(Check):
    """adamw_step (decoupled weight decay) and adam_l2_step (Adam on L + ½λ‖θ‖²), 30 steps with the defaults and with other ρ, δ"""

    points = 0.5
    budget = 10
    by_hand = (STEP_RULE,)

    def inputs(self, rng):
        settings = [{"lr": 0.05, "lam": 0.1}, {"lr": 0.05, "lam": 0.3, "rho1": 0.8, "rho2": 0.99, "delta": 0.01}]
        quad = problem(rng, 5)
        return Inputs(public={**quad, "steps": 30, "settings": settings},
                      secret={"settings": settings, "theta0": quad["theta0"]})

    def observe(self, sub, a, b, theta0, steps, settings):
        return observe_adam_decay(sub, a, b, theta0, steps, settings)

    def judge(self, got, want, secret):
        return judge_adam_decay(got, want, secret["settings"], secret["theta0"])


# -- Part 6 ---------------------------------------------------------------------------------------

def judge_early_stopping(got, want):
    if not isinstance(got, list) or len(got) != len(want):
        return judges.Verdict(0.0, "expected one result per curve")
    verdicts = []
    for i, (g, w) in enumerate(zip(got, want)):
        what = f"curve {i + 1}"
        failed = judges.failed_part(g, what)
        if failed is not None:
            verdicts.append(failed)
            continue
        try:
            verdicts.append(judges.all_of([
                judges.equal(g["ran"], w["ran"], f"{what}: epochs run before stopping",
                             hint="stop once `patience` epochs in a row fail to beat the best by more than min_delta"),
                judges.equal(g["best_epoch"], w["best_epoch"], f"{what}: best_epoch"),
                judges.equal(g["stopped_epoch"], w["stopped_epoch"], f"{what}: stopped_epoch (None: ran to the end)"),
                judges.close(g["restored"], w["restored"], f"{what}: the weights after on_train_end", tol=FLOAT64,
                             hint="the weights of the best epoch, restored whether training stopped early or not")]))
        except (TypeError, KeyError):
            verdicts.append(judges.Verdict(0.0, f"{what}: the callback's results have the wrong form"))
    return judges.all_of(verdicts)


class EarlyStoppingCallback(Check):
    """BestWeightsEarlyStopping driven epoch by epoch over scripted validation curves (patience 2 and 3, min_delta 0 and 0.05)"""

    points = 0.5
    budget = 10
    by_hand = (EARLY_RULE,)

    def inputs(self, rng):
        down_up = [1.0, 0.8, 0.7, 0.72, 0.69, 0.71, 0.73, 0.75, 0.8, 0.9]
        return {"curves": [[down_up, {"patience": 2}], [down_up, {"patience": 3}],
                           [down_up, {"patience": 2, "min_delta": 0.05}],
                           [[0.9, 0.8, 0.7, 0.6, 0.65], {"patience": 2, "monitor": "val_mse"}]]}

    def observe(self, sub, curves):
        return observe_early_stopping(sub, curves)

    def judge(self, got, want, secret):
        return judge_early_stopping(got, want)


def spectrum_inputs(rng, d, eps, taus):
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    h = q @ np.diag(np.geomspace(1e-3, 1e-2, d)) @ q.T
    return {"h": h, "w_star": rng.normal(size=d), "eps": eps, "taus": list(taus)}


def judge_equivalence(got, want, tol):
    failed = judges.failed_part(got, "gd_path_solution, l2_solution, equivalent_alpha")
    if failed is not None:
        return failed
    if not isinstance(got, list) or len(got) != len(want):
        return judges.Verdict(0.0, f"expected {len(want)} results")
    values, gaps = [], []
    try:
        for g, w in zip(got, want):
            values.append(judges.close(g["alpha"], w["alpha"], "equivalent_alpha", tol=FLOAT64, hint="α = 1/(τε)"))
            values.append(judges.close(g["gd"], w["gd"], "gd_path_solution", tol=1e-8, hint="(I − (I − εH)^τ) w*"))
            values.append(judges.close(g["l2"], w["l2"], "l2_solution", tol=1e-8, hint="(H + αI)⁻¹ H w*"))
            gd, l2 = judges.as_array(g["gd"], "gd_path_solution"), judges.as_array(g["l2"], "l2_solution")
            gap = float(np.linalg.norm(gd - l2) / max(float(np.linalg.norm(l2)), 1e-300))
            gaps.append(judges.property_holds(gap <= tol, f"early stopping ≈ L2: relative gap {gap:.3f} (≤ {tol})"))
    except (TypeError, KeyError, ValueError, judges.BadObservation):
        return judges.Verdict(0.0, "the results have the wrong form")
    return judges.gated(values, gaps)


class EarlyStoppingIsL2(Check):
    """The slides' early stopping ≈ L2: the path after τ steps against the L2 solution with α = 1/(τε), small eigenvalues"""

    points = 0.25
    budget = 5
    by_hand = (EARLY_RULE,)

    def inputs(self, rng):
        return spectrum_inputs(rng, 6, 0.5, (5, 20))

    def observe(self, sub, h, w_star, eps, taus):
        return observe_equivalence(sub, h, w_star, eps, taus)

    def judge(self, got, want, secret):
        return judge_equivalence(got, want, MAX_GAP)


# -- Part 7 ---------------------------------------------------------------------------------------

def augment_inputs(rng, h, w, c, length, size, classes):
    return {"image": rng.uniform(size=(h, w, c)), "batch": rng.uniform(size=(3, h, w, c)), "length": length,
            "size": size, "factor": float(rng.uniform(1.3, 1.6)),  # > 1: the clipping matters
            "weights": [rng.normal(size=(size * size * c, classes)) * 0.3, rng.normal(size=classes) * 0.1]}


def judge_augment_exact(got, want):
    return judges.all_of([
        judge_listed(got["flip"], want["flip"], "flip_lr", FLOAT64, ["flip_lr of an image", "flip_lr of a batch"],
                     hint="reverse the width axis (−2), for an image and for a batch"),
        judge_listed(got["resize"], want["resize"], "resize_short_side", FLOAT64,
                     ["resize_short_side of a landscape image", "resize_short_side of a portrait image"],
                     hint="the short side becomes length; nearest pixel floor((i + ½)·H/H′)"),
        judge_listed(got["ten_crop"], want["ten_crop"], "ten_crop", FLOAT64,
                     ["ten_crop(image, size)", "ten_crop(image, size // 2)"],
                     hint="top-left, top-right, bottom-left, bottom-right, centre; then the same of the flipped image"),
        judges.close(got["brightness"], want["brightness"], "adjust_brightness", tol=FLOAT64,
                     hint="image × factor, clipped to [0, 1]"),
        judges.close(got["tta"], want["tta"], "tta_predict", tol=FLOAT32, hint="the mean of the model's outputs "
                     "over the ten crops")], weights=[1, 2, 2, 1, 1])


class AugmentationExact(Check):
    """flip_lr, resize_short_side, ten_crop (crops of 8 and 4), adjust_brightness on a 10 × 14 image, and tta_predict with the grader's classifier"""

    points = 0.25
    budget = 10
    by_hand = (AUGMENT_RULE,)

    def inputs(self, rng):
        return augment_inputs(rng, 10, 14, 3, 12, 8, 4)

    def observe(self, sub, image, batch, length, size, factor, weights):
        return observe_augment_exact(sub, image, batch, length, size, factor, weights)

    def judge(self, got, want, secret):
        return judge_augment_exact(got, want)


def judge_corners(corners, spans):
    """Each crop's top and left uniform over the integers 0 … span (the resized
    side − size, both ends included): 0 and span reached across the draws, and
    a mean within 5σ of span/2. Over n draws an end is missed with probability
    at most (s/(s + 1))^n, s the largest span: (17/18)^1000 ≈ 1.5e-25 for the
    public left, (39/40)^1000 ≈ 1e-11 for the largest a hidden check draws."""
    corners = np.asarray(corners, dtype=np.float64).reshape(-1, 2)
    spans = np.asarray(spans, dtype=np.float64).reshape(-1, 2)
    verdicts = []
    for axis, name, side in ((0, "top", "height"), (1, "left", "width")):
        c, s = corners[:, axis], spans[:, axis]
        zero, end = int(np.sum(c == 0)), int(np.sum(c == s))
        verdicts.append(judges.property_holds(
            zero > 0 and end > 0, f"random_resized_crop: {name} is 0 in {zero} and the resized {side} − size in {end} "
            f"of {len(c)} draws", f"{name} uniform over the integers 0 … resized {side} − size, both ends included"))
        sd = np.sqrt(np.sum(((s + 1) ** 2 - 1) / 12.0))
        z = float(np.sum(c - s / 2.0) / sd) if sd > 0 else 0.0
        verdicts.append(judges.property_holds(abs(z) <= SIGMAS, f"random_resized_crop: the mean {name} (z = {z:.1f})",
                                              f"{name} uniform over its range"))
    return verdicts


def judge_augment_draws(got, settings):
    """Every count or mean within 5σ of its expectation (two-sided); every output what its draw says."""
    s = settings
    verdicts = []
    g = got["flips"]
    failed = judges.failed_part(g, "random_flip_lr")
    if failed is None:
        z = z_score(int(g[0]), s["n_flip"], 0.5)
        verdicts.append(judges.all_of([
            judges.property_holds(abs(z) <= SIGMAS, f"random_flip_lr: {g[0]} of {s['n_flip']} images flipped (z = {z:.1f})",
                                  "each image flipped with probability ½"),
            judges.property_holds(g[1], "random_flip_lr: every output is its image or its flip")]))
    else:
        verdicts.append(failed)
    g = got["crops"]
    failed = judges.failed_part(g, "random_resized_crop")
    if failed is None:
        lo, hi = s["length_range"]
        lengths = np.asarray(g["lengths"], dtype=np.float64)
        sd = np.sqrt(((hi - lo + 1) ** 2 - 1) / 12.0 / len(lengths))
        z = (lengths.mean() - (lo + hi) / 2.0) / sd
        verdicts.append(judges.all_of([
            judges.property_holds(lengths.min() == lo and lengths.max() == hi,
                                  f"random_resized_crop: L from {lengths.min():.0f} to {lengths.max():.0f} over "
                                  f"{len(lengths)} draws", f"L uniform over the integers {lo} … {hi}, both ends included"),
            judges.property_holds(abs(z) <= SIGMAS, f"random_resized_crop: the mean L (z = {z:.1f})"),
            judges.property_holds(g["valid"], "random_resized_crop: each crop is size × size of your resized image at "
                                  "(top, left)"),
            *judge_corners(g["corners"], g["spans"])]))
    else:
        verdicts.append(failed)
    g = got["jitter"]
    failed = judges.failed_part(g, "color_jitter")
    if failed is None:
        lo, hi = s["brightness"]
        factors = np.asarray(g["factors"], dtype=np.float64)
        z = (factors.mean() - (lo + hi) / 2.0) / ((hi - lo) / np.sqrt(12.0 * len(factors)))
        verdicts.append(judges.all_of([
            judges.property_holds(factors.min() >= lo and factors.max() <= hi and abs(z) <= SIGMAS,
                                  f"color_jitter: factors in [{factors.min():.3f}, {factors.max():.3f}], mean z = {z:.1f}",
                                  f"a factor drawn uniformly from [{lo}, {hi}]"),
            judges.property_holds(g["valid"], "color_jitter: the image scaled by its factor")]))
    else:
        verdicts.append(failed)
    g = got["noise"]
    failed = judges.failed_part(g, "add_gaussian_noise")
    if failed is None:
        n, std = s["n_noise"], s["std"]
        z_mean = g[0] / (std / np.sqrt(n))
        z_std = (g[1] - std) / (std / np.sqrt(2.0 * n))
        verdicts.append(judges.property_holds(abs(z_mean) <= SIGMAS and abs(z_std) <= SIGMAS,
                                              f"add_gaussian_noise: mean z = {z_mean:.1f}, std {g[1]:.4f} (z = {z_std:.1f})",
                                              f"noise 𝒩(0, {std}²): std is the standard deviation, not the variance"))
    else:
        verdicts.append(failed)
    return judges.all_of(verdicts)


class AugmentationDraws(Check):
    """The random augmentations drawn many times: flips (4,000), resized crops with L in [12, 18] (1,000), brightness in [0.5, 1.5] (2,000), noise 𝒩(0, 0.1²) (10⁵)"""

    points = 0.25
    kind = "property"
    uses_reference = False
    budget = 10
    by_hand = (AUGMENT_RULE,)

    def inputs(self, rng):
        settings = {"n_flip": 4000, "n_crop": 1000, "n_jitter": 2000, "n_noise": 100_000, "length_range": [12, 18],
                    "size": 8, "brightness": [0.5, 1.5], "std": 0.1}
        return Inputs(public={**settings, "seed": int(rng.integers(2**31)), "image": rng.uniform(size=(10, 14, 3))},
                      secret=settings)

    def observe(self, sub, seed, n_flip, n_crop, n_jitter, n_noise, image, length_range, size, brightness, std):
        return observe_augment_draws(sub, seed, n_flip, n_crop, n_jitter, n_noise, image, length_range, size,
                                     brightness, std)

    def judge(self, got, want, secret):
        return judge_augment_draws(got, secret)


# -- Part 8: regularisation where it matters ------------------------------------------------------

def regularized_inputs(rng, cfg):
    """A noisy-label digit task drawn from ``rng``: the training half for the student's
    process, the held-out digits and their true labels for the judge only."""
    x, y, x_held, y_held = noisy_digits(rng, cfg["train_size"], cfg["wrong_share"])
    setup = {key: cfg[key] for key in ("epochs", "batch_size", "learning_rate")}
    return Inputs(public={"x": x, "y": y, "setup": setup, "seed": int(rng.integers(2**31))},
                  secret={"x": x, "y": y, "x_held": x_held, "y_held": y_held})


def forward(weights, x):
    """The fixed network of Part 8 at inference, in float64: two ReLU layers, then logits."""
    w1, b1, w2, b2, w3, b3 = (np.asarray(w, np.float64) for w in weights)
    hidden = np.maximum(np.maximum(x @ w1 + b1, 0.0) @ w2 + b2, 0.0)
    return hidden @ w3 + b3


def judge_regularized(got, secret, cfg):
    """The network is the fixed one (its weights' shapes; its own logits equal the grader's
    forward pass), and the grader's held-out accuracy closes at least ``min_share`` of the gap
    the unregularised network leaves, without beating what clean labels allow."""
    if (failure := judges.failed_part(got, "train_regularized")) is not None:
        return failure
    width, features = cfg["width"], secret["x"].shape[1]
    shapes = [(features, width), (width,), (width, width), (width,), (width, CLASSES), (CLASSES,)]
    weights = got["weights"]
    found = [tuple(np.shape(w)) for w in weights]
    if found != shapes:
        return judges.Verdict(0.0, f"the trained model's weights have shapes {found}; the network of Part 8 is "
                                   f"Dense({width}, relu), Dense({width}, relu), Dense({CLASSES}), whose weights are "
                                   f"{shapes} (layers without weights, e.g. dropout, may sit between them)")
    try:
        logits = judges.as_array(got["logits"], "the model's logits", shape=(64, CLASSES))
    except judges.BadObservation as exc:
        return judges.Verdict(0.0, str(exc))
    mine = forward(weights, secret["x"][:64].astype(np.float32).astype(np.float64))
    scale = 1.0 + float(np.max(np.abs(mine)))
    same = judges.property_holds(bool(np.all(np.isfinite(logits)) and np.max(np.abs(logits - mine)) <= 1e-4 * scale),
                                 "at inference the model is its three Dense layers (ReLU, ReLU, linear logits)",
                                 "the grader evaluates relu(relu(x W₁ + b₁) W₂ + b₂) W₃ + b₃ with your weights: no "
                                 "softmax on the output, no normalisation layer, and only layers that are the identity "
                                 "at inference (inverted dropout, not the weight-scaling form)")
    if not same.passed:
        return same
    accuracy = float(np.mean(forward(weights, secret["x_held"]).argmax(axis=1) == secret["y_held"]))
    fitted = float(np.mean(forward(weights, secret["x"]).argmax(axis=1) == secret["y"]))
    base, gap = cfg["unregularized_accuracy"], cfg["unregularized_gap"]
    needed = base + cfg["min_share"] * gap
    closed = (accuracy - base) / gap
    held = len(secret["y_held"])
    fit = judges.Verdict(float(accuracy >= needed),
                         f"held-out accuracy {accuracy:.3f} on {held} digits ({needed:.3f} needed): it closes {closed:.0%} "
                         f"of the gap of {gap:.3f} that the unregularised network leaves (that network fits "
                         f"{cfg['unregularized_fit']:.0%} of its training labels, {cfg['wrong_share']:.0%} of them wrong, "
                         f"and scores {base:.3f} held out; yours fits {fitted:.1%} of them), at least "
                         f"{cfg['min_share']:.0%} needed")
    honest = judges.property_holds(accuracy <= cfg["ceiling"],
                                   f"held-out accuracy {accuracy:.3f} within what {secret['x'].shape[0]} digits with "
                                   f"every label right allow (≤ {cfg['ceiling']})",
                                   "the network must learn from the x and y it is given, nothing else")
    return fit if honest.passed else honest


class RegularizedTraining(Check):
    """train_regularized on 300 digits with 30 % wrong labels: the grader's accuracy on the other 1,497 digits closes a calibrated share of the gap an unregularised network leaves"""

    points = 0.75
    kind = "training"
    uses_reference = False
    budget = 40
    by_hand = (DATA_RULE,)

    def inputs(self, rng):
        return regularized_inputs(rng, self.config)

    def observe(self, sub, x, y, setup, seed):
        return observe_regularized(sub, x, y, setup, seed)

    def judge(self, got, want, secret):
        return judge_regularized(got, secret, self.config)
