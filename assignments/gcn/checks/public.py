"""Public checks of the GCN lab: students run these with ``pytest`` or
``grader check gcn``. Each ``observe`` calls your code; each ``judge``
compares with the reference's result on the same inputs, with a property the
slides state, or (training checks) with labels your code never sees."""

import numpy as np

from grader.checks import Check, Inputs, judges, parts

from .common import (CHEBYSHEV_RULE, DROP_EDGE_RULE, EXACT, GAT_RULE, GCN_NORM_RULE, LAPLACIAN_RULE, LINK_RULE,
                     PAIR_NORM_RULE, PROPAGATE_RULE, SPECTRAL_RULE, adjacency_from_edges,
                     as_sparse_tensor, components, edge_list, gcn_inference, gcn_matrix,
                     layer_weights, negative_pairs, observed_sparse, random_graph, roc_auc, row_normalize,
                     same_architecture, sparse_parts, sparse_tensor, sym_normalized,
                     train_full_batch, train_link_predictor)


class Laplacians(Check):
    """laplacians: L, L_sym, L_rw values; L𝟏 = 0, PSD, one zero eigenvalue per connected component"""

    points = 0.5
    budget = 10
    by_hand = (LAPLACIAN_RULE,)

    def inputs(self, rng):
        a1 = random_graph(rng, 7, 0.4)
        a2 = np.zeros((8, 8))
        a2[:4, :4], a2[4:, 4:] = random_graph(rng, 4, 0.5), random_graph(rng, 4, 0.5)
        return Inputs(public={"a1": a1, "a2": a2}, secret={"components": components(a2)})

    def observe(self, sub, a1, a2):
        import scipy.sparse as sp

        def dense():
            lap, lap_sym, lap_rw = sub.laplacians(a1)
            return {"L": lap, "L_sym": lap_sym, "L_rw": lap_rw}

        # A dense and a scipy.sparse input: each a part of its own.
        return {**parts.together(("L", "L_sym", "L_rw"), dense),
                "L2": parts.attempt(lambda: sub.laplacians(sp.csr_matrix(a2))[0])}

    def judge(self, got, want, secret):
        verdicts = [judges.close(got[k], want[k], f"{k} of a 7-node graph", tol=EXACT) for k in ("L", "L_sym", "L_rw")]
        try:
            lap = judges.as_array(got["L2"], "L of an 8-node graph (scipy.sparse input)", shape=(8, 8))
        except judges.BadObservation as exc:  # it costs the sparse input's three verdicts
            return judges.all_of(verdicts + [judges.Verdict(0.0, str(exc))], weights=[1, 1, 1, 3])
        eig = np.linalg.eigvalsh((lap + lap.T) / 2)
        zeros = int(np.sum(np.abs(eig) < 1e-9))
        verdicts.append(judges.property_holds(zeros == secret["components"],
                                              "number of zero eigenvalues = number of components",
                                              f"found {zeros} zero eigenvalue(s) for a graph with two connected components"))
        # A zero matrix also sums to 0 and is PSD: these count once the values are right.
        return judges.gated(verdicts, [
            judges.property_holds(np.allclose(lap @ np.ones(8), 0, atol=1e-9), "L𝟏 = 0 (sparse input)",
                                  "every row of D − A sums to d_i − d_i = 0"),
            judges.property_holds(np.allclose(lap, lap.T) and eig[0] > -1e-9, "L is symmetric positive semi-definite"),
        ])


class GraphFourier(Check):
    """fourier_basis, gft/igft, smoothness, spectral_filter and normalized_lambda_max"""

    points = 0.5
    budget = 10
    by_hand = (SPECTRAL_RULE,)

    def inputs(self, rng):
        a = random_graph(rng, 8, 0.35)
        lap = np.diag(a.sum(axis=1)) - a
        f, x = rng.normal(size=8), rng.normal(size=(8, 3))
        return Inputs(public={"a": a, "lap": lap, "f": f, "x": x}, secret={"lap": lap, "f": f})

    def observe(self, sub, a, lap, f, x):
        def basis():
            lam, u = sub.fourier_basis(lap)
            return {"lam": lam, "u": u}

        # Every function a part of its own; gft needs your U and igft your f̂: each fails with what it needs.
        out = parts.together(("lam", "u"), basis)
        out["f_hat"] = out["u"] if parts.failed(out["u"]) else parts.attempt(lambda: sub.gft(f, out["u"]))
        out["back"] = out["f_hat"] if parts.failed(out["f_hat"]) else \
            parts.attempt(lambda: sub.igft(out["f_hat"], out["u"]))
        out.update(parts.each(smooth=lambda: sub.smoothness(f, lap),
                              filtered=lambda: sub.spectral_filter(x, lap, lambda lam: np.exp(-0.5 * lam)),
                              filtered_1d=lambda: sub.spectral_filter(f, lap, lambda lam: 1.0 / (1.0 + lam)),
                              lambda_max=lambda: [sub.normalized_lambda_max(a, gamma) for gamma in (0.0, 1.0)]))
        return out

    def judge(self, got, want, secret):
        lap, f = secret["lap"], secret["f"]
        verdicts = [judges.close(got["lam"], want["lam"], "eigenvalues (ascending)", tol=EXACT),
                    judges.close(got["smooth"], want["smooth"], "smoothness fᵀLf", tol=EXACT)]
        if parts.failed(got["u"]):
            # fourier_basis failed (the eigenvalues' verdict says why): the three verdicts on U score 0.
            verdicts += [judges.Verdict(0.0, "")] * 3
        else:
            try:
                u = judges.as_array(got["u"], "U", shape=(8, 8))
                lam = judges.as_array(got["lam"], "eigenvalues", shape=(8,))
            except judges.BadObservation as exc:
                return judges.all_of(verdicts[:1] + [judges.Verdict(0.0, str(exc))])
            verdicts += [
                judges.property_holds(np.allclose(u.T @ u, np.eye(8), atol=1e-9) and np.allclose(lap @ u, u * lam, atol=1e-8),
                                      "U is orthonormal and L U = U Λ", "column k of U must be the eigenvector of lam[k]"),
                judges.close(got["f_hat"], u.T @ f, "gft(f, U) = Uᵀf", tol=EXACT),
                judges.close(got["smooth"], float(np.sum(lam * (u.T @ f) ** 2)), "fᵀLf = Σ λ_k f̂_k²", tol=1e-8),
            ]
        verdicts += [
            judges.close(got["filtered"], want["filtered"], "spectral_filter with g(λ) = exp(−λ/2)", tol=EXACT,
                         hint="U diag(g(λ)) Uᵀ x: scale frequency k of every column by g(lam[k])"),
            judges.close(got["filtered_1d"], want["filtered_1d"], "spectral_filter of one signal (n,), g(λ) = 1/(1 + λ)",
                         tol=EXACT, hint="a signal (n,) comes back as (n,)"),
            judges.close(got["lambda_max"], want["lambda_max"], "normalized_lambda_max for γ = 0 and γ = 1", tol=1e-8),
        ]
        # gft and igft that both return their input also round-trip: it counts once gft is right.
        return judges.gated(verdicts, [judges.close(got["back"], f, "igft(gft(f, U), U) = f", tol=EXACT)])


class Chebyshev(Check):
    """scaled_laplacian, chebyshev_basis (dense and sparse L̃) and ChebConv values, K = 3"""

    points = 1
    budget = 15
    K = 3
    by_hand = (CHEBYSHEV_RULE,)

    def inputs(self, rng):
        a = random_graph(rng, 9, 0.3)
        adj, lap_sym = sym_normalized(a)
        return {"lap_sym": lap_sym, "l_tilde": -adj, "x": rng.normal(size=(9, 3)),
                "kernel": 0.5 * rng.normal(size=(self.K + 1, 3, 2)), "bias": rng.normal(size=2)}

    def observe(self, sub, lap_sym, l_tilde, x, kernel, bias):
        import scipy.sparse as sp
        import tensorflow as tf

        x32 = tf.constant(x, tf.float32)
        sparse_lt = as_sparse_tensor(sp.csr_matrix(l_tilde), "the scaled Laplacian")

        def layer(**options):
            cheb = sub.ChebConv(2, self.K, **options)
            cheb(x32, sparse_lt)
            cheb.kernel.assign(kernel.astype(np.float32))
            cheb.bias.assign(bias.astype(np.float32))
            return cheb

        def sparse_input():
            lt_sparse = sub.scaled_laplacian(sp.csr_matrix(lap_sym))
            return {"l_tilde_sparse": sp.csr_matrix(lt_sparse).toarray(), "sparse_stays_sparse": sp.issparse(lt_sparse)}

        def linear():
            cheb = layer()
            return {"y_sparse": cheb(x32, sparse_lt), "y_dense": cheb(x32, tf.constant(l_tilde, tf.float32))}

        # Every call a part of its own (the linear layer one part, with a sparse and a dense L̃).
        return {"l_tilde": parts.attempt(lambda: sub.scaled_laplacian(lap_sym)),
                **parts.together(("l_tilde_sparse", "sparse_stays_sparse"), sparse_input),
                **parts.each(basis=lambda: sub.chebyshev_basis(l_tilde, x, self.K),
                             basis_k0=lambda: sub.chebyshev_basis(l_tilde, x, 0),
                             basis_k1=lambda: sub.chebyshev_basis(l_tilde, x, 1),
                             y_relu=lambda: layer(activation="relu")(x32, sparse_lt),
                             basis_sparse=lambda: sub.chebyshev_basis(sp.csr_matrix(l_tilde), x, self.K)),
                **parts.together(("y_sparse", "y_dense"), linear)}

    def judge(self, got, want, secret):
        return judges.gated([
            judges.close(got["l_tilde"], want["l_tilde"], "scaled_laplacian(L_sym) = L_sym − I", tol=EXACT),
            judges.close(got["l_tilde_sparse"], want["l_tilde"], "scaled_laplacian of a sparse L_sym", tol=EXACT),
            judges.close(got["basis"], want["basis"], "chebyshev_basis(L̃, x, K=3)", tol=EXACT,
                         hint="F_0 = x, F_1 = L̃x, F_k = 2 L̃ F_{k−1} − F_{k−2}; stack K+1 terms"),
            judges.close(got["basis_sparse"], want["basis"], "chebyshev_basis with a scipy.sparse L̃", tol=EXACT),
            judges.close(got["basis_k0"], want["basis_k0"], "chebyshev_basis(L̃, x, K=0) = [x]", tol=EXACT,
                         hint="K = 0 keeps the single term T_0(L̃)x = x, shaped (1, n, F)"),
            judges.close(got["basis_k1"], want["basis_k1"], "chebyshev_basis(L̃, x, K=1) = [x, L̃x]", tol=EXACT,
                         hint="K = 1 stops after F_1 = L̃x: two terms, shaped (2, n, F)"),
            judges.close(got["y_relu"], want["y_relu"], "ChebConv(2, K=3, activation='relu') output"),
            judges.close(got["y_sparse"], want["y_sparse"], "ChebConv(2, K=3) output, L̃ as a tf.SparseTensor",
                         hint="y = Σ_k T_k(L̃) x @ kernel[k] + bias"),
            judges.close(got["y_dense"], want["y_dense"], "ChebConv output, L̃ as a dense tensor"),
        ], [judges.equal(got["sparse_stays_sparse"], True, "scaled_laplacian keeps a sparse input sparse")])


class GcnLayer(Check):
    """gcn_norm (sparse, with and without self-loops) and GCNLayer values with sparse and dense inputs"""

    points = 1
    budget = 15
    by_hand = (GCN_NORM_RULE,)

    def inputs(self, rng):
        a = np.zeros((8, 8))
        a[:7, :7] = random_graph(rng, 7, 0.35)  # node 7 is isolated
        return {"a": a, "a_hat": gcn_matrix(a), "x": rng.normal(size=(8, 5)), "kernel": rng.normal(size=(5, 3)),
                "bias": rng.normal(size=3)}

    def observe(self, sub, a, a_hat, x, kernel, bias):
        import scipy.sparse as sp
        import tensorflow as tf

        # The same graph as a scipy.sparse matrix that still stores the removed edge 7–0 as an explicit 0
        # (what `csr[i, j] = 0` leaves behind): node 7 stays isolated, its degree is 0.
        rows, cols = np.nonzero(a)
        pruned = sp.csr_matrix((np.r_[a[rows, cols], 0.0, 0.0], (np.r_[rows, 7, 0], np.r_[cols, 0, 7])), shape=a.shape)
        x32, sparse_a = tf.constant(x, tf.float32), as_sparse_tensor(sp.csr_matrix(a_hat), "Â")
        x_sparse = sparse_tensor(sparse_parts(sp.csr_matrix(np.where(np.abs(x) > 1, x, 0))))

        def self_loops():
            norm = sub.gcn_norm(sp.csr_matrix(a))
            return {"a_hat": sp.csr_matrix(norm).toarray(), "is_sparse": sp.issparse(norm)}

        def layer():
            gcn = sub.GCNLayer(3, activation="relu")
            gcn(x32, sparse_a)
            gcn.kernel.assign(kernel.astype(np.float32))
            gcn.bias.assign(bias.astype(np.float32))
            return gcn

        def dense_features():
            gcn = layer()
            return {"y_sparse": gcn(x32, sparse_a), "y_dense": gcn(x32, tf.constant(a_hat, tf.float32))}

        # Every call a part of its own (the layer on dense features one part, with a sparse and a dense Â).
        return {**parts.together(("a_hat", "is_sparse"), self_loops),
                **parts.each(no_loops=lambda: sp.csr_matrix(sub.gcn_norm(a, add_self_loops=False)).toarray(),
                             no_loops_pruned=lambda: sp.csr_matrix(sub.gcn_norm(pruned, add_self_loops=False)).toarray()),
                **parts.together(("y_sparse", "y_dense"), dense_features),
                "y_sparse_features": parts.attempt(lambda: layer()(x_sparse, sparse_a))}

    def judge(self, got, want, secret):
        return judges.gated([
            judges.close(got["a_hat"], want["a_hat"], "gcn_norm(A) = D̃^{-1/2}(A + I)D̃^{-1/2}", tol=EXACT,
                         hint="degrees of Ã = A + I, so an isolated node gets Â_ii = 1"),
            judges.close(got["no_loops"], want["no_loops"], "gcn_norm(A, add_self_loops=False)", tol=EXACT,
                         hint="D^{-1/2} A D^{-1/2}, with 0 for the isolated node's degree"),
            judges.close(got["no_loops_pruned"], want["no_loops"],
                         "gcn_norm(A, add_self_loops=False), A sparse with an explicitly stored 0 (removed edge 7–0)",
                         tol=EXACT, hint="node 7's degree is 0, so its d^{-1/2} must be 0, not 1/√0 = inf (inf · 0 = NaN)"),
            judges.close(got["y_sparse"], want["y_sparse"], "GCNLayer(3, 'relu') with a sparse Â",
                         hint="relu(Â (H W) + b)"),
            judges.close(got["y_dense"], want["y_dense"], "GCNLayer with a dense Â"),
            judges.close(got["y_sparse_features"], want["y_sparse_features"], "GCNLayer with tf.SparseTensor features"),
        ], [judges.equal(got["is_sparse"], True, "gcn_norm returns a scipy.sparse matrix")])


class GcnCoraTraining(Check):
    """build_gcn: a 2-layer GCN trained on Cora's 140 labelled nodes, accuracy on the 1,000 test nodes

    The check trains the student's model with its own loop, then predicts
    itself: the grader's NumPy forward pass of the specified GCN (hidden
    layers ``σ(Â H W + b)``, a linear output layer) from the trained
    ``gcn_layers`` weights and the student's Â. The model's own output must
    be that forward pass (a structure gate: any other architecture, a
    missing activation or an extra one, scores 0), and the accuracy is the
    grader's predictions'."""

    points = 1.5
    kind = "training"
    budget = 60
    uses_reference = False
    dataset = "cora"

    def inputs(self, rng):
        from grader.data import planetoid

        g = planetoid(self.dataset)
        return Inputs(
            public={"features": sparse_parts(row_normalize(g.features)), "edges": g.edges(),
                    "num_nodes": g.num_nodes, "num_classes": g.num_classes,
                    "train_index": g.train_index, "y_train": g.labels[g.train_index],
                    "config": dict(self.config["config"]), "epochs": self.config["epochs"],
                    "learning_rate": self.config["learning_rate"]},
            secret={"test_index": g.test_index, "y_test": g.labels[g.test_index],
                    "val_index": g.val_index, "y_val": g.labels[g.val_index],
                    "features": row_normalize(g.features), "num_classes": g.num_classes,
                    "config": dict(self.config["config"])})

    def observe(self, sub, features, edges, num_nodes, num_classes, train_index, y_train, config, epochs,
                learning_rate):
        import scipy.sparse as sp

        norm = sub.gcn_norm(adjacency_from_edges(edges, num_nodes))
        a_hat = as_sparse_tensor(norm, "gcn_norm")
        model = sub.build_gcn(num_classes, dict(config))
        logits, losses = train_full_batch(model, sparse_tensor(features), a_hat, train_index, y_train,
                                          epochs=epochs, learning_rate=learning_rate)
        return {"logits": logits, "weights": layer_weights(model.gcn_layers, ("kernel", "bias")),
                "a_hat": sparse_parts(sp.csr_matrix(norm)), "loss": losses[::50] + losses[-1:]}

    @staticmethod
    def grader_logits(got, secret):
        """The grader's logits and the structure verdict (raises BadObservation)."""
        cfg = secret["config"]
        logits = gcn_inference(got, secret["features"], hidden=cfg["hidden"], outputs=secret["num_classes"],
                               layers=cfg["num_layers"], activation=cfg["activation"])
        structure = same_architecture(
            got["logits"], logits, "the model's logits = the 2-layer GCN of its gcn_layers' weights",
            hint=f"GCNLayer(hidden, {cfg['activation']!r}) then GCNLayer(num_classes) with no activation; "
                 "at inference dropout does nothing and nothing else is added")
        return logits, structure

    @classmethod
    def metric(cls, got, secret) -> float:
        """Test accuracy of the grader's predictions (raises BadObservation on a malformed observation)."""
        logits, _ = cls.grader_logits(got, secret)
        return judges.accuracy(logits[secret["test_index"]], secret["y_test"])

    def judge(self, got, want, secret):
        try:
            logits, structure = self.grader_logits(got, secret)
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        if not structure.passed:
            return judges.Verdict(0.0, structure.message)
        acc = judges.accuracy(logits[secret["test_index"]], secret["y_test"])
        val = judges.accuracy(logits[secret["val_index"]], secret["y_val"])
        verdict = judges.at_least(acc, self.config["threshold"], "test accuracy", baseline=1 / 7)
        losses = ", ".join(f"{l:.3f}" for l in got["loss"])
        verdict.message += f" (validation accuracy {val:.3f}; training loss every 50 epochs: {losses})"
        return verdict


class GatAttention(Check):
    """GATLayer (2 heads): attention sums to 1 over N(i) ∪ {i}, is 0 elsewhere, and matches the reference; build_gat's weight decay"""

    points = 1
    budget = 15
    by_hand = (GAT_RULE,)

    def inputs(self, rng):
        a = random_graph(rng, 7, 0.3)
        a[2, 2] = 1  # one node already has its self-loop; the others get it from the layer
        data = {"a": a, "h": rng.normal(size=(7, 4)), "kernel": rng.normal(size=(4, 2, 3)),
                "attn_self": rng.normal(size=(2, 3)), "attn_neighbor": rng.normal(size=(2, 3)),
                # build_gat(3, GAT_CONFIG_SMALL)'s kernels: gat1 (4, 2 heads, 3 units), gat2 (2·3, 1 head, 3 classes)
                "gat_kernels": [rng.normal(size=(4, 2, 3)), rng.normal(size=(6, 1, 3))]}
        return Inputs(public=data, secret={"a": a})

    #: A small GAT whose weight decay build_gat must turn into the L2 penalty on both kernels.
    GAT_CONFIG_SMALL = {"hidden": 3, "heads": 2, "dropout": 0.6, "weight_decay": 0.02}

    def observe(self, sub, a, h, kernel, attn_self, attn_neighbor, gat_kernels):
        import tensorflow as tf

        h32, a32 = tf.constant(h, tf.float32), tf.constant(a, tf.float32)

        def attention(concat, key):
            layer = sub.GATLayer(3, heads=2, concat=concat)
            layer(h32, a32)
            for name, value in (("kernel", kernel), ("attn_self", attn_self), ("attn_neighbor", attn_neighbor)):
                getattr(layer, name).assign(value.astype(np.float32))
            y, alpha = layer(h32, a32, return_attention=True)
            return {key: y, f"alpha_{key}": alpha}

        def penalty():
            model = sub.build_gat(3, dict(self.GAT_CONFIG_SMALL))
            model((h32, a32))
            for layer, value in zip((model.gat1, model.gat2), gat_kernels):
                layer.kernel.assign(value.astype(np.float32))
            return float(sum(float(l) for l in model.losses))

        # Each head combination, and build_gat's weight decay, a part of its own.
        out = {}
        for concat, key in ((True, "concat"), (False, "mean")):
            out.update(parts.together((key, f"alpha_{key}"), lambda: attention(concat, key)))
        out["penalty"] = parts.attempt(penalty)
        return out

    def judge(self, got, want, secret):
        values = [
            judges.close(got["alpha_concat"], want["alpha_concat"], "attention values",
                         hint="e_ij = LeakyReLU(a_self·z_i + a_neighbor·z_j, 0.2), z = h W per head"),
            judges.close(got["concat"], want["concat"], "output with concat=True (n, heads·units)"),
            judges.close(got["mean"], want["mean"], "output with concat=False (heads averaged)"),
            judges.close(got["penalty"], want["penalty"], "sum of build_gat's model.losses (weight decay)",
                         hint="keras.regularizers.L2(weight_decay / 2) on gat1's and gat2's kernels"),
        ]
        if parts.failed(got["alpha_concat"]):  # the three properties of α (its values' verdict says why)
            return judges.gated(values, [judges.Verdict(0.0, "")] * 3)
        try:
            alpha = judges.as_array(got["alpha_concat"], "attention alpha", shape=(2, 7, 7))
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        allowed = (secret["a"] + np.eye(7)) > 0
        outside = float(np.max(np.abs(alpha[:, ~allowed])))
        # Uniform weights over each neighbourhood have the three properties too: they count once α is right.
        return judges.gated(values, [
            judges.property_holds(np.allclose(alpha.sum(axis=-1), 1, atol=1e-5), "each row of α sums to 1",
                                  "softmax over j of e_ij, for each head and each node i"),
            judges.property_holds(outside == 0.0, "α_ij = 0 when j is not a neighbour of i (nor i itself)",
                                  f"largest weight outside a neighbourhood: {outside:.3g}; mask the scores before the softmax"),
            judges.property_holds(bool(np.all(alpha[:, np.eye(7, dtype=bool)] > 0)), "every node attends to itself",
                                  "add the self-loop i → i to every neighbourhood"),
        ])


class SageSampling(Check):
    """sample_neighbors / sample_computation_graph (3 then 5) and the SAGEMean aggregator

    "No repeats for a node with at least 3 neighbours" is statistical for a
    sampler that always draws with replacement: on this graph and seed it
    passes with probability Π (d−1)(d−2)/d² ≤ 1 % over those nodes, computed
    exactly in tests/labs/test_gcn_reference.py (the reference never repeats)."""

    points = 0.5
    budget = 15

    def inputs(self, rng):
        a = np.zeros((13, 13))
        a[:12, :12] = random_graph(rng, 12, 0.3)
        a[11, :], a[:, 11] = 0, 0
        a[11, 10] = a[10, 11] = 1  # node 11 has a single neighbour: sampled with replacement
        # node 12 is isolated: it gets itself
        return Inputs(public={"a": a, "h_self": rng.normal(size=(4, 5)), "h_neighbors": rng.normal(size=(4, 3, 5)),
                              "weights": rng.normal(size=(2, 5, 2)), "bias": rng.normal(size=2)},
                      secret={"a": a})

    def observe(self, sub, a, h_self, h_neighbors, weights, bias):
        import tensorflow as tf

        nodes = np.arange(13)

        def hops():
            hop1, hop2 = sub.sample_computation_graph(sub.adjacency_lists(a), np.array([0, 4, 11, 12]), (3, 5),
                                                      np.random.default_rng(6))
            return {"hop1": hop1, "hop2": hop2}

        def aggregate():
            layer = sub.SAGEMean(2, activation="relu")
            layer(tf.constant(h_self, tf.float32), tf.constant(h_neighbors, tf.float32))
            layer.kernel_self.assign(weights[0].astype(np.float32))
            layer.kernel_neighbor.assign(weights[1].astype(np.float32))
            layer.bias.assign(bias.astype(np.float32))
            return layer(tf.constant(h_self, tf.float32), tf.constant(h_neighbors, tf.float32))

        # Each sampler, and the aggregator, a part of its own.
        return {**parts.each(samples=lambda: sub.sample_neighbors(sub.adjacency_lists(a), nodes, 3, np.random.default_rng(5)),
                             again=lambda: sub.sample_neighbors(sub.adjacency_lists(a), nodes, 3, np.random.default_rng(5))),
                **parts.together(("hop1", "hop2"), hops), "y": parts.attempt(aggregate)}

    def judge(self, got, want, secret):
        a = secret["a"]
        own = a + np.diag(a.sum(axis=1) == 0)  # an isolated node's only "neighbour" is itself
        # A part that failed scores 0 on each of its verdicts; its first verdict says why.
        samples = hop1 = None
        sampled = [judges.failed_part(got["samples"], "sample_neighbors(neighbors, nodes, 3, rng)")]
        if sampled[0] is None:
            try:
                samples = judges.as_array(got["samples"], "sample_neighbors(…, 3)", shape=(13, 3)).astype(int)
            except judges.BadObservation as exc:
                return judges.Verdict(0.0, str(exc))
            if samples.min() < 0 or samples.max() > 12:
                return judges.Verdict(0.0, "samples must be node ids 0..12")
            degree = a.sum(axis=1)
            distinct = all(len(set(samples[i])) == 3 for i in range(13) if degree[i] >= 3)
            sampled = [
                judges.property_holds(bool(np.all(own[np.arange(13)[:, None], samples] > 0)),
                                      "every sample is a neighbour of its node"),
                judges.property_holds(distinct, "no repeats for a node with at least 3 neighbours",
                                      "sample without replacement when there are enough neighbours"),
                judges.property_holds(bool(np.all(samples[11] == 10)), "a node with 1 neighbour gets it 3 times",
                                      "sample with replacement when a node has fewer than S neighbours")]
        else:
            sampled += [judges.Verdict(0.0, "")] * 2
        hopped = judges.failed_part(got["hop1"], "sample_computation_graph(neighbors, batch, (3, 5), rng)")
        if hopped is None:
            try:
                hop1 = judges.as_array(got["hop1"], "hop1", shape=(4, 3)).astype(int)
                hop2 = judges.as_array(got["hop2"], "hop2", shape=(4, 3, 5)).astype(int)
            except judges.BadObservation as exc:
                return judges.Verdict(0.0, str(exc))
            if min(hop1.min(), hop2.min()) < 0 or max(hop1.max(), hop2.max()) > 12:
                return judges.Verdict(0.0, "samples must be node ids 0..12")
            hopped = judges.property_holds(bool(np.all(own[np.array([0, 4, 11, 12])[:, None], hop1] > 0)
                                                and np.all(own[hop1[:, :, None], hop2] > 0)),
                                           "hop1 are neighbours of the batch, hop2[b, k] neighbours of hop1[b, k]")
        # A sampler that always returns the node itself is seeded and handles isolated nodes: those count
        # once the samples are right.
        return judges.gated(sampled + [
            hopped,
            judges.close(got["y"], want["y"], "SAGEMean(2, 'relu') output",
                         hint="relu(h_self W_self + mean_k(h_neighbors) W_neighbor + b)"),
        ], [
            judges.Verdict(0.0, "") if samples is None or hop1 is None else
            judges.property_holds(bool(np.all(samples[12] == 12)) and bool(np.all(hop1[3] == 12))
                                  and bool(np.all(hop2[3] == 12)), "an isolated node gets itself S times",
                                  "a node without neighbours samples itself (at both hops)"),
            judges.failed_part(got["samples"], "the same generator state gives the same sample")
            or judges.equal(got["again"], got["samples"], "the same generator state gives the same sample"),
        ])


class SmoothingTools(Check):
    """propagate and sqrt_degree_alignment (over-smoothing), pair_norm, drop_edge (rate 0.3, and rate 0)

    The DropEdge rate is a statistical verdict: the kept edges must lie
    within 5σ of 0.7·E (E = 1,170 undirected edges of the 200-node graph).
    Exactly, for this graph: a correct drop_edge fails with probability
    below 1e-6 (measured: 0 failures in 2,000 seeds); a rate read as the keep
    probability (0.3) or one flag per direction joined by 'and' (0.49) or
    'or' (0.91) passes with probability below 1e-9
    (tests/labs/test_gcn_reference.py::test_drop_edge_rate_verdict_power)."""

    points = 1
    budget = 15
    DEPTHS = (1, 2, 8, 64)
    by_hand = (PROPAGATE_RULE, PAIR_NORM_RULE, DROP_EDGE_RULE)

    def inputs(self, rng):
        a = random_graph(rng, 10, 0.3)
        big = random_graph(rng, 200, 0.05) + np.eye(200) * (rng.random(200) < 0.1)  # a few self-loops
        return Inputs(public={"a": a, "a_hat": gcn_matrix(a), "x": rng.normal(size=(10, 3)),
                              "z": rng.normal(3, 5, size=(10, 4)), "big": big},
                      secret={"big": big})

    def observe(self, sub, a, a_hat, x, z, big):
        import scipy.sparse as sp

        deg = a.sum(axis=1) + 1

        def dropped():
            graphs = [sub.drop_edge(big, 0.3, np.random.default_rng(s)) for s in (1, 1, 2)]
            return [np.asarray(d.toarray() if hasattr(d, "toarray") else d) for d in graphs]

        # Every call a part of its own (the three draws of drop_edge one part: they are compared).
        out = {f"propagate_{m}": parts.attempt(lambda: sub.propagate(a_hat, x, m)) for m in self.DEPTHS}
        out["alignment"] = parts.attempt(
            lambda: [sub.sqrt_degree_alignment(sub.propagate(a_hat, x, m), deg) for m in self.DEPTHS])
        out["pair_norm"] = parts.attempt(lambda: np.asarray(sub.pair_norm(z, scale=2.0)))
        out["pair_norm_small"] = parts.attempt(lambda: np.asarray(sub.pair_norm(0.01 * x)))
        out["dropped"] = parts.attempt(dropped)
        out["rate_0"] = parts.attempt(
            lambda: sparse_parts(sp.csr_matrix(sub.drop_edge(big, 0.0, np.random.default_rng(3)))))
        return out

    def judge(self, got, want, secret):
        verdicts = [judges.close(got[f"propagate_{m}"], want[f"propagate_{m}"], f"propagate(Â, x, m={m})", tol=1e-8)
                    for m in self.DEPTHS]
        verdicts.append(judges.close(got["alignment"], want["alignment"], "sqrt_degree_alignment of Â^m x, m = 1, 2, 8, 64",
                                     tol=1e-8, hint="|cos| between each column and √d̃"))
        # A part that failed scores 0 on each of its verdicts; its first verdict says why.
        pn = small = d1 = d0 = None
        try:
            if not parts.failed(got["pair_norm"]):
                pn = judges.as_array(got["pair_norm"], "pair_norm(z, scale=2)", shape=(10, 4))
            if not parts.failed(got["pair_norm_small"]):
                small = judges.as_array(got["pair_norm_small"], "pair_norm(x / 100)", shape=(10, 3))
        except judges.BadObservation as exc:
            return judges.all_of(verdicts + [judges.Verdict(0.0, str(exc))])

        def tpsd(h):
            return float(np.sum((h[:, None, :] - h[None, :, :]) ** 2))

        verdicts += [
            judges.close(got["pair_norm"], want["pair_norm"], "pair_norm values", tol=1e-5),
            judges.Verdict(0.0, "") if pn is None else
            judges.property_holds(np.isclose(np.sum(pn ** 2), 10 * 2.0 ** 2, rtol=1e-4)
                                  and np.isclose(tpsd(pn), 2 * 10 ** 2 * 2.0 ** 2, rtol=1e-4),
                                  "Σ‖x_i‖² = n·s² and total pairwise distance = 2n²s²"),
            judges.failed_part(got["pair_norm_small"], "pair_norm(x / 100)") if small is None else
            judges.property_holds(np.isclose(tpsd(small), 2 * 10 ** 2, rtol=1e-2),
                                  "pair_norm rescales a collapsed (tiny) input back to the same total distance",
                                  "ε = 1e-6 as given: a larger ε (BatchNorm's 1e-3) no longer rescales a tiny input"),
        ]
        trivial = [judges.Verdict(0.0, "") if pn is None else
                   judges.property_holds(np.allclose(pn.mean(axis=0), 0, atol=1e-5), "pair_norm output is centred")]
        big = secret["big"]
        try:
            if not parts.failed(got["dropped"]):
                d1, d1b, d2 = (judges.as_array(d, "drop_edge(A, 0.3, rng)", shape=big.shape) for d in got["dropped"])
            if not parts.failed(got["rate_0"]):
                d0 = observed_sparse(got["rate_0"], len(big), "drop_edge(A, 0, rng)").toarray()
        except (judges.BadObservation, ValueError) as exc:
            return judges.gated(verdicts + [judges.Verdict(0.0, str(exc))], trivial)
        rate_0 = judges.failed_part(got["rate_0"], "drop_edge(A, 0, rng)") if d0 is None else \
            judges.property_holds(np.array_equal(d0, big), "drop_edge(A, 0, rng) returns A unchanged",
                                  "rate 0 drops nothing: every edge (i, j), i < j, is a candidate, each kept "
                                  "with probability 1 − rate")
        if d1 is None:
            return judges.gated(verdicts + [judges.failed_part(got["dropped"], "drop_edge(A, 0.3, rng)"),
                                            judges.Verdict(0.0, "")],
                                trivial + [rate_0] + [judges.Verdict(0.0, "")] * 2)
        off = ~np.eye(len(big), dtype=bool)
        edges = int(np.sum(np.triu(big, 1) > 0))
        kept = int(np.sum(np.triu(d1, 1) > 0))
        verdicts += [
            judges.property_holds(judges.binomial_ok(kept, edges, 0.7), "about 70 % of the edges kept for rate 0.3",
                                  f"kept {kept} of {edges} edges; rate is the probability of dropping an edge"),
            judges.property_holds(np.array_equal(d1, d1b) and not np.array_equal(d1, d2),
                                  "drop_edge is driven by rng (same seed, same result; new seed, new draw)"),
        ]
        # Returning A unchanged (or nothing) is symmetric and removes nothing else, and A unchanged is right
        # for rate 0: these count once the values, the kept fraction and the seeding are right.
        return judges.gated(verdicts, trivial + [
            rate_0,
            judges.property_holds(np.array_equal(d1, d1.T), "drop_edge keeps A symmetric",
                                  "drop (i, j) and (j, i) together"),
            judges.property_holds(bool(np.all(d1[off] <= big[off])) and bool(np.all(np.diag(d1) == np.diag(big))),
                                  "drop_edge only removes edges and keeps self-loops"),
        ])


class LinkPredictionParts(Check):
    """split_edges (self-loops ignored), negative_edges (uniform; one pair; every non-edge), dot_scores and roc_auc

    negative_edges must draw *uniformly*: the mean of ``i + j`` over its
    1,000 pairs (of about 4,600 non-edges of a 100-node graph) must lie
    within 5 standard errors of the mean over all non-edges (sampling without
    replacement; a false alarm for a uniform sampler about 6e-7), which
    samplers biased towards high or low node ids (``j`` drawn above a uniform
    ``i``; the two smallest of three draws) miss by more than 10 standard
    errors (tests/labs/test_gcn_reference.py::test_negative_pairs_uniformity_verdict_power).
    It is also asked for every one of the 20 non-edges of an 8-node cycle: a
    sampler that can never draw some node, or whose loop asks for one pair
    more than ``num``, never finishes, and the check runs out of time."""

    points = 0.5
    budget = 15
    by_hand = (LINK_RULE,)
    #: The graph's nodes; the negative pairs drawn from it and the uniformity verdict's width (standard errors).
    NODES, NEGATIVES, SIGMAS = 100, 1000, 5.0

    def inputs(self, rng):
        a = random_graph(rng, self.NODES, 0.06)
        loops = rng.choice(self.NODES, 8, replace=False)
        a[loops, loops] = 1  # self-loops: not edges to split, nor pairs to sample
        ring = np.roll(np.eye(8), 1, axis=1)
        ring = ring + ring.T  # the 8-cycle: 20 non-edges, 5 at every node
        pos, neg = rng.normal(1, 1, size=30).round(1), rng.normal(0, 1, size=25).round(1)  # rounding makes ties
        return Inputs(public={"a": a, "ring": ring, "z": rng.normal(size=(self.NODES, 4)),
                              "pairs": rng.integers(0, self.NODES, size=(6, 2)), "pos": pos, "neg": neg},
                      secret={"a": a, "ring": ring, "pos": pos, "neg": neg})

    def observe(self, sub, a, ring, z, pairs, pos, neg):
        import scipy.sparse as sp

        def split():
            train, val, test = sub.split_edges(sp.csr_matrix(a), 0.1, 0.2, np.random.default_rng(3))
            return {"train": sp.csr_matrix(train).toarray(), "val": val, "test": test}

        # Every call a part of its own (the split one part: its three results are judged together).
        return {**parts.together(("train", "val", "test"), split), **parts.each(
            negatives=lambda: sub.negative_edges(sp.csr_matrix(a), self.NEGATIVES, np.random.default_rng(4)),
            one_negative=lambda: sub.negative_edges(sp.csr_matrix(a), 1, np.random.default_rng(5)),
            every_negative=lambda: sub.negative_edges(sp.csr_matrix(ring), int(np.sum(np.triu(ring == 0, 1))),
                                                      np.random.default_rng(6)),
            scores=lambda: sub.dot_scores(z, pairs), auc=lambda: sub.roc_auc(pos, neg))}

    @staticmethod
    def pair_sum_deviation(pairs, adjacency) -> float:
        """How many standard errors the mean of ``i + j`` over ``pairs`` lies
        from the mean over all non-edges ``i < j`` of ``adjacency``, for a
        uniform sample without replacement of ``len(pairs)`` of them."""
        n = len(adjacency)
        rows, cols = np.triu_indices(n, 1)
        sums = (rows + cols)[np.asarray(adjacency)[rows, cols] == 0].astype(np.float64)
        total, m = len(sums), len(pairs)
        error = sums.std() * np.sqrt((total - m) / (total - 1) / m)
        return float(abs(np.mean(np.sum(pairs, axis=1)) - sums.mean()) / error)

    def judge(self, got, want, secret):
        a, ring = secret["a"], secret["ring"]
        edges = {tuple(e) for e in edge_list(a).tolist()}
        num, num_nodes = self.NEGATIVES, len(a)
        # A part that failed scores 0 on each of its verdicts; the first says why.
        split, negatives, one, every = (
            judges.failed_part(got[key], what) for key, what in (
                ("train", "split_edges(a, 0.1, 0.2, rng)"), ("negatives", f"negative_edges(a, {num}, rng)"),
                ("one_negative", "negative_edges(a, 1, rng)"),
                ("every_negative", "negative_edges of the 8-cycle, num = 20")))
        try:
            if split is None:
                train = judges.as_array(got["train"], "train adjacency", shape=a.shape)
                val = judges.as_array(got["val"], "val_edges").astype(int).reshape(-1, 2)
                test = judges.as_array(got["test"], "test_edges").astype(int).reshape(-1, 2)
            if negatives is None:
                negs = judges.as_array(got["negatives"], f"negative_edges(a, {num})", shape=(num, 2)).astype(int)
                negs_dtype = np.asarray(got["negatives"]).dtype
            if one is None:
                one = judges.as_array(got["one_negative"], "negative_edges(a, 1)", shape=(1, 2)).astype(int)
            if every is None:
                every = judges.as_array(got["every_negative"], "negative_edges of the 8-cycle, num = 20",
                                        shape=(20, 2)).astype(int)
        except (judges.BadObservation, ValueError) as exc:
            return judges.Verdict(0.0, str(exc))
        verdicts = []
        if split is not None:
            verdicts += [split, judges.Verdict(0.0, "")]
        else:
            held = {tuple(e) for e in np.vstack([val, test]).tolist()}
            train_edges = {tuple(e) for e in edge_list(train).tolist()}
            verdicts += [
                judges.equal([len(val), len(test)], [round(0.1 * len(edges)), round(0.2 * len(edges))],
                             "number of validation and test edges (10 % and 20 % of the edges i < j)",
                             hint="self-loops (i, i) are not edges to hold out: take the upper triangle above the diagonal"),
                judges.property_holds(held <= edges and not (held & train_edges) and (held | train_edges) == edges
                                      and np.array_equal(train, train.T) and bool(np.all(np.r_[val[:, 0] < val[:, 1], test[:, 0] < test[:, 1]])),
                                      "held-out edges (i < j) are removed from a symmetric training graph; together they are all the edges"),
            ]
        if negatives is not None:
            verdicts += [negatives] + [judges.Verdict(0.0, "")] * 2
        else:
            neg_set = {tuple(e) for e in negs.tolist()}
            deviation = self.pair_sum_deviation(negs, a)
            verdicts += [
                judges.property_holds(len(neg_set) == num and not (neg_set & edges)
                                      and bool(np.all(negs[:, 0] < negs[:, 1])),
                                      f"negative_edges: {num} distinct pairs i < j that are not edges"),
                judges.property_holds(np.issubdtype(negs_dtype, np.integer) and bool(np.all((negs >= 0) & (negs < num_nodes))),
                                      "negative_edges returns integer node ids 0 ≤ i < j < n",
                                      f"got dtype {negs_dtype}, ids from {negs.min()} to {negs.max()} for n = {num_nodes}"),
                judges.property_holds(deviation <= self.SIGMAS, "negative_edges draws the non-edges uniformly",
                                      f"the mean of i + j over the {num} pairs is {deviation:.1f} standard errors from "
                                      "its value over all non-edges: every non-edge i < j must be equally likely"),
            ]
        ring_free = {(i, j) for i in range(8) for j in range(i + 1, 8) if ring[i, j] == 0}
        reference_auc = roc_auc(np.r_[secret["pos"], secret["neg"]], np.r_[np.ones(30), np.zeros(25)])
        return judges.all_of(verdicts + [
            one if isinstance(one, judges.Verdict) else
            judges.property_holds(0 <= one[0, 0] < one[0, 1] < num_nodes and tuple(one[0].tolist()) not in edges,
                                  "negative_edges(a, 1) is one non-edge i < j"),
            every if isinstance(every, judges.Verdict) else
            judges.property_holds({tuple(e) for e in every.tolist()} == ring_free,
                                  "negative_edges asked for all 20 non-edges of an 8-cycle returns each of them once",
                                  "num may be every non-edge there is: each must be drawable, and the result is then all of them"),
            judges.close(got["scores"], want["scores"], "dot_scores(z, pairs)", tol=1e-6),
            judges.close(got["auc"], reference_auc, "roc_auc with ties (a tie counts ½)", tol=1e-9),
        ])


class LinkPredictionCora(Check):
    """A GCN auto-encoder on Cora: AUC on 10 % held-out edges against as many non-edges

    The held-out pairs never reach the student's process: the check trains
    the student's encoder (with the student's decoder and negatives), then
    embeds the nodes itself (the grader's forward pass of the specified
    encoder from the trained weights, which the encoder's own output must
    equal) and scores each held-out pair with its own dot product."""

    points = 1
    kind = "training"
    budget = 60
    uses_reference = False

    def inputs(self, rng):
        from grader.data import cora

        cfg = self.config
        g = cora()
        # The split comes from rng: salted when grading, so the held-out edges differ from a self-check's.
        edges = g.edges()[rng.permutation(len(g.edges()))]
        n_test = int(round(cfg["test_fraction"] * len(edges)))
        test, train = edges[:n_test], edges[n_test:]
        candidates = np.vstack([test, negative_pairs(g.adjacency, n_test, rng)])
        labels = np.r_[np.ones(n_test), np.zeros(n_test)]
        order = rng.permutation(len(candidates))
        return Inputs(public={"features": sparse_parts(row_normalize(g.features)), "train_edges": train,
                              "num_nodes": g.num_nodes,
                              "config": dict(cfg["config"]), "embedding": cfg["embedding"], "epochs": cfg["epochs"],
                              "learning_rate": cfg["learning_rate"]},
                      secret={"labels": labels[order], "candidates": candidates[order],
                              "features": row_normalize(g.features), "embedding": cfg["embedding"],
                              "config": dict(cfg["config"])})

    def observe(self, sub, features, train_edges, num_nodes, config, embedding, epochs, learning_rate):
        import scipy.sparse as sp

        train = adjacency_from_edges(train_edges, num_nodes)
        norm = sub.gcn_norm(train)
        a_hat = as_sparse_tensor(norm, "gcn_norm")
        encoder = sub.build_gcn(embedding, dict(config))
        rng = np.random.default_rng(np.random.randint(2**31))  # seeded with the check's observe seed
        z, losses = train_link_predictor(sub, encoder, sparse_tensor(features), a_hat, train,
                                         epochs=epochs, learning_rate=learning_rate, rng=rng)
        return {"z": z, "weights": layer_weights(encoder.gcn_layers, ("kernel", "bias")),
                "a_hat": sparse_parts(sp.csr_matrix(norm)), "loss": losses[::50] + losses[-1:]}

    @staticmethod
    def grader_embeddings(got, secret):
        """The grader's embeddings and the structure verdict (raises BadObservation)."""
        cfg = secret["config"]
        z = gcn_inference(got, secret["features"], hidden=cfg["hidden"], outputs=secret["embedding"],
                          layers=cfg["num_layers"], activation=cfg["activation"])
        structure = same_architecture(
            got["z"], z, "the encoder's embeddings = the GCN of its gcn_layers' weights",
            hint=f"build_gcn(embedding, config): GCNLayer(hidden, {cfg['activation']!r}) then a linear GCNLayer")
        return z, structure

    @classmethod
    def metric(cls, got, secret) -> float:
        """AUC of the grader's dot-product scores of the held-out pairs."""
        z, _ = cls.grader_embeddings(got, secret)
        pairs = secret["candidates"]
        return roc_auc(np.sum(z[pairs[:, 0]] * z[pairs[:, 1]], axis=1), secret["labels"])

    def judge(self, got, want, secret):
        try:
            _, structure = self.grader_embeddings(got, secret)
            auc = self.metric(got, secret)
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        if not structure.passed:
            return judges.Verdict(0.0, structure.message)
        verdict = judges.at_least(auc, self.config["threshold"], "test AUC", baseline=0.5)
        verdict.message += f" (training loss every 50 epochs: {', '.join(f'{l:.3f}' for l in got['loss'])})"
        return verdict
