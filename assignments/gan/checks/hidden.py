"""Hidden checks of the GAN lab (graders only): other inputs and properties than
the public ones (extreme logits, the slides' saturation and disjoint-support
arguments, numerical suprema, double back-propagation) and the trained WGAN,
conditional GAN and CycleGAN."""

import numpy as np

from grader.checks import HIDDEN, Check, Inputs, judges, parts

from .common import (DIVERGENCE_RULE, EMD_RULE, GAN_LOSS_RULE, adam, fit_for_steps, judge_replay, judge_ring,
                     mode_report, plain_mlp, replay_train_step, replay_weights, ring_centers,
                     sample_ring, shared_ring_data, training_setup)
from .private import (cgan_pair_figures, conjugate_numeric, replay_cyclegan, requested_mode_figures, sliced_emd)

LOG2 = np.log(2.0)

#: The slides' table of f-divergences, written independently of the student's
#: code for the trusted side's numerical suprema.
F_TABLE = {
    "kl": lambda x: x * np.log(x),
    "rkl": lambda x: -np.log(x),
    "js": lambda x: -(x + 1) * np.log((x + 1) / 2) + x * np.log(x),
    "gan": lambda x: x * np.log(x) - (x + 1) * np.log(x + 1),
}


#: The f-GAN activations g and the conjugates f* (trusted side's own NumPy).
FGAN_G = {"kl": lambda v: v, "rkl": lambda v: -np.exp(-v), "js": lambda v: LOG2 - np.logaddexp(0.0, -v)}
F_STAR = {"kl": lambda t: np.exp(t - 1), "rkl": lambda t: -1 - np.log(-t), "js": lambda t: -np.log(2 - np.exp(t))}


def _kl(p, q):
    return float(np.sum(p * np.log(p / q)))


class LossStabilityAndSaturation(Check):
    """GAN losses at logits of ±1000, their gradients, and the slides' saturation claim at D(G(z)) ≈ 0.0025"""

    visibility = HIDDEN
    points = 1
    kind = "gradient"
    budget = 10
    by_hand = (GAN_LOSS_RULE,)

    def inputs(self, rng):
        return {"extreme": np.array([[-1000.0], [-100.0], [-30.0], [0.0], [30.0], [100.0], [1000.0]]),
                "logits": np.concatenate([[-6.0, 0.0], rng.normal(0.0, 3.0, size=6)])}

    def observe(self, sub, extreme, logits):
        import tensorflow as tf

        def gradient(loss):
            x = tf.constant(logits)
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = loss(x)
            return tape.gradient(value, x)

        def ratio():
            single = tf.constant([-6.0], dtype=tf.float64)   # D(G(z)) = σ(−6) ≈ 0.0025
            with tf.GradientTape(persistent=True) as tape:
                tape.watch(single)
                ns, mm = sub.generator_loss_nonsaturating(single), sub.generator_loss_minimax(single)
            return float(abs(tape.gradient(ns, single)[0]) / max(abs(tape.gradient(mm, single)[0]), 1e-300))

        # Each loss at each input a part: a loss not written yet costs its own share only.
        return parts.each(
            d_extreme=lambda: sub.discriminator_loss(extreme, -extreme),
            d_extreme_swapped=lambda: sub.discriminator_loss(-extreme, extreme),
            mm_extreme=lambda: sub.generator_loss_minimax(extreme),
            ns_extreme=lambda: sub.generator_loss_nonsaturating(extreme),
            grad_ns=lambda: gradient(sub.generator_loss_nonsaturating),
            grad_mm=lambda: gradient(sub.generator_loss_minimax),
            grad_d=lambda: gradient(lambda x: sub.discriminator_loss(x, x[::-1])),
            ratio_at_minus6=ratio)

    def judge(self, got, want, secret):
        verdicts = [judges.close(got[k], want[k], f"{k.replace('_extreme', '')} loss at logits up to ±1000",
                                 tol=judges.FLOAT64_TOL,
                                 hint="log σ(l) = −softplus(−l) and log(1 − σ(l)) = −softplus(l) never overflow")
                    for k in ("d_extreme", "d_extreme_swapped", "mm_extreme", "ns_extreme")]
        verdicts += [judges.gradient(got[k], want[k], f"{k.replace('grad_', 'gradient of the ')} loss w.r.t. the logits")
                     for k in ("grad_ns", "grad_mm", "grad_d")]
        ratio = got["ratio_at_minus6"]
        verdicts.append(judges.property_of([ratio], lambda r: float(r) > 100,
                                           "at D(G(z)) ≈ 0.0025 the non-saturating gradient is > 100× the minimax one",
                                           "" if parts.failed(ratio) else f"the ratio is {float(ratio):.3g}"))
        return judges.all_of(verdicts)


class ConjugateSuprema(Check):
    """Conjugates against numerical suprema, their domains, and the f-GAN objective at the optimal V* (exact expectations)"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 10
    uses_reference = False
    NAMES = ("kl", "rkl", "js", "gan")
    T_INSIDE = {"kl": [-1.5, 0.3, 2.0], "rkl": [-4.0, -0.7, -0.05], "js": [-1.0, 0.2, 0.6], "gan": [-2.5, -0.4, -0.02]}
    # dom f* is open: its edge is outside. Just past log 2, exp(t) rounds to 2 and −log(2 − exp t) is +inf, not
    # the NaN of a log of a negative number: NaN there must come from the domain test.
    T_OUTSIDE = {"rkl": [0.0, 0.5], "js": [LOG2, float(np.nextafter(LOG2, np.inf)), 0.8, 2.0], "gan": [0.0, 1.0]}

    def inputs(self, rng):
        p, q = rng.dirichlet(np.ones(6) * 2), rng.dirichlet(np.ones(6) * 2)
        v_star = {"kl": 1 + np.log(p / q), "rkl": np.log(p / q), "js": np.log(p / q), "gan": np.log(p / q)}
        deltas = rng.normal(0.0, 0.3, size=(3, 6))
        v_real, v_fake = rng.normal(size=9), rng.normal(size=11)
        public = {"v_star": v_star, "deltas": deltas, "v_real": v_real, "v_fake": v_fake}
        return Inputs(public=public, secret={"p": p, "q": q, "v_real": v_real, "v_fake": v_fake})

    def observe(self, sub, v_star, deltas, v_real, v_fake):
        def terms(name):
            out = []
            for v in [v_star[name]] + [v_star[name] + d for d in deltas]:
                g = sub.fgan_activation(name, v)
                out.append([g, sub.conjugate(name, g)])
            return out

        out = parts.each(fgan_gan=lambda: sub.fgan_objective(v_real, v_fake, "gan"),
                         d_loss=lambda: sub.discriminator_loss(v_real, v_fake))
        out["objectives"] = [parts.attempt(lambda: sub.fgan_objective(v_real, v_fake, name)) for name in ("kl", "rkl", "js")]
        for name in self.NAMES:
            # conjugate inside and outside its domain, and the objective's terms (fgan_activation, then conjugate):
            # each a part.
            case = {"inside": parts.attempt(lambda: sub.conjugate(name, np.array(self.T_INSIDE[name]))),
                    "terms": parts.attempt(lambda: terms(name))}
            if name in self.T_OUTSIDE:   # NaN is the right answer there; report which entries are NaN
                case["outside_nan"] = parts.attempt(
                    lambda: np.isnan(np.asarray(sub.conjugate(name, np.array(self.T_OUTSIDE[name])), dtype=np.float64)))
            out[name] = case
        return out

    def judge(self, got, want, secret):
        p, q = secret["p"], secret["q"]
        m = (p + q) / 2
        js = 0.5 * _kl(p, m) + 0.5 * _kl(q, m)
        divergence = {"kl": _kl(p, q), "rkl": _kl(q, p), "js": 2 * js, "gan": 2 * js - 2 * LOG2}
        verdicts, trivial = [], []
        for name in self.NAMES:
            case = got[name]
            numeric = [conjugate_numeric(F_TABLE[name], t) for t in self.T_INSIDE[name]]
            verdicts.append(judges.close(case["inside"], numeric, f"conjugate({name!r}, t) vs the numerical sup_x x·t − f(x)",
                                         tol=1e-8))
            if name in self.T_OUTSIDE:
                verdicts.append(judges.property_of(
                    [case["outside_nan"]],
                    lambda nan, n=len(self.T_OUTSIDE[name]): np.shape(nan) == (n,) and bool(np.all(nan)),
                    f"conjugate({name!r}, t) is NaN outside dom f*", f"at t = {self.T_OUTSIDE[name]} it did not return NaN"))
            equals, lowers = (f"E_p g(V*) − E_q f*(g(V*)) equals D_f for {name!r}",
                              f"perturbing V* lowers the {name!r} objective")
            try:
                values = self._objective(case["terms"], name, p, q)
            except judges.BadObservation as exc:
                verdicts.append(judges.Verdict(0.0, f"{equals}: {exc}"))
                trivial.append(judges.Verdict(0.0, f"{lowers}: {exc}"))
                continue
            verdicts.append(judges.property_holds(abs(values[0] - divergence[name]) < 1e-9, equals, f"got {values[0]:.6g}"))
            trivial.append(judges.property_holds(all(v <= values[0] + 1e-12 for v in values[1:]), lowers,
                                                 "check the activation g for this divergence"))
        v_real, v_fake = secret["v_real"], secret["v_fake"]
        for name, objective in zip(("kl", "rkl", "js"), got["objectives"]):
            g_real, g_fake = FGAN_G[name](v_real), FGAN_G[name](v_fake)
            verdicts.append(judges.close(objective, np.mean(g_real) - np.mean(F_STAR[name](g_fake)),
                                         f"fgan_objective(v_real, v_fake, {name!r})", tol=1e-6,
                                         hint="mean g(V(x_real)) − mean f*(g(V(x_fake)))"))
        trivial.append(judges.property_of([got["fgan_gan"], got["d_loss"]], lambda f, d: abs(float(f) + float(d)) < 1e-9,
                                          "fgan_objective(…, 'gan') = −discriminator_loss (GAN is a special f-GAN)"))
        # A constant answer has these properties too (equal objectives; 0 = −0): they count once the values are right.
        return judges.gated(verdicts, trivial)

    @staticmethod
    def _objective(terms, name, p, q):
        """E_p g(V) − E_q f*(g(V)) for each V of ``terms`` (a failed part raises BadObservation with its reason)."""
        if (failure := judges.failed_part(terms)) is not None:
            raise judges.BadObservation(failure.message)
        values = []
        for g, fstar in terms:
            g = judges.as_array(g, f"fgan_activation({name!r}, V)", shape=p.shape)
            fstar = judges.as_array(fstar, f"conjugate({name!r}, g(V))", shape=p.shape)
            values.append(float(np.sum(p * g) - np.sum(q * fstar)))
        return values


class JsConstantEmdGrows(Check):
    """The slides' argument: for disjoint supports JS stays log 2 and V(G, D*) = 0 while the EMD grows with the distance"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 5
    uses_reference = False
    by_hand = (DIVERGENCE_RULE, EMD_RULE)
    GAP = 0.25
    SHIFTS = (1, 3, 5, 9, 14)        # in grid steps; the box is 3 points wide, so shift 1 overlaps

    def inputs(self, rng):
        support = self.GAP * np.arange(20)
        p = np.zeros(20)
        p[:3] = rng.dirichlet(np.ones(3))
        qs = [np.roll(p, s) for s in self.SHIFTS]
        return {"support": support, "p": p, "qs": qs}

    def observe(self, sub, support, p, qs):
        out = []
        for q in qs:
            product = np.outer(p, q)          # a valid, generally poor, transport plan
            # js_divergence, emd_1d, gan_value at optimal_discriminator's D*, and transport_cost of two plans
            # (the monotone one from monotone_plan): each a part.
            out.append(parts.each(
                js=lambda: sub.js_divergence(p, q), emd=lambda: sub.emd_1d(p, q, support),
                v_star=lambda: sub.gan_value(p, q, sub.optimal_discriminator(p, q)),
                product_cost=lambda: sub.transport_cost(product, support, support),
                monotone_cost=lambda: sub.transport_cost(sub.monotone_plan(p, q), support, support)))
        return out

    def judge(self, got, want, secret):
        # A constant 0 has V = 0, JS < log 2 and "costs ≥ EMD": those count once JS and the EMD are right.
        verdicts, trivial = [], []
        for shift, g in zip(self.SHIFTS, got):
            distance = shift * self.GAP
            js, emd, v = g["js"], g["emd"], g["v_star"]
            if shift >= 3:
                verdicts.append(judges.property_of([js], lambda j: abs(float(j) - LOG2) < 1e-9,
                                                   f"JS = log 2 for disjoint supports {distance:g} apart", _got(js)))
                trivial.append(judges.property_of([v], lambda value: abs(float(value)) < 1e-9,
                                                  f"V(G, D*) = 0 for disjoint supports {distance:g} apart", _got(v)))
            else:
                trivial.append(judges.property_of([js], lambda j: float(j) < LOG2 - 1e-6, "JS < log 2 when the supports overlap"))
            verdicts.append(judges.property_of([emd], lambda e, d=distance: abs(float(e) - d) < 1e-9,
                                               f"EMD = {distance:g} for a shift by {distance:g}",
                                               "" if parts.failed(emd) else f"emd_1d returned {float(emd):.6g}"))
            trivial.append(judges.property_of(
                [g["product_cost"], g["monotone_cost"], emd],
                lambda product, monotone, e: float(product) >= float(e) - 1e-9 and abs(float(monotone) - float(e)) < 1e-9,
                "the monotone plan costs the EMD and the product plan p·qᵀ costs at least that"))
        return judges.gated(verdicts, trivial)


def _got(value):
    """``"got 0.693147"`` for a number (the end of a property's message), nothing for a failed part."""
    return "" if parts.failed(value) else f"got {float(value):.6g}"


class GradientPenalty(Check):
    """WGAN-GP's gradient penalty: exact for linear critics, and its gradient through double back-propagation"""

    visibility = HIDDEN
    points = 0.5
    kind = "gradient"
    budget = 10

    def inputs(self, rng):
        w, w_img = rng.normal(size=(3, 1)) * 0.7, rng.normal(size=(1, 2, 2, 1)) * 0.4
        public = {"w": w, "w_img": w_img, "w1": rng.normal(size=(3, 5)), "w2": rng.normal(size=(5, 1)),
                  "real": rng.normal(size=(6, 3)), "fake": rng.normal(size=(6, 3)), "alpha": rng.uniform(size=(6, 1)),
                  "real_img": rng.normal(size=(4, 2, 2, 1)), "fake_img": rng.normal(size=(4, 2, 2, 1)),
                  "alpha_img": rng.uniform(size=(4, 1, 1, 1))}
        return Inputs(public=public, secret={"w": w, "w_img": w_img})

    def observe(self, sub, w, w_img, w1, w2, real, fake, alpha, real_img, fake_img, alpha_img):
        import tensorflow as tf

        out = {}
        cases = {
            "linear": (tf.Variable(w), lambda v: lambda x: tf.matmul(x, v) + 0.3, real, fake, alpha),
            "image": (tf.Variable(w_img), lambda v: lambda x: tf.reduce_sum(x * v, axis=[1, 2, 3])[:, None], real_img, fake_img, alpha_img),
            "mlp": (tf.Variable(w1), lambda v: lambda x: tf.matmul(tf.tanh(tf.matmul(x, v)), tf.constant(w2)), real, fake, alpha),
        }

        def penalised(var, make_critic, r, f, a):
            with tf.GradientTape() as tape:
                penalty = sub.gradient_penalty(make_critic(var), tf.constant(r), tf.constant(f), tf.constant(a))
            grad = tape.gradient(penalty, var)
            return {"penalty": penalty, "grad": np.zeros(var.shape) if grad is None else grad, "none": grad is None}

        for name, case in cases.items():  # each critic a part (a penalty that fails on images costs that case only)
            out[name] = parts.attempt(lambda: penalised(*case))
        return out

    def judge(self, got, want, secret):
        verdicts = []
        for name, w in (("linear", secret["w"]), ("image", secret["w_img"])):
            norm = np.linalg.norm(w)
            what = "linear critic D(x) = w·x + b" if name == "linear" else "linear critic on (2, 2, 1) images"
            case = got[name]
            if (failure := judges.failed_part(case, f"gradient_penalty with a {what}")) is not None:
                verdicts += [failure, failure]
                continue
            verdicts.append(judges.close(case["penalty"], (norm - 1) ** 2, f"penalty of a {what}: (‖w‖ − 1)²",
                                         tol=judges.FLOAT64_TOL, hint="the norm is over every axis but the batch axis"))
            verdicts.append(judges.gradient(case["grad"], 2 * (norm - 1) * w / norm, f"d penalty / d w for a {what}",
                                            hint="compute the inner gradient with a tape so the outer tape can differentiate it"))
        mlp = got["mlp"]
        if (failure := judges.failed_part(mlp, "gradient_penalty with a tanh critic")) is not None:
            return judges.all_of(verdicts + [failure] * 3)
        verdicts.append(judges.property_holds(not mlp["none"], "the penalty is differentiable w.r.t. the critic's weights"))
        verdicts.append(judges.close(mlp["penalty"], want["mlp"]["penalty"], "penalty of a tanh critic", tol=judges.FLOAT64_TOL))
        verdicts.append(judges.gradient(mlp["grad"], want["mlp"]["grad"], "its gradient w.r.t. the hidden weights"))
        return judges.all_of(verdicts)


class WganRingTraining(Check):
    """WGAN with weight clipping and n_critic steps trained on the ring: its own losses drive the updates; modes covered and high-quality samples

    First one ``train_step`` of the student's ``WGAN`` on the grader's small
    networks (plain Dense layers, SGD) is replayed in NumPy with the WGAN
    losses (the critic's ``mean D(G(z)) − mean D(x)``, n_critic times, then the
    generator's ``−mean D(G(z))``): a WGAN that keeps the GAN's log losses,
    or whose losses are never called, earns nothing here, whatever its samples.
    Then the ring figures, thresholds calibrated as in ``lab.toml``."""

    visibility = HIDDEN
    points = 1
    kind = "training"
    budget = 60
    uses_reference = False
    SETUP = ("noise_dim", "hidden_units", "batch_size", "steps", "n_critic", "clip_value", "learning_rate")

    def inputs(self, rng):
        cfg, ring = self.config, self.shared["ring"]
        x, _ = shared_ring_data(ring)
        z = rng.normal(size=(cfg["samples"], cfg["noise_dim"])).astype(np.float32)
        fresh, _ = sample_ring(cfg["samples"], rng, ring)       # held out: the sliced EMD's reference sample
        g, d = replay_weights(rng, (2, 4, 2), (2, 5, 1))
        real = rng.normal(size=(16, 2)).astype(np.float32)
        step = {"g": g, "d": d, "real": real}
        return Inputs(public={"x": x, "z": z, "setup": training_setup(cfg, ring, self.SETUP), "step": step},
                      secret={"fresh": fresh, "step": step})

    #: The replayed step: SGD rates (critic, generator) and n_critic.
    STEP = (0.05, 0.05, 3)

    def observe(self, sub, x, z, setup, step):
        import keras
        import tensorflow as tf

        d_lr, g_lr, k = self.STEP
        gen, critic = plain_mlp(step["g"], "generator"), plain_mlp(step["d"], "critic")
        probe = sub.WGAN(gen, critic, noise_dim=2, seed=1)
        probe.compile(d_optimizer=keras.optimizers.SGD(d_lr), g_optimizer=keras.optimizers.SGD(g_lr), d_steps=k)
        probe.train_step(tf.constant(step["real"]))
        replayed = {"g": [np.array(w) for w in gen.weights], "d": [np.array(w) for w in critic.weights]}

        hidden = tuple(setup["hidden_units"])
        g = sub.build_mlp(setup["noise_dim"], 2, hidden, name="generator")
        critic = sub.build_mlp(2, 1, hidden, name="critic", kernel_constraint=sub.WeightClip(setup["clip_value"]))
        wgan = sub.WGAN(g, critic, noise_dim=setup["noise_dim"])
        rmsprop = lambda: keras.optimizers.RMSprop(setup["learning_rate"])  # noqa: E731 - the WGAN paper's optimiser
        wgan.compile(d_optimizer=rmsprop(), g_optimizer=rmsprop(), d_steps=setup["n_critic"],
                     steps_per_execution=setup["steps_per_execution"])
        history = fit_for_steps(wgan, x, setup["batch_size"], setup["steps"])
        return {"samples": np.asarray(g(z, training=False)), "history": history, "step": replayed}

    def judge(self, got, want, secret):
        cfg = self.config
        step = secret["step"]
        d_lr, g_lr, k = self.STEP
        g0 = [np.asarray(w, dtype=np.float64) for w in step["g"]]
        d0 = [np.asarray(w, dtype=np.float64) for w in step["d"]]
        want_g, want_d = replay_train_step(g0, d0, np.asarray(step["real"], dtype=np.float64), len(step["real"]),
                                           d_lr, g_lr, k, "d_wgan", "g_wgan")
        structure = judge_replay(got["step"], g0, d0, want_g, want_d,
                                 f"one WGAN train_step (n_critic = {k}, SGD) against the WGAN losses")
        samples = judges.as_array(got["samples"], "generated samples", shape=(cfg["samples"], 2))
        emd = judges.at_most(sliced_emd(samples, np.asarray(secret["fresh"], dtype=np.float64)), cfg["max_sliced_emd"],
                             "sliced EMD between the samples and the ring")
        ring = judge_ring(got, cfg, self.shared["ring"], "the WGAN's", extra=[emd])
        verdict = judges.gated(structure, [ring])
        verdict.message = "; ".join(v.message for v in structure if not v.passed) or ring.message
        return verdict


class CganRingTraining(Check):
    """Conditional GAN on the labelled ring: the three kinds of pairs as specified; samples land on the requested mode

    First ``SPY_STEPS`` eager ``train_step`` calls (eager even when it is
    wrapped in ``tf.function``) of the student's
    ``ConditionalGAN`` on the grader's small networks, wrapped so that every
    input they receive is recorded: per step the discriminator must see the
    real batch with its true one-hot c, the real batch with a one-hot c′ that
    differs from c in *every* row, and the generated batch with the c the
    generator got; the generator must get the true c; the shifts c′ − c must
    vary within a batch and cover 1 … C − 1 over the steps.

    Power (computed exactly, ``tests/labs/test_gan_reference.py``): 4 steps ×
    K = 2 × 64 rows = 512 mismatched rows with C = 8. A wrong draw whose
    shift (or new label) is uniform over all C classes leaves every row
    mismatched with probability (7/8)^512 ≈ 2e-30 (the miss rate); the
    reference, drawing shifts uniformly in 1 … 7, misses a shift value with
    probability ≤ 7·(6/7)^512 ≈ 4e-34 and draws one shift for a whole batch
    of 64 with probability 7·(1/7)^64 (the false-alarm rate). Then the ring
    figures, thresholds calibrated as in ``lab.toml``."""

    visibility = HIDDEN
    points = 1
    kind = "training"
    budget = 60
    uses_reference = False
    SETUP = ("noise_dim", "hidden_units", "batch_size", "steps", "d_steps", "learning_rate", "cosine_decay", "beta_1")

    def inputs(self, rng):
        cfg, ring = self.config, self.shared["ring"]
        x, labels = shared_ring_data(ring)
        modes = ring["modes"]
        requested = np.repeat(np.arange(modes), cfg["samples"] // modes)
        z = rng.normal(size=(len(requested), cfg["noise_dim"])).astype(np.float32)
        setup = training_setup(cfg, ring, self.SETUP) | {"modes": modes}
        picks = rng.choice(len(x), size=(self.SPY_STEPS, self.SPY_BATCH), replace=False)
        spy = {"x": x[picks], "labels": labels[picks]}
        return Inputs(public={"x": x, "labels": labels, "z": z, "requested": requested, "setup": setup, "spy": spy},
                      secret={"requested": requested, "spy": spy})

    SPY_STEPS, SPY_BATCH, SPY_K = 4, 64, 2

    def observe(self, sub, x, labels, z, requested, setup, spy):
        import keras
        import tensorflow as tf

        modes, hidden = setup["modes"], tuple(setup["hidden_units"])

        class Spy(keras.Model):
            """The grader's network, recording what it is called on (eagerly)."""

            def __init__(self, inner, record, **kwargs):
                super().__init__(**kwargs)
                self.inner, self.record = inner, record   # a function: Keras would copy a list attribute

            def call(self, inputs, training=None):
                out = self.inner(inputs)
                if tf.executing_eagerly() and all(hasattr(t, "numpy") for t in [*inputs, out]):
                    self.record([t.numpy() for t in inputs] + [out.numpy()])
                return out

        def small(n_in, n_out):
            a, c = keras.Input((n_in,)), keras.Input((modes,))
            h = keras.layers.Dense(16, activation="relu")(keras.layers.Concatenate()([a, c]))
            return keras.Model([a, c], keras.layers.Dense(n_out)(h))

        d_log, g_log, now = [], [], [0]
        spy_g = Spy(small(setup["noise_dim"], 2), lambda call: g_log.append([now[0]] + call))
        spy_d = Spy(small(2, 1), lambda call: d_log.append([now[0]] + call))
        probe = sub.ConditionalGAN(spy_g, spy_d, noise_dim=setup["noise_dim"], num_classes=modes, seed=1)
        probe.compile(d_optimizer=keras.optimizers.SGD(0.01), g_optimizer=keras.optimizers.SGD(0.01), d_steps=self.SPY_K)
        was_eager = tf.config.functions_run_eagerly()
        tf.config.run_functions_eagerly(True)   # a train_step wrapped in tf.function runs eagerly too
        try:
            for step, (xb, lb) in enumerate(zip(spy["x"], spy["labels"])):
                now[0] = step
                probe.train_step((tf.constant(xb), tf.constant(lb)))
        finally:
            tf.config.run_functions_eagerly(was_eager)
        pairs = {"d_calls": d_log[:200], "g_calls": g_log[:200]}

        g = sub.build_conditional_mlp(setup["noise_dim"], modes, 2, hidden, name="generator")
        d = sub.build_conditional_mlp(2, modes, 1, hidden, name="discriminator")
        cgan = sub.ConditionalGAN(g, d, noise_dim=setup["noise_dim"], num_classes=modes)
        cgan.compile(d_optimizer=adam(setup, setup["steps"] * setup["d_steps"]), g_optimizer=adam(setup, setup["steps"]),
                     d_steps=setup["d_steps"], steps_per_execution=setup["steps_per_execution"])
        history = fit_for_steps(cgan, (x, labels), setup["batch_size"], setup["steps"])
        onehot = np.eye(modes, dtype=np.float32)[requested]
        return {"samples": np.asarray(g([z, onehot], training=False)), "history": history, "pairs": pairs}

    def judge(self, got, want, secret):
        structure = self._judge_pairs(got["pairs"], secret["spy"])
        ring = self._judge_ring(got, secret)
        verdict = judges.gated(structure, [ring])
        verdict.message = "; ".join(v.message for v in structure if not v.passed) or ring.message
        return verdict

    def _judge_pairs(self, pairs, spy):
        modes, k = self.shared["ring"]["modes"], self.SPY_K
        try:
            figures = cgan_pair_figures(pairs["d_calls"], pairs["g_calls"], spy["x"], spy["labels"], modes, k)
        except (TypeError, ValueError, IndexError) as exc:
            return [judges.Verdict(0.0, f"could not read the recorded train_step calls ({exc})")]
        steps = figures["steps"]
        what = f"per train_step (d_steps = {k}), the discriminator's calls"
        return [
            judges.property_holds(len(pairs["d_calls"]) > 0 and len(pairs["g_calls"]) > 0,
                                  "train_step calls the discriminator and the generator (eagerly, when called eagerly)",
                                  "no call was recorded: does train_step call self.discriminator and self.generator?"),
            judges.property_holds(all(c["bad_mismatch"] == 0 for c in steps),
                                  "every mismatched pair (c′, real x) has c′ ≠ c in every row",
                                  "some pair of the real batch with a changed condition kept the true label: draw the "
                                  "shift in 1 … C − 1, and use mismatched_labels"),
            judges.property_holds(all(c["real"] >= k and c["mismatched"] >= k and c["fake"] >= k + 1 for c in steps),
                                  f"{what}: ≥ K real pairs (x, c), ≥ K mismatched (x, c′), ≥ K + 1 generated (G(z, c), c)",
                                  f"counts per step: {[[c['real'], c['mismatched'], c['fake']] for c in steps]}"),
            judges.property_holds(figures["wrong_generator_condition"] == 0, "the generator gets the true condition c",
                                  "G(z, c) must be conditioned on the batch's own labels"),
            judges.property_holds(sorted(set(figures["shifts"])) == list(range(1, modes)) and figures["constant_shift_calls"] == 0,
                                  "the shifts c′ − c are drawn per sample and cover 1 … C − 1",
                                  "draw a random shift per sample in 1 … C − 1"),
        ]

    def _judge_ring(self, got, secret):
        cfg = self.config
        requested = secret["requested"]
        samples = judges.as_array(got["samples"], "generated samples", shape=(len(requested), 2))
        figures = requested_mode_figures(samples, requested, self.shared["ring"], cfg["k_sigma"])
        overall = judges.at_least(figures["overall"], cfg["min_overall"],
                                  f"fraction of samples within {cfg['k_sigma']:g}σ of the requested mode", baseline=1 / 8)
        worst = judges.at_least(figures["worst_class"], cfg["min_worst_class"], "the same for the worst class", baseline=0.0)
        verdict = judges.all_of([overall, worst])
        verdict.message = f"{overall.message}; {worst.message}"
        return verdict


class CycleganTraining(Check):
    """CycleGAN between two rings of Gaussians (unpaired): one train_step as specified; translations land on the other ring's modes and cycle back

    First one ``train_step`` of the student's ``CycleGAN`` on the grader's four
    small networks (SGD, the default ``cycle_weight``) is replayed in NumPy:
    both generators' update on the LSGAN generator terms plus λ × the L1 cycle
    loss, then both discriminators' update on the recomputed translations. A
    CycleGAN that never trains one network (or mixes up the domains) earns
    nothing here, whatever its samples. Then the ring figures."""

    visibility = HIDDEN
    points = 1
    kind = "training"
    budget = 60
    uses_reference = False
    SETUP = ("hidden_units", "batch_size", "steps", "cycle_weight", "learning_rate", "beta_1")

    def inputs(self, rng):
        cfg, ring = self.config, self.shared["ring"]
        target = cfg["target"]                      # the Y ring: hidden, so in this check's own table
        x, _ = shared_ring_data(ring)
        y, _ = sample_ring(ring["train_size"], rng, target)
        x_test, _ = sample_ring(cfg["samples"], rng, ring)
        y_test, _ = sample_ring(cfg["samples"], rng, target)
        g_xy, d_x = replay_weights(rng, (2, 4, 2), (2, 5, 1))
        g_yx, d_y = replay_weights(rng, (2, 4, 2), (2, 5, 1))
        # Generators with a non-zero first kernel: here nothing is random.
        g_xy[0], g_yx[0] = (rng.normal(0.0, 0.7, size=(2, 4)).astype(np.float32) for _ in range(2))
        step = {"g_xy": g_xy, "g_yx": g_yx, "d_x": d_x, "d_y": d_y,
                "x": x[:16], "y": y[:16]}
        return Inputs(public={"x": x, "y": y, "x_test": x_test, "y_test": y_test,
                              "setup": training_setup(cfg, ring, self.SETUP), "step": step},
                      secret={"x_test": x_test, "y_test": y_test, "step": step})

    #: The replayed step's SGD rates (generators, discriminators); cycle_weight is left at its default, 10.
    STEP = (0.05, 0.05)
    NETWORKS = ("g_xy", "g_yx", "d_x", "d_y")

    def observe(self, sub, x, y, x_test, y_test, setup, step):
        import keras
        import tensorflow as tf

        g_lr, d_lr = self.STEP
        nets = {name: plain_mlp(step[name], name) for name in self.NETWORKS}
        probe = sub.CycleGAN(nets["g_xy"], nets["g_yx"], nets["d_x"], nets["d_y"])
        probe.compile(d_optimizer=keras.optimizers.SGD(d_lr), g_optimizer=keras.optimizers.SGD(g_lr))
        probe.train_step((tf.constant(step["x"]), tf.constant(step["y"])))
        replayed = {name: [np.array(w) for w in net.weights] for name, net in nets.items()}
        hidden = tuple(setup["hidden_units"])
        g_xy, g_yx = sub.build_mlp(2, 2, hidden, name="g_xy"), sub.build_mlp(2, 2, hidden, name="g_yx")
        d_x, d_y = sub.build_mlp(2, 1, hidden, name="d_x"), sub.build_mlp(2, 1, hidden, name="d_y")
        cycle = sub.CycleGAN(g_xy, g_yx, d_x, d_y)
        cycle.compile(d_optimizer=adam(setup), g_optimizer=adam(setup), cycle_weight=setup["cycle_weight"],
                      steps_per_execution=setup["steps_per_execution"])
        history = fit_for_steps(cycle, (x, y), setup["batch_size"], setup["steps"])
        fake_y = np.asarray(g_xy(x_test, training=False))
        fake_x = np.asarray(g_yx(y_test, training=False))
        return {"fake_y": fake_y, "fake_x": fake_x, "cycled_x": np.asarray(g_yx(fake_y, training=False)),
                "cycled_y": np.asarray(g_xy(fake_x, training=False)), "history": history, "step": replayed}

    def judge(self, got, want, secret):
        step = secret["step"]
        g_lr, d_lr = self.STEP
        start = {name: [np.asarray(w, dtype=np.float64) for w in step[name]] for name in self.NETWORKS}
        expected = replay_cyclegan(start["g_xy"], start["g_yx"], start["d_x"], start["d_y"], step["x"], step["y"],
                                   g_lr, d_lr, cycle_weight=10.0)
        structure = []
        for name in self.NETWORKS:
            what = f"one CycleGAN train_step (SGD, default cycle_weight 10): {name}'s update"
            after = got["step"][name] if isinstance(got["step"], dict) and name in got["step"] else []
            if len(after) != len(start[name]):
                structure.append(judges.Verdict(0.0, f"{what}: {len(after)} weights, expected {len(start[name])}"))
                continue
            try:
                change = np.concatenate([(judges.as_array(a, name, shape=b.shape) - b).ravel() for a, b in zip(after, start[name])])
            except judges.BadObservation as exc:
                structure.append(judges.Verdict(0.0, f"{what}: {exc}"))
                continue
            want_change = np.concatenate([(w - b).ravel() for w, b in zip(expected[name], start[name])])
            structure.append(judges.close(change, want_change, what, tol=1e-3,
                                          hint="generators first (both directions' LSGAN terms + cycle_weight × cycle "
                                               "loss), then both discriminators on the recomputed translations"))
        ring = self._judge_ring(got, secret)
        verdict = judges.gated(structure, [ring])
        verdict.message = "; ".join(v.message for v in structure if not v.passed) or ring.message
        return verdict

    def _judge_ring(self, got, secret):
        cfg = self.config
        n = cfg["samples"]
        verdicts = []
        for key, ring, what in (("fake_y", cfg["target"], "G_XY(x) on the Y ring"),
                                ("fake_x", self.shared["ring"], "G_YX(y) on the X ring")):
            samples = judges.as_array(got[key], what, shape=(n, 2))
            counts, good, _ = mode_report(samples, ring_centers(ring), ring["sigma"], cfg["k_sigma"])
            verdicts.append(judges.at_least(float(np.mean(good)), cfg["min_on_mode"],
                                            f"fraction of {what} within {cfg['k_sigma']:g}σ of a mode", baseline=0.0))
        cycled_x = judges.as_array(got["cycled_x"], "G_YX(G_XY(x))", shape=(n, 2))
        cycled_y = judges.as_array(got["cycled_y"], "G_XY(G_YX(y))", shape=(n, 2))
        cycle = float(np.mean(np.abs(cycled_x - secret["x_test"])) + np.mean(np.abs(cycled_y - secret["y_test"])))
        verdicts.append(judges.at_most(cycle, cfg["max_cycle_l1"], "cycle-consistency L1 on held-out points"))
        verdict = judges.all_of(verdicts)
        verdict.message = "; ".join(v.message for v in verdicts)
        return verdict
