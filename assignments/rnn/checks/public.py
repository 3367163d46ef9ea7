"""Public checks of the RNN lab: students run these with ``pytest`` or
``grader check rnn``. Each ``observe`` calls your code; each ``judge``
compares with the reference's result on the same inputs (or, for the
trained checks, with held-out labels)."""

import numpy as np

from grader.checks import Check, Inputs, judges, parts

from .common import (BPTT_RULE, CLIP_RULE, FORWARD_RULE, GRU_RULE, LSTM_RULE, RECURRENT_KINDS, SAMPLING_RULE,
                     STATE_GRADIENT_RULE, adding_inputs, adding_mse, adding_structure,
                     adding_verdict, describe_layers, is_linear, layer_words, run_cell, train_adding)

F64_TOL = 1e-7


def _elman_inputs(rng, b, t, d, h, scale=0.5):
    return {"x": rng.normal(size=(b, t, d)), "h0": rng.normal(size=(b, h)), "U": scale * rng.normal(size=(h, h)),
            "W": rng.normal(size=(h, d)), "b": rng.normal(size=h)}


class RnnForward(Check):
    """rnn_forward: states h_t and net inputs z_t of the Elman RNN (tanh), in NumPy"""

    points = 1
    budget = 5
    by_hand = (FORWARD_RULE,)

    def inputs(self, rng):
        return _elman_inputs(rng, 2, 5, 3, 4)

    def observe(self, sub, x, h0, U, W, b):
        h, z = sub.rnn_forward(x, h0, U, W, b, activation="tanh")
        return {"h": h, "z": z}

    def judge(self, got, want, secret):
        return judges.all_of([
            judges.close(got["z"], want["z"], "net inputs z", tol=1e-6,
                         hint="z_t = U h_{t−1} + W x_t + b; with a batch in rows: h_prev @ U.T + x_t @ W.T + b"),
            judges.close(got["h"], want["h"], "states h", tol=1e-6, hint="h_t = tanh(z_t), fed back into step t + 1"),
        ])


class SimpleRnnKeras(Check):
    """simple_rnn_weights: keras.layers.SimpleRNN with your weights equals the slides' Elman RNN"""

    points = 0.5
    kind = "property"
    budget = 10

    def inputs(self, rng):
        return _elman_inputs(rng, 2, 5, 4, 4)

    def observe(self, sub, x, h0, U, W, b):
        import keras

        layer = keras.layers.SimpleRNN(U.shape[0], return_sequences=True, dtype="float64")
        layer.build((None,) + x.shape[1:])
        layer.set_weights([np.asarray(w, dtype=np.float64) for w in sub.simple_rnn_weights(U, W, b)])
        return {"y": layer(x, initial_state=h0)}

    def judge(self, got, want, secret):
        return judges.close(got["y"], want["y"], "SimpleRNN output with your weights vs h_t = tanh(U h_{t−1} + W x_t + b)",
                            tol=F64_TOL, hint="Keras multiplies rows by kernel and recurrent_kernel: which matrix is which, "
                                              "and are they transposed?")


class RnnBackward(Check):
    """rnn_backward: dU, dW, db, dh0, dx by BPTT (float64, against autodiff), in NumPy without autodiff"""

    points = 1
    kind = "gradient"
    budget = 5
    by_hand = (BPTT_RULE,)

    def inputs(self, rng):
        data = _elman_inputs(rng, 2, 6, 3, 4)
        # Cached net inputs z and states h = tanh(z): BPTT only reads the cache,
        # so they need not come from a forward pass (which would give part 1 away).
        data["z"] = rng.normal(size=(2, 6, 4))
        data["h"] = np.tanh(data["z"])
        data["dh"] = rng.normal(size=data["h"].shape)
        return data

    def observe(self, sub, x, h0, U, W, b, h, z, dh):
        dU, dW, db, dh0, dx = sub.rnn_backward(dh, x, h0, U, W, h, z, activation="tanh")
        return {"dU": dU, "dW": dW, "db": db, "dh0": dh0, "dx": dx}

    def judge(self, got, want, secret):
        hints = {"dU": "∂L/∂U = Σ_k δ_k h_{k−1}ᵀ: the state *before* step k", "dW": "∂L/∂W = Σ_k δ_k x_kᵀ",
                 "db": "∂L/∂b = Σ_k δ_k, summed over the batch too",
                 "dh0": "δ_k must carry Uᵀ δ_{k+1} back from later steps; dh0 = Uᵀ δ_1", "dx": "∂L/∂x_k = Wᵀ δ_k"}
        return judges.all_of([judges.gradient(got[k], want[k], k, hint=hints[k]) for k in hints])


class GradientNorms(Check):
    """state_gradients and scale_to_spectral_radius: ‖∂L_t/∂h_k‖ vanishes for ρ(U) = 0.5 and explodes for ρ(U) = 1.5"""

    points = 1
    kind = "gradient"
    budget = 5
    T = 30
    by_hand = (STATE_GRADIENT_RULE,)

    def inputs(self, rng):
        return {"U0": rng.normal(size=(8, 8)), "dl": rng.normal(size=(1, 8))}

    def observe(self, sub, U0, dl):
        out = {}
        for name, rho in (("small", 0.5), ("large", 1.5)):
            U = parts.attempt(lambda: sub.scale_to_spectral_radius(U0, rho))
            # f′ = 1 (linear activation): the product of Jacobians is a power of Uᵀ. The gradients need
            # your U, so they fail with it.
            g = U if parts.failed(U) else parts.attempt(
                lambda: sub.state_gradients(dl, np.zeros((1, self.T, 8)), np.asarray(U), activation="linear"))
            out[name] = {"U": U, "g": g}
        return out

    def judge(self, got, want, secret):
        verdicts = []
        for name, rho, grows in (("small", 0.5, False), ("large", 1.5, True)):
            verdicts.append(judges.close(got[name]["U"], want[name]["U"], f"scale_to_spectral_radius(U, {rho})",
                                         tol=F64_TOL, hint="the spectral radius is the largest |eigenvalue|"))
            if (failure := judges.failed_part(got[name]["g"], f"state_gradients (ρ = {rho})")) is not None:
                verdicts.append(failure)
                continue
            g = judges.as_array(got[name]["g"], f"state_gradients (ρ = {rho})", shape=(1, self.T, 8))
            norms = np.linalg.norm(g[0], axis=-1)
            ratio = norms[0] / max(norms[-1], 1e-300)
            ok = ratio > 1e3 if grows else ratio < 1e-3
            verdicts.append(judges.all_of([
                judges.gradient(g, want[name]["g"], f"∂L_30/∂h_k for k = 1..30 (ρ = {rho}, f′ = 1)",
                                hint="∂L_t/∂h_k = Uᵀ diag(f′(z_{k+1})) ∂L_t/∂h_{k+1}; entry k − 1 is h_k"),
                judges.property_holds(
                    ok, f"ρ = {rho}: ‖∂L_30/∂h_1‖ / ‖∂L_30/∂h_30‖ = {ratio:.1e} ({'explodes' if grows else 'vanishes'})"),
            ]))
        return judges.all_of(verdicts, weights=[1, 2, 1, 2])  # the gradients count twice: their values and growth


class ClipByGlobalNorm(Check):
    """clip_by_global_norm: one norm over all arrays, as tf.clip_by_global_norm (in NumPy)"""

    points = 0.5
    budget = 5
    by_hand = (CLIP_RULE,)

    def inputs(self, rng):
        return {"a": 3 * rng.normal(size=(3, 4)), "b": 3 * rng.normal(size=4), "c": 3 * rng.normal(size=(2, 2, 2))}

    def observe(self, sub, a, b, c):
        def clip(max_norm):
            clipped, norm = sub.clip_by_global_norm([a, b, c], max_norm)
            return {"grads": [np.asarray(g) for g in clipped], "norm": float(norm)}

        out = {}
        for name, max_norm in (("clipped", 5.0), ("unchanged", 100.0)):  # each max_norm a part of its own
            out[name] = parts.attempt(lambda: clip(max_norm))
        return out

    def judge(self, got, want, secret):
        verdicts = []
        for name, max_norm in (("clipped", 5.0), ("unchanged", 100.0)):
            if (failure := judges.failed_part(got[name], f"clip_by_global_norm(grads, max_norm={max_norm:g})")):
                verdicts.append(failure)
                continue
            case = [judges.close(got[name]["norm"], want[name]["norm"], f"global norm (max_norm={max_norm:g})",
                                 tol=F64_TOL, hint="sqrt of the sum of squares of *all* entries of all arrays")]
            for i, (g, w) in enumerate(zip(got[name]["grads"], want[name]["grads"])):
                case.append(judges.close(g, w, f"clipped array {i} (max_norm={max_norm:g})", tol=F64_TOL,
                                         hint="scale every array by max_norm / max(global_norm, max_norm)"))
            verdicts.append(judges.all_of(case))
        return judges.all_of(verdicts)


class LstmCell(Check):
    """LSTMCell (slides' equations, gates [c̃, o, i, f]) and lstm_keras_weights: equal to keras.layers.LSTM"""

    points = 1
    budget = 15
    by_hand = (LSTM_RULE,)

    def inputs(self, rng):
        d, n = 3, 4
        return {"x": rng.normal(size=(2, 5, d)), "kernel": 0.5 * rng.normal(size=(d, 4 * n)),
                "recurrent_kernel": 0.5 * rng.normal(size=(n, 4 * n)), "bias": 0.5 * rng.normal(size=4 * n)}

    def observe(self, sub, x, kernel, recurrent_kernel, bias):
        import keras

        n = recurrent_kernel.shape[0]

        def cell():
            h, (_, c) = run_cell(sub.LSTMCell(n, dtype="float64"), x,
                                 {"kernel": kernel, "recurrent_kernel": recurrent_kernel, "bias": bias})
            return {"h": h, "c": c}

        def library():
            lstm = keras.layers.LSTM(n, return_sequences=True, dtype="float64")
            lstm.build((None,) + x.shape[1:])
            lstm.set_weights([np.asarray(w, dtype=np.float64)
                              for w in sub.lstm_keras_weights(kernel, recurrent_kernel, bias)])
            return lstm(x)

        # LSTMCell and lstm_keras_weights: each a part of its own.
        return {**parts.together(("h", "c"), cell), "keras": parts.attempt(library)}

    def judge(self, got, want, secret):
        return judges.all_of([
            judges.close(got["h"], want["h"], "LSTMCell outputs h_t", tol=F64_TOL,
                         hint="blocks of a = x W + h U + b in the slides' order [c̃, o, i, f]; h_t = o_t ⊙ tanh(c_t)"),
            judges.close(got["c"], want["c"], "LSTMCell final cell state c_T", tol=F64_TOL,
                         hint="c_t = f_t ⊙ c_{t−1} + i_t ⊙ c̃_t"),
            judges.close(got["keras"], want["h"], "keras.layers.LSTM with lstm_keras_weights vs the slides' LSTM",
                         tol=F64_TOL, hint="Keras orders the gate blocks [i, f, c̃, o]"),
        ])


class GruCell(Check):
    """GRUCell: the slides' GRU, i.e. keras.layers.GRU(reset_after=False)"""

    points = 0.5
    budget = 10
    by_hand = (GRU_RULE,)

    def inputs(self, rng):
        d, n = 3, 4
        return {"x": rng.normal(size=(2, 5, d)), "kernel": 0.5 * rng.normal(size=(d, 3 * n)),
                "recurrent_kernel": 0.5 * rng.normal(size=(n, 3 * n)), "bias": 0.5 * rng.normal(size=3 * n)}

    def observe(self, sub, x, kernel, recurrent_kernel, bias):
        weights = {"kernel": kernel, "recurrent_kernel": recurrent_kernel, "bias": bias}
        return parts.each(
            h=lambda: run_cell(sub.GRUCell(recurrent_kernel.shape[0], dtype="float64"), x, weights)[0],
            # training=True: the cell has no dropout, so training changes nothing.
            h_training=lambda: run_cell(sub.GRUCell(recurrent_kernel.shape[0], dtype="float64"), x, weights,
                                        training=True)[0],
        )

    def judge(self, got, want, secret):
        hint = ("h̃_t = tanh(x W_h + (r_t ⊙ h_{t−1}) U_h + b_h): reset before multiplying; "
                "h_t = z_t ⊙ h_{t−1} + (1 − z_t) ⊙ h̃_t")
        return judges.all_of([
            judges.close(got["h"], want["h"], "GRUCell outputs h_t", tol=F64_TOL, hint=hint),
            judges.close(got["h_training"], want["h"], "GRUCell outputs h_t with training=True", tol=F64_TOL,
                         hint="the cell has no dropout: training=True computes the same"),
        ])


class MaskedReadout(Check):
    """masked_last and masked_mean: readouts over the real steps of right-padded sequences"""

    points = 0.5
    budget = 5
    LENGTHS = (6, 4, 1)

    def inputs(self, rng):
        t = max(self.LENGTHS)
        mask = np.arange(t)[None, :] < np.array(self.LENGTHS)[:, None]
        return {"h": rng.normal(size=(len(self.LENGTHS), t, 4)), "mask": mask}

    def observe(self, sub, h, mask):
        return parts.each(last=lambda: sub.masked_last(h, mask), mean=lambda: sub.masked_mean(h, mask))

    def judge(self, got, want, secret):
        return judges.all_of([
            judges.close(got["last"], want["last"], f"masked_last (lengths {self.LENGTHS}, padding after)", tol=1e-6,
                         hint="the last *real* step, not the last array position"),
            judges.close(got["mean"], want["mean"], f"masked_mean (lengths {self.LENGTHS}, padding after)", tol=1e-6,
                         hint="divide by the number of real steps, not by T"),
        ])


class AddingProblem(Check):
    """build_adding_model('gru') trained on the adding problem (T = 50): a GRU → linear Dense(1), validation MSE"""

    points = 1
    kind = "training"
    budget = 40
    uses_reference = False
    #: The units of the LSTM model whose layers are checked (built, not trained).
    LSTM_UNITS = 8

    def inputs(self, rng):
        return adding_inputs(rng, self.shared["adding"])

    def observe(self, sub, x_train, y_train, x_val, recipe):
        out = train_adding(sub, "gru", x_train, y_train, x_val, recipe)
        out["lstm"] = describe_layers(sub.build_adding_model("lstm", units=self.LSTM_UNITS))
        return out

    def judge(self, got, want, secret):
        # The architecture decides first: a model without the GRU (an MLP over
        # the sequence, a pooling layer) may fit the data, but it is not the part.
        structure = [adding_structure(got, "GRU", int(self.shared["adding"]["units"])),
                     adding_structure({"layers": got.get("lstm")}, "LSTM", self.LSTM_UNITS)]
        if not all(v.passed for v in structure):
            return judges.Verdict(0.0, judges.all_of(structure).message)
        try:
            mse = adding_mse(got, secret["y_val"])
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        return adding_verdict(mse, got["loss"], self.config["threshold"], self.shared["adding"]["baseline"])


def _char_lm_structure(layers, vocab_size, embed_dim, units):
    """Embedding(V, embed_dim) → one forward recurrent layer (units, return_sequences=True) → linear Dense(V);
    dropout layers aside. Returns what is wrong ("" when nothing)."""
    kept = [l for l in layers if isinstance(l, dict) and "Dropout" not in str(l.get("kind"))]
    kinds = [l.get("kind") for l in kept]
    if len(kept) != 3 or kinds[0] != "Embedding" or kinds[1] not in RECURRENT_KINDS or kinds[2] != "Dense":
        return (f"expected Embedding → a recurrent layer (GRU) → Dense, got {layer_words(kept)}"
                + (" (Bidirectional reads the future: the model must be unidirectional)" if "Bidirectional" in kinds
                   else ""))
    emb, rnn, dense = kept
    if emb.get("input_dim") != vocab_size or emb.get("output_dim") != embed_dim:
        return f"the Embedding should be Embedding({vocab_size}, {embed_dim}) (config's embed_dim), got {layer_words([emb])}"
    if rnn.get("units") != units or not rnn.get("return_sequences", False) or rnn.get("go_backwards", False):
        return (f"the recurrent layer should have the config's {units} units, return_sequences=True and run forward, "
                f"got {layer_words([rnn])}")
    if dense.get("units") != vocab_size or not is_linear(dense):
        return f"the output should be Dense({vocab_size}) with no activation (logits), got {layer_words([dense])}"
    return ""


class CharLm(Check):
    """build_char_lm(LM_CONFIG) trained on Tang quatrains: held-out perplexity, causality, and a poem"""

    points = 1
    kind = "training"
    budget = 60
    uses_reference = False

    def inputs(self, rng):
        from grader.data import encode_poems, poem_corpus, poem_vocabulary

        cfg = self.config
        corpus, train, test = poem_corpus()
        vocab = poem_vocabulary(train, cfg["vocab_size"])
        ids = encode_poems(train[: cfg["train_size"]], vocab)
        held = encode_poems(test[: cfg["test_size"]], vocab)
        # The same poems with their second half replaced: a causal model's
        # predictions for the first half must not change.
        probe = held[: cfg["probe_size"], :-1]
        changed = probe.copy()
        changed[:, 12:] = rng.integers(5, len(vocab), size=changed[:, 12:].shape)
        # The same poems with characters 1-9 replaced, the 10th and 11th kept: a
        # model of the context (an RNN) predicts the 12th differently; a model
        # of the previous character only (no recurrence) cannot.
        context = probe.copy()
        context[:, 1:10] = rng.integers(5, len(vocab), size=context[:, 1:10].shape)
        counts = np.bincount(ids[:, 1:].ravel(), minlength=len(vocab)) + 1.0
        unigram = float(np.exp(-np.mean(np.log(counts / counts.sum())[held[:, 1:]])))
        first = "春" if "春" in vocab else next(t for t in vocab[3:] if t not in "，。")
        return Inputs(public={"corpus": corpus, "vocab": vocab, "train": ids, "test_inputs": held[:, :-1],
                              "probe": probe, "probe_changed": changed, "probe_context": context, "first_char": first,
                              "max_epochs": cfg["max_epochs"], "batch_size": cfg["batch_size"]},
                      secret={"targets": held[:, 1:], "corpus": corpus, "unigram": unigram, "vocab_size": len(vocab)})

    def observe(self, sub, corpus, vocab, train, test_inputs, probe, probe_changed, probe_context, first_char,
                max_epochs, batch_size):
        import keras

        cfg = dict(sub.LM_CONFIG)
        epochs = max(1, min(int(cfg.get("epochs", 1)), int(max_epochs)))
        # The config reaches the layers: LM_CONFIG by default, a partial config's units otherwise.
        configs = {"default": describe_layers(sub.build_char_lm(50)),
                   "units=12": describe_layers(sub.build_char_lm(50, {"units": 12}))}
        model = sub.build_char_lm(len(vocab), cfg)
        layers = describe_layers(model)
        model.compile(optimizer=keras.optimizers.Adam(cfg["learning_rate"]),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(train[:, :-1], train[:, 1:], batch_size=int(batch_size), epochs=epochs,
                            verbose=0, shuffle=True)
        logits = np.asarray(model.predict(test_inputs, batch_size=len(test_inputs), verbose=0), dtype=np.float64)
        log_probs = logits - logits.max(axis=-1, keepdims=True)
        log_probs -= np.log(np.exp(log_probs).sum(axis=-1, keepdims=True))
        half = probe.shape[1] // 2
        first_half = [np.asarray(model(p, training=False))[:, :half] for p in (probe, probe_changed)]
        context = [np.asarray(model(p, training=False))[:, 11] for p in (probe, probe_context)]
        try:
            def next_logits(ids):
                return np.asarray(model(np.array([ids], dtype=np.int32), training=False))[0, -1]
            poem = str(sub.write_quatrain(next_logits, vocab, first_char, np.random.default_rng(0),
                                          temperature=0.8, top_k=10))
        except Exception as exc:  # noqa: BLE001 - the poem is shown, not graded here
            poem = f"(write_quatrain failed: {type(exc).__name__})"
        return {"log_probs": log_probs.astype(np.float32), "first_half": first_half[0], "first_half_changed": first_half[1],
                "context": context[0], "context_changed": context[1], "layers": layers, "configs": configs,
                "config": {k: cfg.get(k) for k in ("embed_dim", "units")}, "loss": history.history["loss"],
                "poem": poem[:60]}

    def judge(self, got, want, secret):
        cfg = self.config
        targets, corpus = secret["targets"], secret["corpus"]
        try:
            log_probs = judges.as_array(got["log_probs"], "log-probabilities",
                                        shape=targets.shape + (np.shape(got["log_probs"])[-1],))
            a = judges.as_array(got["first_half"], "first-half logits")
            b = judges.as_array(got["first_half_changed"], "first-half logits", shape=a.shape)
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        cfg_used = got.get("config") if isinstance(got.get("config"), dict) else {}
        embed_dim, units = cfg_used.get("embed_dim"), cfg_used.get("units")
        wrong = _char_lm_structure(got.get("layers"), secret["vocab_size"], embed_dim, units)
        wrong = wrong or _char_lm_structure(got["configs"].get("default"), 50, embed_dim, units)
        wrong = wrong or _char_lm_structure(got["configs"].get("units=12"), 50, embed_dim, 12)
        if wrong:
            return judges.Verdict(0.0, f"build_char_lm: {wrong} (and config=None means LM_CONFIG; a config's keys "
                                       "override LM_CONFIG's)")
        leak = float(np.max(np.abs(a - b)))
        if leak > 1e-4:
            return judges.Verdict(0.0, f"not causal: changing characters 13–24 changed the predictions for "
                                       f"characters 1–12 (by up to {leak:.2g}); the model may only look back")
        try:
            c = judges.as_array(got["context"], "12th-character logits")
            d = judges.as_array(got["context_changed"], "12th-character logits", shape=c.shape)
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        if float(np.max(np.abs(c - d))) <= 1e-3:
            return judges.Verdict(0.0, "the prediction of the 12th character ignores characters 2–10: the trained "
                                       "model reads the previous character only (the RNN's state must carry the context)")
        nll = -np.mean(np.take_along_axis(log_probs, targets[..., None], axis=-1))
        threshold = cfg["threshold"][corpus]
        verdict = judges.at_most(float(np.exp(nll)), threshold, f"held-out perplexity ({corpus} corpus)")
        verdict.message += (f" (a unigram model: {secret['unigram']:.0f}; training loss per epoch: "
                            f"{', '.join(f'{l:.2f}' for l in got['loss'])}). Your model wrote: {got['poem']}")
        if not verdict.passed:
            verdict.message += (". The grader applies the log-softmax itself: build_char_lm must output logits "
                                "(no softmax layer at the end)")
        return verdict


class Sampling(Check):
    """sampling_distribution and sample_next: temperature, top-k, greedy, seeded draws (NumPy)

    Statistical part: 2,000 draws of ``sample_next(temperature=0.8, top_k=5)``
    against ``sampling_distribution(·, 0.8, 5)`` by a χ² goodness-of-fit test
    over the 5 kept tokens, rejecting at χ² > 23.51 (``chi2.isf(1e-4, 4)``).
    False alarm on the reference: 1e-4 (a seed whose draws are unlucky; the
    check's seed is fixed, and the reference passes with it). Miss rate on a
    ``sample_next`` that ignores the temperature (draws from T = 1) on these
    logits: 1e-7 (non-central χ², λ ≈ 96); on one that squares the
    probabilities (T = 0.4): below 1e-30. Measured in
    ``tests/labs/test_rnn_reference.py::test_sampling_check_power``.
    """

    points = 0.5
    kind = "property"
    budget = 10
    by_hand = (SAMPLING_RULE,)
    DRAWS = 2000
    #: (temperature, top_k): both sides of 1, top_k None, greedy, k < V and k ≥ V (V = 12).
    CASES = ((1.0, None), (0.5, 4), (2.0, 1), (0.8, 5), (1.5, 20))
    #: (shift, temperature, top_k): the same logits moved far up and far down. np.exp overflows
    #: (e^1000 = inf) or underflows to 0 everywhere unless the largest logit is subtracted first.
    LARGE = ((1000.0, 1.0, None), (-1000.0, 0.5, 4))
    #: chi2.isf(1e-4, df=4): the 5 kept tokens of the drawn case give 4 degrees of freedom.
    CHI2_CRITICAL = 23.51

    def inputs(self, rng):
        logits = 2.0 * rng.normal(size=12)
        return Inputs(public={"logits": logits}, secret={"logits": logits})

    def observe(self, sub, logits):
        # Every distribution a part of its own, and sample_next's three uses: one not written yet
        # (or raising on one case) costs only its share.
        dists = [parts.attempt(lambda: sub.sampling_distribution(logits, t, k)) for t, k in self.CASES]
        large = [parts.attempt(lambda: sub.sampling_distribution(logits + shift, t, k)) for shift, t, k in self.LARGE]

        def draws():
            rng = np.random.default_rng(7)
            return [sub.sample_next(logits, rng, temperature=0.8, top_k=5) for _ in range(self.DRAWS)]

        def repeat():
            again = np.random.default_rng(7)
            return [sub.sample_next(logits, again, temperature=0.8, top_k=5) for _ in range(50)]

        return {"dists": dists, "large": large, **parts.each(
            greedy=lambda: [sub.sample_next(logits, np.random.default_rng(s), temperature=1.0, top_k=1)
                            for s in range(10)],
            draws=draws, repeat=repeat)}

    @classmethod
    def chi2(cls, draws, p) -> tuple[int, float]:
        """(draws outside the support of ``p``, Pearson's χ² over its support)."""
        draws = np.asarray(draws).astype(int).reshape(-1)
        inside = (draws >= 0) & (draws < p.size)
        counts = np.bincount(draws[inside], minlength=p.size)
        outside = int(draws.size - counts[p > 0].sum())
        expected = draws.size * p[p > 0]
        return outside, float(np.sum((counts[p > 0] - expected) ** 2 / expected))

    def judge(self, got, want, secret):
        verdicts = [judges.close(g, w, f"sampling_distribution(temperature={t}, top_k={k})", tol=F64_TOL,
                                 hint="softmax(logits / temperature), keeping only the top_k largest logits")
                    for g, w, (t, k) in zip(got["dists"], want["dists"], self.CASES)]
        verdicts += [judges.close(g, w, f"sampling_distribution(logits {shift:+g}, temperature={t}, top_k={k})",
                                  tol=F64_TOL, hint="a numerically stable softmax: subtract the largest (scaled) logit "
                                                    "before np.exp, or large logits overflow and small ones underflow")
                     for g, w, (shift, t, k) in zip(got["large"], want["large"], self.LARGE)]
        argmax = int(np.argmax(secret["logits"]))
        what = f"{self.DRAWS} draws follow sampling_distribution(temperature=0.8, top_k=5)"
        if (failure := judges.failed_part(got["draws"], what)) is not None:
            verdicts.append(failure)
        else:
            try:
                draws = judges.as_array(got["draws"], "draws", shape=(self.DRAWS,))
            except judges.BadObservation as exc:
                return judges.Verdict(0.0, str(exc))
            p = np.asarray(want["dists"][3])
            outside, chi2 = self.chi2(draws, p)
            fits = outside == 0 and chi2 <= self.CHI2_CRITICAL
            verdicts.append(judges.property_holds(fits, what,
                                                  f"{outside} draws outside the top 5; χ² = {chi2:.1f} > {self.CHI2_CRITICAL} "
                                                  "(false alarm 1e-4): draw with rng.choice(V, p=p)" if not fits else ""))
        # What a constant answer can also satisfy counts only once the values are right.
        trivial = [judges.property_of([got["greedy"]], lambda greedy: all(int(g) == argmax for g in greedy),
                                      "top_k=1 is greedy (always the argmax)"),
                   judges.property_of([got["repeat"], got["draws"]], lambda repeat, draws: list(repeat) == list(draws[:50]),
                                      "the same seed gives the same draws",
                                      "draw only from the rng you are given (no np.random.* global state)")]
        return judges.gated(verdicts, trivial)
