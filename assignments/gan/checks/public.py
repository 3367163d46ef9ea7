"""Public checks of the GAN lab: students run these with ``pytest`` or
``grader check gan``. Each ``observe`` calls your code; each ``judge``
compares with the reference's result on the same inputs, or (training
checks) measures your generator's samples here, in the grader's process."""

import numpy as np

from grader.checks import Check, Inputs, judges, parts
from grader.checks.architecture import describe_layers

from .common import (DIVERGENCE_RULE, EMD_RULE, GAN_LOSS_RULE, CGAN_LOSS_RULE, LSGAN_LOSS_RULE, adam, fit_for_steps,
                     judge_replay, judge_ring, plain_mlp, replay_train_step, replay_weights,
                     shared_ring_data, training_setup)

LOG2 = np.log(2.0)


class GanLosses(Check):
    """Discriminator, minimax and non-saturating generator losses on logits"""

    points = 1
    budget = 10
    by_hand = (GAN_LOSS_RULE,)

    def inputs(self, rng):
        return {"real": rng.normal(1.0, 2.0, size=(16, 1)), "fake": rng.normal(-1.0, 2.0, size=(24,))}

    def observe(self, sub, real, fake):
        return parts.each(d=lambda: sub.discriminator_loss(real, fake), minimax=lambda: sub.generator_loss_minimax(fake),
                          nonsaturating=lambda: sub.generator_loss_nonsaturating(fake))

    def judge(self, got, want, secret):
        return judges.all_of([
            judges.close(got["d"], want["d"], "discriminator_loss", tol=judges.FLOAT64_TOL,
                         hint="−mean log D(x) − mean log(1 − D(G(z))) with D = sigmoid(logit); means over each batch"),
            judges.close(got["minimax"], want["minimax"], "generator_loss_minimax", tol=judges.FLOAT64_TOL,
                         hint="mean log(1 − D(G(z))): it is negative"),
            judges.close(got["nonsaturating"], want["nonsaturating"], "generator_loss_nonsaturating",
                         tol=judges.FLOAT64_TOL, hint="the log D trick: −mean log D(G(z))"),
        ])


class OptimalDiscriminator(Check):
    """D* = p/(p+q) and V(G, D*) = 2·JS − 2·log 2 on discrete distributions (this lab's 4-point example, a random pair, a point mass against itself)"""

    points = 1
    budget = 5
    by_hand = (DIVERGENCE_RULE,)

    def inputs(self, rng):
        random_p = rng.dirichlet(np.ones(6))
        random_q = rng.dirichlet(np.ones(6))
        # P_G misses two points P_data has. The second zero carries a sign, as −np.diff of a flat CDF writes
        # it: −0.0 == 0, so KL(p‖q) is still inf (dividing by the zero instead of testing for it gives NaN).
        random_q[[1, 4]] = 0.0, -0.0
        random_q /= random_q.sum()
        point = np.eye(5)[rng.integers(5)]   # a point mass against itself: KL = JS = 0, D* = ½ where p = q = 0
        pairs = [([0.5, 0.3, 0.2, 0.0], [0.1, 0.2, 0.3, 0.4]), (random_p, random_q), (point, point)]
        return {"pairs": [[np.asarray(p, float), np.asarray(q, float)] for p, q in pairs],
                "noise": rng.uniform(-0.2, 0.2, size=(3, 6))}

    def observe(self, sub, pairs, noise):
        def values(p, q):
            d_star = np.asarray(sub.optimal_discriminator(p, q), dtype=np.float64)
            perturbed = [np.clip(d_star + e[: len(p)], 1e-3, 1 - 1e-3) for e in noise]
            return {"d_star": d_star, "v_star": sub.gan_value(p, q, d_star),
                    "v_perturbed": [sub.gan_value(p, q, d) for d in perturbed]}

        out = []
        for p, q in pairs:
            # optimal_discriminator with gan_value (which takes its D*), js_divergence, kl_divergence: parts.
            case = parts.together(("d_star", "v_star", "v_perturbed"), lambda: values(p, q))
            case.update(parts.each(js=lambda: sub.js_divergence(p, q), kl=lambda: _inf_as_text(sub.kl_divergence(p, q)),
                                   kl_qp=lambda: _inf_as_text(sub.kl_divergence(q, p))))
            out.append(case)
        return out

    def judge(self, got, want, secret):
        verdicts, properties = [], []
        for i, (g, w) in enumerate(zip(got, want)):
            case = ("the handout's p=[.5,.3,.2,0], q=[.1,.2,.3,.4]", "a random pair", "a point mass against itself")[i]
            tol = judges.FLOAT64_TOL
            verdicts += [
                judges.close(g["d_star"], w["d_star"], f"optimal_discriminator ({case})", tol=tol),
                judges.close(g["v_star"], w["v_star"], f"gan_value(p, q, D*) ({case})", tol=tol,
                             hint="Σ p log D + Σ q log(1 − D), where a zero probability contributes nothing"),
            ]
            # A point mass against itself has JS = KL = 0, which a constant 0 also returns: those count
            # only once the values that depend on the inputs are right.
            divergences = properties if i == 2 else verdicts
            divergences.append(judges.close(g["js"], w["js"], f"js_divergence ({case})", tol=tol))
            for key, what in (("kl", "kl_divergence(p, q)"), ("kl_qp", "kl_divergence(q, p)")):
                if w[key] == "inf":
                    divergences.append(judges.property_of([g[key]], lambda kl: kl == "inf", f"{what} is inf ({case})",
                                                          "KL is infinite where the second distribution is 0 and the first is not "
                                                          "(−0.0 is a 0 too: test for it rather than divide by it)"))
                else:
                    divergences.append(judges.close(g[key], w[key], f"{what} ({case})", tol=tol))
            verdicts.append(judges.property_of([g["v_star"], g["js"]], lambda v, js: abs(float(v) - (2 * float(js) - 2 * LOG2)) < 1e-9,
                                               f"V(G, D*) = 2·JS − 2·log 2 ({case})"))
            # A constant gan_value ties with every perturbation: this counts only once the values are right.
            properties.append(judges.property_of([g["v_star"], g["v_perturbed"]],
                                                 lambda v, others: all(float(x) <= float(v) + 1e-12 for x in others),
                                                 f"D* maximises V(G, D) ({case})",
                                                 "a perturbed discriminator scored higher than D*"))
        return judges.gated(verdicts, properties)


def _inf_as_text(value):
    """``"inf"`` for an infinite float (a correct KL can be infinite), so the
    grader's generic "your result is not finite" note does not flag it."""
    value = float(value)
    return "inf" if value == float("inf") else value


class FDivergences(Check):
    """f-divergences of the slides' table (KL, reverse KL, JS, GAN) and their convex conjugates"""

    points = 1
    budget = 5
    by_hand = (DIVERGENCE_RULE,)
    NAMES = ("kl", "rkl", "js", "gan")
    #: Not divergences of the table (Pearson χ², squared Hellinger, total variation: the f-GAN paper's
    #: others): every name-dispatching function raises ValueError. They sort before, between and after
    #: the table's names, so a dispatch by comparison other than equality cannot pass.
    UNKNOWN = ("chi2", "hellinger", "tv")
    T = {"kl": [-2.0, -0.5, 0.0, 0.7, 1.5], "rkl": [-3.0, -1.0, -0.2], "js": [-2.0, 0.0, 0.5, 0.69],
         "gan": [-3.0, -1.0, -0.1]}

    def inputs(self, rng):
        return {"p": rng.dirichlet(np.ones(7)), "q": rng.dirichlet(np.ones(7)), "x": rng.uniform(0.05, 4.0, size=9)}

    def observe(self, sub, p, q, x):
        out = parts.each(kl_pq=lambda: sub.kl_divergence(p, q), kl_qp=lambda: sub.kl_divergence(q, p),
                         js_pq=lambda: sub.js_divergence(p, q))
        for name in self.NAMES:
            out[name] = parts.each(f=lambda: sub.divergence_f(name, x), pq=lambda: sub.f_divergence(p, q, name),
                                   pp=lambda: sub.f_divergence(p, p, name),
                                   conj=lambda: sub.conjugate(name, np.array(self.T[name])))

        def unknown():
            raised = []
            calls = [(function, name, arg) for name in self.UNKNOWN
                     for function, arg in ((sub.divergence_f, x), (sub.conjugate, np.array([0.1])),
                                           (sub.fgan_activation, np.array([0.1])))]
            for function, name, arg in calls:
                try:
                    function(name, arg)
                    raised.append("returned")
                except ValueError:
                    raised.append("ValueError")
                except NotImplementedError:
                    raise  # a function not written yet: this part is to do, not wrong
                except Exception as exc:  # noqa: BLE001 - which exception is what is graded
                    raised.append(type(exc).__name__)
            return raised

        out["unknown"] = parts.attempt(unknown)
        return out

    def judge(self, got, want, secret):
        tol = judges.FLOAT64_TOL
        # A constant 0 is D_f(p‖p) for three of the four names, and KL = 0 = D_f "matches its closed
        # form": those verdicts (``trivial``) count once the values that depend on the inputs are right.
        verdicts, trivial = [], []
        for name in self.NAMES:
            g, w = got[name], want[name]
            verdicts += [
                judges.close(g["f"], w["f"], f"divergence_f({name!r}, x)", tol=tol),
                judges.close(g["pq"], w["pq"], f"f_divergence(p, q, {name!r})", tol=tol,
                             hint="D_f(p‖q) = Σ q·f(p/q)"),
                judges.close(g["conj"], w["conj"], f"conjugate({name!r}, t) at t = {self.T[name]}", tol=tol),
            ]
            trivial.append(judges.close(g["pp"], w["pp"], f"f_divergence(p, p, {name!r})", tol=tol,
                                        hint="D_f(p‖p) = f(1)"))
        identities = {"kl": ("kl_pq", lambda v: v), "rkl": ("kl_qp", lambda v: v), "js": ("js_pq", lambda v: 2 * v),
                      "gan": ("js_pq", lambda v: 2 * v - 2 * LOG2)}
        for name, (key, closed_form) in identities.items():
            trivial.append(judges.property_of([got[name]["pq"], got[key]],
                                              lambda pq, v, form=closed_form: abs(float(pq) - float(form(v))) < 1e-9,
                                              f"f_divergence(p, q, {name!r}) matches its closed form",
                                              "kl: KL(p‖q); rkl: KL(q‖p); js: 2·JS; gan: 2·JS − 2·log 2"))
        unknown = judges.equal(got["unknown"], ["ValueError"] * (3 * len(self.UNKNOWN)),
                               f"divergence_f, conjugate and fgan_activation with the unknown names {', '.join(self.UNKNOWN)}",
                               hint="raise ValueError for a name outside the table")
        return judges.gated(verdicts, trivial + [unknown])


class GanTrainStep(Check):
    """build_mlp as specified; GAN.train_step: K discriminator updates then one generator update, each on its own network with its own loss"""

    points = 1
    kind = "property"
    budget = 20
    uses_reference = False
    #: Each case: (d learning rate, g learning rate, K, generator_loss or None
    #: for the default). A zero learning rate freezes that network, so any
    #: change to it is a leak.
    CASES = {"d_only": (0.1, 0.0, 3, None), "g_only": (0.0, 0.1, 2, None), "both_minimax": (0.1, 0.1, 2, "minimax"),
             "both_nonsaturating": (0.1, 0.1, 1, "nonsaturating")}

    def inputs(self, rng):
        g, d = replay_weights(rng, (2, 4, 2), (2, 5, 1))
        real = rng.normal(size=(16, 2)).astype(np.float32)
        return Inputs(public={"real": real, "g": g, "d": d}, secret={"real": real, "g": g, "d": d})

    def observe(self, sub, real, g, d):
        import keras
        import tensorflow as tf

        def probe():
            constraint = keras.constraints.NonNeg()
            model = sub.build_mlp(3, 2, (5, 4), name="probe", kernel_constraint=constraint)
            return {"mlp": describe_layers(model, constraint=constraint),
                    "mlp_output": list(model(np.ones((4, 3), np.float32)).shape)}

        def step(d_lr, g_lr, k, loss):
            # The networks are the grader's (plain Dense layers): only train_step is graded here.
            gen, disc = plain_mlp(g, "generator"), plain_mlp(d, "discriminator")
            options = {} if loss is None else {"generator_loss": loss}
            gan = sub.GAN(gen, disc, noise_dim=2, seed=1, **options)
            gan.compile(d_optimizer=keras.optimizers.SGD(d_lr), g_optimizer=keras.optimizers.SGD(g_lr), d_steps=k)
            logs = gan.train_step(tf.constant(real))
            return {"d_iterations": int(gan.d_optimizer.iterations.numpy()),
                    "g_iterations": int(gan.g_optimizer.iterations.numpy()),
                    "g": [np.array(w) for w in gen.weights], "d": [np.array(w) for w in disc.weights],
                    "keys": sorted(logs)}

        # build_mlp and train_step are parts; so is each train_step case (a generator_loss it does not know
        # costs that case only).
        out = {**parts.together(("mlp", "mlp_output"), probe),
               "mlp_default": parts.attempt(lambda: describe_layers(sub.build_mlp(2, 1)))}
        for case, (d_lr, g_lr, k, loss) in self.CASES.items():
            out[case] = parts.attempt(lambda: step(d_lr, g_lr, k, loss))
        return out

    def judge(self, got, want, secret):
        real = np.asarray(secret["real"], dtype=np.float64)
        g0 = [np.asarray(w, dtype=np.float64) for w in secret["g"]]
        d0 = [np.asarray(w, dtype=np.float64) for w in secret["d"]]
        verdicts = [
            judges.equal(got["mlp"], ["dense 5 constrained", "relu", "dense 4 constrained", "relu", "dense 2 constrained"],
                         "build_mlp(3, 2, (5, 4), kernel_constraint=c): its layers",
                         hint="Dense(u, relu) per hidden entry, a linear Dense(output_dim), kernel_constraint "
                              "and bias_constraint on every Dense"),
            judges.equal(got["mlp_default"], ["dense 64", "relu", "dense 64", "relu", "dense 1"],
                         "build_mlp(2, 1): its layers with the default hidden_units=(64, 64)"),
            judges.equal(got["mlp_output"], [4, 2], "build_mlp(3, 2, …) output shape on a (4, 3) batch"),
        ]
        for case, (d_lr, g_lr, k, loss) in self.CASES.items():
            c = got[case]
            what = f"train_step with d_steps={k}, SGD rates (d {d_lr:g}, g {g_lr:g})" + (f", generator_loss={loss!r}" if loss else "")
            if (failure := judges.failed_part(c, what)) is not None:
                verdicts += [failure] * 4  # as many verdicts as a case that ran: steps, two updates, keys
                continue
            verdicts.append(judges.equal([c["d_iterations"], c["g_iterations"]], [k, 1], f"{what}: optimiser steps (d, g)",
                                         hint="K discriminator updates, then one generator update"))
            want_g, want_d = replay_train_step(g0, d0, real, len(real), d_lr, g_lr, k, "d_gan", f"g_{loss or 'nonsaturating'}")
            verdicts += judge_replay(c, g0, d0, want_g, want_d, what)
            verdicts.append(judges.equal(sorted(set(c["keys"]) & {"d_loss", "g_loss"}), ["d_loss", "g_loss"],
                                         f"{what}: train_step's returned keys"))
        return judges.all_of(verdicts)


class GanRingTraining(Check):
    """GAN trained on the ring of 8 Gaussians: modes covered and high-quality samples"""

    points = 1.5
    kind = "training"
    budget = 60
    uses_reference = False
    #: The settings ``observe`` trains with (the rest are the judge's thresholds).
    SETUP = ("noise_dim", "hidden_units", "batch_size", "steps", "d_steps", "learning_rate", "beta_1")

    def inputs(self, rng):
        cfg, ring = self.config, self.shared["ring"]
        x, _ = shared_ring_data(ring)
        return {"x": x, "z": rng.normal(size=(cfg["samples"], cfg["noise_dim"])).astype(np.float32),
                "setup": training_setup(cfg, ring, self.SETUP)}

    def observe(self, sub, x, z, setup):
        hidden = tuple(setup["hidden_units"])
        g = sub.build_mlp(setup["noise_dim"], 2, hidden, name="generator")
        d = sub.build_mlp(2, 1, hidden, name="discriminator")
        gan = sub.GAN(g, d, noise_dim=setup["noise_dim"])
        gan.compile(d_optimizer=adam(setup), g_optimizer=adam(setup), d_steps=setup["d_steps"],
                    steps_per_execution=setup["steps_per_execution"])
        history = fit_for_steps(gan, x, setup["batch_size"], setup["steps"])
        return {"samples": np.asarray(g(z, training=False)), "history": history}

    def judge(self, got, want, secret):
        return judge_ring(got, self.config, self.shared["ring"], "the GAN's")


class EarthMover(Check):
    """Transport-plan cost, the monotone (north-west corner) plan and 1-D earth mover's distance"""

    points = 1
    budget = 5
    by_hand = (EMD_RULE,)

    def inputs(self, rng):
        plan = rng.dirichlet(np.ones(12)).reshape(3, 4)
        return {"plan": plan, "a": rng.normal(size=(3, 2)), "b": rng.normal(size=(4, 2)),
                "p": rng.dirichlet(np.ones(5)), "q": rng.dirichlet(np.ones(5)), "p3": rng.dirichlet(np.ones(3)),
                "support": np.sort(rng.uniform(-3, 3, size=5))}

    def observe(self, sub, plan, a, b, p, q, p3, support):
        mono = parts.attempt(lambda: np.asarray(sub.monotone_plan(p, q), dtype=np.float64))
        return {"cost_2d": parts.attempt(lambda: sub.transport_cost(plan, a, b)), "plan": mono,
                # The monotone plan's cost needs the plan: it fails with it.
                "mono_cost": mono if parts.failed(mono) else parts.attempt(lambda: sub.transport_cost(mono, support, support)),
                "emd": parts.attempt(lambda: sub.emd_1d(p, q, support)),
                "plan_3x5": parts.attempt(lambda: np.asarray(sub.monotone_plan(p3, q), dtype=np.float64)),
                # 59 × fl(1/59) falls 1e-15 short of 1: the point mass outlasts q by rounding alone.
                "plan_point": parts.attempt(lambda: np.asarray(sub.monotone_plan(np.array([1.0]), np.full(59, 1 / 59)),
                                                               dtype=np.float64))}

    def judge(self, got, want, secret):
        tol = judges.FLOAT64_TOL
        return judges.gated([
            judges.close(got["cost_2d"], want["cost_2d"], "transport_cost of a 3×4 plan between 2-D points", tol=tol,
                         hint="B(γ) = Σ γ(x_p, x_q)·‖x_p − x_q‖ with the Euclidean norm"),
            judges.close(got["plan"], want["plan"], "monotone_plan(p, q)", tol=tol,
                         hint="the north-west corner rule: rows sum to p, columns to q"),
            judges.close(got["plan_3x5"], want["plan_3x5"], "monotone_plan(p, q) with 3 and 5 support points", tol=tol,
                         hint="an (m, n) plan"),
            judges.close(got["plan_point"], want["plan_point"], "monotone_plan from a point mass to 59 equal masses",
                         tol=tol, hint="stop when either side runs out: the two sums may differ by rounding"),
            judges.close(got["emd"], want["emd"], "emd_1d(p, q, support) on an uneven support", tol=tol,
                         hint="Σ |P − Q|·gap, with P, Q the cumulative sums"),
        ], [judges.property_of([got["mono_cost"], got["emd"]], lambda cost, emd: abs(float(cost) - float(emd)) < 1e-9,
                               "the monotone plan's cost equals emd_1d (it is optimal in 1-D)")])


class WganLossesAndClip(Check):
    """WGAN critic and generator losses; WeightClip keeps every parameter in [−k, k]"""

    points = 0.5
    budget = 10

    def inputs(self, rng):
        return {"real": rng.normal(1.0, 1.0, size=(10, 1)), "fake": rng.normal(-1.0, 1.0, size=(14, 1)),
                "x": rng.normal(size=(8, 3)).astype(np.float32)}

    def observe(self, sub, real, fake, x):
        import keras
        import tensorflow as tf

        def clipped():
            clip = sub.WeightClip(0.05)
            restored = sub.WeightClip(**clip.get_config())
            critic = sub.build_mlp(3, 1, (16,), kernel_constraint=clip)
            opt = keras.optimizers.SGD(10.0)          # a huge step pushes weights far outside [−k, k]
            with tf.GradientTape() as recorder:
                loss = tf.reduce_mean(critic(x))
            opt.apply_gradients(zip(recorder.gradient(loss, critic.trainable_weights), critic.trainable_weights))
            weights = np.concatenate([np.ravel(w) for w in critic.weights])
            return {"max_abs": float(np.max(np.abs(weights))),
                    "at_bound": float(np.mean(np.isclose(np.abs(weights), 0.05))),
                    "restored": float(np.max(np.abs(restored(tf.constant([-1.0, 1.0])))))}

        return {**parts.each(critic=lambda: sub.wgan_critic_loss(real, fake), generator=lambda: sub.wgan_generator_loss(fake)),
                **parts.together(("max_abs", "at_bound", "restored"), clipped)}

    def judge(self, got, want, secret):
        tol = judges.FLOAT64_TOL
        return judges.all_of([
            judges.close(got["critic"], want["critic"], "wgan_critic_loss", tol=tol,
                         hint="minimise mean D(G(z)) − mean D(x)"),
            judges.close(got["generator"], want["generator"], "wgan_generator_loss", tol=tol),
            judges.failed_part(got["max_abs"], "WeightClip on a critic after an SGD step") or judges.all_of([
                judges.property_holds(got["max_abs"] <= 0.05 + 1e-7,
                                      "after an SGD step every critic parameter is in [−0.05, 0.05]",
                                      f"the largest |weight| is {got['max_abs']:.3g}: clip kernels and biases to [−k, k]"),
                judges.property_holds(got["at_bound"] > 0.1, "the clipped parameters sit at ±k"),
                judges.property_holds(abs(got["restored"] - 0.05) < 1e-6, "WeightClip(**get_config()) keeps k"),
            ]),
        ], weights=[1, 1, 3])  # each of WeightClip's three properties counts as much as a loss


class ConditionalParts(Check):
    """Conditional GAN parts: the (c, x) network, mismatched labels and the three-case discriminator loss"""

    points = 0.5
    budget = 10
    by_hand = (CGAN_LOSS_RULE,)

    def inputs(self, rng):
        return {"labels": rng.integers(5, size=40), "shift": rng.integers(1, 5, size=40),
                "real": rng.normal(size=(12, 1)), "fake": rng.normal(size=(12, 1)), "mismatch": rng.normal(size=(12, 1)),
                "x": rng.normal(size=(4, 3)).astype(np.float32)}

    def observe(self, sub, labels, shift, real, fake, mismatch, x):
        onehot = np.eye(5, dtype=np.float32)[[0, 1, 2, 3]]

        def network():
            net = sub.build_conditional_mlp(3, 5, 2, hidden_units=(7,))
            # The condition must reach the output: the same x with two different c.
            probe = np.ones((2, 3), np.float32)
            return {"layers": describe_layers(net),
                    "uses_c": float(np.max(np.abs(np.asarray(net([probe, onehot[:2]])) - np.asarray(net([probe, onehot[2:4]]))))),
                    "shape": list(net([x, onehot]).shape), "params": net.count_params()}

        def defaults():
            default = sub.build_conditional_mlp(2, 4, 1, name="scorer")
            return {"layers_default": describe_layers(default), "name": default.name}

        # mismatched_labels, build_conditional_mlp (two calls) and cgan_discriminator_loss: each a part.
        return {"wrong": parts.attempt(lambda: np.asarray(sub.mismatched_labels(labels, 5, shift))),
                **parts.together(("layers", "uses_c", "shape", "params"), network),
                **parts.together(("layers_default", "name"), defaults),
                **parts.each(loss=lambda: sub.cgan_discriminator_loss(real, fake, mismatch),
                             loss_no_mismatch_term=lambda: sub.cgan_discriminator_loss(real, fake,
                                                                                       np.full_like(mismatch, -50.0)))}

    def judge(self, got, want, secret):
        tol = judges.FLOAT64_TOL
        return judges.all_of([
            judges.equal(got["layers"], ["concatenate", "dense 7", "relu", "dense 2"],
                         "build_conditional_mlp(3, 5, 2, hidden_units=(7,)): its layers",
                         hint="[x, c] concatenated, Dense(u, relu) per hidden entry, a linear Dense(output_dim)"),
            judges.equal(got["layers_default"], ["concatenate", "dense 64", "relu", "dense 64", "relu", "dense 1"],
                         "build_conditional_mlp(2, 4, 1): its layers with the default hidden_units=(64, 64)"),
            judges.equal(got["name"], "scorer", "build_conditional_mlp(…, name='scorer'): the model's name"),
            judges.property_of([got["uses_c"]], lambda change: change > 1e-6,
                               "build_conditional_mlp's output depends on the condition c"),
            judges.equal(got["shape"], want["shape"], "build_conditional_mlp output shape"),
            judges.equal(got["params"], want["params"], "build_conditional_mlp parameters",
                         hint="the first Dense layer sees [x, c] concatenated"),
            judges.close(got["wrong"], want["wrong"], "mismatched_labels", tol=0.0),
            judges.close(got["loss"], want["loss"], "cgan_discriminator_loss", tol=tol,
                         hint="real pairs → 1, generated pairs → 0, mismatched pairs → 0"),
            judges.close(got["loss_no_mismatch_term"], want["loss_no_mismatch_term"],
                         "cgan_discriminator_loss with confidently rejected mismatched pairs", tol=tol),
        ])


class LsganCycleLosses(Check):
    """LSGAN losses, the pix2pix "GAN + similarity" loss and the cycle-consistency loss"""

    points = 0.5
    budget = 5
    by_hand = (LSGAN_LOSS_RULE,)

    def inputs(self, rng):
        return {"real": rng.normal(size=(10, 1)), "fake": rng.normal(size=(10, 1)),
                "img": rng.uniform(size=(2, 4, 4, 1)), "target": rng.uniform(size=(2, 4, 4, 1)),
                "x": rng.normal(size=(6, 2)), "y": rng.normal(size=(5, 2)),
                "a": rng.normal(size=(2, 2)) + 2 * np.eye(2)}

    def observe(self, sub, real, fake, img, target, x, y, a):
        a_inv = np.linalg.inv(a)
        logits = fake[:2]
        return parts.each(
            d=lambda: sub.lsgan_discriminator_loss(real, fake), g=lambda: sub.lsgan_generator_loss(fake),
            pix2pix=lambda: sub.pix2pix_generator_loss(logits, img, target, 100.0),
            pix2pix_default=lambda: sub.pix2pix_generator_loss(logits, img, target),
            pix2pix_no_l1=lambda: sub.pix2pix_generator_loss(logits, img, target, 0.0),
            nonsaturating=lambda: sub.generator_loss_nonsaturating(logits),
            cycle=lambda: sub.cycle_consistency_loss(x, x * 0.9 + 0.1, y, y[::-1]),
            cycle_inverse=lambda: sub.cycle_consistency_loss(x, (x @ a) @ a_inv, y, (y @ a_inv) @ a))

    def judge(self, got, want, secret):
        tol = judges.FLOAT64_TOL
        return judges.gated([
            judges.close(got["d"], want["d"], "lsgan_discriminator_loss", tol=tol, hint="½E(D(x) − 1)² + ½E D(G(z))²"),
            judges.close(got["g"], want["g"], "lsgan_generator_loss", tol=tol),
            judges.close(got["pix2pix"], want["pix2pix"], "pix2pix_generator_loss(λ = 100)", tol=tol,
                         hint="the L1 term is a mean over all elements"),
            judges.close(got["pix2pix_default"], want["pix2pix"], "pix2pix_generator_loss with the default l1_weight",
                         tol=tol, hint="the default λ is 100"),
            judges.close(got["cycle"], want["cycle"], "cycle_consistency_loss", tol=tol,
                         hint="mean |x_cycled − x| + mean |y_cycled − y|"),
        ], [  # a constant loss has both properties: they count once the values are right
            judges.property_of([got["pix2pix_no_l1"], got["nonsaturating"]], lambda a, b: abs(float(a) - float(b)) < 1e-12,
                               "pix2pix_generator_loss with λ = 0 is the non-saturating GAN loss"),
            judges.property_of([got["cycle_inverse"]], lambda loss: abs(float(loss)) < 1e-9,
                               "cycle_consistency_loss is 0 for a linear map and its inverse"),
        ])


class DcganShapes(Check):
    """DCGAN generator and discriminator for 28×28 digits as specified: layer kinds, activations, kernels, strides, shapes, parameters"""

    points = 0.5
    kind = "shape"
    budget = 15

    def inputs(self, rng):
        return {"z": rng.normal(size=(3, 64)).astype(np.float32), "labels": np.array([0, 4, 9])}

    def observe(self, sub, z, labels):
        onehot = np.eye(10, dtype=np.float32)[labels]

        def table(model):
            return [[list(layer.output.shape[1:]), layer.count_params()] for layer in model.layers
                    if layer.count_params() or "Conv" in type(layer).__name__]

        def generator():
            gen = sub.build_dcgan_generator(noise_dim=64, num_classes=10)
            images = np.asarray(gen([z, onehot]))
            return {"images": list(images.shape), "gen_words": describe_layers(gen),
                    "range": [float(images.min()), float(images.max())], "gen_layers": table(gen),
                    "gen_params": gen.count_params()}

        def discriminator():
            disc = sub.build_dcgan_discriminator(num_classes=10)
            # Images of the generator's shape, not its output: the two builders are parts of their own.
            logits = disc([np.full((len(z), 28, 28, 1), 0.5, np.float32), onehot])
            # The condition's branch of the discriminator (Reshape, UpSampling2D) runs beside x's input,
            # so its place in model.layers is the builder's choice: it is compared as a set.
            branch = ("reshape", "upsampling")
            disc_words = describe_layers(disc)
            return {"logits": list(logits.shape), "disc_words": [w for w in disc_words if not w.startswith(branch)],
                    "disc_branch": sorted(w for w in disc_words if w.startswith(branch)),
                    "disc_layers": table(disc), "disc_params": disc.count_params()}

        def default_inputs():
            return [list(t.shape[1:]) for t in sub.build_dcgan_generator().inputs]

        return {**parts.together(("images", "gen_words", "range", "gen_layers", "gen_params"), generator),
                "default_gen": parts.attempt(default_inputs),
                **parts.together(("logits", "disc_words", "disc_branch", "disc_layers", "disc_params"), discriminator)}

    def judge(self, got, want, secret):
        params = "total parameters (generator, discriminator)"
        return judges.all_of([
            judges.equal(got["images"], want["images"], "generated image batch shape"),
            judges.equal(got["logits"], want["logits"], "discriminator output shape (logits)"),
            judges.property_of([got["range"]], lambda extremes: 0.0 <= extremes[0] and extremes[1] <= 1.0,
                               "pixel values in [0, 1]", "end the generator with a sigmoid, like the data in [0, 1]"),
            judges.equal(got["gen_words"], want["gen_words"], "generator layers (kind, filters@kernel, stride, padding, activation)",
                         hint="[z, c] → Dense(7·7·64, relu) → Reshape → Conv2DTranspose(32, 4, stride 2, same, relu) → "
                              "Conv2DTranspose(1, 4, stride 2, same, sigmoid)"),
            judges.equal(got["default_gen"], want["default_gen"], "build_dcgan_generator() input shapes with the defaults",
                         hint="noise_dim=64, num_classes=10"),
            judges.equal(got["disc_words"], want["disc_words"], "discriminator layers (kind, filters@kernel, stride, padding, activation)",
                         hint="concat → Conv2D(32, 4, stride 2, same) → LeakyReLU(0.2) → Conv2D(64, 4, stride 2, same) → "
                              "LeakyReLU(0.2) → Flatten → Dense(1)"),
            judges.equal(got["disc_branch"], want["disc_branch"], "the discriminator's condition branch",
                         hint="c → Reshape((1, 1, C)) → UpSampling2D((28, 28))"),
            judges.equal(got["gen_layers"], want["gen_layers"], "generator [output shape, parameters] per layer",
                         hint="Dense 7·7·64 → 7×7×64 → 14×14×32 → 28×28×1, kernels 4×4 with stride 2"),
            judges.equal(got["disc_layers"], want["disc_layers"], "discriminator [output shape, parameters] per layer",
                         hint="28×28×11 → 14×14×32 → 7×7×64 → 1"),
            judges.failed_part(got["gen_params"], params) or judges.failed_part(got["disc_params"], params)
            or judges.equal([got["gen_params"], got["disc_params"]], [want["gen_params"], want["disc_params"]], params),
        ])
