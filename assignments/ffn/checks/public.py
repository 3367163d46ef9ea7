"""Public checks of the feed-forward lab: students run these with ``pytest``
or ``grader check ffn``. Each ``observe`` calls your code; each ``judge``
compares with the reference's result on the same inputs (float64), or with
a gradient known in closed form."""

import numpy as np

from grader.checks import Check, Inputs, judges, parts
from grader.checks.architecture import describe_layers

from .common import (ACTIVATION_NAMES, ACTIVATION_RULE, BACKPROP_RULE, CUSTOM_GRADIENT_RULE, GRAPH_RULE, LOSS_RULE,
                     NLL_RULE, NUMERIC_GRADIENT_RULE, SAMPLER_RULE, bimodal_data, bimodal_true_nll, branch_masses,
                     mixture_nll, sincos, activation_values, extreme_points, grader_maxout, graph_observation, mlp_observation,
                     numeric_gradient_observation, observe_dense_relu, observe_maxout)

#: Values and derivatives are float64 computations: a correct one agrees to about 1e-12.
TOL = 1e-9


#: What each set of test points is, in the messages.
WHERE = {"grid": "the grid −8 … 8", "extremes": "x = ±1000, ±60, ±1e-12, 0", "random": "random x",
         "far": "x = ±1e4 and 0"}


def judge_activations(got, want, prefix, wheres=("grid", "extremes"), hint=""):
    """One verdict per activation (``prefix`` "" for values, "d_" for derivatives)
    and set of test points (``wheres``: keys of the observation)."""
    verdicts = []
    for where in wheres:
        for name in ACTIVATION_NAMES:
            key = f"{prefix}{name}"
            verdicts.append(judges.close(got[where][key], want[where][key], f"{key}(x) on {WHERE[where]}",
                                         tol=TOL, hint=hint))
    return judges.all_of(verdicts)


class Activations(Check):
    """The ten activations of the slides (default parameters) on a grid and at extreme inputs"""

    points = 0.25
    budget = 10
    by_hand = (ACTIVATION_RULE,)

    def inputs(self, rng):
        return {"grid": np.linspace(-8.0, 8.0, 41), "extremes": extreme_points()}

    def observe(self, sub, grid, extremes):
        return {"grid": activation_values(sub, grid, derivatives=False),
                "extremes": activation_values(sub, extremes, derivatives=False)}

    def judge(self, got, want, secret):
        return judge_activations(got, want, "", hint="finite for any input: exp only of non-positive numbers")


class ActivationDerivatives(Check):
    """Hand-written derivatives of the ten activations, at 0 (left slope at a kink) and at extreme inputs"""

    points = 0.25
    kind = "gradient"
    budget = 10
    by_hand = (ACTIVATION_RULE,)

    def inputs(self, rng):
        return {"grid": np.linspace(-8.0, 8.0, 41), "extremes": extreme_points()}

    def observe(self, sub, grid, extremes):
        return {"grid": activation_values(sub, grid, values=False),
                "extremes": activation_values(sub, extremes, values=False)}

    def judge(self, got, want, secret):
        return judge_activations(got, want, "d_", hint="at a kink (x = 0) the derivative is the left slope, as "
                                                       "TensorFlow's: 0 for relu, γ for leaky_relu")


class MaxoutLayer(Check):
    """Maxout(units=3, pieces=2): weight shapes, output with given weights, gradients through the layer (float64)"""

    points = 0.25
    budget = 15

    def inputs(self, rng):
        return {"x": rng.normal(size=(5, 4)), "kernel": rng.normal(size=(4, 6)), "bias": rng.normal(size=6),
                "upstream": rng.normal(size=(5, 3))}

    def observe(self, sub, x, kernel, bias, upstream):
        return observe_maxout(sub, 3, 2, x, kernel, bias, upstream)

    def judge(self, got, want, secret):
        return judge_maxout(got, want, "Maxout(3, 2)")


def judge_maxout(got, want, what):
    return judges.all_of([
        judges.equal(got["shapes"], want["shapes"], f"{what} weight shapes",
                     hint="kernel (d, units·pieces) then bias (units·pieces,)"),
        judges.close(got["y"], want["y"], f"{what} output", tol=TOL,
                     hint="unit i is the maximum of the consecutive columns i·pieces … i·pieces + pieces − 1 of xW + b"),
        judges.gradient(got["dx"], want["dx"], f"{what} ∂/∂x"),
        judges.gradient(got["dkernel"], want["dkernel"], f"{what} ∂/∂kernel",
                        hint="only the winning piece of each unit receives the gradient"),
        judges.gradient(got["dbias"], want["dbias"], f"{what} ∂/∂bias"),
    ])


class MaxoutAsRelu(Check):
    """maxout_leaky_relu_weights: Maxout with k = 2 reproduces ReLU (γ = 0) and leaky ReLU (γ = 0.25)"""

    points = 0.25
    kind = "property"
    budget = 5

    def inputs(self, rng):
        return {"x": np.concatenate([rng.normal(size=(6, 3)), [[0.0, -1000.0, 1000.0]]])}

    def observe(self, sub, x):
        return {f"gamma={gamma}": parts.attempt(lambda: grader_maxout(x, *sub.maxout_leaky_relu_weights(3, gamma), 2))
                for gamma in (0.0, 0.25)}

    def judge(self, got, want, secret):
        return judges.all_of([judges.close(got[k], want[k], f"Maxout(3, 2) with maxout_leaky_relu_weights(3, {k})",
                                           tol=TOL, hint="unit i's pieces are columns 2i and 2i + 1: x_i and γ·x_i")
                              for k in want])


class Losses(Check):
    """log_softmax, softmax, softmax cross-entropy and sigmoid binary cross-entropy from logits, one row at ±1000"""

    points = 0.25
    budget = 5
    by_hand = (LOSS_RULE,)

    def inputs(self, rng):
        logits = rng.normal(0.0, 3.0, size=(6, 5))
        logits[0] = [1000.0, -1000.0, 0.0, 999.0, 3.0]
        labels = np.eye(5)[rng.integers(5, size=6)]
        labels[0] = np.eye(5)[1]
        binary = rng.normal(0.0, 3.0, size=(8,))
        binary[:2] = 1000.0, -1000.0
        return {"logits": logits, "labels": labels, "binary": binary,
                "binary_labels": np.array([0.0, 1.0] + list(rng.integers(2, size=6))),
                "sequence": rng.normal(0.0, 3.0, size=(2, 3, 5))}   # (B, T, C): "the last axis" is not axis 1

    def observe(self, sub, logits, labels, binary, binary_labels, sequence):
        return parts.each(log_softmax=lambda: sub.log_softmax(logits), softmax=lambda: sub.softmax(logits),
                          log_softmax_3d=lambda: sub.log_softmax(sequence),
                          xent=lambda: sub.softmax_cross_entropy(logits, labels),
                          bce=lambda: sub.sigmoid_binary_cross_entropy(binary, binary_labels))

    def judge(self, got, want, secret):
        return judges.all_of([
            judges.close(got["log_softmax"], want["log_softmax"], "log_softmax(z)", tol=TOL,
                         hint="z − max(z) − log Σ exp(z − max(z)), row by row"),
            judges.close(got["softmax"], want["softmax"], "softmax(z)", tol=TOL),
            judges.close(got["log_softmax_3d"], want["log_softmax_3d"], "log_softmax(z) of a (2, 3, 5) z", tol=TOL,
                         hint="along the last axis (axis=-1), whatever the rank"),
            judges.close(got["xent"], want["xent"], "softmax_cross_entropy", tol=TOL,
                         hint="the mean over the batch of −z_c + logsumexp(z)"),
            judges.close(got["bce"], want["bce"], "sigmoid_binary_cross_entropy", tol=TOL,
                         hint="mean of max(z, 0) − y·z + log(1 + exp(−|z|)): never log(sigmoid(z))"),
        ])


class LossGradients(Check):
    """∂L/∂z of both losses: (softmax − y)/B and (σ − y)/N"""

    points = 0.25
    kind = "gradient"
    budget = 5
    by_hand = (LOSS_RULE,)

    def inputs(self, rng):
        return {"logits": rng.normal(0.0, 2.0, size=(7, 4)), "labels": np.eye(4)[rng.integers(4, size=7)],
                "binary": rng.normal(0.0, 2.0, size=(9, 1)), "binary_labels": rng.integers(2, size=(9, 1)).astype(float)}

    def observe(self, sub, logits, labels, binary, binary_labels):
        return parts.each(xent=lambda: sub.softmax_cross_entropy_grad(logits, labels),
                          bce=lambda: sub.sigmoid_binary_cross_entropy_grad(binary, binary_labels))

    def judge(self, got, want, secret):
        return judges.all_of([
            judges.gradient(got["xent"], want["xent"], "softmax_cross_entropy_grad",
                            hint="(softmax(z) − y) / B: the loss is a mean over the batch"),
            judges.gradient(got["bce"], want["bce"], "sigmoid_binary_cross_entropy_grad",
                            hint="(σ(z) − y) / N, N the number of logits"),
        ])


class MlpBackprop(Check):
    """mlp_forward/mlp_backward by hand, layers 5 → 7 → 3 (tanh and ReLU), against autodiff in float64"""

    points = 0.75
    kind = "gradient"
    budget = 10
    by_hand = (BACKPROP_RULE,)
    SIZES = (5, 7, 3)
    ACTIVATIONS = ("tanh", "relu")

    def inputs(self, rng):
        params = [[rng.normal(size=(a, b)) / np.sqrt(a), rng.normal(size=b)] for a, b in zip(self.SIZES, self.SIZES[1:])]
        return {"x": rng.normal(size=(8, 5)), "params": params, "dout": rng.normal(size=(8, 3)),
                "labels": np.eye(3)[rng.integers(3, size=8)]}

    def observe(self, sub, x, params, dout, labels):
        return {a: mlp_observation(sub, x, params, dout, labels, a) for a in self.ACTIVATIONS}

    def judge(self, got, want, secret):
        return judge_mlp(got, want)


def judge_mlp(got, want):
    verdicts = []
    for activation in want:
        g, w = got[activation], want[activation]
        what = f"activation={activation!r}"
        verdicts.append(judges.close(g["out"], w["out"], f"mlp_forward output ({what})", tol=TOL,
                                     hint="Z = A W + b, the activation on every layer but the last"))
        verdicts.append(judges.equal(g["shapes"], w["shapes"], f"mlp_backward gradient shapes ({what})",
                                     hint="dW_l has W_l's shape (n_in, n_out): dW = Aᵀ E, not E Aᵀ"))
        for key in w["grads"]:
            verdicts.append(judges.gradient(g["grads"][key], w["grads"][key], f"mlp_backward {key} ({what})",
                                            hint="E_l = dA_l ⊙ f'(Z_l), f' at the pre-activation Z; db = Σ_rows E"))
        verdicts.append(judges.close(g["loss"], w["loss"], f"mlp_loss_and_grads loss ({what})", tol=TOL))
        for key in w["loss_grads"]:
            verdicts.append(judges.gradient(g["loss_grads"][key], w["loss_grads"][key],
                                            f"mlp_loss_and_grads {key} ({what})"))
    return judges.all_of(verdicts)


class GraphExample(Check):
    """The slides' computation graph: J, ∂J/∂W1 and ∂J/∂W2 of a two-layer ReLU network with the L2 penalty"""

    points = 0.25
    kind = "gradient"
    budget = 5
    by_hand = (GRAPH_RULE,)

    def inputs(self, rng):
        return {"cases": [{"x": rng.normal(size=(6, 4)), "labels": rng.integers(3, size=6),
                           "w1": rng.normal(size=(4, 5)), "w2": rng.normal(size=(5, 3)), "lam": 0.1}]}

    def observe(self, sub, cases):
        return [graph_observation(sub, **case) for case in cases]

    def judge(self, got, want, secret):
        return judge_graph(got, want)


def judge_graph(got, want):
    verdicts = []
    for i, (g, w) in enumerate(zip(got, want)):
        verdicts += [
            judges.close(g["J"], w["J"], f"J (case {i + 1})", tol=TOL, hint="J_MLE is the mean cross-entropy; "
                                                                          "the penalty is λ(ΣW1² + ΣW2²)"),
            judges.gradient(g["dW1"], w["dW1"], f"∂J/∂W1 (case {i + 1})", hint="Xᵀ G1 + 2λ W1, G1 = (G2 W2ᵀ) ⊙ [U1 > 0]"),
            judges.gradient(g["dW2"], w["dW2"], f"∂J/∂W2 (case {i + 1})", hint="Hᵀ G2 + 2λ W2"),
        ]
    return judges.all_of(verdicts)


class CustomGradient(Check):
    """dense_relu: tf.custom_gradient with your dense_relu_backward; tape gradients equal autodiff's (float64)"""

    points = 0.25
    kind = "gradient"
    budget = 15
    by_hand = (CUSTOM_GRADIENT_RULE,)

    def inputs(self, rng):
        return {"x": rng.normal(size=(6, 4)), "w": rng.normal(size=(4, 3)), "b": rng.normal(size=3),
                "upstream": rng.normal(size=(6, 3))}

    def observe(self, sub, x, w, b, upstream):
        return observe_dense_relu(sub, x, w, b, upstream)

    def judge(self, got, want, secret):
        return judge_dense_relu(got, want)


def judge_dense_relu(got, want, tol=judges.FLOAT64_TOL):
    verdicts = [judges.close(got["y"], want["y"], "dense_relu(x, W, b)", tol=tol),
                judges.equal(got["dtype"], want["dtype"], "dense_relu's dtype", hint="keep the inputs' dtype")]
    for key in ("dx", "dW", "db"):
        verdicts.append(judges.gradient(got[f"backward_{key}"], want[f"backward_{key}"], f"dense_relu_backward {key}",
                                        tol=tol, hint="E = dy ⊙ [xW + b > 0]; dx = E Wᵀ, dW = xᵀ E, db = Σ_rows E"))
        verdicts.append(judges.gradient(got[f"tape_{key}"], want[f"tape_{key}"],
                                        f"tape.gradient through dense_relu, {key}", tol=tol))
    verdicts.append(judges.property_holds(got["calls"], "tape.gradient through dense_relu calls your "
                                          "dense_relu_backward", "join it with @tf.custom_gradient: grad(dy) "
                                          "returns dense_relu_backward(dy, x, w, b)"))
    return judges.gated(verdicts[:-1], verdicts[-1:])


class NumericGradient(Check):
    """numeric_gradient: central differences on functions with known gradients, x left as it was, ε honoured"""

    points = 0.25
    kind = "gradient"
    budget = 10
    uses_reference = False
    by_hand = (NUMERIC_GRADIENT_RULE,)

    def inputs(self, rng):
        x = {"cube": rng.normal(size=(3, 4)), "sine": rng.normal(size=5), "quadratic": rng.normal(size=4),
             "exp_eps": rng.normal(0.0, 0.3, size=3), "sum_cubed": rng.uniform(0.2, 1.0, size=4)}
        a = rng.normal(size=(4, 4))
        truth = {"cube": 3 * x["cube"] ** 2, "sine": np.cos(x["sine"]) * np.arange(1.0, 6.0),
                 "quadratic": (a + a.T) @ x["quadratic"],
                 # The central difference with ε = 0.01 of Σ exp(3x): 3e^{3x}·sinh(3ε)/(3ε), not 3e^{3x}.
                 "exp_eps": 3 * np.exp(3 * x["exp_eps"]) * np.sinh(0.03) / 0.03,
                 # (Σx)³ couples the elements, so an element left perturbed shows in the next ones;
                 # its central difference with ε = 0.01 is 3(Σx)² + ε².
                 "sum_cubed": np.full(4, 3 * x["sum_cubed"].sum() ** 2 + 1e-4)}
        return Inputs(public={"x": x, "a": a}, secret={"truth": truth})

    def observe(self, sub, x, a):
        functions = {"cube": (lambda v: np.sum(v ** 3), {}),
                     "sine": (lambda v: np.sum(np.sin(v) * np.arange(1.0, 6.0)), {}),
                     "quadratic": (lambda v: v @ a @ v, {}),
                     "exp_eps": (lambda v: np.sum(np.exp(3 * v)), {"eps": 0.01}),
                     "sum_cubed": (lambda v: np.sum(v) ** 3, {"eps": 0.01})}
        return numeric_gradient_observation(sub, x, functions)

    def judge(self, got, want, secret):
        return judge_numeric_gradient(got, secret["truth"], {"exp_eps": "Σ exp(3x) with eps=0.01",
                                                             "sum_cubed": "(Σx)³ with eps=0.01"}, tol=self.config["tol"])


def judge_numeric_gradient(got, truth, names, tol):
    """Each gradient against its closed form, to ``tol`` (``lab.toml``; calibrated by
    ``bench/ffn_calibration.py``): the parts with a large ε tell a central difference
    with the ε asked for from a forward one or one that ignores ε."""
    verdicts, kept = [], []
    for key, expected in truth.items():
        what = f"numeric_gradient of {names.get(key, key)}"
        verdicts.append(judges.gradient(got[key]["grad"], expected, what, tol=tol,
                                        hint="(f(x + ε e_i) − f(x − ε e_i)) / 2ε for every element, with the ε asked for"))
        kept.append(judges.property_holds(got[key]["unchanged"], f"{what}: x left as it was",
                                          "perturb a copy, and restore each element after its two evaluations"))
    return judges.gated(verdicts, kept)


# ---------------------------------------------------------------------------------------------
# Part 7. Gaussian NLL, mixture NLL, sampler, MDN structure and training
# ---------------------------------------------------------------------------------------------

class GaussianNll(Check):
    """gaussian_nll(y, mean, log_var): per-example NLL, on typical and extreme inputs (float64)""" 

    points = 0.25
    budget = 10
    by_hand = (NLL_RULE,)

    def inputs(self, rng):
        b = 12
        typical = {"y": rng.normal(size=b), "mean": rng.normal(size=b), "log_var": rng.uniform(-3, 3, size=b)}
        # Extreme: tiny and huge variances, a far residual: ½(y−μ)²/σ² must not be inf·0 or 0/0.
        extreme = {"y": np.array([0.0, 1.0, 1e3, -2.0, 5.0]), "mean": np.array([1e-4, 1.0, 0.0, 2.0, -5.0]),
                   "log_var": np.array([-30.0, 40.0, 0.0, -10.0, 10.0])}
        column = {key: value.reshape(-1, 1) for key, value in typical.items()}   # (B, 1): still elementwise
        return {"cases": {"typical": typical, "extreme": extreme, "column": column}}

    def observe(self, sub, cases):
        return parts.each(**{name: (lambda c=c: np.asarray(sub.gaussian_nll(c["y"], c["mean"], c["log_var"])))
                             for name, c in cases.items()})

    def judge(self, got, want, secret):
        hint = "½[log 2π + log σ² + (y − μ)²·exp(−log σ²)] per element, not averaged"
        return judges.all_of([judges.close(got[name], want[name], f"gaussian_nll ({name} inputs)",
                                           tol=judges.FLOAT64_TOL, hint=hint) for name in ("typical", "extreme", "column")])


class MdnNll(Check):
    """mdn_nll: per-example mixture NLL in log space (typical, far-away targets, huge logits; K = 1 equals gaussian_nll)"""

    points = 0.25
    budget = 10
    by_hand = (NLL_RULE,)

    def inputs(self, rng):
        b, k = 10, 3
        typical = {"y": rng.normal(size=b), "pi_logits": rng.normal(size=(b, k)),
                   "means": rng.normal(size=(b, k)), "log_sigmas": rng.uniform(-1.5, 1.0, size=(b, k))}
        # y 200σ from every component: exp(log N) underflows to 0 and log(0) = −inf unless it is logsumexp.
        far = dict(typical, y=typical["y"] + 60.0, log_sigmas=np.full((b, k), -1.2))
        # Logits offset by +800 per row: exp overflows unless softmax is shifted; the NLL is unchanged.
        shifted = dict(typical, pi_logits=typical["pi_logits"] + rng.uniform(700, 900, size=(b, 1)))
        column = dict(typical, y=typical["y"].reshape(-1, 1))
        single = {"y": typical["y"], "pi_logits": np.zeros((b, 1)), "means": typical["means"][:, :1],
                  "log_sigmas": typical["log_sigmas"][:, :1]}
        return {"cases": {"typical": typical, "far": far, "shifted": shifted, "column": column, "single": single}}

    def observe(self, sub, cases):
        out = parts.each(**{name: (lambda c=c: np.asarray(sub.mdn_nll(c["y"], c["pi_logits"], c["means"], c["log_sigmas"])))
                            for name, c in cases.items()})
        s = cases["single"]
        out["gaussian_single"] = parts.attempt(lambda: np.asarray(sub.gaussian_nll(s["y"], s["means"][:, 0],
                                                                                  2 * s["log_sigmas"][:, 0])))
        return out

    def judge(self, got, want, secret):
        tol = judges.FLOAT64_TOL
        hint = "−logsumexp_k[log_softmax(pi_logits)_k + log N(y; μ_k, σ_k)], σ_k = exp(log_sigmas_k), one value per row"
        verdicts = [judges.close(got[name], want[name], f"mdn_nll ({name})", tol=tol, hint=hint)
                    for name in ("typical", "far", "column")]
        verdicts.append(judges.close(got["shifted"], want["shifted"], "mdn_nll with logits shifted by +800 per row",
                                     tol=tol, hint="softmax is shift-invariant: use log_softmax (or subtract the row's max)"))
        verdicts.append(judges.close(got["single"], want["single"], "mdn_nll with K = 1", tol=tol))
        # A mixture of one is a Gaussian with log σ² = 2 log σ: ties mdn_nll to gaussian_nll (counts once values are right).
        same = judges.property_of([got["single"], got["gaussian_single"]],
                                  lambda a, b: np.allclose(np.asarray(a, float).reshape(-1), np.asarray(b, float).reshape(-1),
                                                           rtol=1e-9, atol=1e-12),
                                  "mdn_nll with K = 1 equals gaussian_nll with log_var = 2·log_sigma")
        return judges.gated(verdicts, [same])


def judge_sampler(y, pi, mu, sigma, what):
    """Verdicts on samples ``y`` (n,) of one mixture (``pi``, ``mu``, ``sigma``: (K,), components at
    least 6σ apart): how often each component is drawn, and each component's mean and spread."""
    verdicts = []
    for c in range(len(pi)):
        near = np.abs(y - mu[c]) < 3 * sigma[c]      # windows of different components do not overlap
        # P(within 3σ of its own component) = 0.9973; 5σ binomial band on the count.
        count_ok = judges.binomial_ok(int(near.sum()), len(y), pi[c] * 0.9973)
        inside = y[near]
        # Mean and spread of the truncated normal: sd(±3σ) = 0.9865σ; 6-standard-error bands.
        se = sigma[c] / np.sqrt(max(len(inside), 1))
        mean_ok = len(inside) > 10 and abs(inside.mean() - mu[c]) < 6 * se
        sd_ok = len(inside) > 10 and abs(inside.std() / (0.9865 * sigma[c]) - 1) < 6 / np.sqrt(2 * max(len(inside), 1))
        component = f"{what}: component {c} (μ = {mu[c]:g}, σ = {sigma[c]:g})"
        verdicts.append(judges.property_holds(count_ok, f"{component} drawn with probability {pi[c]:g}",
                                              f"it was drawn {near.mean():.3f} of the time"))
        if pi[c] * len(y) > 30:   # enough draws expected to judge the mean and the spread
            verdicts.append(judges.property_holds(mean_ok and sd_ok, f"{component}: mean and spread",
                                                  "samples of a component are μ + σ·ε, σ = exp(log_sigma)"))
    return verdicts


def observe_sampler(sub, pi_logits, means, log_sigmas, rng_seed, single_rows):
    """Draws of ``mdn_sample``: twice from one seed, once from another, and ``single_rows`` one-row calls
    on row 0's mixture (a sampler must work for any number of rows, one included)."""
    def draw(seed):
        return np.asarray(sub.mdn_sample(pi_logits, means, log_sigmas, np.random.default_rng(seed)), dtype=np.float64)

    def one_row_at_a_time():
        rng = np.random.default_rng(rng_seed + 2)
        return np.concatenate([np.asarray(sub.mdn_sample(pi_logits[:1], means[:1], log_sigmas[:1], rng),
                                          dtype=np.float64).reshape(-1) for _ in range(single_rows)])
    return parts.each(y=lambda: draw(rng_seed), again=lambda: draw(rng_seed), other=lambda: draw(rng_seed + 1),
                      single=one_row_at_a_time)


def judge_reproducible(got):
    """The same seed gives the same samples, another seed others."""
    same = judges.property_of([got["y"], got["again"]], lambda a, b: np.array_equal(np.asarray(a), np.asarray(b)),
                              "the same rng seed gives the same samples", "draw every random number from `rng`")
    differ = judges.property_of([got["y"], got["other"]], lambda a, b: not np.array_equal(np.asarray(a), np.asarray(b)),
                                "another rng seed gives other samples", "draw every random number from `rng`")
    return [same, differ]


class MdnSampler(Check):
    """mdn_sample: component frequencies, per-component means and spreads, one row at a time, and reproducibility from the rng"""

    points = 0.25
    kind = "property"
    budget = 10
    uses_reference = False
    by_hand = (SAMPLER_RULE,)
    #: Two groups of rows with different mixtures (a sampler that uses row 0's parameters for every row fails
    #: the second group); per-row random offsets of hundreds on the logits (a sampler that treats logits as
    #: probabilities fails, and so does an exp that is not shifted by the row's maximum: it overflows).
    PI = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    MU = np.array([[-6.0, 0.0, 6.0], [6.0, -6.0, 0.0]])
    SIGMA = np.array([[0.3, 0.5, 1.0], [1.0, 0.3, 0.5]])
    ROWS = 10_000   # per group
    SINGLE = 400    # one-row calls

    def inputs(self, rng):
        g = np.repeat([0, 1], self.ROWS)
        logits = np.log(self.PI[g]) + rng.uniform(-800, 800, size=(2 * self.ROWS, 1))
        return Inputs(public={"pi_logits": logits, "means": self.MU[g], "log_sigmas": np.log(self.SIGMA[g]),
                              "rng_seed": int(rng.integers(2**31)), "single_rows": self.SINGLE}, secret={})

    def observe(self, sub, pi_logits, means, log_sigmas, rng_seed, single_rows):
        return observe_sampler(sub, pi_logits, means, log_sigmas, rng_seed, single_rows)

    def judge(self, got, want, secret):
        n = 2 * self.ROWS
        try:
            y = judges.as_array(got["y"], "mdn_sample(...)", shape=(n,))
            single = judges.as_array(got["single"], "mdn_sample of one row at a time", shape=(self.SINGLE,))
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        verdicts = []
        for group in (0, 1):
            verdicts += judge_sampler(y[group * self.ROWS:(group + 1) * self.ROWS], self.PI[group], self.MU[group],
                                      self.SIGMA[group], f"rows with π = {self.PI[group].tolist()}")
        verdicts += judge_sampler(single, self.PI[0], self.MU[0], self.SIGMA[0], "one row per call")
        return judges.gated(verdicts, judge_reproducible(got))


class MdnStructure(Check):
    """build_mdn(k, hidden_units): tanh hidden layers and one linear Dense(3K) head, output (B, 3K)"""

    points = 0.25
    kind = "shape"
    budget = 10
    CASES = ((2, (16,)), (5, (8, 12)))

    def inputs(self, rng):
        return {"x": rng.uniform(0, 1, size=(7, 1)).astype(np.float32)}

    def observe(self, sub, x):
        def one(k, hidden):
            model = sub.build_mdn(k, hidden)
            return {"layers": describe_layers(model), "shape": list(np.asarray(model(x)).shape)}
        return [parts.together(("layers", "shape"), lambda k=k, h=h: one(k, h)) for k, h in self.CASES]

    def judge(self, got, want, secret):
        verdicts = []
        for (k, hidden), g, w in zip(self.CASES, got, want):
            verdicts.append(judges.equal(g["layers"], w["layers"], f"build_mdn({k}, {hidden}) layers",
                                         hint=f"expected Dense(u, tanh) for u in hidden_units, then Dense({3 * k}) with no activation"))
            verdicts.append(judges.equal(g["shape"], w["shape"], f"build_mdn({k}, {hidden}) output shape"))
        return judges.all_of(verdicts)


class MdnTraining(Check):
    """MDN trained on the bimodal toy set: the grader's own NLL on held-out data, and both branches covered"""

    points = 0.75
    kind = "training"
    budget = 40
    uses_reference = False
    SETUP = ("k", "hidden_units", "epochs", "batch_size", "learning_rate")

    def inputs(self, rng):
        cfg = self.config
        x, y = bimodal_data(cfg["train_size"], seed=cfg["data_seed"], noise=cfg["noise"])
        xt, yt = bimodal_data(cfg["test_size"], seed=int(rng.integers(2**31)), noise=cfg["noise"])
        return Inputs(public={"x": x, "y": y, "x_test": xt, "probe": np.array(cfg["probe_x"], np.float32).reshape(-1, 1),
                              "setup": {key: cfg[key] for key in self.SETUP}, "seed": int(rng.integers(2**31))},
                      secret={"y_test": yt, "true_nll": bimodal_true_nll(xt, yt, cfg["noise"])})

    def observe(self, sub, x, y, x_test, probe, setup, seed):
        model = sub.train_mdn(x, y, setup["k"], tuple(setup["hidden_units"]), setup["epochs"], setup["batch_size"],
                              setup["learning_rate"], seed=seed)
        return {"out": np.asarray(model(x_test, training=False)), "probe": np.asarray(model(probe, training=False)),
                "layers": describe_layers(model)}

    def judge(self, got, want, secret):
        cfg, k = self.config, self.config["k"]
        n = cfg["test_size"]
        try:
            out = judges.as_array(got["out"], "the trained MDN's output on held-out x", shape=(n, 3 * k))
            probe = judges.as_array(got["probe"], "the trained MDN's output at the probes", shape=(len(cfg["probe_x"]), 3 * k))
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        nll = mixture_nll(secret["y_test"], out, k)
        # Judged on the excess over the data's own conditional density on the same held-out points: the
        # held-out sample's noise cancels (the raw NLL moves by ±0.02 between test sets; the excess by less).
        excess = nll - secret["true_nll"]
        fit = judges.at_most(excess, cfg["max_excess_nll"],
                             f"held-out NLL minus the data's own density's NLL (your NLL {nll:.3f}; "
                             f"a single Gaussian scores about {cfg['single_gaussian_excess']:+.2f} above the floor)")
        # Both branches covered: at each probe x, the mixture's mass within ±3·noise of +√x and of −√x
        # (the data's own density puts 0.499 on each). A fit that favours one branch fails here even when
        # its NLL passes (a softmax over the batch axis did, once in 8 seeds).
        masses = [branch_masses(row, k, float(px), cfg["branch_half_width"]) for row, px in zip(probe, cfg["probe_x"])]
        worst = min(min(m) for m in masses)
        shown = ", ".join(f"x = {px}: {m[0]:.2f} / {m[1]:.2f}" for px, m in zip(cfg["probe_x"], masses))
        both = judges.property_holds(worst >= cfg["min_branch_mass"],
                                     f"mass within ±{cfg['branch_half_width']} of +√x / of −√x ≥ {cfg['min_branch_mass']} ({shown})",
                                     "the mixture should put about half its mass on each branch")
        structure = judges.property_holds(got["layers"][-1] == f"dense {3 * k}", f"the head is a linear Dense({3 * k})")
        verdicts = [fit, both, structure]
        verdict = judges.all_of(verdicts, weights=[3, 1, 1])
        verdict.message = "; ".join(v.message for v in verdicts)   # the figures, passed or not
        return verdict


class MdnTrainArguments(Check):
    """train_mdn uses its arguments: learning_rate 0 or 0 epochs leave the seeded initial network unchanged; 1 epoch changes it"""

    points = 0.25
    kind = "training"  # it trains: run once per mutant that targets it (default tier)
    budget = 15
    uses_reference = False

    def inputs(self, rng):
        x, y = bimodal_data(256, seed=int(rng.integers(2**31)), noise=0.05)
        return {"x": x, "y": y, "seed": int(rng.integers(2**31))}

    def observe(self, sub, x, y, seed):
        import keras

        def out(model):
            return np.asarray(model(x[:16], training=False))

        def initial():
            keras.utils.set_random_seed(seed)
            return out(sub.build_mdn(2, (8,)))

        def trained(epochs, rate):
            return out(sub.train_mdn(x, y, 2, (8,), epochs, 64, rate, seed=seed))

        return parts.each(initial=initial, frozen=lambda: trained(2, 0.0), no_epochs=lambda: trained(0, 5e-3),
                          one_epoch=lambda: trained(1, 5e-3))

    def judge(self, got, want, secret):
        same = lambda a, b: np.array_equal(np.asarray(a), np.asarray(b))   # noqa: E731
        hint = "seed first (keras.utils.set_random_seed(seed)), then build_mdn, then Adam(learning_rate) and fit(..., epochs=epochs)"
        trains = judges.property_of([got["initial"], got["one_epoch"]], lambda a, b: not same(a, b),
                                    "one epoch at learning_rate 5e-3 changes the network")
        return judges.gated([trains], [
            judges.property_of([got["initial"], got["frozen"]], same, "learning_rate = 0 leaves the seeded initial network unchanged", hint),
            judges.property_of([got["initial"], got["no_epochs"]], same, "epochs = 0 leaves the seeded initial network unchanged", hint),
        ])


# ---------------------------------------------------------------------------------------------
# Part 8. y = sin x + cos x + sin x·cos x, and the study
# ---------------------------------------------------------------------------------------------

class TargetFunction(Check):
    """target_function: sin x + cos x + sin x·cos x on random points of [0, 2π] (and beyond)"""

    points = 0.25
    budget = 5

    def inputs(self, rng):
        return {"x": np.concatenate([rng.uniform(0, 2 * np.pi, size=20), [0.0, np.pi / 4, np.pi, 7.5, -1.0]])}

    def observe(self, sub, x):
        return {"y": np.asarray(sub.target_function(x))}

    def judge(self, got, want, secret):
        return judges.close(got["y"], want["y"], "target_function(x)", tol=judges.FLOAT64_TOL)


def observe_regressors(sub, cases, x):
    """Layers and output shape of ``build_regressor(depth, width, activation)`` for each case."""
    def one(depth, width, activation):
        model = sub.build_regressor(depth, width, activation)
        return {"layers": describe_layers(model), "shape": list(np.asarray(model(x)).shape)}
    return [parts.together(("layers", "shape"), lambda c=c: one(*c)) for c in cases]


class RegressorStructure(Check):
    """build_regressor(depth, width, activation): depth hidden Dense(width, activation), then a linear Dense(1)"""

    points = 0.25
    kind = "shape"
    budget = 10
    CASES = ((1, 8, "relu"), (3, 5, "sigmoid"), (2, 4, "tanh"))

    def inputs(self, rng):
        return {"x": rng.uniform(-1, 1, size=(6, 1)).astype(np.float32)}

    def observe(self, sub, x):
        return observe_regressors(sub, self.CASES, x)

    def judge(self, got, want, secret):
        verdicts = []
        for case, g, w in zip(self.CASES, got, want):
            verdicts.append(judges.equal(g["layers"], w["layers"], f"build_regressor{case} layers",
                                         hint="depth hidden layers of width units with the activation, then Dense(1), linear"))
            verdicts.append(judges.equal(g["shape"], w["shape"], f"build_regressor{case} output shape"))
        return judges.all_of(verdicts)


class RegressorTraining(Check):
    """train_regressor fits sin x + cos x + sin x·cos x: the grader's MSE on held-out points of [0, 2π]"""

    points = 0.5
    kind = "training"
    budget = 30
    uses_reference = False

    def inputs(self, rng):
        cfg = self.config
        x = rng.uniform(0, 2 * np.pi, size=(cfg["train_size"], 1))
        xt = rng.uniform(0, 2 * np.pi, size=(cfg["test_size"], 1))
        f = sincos
        return Inputs(public={"x": x.astype(np.float32), "y": f(x).astype(np.float32),
                              "x_test_scaled": (xt / np.pi - 1).astype(np.float32),
                              "setup": {key: cfg[key] for key in ("depth", "width", "activation", "learning_rate",
                                                                  "epochs", "batch_size")},
                              "seed": int(rng.integers(2**31))},
                      secret={"y_test": f(xt), "y_train": f(x.astype(np.float32).astype(np.float64))})

    def observe(self, sub, x, y, x_test_scaled, setup, seed):
        import keras
        keras.utils.set_random_seed(seed)
        model = sub.build_regressor(setup["depth"], setup["width"], setup["activation"])
        claimed = sub.train_regressor(model, x, y, setup["learning_rate"], setup["epochs"], setup["batch_size"])
        return {"pred": np.asarray(model(x_test_scaled, training=False)), "claimed": float(claimed),
                "train_pred": np.asarray(model((x / np.pi - 1).astype(np.float32), training=False))}

    def judge(self, got, want, secret):
        cfg = self.config
        try:
            pred = judges.as_array(got["pred"], "the trained network's predictions", shape=(cfg["test_size"], 1))
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        mse = float(np.mean((pred - secret["y_test"]) ** 2))
        fit = judges.at_most(mse, cfg["max_val_mse"], "mean squared error on held-out points of [0, 2π]")
        # train_regressor's return is the last epoch's training MSE, which fit averages over the epoch while
        # the weights still move: within a factor `claimed_ratio` of the grader's MSE of the final network
        # on the same training points (reference: 0.9–2.3 over 8 seeds).
        claimed = got["claimed"]
        train_mse = float(np.mean((np.asarray(got["train_pred"], float).reshape(-1, 1) - secret["y_train"]) ** 2))
        ratio = claimed / max(train_mse, 1e-12) if np.isfinite(claimed) else float("nan")
        r = cfg["claimed_ratio"]
        sane = judges.property_holds(bool(np.isfinite(ratio) and 1 / r <= ratio <= r),
                                     f"train_regressor returns the last epoch's training MSE ({claimed:.3g}; the final "
                                     f"network's MSE on the training points is {train_mse:.3g})",
                                     "return history.history['loss'][-1] of a fit on the mean squared error")
        return judges.all_of([fit, sane], weights=[3, 1])


class RunConfigSeeded(Check):
    """run_config: returns both metrics, finite, trains in float64 and sets floatx back; the same seed gives the same row, another seed another"""

    points = 0.25
    kind = "training"  # it trains: run once per mutant that targets it (default tier)
    budget = 30
    uses_reference = False
    ROW = {"depth": 1, "learning_rate": 0.01, "width": 8, "activation": "tanh"}

    def inputs(self, rng):
        return {"seed": int(rng.integers(1000))}

    def observe(self, sub, seed):
        import keras

        run = lambda s: dict(sub.run_config(**self.ROW, seed=s))   # noqa: E731
        built, build = [], sub.build_regressor

        def first():
            # Watch the network run_config builds: its weights' dtype after training.
            sub.build_regressor = lambda *a, **k: built.append(build(*a, **k)) or built[-1]
            try:
                return run(seed)
            finally:
                sub.build_regressor = build
        out = parts.each(first=first, again=lambda: run(seed), other=lambda: run(seed + 1))
        out["weights_dtypes"] = sorted({str(v.dtype) for model in built for v in model.weights})
        out["settings_after"] = [keras.config.floatx(), keras.config.dtype_policy().name]
        return out

    def judge(self, got, want, secret):
        keys = ("log10_val_mse", "log10_train_mse")
        if (failure := judges.failed_part(got["first"], "run_config")) is not None:
            return failure
        has = judges.property_holds(set(keys) <= set(got["first"]) and all(np.isfinite(float(got["first"][k])) for k in keys),
                                    "run_config returns finite log10_val_mse and log10_train_mse")
        # In range: a network that learned something (log10 MSE < 0) and not a constant (> −8).
        plausible = judges.property_holds(has.passed and all(-8 < float(got["first"][k]) < -0.3 for k in keys),
                                          "the metrics are log10 of an MSE of a trained network")
        same = judges.property_of([got["first"], got["again"]], lambda a, b: all(a[k] == b[k] for k in keys),
                                  "the same seed gives the same numbers", "seed everything first: keras.utils.set_random_seed(seed)")
        other = judges.property_of([got["first"], got["other"]], lambda a, b: any(a[k] != b[k] for k in keys),
                                   "another seed gives other numbers", "use `seed`, not a constant")
        float64 = judges.property_holds(got["weights_dtypes"] == ["float64"],
                                        "run_config trains build_regressor's network in float64",
                                        f"its weights are {got['weights_dtypes'] or 'not seen (build the network with build_regressor)'}: "
                                        "build and train it inside `with float64_keras():`")
        restored = judges.property_holds(got["settings_after"] == ["float32", "float32"],
                                         "run_config sets Keras's floatx and dtype policy back afterwards",
                                         f"after it they are {got['settings_after']}: train inside `with float64_keras():`")
        return judges.gated([has, plausible, float64, restored], [same, other])
