"""Public checks of the feed-forward lab: students run these with ``pytest``
or ``grader check ffn``. Each ``observe`` calls your code; each ``judge``
compares with the reference's result on the same inputs (float64), or with
a gradient known in closed form."""

import numpy as np

from grader.checks import Check, Inputs, judges, parts

from .common import (ACTIVATION_NAMES, ACTIVATION_RULE, BACKPROP_RULE, CUSTOM_GRADIENT_RULE, GRAPH_RULE, LOSS_RULE,
                     NUMERIC_GRADIENT_RULE, activation_values, extreme_points, grader_maxout, graph_observation, mlp_observation,
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

    points = 0.5
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

    points = 0.5
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

    points = 0.5
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

    points = 0.5
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

    points = 0.5
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
                "binary_labels": np.array([0.0, 1.0] + list(rng.integers(2, size=6)))}

    def observe(self, sub, logits, labels, binary, binary_labels):
        return parts.each(log_softmax=lambda: sub.log_softmax(logits), softmax=lambda: sub.softmax(logits),
                          xent=lambda: sub.softmax_cross_entropy(logits, labels),
                          bce=lambda: sub.sigmoid_binary_cross_entropy(binary, binary_labels))

    def judge(self, got, want, secret):
        return judges.all_of([
            judges.close(got["log_softmax"], want["log_softmax"], "log_softmax(z)", tol=TOL,
                         hint="z − max(z) − log Σ exp(z − max(z)), row by row"),
            judges.close(got["softmax"], want["softmax"], "softmax(z)", tol=TOL),
            judges.close(got["xent"], want["xent"], "softmax_cross_entropy", tol=TOL,
                         hint="the mean over the batch of −z_c + logsumexp(z)"),
            judges.close(got["bce"], want["bce"], "sigmoid_binary_cross_entropy", tol=TOL,
                         hint="mean of max(z, 0) − y·z + log(1 + exp(−|z|)): never log(sigmoid(z))"),
        ])


class LossGradients(Check):
    """∂L/∂z of both losses: (softmax − y)/B and (σ − y)/N"""

    points = 0.5
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

    points = 1
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

    points = 0.5
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

    points = 0.5
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

    points = 0.5
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
