"""Hidden checks of the RNN lab (graders only): other shapes, activations and
properties than the public ones, so hard-coding public answers earns nothing."""

import numpy as np

from grader import HIDDEN, Check, Inputs, judges
from grader.gradcheck import numeric_gradient
from grader.source import called_names

from .common import adding_inputs, adding_mse, run_cell, train_adding
from .private import AUTODIFF, elman_states, is_quatrain, toy_bigram

F64_TOL = 1e-7


class RnnForwardVariants(Check):
    """rnn_forward with ReLU and linear activations, one step, D ≠ H; SimpleRNN weights for D ≠ H"""

    visibility = HIDDEN
    points = 0.5
    budget = 10

    def inputs(self, rng):
        d, n = 5, 3
        while True:
            data = {"x1": rng.normal(size=(1, 1, d)), "x": rng.normal(size=(3, 4, d)), "h0": rng.normal(size=(3, n)),
                    "U": 0.6 * rng.normal(size=(n, n)), "W": rng.normal(size=(n, d)), "b": rng.normal(size=n)}
            # The ReLU step must see both signs of z (else h = z there, and ReLU goes untested).
            z1 = data["h0"][:1] @ data["U"].T + data["x1"][:, 0] @ data["W"].T + data["b"]
            if (z1 < 0).any() and (z1 > 0).any():
                return data

    def observe(self, sub, x1, x, h0, U, W, b):
        import keras

        relu = sub.rnn_forward(x1, h0[:1], U, W, b, activation="relu")
        linear = sub.rnn_forward(x, h0, U, W, b, activation="linear")
        layer = keras.layers.SimpleRNN(U.shape[0], return_sequences=True, dtype="float64")
        layer.build((None,) + x.shape[1:])
        layer.set_weights([np.asarray(w, dtype=np.float64) for w in sub.simple_rnn_weights(U, W, b)])
        return {"relu": list(relu), "linear": list(linear), "keras": layer(x, initial_state=h0)}

    def judge(self, got, want, secret):
        verdicts = []
        for act, case in (("relu", "one step, D=5, H=3"), ("linear", "T=4, D=5, H=3")):
            for i, part in enumerate(("h", "z")):
                verdicts.append(judges.close(got[act][i], want[act][i], f"rnn_forward {part} ({act}, {case})", tol=1e-6))
        verdicts.append(judges.close(got["keras"], want["keras"], "SimpleRNN with simple_rnn_weights (D=5, H=3)",
                                     tol=F64_TOL))
        return judges.all_of(verdicts)


class BpttNumeric(Check):
    """rnn_backward: a numeric gradient of your own forward, a many-to-one loss with ReLU, and no autodiff"""

    visibility = HIDDEN
    points = 1
    kind = "gradient"
    budget = 15

    def inputs(self, rng):
        d, n, t = 2, 3, 4
        data = {"x": rng.normal(size=(2, t, d)), "h0": rng.normal(size=(2, n)), "U": 0.7 * rng.normal(size=(n, n)),
                "W": rng.normal(size=(n, d)), "b": rng.normal(size=n), "dh": rng.normal(size=(2, t, n))}
        h, z = elman_states(data["x"], data["h0"], data["U"], data["W"], data["b"], "relu")
        last_only = np.zeros_like(h)
        last_only[:, -1] = rng.normal(size=h[:, -1].shape)
        data.update(h_relu=h, z_relu=z, dh_last=last_only)
        return data

    def observe(self, sub, x, h0, U, W, b, dh, h_relu, z_relu, dh_last):
        h, z = sub.rnn_forward(x, h0, U, W, b, activation="tanh")
        analytic = sub.rnn_backward(dh, x, h0, U, W, h, z, activation="tanh")
        forward = {
            "dU": lambda v: sub.rnn_forward(x, h0, v, W, b, "tanh")[0],
            "dW": lambda v: sub.rnn_forward(x, h0, U, v, b, "tanh")[0],
            "db": lambda v: sub.rnn_forward(x, h0, U, W, v, "tanh")[0],
            "dh0": lambda v: sub.rnn_forward(x, v, U, W, b, "tanh")[0],
            "dx": lambda v: sub.rnn_forward(v, h0, U, W, b, "tanh")[0],
        }
        at = {"dU": U, "dW": W, "db": b, "dh0": h0, "dx": x}
        numeric = {k: numeric_gradient(f, at[k], dh) for k, f in forward.items()}
        many_to_one = sub.rnn_backward(dh_last, x, h0, U, W, h_relu, z_relu, activation="relu")
        calls = sorted(called_names(sub.rnn_backward) | called_names(sub.state_gradients))
        return {"analytic": dict(zip(forward, analytic)), "numeric": numeric,
                "many_to_one": dict(zip(forward, many_to_one)), "calls": calls}

    def judge(self, got, want, secret):
        verdicts = [judges.gradient(got["analytic"][k], got["numeric"][k], f"{k} vs a numeric gradient of your rnn_forward",
                                    tol=1e-6) for k in ("dU", "dW", "db", "dh0", "dx")]
        verdicts += [judges.gradient(got["many_to_one"][k], want["many_to_one"][k], f"{k} (ReLU, loss on the last step only)",
                                     hint="with a loss only at t = T, δ_{T,k} still flows back to every step k")
                     for k in ("dU", "dW", "db", "dh0", "dx")]
        used = sorted(set(got["calls"]) & AUTODIFF)
        verdicts.append(judges.property_holds(not used, "rnn_backward and state_gradients use no autodiff",
                                              f"they call {', '.join(used)}: write the δ recursion by hand"))
        return judges.all_of(verdicts)


class GradientBounds(Check):
    """tanh RNN: ‖∂L_t/∂h_k‖ ≤ (γ·σ_max(U))^{t−k}‖∂L_t/∂h_t‖; non-normal U; clipping edge cases"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 5
    SIGMA = 0.9

    def inputs(self, rng):
        n, t = 6, 20
        u = rng.normal(size=(n, n))
        U = u * (self.SIGMA / np.linalg.norm(u, 2))     # largest singular value σ_max = 0.9
        x, h0, W, b = rng.normal(size=(2, t, 3)), rng.normal(size=(2, n)), rng.normal(size=(n, 3)), rng.normal(size=n)
        _, z = elman_states(x, h0, U, W, b, "tanh")
        nonnormal = np.triu(rng.normal(size=(4, 4)), 1) * 3 + np.diag([0.2, -0.5, 0.3, 0.1])
        return {"U": U, "z": z, "dl": rng.normal(size=(2, n)), "nonnormal": nonnormal, "g": rng.normal(size=(2, 3))}

    def observe(self, sub, U, z, dl, nonnormal, g):
        clip_zero, norm_zero = sub.clip_by_global_norm([np.zeros(3), np.zeros((2, 2))], 1.0)
        edge = float(np.sqrt(np.sum(g ** 2)))
        clip_edge, _ = sub.clip_by_global_norm([g], edge)
        return {"g": sub.state_gradients(dl, z, U, activation="tanh"),
                "scaled": sub.scale_to_spectral_radius(nonnormal, 1.2),
                "clip_zero": [np.asarray(a) for a in clip_zero], "norm_zero": float(norm_zero),
                "clip_edge": np.asarray(clip_edge[0])}

    def judge(self, got, want, secret):
        verdicts = [judges.gradient(got["g"], want["g"], "∂L_20/∂h_k with tanh",
                                    hint="f′ is evaluated at z_{k+1}, the step *after* k")]
        g = judges.as_array(got["g"], "state_gradients", shape=np.shape(want["g"]))
        norms = np.linalg.norm(g, axis=-1)
        t = norms.shape[1]
        bound = self.SIGMA ** (t - 1 - np.arange(t))[None, :] * norms[:, -1:]
        verdicts.append(judges.property_holds(bool(np.all(norms <= bound * (1 + 1e-9) + 1e-300)),
                                              "‖∂L_t/∂h_k‖ ≤ (γ σ_max)^{t−k} ‖∂L_t/∂h_t‖ with γ = 1 (tanh′ ≤ 1), σ_max = 0.9"))
        verdicts.append(judges.close(got["scaled"], want["scaled"], "scale_to_spectral_radius on a non-normal U",
                                     tol=F64_TOL, hint="the spectral radius is max |eigenvalue|, not the largest singular value"))
        verdicts.append(judges.close(got["norm_zero"], 0.0, "global norm of all-zero gradients", tol=F64_TOL))
        verdicts.append(judges.close(got["clip_zero"][0], want["clip_zero"][0], "clipping all-zero gradients (no NaN)",
                                     tol=F64_TOL))
        verdicts.append(judges.close(got["clip_edge"], want["clip_edge"], "clipping at exactly max_norm leaves it unchanged",
                                     tol=F64_TOL))
        return judges.all_of(verdicts)


class LstmVariants(Check):
    """LSTMCell variants from the slides: no forget gate, coupled gates, peepholes"""

    visibility = HIDDEN
    points = 1
    budget = 15
    VARIANTS = ("no_forget", "coupled", "peephole")

    def inputs(self, rng):
        d, n = 2, 3
        return {"x": rng.normal(size=(2, 4, d)), "kernel": 0.6 * rng.normal(size=(d, 4 * n)),
                "recurrent_kernel": 0.6 * rng.normal(size=(n, 4 * n)), "bias": 0.6 * rng.normal(size=4 * n),
                "peephole_kernel": 0.6 * rng.normal(size=(n, 3 * n))}

    def observe(self, sub, x, kernel, recurrent_kernel, bias, peephole_kernel):
        out = {}
        for variant in self.VARIANTS:
            weights = {"kernel": kernel, "recurrent_kernel": recurrent_kernel, "bias": bias}
            if variant == "peephole":
                weights["peephole_kernel"] = peephole_kernel
            h, (_, c) = run_cell(sub.LSTMCell(kernel.shape[1] // 4, variant=variant, dtype="float64"), x, weights)
            out[variant] = {"h": h, "c": c}
        return out

    def judge(self, got, want, secret):
        hints = {"no_forget": "c_t = c_{t−1} + i_t ⊙ c̃_t", "coupled": "c_t = (1 − i_t) ⊙ c_{t−1} + i_t ⊙ c̃_t",
                 "peephole": "i and f see c_{t−1}; o sees the new c_t"}
        return judges.all_of([judges.close(got[v][k], want[v][k], f"LSTMCell(variant={v!r}) {k}", tol=F64_TOL,
                                           hint=hints[v])
                              for v in self.VARIANTS for k in ("h", "c")])


class SequenceClassifier(Check):
    """masked readouts with padding before the sequence; build_sequence_classifier ignores padding"""

    visibility = HIDDEN
    points = 1
    kind = "property"
    budget = 20
    LENGTHS = (7, 3, 1)

    def inputs(self, rng):
        t = max(self.LENGTHS)
        mask = np.arange(t)[None, :] >= t - np.array(self.LENGTHS)[:, None]       # padding first ("pre")
        ids = rng.integers(1, 20, size=(3, 5))
        return {"h": rng.normal(size=(3, t, 4)), "mask": mask, "ids": ids,
                "post": np.pad(ids, ((0, 0), (0, 3))), "pre": np.pad(ids, ((0, 0), (4, 0)))}

    def observe(self, sub, h, mask, ids, post, pre):
        import keras

        out = {"last": sub.masked_last(h, mask), "mean": sub.masked_mean(h, mask)}
        for readout in ("last", "mean"):
            keras.utils.set_random_seed(1234)       # the same initial weights for both readouts
            model = sub.build_sequence_classifier(20, 3, readout=readout)
            out[f"model_{readout}"] = [model(v) for v in (ids, post, pre)]
        return out

    def judge(self, got, want, secret):
        verdicts = [
            judges.close(got["last"], want["last"], f"masked_last (lengths {self.LENGTHS}, padding before)", tol=1e-6,
                         hint="with padding first, the last real step is the last position, not length − 1"),
            judges.close(got["mean"], want["mean"], f"masked_mean (lengths {self.LENGTHS}, padding before)", tol=1e-6),
        ]
        for readout in ("last", "mean"):
            plain, post, pre = (judges.as_array(v, f"classifier ({readout}) logits", shape=(3, 3))
                                for v in got[f"model_{readout}"])
            for name, padded in (("after", post), ("before", pre)):
                diff = float(np.max(np.abs(padded - plain)))
                verdicts.append(judges.property_holds(
                    diff < 1e-5, f"readout={readout!r}: logits unchanged by padding {name} the sequences",
                    f"they changed by up to {diff:.2g}: mask the padding (Embedding(mask_zero=True) and the readout)"))
        a, b = (judges.as_array(got[f"model_{r}"][0], "logits") for r in ("last", "mean"))
        verdicts.append(judges.property_holds(float(np.max(np.abs(a - b))) > 1e-6,
                                              "readout='last' and readout='mean' give different models"))
        return judges.all_of(verdicts)


class AddingSimpleRnnFails(Check):
    """the long-range dependency problem: a SimpleRNN trained like the GRU stays near the adding problem's baseline"""

    visibility = HIDDEN
    points = 0.5
    kind = "training"
    budget = 30
    uses_reference = False

    def inputs(self, rng):
        return adding_inputs(rng, self.shared["adding"])

    def observe(self, sub, x_train, y_train, x_val, recipe):
        return train_adding(sub, "simple", x_train, y_train, x_val, recipe)

    def judge(self, got, want, secret):
        threshold, baseline = self.config["threshold"], self.shared["adding"]["baseline"]
        try:
            mse = adding_mse(got, secret["y_val"])
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        rnns = [n for n in got["layers"] if n in ("SimpleRNN", "LSTM", "GRU", "RNN")]
        return judges.all_of([
            judges.property_holds(rnns == ["SimpleRNN"], "build_adding_model('simple') is one SimpleRNN layer",
                                  f"its recurrent layers are {rnns}"),
            judges.property_holds(mse > threshold,
                                  f"the SimpleRNN does not solve it: validation MSE {mse:.3f} > {threshold:g} "
                                  f"(baseline {baseline:g})"),
        ])


class QuatrainSampling(Check):
    """write_quatrain: a 五言绝句 (4 × 5 characters, "，" and "。") from a first character; greedy, seeded, top-k"""

    visibility = HIDDEN
    points = 1
    kind = "property"
    budget = 10
    TOP_K = 3

    def inputs(self, rng):
        vocab, table = toy_bigram(rng)
        return Inputs(public={"vocab": vocab, "table": table}, secret={"vocab": vocab, "table": table})

    def observe(self, sub, vocab, table):
        def next_logits(ids):
            return table[ids[-1]]          # a bigram "model": the logits depend on the last token only

        def write(seed, temperature, top_k):
            return str(sub.write_quatrain(next_logits, vocab, vocab[7], np.random.default_rng(seed), temperature, top_k))

        return {"greedy": [write(0, 1.0, 1), write(1, 1.0, 1)],
                "sampled": [write(s, 1.0, self.TOP_K) for s in (0, 1, 2)], "again": write(0, 1.0, self.TOP_K),
                "hot": write(3, 5.0, None)}

    def judge(self, got, want, secret):
        vocab, table = list(secret["vocab"]), secret["table"]
        index = {tok: i for i, tok in enumerate(vocab)}
        poems = list(got["greedy"]) + list(got["sampled"]) + [got["again"], got["hot"]]
        bad = [p for p in poems if not is_quatrain(p, vocab[5:], vocab[7])]
        verdicts = [judges.property_holds(not bad, f"all {len(poems)} poems are 五言绝句 starting with {vocab[7]}",
                                          f"e.g. {bad[0]!r}: 4 lines of 5 characters, '，' after lines 1 and 3, '。' after "
                                          "2 and 4, no special tokens" if bad else "")]
        verdicts.append(judges.equal(got["greedy"][0], want["greedy"][0], "top_k=1 poem (greedy decoding)"))
        verdicts.append(judges.property_holds(got["greedy"][0] == got["greedy"][1], "greedy decoding ignores the seed"))
        verdicts.append(judges.property_holds(got["again"] == got["sampled"][0], "the same seed writes the same poem"))
        verdicts.append(judges.property_holds(len(set(got["sampled"])) > 1, "different seeds write different poems"))
        outside = 0
        for poem in got["sampled"] if not bad else []:
            for pos in range(1, 24):
                if pos % 6 != 5:
                    allowed = table[index[poem[pos - 1]]].copy()
                    allowed[:5] = -np.inf
                    outside += index[poem[pos]] not in np.argsort(-allowed)[: self.TOP_K]
        verdicts.append(judges.property_holds(not bad and outside == 0,
                                              f"top_k={self.TOP_K}: every character is among the {self.TOP_K} best allowed",
                                              f"{outside} characters were not" if not bad else "see the format"))
        return judges.all_of(verdicts)

