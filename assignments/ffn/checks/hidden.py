"""Hidden checks of the feed-forward lab (graders only): other inputs,
parameters, shapes and dtypes than the public ones, drawn from the salted
seed, so hard-coding public answers earns nothing."""

import numpy as np

from grader.checks import HIDDEN, Check, Inputs, judges, parts

from .common import (ACTIVATION_RULE, BACKPROP_RULE, CUSTOM_GRADIENT_RULE, GRAPH_RULE, LOSS_RULE, NLL_RULE,
                     NUMERIC_GRADIENT_RULE, SAMPLER_RULE, activation_values, grader_maxout, graph_observation, mlp_observation,
                     numeric_gradient_observation, observe_dense_relu, observe_maxout)
from .public import (TOL, judge_activations, judge_dense_relu, judge_graph, judge_maxout, judge_mlp, judge_numeric_gradient,
                     judge_reproducible, judge_sampler, observe_regressors, observe_sampler)


class ActivationsHidden(Check):
    """Activations and derivatives with other parameters (γ of leaky ReLU and ELU, β of swish) at random and far-out inputs"""

    visibility = HIDDEN
    points = 0.75
    budget = 10
    by_hand = (ACTIVATION_RULE,)

    def inputs(self, rng):
        gamma_leaky, gamma_elu = rng.uniform(0.05, 0.5), rng.uniform(0.3, 2.0)
        return {"random": rng.normal(0.0, 4.0, size=50), "far": np.array([-1e4, -745.0, 0.0, 745.0, 1e4]),
                "kwargs": {"leaky_relu": {"gamma": gamma_leaky}, "elu": {"gamma": gamma_elu},
                           "swish": {"beta": rng.uniform(1.5, 3.0)}},
                "betas": [0.0, 100.0]}

    def observe(self, sub, random, far, kwargs, betas):
        out = {"random": activation_values(sub, random, kwargs), "far": activation_values(sub, far, kwargs)}
        out["swish_betas"] = [parts.each(f=lambda: sub.swish(random, beta=beta), d=lambda: sub.d_swish(random, beta=beta))
                              for beta in betas]
        return out

    def judge(self, got, want, secret):
        verdicts = [judge_activations(got, want, prefix, wheres=("random", "far")) for prefix in ("", "d_")]
        for (g, w), beta in zip(zip(got["swish_betas"], want["swish_betas"]), (0.0, 100.0)):
            verdicts.append(judges.close(g["f"], w["f"], f"swish(x, beta={beta})", tol=TOL))
            verdicts.append(judges.close(g["d"], w["d"], f"d_swish(x, beta={beta})", tol=TOL))
        return judges.all_of(verdicts, weights=[5, 5, 1, 1, 1, 1])


class MaxoutHidden(Check):
    """Maxout(units=4, pieces=3) on another input size; maxout_leaky_relu_weights for another width and γ"""

    visibility = HIDDEN
    points = 0.25
    budget = 15

    def inputs(self, rng):
        return {"x": rng.normal(size=(7, 5)), "kernel": rng.normal(size=(5, 12)), "bias": rng.normal(size=12),
                "upstream": rng.normal(size=(7, 4)), "gamma": rng.uniform(0.05, 0.9), "xr": rng.normal(0.0, 3.0, size=(9, 6))}

    def observe(self, sub, x, kernel, bias, upstream, gamma, xr):
        out = observe_maxout(sub, 4, 3, x, kernel, bias, upstream)
        out["relu"] = parts.attempt(lambda: grader_maxout(xr, *sub.maxout_leaky_relu_weights(6, gamma), 2))
        return out

    def judge(self, got, want, secret):
        return judges.all_of([judge_maxout(got, want, "Maxout(4, 3)"),
                              judges.close(got["relu"], want["relu"], "Maxout(6, 2) with maxout_leaky_relu_weights(6, γ)",
                                           tol=TOL)], weights=[2, 1])


class LossStability(Check):
    """Both losses and their gradients at logits of ±1000 (and soft labels): finite, and equal to the reference"""

    visibility = HIDDEN
    points = 0.25
    budget = 5
    by_hand = (LOSS_RULE,)

    def inputs(self, rng):
        logits = rng.normal(0.0, 500.0, size=(6, 4))
        logits[0] = [-1000.0, -1000.0, -1000.0, -999.0]
        logits[1] = [800.0, 800.0, -800.0, 0.0]
        labels = rng.dirichlet(np.ones(4), size=6)
        binary = rng.choice([-1000.0, -200.0, 200.0, 1000.0], size=(10, 1))
        return {"logits": logits, "labels": labels, "binary": binary, "binary_labels": rng.uniform(size=(10, 1))}

    def observe(self, sub, logits, labels, binary, binary_labels):
        return parts.each(log_softmax=lambda: sub.log_softmax(logits), softmax=lambda: sub.softmax(logits),
                          xent=lambda: sub.softmax_cross_entropy(logits, labels),
                          xent_grad=lambda: sub.softmax_cross_entropy_grad(logits, labels),
                          bce=lambda: sub.sigmoid_binary_cross_entropy(binary, binary_labels),
                          bce_grad=lambda: sub.sigmoid_binary_cross_entropy_grad(binary, binary_labels))

    def judge(self, got, want, secret):
        return judges.all_of([judges.close(got[key], want[key], f"{key} at logits of ±1000 (soft labels)", tol=TOL)
                              for key in want])


class MlpBackpropDeep(Check):
    """mlp_forward/mlp_backward by hand on a deeper, narrower-and-wider MLP (sigmoid and the tanh GELU), float64"""

    visibility = HIDDEN
    points = 0.75
    kind = "gradient"
    budget = 10
    by_hand = (BACKPROP_RULE,)
    SIZES = (6, 9, 4, 5, 2)
    ACTIVATIONS = ("sigmoid", "gelu_tanh")

    def inputs(self, rng):
        params = [[rng.normal(size=(a, b)) / np.sqrt(a), rng.normal(size=b)] for a, b in zip(self.SIZES, self.SIZES[1:])]
        return {"x": rng.normal(size=(11, 6)), "params": params, "dout": rng.normal(size=(11, 2)),
                "labels": np.eye(2)[rng.integers(2, size=11)]}

    def observe(self, sub, x, params, dout, labels):
        return {a: mlp_observation(sub, x, params, dout, labels, a) for a in self.ACTIVATIONS}

    def judge(self, got, want, secret):
        return judge_mlp(got, want)


class GraphExampleHidden(Check):
    """The computation graph on other shapes, without the penalty (λ = 0) and with a large one"""

    visibility = HIDDEN
    points = 0.25
    kind = "gradient"
    budget = 5
    by_hand = (GRAPH_RULE,)

    def inputs(self, rng):
        cases = []
        for lam in (0.0, float(rng.uniform(0.3, 1.0))):
            cases.append({"x": rng.normal(size=(9, 3)), "labels": rng.integers(4, size=9), "w1": rng.normal(size=(3, 6)),
                          "w2": rng.normal(size=(6, 4)), "lam": lam})
        return {"cases": cases}

    def observe(self, sub, cases):
        return [graph_observation(sub, **case) for case in cases]

    def judge(self, got, want, secret):
        return judge_graph(got, want)


class CustomGradientHidden(Check):
    """dense_relu on float32 inputs of other shapes: the dtype is kept, the tape's gradients are your backward pass"""

    visibility = HIDDEN
    points = 0.25
    kind = "gradient"
    budget = 15
    by_hand = (CUSTOM_GRADIENT_RULE,)

    def inputs(self, rng):
        return {"x": rng.normal(size=(3, 7)), "w": rng.normal(size=(7, 5)), "b": rng.normal(size=5),
                "upstream": rng.normal(size=(3, 5))}

    def observe(self, sub, x, w, b, upstream):
        return observe_dense_relu(sub, x, w, b, upstream, dtype="float32")

    def judge(self, got, want, secret):
        return judge_dense_relu(got, want, tol=judges.FLOAT32_TOL)


class NumericGradientHidden(Check):
    """numeric_gradient on a 3-D input, a log-sum-exp and a cross-entropy whose gradients are known"""

    visibility = HIDDEN
    points = 0.25
    kind = "gradient"
    budget = 10
    uses_reference = False
    by_hand = (NUMERIC_GRADIENT_RULE,)

    def inputs(self, rng):
        x = {"tensor": rng.normal(size=(2, 3, 2)), "logsumexp": rng.normal(size=6), "xent": rng.normal(size=(3, 4)),
             "coupled": rng.normal(size=5)}
        c = rng.normal(size=(2, 3, 2))
        d = rng.normal(size=5)
        y = np.eye(4)[rng.integers(4, size=3)]
        e = np.exp(x["logsumexp"] - x["logsumexp"].max())
        z = x["xent"]
        s = np.exp(z - z.max(axis=1, keepdims=True))
        s /= s.sum(axis=1, keepdims=True)
        # With ε = 0.05 the central difference of sin is cos(x)·sin(ε)/ε (that of x² is exact).
        truth = {"tensor": c * np.cos(x["tensor"]) * np.sin(0.05) / 0.05 + 2 * x["tensor"], "logsumexp": e / e.sum(), "xent": (s - y) / 3,
                 # (d·x)² couples the elements (an element left perturbed shows in the next ones); its central
                 # difference is exactly 2(d·x)d for any ε.
                 "coupled": 2 * (d @ x["coupled"]) * d}
        return Inputs(public={"x": x, "c": c, "y": y, "d": d}, secret={"truth": truth})

    def observe(self, sub, x, c, y, d):
        def xent(z):
            m = z.max(axis=1, keepdims=True)
            return -np.mean(np.sum(y * (z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))), axis=1))

        functions = {"tensor": (lambda v: np.sum(c * np.sin(v) + v ** 2), {"eps": 0.05}),
                     "logsumexp": (lambda v: np.log(np.sum(np.exp(v))), {}), "xent": (xent, {}),
                     "coupled": (lambda v: (d @ v) ** 2, {"eps": 0.1})}
        return numeric_gradient_observation(sub, x, functions)

    def judge(self, got, want, secret):
        return judge_numeric_gradient(got, secret["truth"], {"tensor": "Σ c·sin(x) + x² on a (2, 3, 2) x with eps=0.05",
                                                             "xent": "a softmax cross-entropy",
                                                             "coupled": "(d·x)² with eps=0.1"}, tol=self.config["tol"])


class MixtureHeadsHidden(Check):
    """gaussian_nll and mdn_nll on other sizes: K = 5 components, logits shifted by −800, far targets, float32 inputs"""

    visibility = HIDDEN
    points = 0.5
    budget = 10
    by_hand = (NLL_RULE,)

    def inputs(self, rng):
        b, k = 9, 5
        gaussian = {"y": rng.normal(0.0, 3.0, size=b), "mean": rng.normal(size=b), "log_var": rng.uniform(-25, 25, size=b)}
        mixture = {"y": rng.normal(size=b), "pi_logits": rng.normal(size=(b, k)) - rng.uniform(700, 900, size=(b, 1)),
                   "means": rng.normal(0.0, 2.0, size=(b, k)), "log_sigmas": rng.uniform(-2.0, 0.5, size=(b, k))}
        far = dict(mixture, y=mixture["y"] - 80.0)
        single32 = {key: value.astype(np.float32) for key, value in gaussian.items()}
        return {"gaussian": gaussian, "single32": single32, "mixture": mixture, "far": far}

    def observe(self, sub, gaussian, single32, mixture, far):
        def nll(c):
            return np.asarray(sub.mdn_nll(c["y"], c["pi_logits"], c["means"], c["log_sigmas"]), dtype=np.float64)
        return parts.each(
            gaussian=lambda: np.asarray(sub.gaussian_nll(gaussian["y"], gaussian["mean"], gaussian["log_var"]), np.float64),
            single32=lambda: np.asarray(sub.gaussian_nll(single32["y"], single32["mean"], single32["log_var"]), np.float64),
            mixture=lambda: nll(mixture), far=lambda: nll(far))

    def judge(self, got, want, secret):
        return judges.all_of([
            judges.close(got["gaussian"], want["gaussian"], "gaussian_nll (log σ² in ±25)", tol=judges.FLOAT64_TOL),
            judges.close(got["single32"], want["single32"], "gaussian_nll of float32 inputs", tol=judges.FLOAT32_TOL),
            judges.close(got["mixture"], want["mixture"], "mdn_nll with K = 5 and logits near −800", tol=judges.FLOAT64_TOL,
                         hint="log_softmax of the logits, then logsumexp over the components"),
            judges.close(got["far"], want["far"], "mdn_nll 80 away from every component", tol=judges.FLOAT64_TOL),
        ])


class MdnSamplerHidden(Check):
    """mdn_sample on a mixture of four drawn from the salted seed: frequencies, means, spreads, one row at a time"""

    visibility = HIDDEN
    points = 0.25
    kind = "property"
    budget = 10
    uses_reference = False
    by_hand = (SAMPLER_RULE,)
    ROWS, SINGLE = 12_000, 400

    def inputs(self, rng):
        pi = rng.dirichlet(np.full(4, 4.0))
        sigma = rng.uniform(0.2, 1.0, size=4)
        mu = np.cumsum(np.r_[rng.uniform(-20, -10), 6 * (sigma[:-1] + sigma[1:]) + rng.uniform(0, 2, size=3)])
        tile = lambda a: np.tile(a, (self.ROWS, 1))   # noqa: E731
        logits = np.log(tile(pi)) + rng.uniform(-900, 900, size=(self.ROWS, 1))
        return Inputs(public={"pi_logits": logits, "means": tile(mu), "log_sigmas": np.log(tile(sigma)),
                              "rng_seed": int(rng.integers(2**31)), "single_rows": self.SINGLE},
                      secret={"pi": pi, "mu": mu, "sigma": sigma})

    def observe(self, sub, pi_logits, means, log_sigmas, rng_seed, single_rows):
        return observe_sampler(sub, pi_logits, means, log_sigmas, rng_seed, single_rows)

    def judge(self, got, want, secret):
        try:
            y = judges.as_array(got["y"], "mdn_sample(...)", shape=(self.ROWS,))
            single = judges.as_array(got["single"], "mdn_sample of one row at a time", shape=(self.SINGLE,))
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        pi, mu, sigma = secret["pi"], secret["mu"], secret["sigma"]
        verdicts = judge_sampler(y, pi, mu, sigma, "a mixture of four") + judge_sampler(single, pi, mu, sigma, "one row per call")
        return judges.gated(verdicts, judge_reproducible(got))


class RegressorHidden(Check):
    """target_function on a (B, 1) column and build_regressor with other depths, widths and activations"""

    visibility = HIDDEN
    points = 0.25
    kind = "shape"
    budget = 10
    CASES = ((4, 6, "relu"), (1, 3, "tanh"))

    def inputs(self, rng):
        return {"column": rng.uniform(-np.pi, 3 * np.pi, size=(11, 1)), "x": rng.uniform(-1, 1, size=(5, 1)).astype(np.float32)}

    def observe(self, sub, column, x):
        return {"target": parts.attempt(lambda: np.asarray(sub.target_function(column), dtype=np.float64)),
                "models": observe_regressors(sub, self.CASES, x)}

    def judge(self, got, want, secret):
        verdicts = [judges.close(got["target"], want["target"], "target_function of a (11, 1) column", tol=judges.FLOAT64_TOL)]
        for case, g, w in zip(self.CASES, got["models"], want["models"]):
            verdicts.append(judges.equal(g["layers"], w["layers"], f"build_regressor{case} layers"))
            verdicts.append(judges.equal(g["shape"], w["shape"], f"build_regressor{case} output shape"))
        return judges.all_of(verdicts, weights=[2] + [1] * (len(verdicts) - 1))
