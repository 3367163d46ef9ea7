"""Hidden checks of the GCN lab (graders only): other graphs, shapes and
properties than the public ones, so hard-coding public answers earns nothing."""

import numpy as np

from grader.checks import HIDDEN, Check, Inputs, judges, parts

from .common import (CHEBYSHEV_RULE, EXACT, LAPLACIAN_RULE, PROPAGATE_RULE, SPECTRAL_RULE, adjacency_from_edges,
                     as_sparse_tensor, components, edge_list, gcn_matrix, layer_weights, random_graph,
                     same_architecture, sym_normalized, train_full_batch, train_sage)
from .private import cycle, gat_inference, hop_distances, sage_inference, salted_sbm


# -- the grader's own GraphSAGE neighbourhoods (observe side: runs in the sandbox) --

def neighbor_lists(adjacency) -> list:
    """Sorted neighbours of every node (self-loops left out): the grader's own adjacency lists."""
    import scipy.sparse as sp

    csr = sp.csr_matrix(adjacency)
    return [np.setdiff1d(csr.indices[csr.indptr[i]:csr.indptr[i + 1]], [i]).astype(np.int64)
            for i in range(csr.shape[0])]


def grader_hops(neighbors, nodes, sizes, rng):
    """The grader's own two-hop sampled neighbourhood (GraphSAGE's rules:
    without replacement when a node has enough neighbours, with replacement
    otherwise, the node itself when it has none): ``(hop1 (B, S1), hop2 (B, S1, S2))``."""
    def sample(ids, size):
        out = np.empty((len(ids), size), dtype=np.int64)
        for row, node in enumerate(ids):
            nbrs = neighbors[node]
            out[row] = node if len(nbrs) == 0 else rng.choice(nbrs, size=size, replace=len(nbrs) < size)
        return out

    hop1 = sample(np.asarray(nodes, dtype=np.int64), sizes[0])
    return hop1, sample(hop1.ravel(), sizes[1]).reshape(len(nodes), sizes[0], sizes[1])



class LaplacianSpectrum(Check):
    """laplacians on cycles, a random bipartite graph and a graph with an isolated node: the slides' spectral facts"""

    visibility = HIDDEN
    points = 1
    kind = "property"
    budget = 10
    by_hand = (LAPLACIAN_RULE,)

    def inputs(self, rng):
        bipartite = np.zeros((9, 9))  # parts {0..3} and {4..8}: random edges plus a spanning path 4-0-5-1-6-2-7-3-8
        bipartite[:4, 4:] = rng.random((4, 5)) < 0.4
        bipartite[np.arange(4), 4 + np.arange(4)] = bipartite[np.arange(4), 5 + np.arange(4)] = 1
        bipartite = np.maximum(bipartite, bipartite.T)
        parts = np.zeros((9, 9))  # a triangle, a path of 5 nodes and an isolated node
        parts[:3, :3] = 1 - np.eye(3)
        parts[np.arange(3, 7), np.arange(4, 8)] = 1
        parts = np.maximum(parts, parts.T)
        graphs = {"even_cycle": cycle(6), "odd_cycle": cycle(7), "bipartite": bipartite, "parts": parts}
        return Inputs(public={"graphs": graphs}, secret={"graphs": graphs, "components": components(parts)})

    def observe(self, sub, graphs):
        def matrices(a):
            lap, lap_sym, lap_rw = sub.laplacians(a)
            return {"L": lap, "L_sym": lap_sym, "L_rw": lap_rw}

        # Each graph a part of its own (an isolated node is where a division by a zero degree fails).
        out = {}
        for name, a in graphs.items():
            out[name] = parts.attempt(lambda: matrices(a))
        return out

    def judge(self, got, want, secret):
        names = ("even_cycle", "odd_cycle", "bipartite", "parts")
        verdicts = []
        for name in names:
            verdicts.append(judges.failed_part(got[name], f"laplacians of the '{name}' graph") or judges.all_of([
                judges.close(got[name][k], want[name][k], f"{k} of the '{name}' graph", tol=EXACT,
                             hint="d^{-1/2} and d^{-1} are 0 for an isolated node" if name == "parts" else "")
                for k in ("L", "L_sym", "L_rw")]))
        if any(parts.failed(got[name]) for name in names):
            # The spectral facts need every graph's matrices: the values' verdicts say what failed.
            return judges.all_of(verdicts + [judges.Verdict(0.0, "")] * 6, weights=[3] * 4 + [1] * 6)
        try:
            mats = {name: {k: judges.as_array(v, f"{k} of {name}") for k, v in got[name].items()} for name in names}
        except judges.BadObservation as exc:
            return judges.all_of(verdicts + [judges.Verdict(0.0, str(exc))], weights=[3] * 4 + [1])

        def top(name):
            return float(np.linalg.eigvalsh(mats[name]["L_sym"])[-1])

        spectra = {name: np.linalg.eigvalsh((m["L_sym"] + m["L_sym"].T) / 2) for name, m in mats.items()}
        in_range = all(s[0] > -1e-9 and s[-1] < 2 + 1e-9 for s in spectra.values())
        zeros_l = int(np.sum(np.abs(np.linalg.eigvalsh(mats["parts"]["L"])) < 1e-9))
        zeros_sym = int(np.sum(np.abs(spectra["parts"]) < 1e-9))
        bip = secret["graphs"]["bipartite"]
        z = np.random.default_rng(0).normal(size=9)
        quad = 0.5 * np.sum(bip * (z[:, None] - z[None, :]) ** 2)
        rw_spectrum = np.sort(np.linalg.eigvals(mats["odd_cycle"]["L_rw"]).real)
        verdicts += [
            judges.property_holds(abs(top("even_cycle") - 2) < 1e-9 and abs(top("bipartite") - 2) < 1e-9,
                                  "λ_max(L_sym) = 2 for bipartite graphs (even cycle, random bipartite)"),
            judges.property_holds(zeros_l == secret["components"] and zeros_sym == secret["components"],
                                  "L and L_sym have one zero eigenvalue per component (3, one an isolated node)",
                                  f"found {zeros_l} for L and {zeros_sym} for L_sym"),
            judges.close(float(z @ mats["bipartite"]["L"] @ z), quad, "zᵀLz = ½ Σ_ij a_ij (z_i − z_j)²", tol=1e-9),
        ]
        # Zero matrices also have a spectrum in [0, 2] below 2, equal for L_rw and L_sym: these count once
        # the values and the non-trivial facts hold.
        return judges.gated(verdicts, [
            judges.property_holds(in_range, "every L_sym spectrum lies in [0, 2]"),
            judges.property_holds(top("odd_cycle") < 2 - 1e-3, "λ_max(L_sym) < 2 for an odd cycle (not bipartite)"),
            judges.close(rw_spectrum, spectra["odd_cycle"], "L_rw and L_sym have the same eigenvalues", tol=1e-8,
                         hint="L_rw = D^{-1/2} L_sym D^{1/2} is similar to L_sym"),
        ], weights=[3] * 4 + [1] * 6)  # a graph's values: its L, L_sym and L_rw


class SelfLoopTheorem(Check):
    """normalized_lambda_max on the karate club and a random graph: adding γ self-loops shrinks λ_max"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 10
    GAMMAS = (0.0, 0.5, 1.0, 2.0, 5.0)
    by_hand = (SPECTRAL_RULE,)

    def inputs(self, rng):
        from grader.data import karate_club

        return {"karate": karate_club().adjacency.toarray().astype(np.float64), "random": random_graph(rng, 15, 0.2)}

    def observe(self, sub, karate, random):
        import scipy.sparse as sp

        # A scipy.sparse and a dense graph: each a part of its own.
        return parts.each(karate=lambda: [sub.normalized_lambda_max(sp.csr_matrix(karate), g) for g in self.GAMMAS],
                          random=lambda: [sub.normalized_lambda_max(random, g) for g in self.GAMMAS])

    def judge(self, got, want, secret):
        verdicts = []
        for name in ("karate", "random"):
            verdicts.append(judges.close(got[name], want[name], f"λ_max on the {name} graph for γ = {list(self.GAMMAS)}",
                                         tol=1e-8, hint="Ã = A + γI and D̃ = D + γI, both"))
            if parts.failed(got[name]):
                verdicts.append(judges.Verdict(0.0, ""))  # the values' verdict says why
                continue
            values = np.asarray(got[name], dtype=float)
            verdicts.append(judges.property_holds(values.shape == (5,) and bool(np.all(np.diff(values) < 0)),
                                                  f"λ_max decreases as γ grows ({name})"))
        return judges.all_of(verdicts)


class ChebLocality(Check):
    """ChebConv with K = 2: changing node j's features changes exactly the outputs within 2 hops; T_k(L̃)e_j is k-local"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 15
    K = 2
    by_hand = (CHEBYSHEV_RULE,)

    def inputs(self, rng):
        a = random_graph(rng, 30, 0.03)
        adj, lap_sym = sym_normalized(a)
        hops = hop_distances(a)
        j = int(np.argmax([(hops[i] > self.K + 1).sum() for i in range(30)]))  # a node with many distant nodes
        x = rng.normal(size=(30, 3))
        x2 = x.copy()
        x2[j] += rng.normal(size=3)
        return Inputs(public={"lap_sym": lap_sym, "x": x, "x2": x2, "j": j},
                      secret={"hops": hops[j], "j": j})

    def observe(self, sub, lap_sym, x, x2, j):
        import tensorflow as tf

        delta = np.zeros(len(x))
        delta[j] = 1.0

        def change(l_tilde):
            layer = sub.ChebConv(4, self.K)
            lt = tf.constant(np.asarray(l_tilde), tf.float32)
            y1 = np.asarray(layer(tf.constant(x, tf.float32), lt))
            y2 = np.asarray(layer(tf.constant(x2, tf.float32), lt))
            return {"change": np.abs(y2 - y1).max(axis=1), "scale": float(np.abs(y1).max())}

        # The layer and the basis need your L̃ (λ_max = 2): each fails with it; each is a part of its own.
        l_tilde = parts.attempt(lambda: sub.scaled_laplacian(lap_sym))
        if parts.failed(l_tilde):
            out = {"change": l_tilde, "scale": l_tilde, "basis": l_tilde}
        else:
            out = {**parts.together(("change", "scale"), lambda: change(l_tilde)),
                   "basis": parts.attempt(lambda: sub.chebyshev_basis(l_tilde, delta, 4))}
        out["l_tilde_15"] = parts.attempt(lambda: sub.scaled_laplacian(lap_sym, lambda_max=1.5))
        return out

    def judge(self, got, want, secret):
        hops = secret["hops"]
        far, near = hops > self.K, hops <= self.K
        scaled = judges.close(got["l_tilde_15"], want["l_tilde_15"], "scaled_laplacian(L_sym, lambda_max=1.5)", tol=EXACT,
                              hint="L̃ = 2L/λ_max − I")
        # A part that failed scores 0 on each of its verdicts; the first says why.
        reach = judges.failed_part(got["change"], "ChebConv(4, K=2) on scaled_laplacian(L_sym)")
        local = judges.failed_part(got["basis"], "chebyshev_basis(scaled_laplacian(L_sym), e_j, 4)")
        try:
            if reach is None:
                change = judges.as_array(got["change"], "output change per node", shape=hops.shape)
            if local is None:
                basis = judges.as_array(got["basis"], "chebyshev_basis(L̃, e_j, 4)", shape=(5, len(hops)))
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        leaks = judges.Verdict(0.0, "")
        if reach is None:
            tiny = 1e-6 * max(float(got["scale"]), 1e-12)
            reach = judges.property_holds(bool(np.all(change[near] > tiny)), "nodes within 2 hops are affected",
                                          "some node within K hops did not change: are all K + 1 terms used?")
            count = int(np.sum(change[far] > tiny))
            leaks = judges.property_holds(count == 0, "nodes more than K = 2 hops away are unaffected",
                                          f"{count} node(s) beyond 2 hops changed: the layer reaches further than K hops")
        if local is None:
            k_local = all(np.all(np.abs(basis[k][hops > k]) < 1e-12) and np.all(np.abs(basis[k][hops == k]) > 0)
                          for k in range(5))
            local = judges.property_holds(k_local, "T_k(L̃) e_j is non-zero exactly up to k hops from j",
                                          "each recurrence step may reach one hop further, no more")
        # A layer that ignores its input also leaves distant nodes unchanged: that counts once the rest holds.
        return judges.gated([reach, local, scaled], [leaks])


class GcnModel(Check):
    """build_gcn with 3 layers, tanh and PairNorm: values, and permutation equivariance f(PX, PAPᵀ) = P f(X, A)"""

    visibility = HIDDEN
    points = 1
    kind = "property"
    budget = 20
    CONFIG = {"hidden": 5, "num_layers": 3, "dropout": 0.5, "weight_decay": 5e-4, "activation": "tanh", "pair_norm": True}

    def inputs(self, rng):
        a = random_graph(rng, 10, 0.3)
        perm = rng.permutation(10)
        shapes = [(4, 5), (5,), (5, 5), (5,), (5, 2), (2,)]
        default_shapes = [(4, 16), (16,), (16, 2), (2,)]  # GCN_CONFIG: 2 layers, 16 hidden units
        return Inputs(public={"a_hat": gcn_matrix(a), "a_hat_perm": gcn_matrix(a[perm][:, perm]),
                              "x": rng.normal(size=(10, 4)), "perm": perm,
                              "weights": [rng.normal(size=s) for s in shapes],
                              "default_weights": [0.5 * rng.normal(size=s) for s in default_shapes]},
                      secret={"perm": perm})

    def observe(self, sub, a_hat, a_hat_perm, x, perm, weights, default_weights):
        import tensorflow as tf

        x32 = tf.constant(x, tf.float32)

        def configured():
            model = sub.build_gcn(2, dict(self.CONFIG))
            model((x32, tf.constant(a_hat, tf.float32)))
            variables = [v for layer in model.gcn_layers for v in (layer.kernel, layer.bias)]
            for var, value in zip(variables, weights):
                var.assign(value.astype(np.float32))
            return {"layers": len(model.gcn_layers), "penalty": float(sum(float(l) for l in model.losses)),
                    "y": model((x32, as_sparse_tensor(a_hat, "Â")), training=False),
                    "y_perm": model((tf.constant(x[perm], tf.float32), tf.constant(a_hat_perm, tf.float32)),
                                    training=False)}

        def default():
            model = sub.build_gcn(2)  # no config: GCN_CONFIG (Kipf's: 2 layers, 16 ReLU units, no PairNorm)
            model((x32, tf.constant(a_hat, tf.float32)))
            for var, value in zip([v for layer in model.gcn_layers for v in (layer.kernel, layer.bias)],
                                  default_weights):
                var.assign(value.astype(np.float32))
            return {"y_default": model((x32, tf.constant(a_hat, tf.float32)), training=False),
                    "default_layers": len(model.gcn_layers)}

        # The configured model and the default one: each a part of its own (a model's layer count is
        # given code: it stays with the model's outputs).
        out = parts.together(("layers", "penalty", "y", "y_perm"), configured)
        out.update(parts.together(("y_default", "default_layers"), default))
        return out

    def judge(self, got, want, secret):
        if parts.failed(got["y"]):
            y = None
        else:
            try:
                y = judges.as_array(got["y"], "model output", shape=(10, 2))
            except judges.BadObservation as exc:
                return judges.Verdict(0.0, str(exc))
        return judges.gated([
            judges.equal(got["layers"], 3, "number of GCN layers for num_layers=3"),
            judges.equal(got["default_layers"], 2, "number of GCN layers of build_gcn(2) without a config"),
            judges.close(got["y_default"], want["y_default"], "logits of build_gcn(2) without a config (GCN_CONFIG)",
                         hint="config=None means GCN_CONFIG: 2 layers, 16 hidden units, ReLU, no PairNorm"),
            judges.close(got["penalty"], want["penalty"], "sum of model.losses (weight decay)",
                         hint="weight_decay · ½‖W‖² on the first layer's kernel only"),
            judges.close(got["y"], want["y"], "logits of a 3-layer GCN with tanh and PairNorm (inference)",
                         hint="hidden layers use config['activation'] and PairNorm when config['pair_norm']"),
        ], [
            # A constant model is equivariant too: this counts once the values are right.
            # float32 round-off (sparse vs dense Â, PairNorm's sums in another order): the reference's
            # relative error over 1,000 salted inputs: median 1e-6, 99th percentile 1.3e-4, worst 3.9e-4.
            judges.Verdict(0.0, "") if y is None else  # the logits' verdict says why
            judges.close(got["y_perm"], y[secret["perm"]], "f(PX, PAPᵀ) = P f(X, A)", tol=1e-3),
        ])


class GatTraining(Check):
    """build_gat trained on a 3-block SBM graph (10 labels per block): test accuracy

    Predictions are the grader's: its NumPy forward pass of the specified GAT
    (``GATLayer(hidden, heads, concat, "elu")`` then one averaged head, no
    activation) from ``gat1``/``gat2``'s trained weights, which the model's
    own output must equal (structure gate)."""

    visibility = HIDDEN
    points = 1
    kind = "training"
    budget = 60
    uses_reference = False

    def inputs(self, rng):
        cfg = self.config
        g = salted_sbm(rng, cfg["graph"])
        return Inputs(public={"features": g.features, "adjacency": g.adjacency.toarray(), "num_classes": g.num_classes,
                              "train_index": g.train_index, "y_train": g.labels[g.train_index],
                              "config": dict(cfg["config"]), "epochs": cfg["epochs"],
                              "learning_rate": cfg["learning_rate"]},
                      secret={"test_index": g.test_index, "y_test": g.labels[g.test_index],
                              "features": g.features.astype(np.float32).astype(np.float64),
                              "adjacency": g.adjacency.toarray(), "num_classes": g.num_classes,
                              "config": dict(cfg["config"])})

    def observe(self, sub, features, adjacency, num_classes, train_index, y_train, config, epochs, learning_rate):
        import tensorflow as tf

        model = sub.build_gat(num_classes, dict(config))
        logits, losses = train_full_batch(model, tf.constant(features, tf.float32), tf.constant(adjacency, tf.float32),
                                          train_index, y_train, epochs=epochs, learning_rate=learning_rate)
        weights = layer_weights((model.gat1, model.gat2), ("kernel", "attn_self", "attn_neighbor"))
        return {"logits": logits, "weights": weights, "loss": losses[::25] + losses[-1:]}

    @staticmethod
    def grader_logits(got, secret):
        cfg = secret["config"]
        logits = gat_inference(got, secret["features"], secret["adjacency"], hidden=cfg["hidden"], heads=cfg["heads"],
                               outputs=secret["num_classes"])
        structure = same_architecture(
            got["logits"], logits, "the model's logits = the 2-layer GAT of gat1's and gat2's weights",
            hint="gat1 = GATLayer(hidden, heads, concat=True, 'elu'), gat2 = GATLayer(num_classes, 1, concat=False); "
                 "dropout does nothing at inference")
        return logits, structure

    @classmethod
    def metric(cls, got, secret) -> float:
        logits, _ = cls.grader_logits(got, secret)
        return judges.accuracy(logits[secret["test_index"]], secret["y_test"])

    def judge(self, got, want, secret):
        try:
            _, structure = self.grader_logits(got, secret)
            acc = self.metric(got, secret)
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        if not structure.passed:
            return judges.Verdict(0.0, structure.message)
        verdict = judges.at_least(acc, self.config["threshold"], "test accuracy", baseline=1 / 3)
        verdict.message += f" (training loss every 25 epochs: {', '.join(f'{l:.3f}' for l in got['loss'])})"
        return verdict


class SageInductive(Check):
    """GraphSAGE trained on one SBM graph, judged on a freshly drawn graph (inductive)

    Training uses the student's sampler; inference is the grader's: its own
    sampled neighbourhoods of the unseen graph (``grader_hops``, seeded from
    the inputs) and its NumPy forward pass of the specified two mean-aggregator
    layers from ``sage1``/``sage2``'s trained weights, which the model's own
    output on the same neighbourhoods must equal (structure gate)."""

    visibility = HIDDEN
    points = 1
    kind = "training"
    budget = 60
    uses_reference = False

    def inputs(self, rng):
        cfg = self.config
        train = salted_sbm(rng, cfg["graph"])
        test = salted_sbm(rng, cfg["graph"])
        seed = int(rng.integers(2**31))  # the grader's inference neighbourhoods
        return Inputs(public={"train_features": train.features, "train_edges": edge_list(train.adjacency),
                              "train_labels": train.labels, "num_classes": train.num_classes,
                              "test_features": test.features, "test_edges": edge_list(test.adjacency),
                              "config": dict(cfg["config"]), "samples": list(cfg["samples"]),
                              "batch_size": cfg["batch_size"], "epochs": cfg["epochs"],
                              "learning_rate": cfg["learning_rate"], "inference_rounds": cfg["inference_rounds"],
                              "inference_seed": seed},
                      secret={"test_labels": test.labels, "inference_seed": seed, "test_features": test.features.astype(np.float32),
                              "test_adjacency": test.adjacency, "samples": list(cfg["samples"]),
                              "num_classes": train.num_classes, "config": dict(cfg["config"])})

    def observe(self, sub, train_features, train_edges, train_labels, num_classes, test_features, test_edges,
                config, samples, batch_size, epochs, learning_rate, inference_rounds, inference_seed):
        rng = np.random.default_rng(np.random.randint(2**31))  # seeded with the check's observe seed
        n_train, n_test = len(train_features), len(test_features)
        model = sub.build_sage(num_classes, dict(config))
        losses = train_sage(sub, model, train_features.astype(np.float32),
                            sub.adjacency_lists(adjacency_from_edges(train_edges, n_train)),
                            np.arange(n_train), train_labels, sizes=samples, batch_size=batch_size,
                            epochs=epochs, learning_rate=learning_rate, rng=rng)
        x = test_features.astype(np.float32)
        neighbors = neighbor_lists(adjacency_from_edges(test_edges, n_test))
        inference = np.random.default_rng(inference_seed)
        logits = []
        for _ in range(inference_rounds):
            hop1, hop2 = grader_hops(neighbors, np.arange(n_test), samples, inference)
            logits.append(np.asarray(model((x, x[hop1], x[hop2]), training=False)))
        return {"logits": np.stack(logits), "weights": layer_weights((model.sage1, model.sage2),
                                                                     ("kernel_self", "kernel_neighbor", "bias")),
                "inference_seed": inference_seed, "loss": losses}

    @staticmethod
    def grader_logits(got, secret, seed: int):
        """The grader's logits (rounds, n, classes) and the structure verdict."""
        x = secret["test_features"].astype(np.float64)
        neighbors = neighbor_lists(secret["test_adjacency"])
        rounds = judges.as_array(got["logits"], "logits").shape[0]
        inference = np.random.default_rng(seed)
        out = []
        for _ in range(rounds):
            hop1, hop2 = grader_hops(neighbors, np.arange(len(x)), secret["samples"], inference)
            out.append(sage_inference(got, x, x[hop1], x[hop2], hidden=secret["config"]["hidden"],
                                      outputs=secret["num_classes"]))
        logits = np.stack(out)
        structure = same_architecture(
            got["logits"], logits, "the model's logits = the two mean-aggregator layers of sage1's and sage2's weights",
            hint="h0 = sage1(x0, x1), h1 = sage1(x1, x2) with sage1 = SAGEMean(hidden, 'relu'); logits = sage2(h0, h1)")
        return logits, structure

    @classmethod
    def metric(cls, got, secret, seed=None) -> float:
        logits, _ = cls.grader_logits(got, secret, got["inference_seed"] if seed is None else seed)
        probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
        probs /= probs.sum(axis=-1, keepdims=True)
        return judges.accuracy(probs.mean(axis=0), secret["test_labels"])

    def judge(self, got, want, secret):
        try:
            _, structure = self.grader_logits(got, secret, secret["inference_seed"])
            acc = self.metric(got, secret, secret["inference_seed"])
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        if not structure.passed:
            return judges.Verdict(0.0, structure.message)
        verdict = judges.at_least(acc, self.config["threshold"], "accuracy on the unseen graph",
                                  baseline=1 / 3)
        verdict.message += f" (mean training loss per epoch: {', '.join(f'{l:.3f}' for l in got['loss'][::3])})"
        return verdict


class OverSmoothingLimit(Check):
    """Over-smoothing on the karate club: the columns of Â^m X turn towards √d̃ (|cos| > 0.99 at m = 50)"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 10
    DEPTHS = (0, 1, 5, 50)
    by_hand = (PROPAGATE_RULE,)

    def inputs(self, rng):
        from grader.data import karate_club

        a = karate_club().adjacency.toarray().astype(np.float64)
        # Non-negative features (like word counts) have a sizeable component along √d̃ to begin with.
        return {"a_hat": gcn_matrix(a), "deg": a.sum(axis=1) + 1, "x": rng.random(size=(34, 3))}

    def observe(self, sub, a_hat, deg, x):
        import scipy.sparse as sp

        a_hat = sp.csr_matrix(a_hat)
        # sqrt_degree_alignment (of propagate's results) and propagate alone: each a part of its own.
        return parts.each(
            alignment=lambda: [sub.sqrt_degree_alignment(sub.propagate(a_hat, x, m), deg) for m in self.DEPTHS],
            deep=lambda: sub.propagate(a_hat, x, 50))

    def judge(self, got, want, secret):
        aligned = judges.Verdict(0.0, "")  # when alignment failed: its values' verdict says why
        if not parts.failed(got["alignment"]):
            try:
                align = judges.as_array(got["alignment"], "alignments", shape=(len(self.DEPTHS), 3))
            except judges.BadObservation as exc:
                return judges.Verdict(0.0, str(exc))
            aligned = judges.property_holds(bool(np.all(align[-1] > 0.99)) and bool(np.all(align[-1] > align[0])),
                                            "after 50 propagations every column is aligned with √d̃ (|cos| > 0.99)")
        return judges.all_of([
            judges.close(got["deep"], want["deep"], "propagate(Â, x, 50) with a sparse Â", tol=1e-8),
            judges.close(got["alignment"], want["alignment"], "sqrt_degree_alignment for m = 0, 1, 5, 50", tol=1e-8,
                         hint="compare with √d̃ = D̃^{1/2}𝟏, the eigenvector of Â for the eigenvalue 1 (not d̃, not D̃^{-1/2}𝟏)"),
            aligned,
        ])
