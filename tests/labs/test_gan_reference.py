"""The GAN lab's reference against independent implementations.

Every expected value in the lab's fixtures comes from the reference, so the
reference itself is checked here against things it does not share code with:
Keras's built-in losses, SciPy (entropy, Jensen–Shannon, Wasserstein distance,
bounded scalar optimisation, linear programming), numeric gradients, closed
forms and the slides' numbers.
"""

import numpy as np
import pytest
from scipy import optimize, spatial, stats

from grader.device import configure
from grader.checks.gradcheck import numeric_gradient
from grader.labs.lab import Lab, load_submission

configure()
import keras  # noqa: E402 - after configure(), which fixes TensorFlow's numerics
import tensorflow as tf  # noqa: E402

LAB = Lab.load("gan")
ref = load_submission(LAB.solution_file, "gan", alias="_gan_reference_under_test")
rng = np.random.default_rng(20230310)
LOG2 = np.log(2.0)


def bce(labels, logits):
    return float(keras.losses.BinaryCrossentropy(from_logits=True)(labels, logits))


# -- Part 1 -------------------------------------------------------------------------

def test_losses_equal_keras_binary_crossentropy():
    real, fake = rng.normal(1, 2, size=(32, 1)), rng.normal(-1, 2, size=(32, 1))
    ones, zeros = np.ones_like(real), np.zeros_like(fake)
    assert float(ref.discriminator_loss(real, fake)) == pytest.approx(bce(ones, real) + bce(zeros, fake), rel=1e-6)
    assert float(ref.generator_loss_nonsaturating(fake)) == pytest.approx(bce(ones, fake), rel=1e-6)
    assert float(ref.generator_loss_minimax(fake)) == pytest.approx(-bce(zeros, fake), rel=1e-6)


def test_losses_finite_at_extreme_logits():
    extreme = np.array([[-1e4], [-100.0], [100.0], [1e4]])
    for value in (ref.discriminator_loss(extreme, extreme), ref.generator_loss_minimax(extreme),
                  ref.generator_loss_nonsaturating(extreme)):
        assert np.isfinite(float(value))
    # softplus(1e4) = 1e4: the mean over [-1e4, -100, 100, 1e4] of softplus(l) is (100 + 1e4) / 4 up to e^-100.
    assert float(ref.generator_loss_nonsaturating(extreme)) == pytest.approx((1e4 + 100) / 4)


def test_slide_saturation_numbers():
    """Slides: when D(G(z)) → 0, log(1 − D(G(z))) has a tiny gradient; at logit −6,
    D = 0.0025 and the two gradients are −0.0025 and −0.9975."""
    logit = tf.constant([-6.0], dtype=tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logit)
        mm, ns = ref.generator_loss_minimax(logit), ref.generator_loss_nonsaturating(logit)
    g_mm, g_ns = float(tape.gradient(mm, logit)[0]), float(tape.gradient(ns, logit)[0])
    assert g_mm == pytest.approx(-0.0025, abs=5e-5)
    assert g_ns == pytest.approx(-0.9975, abs=5e-5)
    assert abs(g_ns) > 100 * abs(g_mm)


# -- Part 2 -------------------------------------------------------------------------

def test_slide_example_value_is_two_js_minus_two_log_two():
    p, q = np.array([0.5, 0.3, 0.2, 0.0]), np.array([0.1, 0.2, 0.3, 0.4])
    d_star = ref.optimal_discriminator(p, q)
    np.testing.assert_allclose(d_star, p / (p + q))
    v = ref.gan_value(p, q, d_star)
    js = spatial.distance.jensenshannon(p, q) ** 2          # SciPy returns the JS *distance*, natural log
    assert ref.js_divergence(p, q) == pytest.approx(js, rel=1e-12)
    assert v == pytest.approx(2 * js - 2 * LOG2, rel=1e-12)
    assert v == pytest.approx(-0.94335, abs=1e-5)               # the number measured while planning


def test_disjoint_and_equal_distributions():
    p, q = np.array([0.6, 0.4, 0, 0]), np.array([0, 0, 0.3, 0.7])
    assert ref.gan_value(p, q, ref.optimal_discriminator(p, q)) == pytest.approx(0.0, abs=1e-15)
    assert ref.js_divergence(p, q) == pytest.approx(LOG2)
    assert ref.gan_value(p, p, ref.optimal_discriminator(p, p)) == pytest.approx(-2 * LOG2)


@pytest.mark.parametrize("trial", range(3))
def test_f_divergences_against_scipy(trial):
    p, q = rng.dirichlet(np.ones(8)), rng.dirichlet(np.ones(8))
    js = spatial.distance.jensenshannon(p, q) ** 2
    expected = {"kl": stats.entropy(p, q), "rkl": stats.entropy(q, p), "js": 2 * js, "gan": 2 * js - 2 * LOG2}
    for name, value in expected.items():
        assert ref.f_divergence(p, q, name) == pytest.approx(value, rel=1e-10)
    assert ref.kl_divergence(p, q) == pytest.approx(stats.entropy(p, q), rel=1e-12)


@pytest.mark.parametrize("name,ts", [("kl", [-2.0, 0.0, 1.5]), ("rkl", [-3.0, -0.5, -0.05]),
                                     ("js", [-2.0, 0.0, 0.6]), ("gan", [-3.0, -0.5, -0.05])])
def test_conjugates_against_scipy_suprema(name, ts):
    """f*(t) = sup_x x·t − f(x), maximised numerically by SciPy over log x."""
    for t in ts:
        negative = lambda u: -(np.exp(u) * t - ref.divergence_f(name, np.exp(u)))  # noqa: E731
        best = optimize.minimize_scalar(negative, bounds=(-30, 12), method="bounded", options={"xatol": 1e-12})
        assert float(ref.conjugate(name, np.array([t]))[0]) == pytest.approx(-best.fun, rel=1e-7, abs=1e-9)


def test_conjugates_nan_outside_their_domain():
    for name, t in (("rkl", 0.1), ("js", 0.7), ("gan", 0.0)):
        assert np.isnan(float(ref.conjugate(name, np.array([t]))[0]))


def test_signed_zero_and_rounding_edges_the_checks_use():
    """The inputs that tell a tested domain or support from NaN/inf falling out
    of the arithmetic: just past log 2 exp(t) rounds to 2, so the closed form
    alone gives +inf where conjugate('js', t) must be NaN (conjugate_suprema);
    a q(x) written −0.0 is a zero, and p/q there is −inf, so KL by division
    alone gives NaN where it must be inf (optimal_discriminator)."""
    t = np.nextafter(LOG2, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        assert -np.log(2 - np.exp(t)) == np.inf
        p, q = np.array([0.5, 0.3, 0.2]), np.array([0.6, -0.0, 0.4])
        assert np.isnan(np.sum(p * np.log(p / q)))
    assert np.isnan(float(ref.conjugate("js", np.array([t]))[0]))
    assert ref.kl_divergence(p, q) == np.inf
    d_star = ref.optimal_discriminator(p, q)
    assert d_star[1] == 1.0 and np.isfinite(ref.gan_value(p, q, d_star))


def test_fgan_reduces_to_gan_and_optimal_v_gives_the_divergence():
    v_real, v_fake = rng.normal(size=20), rng.normal(size=30)
    assert float(ref.fgan_objective(v_real, v_fake, "gan")) == pytest.approx(-float(ref.discriminator_loss(v_real, v_fake)))
    p, q = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    # The slides' optimal V*: 1 + log(p/q) for KL, log(p/q) for reverse KL.
    for name, v_star, target in (("kl", 1 + np.log(p / q), stats.entropy(p, q)), ("rkl", np.log(p / q), stats.entropy(q, p))):
        objective = np.sum(p * ref.fgan_activation(name, v_star)) - np.sum(q * ref.conjugate(name, ref.fgan_activation(name, v_star)))
        assert float(objective) == pytest.approx(target, rel=1e-10)


# -- Part 4 -------------------------------------------------------------------------

@pytest.mark.parametrize("trial", range(3))
def test_emd_against_scipy_and_linear_programming(trial):
    n = 6
    support = np.sort(rng.uniform(-2, 2, size=n))
    p, q = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
    w = stats.wasserstein_distance(support, support, p, q)
    assert ref.emd_1d(p, q, support) == pytest.approx(w, rel=1e-10)
    plan = ref.monotone_plan(p, q)
    np.testing.assert_allclose(plan.sum(axis=1), p, atol=1e-12)
    np.testing.assert_allclose(plan.sum(axis=0), q, atol=1e-12)
    assert ref.transport_cost(plan, support, support) == pytest.approx(w, rel=1e-10)
    # The optimal transport LP (the slides' min over all plans Π) reaches the same cost.
    cost = np.abs(support[:, None] - support[None, :]).ravel()
    rows = np.kron(np.eye(n), np.ones(n))
    cols = np.kron(np.ones(n), np.eye(n))
    lp = optimize.linprog(cost, A_eq=np.vstack([rows, cols]), b_eq=np.concatenate([p, q]), bounds=(0, None))
    assert lp.fun == pytest.approx(w, rel=1e-7)


def test_transport_cost_in_two_dimensions():
    a, b = rng.normal(size=(3, 2)), rng.normal(size=(4, 2))
    plan = rng.dirichlet(np.ones(12)).reshape(3, 4)
    expected = sum(plan[i, j] * np.hypot(*(a[i] - b[j])) for i in range(3) for j in range(4))
    assert ref.transport_cost(plan, a, b) == pytest.approx(expected, rel=1e-12)


# -- Part 5 -------------------------------------------------------------------------

def test_weight_clip_and_wgan_losses():
    w = rng.normal(size=(5, 5)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(ref.WeightClip(0.3)(w)), np.clip(w, -0.3, 0.3))
    assert ref.WeightClip(**ref.WeightClip(0.3).get_config()).clip_value == 0.3
    real, fake = rng.normal(size=(7, 1)), rng.normal(size=(9, 1))
    assert float(ref.wgan_critic_loss(real, fake)) == pytest.approx(fake.mean() - real.mean())
    assert float(ref.wgan_generator_loss(fake)) == pytest.approx(-fake.mean())


def test_gradient_penalty_against_numeric_gradients():
    real, fake, alpha = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.uniform(size=(4, 1))
    w2 = rng.normal(size=(5, 1))

    def penalty(w1):
        critic = lambda x: tf.matmul(tf.tanh(tf.matmul(x, tf.constant(w1))), tf.constant(w2))  # noqa: E731
        return float(ref.gradient_penalty(critic, tf.constant(real), tf.constant(fake), tf.constant(alpha)))

    w1 = rng.normal(size=(3, 5))
    var = tf.Variable(w1)
    with tf.GradientTape() as tape:
        value = ref.gradient_penalty(lambda x: tf.matmul(tf.tanh(tf.matmul(x, var)), tf.constant(w2)),
                                     tf.constant(real), tf.constant(fake), tf.constant(alpha))
    analytic = tape.gradient(value, var).numpy()
    numeric = numeric_gradient(lambda v: np.array(penalty(v)), w1, np.array(1.0))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    # A linear critic has the constant gradient w: the penalty is (‖w‖ − 1)².
    w = rng.normal(size=(3, 1))
    assert float(ref.gradient_penalty(lambda x: x @ w, real, fake, alpha)) == pytest.approx((np.linalg.norm(w) - 1) ** 2)


# -- Parts 6–8 ------------------------------------------------------------------------

def test_mismatched_labels_always_differ():
    labels = np.repeat(np.arange(6), 5)
    for shift in range(1, 6):
        wrong = np.asarray(ref.mismatched_labels(labels, 6, np.full_like(labels, shift)))
        assert np.all(wrong != labels) and np.all((0 <= wrong) & (wrong < 6))


def test_lsgan_pix2pix_and_cycle_against_keras_losses():
    real, fake = rng.normal(size=(8, 1)), rng.normal(size=(8, 1))
    mse = lambda a, b: float(keras.losses.MeanSquaredError()(a, b))  # noqa: E731
    mae = lambda a, b: float(keras.losses.MeanAbsoluteError()(a, b))  # noqa: E731
    assert float(ref.lsgan_discriminator_loss(real, fake)) == pytest.approx(0.5 * mse(np.ones_like(real), real)
                                                                            + 0.5 * mse(np.zeros_like(fake), fake))
    assert float(ref.lsgan_generator_loss(fake)) == pytest.approx(0.5 * mse(np.ones_like(fake), fake))
    img, target = rng.uniform(size=(2, 4, 4, 1)), rng.uniform(size=(2, 4, 4, 1))
    expected = bce(np.ones_like(fake), fake) + 100 * float(np.mean(np.abs(img - target)))
    assert float(ref.pix2pix_generator_loss(fake, img, target, 100.0)) == pytest.approx(expected, rel=1e-6)
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    xc, yc = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    assert float(ref.cycle_consistency_loss(x, xc, y, yc)) == pytest.approx(
        float(np.mean(np.abs(xc - x)) + np.mean(np.abs(yc - y))))


def test_dcgan_parameter_counts_from_the_layer_formulas():
    gen, disc = ref.build_dcgan_generator(64, 10), ref.build_dcgan_discriminator(10)
    dense = (64 + 10) * 7 * 7 * 64 + 7 * 7 * 64
    convt1, convt2 = 4 * 4 * 64 * 32 + 32, 4 * 4 * 32 * 1 + 1
    assert gen.count_params() == dense + convt1 + convt2
    conv1, conv2, out = 4 * 4 * 11 * 32 + 32, 4 * 4 * 32 * 64 + 64, 7 * 7 * 64 + 1
    assert disc.count_params() == conv1 + conv2 + out
    assert gen.output_shape == (None, 28, 28, 1) and disc.output_shape == (None, 1)


def test_gan_train_step_matches_a_hand_written_step():
    """One train_step (K = 2, SGD) equals the same updates written out with the
    noise the model draws, replayed from an identically seeded SeedGenerator."""
    real = rng.normal(size=(8, 2)).astype(np.float32)
    keras.utils.set_random_seed(3)
    g, d = ref.build_mlp(2, 2, (4,)), ref.build_mlp(2, 1, (4,))
    g2, d2 = keras.models.clone_model(g), keras.models.clone_model(d)
    g2.set_weights(g.get_weights())
    d2.set_weights(d.get_weights())
    gan = ref.GAN(g, d, noise_dim=2, seed=11)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1), d_steps=2)
    gan.train_step(tf.constant(real))

    replay = keras.random.SeedGenerator(11)
    bce_loss = keras.losses.BinaryCrossentropy(from_logits=True)
    for _ in range(2):
        z = keras.random.normal((8, 2), seed=replay)
        with tf.GradientTape() as tape:
            loss = bce_loss(np.ones((8, 1)), d2(real)) + bce_loss(np.zeros((8, 1)), d2(g2(z)))
        for v, grad in zip(d2.trainable_weights, tape.gradient(loss, d2.trainable_weights)):
            v.assign(v - 0.1 * grad)
    z = keras.random.normal((8, 2), seed=replay)
    with tf.GradientTape() as tape:
        loss = bce_loss(np.ones((8, 1)), d2(g2(z)))
    for v, grad in zip(g2.trainable_weights, tape.gradient(loss, g2.trainable_weights)):
        v.assign(v - 0.1 * grad)
    for a, b in zip(g.get_weights() + d.get_weights(), g2.get_weights() + d2.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# -- The optional long check (full tier) --------------------------------------------------

@pytest.mark.full
def test_optional_dcgan_check_passes_on_the_reference():
    from grader.core import protocol, runner

    check = LAB.check("dcgan_digits")
    made = check.make_inputs()
    obs = runner.observe(check, ref, made.public)
    assert obs.status == "ok", obs.message
    obs.value = protocol.roundtrip(obs.value)
    result = runner.judge(check, obs, None, made.secret)
    assert result.passed, result.message


# -- Power of cgan_ring_training's recorded pairs (a statistical verdict) ---------------------

def _simulated_pairs(rng, lowest_shift, steps=4, k=2, batch=64, classes=8):
    """What the check's spies record for a ConditionalGAN whose mismatched
    labels are (labels + shift) mod C with shift uniform in lowest_shift … C − 1."""
    eye = np.eye(classes)
    batches, labels, d_calls, g_calls = [], [], [], []
    for step in range(steps):
        x, lab = rng.normal(size=(batch, 2)), rng.integers(classes, size=batch)
        batches.append(x)
        labels.append(lab)
        for _ in range(k + 1):
            fake = rng.normal(size=(batch, 2))
            g_calls.append([step, rng.normal(size=(batch, 2)), eye[lab], fake])
            d_calls.append([step, fake, eye[lab], np.zeros((batch, 1))])
        for _ in range(k):
            shift = rng.integers(lowest_shift, classes, size=batch)
            d_calls += [[step, x, eye[lab], np.zeros((batch, 1))], [step, x, eye[(lab + shift) % classes], np.zeros((batch, 1))]]
    return {"d_calls": d_calls, "g_calls": g_calls}, {"x": batches, "labels": labels}


def test_cgan_pair_check_power_and_false_alarms():
    """cgan_ring_training's docstring: with 4 steps × K = 2 × 64 = 512 mismatched
    rows and C = 8, a shift drawn in 0 … 7 goes unnoticed with probability
    (7/8)^512 (miss rate ≤ 1 %), and a correct draw in 1 … 7 fails with
    probability ≤ 7·(6/7)^512 + 8·7·(1/7)^64 (false alarms ≤ 0.1 %). Exact
    figures, then 300 simulated seeds of each through the check's own judge."""
    assert (7 / 8) ** 512 < 1e-2 and (7 / 8) ** 512 < 1e-29
    assert 7 * (6 / 7) ** 512 + 8 * 7 * (1 / 7) ** 64 < 1e-3
    check = LAB.check("cgan_ring_training")
    sim = np.random.default_rng(12)
    right = [all(v.passed for v in check._judge_pairs(*_simulated_pairs(sim, 1))) for _ in range(300)]
    wrong = [all(v.passed for v in check._judge_pairs(*_simulated_pairs(sim, 0))) for _ in range(300)]
    assert all(right), f"false alarms on a correct draw: {right.count(False)} of 300"
    assert not any(wrong), f"a draw in 0 … C − 1 passed {wrong.count(True)} of 300 times"


def test_train_step_replay_matches_tensorflow():
    """The NumPy replay the train-step checks judge against (common.py) equals
    the reference's GAN and WGAN train_step on the same networks."""
    common = LAB.check_module("common")
    g0, d0 = common.replay_weights(np.random.default_rng(5), (2, 4, 2), (2, 5, 1))
    real = rng.normal(size=(16, 2)).astype(np.float32)
    for cls, losses in ((ref.GAN, ("d_gan", "g_nonsaturating")), (ref.WGAN, ("d_wgan", "g_wgan"))):
        g, d = common.plain_mlp(g0, "g"), common.plain_mlp(d0, "d")
        model = cls(g, d, noise_dim=2, seed=0)
        model.compile(d_optimizer=keras.optimizers.SGD(0.1), g_optimizer=keras.optimizers.SGD(0.1), d_steps=2)
        model.train_step(tf.constant(real))
        want_g, want_d = common.replay_train_step(g0, d0, real.astype(np.float64), 16, 0.1, 0.1, 2, *losses)
        for got, want in zip(g.get_weights()[1:] + d.get_weights(), want_g[1:] + want_d):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_cgan_spy_records_a_train_step_wrapped_in_tf_function():
    """cgan_ring_training's spies record only eager calls; a student's
    ConditionalGAN whose train_step is a tf.function still passes the pair
    verdicts, because observe runs the spied steps with functions run
    eagerly, and it leaves TensorFlow's setting as it found it."""
    import types

    eager = []

    class Compiled(ref.ConditionalGAN):
        @tf.function
        def train_step(self, data):
            eager.append(tf.executing_eagerly())
            return super().train_step(data)

    # The wrapped step really is a graph function: two calls, one trace, not eager.
    probe = Compiled(ref.build_conditional_mlp(2, 8, 2, (8,)), ref.build_conditional_mlp(2, 8, 1, (8,)),
                     noise_dim=2, num_classes=8, seed=1)
    probe.compile(d_optimizer=keras.optimizers.SGD(0.01), g_optimizer=keras.optimizers.SGD(0.01), d_steps=1)
    batch = (tf.constant(rng.normal(size=(16, 2)), dtype=tf.float32), tf.constant(rng.integers(8, size=16)))
    probe.train_step(batch)
    probe.train_step(batch)
    assert eager == [False]

    check = LAB.check("cgan_ring_training")
    made = check.make_inputs()
    made.public["setup"] = dict(made.public["setup"], steps=10, steps_per_execution=10)   # the spied steps matter here
    sub = types.SimpleNamespace(ConditionalGAN=Compiled, build_conditional_mlp=ref.build_conditional_mlp)
    keras.utils.set_random_seed(0)                     # as the grader's runner does before observe
    assert not tf.config.functions_run_eagerly()
    for setting in (False, True):                     # True: as a student's notebook might have left it
        tf.config.run_functions_eagerly(setting)
        try:
            got = check.observe(sub, **made.public)
            assert tf.config.functions_run_eagerly() is setting
        finally:
            tf.config.run_functions_eagerly(False)
        verdicts = check._judge_pairs(got["pairs"], made.secret["spy"])
        assert all(v.passed for v in verdicts), [v.message for v in verdicts if not v.passed]
        assert {call[0] for call in got["pairs"]["d_calls"]} == set(range(check.SPY_STEPS))
