"""Hidden checks of the GAN lab (graders only): other inputs and properties than
the public ones (extreme logits, the slides' saturation and disjoint-support
arguments, numerical suprema, double back-propagation) and the trained WGAN,
conditional GAN and CycleGAN."""

import numpy as np

from grader import HIDDEN, Check, Inputs, judges

from .common import (adam, fit_for_steps, judge_ring, mode_report, ring_centers, sample_ring, shared_ring_data,
                     training_setup)
from .private import conjugate_numeric, requested_mode_figures, sliced_emd

LOG2 = np.log(2.0)

#: The slides' table of f-divergences, written independently of the student's
#: code for the trusted side's numerical suprema.
F_TABLE = {
    "kl": lambda x: x * np.log(x),
    "rkl": lambda x: -np.log(x),
    "js": lambda x: -(x + 1) * np.log((x + 1) / 2) + x * np.log(x),
    "gan": lambda x: x * np.log(x) - (x + 1) * np.log(x + 1),
}


def _kl(p, q):
    return float(np.sum(p * np.log(p / q)))


class LossStabilityAndSaturation(Check):
    """GAN losses at logits of ±1000, their gradients, and the slides' saturation claim at D(G(z)) ≈ 0.0025"""

    visibility = HIDDEN
    points = 1
    kind = "gradient"
    budget = 10

    def inputs(self, rng):
        return {"extreme": np.array([[-1000.0], [-100.0], [-30.0], [0.0], [30.0], [100.0], [1000.0]]),
                "logits": np.concatenate([[-6.0, 0.0], rng.normal(0.0, 3.0, size=6)])}

    def observe(self, sub, extreme, logits):
        import tensorflow as tf

        out = {"d_extreme": sub.discriminator_loss(extreme, -extreme),
               "d_extreme_swapped": sub.discriminator_loss(-extreme, extreme),
               "mm_extreme": sub.generator_loss_minimax(extreme),
               "ns_extreme": sub.generator_loss_nonsaturating(extreme)}
        x = tf.constant(logits)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            ns, mm = sub.generator_loss_nonsaturating(x), sub.generator_loss_minimax(x)
            d = sub.discriminator_loss(x, x[::-1])
        out.update(grad_ns=tape.gradient(ns, x), grad_mm=tape.gradient(mm, x), grad_d=tape.gradient(d, x))
        single = tf.constant([-6.0], dtype=tf.float64)   # D(G(z)) = σ(−6) ≈ 0.0025
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(single)
            ns, mm = sub.generator_loss_nonsaturating(single), sub.generator_loss_minimax(single)
        out["ratio_at_minus6"] = float(abs(tape.gradient(ns, single)[0]) / max(abs(tape.gradient(mm, single)[0]), 1e-300))
        return out

    def judge(self, got, want, secret):
        verdicts = [judges.close(got[k], want[k], f"{k.replace('_extreme', '')} loss at logits up to ±1000",
                                 tol=judges.FLOAT64_TOL,
                                 hint="log σ(l) = −softplus(−l) and log(1 − σ(l)) = −softplus(l) never overflow")
                    for k in ("d_extreme", "d_extreme_swapped", "mm_extreme", "ns_extreme")]
        verdicts += [judges.gradient(got[k], want[k], f"{k.replace('grad_', 'gradient of the ')} loss w.r.t. the logits")
                     for k in ("grad_ns", "grad_mm", "grad_d")]
        ratio = float(got["ratio_at_minus6"])
        verdicts.append(judges.property_holds(ratio > 100, "at D(G(z)) ≈ 0.0025 the non-saturating gradient is > 100× the minimax one",
                                              f"the ratio is {ratio:.3g}"))
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
    T_OUTSIDE = {"rkl": [0.0, 0.5], "js": [0.8, 2.0], "gan": [0.0, 1.0]}

    def inputs(self, rng):
        p, q = rng.dirichlet(np.ones(6) * 2), rng.dirichlet(np.ones(6) * 2)
        v_star = {"kl": 1 + np.log(p / q), "rkl": np.log(p / q), "js": np.log(p / q), "gan": np.log(p / q)}
        deltas = rng.normal(0.0, 0.3, size=(3, 6))
        v_real, v_fake = rng.normal(size=9), rng.normal(size=11)
        public = {"v_star": v_star, "deltas": deltas, "v_real": v_real, "v_fake": v_fake}
        return Inputs(public=public, secret={"p": p, "q": q})

    def observe(self, sub, v_star, deltas, v_real, v_fake):
        out = {"fgan_gan": sub.fgan_objective(v_real, v_fake, "gan"), "d_loss": sub.discriminator_loss(v_real, v_fake)}
        for name in self.NAMES:
            case = {"inside": sub.conjugate(name, np.array(self.T_INSIDE[name])), "terms": []}
            if name in self.T_OUTSIDE:   # NaN is the right answer there; report which entries are NaN
                case["outside_nan"] = np.isnan(np.asarray(sub.conjugate(name, np.array(self.T_OUTSIDE[name])), dtype=np.float64))
            for v in [v_star[name]] + [v_star[name] + d for d in deltas]:
                g = sub.fgan_activation(name, v)
                case["terms"].append([g, sub.conjugate(name, g)])
            out[name] = case
        return out

    def judge(self, got, want, secret):
        p, q = secret["p"], secret["q"]
        m = (p + q) / 2
        js = 0.5 * _kl(p, m) + 0.5 * _kl(q, m)
        divergence = {"kl": _kl(p, q), "rkl": _kl(q, p), "js": 2 * js, "gan": 2 * js - 2 * LOG2}
        verdicts = []
        for name in self.NAMES:
            case = got[name]
            numeric = [conjugate_numeric(F_TABLE[name], t) for t in self.T_INSIDE[name]]
            verdicts.append(judges.close(case["inside"], numeric, f"conjugate({name!r}, t) vs the numerical sup_x x·t − f(x)",
                                         tol=1e-8))
            if name in self.T_OUTSIDE:
                outside = np.asarray(case["outside_nan"])
                verdicts.append(judges.property_holds(outside.shape == (len(self.T_OUTSIDE[name]),) and bool(np.all(outside)),
                                                      f"conjugate({name!r}, t) is NaN outside dom f*",
                                                      f"at t = {self.T_OUTSIDE[name]} it did not return NaN"))
            values = []
            for g, fstar in case["terms"]:
                g = judges.as_array(g, f"fgan_activation({name!r}, V)", shape=p.shape)
                fstar = judges.as_array(fstar, f"conjugate({name!r}, g(V))", shape=p.shape)
                values.append(float(np.sum(p * g) - np.sum(q * fstar)))
            verdicts.append(judges.property_holds(abs(values[0] - divergence[name]) < 1e-9,
                                                  f"E_p g(V*) − E_q f*(g(V*)) equals D_f for {name!r}",
                                                  f"got {values[0]:.6g}"))
            verdicts.append(judges.property_holds(all(v <= values[0] + 1e-12 for v in values[1:]),
                                                  f"perturbing V* lowers the {name!r} objective",
                                                  "check the activation g for this divergence"))
        verdicts.append(judges.property_holds(abs(float(got["fgan_gan"]) + float(got["d_loss"])) < 1e-9,
                                              "fgan_objective(…, 'gan') = −discriminator_loss (GAN is a special f-GAN)"))
        return judges.all_of(verdicts)


class JsConstantEmdGrows(Check):
    """The slides' argument: for disjoint supports JS stays log 2 and V(G, D*) = 0 while the EMD grows with the distance"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 5
    uses_reference = False
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
            d_star = sub.optimal_discriminator(p, q)
            product = np.outer(p, q)          # a valid, generally poor, transport plan
            out.append({"js": sub.js_divergence(p, q), "emd": sub.emd_1d(p, q, support),
                        "v_star": sub.gan_value(p, q, d_star),
                        "product_cost": sub.transport_cost(product, support, support),
                        "monotone_cost": sub.transport_cost(sub.monotone_plan(p, q), support, support)})
        return out

    def judge(self, got, want, secret):
        verdicts = []
        for shift, g in zip(self.SHIFTS, got):
            distance = shift * self.GAP
            js, emd, v = float(g["js"]), float(g["emd"]), float(g["v_star"])
            if shift >= 3:
                verdicts.append(judges.property_holds(abs(js - LOG2) < 1e-9, f"JS = log 2 for disjoint supports {distance:g} apart",
                                                      f"got {js:.6g}"))
                verdicts.append(judges.property_holds(abs(v) < 1e-9, f"V(G, D*) = 0 for disjoint supports {distance:g} apart",
                                                      f"got {v:.6g}"))
            else:
                verdicts.append(judges.property_holds(js < LOG2 - 1e-6, "JS < log 2 when the supports overlap"))
            verdicts.append(judges.property_holds(abs(emd - distance) < 1e-9, f"EMD = {distance:g} for a shift by {distance:g}",
                                                  f"emd_1d returned {emd:.6g}"))
            verdicts.append(judges.property_holds(float(g["product_cost"]) >= emd - 1e-9 and abs(float(g["monotone_cost"]) - emd) < 1e-9,
                                                  "the monotone plan costs the EMD and the product plan p·qᵀ costs at least that"))
        return judges.all_of(verdicts)


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
        for name, (var, make_critic, r, f, a) in cases.items():
            with tf.GradientTape() as tape:
                penalty = sub.gradient_penalty(make_critic(var), tf.constant(r), tf.constant(f), tf.constant(a))
            grad = tape.gradient(penalty, var)
            out[name] = {"penalty": penalty, "grad": np.zeros(var.shape) if grad is None else grad, "none": grad is None}
        return out

    def judge(self, got, want, secret):
        verdicts = []
        for name, w in (("linear", secret["w"]), ("image", secret["w_img"])):
            norm = np.linalg.norm(w)
            what = "linear critic D(x) = w·x + b" if name == "linear" else "linear critic on (2, 2, 1) images"
            verdicts.append(judges.close(got[name]["penalty"], (norm - 1) ** 2, f"penalty of a {what}: (‖w‖ − 1)²",
                                         tol=judges.FLOAT64_TOL, hint="the norm is over every axis but the batch axis"))
            verdicts.append(judges.gradient(got[name]["grad"], 2 * (norm - 1) * w / norm, f"d penalty / d w for a {what}",
                                            hint="compute the inner gradient with a tape so the outer tape can differentiate it"))
        verdicts.append(judges.property_holds(not got["mlp"]["none"], "the penalty is differentiable w.r.t. the critic's weights"))
        verdicts.append(judges.close(got["mlp"]["penalty"], want["mlp"]["penalty"], "penalty of a tanh critic", tol=judges.FLOAT64_TOL))
        verdicts.append(judges.gradient(got["mlp"]["grad"], want["mlp"]["grad"], "its gradient w.r.t. the hidden weights"))
        return judges.all_of(verdicts)


class WganRingTraining(Check):
    """WGAN with weight clipping and n_critic steps trained on the ring: modes covered and high-quality samples"""

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
        return Inputs(public={"x": x, "z": z, "setup": training_setup(cfg, ring, self.SETUP)},
                      secret={"fresh": fresh})

    def observe(self, sub, x, z, setup):
        import keras

        hidden = tuple(setup["hidden_units"])
        g = sub.build_mlp(setup["noise_dim"], 2, hidden, name="generator")
        critic = sub.build_mlp(2, 1, hidden, name="critic", kernel_constraint=sub.WeightClip(setup["clip_value"]))
        wgan = sub.WGAN(g, critic, noise_dim=setup["noise_dim"])
        rmsprop = lambda: keras.optimizers.RMSprop(setup["learning_rate"])  # noqa: E731 - the WGAN paper's optimiser
        wgan.compile(d_optimizer=rmsprop(), g_optimizer=rmsprop(), d_steps=setup["n_critic"],
                     steps_per_execution=setup["steps_per_execution"])
        history = fit_for_steps(wgan, x, setup["batch_size"], setup["steps"])
        return {"samples": np.asarray(g(z, training=False)), "history": history}

    def judge(self, got, want, secret):
        cfg = self.config
        samples = judges.as_array(got["samples"], "generated samples", shape=(cfg["samples"], 2))
        emd = judges.at_most(sliced_emd(samples, np.asarray(secret["fresh"], dtype=np.float64)), cfg["max_sliced_emd"],
                             "sliced EMD between the samples and the ring")
        return judge_ring(got, cfg, self.shared["ring"], "the WGAN's", extra=[emd])


class CganRingTraining(Check):
    """Conditional GAN on the labelled ring: samples land on the requested mode"""

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
        return Inputs(public={"x": x, "labels": labels, "z": z, "requested": requested, "setup": setup},
                      secret={"requested": requested})

    def observe(self, sub, x, labels, z, requested, setup):
        modes, hidden = setup["modes"], tuple(setup["hidden_units"])
        g = sub.build_conditional_mlp(setup["noise_dim"], modes, 2, hidden, name="generator")
        d = sub.build_conditional_mlp(2, modes, 1, hidden, name="discriminator")
        cgan = sub.ConditionalGAN(g, d, noise_dim=setup["noise_dim"], num_classes=modes)
        cgan.compile(d_optimizer=adam(setup, setup["steps"] * setup["d_steps"]), g_optimizer=adam(setup, setup["steps"]),
                     d_steps=setup["d_steps"], steps_per_execution=setup["steps_per_execution"])
        history = fit_for_steps(cgan, (x, labels), setup["batch_size"], setup["steps"])
        onehot = np.eye(modes, dtype=np.float32)[requested]
        return {"samples": np.asarray(g([z, onehot], training=False)), "history": history}

    def judge(self, got, want, secret):
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
    """CycleGAN between two rings of Gaussians (unpaired): translations land on the other ring's modes and cycle back"""

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
        return Inputs(public={"x": x, "y": y, "x_test": x_test, "y_test": y_test,
                              "setup": training_setup(cfg, ring, self.SETUP)},
                      secret={"x_test": x_test, "y_test": y_test})

    def observe(self, sub, x, y, x_test, y_test, setup):
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
                "cycled_y": np.asarray(g_xy(fake_x, training=False)), "history": history}

    def judge(self, got, want, secret):
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
