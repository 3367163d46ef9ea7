"""Public checks of the Transformer lab: students run these with ``pytest`` or
``grader check transformer``. Each ``observe`` calls your code; each
``judge`` compares with the reference's result on the same inputs, or checks
a property the slides state."""

import numpy as np

from grader.checks import Check, Inputs, judges, parts

from .common import (ATTENTION_CORE, F32, assign, attention_rule, blocks_of, decoder_weights, encoder_weights,
                     greedy_tokens, loud, mha_weights, numpy_rule, reversal_data, weights_of)

#: The block checks' sub-layers are loud (common.loud), so every LayerNorm
#: sees a large variance and its ε is immaterial: 1e-3 (Keras's default)
#: instead of LN_EPSILON = 1e-6 moves the outputs by ≤ 5e-3 relative there
#: (measured), within this tolerance; the mutants' mistakes move them by more
#: than 1e-1.
BLOCK_TOL = 1e-2


class SoftAttention(Check):
    """soft_attention with the four scoring functions, and key–value attention"""

    points = 1
    budget = 10
    by_hand = (attention_rule("attention_scores", "soft_attention", "key_value_attention"),)
    #: Names that are none of the four: another similarity, a prefix of one
    #: ("add"), one that starts with one ("scaled_dot_product"). Matching
    #: loosely (a prefix, a fallback branch) is the mistake these catch.
    UNKNOWN_SCORES = ("cosine", "add", "scaled_dot_product")

    def inputs(self, rng):
        return {"x": rng.normal(size=(3, 5, 4)), "q": rng.normal(size=(3, 4)), "q3": rng.normal(size=(3, 3)),
                "bilinear_w": rng.normal(size=(4, 3)), "additive_w": rng.normal(size=(4, 6)) / 2,
                "additive_u": rng.normal(size=(3, 6)) / 2, "additive_v": rng.normal(size=6),
                "keys": rng.normal(size=(3, 5, 4)), "values": rng.normal(size=(3, 5, 2))}

    def observe(self, sub, x, q, q3, bilinear_w, additive_w, additive_u, additive_v, keys, values):
        params = {"bilinear": {"W": bilinear_w}, "additive": {"W": additive_w, "U": additive_u, "v": additive_v}}

        def attend(prefix, function, *args):
            a, alpha = function(*args)
            return {f"{prefix}_a": a, f"{prefix}_alpha": alpha}

        # Each scoring function, and each key–value call, a part: one score not written yet costs its share.
        out = {}
        for score in ("dot", "scaled_dot", "bilinear", "additive"):
            query = q if score in ("dot", "scaled_dot") else q3
            out.update(parts.together((f"{score}_a", f"{score}_alpha"),
                                      lambda: attend(score, sub.soft_attention, x, query, score, params.get(score))))
        out.update(parts.together(("kv_a", "kv_alpha"), lambda: attend("kv", sub.key_value_attention, keys, values, q, "scaled_dot")))
        out.update(parts.together(("kv_additive_a", "kv_additive_alpha"),
                                  lambda: attend("kv_additive", sub.key_value_attention, keys, values, q3, "additive",
                                                 params["additive"])))

        def unknown_scores():
            raised = {}
            for name in self.UNKNOWN_SCORES:
                try:
                    sub.attention_scores(x, q, name)
                    raised[name] = "no error"
                except NotImplementedError:
                    raise  # attention_scores not written yet: this part is to do, not wrong
                except Exception as exc:  # noqa: BLE001 - which error it raised is what is judged
                    raised[name] = type(exc).__name__
            return raised

        out["unknown_score"] = parts.attempt(unknown_scores)
        return out

    def judge(self, got, want, secret):
        hints = {"dot": "s = xᵢ·q", "scaled_dot": "s = xᵢ·q / √D (D = 4 here)",
                 "bilinear": "s = xᵢᵀ W q with W of shape (D, D_q)",
                 "additive": "s = vᵀ tanh(W xᵢ + U q), in rows tanh(xᵢ W + q U)·v"}
        verdicts = []
        for score, hint in hints.items():
            verdicts.append(judges.close(got[f"{score}_alpha"], want[f"{score}_alpha"], f"alpha ({score})", tol=1e-5,
                                         hint=hint + "; alpha = softmax over the N inputs"))
            verdicts.append(judges.close(got[f"{score}_a"], want[f"{score}_a"], f"a ({score})", tol=1e-5,
                                         hint="a = Σᵢ αᵢ xᵢ"))
        verdicts.append(judges.close(got["kv_alpha"], want["kv_alpha"], "key_value_attention alpha", tol=1e-5,
                                     hint="score the *keys* against the query"))
        verdicts.append(judges.close(got["kv_a"], want["kv_a"], "key_value_attention a", tol=1e-5,
                                     hint="a = Σᵢ αᵢ vᵢ: average the *values*"))
        verdicts.append(judges.close(got["kv_additive_alpha"], want["kv_additive_alpha"],
                                     "key_value_attention alpha (additive score, D_k ≠ D_q)", tol=1e-5))
        verdicts.append(judges.close(got["kv_additive_a"], want["kv_additive_a"], "key_value_attention a (additive score)",
                                     tol=1e-5))
        raises = judges.equal(got["unknown_score"], {name: "ValueError" for name in self.UNKNOWN_SCORES},
                              f"attention_scores with the unknown score names {', '.join(self.UNKNOWN_SCORES)}",
                              hint="raise ValueError for any name but dot, scaled_dot, bilinear and additive")
        return judges.gated(verdicts, [raises])


class ScaledDotProductAttention(Check):
    """scaled_dot_product_attention without a mask, with a padding mask and a causal mask; exact zeros where masked"""

    points = 1
    budget = 10
    by_hand = (attention_rule("scaled_dot_product_attention"),)
    PAD, OTHER_PAD = 0, 7

    def inputs(self, rng):
        tokens = rng.integers(1, 9, size=(2, 5))
        tokens[0, 3:] = self.PAD
        tokens[1, 4:] = self.PAD
        # Padding with another id (pad_id is an argument): 0 is an ordinary token here.
        other = rng.integers(0, 7, size=(3, 6))
        other[0, 2:], other[1, 5:], other[2, 0] = self.OTHER_PAD, self.OTHER_PAD, 0
        return {"q": rng.normal(size=(2, 4, 6)), "k": rng.normal(size=(2, 5, 6)), "v": rng.normal(size=(2, 5, 3)),
                "x": rng.normal(size=(2, 5, 6)), "tokens": tokens, "other_tokens": other}

    def observe(self, sub, q, k, v, x, tokens, other_tokens):
        def attend(case, *args):
            out, weights = sub.scaled_dot_product_attention(*args)
            return {case: out, f"{case}_w": weights}

        # The masks and each masked attention a part; an attention with a mask fails with the mask it uses.
        return {**parts.together(("plain", "plain_w"), lambda: attend("plain", q, k, v)),
                **parts.together(("padded", "padded_w"),
                                 lambda: attend("padded", q, k, v, sub.padding_mask(tokens, pad_id=self.PAD))),
                **parts.together(("causal", "causal_w"), lambda: attend("causal", x, x, v, sub.causal_mask(5))),
                # A 0/1 integer mask (the docstring allows it), the causal one here.
                **parts.together(("int_mask", "int_mask_w"),
                                 lambda: attend("int_mask", x, x, v, np.tril(np.ones((5, 5), np.int32)))),
                **parts.each(pad_mask=lambda: np.asarray(sub.padding_mask(tokens, pad_id=self.PAD)).astype(bool),
                             causal_mask=lambda: np.asarray(sub.causal_mask(5)).astype(bool),
                             other_pad_mask=lambda: np.asarray(sub.padding_mask(other_tokens, pad_id=self.OTHER_PAD)).astype(bool))}

    def judge(self, got, want, secret):
        verdicts = [
            judges.failed_part(got["pad_mask"], "padding_mask shape")
            or judges.equal(np.asarray(got["pad_mask"]).shape, np.asarray(want["pad_mask"]).shape, "padding_mask shape",
                            hint="(B, 1, T): one row per sequence that every query broadcasts over"),
            judges.equal(got["pad_mask"], want["pad_mask"], "padding_mask values", hint="True where the token is not padding"),
            judges.equal(got["causal_mask"], want["causal_mask"], "causal_mask(5)",
                         hint="True where key s ≤ query t (the diagonal included)"),
            judges.equal(got["other_pad_mask"], want["other_pad_mask"], f"padding_mask with pad_id={self.OTHER_PAD}",
                         hint="compare with the pad_id argument, not with 0"),
        ]
        for case in ("plain", "padded", "causal", "int_mask"):
            verdicts.append(judges.close(got[f"{case}_w"], want[f"{case}_w"], f"weights ({case})", tol=1e-5,
                                         hint="softmax(Q Kᵀ / √d_k) over the keys"))
            verdicts.append(judges.close(got[case], want[case], f"output ({case})", tol=1e-5))
        zeros = []
        for case, mask in (("padded", want["pad_mask"]), ("causal", want["causal_mask"])):
            what = f"weights exactly 0 where the {case} mask is False"
            try:
                weights = judges.as_array(got[f"{case}_w"], f"weights ({case})", shape=np.shape(want[f"{case}_w"]))
            except judges.BadObservation as exc:
                zeros.append(judges.Verdict(0.0, f"{what}: {exc}"))
                continue
            blocked = ~np.broadcast_to(np.asarray(mask, bool), weights.shape)
            leaked = int(np.sum(weights[blocked] != 0))
            zeros.append(judges.property_holds(leaked == 0, what,
                                               f"{leaked} masked weight(s) are not exactly 0: replace masked scores by a "
                                               "huge negative number before the softmax"))
        # All-zero weights are "exactly 0 where masked" too: that counts only with the right weights.
        return judges.gated(verdicts, zeros)


class MultiHeadAttentionValues(Check):
    """MultiHeadAttention: masked self-attention and cross-attention, outputs and attention scores (given weights)"""

    points = 1
    budget = 15
    by_hand = (attention_rule(*ATTENTION_CORE),)
    D_MODEL, HEADS = 8, 2

    def inputs(self, rng):
        mask = np.ones((2, 1, 7), bool)
        mask[0, 0, 5:] = False
        return {"x": rng.normal(size=(2, 5, 8)).astype(F32), "context": rng.normal(size=(2, 7, 8)).astype(F32),
                "context_mask": mask, "self_weights": mha_weights(rng, 8), "cross_weights": mha_weights(rng, 8)}

    def observe(self, sub, x, context, context_mask, self_weights, cross_weights):
        def self_attention():
            attention = sub.MultiHeadAttention(self.D_MODEL, self.HEADS)
            attention(x)
            assign(attention, self_weights)
            causal = np.tril(np.ones((5, 5), bool))
            y, scores = attention(x, attention_mask=causal, return_attention_scores=True)
            return {"self": y, "self_scores": scores, "unmasked": attention(x)}

        def cross_attention():
            cross = sub.MultiHeadAttention(self.D_MODEL, self.HEADS)
            cross(x, context=context)
            assign(cross, cross_weights)
            y2, scores2 = cross(x, context=context, attention_mask=context_mask, return_attention_scores=True)
            return {"cross": y2, "cross_scores": scores2}

        # Self- and cross-attention, each a part: a layer that cannot take a context yet still earns the first.
        return {**parts.together(("self", "self_scores", "unmasked"), self_attention),
                **parts.together(("cross", "cross_scores"), cross_attention)}

    def judge(self, got, want, secret):
        return judges.all_of([
            judges.close(got["unmasked"], want["unmasked"], "self-attention output (no mask)",
                         hint="b = W^O [b¹; …; bʰ]; head j uses columns j·d_k … (j+1)·d_k − 1 of wq, wk, wv"),
            judges.close(got["self_scores"], want["self_scores"], "self-attention scores (causal mask), shape (B, h, T, T)",
                         hint="one softmax(QʲKʲᵀ/√d_k) per head, d_k = d_model / h"),
            judges.close(got["self"], want["self"], "self-attention output (causal mask)"),
            judges.close(got["cross_scores"], want["cross_scores"], "cross-attention scores (padding mask), shape (B, h, T_q, T_k)",
                         hint="queries from `query`, keys and values from `context`; the (B, 1, T_k) mask applies to every head"),
            judges.close(got["cross"], want["cross"], "cross-attention output (padding mask)"),
        ])


class PositionalEncodingValues(Check):
    """positional_encoding(10, 16) and pe_shift_matrix(3, 8): the slide's formulas"""

    points = 0.5
    budget = 5
    by_hand = (numpy_rule("positional_encoding", "pe_shift_matrix",
                          why="the encoding and its shift matrix are the slide's formulas, computed in NumPy float64"),)

    def observe(self, sub):
        return parts.each(pe=lambda: sub.positional_encoding(10, 16), shift=lambda: sub.pe_shift_matrix(3, 8))

    def judge(self, got, want, secret):
        return judges.all_of([
            judges.close(got["pe"], want["pe"], "positional_encoding(10, 16)", tol=1e-6,
                         hint="PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(…), interleaved"),
            judges.close(got["shift"], want["shift"], "pe_shift_matrix(3, 8)", tol=1e-6,
                         hint="PE[pos + k] = PE[pos] @ R_k in rows: each 2×2 block is [[α_k, −β_k], [β_k, α_k]]"),
        ])


class EncoderBlock(Check):
    """TransformerEncoderBlock (post-LN) with given weights, with and without a padding mask"""

    points = 1
    budget = 15
    by_hand = (attention_rule("TransformerEncoderBlock.call", *ATTENTION_CORE),)

    def inputs(self, rng):
        mask = np.ones((2, 1, 6), bool)
        mask[1, 0, 4:] = False
        return {"x": rng.normal(size=(2, 6, 8)).astype(F32), "mask": mask, "weights": loud(encoder_weights(rng, 8, 16))}

    def observe(self, sub, x, mask, weights):
        block = sub.TransformerEncoderBlock(8, 2, 16)
        block(x)
        assign(block, weights)
        # The masked call a part of its own: a block that takes no mask yet still earns the first.
        return parts.each(y=lambda: block(x), y_masked=lambda: block(x, attention_mask=mask))

    def judge(self, got, want, secret):
        hint = "post-LN: h = norm1(x + attention(x)), y = norm2(h + ffn2(ffn1(h))), ffn1 with ReLU"
        return judges.all_of([
            judges.close(got["y"], want["y"], "encoder block output", hint=hint, tol=BLOCK_TOL),
            judges.close(got["y_masked"], want["y_masked"], "encoder block output with a padding mask", tol=BLOCK_TOL,
                         hint="pass attention_mask on to the self-attention"),
        ])


class DecoderBlock(Check):
    """TransformerDecoderBlock: causal (later targets cannot change earlier outputs) and really reading the encoder memory"""

    points = 1
    kind = "property"
    budget = 15
    uses_reference = False
    by_hand = (attention_rule("TransformerDecoderBlock.call", *ATTENTION_CORE),)
    T, CUT = 6, 3

    def inputs(self, rng):
        y = rng.normal(size=(2, self.T, 8)).astype(F32)
        y_later = y.copy()
        y_later[:, self.CUT:] = rng.normal(size=(2, self.T - self.CUT, 8))
        memory = rng.normal(size=(2, 5, 8)).astype(F32)
        memory_mask = np.ones((2, 1, 5), bool)
        memory_mask[:, :, 3:] = False
        memory_hidden_changed = memory.copy()
        memory_hidden_changed[:, 3:] = rng.normal(size=(2, 2, 8))
        return {"y": y, "y_later": y_later, "memory": memory, "memory_other": rng.normal(size=(2, 5, 8)).astype(F32),
                "memory_mask": memory_mask, "memory_hidden_changed": memory_hidden_changed,
                "weights": decoder_weights(rng, 8, 16)}

    def observe(self, sub, y, y_later, memory, memory_other, memory_mask, memory_hidden_changed, weights):
        block = sub.TransformerDecoderBlock(8, 2, 16)
        block(y, memory)
        assign(block, weights)
        # Each call a part: a block that takes no memory_mask yet still shows it is causal and reads the memory.
        return parts.each(out=lambda: block(y, memory), out_later=lambda: block(y_later, memory),
                          out_other=lambda: block(y, memory_other),
                          out_mask=lambda: block(y, memory, memory_mask=memory_mask),
                          out_mask_changed=lambda: block(y, memory_hidden_changed, memory_mask=memory_mask))

    def judge(self, got, want, secret):
        shape = (2, self.T, 8)
        # A call that failed stays a marker: the properties that need it score 0 with its reason.
        out = {k: v if parts.failed(v) else judges.as_array(v, k, shape=shape) for k, v in got.items()}
        cut = self.CUT

        def differs(a, b):  # every position of every sequence changed
            return bool(np.all(np.max(np.abs(a - b), axis=-1) > 1e-4))

        def holds(keys, test, what, why_not=""):
            return judges.property_of([out[k] for k in keys], test, what, why_not)

        # A block that ignores its inputs (a constant) is causal and ignores
        # masked memory too: those two count only for a block whose every
        # output follows its own target and the memory.
        return judges.gated([
            holds(("out", "out_later"), lambda a, b: differs(a[:, cut:], b[:, cut:]),
                  f"outputs at positions ≥ {cut} follow their own targets"),
            holds(("out", "out_other"), differs, "every output depends on the encoder memory",
                  "the cross-attention takes its keys and values from `memory` (在输入序列上做注意力)"),
            holds(("out_mask", "out"), differs, "memory_mask changes the outputs", "pass memory_mask to the cross-attention"),
        ], [
            holds(("out", "out_later"), lambda a, b: np.allclose(a[:, :cut], b[:, :cut], atol=1e-5),
                  f"outputs at positions < {cut} ignore targets at positions ≥ {cut}",
                  "the self-attention must use a causal mask (Masked: 在生成的序列上做注意力)"),
            holds(("out_mask", "out_mask_changed"), lambda a, b: np.allclose(a, b, atol=1e-5),
                  "masked memory positions have no influence", "pass memory_mask to the cross-attention"),
        ])


class Seq2seqTraining(Check):
    """build_transformer trained to reverse sequences: the grader decodes held-out sequences greedily with your model"""

    points = 1
    kind = "training"
    budget = 60
    uses_reference = False
    by_hand = (attention_rule("build_transformer", *ATTENTION_CORE),)

    #: What observe needs of the settings (``[checks.seq2seq_training]``): the
    #: task's sizes and the training recipe travel in the inputs.
    RECIPE = ("length", "vocab_size", "bos_id", "d_model", "num_heads", "d_ff", "num_layers",
              "batch_size", "epochs", "learning_rate")

    def inputs(self, rng):
        cfg = self.config
        args = (cfg["length"], cfg["vocab_size"], cfg["bos_id"])
        source, target_in, target = reversal_data(rng, cfg["train_size"], *args)
        eval_source, _, eval_target = reversal_data(rng, cfg["eval_size"], *args)
        return Inputs(public={"source": source, "target_in": target_in, "target": target, "eval_source": eval_source,
                              "recipe": {key: cfg[key] for key in self.RECIPE}},
                      secret={"eval_target": eval_target, "num_layers": cfg["num_layers"]})

    def observe(self, sub, source, target_in, target, eval_source, recipe):
        import keras

        model = sub.build_transformer(recipe["vocab_size"], recipe["length"], d_model=recipe["d_model"],
                                      num_heads=recipe["num_heads"], d_ff=recipe["d_ff"], num_layers=recipe["num_layers"],
                                      use_positional_encoding=True)
        blocks = blocks_of(model, sub)
        before = [weights_of(layer) for _, layer in blocks]
        model.compile(optimizer=keras.optimizers.Adam(recipe["learning_rate"]),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit([source, target_in], target, batch_size=recipe["batch_size"], epochs=recipe["epochs"],
                            shuffle=True, verbose=0)
        # How far each of the lab's layers moved in training: a layer off the
        # path from the source to the logits gets no gradient and stays put.
        moved = [max([float(np.max(np.abs(a - b))) for a, b in zip(weights_of(layer), old)] or [0.0])
                 for (_, layer), old in zip(blocks, before)]
        # The grader decodes, with its own greedy loop, on the model you built and it trained.
        predictions = greedy_tokens(model, eval_source, recipe["bos_id"], recipe["length"])
        return {"predictions": predictions, "loss": history.history["loss"],
                "blocks": [name for name, _ in blocks], "moved": moved}

    def judge(self, got, want, secret):
        cfg = self.config
        names, moved = list(got["blocks"]), [float(m) for m in got["moved"]]
        n = secret["num_layers"]
        structure = []
        for kind, want_count in (("TransformerEncoderBlock", n), ("TransformerDecoderBlock", n)):
            if names.count(kind) != want_count:
                structure.append(f"the model holds {names.count(kind)} {kind} layer(s), expected num_layers = {want_count}")
        if names.count("PositionalEmbedding") < 1:
            structure.append("the model holds no PositionalEmbedding layer")
        still = sorted({name for name, m in zip(names, moved) if m <= 1e-6})
        if still:
            structure.append(f"training left the weights of {', '.join(still)} unchanged: they are not on the path "
                             "from the inputs to the logits")
        if structure:
            return judges.Verdict(0.0, "build_transformer must build the model from your blocks as its docstring says: "
                                  + "; ".join(structure))
        predictions = np.asarray(got["predictions"])
        correct = predictions == secret["eval_target"]
        verdict = judges.at_least(float(correct.mean()), cfg["threshold"], "token accuracy of greedy decoding",
                                  baseline=cfg["baseline"])
        losses = ", ".join(f"{l:.3f}" for l in got["loss"])
        verdict.message += f" (whole sequences right: {correct.all(axis=1).mean():.1%}; training loss per epoch: {losses})"
        return verdict


class BertMasking(Check):
    """bert_mask_tokens: 15 % of the non-special tokens chosen, then 80 % [MASK] / 10 % random / 10 % unchanged"""

    # Power (tests/labs/test_transformer_reference.py::test_bert_masking_power):
    # the reference fails one of the 5σ counts with probability < 1e-4 (exact
    # binomial tails, union bound) and failed in 0 of 200 seeds; each wrong
    # version below failed in all 200 seeds (miss rate < 1.5 % at 95 %
    # confidence; most fail a deterministic part): special tokens chosen,
    # every chosen token [MASK], replacements drawn from the whole vocabulary
    # (specials included: 4 of the small call's 10 ids), one replacement id
    # for all positions, mask_prob ignored, randomness not from `rng`.
    points = 0.5
    kind = "property"
    budget = 10
    uses_reference = False
    by_hand = (numpy_rule("bert_mask_tokens", why="BERT's corruption is drawn in NumPy from the Generator passed in"),)
    VOCAB, PAD, CLS, SEP, MASK = 1000, 0, 1, 2, 3
    #: The second call: a vocabulary of 10 ids, 4 of them special, so a random
    #: replacement that may be special is one in 2.5; and another mask_prob.
    SMALL_VOCAB, SMALL_PROB = 10, 0.3

    def inputs(self, rng):
        tokens = self.corpus(rng, self.VOCAB, 400, 64)
        small = self.corpus(rng, self.SMALL_VOCAB, 200, 40)
        public = {"tokens": tokens, "small": small, "seed": int(rng.integers(2**31)), "other_seed": int(rng.integers(2**31))}
        return Inputs(public=public, secret={"tokens": tokens, "small": small})

    def corpus(self, rng, vocab, rows, width):
        tokens = rng.integers(4, vocab, size=(rows, width))
        lengths = rng.integers(width // 3, width - 1, size=rows)
        tokens[:, 0] = self.CLS
        for row, n in zip(tokens, lengths):
            row[n] = self.SEP
            row[n + 1:] = self.PAD
        tokens[::7, 5] = self.MASK  # a [MASK] already in the input is special too
        return tokens

    def observe(self, sub, tokens, small, seed, other_seed):
        specials = [self.PAD, self.CLS, self.SEP, self.MASK]

        def corrupt(tokens, seed_, vocab, **options):
            inputs, labels, weights = sub.bert_mask_tokens(tokens, np.random.default_rng(seed_), vocab, self.MASK,
                                                           specials, **options)
            return {"inputs": inputs, "labels": labels, "weights": weights}

        # Each call a part: one that does not take mask_prob yet still earns the default call's share.
        return parts.each(main=lambda: corrupt(tokens, seed, self.VOCAB), again=lambda: corrupt(tokens, seed, self.VOCAB),
                          other=lambda: corrupt(tokens, other_seed, self.VOCAB),
                          small=lambda: corrupt(small, seed, self.SMALL_VOCAB, mask_prob=self.SMALL_PROB))

    def judge(self, got, want, secret):
        main = self.counts(got["main"], secret["tokens"], self.VOCAB, 0.15, "")
        small = self.counts(got["small"], secret["small"], self.SMALL_VOCAB, self.SMALL_PROB,
                            f" (vocab_size={self.SMALL_VOCAB}, mask_prob={self.SMALL_PROB})")

        def reproducible(main, again, other):
            return (np.array_equal(np.asarray(main["inputs"]), np.asarray(again["inputs"]))
                    and np.array_equal(np.asarray(main["weights"]), np.asarray(again["weights"]))
                    and not np.array_equal(np.asarray(main["inputs"]), np.asarray(other["inputs"])))

        substantive = main["rates"] + small["rates"] + [
            judges.property_of([got["main"], got["again"], got["other"]], reproducible,
                               "every random draw comes from `rng` (same Generator seed, same result; another, another)"),
            judges.property_of([got["small"], small["uniform"]], lambda _, uniform: uniform,
                               "random replacements are uniform over the non-special ids", small["uniform_why"]),
        ]
        trivial = main["format"] + small["format"] + [
            judges.property_of([got["main"], got["small"], main["ordinary"] and small["ordinary"]], lambda _main, _small, ok: ok,
                               "random replacements are ordinary vocabulary ids",
                               "never [PAD], [CLS], [SEP] or [MASK], and inside range(vocab_size)"),
        ]
        return judges.gated(substantive, trivial)

    def counts(self, got, tokens, vocab, prob, where):
        """The verdicts on one call's result (``got``); for a call that failed, as many verdicts, each 0 with its reason."""
        if (failure := judges.failed_part(got, f"bert_mask_tokens{where}")) is not None:
            return {"rates": [failure] * 4, "format": [failure] * 4, "ordinary": False, "uniform": False, "uniform_why": ""}
        specials = [self.PAD, self.CLS, self.SEP, self.MASK]
        inputs = judges.as_array(got["inputs"], "inputs" + where, shape=tokens.shape)
        labels = judges.as_array(got["labels"], "labels" + where, shape=tokens.shape)
        weights = judges.as_array(got["weights"], "weights" + where, shape=tokens.shape)
        special = np.isin(tokens, specials)
        chosen = weights == 1
        normal = vocab - len(specials)
        n_candidates, n_chosen = int((~special).sum()), int(chosen.sum())
        masked = int(np.sum(chosen & (inputs == self.MASK)))
        replaced_at = chosen & (inputs != self.MASK) & (inputs != tokens)
        kept = int(np.sum(chosen & (inputs == tokens)))
        replacements = inputs[replaced_at].astype(int)
        frac = n_chosen / max(n_candidates, 1)
        rates = [
            judges.property_holds(judges.binomial_ok(n_chosen, n_candidates, prob),
                                  f"about {prob:.0%} of the non-special tokens chosen{where}", f"{frac:.1%} were chosen"),
            judges.property_holds(judges.binomial_ok(masked, n_chosen, 0.8), f"80 % of the chosen tokens become [MASK]{where}",
                                  f"{masked / max(n_chosen, 1):.1%} did"),
            judges.property_holds(judges.binomial_ok(len(replacements), n_chosen, 0.1 * (1 - 1 / normal)),
                                  f"10 % of the chosen tokens become a random token{where}",
                                  f"{len(replacements) / max(n_chosen, 1):.1%} did"),
            judges.property_holds(judges.binomial_ok(kept, n_chosen, 0.1 + 0.1 / normal),
                                  f"10 % of the chosen tokens stay unchanged{where}", f"{kept / max(n_chosen, 1):.1%} did"),
        ]
        fmt = [
            judges.property_holds(bool(np.all((weights == 0) | (weights == 1))), f"weights are 0 or 1{where}"),
            judges.property_holds(not np.any(chosen & special), f"special tokens are never chosen{where}",
                                  "[CLS], [SEP], [PAD] and [MASK] must keep weight 0"),
            judges.property_holds(bool(np.all(inputs[~chosen] == tokens[~chosen])), f"tokens not chosen stay unchanged{where}"),
            judges.property_holds(bool(np.all(labels[chosen] == tokens[chosen])),
                                  f"labels hold the original tokens where chosen{where}"),
        ]
        ordinary = not np.any(np.isin(replacements, specials)) and bool(np.all((replacements >= 0) & (replacements < vocab)))
        uniform, why = True, ""
        if vocab == self.SMALL_VOCAB and ordinary:
            ids = np.setdiff1d(np.arange(vocab), specials)
            # Replacements equal to the original are invisible (counted as kept), so
            # id j shows with probability ∝ (share of chosen tokens that are not j).
            others = np.array([np.sum(chosen & (tokens != j)) for j in ids], dtype=float)
            expected = others / others.sum()
            seen = np.array([np.sum(replacements == j) for j in ids])
            bad = [f"id {j}: {c} of {len(replacements)}" for j, c, p in zip(ids, seen, expected)
                   if not judges.binomial_ok(int(c), len(replacements), float(p))]
            uniform, why = not bad, "; ".join(bad[:3])
        return {"rates": rates, "format": fmt, "ordinary": ordinary, "uniform": uniform, "uniform_why": why}


class MemoryNetwork(Check):
    """memn2n_read with 1 and 3 hops; NTM content_addressing, memory_read and memory_write"""

    points = 0.5
    budget = 10
    by_hand = (attention_rule("memn2n_read", "content_addressing", "memory_read", "memory_write"),)

    def inputs(self, rng):
        return {"q": rng.normal(size=(2, 4)), "a_mem": rng.normal(size=(2, 6, 4)), "c_mem": rng.normal(size=(2, 6, 4)),
                "memory": rng.normal(size=(2, 5, 3)), "key": rng.normal(size=(2, 3)), "beta": rng.uniform(1, 5, size=2),
                "erase": rng.uniform(size=(2, 3)), "add": rng.normal(size=(2, 3)), **self.tiny(rng)}

    @staticmethod
    def tiny(rng):
        """Slots and a key of norm ~1e-4, so ‖m‖‖k‖ is of the order of the docstring's 1e-8 (which then
        matters), and one all-zero slot (an NTM's memory starts at zero): cos = 0 there, not 0/0."""
        memory = 1e-4 * rng.normal(size=(2, 4, 3))
        memory[1, 2] = 0.0
        return {"tiny_memory": memory, "tiny_key": 1e-4 * rng.normal(size=(2, 3))}

    def observe(self, sub, q, a_mem, c_mem, memory, key, beta, erase, add, tiny_memory, tiny_key):
        def read(hops):
            u, p = sub.memn2n_read(q, a_mem, c_mem, hops=hops)
            return {f"u{hops}": u, f"p{hops}": p}

        given = []  # what content_addressing returned, as it returned it

        def address():
            given.append(sub.content_addressing(memory, key, beta))
            return given[0]

        w = parts.attempt(address)
        # Reading and writing use the weights content_addressing gave: they fail with it.
        return {**parts.together(("u1", "p1"), lambda: read(1)), **parts.together(("u3", "p3"), lambda: read(3)),
                "w": w, "read": w if parts.failed(w) else parts.attempt(lambda: sub.memory_read(memory, given[0])),
                "write": w if parts.failed(w) else parts.attempt(lambda: sub.memory_write(memory, given[0], erase, add)),
                "w_tiny": parts.attempt(lambda: sub.content_addressing(tiny_memory, tiny_key, beta))}

    def judge(self, got, want, secret):
        return judges.all_of([
            judges.close(got["p1"], want["p1"], "memn2n_read p, 1 hop (B, hops, N)", tol=1e-6, hint="p = softmax(aᵢᵀ q)"),
            judges.close(got["u1"], want["u1"], "memn2n_read u, 1 hop", tol=1e-6, hint="u = q + Σᵢ pᵢ cᵢ"),
            judges.close(got["p3"], want["p3"], "memn2n_read p, 3 hops", tol=1e-6, hint="q⁽ᵏ⁺¹⁾ = q⁽ᵏ⁾ + r⁽ᵏ⁾ addresses the next hop"),
            judges.close(got["u3"], want["u3"], "memn2n_read u, 3 hops", tol=1e-6),
            judges.close(got["w"], want["w"], "content_addressing", tol=1e-6, hint="softmax(β · cos(mᵢ, k))"),
            judges.close(got["w_tiny"], want["w_tiny"], "content_addressing, norms ~1e-4 and an all-zero slot", tol=1e-6,
                         hint="cos(m, k) = m·k / (‖m‖ ‖k‖ + 1e-8) exactly as written: the 1e-8 added to the product"),
            judges.close(got["read"], want["read"], "memory_read", tol=1e-6),
            judges.close(got["write"], want["write"], "memory_write", tol=1e-6, hint="m'ᵢ = mᵢ ⊙ (1 − αᵢ e) + αᵢ a"),
        ])
