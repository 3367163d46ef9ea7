"""Hidden checks of the Transformer lab (graders only): other shapes, head
counts, masks and properties than the public ones, so hard-coding public
answers earns nothing."""

import numpy as np

from grader.checks import HIDDEN, Check, Inputs, judges, parts
from grader.checks.gradcheck import numeric_gradient

from .common import (ATTENTION_CORE, F32, assign, attention_rule, blocks_of, decoder_weights, loud, mha_arrays,
                     mha_weights, numpy_rule, scripted_decode, scripted_model, weights_of)
from .private import keras_mha

#: As in the public block checks (loud sub-layers): LayerNorm ε = 1e-3 instead of 1e-6 is immaterial.
BLOCK_TOL = 1e-2


class HardAttention(Check):
    """hard_attention: argmax picks the most attended input; sampling follows α (not a uniform draw)"""

    # Power (tests/labs/test_transformer_reference.py::test_hard_attention_power,
    # 200 salts' inputs): the reference fails a 5σ count with probability
    # < 1e-3 (exact binomial tails of the 20 counts, worst α) and failed in 0
    # of 200; sampling uniformly (the slide text's z ~ U(1, N)), from
    # softmax(α), always the argmax, or with one uniform draw shared by all
    # rows failed in all 200 (miss rate < 1.5 % at 95 % confidence).
    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 10
    by_hand = (numpy_rule("hard_attention", why="hard attention is NumPy: the index is drawn from the Generator passed in"),)
    GROUPS, PER_GROUP, N = 4, 2500, 5

    def inputs(self, rng):
        # Every αᵢ ≥ 0.1/N = 0.02: a 5σ count of a rarer index would false-alarm too often.
        alphas = 0.9 * rng.dirichlet(np.ones(self.N), size=self.GROUPS) + 0.1 / self.N
        alpha = np.repeat(alphas, self.PER_GROUP, axis=0)
        b = self.GROUPS * self.PER_GROUP
        # x[b, i] = (b, i, noise): the chosen row says where it came from.
        x = np.stack([np.broadcast_to(np.arange(b)[:, None], (b, self.N)),
                      np.broadcast_to(np.arange(self.N)[None, :], (b, self.N)),
                      rng.normal(size=(b, self.N))], axis=-1).astype(np.float64)
        small_x, small_alpha = rng.normal(size=(3, 6, 2)), rng.dirichlet(np.ones(6), size=3)
        public = {"x": x, "alpha": alpha, "seed": int(rng.integers(2**31)), "small_x": small_x, "small_alpha": small_alpha}
        # One-hot α (every draw must give that index) with B = 3 < N = 6, the last input among them:
        # the index runs over the N inputs, not the B rows.
        picks = np.r_[6 - 1, rng.integers(0, 6 - 1, size=2)]
        public["onehot_alpha"] = np.eye(6)[picks]
        return Inputs(public=public, secret={"x": x, "alpha": alphas, "small_x": small_x, "small_alpha": small_alpha,
                                             "picks": picks})

    def observe(self, sub, x, alpha, seed, small_x, small_alpha, onehot_alpha):
        def argmax():
            a, index = sub.hard_attention(small_x, small_alpha, "argmax")
            return {"argmax_a": a, "argmax_index": index}

        def sample():
            sa, sindex = sub.hard_attention(x, alpha, "sample", np.random.default_rng(seed))
            return {"sample_a": sa, "sample_index": sindex}

        def drawn(weights):
            return sub.hard_attention(small_x, weights, mode="sample", rng=np.random.default_rng(seed))[1]

        # The two modes, each a part: a sampler not written yet still lets argmax earn its share.
        return {**parts.together(("argmax_a", "argmax_index"), argmax), **parts.together(("sample_a", "sample_index"), sample),
                **parts.each(onehot_index=lambda: drawn(onehot_alpha),
                             reproducible=lambda: bool(np.array_equal(np.asarray(drawn(small_alpha)),
                                                                      np.asarray(drawn(small_alpha)))))}

    def judge(self, got, want, secret):
        x, small_x, small_alpha = secret["x"], secret["small_x"], secret["small_alpha"]
        best = small_alpha.argmax(axis=1)
        sampled = judges.failed_part(got["sample_index"], "hard_attention(…, 'sample')")
        if sampled is None:
            index = judges.as_array(got["sample_index"], "sampled index", shape=(x.shape[0],)).astype(int)
            if index.min() < 0 or index.max() >= self.N:
                return judges.Verdict(0.0, f"sampled index: values must lie in 0 … {self.N - 1}")
        substantive = [
            judges.failed_part(got["argmax_index"], "argmax index")
            or judges.equal(np.asarray(got["argmax_index"]).astype(int).tolist(), best.tolist(), "argmax index"),
            judges.close(got["argmax_a"], small_x[np.arange(3), best], "argmax output a = x_argmax", tol=1e-12),
            judges.failed_part(got["onehot_index"], "sampled index where α is one-hot")
            or judges.equal(np.asarray(got["onehot_index"]).astype(int).tolist(), secret["picks"].tolist(),
                            "sampled index where α is one-hot (B = 3 rows, N = 6 inputs)",
                            hint="z ~ Categorical(α) over the N inputs: α = 1 at i means z = i, whatever the draw"),
        ]
        trivial = [
            sampled or judges.close(got["sample_a"], x[np.arange(x.shape[0]), index],
                                    "sampled output a = x_z at the returned z", tol=1e-12),
            judges.property_holds(got["reproducible"], "sampling draws from `rng` (same Generator seed, same indices)"),
        ]
        if sampled is not None:
            substantive.append(sampled)
            return judges.gated(substantive, trivial)
        bad = []
        for g in range(self.GROUPS):
            counts = np.bincount(index[g * self.PER_GROUP:(g + 1) * self.PER_GROUP], minlength=self.N)
            for i, (count, p) in enumerate(zip(counts, secret["alpha"][g])):
                if not judges.binomial_ok(int(count), self.PER_GROUP, float(p)):
                    bad.append(f"index {i} drawn {count / self.PER_GROUP:.1%} of the time where α = {p:.1%}")
        substantive.append(judges.property_holds(not bad, "sampled indices follow the attention distribution α",
                                                 "; ".join(bad[:3]) + " (z ~ Categorical(α), not uniform)"))
        return judges.gated(substantive, trivial)


class AttentionPermutationEquivariance(Check):
    """Self-attention ignores order (f(PX) = P f(X)) until a positional encoding is added"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 15
    uses_reference = False
    by_hand = (attention_rule("TransformerEncoderBlock.call", *ATTENTION_CORE),)

    def inputs(self, rng):
        perm = rng.permutation(7)
        return Inputs(public={"x": rng.normal(size=(2, 7, 12)).astype(F32), "perm": perm, "weights": mha_weights(rng, 12)},
                      secret={"perm": perm})

    def observe(self, sub, x, perm, weights):
        nudged = x.copy()
        # One position changed (not by a constant, which a LayerNorm would remove):
        # attention must carry it to the others.
        nudged[:, 0] += np.linspace(-1.0, 1.0, x.shape[-1], dtype=F32)

        def attention_outputs():
            attention = sub.MultiHeadAttention(12, 3)
            attention(x)
            assign(attention, weights)
            return {"mha": attention(x), "mha_perm": attention(x[:, perm]), "mha_nudged": attention(nudged)}

        blocks = []  # the encoder block, built once for both of its parts

        def block_outputs():
            blocks.append(sub.TransformerEncoderBlock(12, 3, 24))
            block = blocks[0]
            return {"block": block(x), "block_perm": block(x[:, perm]), "block_nudged": block(nudged)}

        def encoded_outputs():
            pe = np.asarray(sub.positional_encoding(7, 12), dtype=F32)
            return {"block_pe": blocks[0](x + pe), "block_pe_perm": blocks[0](x[:, perm] + pe)}

        # MultiHeadAttention, TransformerEncoderBlock, and the block with positional_encoding: each a part
        # (the last needs the block: it fails with it).
        out = {**parts.together(("mha", "mha_perm", "mha_nudged"), attention_outputs),
               **parts.together(("block", "block_perm", "block_nudged"), block_outputs)}
        encoded = ("block_pe", "block_pe_perm")
        out.update({k: out["block"] for k in encoded} if parts.failed(out["block"]) else parts.together(encoded, encoded_outputs))
        return out

    def judge(self, got, want, secret):
        # A part that failed stays a marker: the properties that need it score 0 with its reason.
        out = {k: v if parts.failed(v) else judges.as_array(v, k, shape=(2, 7, 12)) for k, v in got.items()}
        p = secret["perm"]
        # Equivariance alone is also what a constant or an identity layer has:
        # it counts for layers in which every position attends to the others.
        mixing, verdicts = [], []
        for name, what in (("mha", "MultiHeadAttention"), ("block", "TransformerEncoderBlock")):
            if (failure := judges.failed_part(out[name], what)) is not None:
                mixing.append(failure)
                verdicts.append(failure)
                continue
            others = np.max(np.abs(out[f"{name}_nudged"][:, 1:] - out[name][:, 1:]), axis=-1)
            mixing.append(judges.property_holds(bool(np.all(others > 1e-4)),
                                                f"{what}: changing one position changes the output at every other position",
                                                "each output is a weighted sum over all positions"))
            scale = float(np.max(np.abs(out[name]))) or 1.0  # a pre-LN block's outputs are not normalised
            ok = np.allclose(out[f"{name}_perm"], out[name][:, p], atol=1e-5 * scale, rtol=1e-4)
            verdicts.append(judges.property_holds(ok, f"{what}: permuting the input positions permutes the output the same way",
                                                  "nothing in self-attention may depend on a token's position "
                                                  "(对序列的任意置换不会影响输出结果)"))
        verdicts.append(judges.property_of([out["block_pe_perm"], out["block_pe"]],
                                           lambda moved, fixed: not np.allclose(moved, fixed[:, p], atol=1e-3),
                                           "adding positional_encoding breaks the symmetry",
                                           "x + PE permuted should not give the permuted output"))
        return judges.gated(mixing, verdicts, weights=[0.5, 0.5, 1, 1, 1])


class MultiHeadAttentionMatchesKeras(Check):
    """MultiHeadAttention (d_model 12, 3 heads) equals keras.layers.MultiHeadAttention carrying its weights"""

    visibility = HIDDEN
    points = 1
    budget = 20
    uses_reference = False
    by_hand = (attention_rule(*ATTENTION_CORE),)
    D_MODEL, HEADS = 12, 3

    def inputs(self, rng):
        mask = rng.random((2, 4, 7)) < 0.6
        mask[:, :, 0] = True
        public = {"x": rng.normal(size=(2, 5, 12)).astype(F32), "query": rng.normal(size=(2, 4, 12)).astype(F32),
                  "context": rng.normal(size=(2, 7, 12)).astype(F32), "cross_mask": mask,
                  "self_weights": mha_weights(rng, 12), "cross_weights": mha_weights(rng, 12)}
        # Keras runs here, in the trusted process (judge), on the same inputs.
        return Inputs(public=public, secret={k: public[k] for k in ("x", "query", "context", "cross_mask")})

    def observe(self, sub, x, query, context, cross_mask, self_weights, cross_weights):
        # The student's layer's outputs, and its weights read back as arrays:
        # judge runs keras.layers.MultiHeadAttention with them.
        out = {}
        causal = np.broadcast_to(np.tril(np.ones((5, 5), bool)), (2, 5, 5))
        cases = (("self", x, None, causal, self_weights), ("cross", query, context, cross_mask, cross_weights))

        def attend(name, q, c, mask, weights):
            layer = sub.MultiHeadAttention(self.D_MODEL, self.HEADS)
            layer(q, context=c)
            assign(layer, weights)
            y, scores = layer(q, context=c, attention_mask=mask, return_attention_scores=True)
            return {name: y, f"{name}_scores": scores, f"{name}_weights": mha_arrays(layer)}

        for case in cases:  # self- and cross-attention, each a part
            name = case[0]
            out.update(parts.together((name, f"{name}_scores", f"{name}_weights"), lambda: attend(*case)))
        return out

    def judge(self, got, want, secret):
        d = self.D_MODEL
        causal = np.broadcast_to(np.tril(np.ones((5, 5), bool)), (2, 5, 5))
        cases = (("self", "causal self-attention", secret["x"], secret["x"], causal),
                 ("cross", "cross-attention with a random mask", secret["query"], secret["context"], secret["cross_mask"]))
        verdicts = []
        for name, what, query, value, mask in cases:
            if (failure := judges.failed_part(got[name], f"MultiHeadAttention, {what}")) is not None:
                verdicts += [failure, failure]
                continue
            weights = {}
            for layer in ("wq", "wk", "wv", "wo"):
                dense = got[f"{name}_weights"][layer]
                weights[layer] = {"kernel": judges.as_array(dense["kernel"], f"{name} {layer}.kernel", shape=(d, d)),
                                  "bias": judges.as_array(dense["bias"], f"{name} {layer}.bias", shape=(d,))}
            want_out, want_scores = keras_mha(weights, self.HEADS, query, value, mask)
            verdicts.append(judges.close(got[f"{name}_scores"], want_scores,
                                         f"{what}: attention scores vs Keras (B, h, T_q, T_k)",
                                         hint="3 heads of d_k = 4: head j uses columns 4j … 4j+3"))
            verdicts.append(judges.close(got[name], want_out, f"{what}: output vs Keras"))
        return judges.all_of(verdicts)


class PositionalEncodingShift(Check):
    """positional_encoding(50, 32) and the linear-shift property PE[pos+k] = PE[pos] R_k, with R_j R_k = R_{j+k}"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 10
    by_hand = (numpy_rule("positional_encoding", "pe_shift_matrix",
                          why="the encoding and its shift matrix are the slide's formulas, computed in NumPy float64"),)
    SHIFTS = (1, 4, 17)

    def observe(self, sub):
        # positional_encoding and pe_shift_matrix, each call a part.
        out = parts.each(pe=lambda: sub.positional_encoding(50, 32), pe_small=lambda: sub.positional_encoding(7, 6))
        for k in self.SHIFTS + (21,):
            out[f"r{k}"] = parts.attempt(lambda: sub.pe_shift_matrix(k, 32))
        return out

    def judge(self, got, want, secret):
        verdicts = [judges.close(got["pe"], want["pe"], "positional_encoding(50, 32)", tol=1e-6),
                    judges.close(got["pe_small"], want["pe_small"], "positional_encoding(7, 6)", tol=1e-6)]
        for k in self.SHIFTS:
            what = f"PE[pos + {k}] vs PE[pos] @ R_{k} for every pos"
            # The property needs both functions: a failed one scores it 0 with its reason.
            failure = judges.failed_part(got["pe"], what) or judges.failed_part(got[f"r{k}"], what)
            if failure is not None:
                verdicts.append(failure)
                continue
            pe = judges.as_array(got["pe"], "positional_encoding(50, 32)", shape=(50, 32))
            r = judges.as_array(got[f"r{k}"], f"pe_shift_matrix({k}, 32)", shape=(32, 32))
            verdicts.append(judges.close(pe[:-k] @ r, pe[k:], what, tol=1e-6,
                                         hint="rows: PE[pos + k] = PE[pos] @ R_k; the slide's printed matrix is wrong"))
        what = "R_4 @ R_17 = R_21 (shifts compose)"
        verdicts.append(judges.failed_part(got["r4"], what) or judges.failed_part(got["r17"], what)
                        or judges.close(np.asarray(got["r4"]) @ np.asarray(got["r17"]), got["r21"], what, tol=1e-6))
        return judges.all_of(verdicts)


class DecoderBlockValues(Check):
    """TransformerDecoderBlock values (d_model 12, 3 heads, masked memory); both blocks end with a LayerNorm (post-LN)"""

    visibility = HIDDEN
    points = 0.5
    budget = 20
    by_hand = (attention_rule("TransformerDecoderBlock.call", "TransformerEncoderBlock.call", *ATTENTION_CORE),)

    def inputs(self, rng):
        mask = np.ones((2, 1, 7), bool)
        mask[0, :, 4:] = False
        return {"y": rng.normal(size=(2, 5, 12)).astype(F32), "memory": rng.normal(size=(2, 7, 12)).astype(F32),
                "memory_mask": mask, "weights": loud(decoder_weights(rng, 12, 20)),
                "x": (3 + 2 * rng.normal(size=(2, 6, 12))).astype(F32)}

    def observe(self, sub, y, memory, memory_mask, weights, x):
        def decoded():
            decoder = sub.TransformerDecoderBlock(12, 3, 20)
            decoder(y, memory)
            fresh = decoder(y, memory, memory_mask=memory_mask)
            assign(decoder, weights)
            return {"y": decoder(y, memory, memory_mask=memory_mask), "fresh": fresh}

        # The decoder block and the encoder block: each a part.
        out = parts.together(("y", "fresh"), decoded)
        out["fresh"] = {"decoder": out["fresh"], "encoder": parts.attempt(lambda: sub.TransformerEncoderBlock(12, 3, 20)(x))}
        return out

    def judge(self, got, want, secret):
        values = [judges.close(got["y"], want["y"], "decoder block output with a memory mask", tol=BLOCK_TOL,
                               hint="h1 = norm1(y + causal self-attention), h2 = norm2(h1 + cross-attention to memory), "
                                    "out = norm3(h2 + ffn2(ffn1(h2)))")]
        verdicts = []
        for name in ("encoder", "decoder"):
            fresh = got["fresh"][name]
            if parts.failed(fresh) is None:
                fresh = judges.as_array(fresh, f"fresh {name} block output")
            verdicts.append(judges.property_of(
                [fresh], lambda out: np.allclose(out.mean(axis=-1), 0, atol=1e-4) and np.allclose(out.var(axis=-1), 1, atol=1e-2),
                f"a freshly built {name} block's outputs have mean 0 and variance 1 per position",
                "post-LN: the block's last operation is LayerNorm(h + sublayer(h)) (γ = 1, β = 0 at first)"))
        # Any LayerNorm of anything has mean 0 and variance 1: that counts with the right values only.
        return judges.gated(values, verdicts, weights=[2, 1, 1])


class PositionalEncodingContrast(Check):
    """Without positional encoding the Transformer cannot see the source's order; the encoding (no parameters) breaks the symmetry"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 20
    uses_reference = False
    by_hand = (attention_rule("build_transformer", *ATTENTION_CORE),)

    def inputs(self, rng):
        perm = rng.permutation(5)
        source = rng.integers(1, 8, size=(4, 5)).astype(np.int32)
        other = source.copy()
        other[:, 2] = (other[:, 2] % 7) + 1  # another token at one position
        public = {"source": source, "other_source": other,
                  "target_in": rng.integers(0, 8, size=(4, 5)).astype(np.int32), "perm": perm}
        return Inputs(public=public, secret={"perm": perm})

    def observe(self, sub, source, other_source, target_in, perm):
        # One model only (building a Transformer is the expensive part): the
        # one without the encoding, whose logits must ignore the source order.
        def transformer():
            model = sub.build_transformer(8, 6, d_model=16, num_heads=2, d_ff=32, num_layers=1,
                                          use_positional_encoding=False)
            return {"without": model([source, target_in], training=False),
                    "without_perm": model([source[:, perm], target_in], training=False),
                    "without_other": model([other_source, target_in], training=False)}

        def embedded():
            out, embeddings = {}, {}
            for name, use_pe in (("with", True), ("bag", False)):
                embedding = embeddings[name] = sub.PositionalEmbedding(8, 16, 6, use_positional_encoding=use_pe)
                out[f"{name}_embedded"] = embedding(source)
                out[f"{name}_embedded_perm"] = embedding(source[:, perm])
                out[f"{name}_params"] = embedding.count_params()
            # The same embedding weights in both layers: the difference is what the encoding contributes.
            embeddings["with"].set_weights(embeddings["bag"].get_weights())
            out["encoding_added"] = np.asarray(embeddings["with"](source)) - np.asarray(embeddings["bag"](source))
            return out

        # build_transformer, PositionalEmbedding and positional_encoding: each a part.
        return {**parts.together(("without", "without_perm", "without_other"), transformer),
                **parts.together(("with_embedded", "with_embedded_perm", "with_params", "bag_embedded",
                                  "bag_embedded_perm", "bag_params", "encoding_added"), embedded),
                "encoding_rows": parts.attempt(lambda: np.asarray(sub.positional_encoding(6, 16))[:5])}

    def judge(self, got, want, secret):
        perm = secret["perm"]

        def read(keys, shape):  # a part that failed stays a marker: what needs it scores 0 with its reason
            return {k: got[k] if parts.failed(got[k]) else judges.as_array(got[k], k, shape=shape) for k in keys}

        logits = read(("without", "without_perm", "without_other"), (4, 5, 8))
        embedded = read(("with_embedded", "with_embedded_perm", "bag_embedded", "bag_embedded_perm"), (4, 5, 16))
        scale = 1.0 if parts.failed(logits["without"]) else float(np.max(np.abs(logits["without"]))) or 1.0
        rows = got["encoding_rows"]
        if (failure := judges.failed_part(rows, "positional_encoding")) is not None:
            added = failure
        else:
            rows = np.asarray(rows, np.float64)
            if rows.shape != (5, 16):  # your positional_encoding's own rows, judged by positional_encoding_values
                rows = np.full((5, 16), np.nan)
            added = judges.close(got["encoding_added"], np.broadcast_to(rows, (4, 5, 16)),
                                 "PositionalEmbedding with minus without the encoding (same embedding weights)", tol=1e-5,
                                 hint="a_i = W x_i + PE_i: add the first T rows of positional_encoding(max_len, d_model)")
        # A model or a layer that ignores its input is "invariant" and "adds no
        # parameters" too: those count once the logits follow the source's tokens
        # and the embedding follows the tokens.
        return judges.gated([
            judges.property_of([logits["without"], logits["without_other"]],
                               lambda a, b: not np.allclose(a, b, atol=1e-4 * scale),
                               "build_transformer without positional encoding: the logits follow the source's tokens",
                               "the decoder reads the encoder memory of the source"),
            judges.property_of([embedded["with_embedded_perm"], embedded["with_embedded"]],
                               lambda moved, fixed: not np.allclose(moved, fixed[:, perm], atol=1e-3),
                               "PositionalEmbedding with the encoding: a token's vector depends on its position",
                               "add positional_encoding(T, d_model) to the token embeddings"),
            added,
            judges.property_of([embedded["bag_embedded_perm"], embedded["bag_embedded"]],
                               lambda moved, fixed: np.allclose(moved, fixed[:, perm], atol=1e-6)
                               and not np.allclose(fixed, fixed[:, :1], atol=1e-6),
                               "PositionalEmbedding without the encoding: each token's own embedding, wherever it stands",
                               "use_positional_encoding=False: the Embedding only"),
        ], [
            judges.property_of([logits["without"], logits["without_perm"]],
                               lambda a, b: np.allclose(a, b, atol=1e-5 * scale + 1e-6),
                               "build_transformer without positional encoding: permuting the source leaves the logits unchanged",
                               "use_positional_encoding=False must add no position information anywhere"),
            judges.equal(got["with_params"], got["bag_params"], "the sinusoidal encoding adds no parameters (没有参数)",
                         hint="parameter counts differ between use_positional_encoding=True and False"),
        ])


class PretrainingData(Check):
    """next_sentence_pairs (50 % IsNext, negatives from other documents), causal_lm_loss, sparse_attention_mask"""

    # Power of the statistical part (next_sentence_pairs), in
    # tests/labs/test_transformer_reference.py::test_next_sentence_pairs_power
    # (200 salts' inputs): the reference fails the 5σ IsNext count with
    # probability < 1e-6 (exact binomial tail); drawing NotNext sentences from
    # any document, A's own included, failed in all 200 (the two-document
    # call makes half of those negatives A's own: miss ≈ 2⁻¹⁵ per salt); a
    # constant IsNext label and randomness not from `rng` fail deterministic parts.
    visibility = HIDDEN
    points = 1
    budget = 15
    by_hand = (numpy_rule("next_sentence_pairs", "make_nsp_input", "sparse_attention_mask",
                          why="the pre-training data and the sparse mask are built in NumPy, the draws from the Generator "
                              "passed in"),)
    CLS, SEP = 1, 2
    #: Seeds seed + 2 … seed + 1 + COINS: the first A's coin, which the docstring fixes as the
    #: Generator's first draw, ``rng.random() < 0.5`` → IsNext (later coins follow other draws).
    COINS = 12

    def inputs(self, rng):
        documents, next_id = [], 10
        for _ in range(40):
            doc = []
            for _ in range(rng.integers(4, 12)):
                n = int(rng.integers(2, 6))
                doc.append(np.arange(next_id, next_id + n, dtype=np.int64))  # every sentence is unique
                next_id += n
            documents.append(doc)
        # Two documents of 16 sentences: a NotNext B from A's own document is
        # then half of all negatives, so that mistake cannot hide.
        pair = [[np.arange(next_id + 100 * d + 3 * i, next_id + 100 * d + 3 * i + 3, dtype=np.int64) for i in range(16)]
                for d in range(2)]
        logits = rng.normal(size=(3, 7, 11)) * 2
        tokens = rng.integers(0, 11, size=(3, 7))
        public = {"documents": documents, "two_documents": pair, "seed": int(rng.integers(2**31)), "logits": logits,
                  "tokens": tokens}
        return Inputs(public=public, secret={"documents": documents, "two_documents": pair, "tokens": tokens})

    def observe(self, sub, documents, two_documents, seed, logits, tokens):
        def pairs():
            examples = sub.next_sentence_pairs(documents, np.random.default_rng(seed), self.CLS, self.SEP)
            again = sub.next_sentence_pairs(documents, np.random.default_rng(seed), self.CLS, self.SEP)
            two = sub.next_sentence_pairs(two_documents, np.random.default_rng(seed + 1), self.CLS, self.SEP)
            first_coins = [int(sub.next_sentence_pairs(two_documents, np.random.default_rng(seed + 2 + i), self.CLS,
                                                       self.SEP)[0][2])
                           for i in range(self.COINS)]
            same = len(examples) == len(again) and all(
                np.array_equal(np.asarray(a[0]), np.asarray(b[0])) and int(a[2]) == int(b[2]) for a, b in zip(examples, again))
            return {"nsp": [[np.asarray(t), np.asarray(s), int(n)] for t, s, n in examples],
                    "nsp_two": [[np.asarray(t), np.asarray(s), int(n)] for t, s, n in two], "reproducible": bool(same),
                    "first_coins": first_coins}

        perfect = np.full(logits.shape, -20.0)
        for b in range(tokens.shape[0]):
            perfect[b, np.arange(tokens.shape[1] - 1), tokens[b, 1:]] = 20.0
        # next_sentence_pairs, make_nsp_input, causal_lm_loss and sparse_attention_mask: each call a part.
        return {**parts.together(("nsp", "nsp_two", "reproducible", "first_coins"), pairs),
                **parts.each(pair=lambda: list(sub.make_nsp_input(np.array([5, 6, 7]), np.array([8, 9]), self.CLS, self.SEP)),
                             loss=lambda: sub.causal_lm_loss(logits, tokens),
                             loss_perfect=lambda: sub.causal_lm_loss(perfect, tokens),
                             sparse_causal=lambda: np.asarray(sub.sparse_attention_mask(9, 2, causal=True)).astype(bool),
                             sparse_full=lambda: np.asarray(sub.sparse_attention_mask(10, 3, causal=False)).astype(bool))}

    def judge(self, got, want, secret):
        loss = judges.close(got["loss"], want["loss"], "causal_lm_loss", tol=1e-5,
                            hint="predict tokens[:, t + 1] from logits[:, t]: mean over B·(T − 1) predictions")
        # A constant 0 is also "≤ 1e-6 for perfect logits": that counts with the right loss only.
        perfect = judges.gated([loss], [judges.at_most(got["loss_perfect"], 1e-6,
                                                "causal_lm_loss when the logits predict the next token perfectly")])
        nsp = self._judge_nsp(got["nsp"], secret["documents"])
        nsp_two = self._judge_nsp(got["nsp_two"], secret["two_documents"], where=" (two documents)")
        coins = judges.equal(got["first_coins"], want["first_coins"],
                             f"the first pair's is_next for {self.COINS} Generator seeds",
                             hint="as the docstring says: B is the next sentence when rng.random() < 0.5 (the first draw)")
        nsp_all = judges.gated([nsp, nsp_two, coins], [judges.property_holds(got["reproducible"],
                                                               "next_sentence_pairs draws from `rng` (same seed, same pairs)")])
        verdicts = [
            judges.equal(got["pair"], want["pair"], "make_nsp_input([5, 6, 7], [8, 9]) tokens and segments",
                         hint="[CLS] A [SEP] B [SEP]; segment 0 up to the first [SEP], then 1"),
            perfect,
            judges.equal(got["sparse_causal"], want["sparse_causal"], "sparse_attention_mask(9, k=2, causal)",
                         hint="local: |i − j| ≤ k; atrous: i − j a multiple of k; causal: j ≤ i"),
            judges.equal(got["sparse_full"], want["sparse_full"], "sparse_attention_mask(10, k=3, causal=False)"),
            nsp_all,
        ]
        return judges.all_of(verdicts, weights=[1, 2, 1, 1, 3])

    def _judge_nsp(self, examples, documents, where=""):
        if (failure := judges.failed_part(examples, f"next_sentence_pairs{where}")) is not None:
            return failure
        owner = {tuple(s.tolist()): d for d, doc in enumerate(documents) for s in doc}
        expected_a = [(d, i) for d, doc in enumerate(documents) for i in range(len(doc) - 1)]
        if not isinstance(examples, list) or len(examples) != len(expected_a):
            n = len(examples) if isinstance(examples, list) else "no list"
            return judges.Verdict(0.0, f"next_sentence_pairs{where}: {n} examples, expected one per sentence that has a next one")
        problems, n_next = [], 0
        for (d, i), example in zip(expected_a, examples):
            tokens, segments, is_next = np.asarray(example[0]).astype(int), np.asarray(example[1]).astype(int), int(example[2])
            a = documents[d][i]
            if tokens.ndim != 1 or len(tokens) < len(a) + 3 or tokens[0] != self.CLS or tokens[len(a) + 1] != self.SEP \
                    or tokens[-1] != self.SEP or not np.array_equal(tokens[1:len(a) + 1], a):
                problems.append("an example is not [CLS] A [SEP] B [SEP] with A the sentences in document order")
                break
            b = tuple(tokens[len(a) + 2:-1].tolist())
            want_segments = np.r_[np.zeros(len(a) + 2), np.ones(len(b) + 1)]
            if segments.shape != want_segments.shape or not np.array_equal(segments, want_segments):
                problems.append("segment ids: 0 for [CLS] A [SEP], 1 for B [SEP]")
                break
            if is_next == 1:
                n_next += 1
                if b != tuple(documents[d][i + 1].tolist()):
                    problems.append("an IsNext example whose B is not the sentence after A")
                    break
            elif is_next == 0:
                if owner.get(b) in (None, d):
                    problems.append("a NotNext example whose B is not a sentence of another document")
                    break
            else:
                problems.append("is_next must be 0 or 1")
                break
        n = len(examples)
        if not problems and not judges.binomial_ok(n_next, n, 0.5):
            problems.append(f"{n_next} of {n} pairs are IsNext; B should be the next sentence half of the time")
        return judges.property_holds(not problems, f"next_sentence_pairs{where}: format, labels and 50 % IsNext",
                                     "; ".join(problems))


class MemoryGradients(Check):
    """memory_write_backward and content_addressing gradients in float64: vs the reference and numeric gradients"""

    visibility = HIDDEN
    points = 1
    kind = "gradient"
    budget = 20
    by_hand = (numpy_rule("memory_write_backward",
                          why="its gradients are written by hand in NumPy: no GradientTape, no TensorFlow or Keras"),)

    def inputs(self, rng):
        return {"memory": rng.normal(size=(2, 4, 3)), "w": rng.dirichlet(np.ones(4), size=2),
                "erase": rng.uniform(size=(2, 3)), "add": rng.normal(size=(2, 3)), "d_new": rng.normal(size=(2, 4, 3)),
                "key": rng.normal(size=(2, 3)), "beta": rng.uniform(1, 4, size=2), "g": rng.normal(size=(2, 4))}

    def observe(self, sub, memory, w, erase, add, d_new, key, beta, g):
        import tensorflow as tf

        args = {"memory": memory, "w": w, "erase": erase, "add": add}

        def numeric():
            out = {}
            for name in args:
                def f(value, name=name):
                    return sub.memory_write(**{**args, name: value})
                out[f"num_d_{name}"] = numeric_gradient(f, args[name], d_new)
            return out

        def tape():
            tm, tk, tb = tf.constant(memory), tf.constant(key), tf.constant(beta)
            with tf.GradientTape() as recorder:
                recorder.watch([tm, tk, tb])
                alpha = sub.content_addressing(tm, tk, tb)
                loss = tf.reduce_sum(tf.cast(alpha, tf.float64) * g)
            grads = recorder.gradient(loss, [tm, tk, tb])
            if any(grad is None for grad in grads):
                raise TypeError("content_addressing is not differentiable: the tape found no gradient "
                                "(use keras.ops / TensorFlow operations, not NumPy)")
            return {"dtype": str(alpha.dtype.name) if hasattr(alpha, "dtype") else type(alpha).__name__,
                    "ca_memory": grads[0], "ca_key": grads[1], "ca_beta": grads[2]}

        def numeric_addressing():
            return {"num_ca_memory": numeric_gradient(lambda v: sub.content_addressing(v, key, beta), memory, g),
                    "num_ca_key": numeric_gradient(lambda v: sub.content_addressing(memory, v, beta), key, g)}

        # memory_write_backward, memory_write (numerically), content_addressing on a tape and numerically:
        # each a part.
        return {**parts.together(("d_memory", "d_w", "d_erase", "d_add"),
                                 lambda: dict(zip(("d_memory", "d_w", "d_erase", "d_add"),
                                                  sub.memory_write_backward(d_new, memory, w, erase, add)))),
                **parts.together(tuple(f"num_d_{name}" for name in args), numeric),
                **parts.together(("dtype", "ca_memory", "ca_key", "ca_beta"), tape),
                **parts.together(("num_ca_memory", "num_ca_key"), numeric_addressing)}

    def judge(self, got, want, secret):
        # Against the reference: what earns the points. Against your own
        # forward function and the dtype: a constant (zero gradients of a
        # constant write) agrees with itself, so those count with the rest only.
        versus_reference, own = [], [judges.equal(got["dtype"], "float64", "content_addressing output dtype for float64 inputs")]
        for name in ("memory", "w", "erase", "add"):
            versus_reference.append(judges.gradient(got[f"d_{name}"], want[f"d_{name}"], f"memory_write_backward d_{name}",
                                                    hint="m'ᵢ = mᵢ ⊙ (1 − αᵢ e) + αᵢ a"))
            what = f"d_{name} vs a numeric gradient of your memory_write"
            own.append(judges.failed_part(got[f"num_d_{name}"], f"{what}: memory_write")
                       or judges.gradient(got[f"d_{name}"], got[f"num_d_{name}"], what, tol=1e-6))
        for name in ("memory", "key", "beta"):
            versus_reference.append(judges.gradient(got[f"ca_{name}"], want[f"ca_{name}"],
                                                    f"tape gradient of content_addressing w.r.t. {name}",
                                                    hint="softmax(β · cos(mᵢ, k)) with cos = m·k / (‖m‖‖k‖ + 1e-8)"))
        for name in ("memory", "key"):
            what = f"tape vs numeric gradient of content_addressing w.r.t. {name}"
            own.append(judges.failed_part(got[f"num_ca_{name}"], f"{what}: the numeric gradient")
                       or judges.gradient(got[f"ca_{name}"], got[f"num_ca_{name}"], what, tol=1e-6))
        return judges.gated(versus_reference, own)


class GreedyDecode(Check):
    """greedy_decode on a scripted model whose next token is known: feeds back its own tokens, reads the last position"""

    visibility = HIDDEN
    points = 0.5
    budget = 10
    uses_reference = False
    VOCAB, LENGTH, BOS = 9, 6, 3

    def inputs(self, rng):
        table = rng.integers(0, self.VOCAB, size=(self.VOCAB, self.VOCAB))
        source = rng.integers(0, self.VOCAB, size=(5, self.LENGTH)).astype(np.int32)
        return Inputs(public={"table": table, "source": source}, secret={"table": table, "source": source})

    def observe(self, sub, table, source):
        return {"tokens": sub.greedy_decode(scripted_model(table), source, self.BOS, self.LENGTH)}

    def judge(self, got, want, secret):
        want_tokens = scripted_decode(secret["table"], secret["source"], self.BOS, self.LENGTH)
        tokens = judges.as_array(got["tokens"], "greedy_decode output", shape=want_tokens.shape)
        wrong = int(np.sum(tokens != want_tokens))
        return judges.property_holds(
            wrong == 0, f"greedy_decode with bos_id={self.BOS} on a scripted model (B = 5, length {self.LENGTH})",
            f"{wrong} of {tokens.size} tokens differ: start from [bos_id], call the model on the tokens so far, append the "
            "argmax at the last position, return the tokens after the start token")


class TransformerArchitecture(Check):
    """build_transformer(num_layers=2) as its docstring says: every block on the path, causal in the targets, logits"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 20
    uses_reference = False
    by_hand = (attention_rule("build_transformer", *ATTENTION_CORE),)
    VOCAB, MAX_LEN, LAYERS = 9, 7, 2

    def inputs(self, rng):
        source = rng.integers(1, self.VOCAB, size=(3, 6)).astype(np.int32)
        target_in = rng.integers(0, self.VOCAB, size=(3, 5)).astype(np.int32)
        later = target_in.copy()
        later[:, 3:] = (later[:, 3:] + 1 + rng.integers(0, self.VOCAB - 1, size=(3, 2))) % self.VOCAB
        return {"source": source, "target_in": target_in, "later": later}

    def observe(self, sub, source, target_in, later):
        model = sub.build_transformer(self.VOCAB, self.MAX_LEN, d_model=24, num_heads=3, d_ff=40, num_layers=self.LAYERS)
        logits = np.asarray(model([source, target_in], training=False))
        out = {"logits": logits, "later": np.asarray(model([source, later], training=False)), "blocks": [], "effect": []}
        noise = np.random.default_rng(0)
        # Each of the lab's layers, its weights nudged: does the output move?
        for name, layer in blocks_of(model, sub):
            if name == "MultiHeadAttention":
                continue  # inside a block: the block's own nudge covers it
            saved = weights_of(layer)
            for var, value in zip(layer.weights, saved):
                var.assign((value + noise.normal(0, 0.3, size=value.shape)).astype(np.dtype(var.dtype)))
            out["blocks"].append(name)
            out["effect"].append(float(np.max(np.abs(np.asarray(model([source, target_in], training=False)) - logits))))
            for var, value in zip(layer.weights, saved):
                var.assign(value.astype(np.dtype(var.dtype)))
        return out

    def judge(self, got, want, secret):
        logits = judges.as_array(got["logits"], "model logits", shape=(3, 5, self.VOCAB))
        later = judges.as_array(got["later"], "model logits, later targets changed", shape=(3, 5, self.VOCAB))
        names, effect = list(got["blocks"]), [float(e) for e in got["effect"]]
        counts = {k: names.count(k) for k in ("TransformerEncoderBlock", "TransformerDecoderBlock", "PositionalEmbedding")}
        off_path = sorted({n for n, e in zip(names, effect) if e <= 1e-5})
        probabilities = bool(np.all(logits >= 0) and np.allclose(logits.sum(-1), 1, atol=1e-4))
        substantive = [
            judges.property_holds(counts["TransformerEncoderBlock"] == self.LAYERS == counts["TransformerDecoderBlock"],
                                  f"num_layers={self.LAYERS}: {self.LAYERS} encoder and {self.LAYERS} decoder blocks",
                                  f"the model holds {counts['TransformerEncoderBlock']} TransformerEncoderBlock and "
                                  f"{counts['TransformerDecoderBlock']} TransformerDecoderBlock layer(s)"),
            judges.property_holds(counts["PositionalEmbedding"] == 2, "a PositionalEmbedding for the source and one for the target",
                                  f"found {counts['PositionalEmbedding']}"),
            judges.property_holds(bool(names) and not off_path, "every block and embedding is on the path to the logits",
                                  f"changing the weights of {', '.join(off_path) or 'nothing'} leaves the logits unchanged: "
                                  "stack the encoder blocks, feed the last one's output to every decoder block"),
            judges.property_holds(not np.allclose(logits[:, 3:], later[:, 3:], atol=1e-5),
                                  "the logits at positions ≥ 3 follow the targets there"),
            judges.property_holds(not probabilities, "the model returns logits (no softmax)",
                                  "the last layer is Dense(vocab_size) without an activation"),
        ]
        causal = judges.property_holds(np.allclose(logits[:, :3], later[:, :3], atol=1e-5),
                                       "the logits at positions < 3 ignore target_in at positions ≥ 3 (causal decoder)")
        return judges.gated(substantive, [causal])
