"""Hidden checks of the RNN lab (graders only): other shapes, activations and
properties than the public ones, so hard-coding public answers earns nothing."""

import numpy as np

from grader.checks import HIDDEN, Check, Inputs, judges, parts
from grader.checks.gradcheck import numeric_gradient

from .common import (BPTT_RULE, CLIP_RULE, FORWARD_RULE, LSTM_RULE, SAMPLING_RULE, STATE_GRADIENT_RULE, adding_inputs,
                     adding_mse, adding_structure, adding_verdict, describe_layers, is_linear,
                     layer_words, run_cell, train_adding)
from .private import elman_states, is_quatrain, toy_bigram

F64_TOL = 1e-7


class RnnForwardVariants(Check):
    """rnn_forward with ReLU and linear activations, one step, D ≠ H; SimpleRNN weights for D ≠ H"""

    visibility = HIDDEN
    points = 0.5
    budget = 10
    by_hand = (FORWARD_RULE,)

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

        def library():
            layer = keras.layers.SimpleRNN(U.shape[0], return_sequences=True, dtype="float64")
            layer.build((None,) + x.shape[1:])
            layer.set_weights([np.asarray(w, dtype=np.float64) for w in sub.simple_rnn_weights(U, W, b)])
            return layer(x, initial_state=h0)

        # Each activation, and simple_rnn_weights, a part of its own.
        return parts.each(relu=lambda: list(sub.rnn_forward(x1, h0[:1], U, W, b, activation="relu")),
                          linear=lambda: list(sub.rnn_forward(x, h0, U, W, b, activation="linear")), keras=library)

    def judge(self, got, want, secret):
        verdicts = []
        for act, case in (("relu", "one step, D=5, H=3"), ("linear", "T=4, D=5, H=3")):
            verdicts.append(judges.failed_part(got[act], f"rnn_forward ({act}, {case})") or judges.all_of([
                judges.close(got[act][i], want[act][i], f"rnn_forward {part} ({act}, {case})", tol=1e-6)
                for i, part in enumerate(("h", "z"))]))
        verdicts.append(judges.close(got["keras"], want["keras"], "SimpleRNN with simple_rnn_weights (D=5, H=3)",
                                     tol=F64_TOL))
        return judges.all_of(verdicts, weights=[2, 2, 1])  # h and z of each activation count one each


class BpttNumeric(Check):
    """rnn_backward: a numeric gradient of your own forward, many-to-one losses with ReLU and linear, no autodiff"""

    visibility = HIDDEN
    points = 1
    kind = "gradient"
    budget = 15
    by_hand = (BPTT_RULE,)

    def inputs(self, rng):
        d, n, t = 2, 3, 4
        data = {"x": rng.normal(size=(2, t, d)), "h0": rng.normal(size=(2, n)), "U": 0.7 * rng.normal(size=(n, n)),
                "W": rng.normal(size=(n, d)), "b": rng.normal(size=n), "dh": rng.normal(size=(2, t, n))}
        h, z = elman_states(data["x"], data["h0"], data["U"], data["W"], data["b"], "relu")
        last_only = np.zeros_like(h)
        last_only[:, -1] = rng.normal(size=h[:, -1].shape)
        h_lin, z_lin = elman_states(data["x"], data["h0"], data["U"], data["W"], data["b"], "linear")
        data.update(h_relu=h, z_relu=z, dh_last=last_only, h_linear=h_lin, z_linear=z_lin)
        return data

    def observe(self, sub, x, h0, U, W, b, dh, h_relu, z_relu, dh_last, h_linear, z_linear):
        forward = {
            "dU": lambda v: sub.rnn_forward(x, h0, v, W, b, "tanh")[0],
            "dW": lambda v: sub.rnn_forward(x, h0, U, v, b, "tanh")[0],
            "db": lambda v: sub.rnn_forward(x, h0, U, W, v, "tanh")[0],
            "dh0": lambda v: sub.rnn_forward(x, v, U, W, b, "tanh")[0],
            "dx": lambda v: sub.rnn_forward(v, h0, U, W, b, "tanh")[0],
        }
        at = {"dU": U, "dW": W, "db": b, "dh0": h0, "dx": x}

        def analytic():
            h, z = sub.rnn_forward(x, h0, U, W, b, activation="tanh")
            return dict(zip(forward, sub.rnn_backward(dh, x, h0, U, W, h, z, activation="tanh")))

        # Your backward on your forward, the numeric gradient of your forward, and your backward on the
        # grader's caches: each a part of its own.
        return parts.each(
            analytic=analytic, numeric=lambda: {k: numeric_gradient(f, at[k], dh) for k, f in forward.items()},
            many_to_one=lambda: dict(zip(forward, sub.rnn_backward(dh_last, x, h0, U, W, h_relu, z_relu,
                                                                   activation="relu"))),
            linear=lambda: dict(zip(forward, sub.rnn_backward(dh_last, x, h0, U, W, h_linear, z_linear,
                                                              activation="linear"))))

    def judge(self, got, want, secret):
        names = ("dU", "dW", "db", "dh0", "dx")
        against = "rnn_backward vs a numeric gradient of your rnn_forward"
        return judges.all_of([
            judges.failed_part(got["analytic"], against)
            or judges.failed_part(got["numeric"], f"{against}: the numeric gradient")
            or judges.all_of([judges.gradient(got["analytic"][k], got["numeric"][k],
                                              f"{k} vs a numeric gradient of your rnn_forward", tol=1e-6) for k in names]),
            judges.failed_part(got["many_to_one"], "rnn_backward (ReLU, loss on the last step only)")
            or judges.all_of([judges.gradient(got["many_to_one"][k], want["many_to_one"][k],
                                              f"{k} (ReLU, loss on the last step only)",
                                              hint="with a loss only at t = T, δ_{T,k} still flows back to every step k")
                              for k in names]),
            judges.failed_part(got["linear"], "rnn_backward (linear, loss on the last step only)")
            or judges.all_of([judges.gradient(got["linear"][k], want["linear"][k], f"{k} (linear, loss on the last step only)",
                                              hint="f′ = 1: δ_k = Uᵀ δ_{k+1} exactly") for k in names]),
        ])


class GradientBounds(Check):
    """tanh RNN: ‖∂L_t/∂h_k‖ ≤ (γ·σ_max(U))^{t−k}‖∂L_t/∂h_t‖; non-normal U; clipping edge cases"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 5
    SIGMA = 0.9
    by_hand = (STATE_GRADIENT_RULE, CLIP_RULE)

    def inputs(self, rng):
        n, t = 6, 20
        u = rng.normal(size=(n, n))
        U = u * (self.SIGMA / np.linalg.norm(u, 2))     # largest singular value σ_max = 0.9
        x, h0, W, b = rng.normal(size=(2, t, 3)), rng.normal(size=(2, n)), rng.normal(size=(n, 3)), rng.normal(size=n)
        _, z = elman_states(x, h0, U, W, b, "tanh")
        nonnormal = np.triu(rng.normal(size=(4, 4)), 1) * 3 + np.diag([0.2, -0.5, 0.3, 0.1])
        # ReLU: net inputs of both signs, so f′ ∈ {0, 1} shows where it is taken.
        z_relu = rng.normal(size=(2, 8, n))
        return {"U": U, "z": z, "dl": rng.normal(size=(2, n)), "nonnormal": nonnormal, "g": rng.normal(size=(2, 3)),
                "z_relu": z_relu, "U_relu": 1.5 * rng.normal(size=(n, n))}

    def observe(self, sub, U, z, dl, nonnormal, g, z_relu, U_relu):
        def zero():
            clip_zero, norm_zero = sub.clip_by_global_norm([np.zeros(3), np.zeros((2, 2))], 1.0)
            return {"clip_zero": [np.asarray(a) for a in clip_zero], "norm_zero": float(norm_zero)}

        def edge():
            clip_edge, _ = sub.clip_by_global_norm([g], float(np.sqrt(np.sum(g ** 2))))
            return np.asarray(clip_edge[0])

        # Each call a part of its own (the all-zero clipping one part: its gradients and its norm).
        return {**parts.each(g=lambda: sub.state_gradients(dl, z, U, activation="tanh"),
                             g_relu=lambda: sub.state_gradients(dl, z_relu, U_relu, activation="relu"),
                             scaled=lambda: sub.scale_to_spectral_radius(nonnormal, 1.2)),
                **parts.together(("clip_zero", "norm_zero"), zero), "clip_edge": parts.attempt(edge)}

    def judge(self, got, want, secret):
        tanh = judges.gradient(got["g"], want["g"], "∂L_20/∂h_k with tanh",
                               hint="f′ is evaluated at z_{k+1}, the step *after* k")
        if judges.failed_part(got["g"]) is None:
            g = judges.as_array(got["g"], "state_gradients", shape=np.shape(want["g"]))
            norms = np.linalg.norm(g, axis=-1)
            t = norms.shape[1]
            bound = self.SIGMA ** (t - 1 - np.arange(t))[None, :] * norms[:, -1:]
            # All-zero gradients meet the bound too: it counts once the values are right.
            tanh = judges.gated([tanh], [judges.property_holds(
                bool(np.all(norms <= bound * (1 + 1e-9) + 1e-300)),
                "‖∂L_t/∂h_k‖ ≤ (γ σ_max)^{t−k} ‖∂L_t/∂h_t‖ with γ = 1 (tanh′ ≤ 1), σ_max = 0.9")])
        clip_zero = got["clip_zero"]
        # The edge cases (zero gradients, a norm exactly at max_norm) hold for a clip that does nothing
        # and a norm that is always 0: they count once the substantive values are right.
        return judges.gated([
            tanh,
            judges.gradient(got["g_relu"], want["g_relu"], "∂L_8/∂h_k with ReLU",
                            hint="ReLU′ is 1 where z_{k+1} > 0 and 0 elsewhere"),
            judges.close(got["scaled"], want["scaled"], "scale_to_spectral_radius on a non-normal U",
                         tol=F64_TOL, hint="the spectral radius is max |eigenvalue|, not the largest singular value"),
        ], [
            judges.close(got["norm_zero"], 0.0, "global norm of all-zero gradients", tol=F64_TOL),
            judges.close(clip_zero if parts.failed(clip_zero) else clip_zero[0], want["clip_zero"][0],
                         "clipping all-zero gradients (no NaN)", tol=F64_TOL),
            judges.close(got["clip_edge"], want["clip_edge"], "clipping at exactly max_norm leaves it unchanged",
                         tol=F64_TOL),
        ], weights=[2, 1, 1, 1, 1, 1])  # ∂L_20/∂h_k with tanh: its values and its bound


class LstmVariants(Check):
    """LSTMCell variants from the slides: no forget gate, coupled gates, peepholes"""

    visibility = HIDDEN
    points = 1
    budget = 15
    VARIANTS = ("no_forget", "coupled", "peephole")
    by_hand = (LSTM_RULE,)

    def inputs(self, rng):
        d, n = 2, 3
        return {"x": rng.normal(size=(2, 4, d)), "kernel": 0.6 * rng.normal(size=(d, 4 * n)),
                "recurrent_kernel": 0.6 * rng.normal(size=(n, 4 * n)), "bias": 0.6 * rng.normal(size=4 * n),
                "peephole_kernel": 0.6 * rng.normal(size=(n, 3 * n))}

    def observe(self, sub, x, kernel, recurrent_kernel, bias, peephole_kernel):
        def outputs(variant, training=None):
            weights = {"kernel": kernel, "recurrent_kernel": recurrent_kernel, "bias": bias}
            if variant == "peephole":
                weights["peephole_kernel"] = peephole_kernel
            options = {} if variant is None else {"variant": variant}
            h, (_, c) = run_cell(sub.LSTMCell(kernel.shape[1] // 4, dtype="float64", **options), x, weights,
                                 training=training)
            return {"h": h, "c": c}

        # Each variant a part of its own.
        out = {}
        for variant in self.VARIANTS:
            out[variant] = parts.attempt(lambda: outputs(variant))
        # training=True: the cell has no dropout, so training changes nothing.
        out["standard, training=True"] = parts.attempt(lambda: outputs(None, training=True))
        return out

    def judge(self, got, want, secret):
        hints = {"no_forget": "c_t = c_{t−1} + i_t ⊙ c̃_t", "coupled": "c_t = (1 − i_t) ⊙ c_{t−1} + i_t ⊙ c̃_t",
                 "peephole": "i and f see c_{t−1}; o sees the new c_t",
                 "standard, training=True": "the cell has no dropout: training=True computes the same"}
        return judges.all_of([
            judges.failed_part(got[v], f"LSTMCell({v})")
            or judges.all_of([judges.close(got[v][k], want[v][k], f"LSTMCell({v}) {k}", tol=F64_TOL, hint=hints[v])
                              for k in ("h", "c")])
            for v in hints])


def _classifier_path(model, ids, readout):
    """The grader's own run of a classifier's layers on ``ids``: its Embedding,
    its GRU with the mask ``ids != 0``, the readout in NumPy, its Dense. None
    when the model does not have exactly one of each."""
    found = {kind: [l for l in model.layers if type(l).__name__ == kind] for kind in ("Embedding", "GRU", "Dense")}
    if any(len(v) != 1 for v in found.values()):
        return None
    mask = ids != 0
    states = np.asarray(found["GRU"][0](found["Embedding"][0](ids), mask=mask), dtype=np.float64)
    if readout == "last":
        last = mask.shape[1] - 1 - np.argmax(mask[:, ::-1], axis=1)
        pooled = states[np.arange(len(ids)), last]
    else:
        pooled = (states * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
    return np.asarray(found["Dense"][0](pooled.astype(np.float32)))


class SequenceClassifier(Check):
    """masked readouts with padding before the sequence; build_sequence_classifier is Embedding(mask_zero) → GRU → readout → Dense and ignores padding"""

    visibility = HIDDEN
    points = 1
    kind = "property"
    budget = 20
    LENGTHS = (7, 3, 1)

    def inputs(self, rng):
        t = max(self.LENGTHS)
        mask = np.arange(t)[None, :] >= t - np.array(self.LENGTHS)[:, None]       # padding first ("pre")
        ids = rng.integers(1, 20, size=(3, 5))
        # readout "last" with the default sizes, "mean" with others (the sizes must reach the layers).
        sizes = {"last": {}, "mean": {"embed_dim": 12, "units": 10}}
        return {"h": rng.normal(size=(3, t, 4)), "mask": mask, "ids": ids,
                "post": np.pad(ids, ((0, 0), (0, 3))), "pre": np.pad(ids, ((0, 0), (4, 0))), "sizes": sizes}

    def observe(self, sub, h, mask, ids, post, pre, sizes):
        import keras

        def classifier(readout):
            keras.utils.set_random_seed(1234)       # the same initial weights for both readouts
            model = sub.build_sequence_classifier(20, 3, readout=readout, **sizes[readout])
            return {f"model_{readout}": [model(v) for v in (ids, post, pre)], f"layers_{readout}": describe_layers(model),
                    f"path_{readout}": [_classifier_path(model, v, readout) for v in (ids, post, pre)]}

        # The two readouts, and the classifier with each readout: each a part of its own.
        out = parts.each(last=lambda: sub.masked_last(h, mask), mean=lambda: sub.masked_mean(h, mask))
        for readout in ("last", "mean"):
            out.update(parts.together((f"model_{readout}", f"layers_{readout}", f"path_{readout}"),
                                      lambda: classifier(readout)))
        return out

    def judge(self, got, want, secret):
        verdicts = [
            judges.close(got["last"], want["last"], f"masked_last (lengths {self.LENGTHS}, padding before)", tol=1e-6,
                         hint="with padding first, the last real step is the last position, not length − 1"),
            judges.close(got["mean"], want["mean"], f"masked_mean (lengths {self.LENGTHS}, padding before)", tol=1e-6),
        ]
        structure = []
        for readout, (embed_dim, units) in (("last", (16, 16)), ("mean", (12, 10))):
            if (failure := judges.failed_part(got[f"model_{readout}"],
                                              f"build_sequence_classifier(20, 3, readout={readout!r})")) is not None:
                # It counts as much as a classifier that runs: its structure, its 3 logits, its 2 invariances.
                structure += [failure] + [judges.Verdict(0.0, "")] * 3
                verdicts += [judges.Verdict(0.0, "")] * 2
                continue
            layers = got[f"layers_{readout}"]
            kinds = [l.get("kind") for l in layers]
            ok = (kinds == ["Embedding", "GRU", "Dense"] and layers[0].get("input_dim") == 20
                  and layers[0].get("output_dim") == embed_dim and layers[0].get("mask_zero") is True
                  and layers[1].get("units") == units and layers[1].get("return_sequences") is True
                  and layers[2].get("units") == 3 and is_linear(layers[2]))
            structure.append(judges.property_holds(
                ok, f"build_sequence_classifier(20, 3, readout={readout!r}, embed_dim={embed_dim}, units={units}) is "
                    f"Embedding(20, {embed_dim}, mask_zero=True) → GRU({units}, return_sequences=True) → Dense(3)",
                f"its layers are {layer_words(layers)}"))
            plain = judges.as_array(got[f"model_{readout}"][0], f"classifier ({readout}) logits", shape=(3, 3))
            for name, i in (("no padding", 0), ("padding after", 1), ("padding before", 2)):
                path = got[f"path_{readout}"][i]
                if path is None:
                    structure.append(judges.Verdict(0.0, f"readout={readout!r}: the model needs one Embedding, one GRU "
                                                         "and one Dense for the grader to run them"))
                    break
                value = judges.as_array(got[f"model_{readout}"][i], f"classifier ({readout}) logits", shape=(3, 3))
                structure.append(judges.close(
                    value, path, f"readout={readout!r}, {name}: logits = Dense({readout} real GRU state)", tol=1e-4,
                    hint="the GRU must skip the padding (mask ids != 0) and the readout take the real steps"))
                if i:
                    diff = float(np.max(np.abs(value - plain)))
                    verdicts.append(judges.property_holds(
                        diff < 1e-5, f"readout={readout!r}: logits unchanged by {name}",
                        f"they changed by up to {diff:.2g}: mask the padding (Embedding(mask_zero=True) and the readout)"))
        verdicts.append(judges.property_of(
            [got["model_last"], got["model_mean"]],
            lambda a, b: float(np.max(np.abs(judges.as_array(a[0], "logits") - judges.as_array(b[0], "logits")))) > 1e-6,
            "readout='last' and readout='mean' give different models"))
        # Padding invariance alone is also what a model that ignores its input has.
        return judges.gated(verdicts[:2] + structure, verdicts[2:])


class AddingSimpleRnnShort(Check):
    """build_adding_model('simple') is a SimpleRNN → linear Dense(1) that learns the adding problem at short range (T = 10)

    The slides' point (长程依赖问题) is that a simple RNN's gradient ∂L_t/∂h_k
    vanishes over long distances (gradient_norms, gradient_bounds), not that
    it cannot learn: with the dependency only 10 steps long, the same
    SimpleRNN, trained by the grader, solves the task. The threshold and its
    power are in ``lab.toml``.
    """

    visibility = HIDDEN
    points = 0.5
    kind = "training"
    budget = 20
    uses_reference = False

    def inputs(self, rng):
        made = adding_inputs(rng, self.shared["adding"], length=self.config["length"])
        made.public["recipe"]["epochs"] = self.config["epochs"]
        return made

    def observe(self, sub, x_train, y_train, x_val, recipe):
        return train_adding(sub, "simple", x_train, y_train, x_val, recipe)

    def judge(self, got, want, secret):
        structure = adding_structure(got, "SimpleRNN", int(self.shared["adding"]["units"]))
        if not structure.passed:
            return judges.Verdict(0.0, structure.message)
        try:
            mse = adding_mse(got, secret["y_val"])
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        verdict = adding_verdict(mse, got["loss"], self.config["threshold"], self.shared["adding"]["baseline"])
        verdict.message = f"T = {self.config['length']}: {verdict.message}"
        return verdict


class QuatrainSampling(Check):
    """write_quatrain: a 五言绝句 (4 × 5 characters, "，" and "。") from a first character; greedy, seeded, top-k

    Statistical part: "different seeds write different poems" (seeds 0, 1, 2
    with top_k=3). False alarm on the reference: the three poems coincide
    with probability Σ_poem P(poem)³; over 2,000 random tables made like
    ``toy_bigram``'s it never happened (measured in
    ``tests/labs/test_rnn_reference.py::test_quatrain_seeds_differ_power``,
    bound < 1e-3). Miss rate on a sampler that ignores the rng (always the
    same poem): 0, the poems are equal.
    """

    visibility = HIDDEN
    points = 1
    kind = "property"
    budget = 10
    TOP_K = 3
    by_hand = (SAMPLING_RULE,)

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
        trivial = [judges.property_holds(got["greedy"][0] == got["greedy"][1], "greedy decoding ignores the seed"),
                   judges.property_holds(got["again"] == got["sampled"][0], "the same seed writes the same poem")]
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
        # A constant answer is always "the same": those count once the poems are right.
        return judges.gated(verdicts, trivial)

