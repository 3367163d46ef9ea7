# Starter code generated from the reference by `grader starter`: fill in every TODO.
"""Lab — Generative adversarial networks (生成对抗网络), chapters 10–11 of the slides.

Conventions used throughout (Keras's, not the slides'):

* A discriminator returns **logits** ``l`` (no sigmoid); the probability that
  ``x`` is real is ``D(x) = σ(l)``. Every log-probability is computed from the
  logit with ``log σ(l) = −softplus(−l)`` and ``log(1 − σ(l)) = −softplus(l)``,
  which stay finite for any logit (``log(sigmoid(l))`` does not).
* Losses are **minimised** (Keras optimisers descend). The slides write the
  discriminator's objective as a maximisation of
  ``V = E log D(x) + E log(1 − D(G(z)))``; its loss here is ``−V``.
* Batches come first: samples are (B, d), logits (B, 1) or (B,), images
  (B, 28, 28, 1) NHWC, one-hot conditions (B, C).
* Discrete distributions are 1-D NumPy arrays that sum to 1.

Part 2 and Part 4 are NumPy; the other parts use ``keras.ops`` so that they
work on NumPy arrays and on tensors of any float dtype (float64 in the
gradient checks) and are differentiable.
"""

import numpy as np
import tensorflow as tf
import keras
from keras import layers, ops


# --------------------------------------------------------------------------
# Part 1. GAN losses on logits (判别器与生成器的损失, Log D 技巧)
# --------------------------------------------------------------------------

def discriminator_loss(real_logits, fake_logits):
    """The discriminator's loss, ``−[mean log D(x) + mean log(1 − D(G(z)))]``.

    Args:
        real_logits: (B,) or (B, 1) logits of real samples.
        fake_logits: (B',) or (B', 1) logits of generated samples.
    Returns:
        A scalar: ``mean softplus(−real) + mean softplus(fake)``.
    """
    # TODO: −mean log σ(real) − mean log(1 − σ(fake)), written with softplus so it is finite for any logit
    raise NotImplementedError("discriminator_loss: −mean log σ(real) − mean log(1 − σ(fake)), written with softplus so it is finite for any logit")


def generator_loss_minimax(fake_logits):
    """The generator's loss of the minimax game, ``mean log(1 − D(G(z)))``.

    It saturates: when D rejects the samples (``D(G(z)) → 0``) its gradient
    with respect to the logit, ``−σ(l)``, vanishes (slides: 「log(1 − D(G(z)))
    的梯度很小」). Returns a scalar.
    """
    # TODO: mean log(1 − σ(fake)) = −mean softplus(fake)
    raise NotImplementedError("generator_loss_minimax: mean log(1 − σ(fake)) = −mean softplus(fake)")


def generator_loss_nonsaturating(fake_logits):
    """The non-saturating generator loss (the slides' 「Log D 技巧」),
    ``−mean log D(G(z))``; its gradient w.r.t. the logit is ``−σ(−l)``,
    close to −1 when D rejects the samples. Returns a scalar."""
    # TODO: −mean log σ(fake) = mean softplus(−fake)
    raise NotImplementedError("generator_loss_nonsaturating: −mean log σ(fake) = mean softplus(−fake)")


# --------------------------------------------------------------------------
# Part 2. Divergences on discrete distributions (D*, JS, f-divergences, f-GAN)
# --------------------------------------------------------------------------

def kl_divergence(p, q):
    """``KL(p‖q) = Σ_x p(x) log(p(x)/q(x))`` with ``0·log 0 = 0``; ``inf`` when
    some ``q(x) = 0 < p(x)``. ``p``, ``q``: (n,) probability vectors. Returns a float."""
    # TODO: sum p·log(p/q) over the x with p(x) > 0 (inf if q(x) = 0 there)
    raise NotImplementedError("kl_divergence: sum p·log(p/q) over the x with p(x) > 0 (inf if q(x) = 0 there)")


def js_divergence(p, q):
    """Jensen–Shannon divergence ``JS(p‖q) = ½KL(p‖m) + ½KL(q‖m)`` with
    ``m = (p + q)/2``; between 0 and ``log 2``. Returns a float."""
    # TODO: ½ KL(p‖m) + ½ KL(q‖m) with the mixture m = (p + q) / 2
    raise NotImplementedError("js_divergence: ½ KL(p‖m) + ½ KL(q‖m) with the mixture m = (p + q) / 2")


def optimal_discriminator(p_data, p_g):
    """The optimal discriminator ``D*(x) = P_data(x) / (P_data(x) + P_G(x))``.

    Where both probabilities are 0 the value does not matter; return 0.5.
    Args: p_data, p_g: (n,) probability vectors. Returns: (n,) array.
    """
    # TODO: p / (p + q), and 0.5 where p + q == 0
    raise NotImplementedError("optimal_discriminator: p / (p + q), and 0.5 where p + q == 0")


def gan_value(p_data, p_g, d):
    """The GAN value ``V(G, D) = Σ_x P_data(x) log D(x) + Σ_x P_G(x) log(1 − D(x))``
    for a discriminator given by its probabilities ``d`` (n,) on the support,
    with ``0·log 0 = 0`` (a term whose probability is 0 contributes nothing).
    With ``d = D*`` it equals ``2·JS(P_data‖P_G) − 2 log 2``. Returns a float."""
    # TODO: Σ p·log d + Σ q·log(1 − d), skipping the terms whose weight p (or q) is 0
    raise NotImplementedError("gan_value: Σ p·log d + Σ q·log(1 − d), skipping the terms whose weight p (or q) is 0")


#: The f-divergences of the slides' table (f-GAN), by name.
F_DIVERGENCES = ("kl", "rkl", "js", "gan")


def divergence_f(name, x):
    """The convex function ``f`` (with ``f(1) = 0``) of an f-divergence, at ``x > 0``:

    * ``"kl"``:  ``x log x``                       (D_f = KL(p‖q))
    * ``"rkl"``: ``−log x``                        (D_f = KL(q‖p), reverse KL)
    * ``"js"``:  ``−(x + 1) log((x + 1)/2) + x log x``   (D_f = 2·JS)
    * ``"gan"``: ``x log x − (x + 1) log(x + 1)``  (D_f = 2·JS − 2 log 2)

    ``x``: NumPy array of positive numbers. Returns an array shaped like ``x``.
    Raises ``ValueError`` for another name.
    """
    x = np.asarray(x, dtype=np.float64)
    # TODO: the four formulas of the slides' table
    raise NotImplementedError("divergence_f: the four formulas of the slides' table")


def f_divergence(p, q, name):
    """``D_f(p‖q) = Σ_x q(x) f(p(x)/q(x))`` for strictly positive ``p``, ``q`` (n,).
    Returns a float."""
    # TODO: Σ q · divergence_f(name, p / q)
    raise NotImplementedError("f_divergence: Σ q · divergence_f(name, p / q)")


def conjugate(name, t):
    """The convex conjugate ``f*(t) = max_{x ∈ dom f} {x·t − f(x)}`` of the slides' table:

    * ``"kl"``:  ``exp(t − 1)``, every t
    * ``"rkl"``: ``−1 − log(−t)``, t < 0
    * ``"js"``:  ``−log(2 − exp t)``, t < log 2
    * ``"gan"``: ``−log(1 − exp t)``, t < 0

    ``t``: array or tensor. Returns ``f*(t)`` (a tensor, the dtype of ``t``),
    ``NaN`` where ``t`` is outside ``dom f*``. Use ``log1p``/``expm1`` where
    they keep the value accurate.
    """
    t = ops.convert_to_tensor(t)
    nan = ops.full_like(t, float("nan"))
    # TODO: the closed forms; ops.where(t inside the domain, f*(t), nan)
    raise NotImplementedError("conjugate: the closed forms; ops.where(t inside the domain, f*(t), nan)")


def fgan_activation(name, v):
    """The output activation ``g`` that maps an unconstrained score ``V(x)`` into
    ``dom f*`` (slides: 「引入激活函数 g(·)」):

    * ``"gan"``: ``g(v) = −log(1 + exp(−v))`` (so ``g(V(x)) = log D(x)`` with ``D = σ(V)``)
    * ``"kl"``:  ``g(v) = v``
    * ``"rkl"``: ``g(v) = −exp(−v)``
    * ``"js"``:  ``g(v) = log 2 − log(1 + exp(−v))`` (from the f-GAN paper; not on the slides)

    Returns a tensor shaped like ``v``.
    """
    v = ops.convert_to_tensor(v)
    # TODO: the four activations, with softplus for log(1 + exp(·))
    raise NotImplementedError("fgan_activation: the four activations, with softplus for log(1 + exp(·))")


def fgan_objective(v_real, v_fake, name):
    """The f-GAN discriminator objective (to be *maximised*),
    ``mean g(V(x_real)) − mean f*(g(V(x_fake)))``, a lower bound of ``D_f(P_data‖P_G)``.

    For ``"gan"`` it equals ``−discriminator_loss(v_real, v_fake)`` (slides:
    「GAN是f-GAN的特列」). ``v_real`` (B,), ``v_fake`` (B',). Returns a scalar.
    """
    # TODO: mean of fgan_activation on the real scores minus the mean of conjugate(fgan_activation(...)) on the fake ones
    raise NotImplementedError("fgan_objective: mean of fgan_activation on the real scores minus the mean of conjugate(fgan_activation(...)) on the fake ones")


# --------------------------------------------------------------------------
# Part 3. A GAN as a keras.Model (K discriminator steps, one generator step)
# --------------------------------------------------------------------------

def build_mlp(input_dim, output_dim, hidden_units=(64, 64), name=None, kernel_constraint=None):
    """A multilayer perceptron ``input_dim → hidden_units… → output_dim``.

    ``keras.Sequential`` of ``keras.Input((input_dim,))``, one ``Dense(u,
    activation="relu")`` per entry of ``hidden_units``, and a final linear
    ``Dense(output_dim)``. Every Dense layer gets ``kernel_constraint`` *and*
    ``bias_constraint = kernel_constraint`` (WGAN's weight clipping clips
    every parameter). Input (B, input_dim) → output (B, output_dim).
    """
    # TODO: keras.Sequential([Input, Dense(u, relu)…, Dense(output_dim)]) with the constraint on kernels and biases
    raise NotImplementedError("build_mlp: keras.Sequential([Input, Dense(u, relu)…, Dense(output_dim)]) with the constraint on kernels and biases")


class GAN(keras.Model):
    """A generator and a discriminator trained in turn (slides: 「生成对抗网络的算法」).

    Each ``train_step(real)`` on a batch ``real`` (B, d):

    1. ``d_steps`` (the slides' K, 「重复K次」) discriminator updates: draw noise
       z (B, noise_dim), and descend ``self.d_loss(D(real), D(G(z)))`` on the
       discriminator's weights only (the same real batch each time, fresh noise);
    2. one generator update (「只做一次」): fresh noise, descend
       ``self.g_loss(D(G(z)))`` on the generator's weights only.

    It returns ``{"d_loss": …, "g_loss": …}``, the running means of the last
    discriminator loss and the generator loss (``keras.metrics.Mean`` trackers).
    ``generator_loss`` chooses ``"nonsaturating"`` (default) or ``"minimax"``.
    Noise is drawn with ``keras.random.normal(..., seed=self.seed_generator)``
    so training is reproducible. Works with ``fit`` (compiled graph mode).
    """

    def __init__(self, generator, discriminator, noise_dim, generator_loss="nonsaturating", seed=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.noise_dim = noise_dim
        self.generator_loss = generator_loss
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer, d_steps=1, **kwargs):
        """Keep both optimisers and K = ``d_steps``; ``kwargs`` (e.g.
        ``steps_per_execution``) go to ``keras.Model.compile``."""
        super().compile(**kwargs)
        # TODO: store d_optimizer, g_optimizer and d_steps on self
        raise NotImplementedError("compile: store d_optimizer, g_optimizer and d_steps on self")

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def sample_noise(self, batch_size):
        """Noise z ~ N(0, I) of shape (batch_size, noise_dim)."""
        return keras.random.normal((batch_size, self.noise_dim), seed=self.seed_generator)

    def d_loss(self, real_logits, fake_logits):
        """The discriminator's loss (Part 1)."""
        return discriminator_loss(real_logits, fake_logits)

    def g_loss(self, fake_logits):
        """The generator's loss (Part 1), non-saturating or minimax."""
        if self.generator_loss == "minimax":
            return generator_loss_minimax(fake_logits)
        return generator_loss_nonsaturating(fake_logits)

    def train_step(self, real):
        batch_size = ops.shape(real)[0]
        # TODO: K discriminator updates (GradientTape over D's trainable_weights, d_optimizer), then one generator update (G's weights, g_optimizer); update the trackers
        raise NotImplementedError("train_step: K discriminator updates (GradientTape over D's trainable_weights, d_optimizer), then one generator update (G's weights, g_optimizer); update the trackers")
        return {m.name: m.result() for m in self.metrics}


# --------------------------------------------------------------------------
# Part 4. Earth mover's distance (推土机距离)
# --------------------------------------------------------------------------

def transport_cost(plan, x_from, x_to):
    """The cost of a transport plan, ``B(γ) = Σ_{p,q} γ(x_p, x_q)·‖x_p − x_q‖``.

    Args:
        plan: (m, n) array, ``plan[i, j]`` = mass moved from ``x_from[i]`` to ``x_to[j]``.
        x_from: (m,) or (m, d) positions; x_to: (n,) or (n, d) positions.
    Returns: a float (Euclidean distances; ``|x − y|`` in one dimension).
    """
    # TODO: the (m, n) matrix of Euclidean distances, weighted by the plan and summed
    raise NotImplementedError("transport_cost: the (m, n) matrix of Euclidean distances, weighted by the plan and summed")


def monotone_plan(p, q):
    """The optimal plan between two distributions on sorted 1-D supports: the
    "north-west corner" rule, which moves mass in order (the i-th unit of
    earth of p goes to the i-th unit of q).

    Args: p (m,), q (n,) probability vectors (same total mass).
    Returns: (m, n) plan whose row sums are p and column sums are q.
    """
    # TODO: two pointers i, j; move min(left_p[i], left_q[j]) to plan[i, j] and advance whichever is used up
    raise NotImplementedError("monotone_plan: two pointers i, j; move min(left_p[i], left_q[j]) to plan[i, j] and advance whichever is used up")


def emd_1d(p, q, support):
    """Earth mover's distance between two distributions on the same sorted
    1-D ``support`` (n,): ``W(p, q) = Σ_i |P(x_i) − Q(x_i)|·(x_{i+1} − x_i)``,
    with P, Q the cumulative distribution functions. Returns a float."""
    # TODO: cumulative sums of p and q, |difference| times the gaps between consecutive support points
    raise NotImplementedError("emd_1d: cumulative sums of p and q, |difference| times the gaps between consecutive support points")


# --------------------------------------------------------------------------
# Part 5. WGAN: critic, weight clipping, gradient penalty
# --------------------------------------------------------------------------

def wgan_critic_loss(real_scores, fake_scores):
    """The critic's loss, ``mean D(G(z)) − mean D(x)`` (minimising it maximises
    the slides' ``E_data D(x) − E_G D(x)``). Scores are unbounded (no sigmoid).
    Returns a scalar."""
    # TODO: mean of the fake scores minus mean of the real scores
    raise NotImplementedError("wgan_critic_loss: mean of the fake scores minus mean of the real scores")


def wgan_generator_loss(fake_scores):
    """The generator's loss, ``−mean D(G(z))`` (slides: maximise ``(1/m)Σ D(G(z_i))``)."""
    # TODO: minus the mean fake score
    raise NotImplementedError("wgan_generator_loss: minus the mean fake score")


class WeightClip(keras.constraints.Constraint):
    """Weight clipping (the slides' 「Gradient Clipping」 is really *weight*
    clipping): after every update each parameter is clipped to ``[−k, k]``.
    Use it as a layer's ``kernel_constraint``/``bias_constraint``; Keras
    optimisers apply it after each step."""

    def __init__(self, clip_value=0.01):
        self.clip_value = clip_value

    def __call__(self, w):
        # TODO: ops.clip(w, -k, k)
        raise NotImplementedError("__call__: ops.clip(w, -k, k)")

    def get_config(self):
        # TODO: a dict that WeightClip(**config) turns back into the same constraint
        raise NotImplementedError("get_config: a dict that WeightClip(**config) turns back into the same constraint")


def gradient_penalty(critic, real, fake, alpha):
    """WGAN-GP's penalty (an extension: the slides show only the results of
    "Improved WGAN"): ``mean_i (‖∇_x̂ D(x̂_i)‖₂ − 1)²`` at the interpolates
    ``x̂ = α·x + (1 − α)·x̃``.

    Args:
        critic: a callable (a Keras model or a function) mapping (B, …) to (B, 1) scores.
        real, fake: (B, …) batches; alpha: (B, 1, …) mixing weights in [0, 1],
            broadcastable against ``real``.
    Returns: a scalar, differentiable w.r.t. the critic's weights (double
    back-propagation: compute the inner gradient with a ``tf.GradientTape``
    that watches ``x̂``).
    """
    # TODO: interpolate, take the gradient of sum(critic(x̂)) w.r.t. x̂ with a tape, its L2 norm per sample, then mean((norm − 1)²)
    raise NotImplementedError("gradient_penalty: interpolate, take the gradient of sum(critic(x̂)) w.r.t. x̂ with a tape, its L2 norm per sample, then mean((norm − 1)²)")


class WGAN(GAN):
    """A Wasserstein GAN: the ``GAN`` training loop with the log terms replaced
    (slides: 「WGAN 算法」). ``d_steps`` plays the role of ``n_critic``; the
    critic is built with ``WeightClip`` constraints, so clipping happens in
    the critic's optimiser after each update."""

    def d_loss(self, real_scores, fake_scores):
        # TODO: the critic loss of this part
        raise NotImplementedError("d_loss: the critic loss of this part")

    def g_loss(self, fake_scores):
        # TODO: the WGAN generator loss
        raise NotImplementedError("g_loss: the WGAN generator loss")


# --------------------------------------------------------------------------
# Part 6. Conditional GAN (条件生成对抗网络)
# --------------------------------------------------------------------------

def build_conditional_mlp(input_dim, num_classes, output_dim, hidden_units=(64, 64), name=None):
    """An MLP on an input and a condition (the slides' design ①: one network
    scores the pair (c, x)): inputs ``[x (B, input_dim), c (B, num_classes)]``
    (c one-hot), concatenated as ``[x, c]``, then ``Dense(u, relu)`` per
    hidden layer and a linear ``Dense(output_dim)``. A functional
    ``keras.Model`` taking a list of two inputs."""
    # TODO: two keras.Input, layers.Concatenate()([x, c]), the Dense stack, keras.Model([x, c], out)
    raise NotImplementedError("build_conditional_mlp: two keras.Input, layers.Concatenate()([x, c]), the Dense stack, keras.Model([x, c], out)")


def mismatched_labels(labels, num_classes, shift):
    """Labels guaranteed to differ from ``labels``: ``(labels + shift) mod C``
    with ``shift`` in ``1 … C − 1`` (one per sample). Int tensors (B,)."""
    # TODO: (labels + shift) % num_classes
    raise NotImplementedError("mismatched_labels: (labels + shift) % num_classes")


def cgan_discriminator_loss(real_logits, fake_logits, mismatch_logits):
    """The conditional discriminator's loss over the slides' three cases:
    (c, matching real x) → 1, (c, G(z, c)) → 0, (c′ ≠ c, real x) → 0, i.e.
    ``mean softplus(−real) + mean softplus(fake) + mean softplus(mismatch)``."""
    # TODO: binary cross-entropy on logits: real pairs towards 1, generated and mismatched pairs towards 0
    raise NotImplementedError("cgan_discriminator_loss: binary cross-entropy on logits: real pairs towards 1, generated and mismatched pairs towards 0")


class ConditionalGAN(GAN):
    """A conditional GAN: ``G([z, c])`` and ``D([x, c])`` with one-hot c. It
    keeps ``GAN``'s ``compile``, trackers and noise, and replaces ``train_step``.

    ``train_step((x, labels))`` with x (B, …) and int labels (B,):

    1. ``d_steps`` discriminator updates on ``cgan_discriminator_loss`` with
       real pairs ``(x, c)``, generated pairs ``(G([z, c]), c)`` and
       mismatched pairs ``(x, c′)``, ``c′ = mismatched_labels(labels, C, shift)``
       with a random shift per sample in ``1 … C − 1``;
    2. one generator update on the non-saturating loss of ``D([G([z, c]), c])``.

    Returns ``{"d_loss", "g_loss"}`` as in ``GAN``.
    """

    def __init__(self, generator, discriminator, noise_dim, num_classes, seed=None, **kwargs):
        super().__init__(generator, discriminator, noise_dim, seed=seed, **kwargs)
        self.num_classes = num_classes

    def train_step(self, data):
        x, labels = data
        labels = ops.cast(labels, "int32")
        batch_size = ops.shape(x)[0]
        c = ops.one_hot(labels, self.num_classes, dtype=x.dtype)
        # TODO: K discriminator updates on the three cases (draw a random shift in 1…C−1 for the mismatched labels), then one generator update conditioned on c
        raise NotImplementedError("train_step: K discriminator updates on the three cases (draw a random shift in 1…C−1 for the mismatched labels), then one generator update conditioned on c")
        return {m.name: m.result() for m in self.metrics}


# --------------------------------------------------------------------------
# Part 7. LSGAN, "GAN + similarity" (pix2pix) and CycleGAN
# --------------------------------------------------------------------------

def lsgan_discriminator_loss(real_out, fake_out):
    """LSGAN (the sigmoid replaced by a linear output, least-squares targets
    1 for real and 0 for fake): ``½ mean (D(x) − 1)² + ½ mean D(G(z))²``."""
    # TODO: half the mean squared distance of the real outputs to 1 plus half that of the fake outputs to 0
    raise NotImplementedError("lsgan_discriminator_loss: half the mean squared distance of the real outputs to 1 plus half that of the fake outputs to 0")


def lsgan_generator_loss(fake_out):
    """LSGAN's generator loss, ``½ mean (D(G(z)) − 1)²``; its gradient does not
    vanish when D scores the samples as clearly fake."""
    # TODO: half the mean squared distance of the fake outputs to 1
    raise NotImplementedError("lsgan_generator_loss: half the mean squared distance of the fake outputs to 1")


def pix2pix_generator_loss(fake_logits, fake, target, l1_weight=100.0):
    """The slides' "GAN + 相似" generator loss for paired image-to-image
    translation: the non-saturating GAN loss plus ``λ·mean |G(c, z) − target|``
    (mean absolute error over all elements; L1 and λ = 100 are from the
    pix2pix paper). With ``l1_weight = 0`` it is the plain GAN loss."""
    # TODO: generator_loss_nonsaturating(fake_logits) + l1_weight * mean |fake − target|
    raise NotImplementedError("pix2pix_generator_loss: generator_loss_nonsaturating(fake_logits) + l1_weight * mean |fake − target|")


def cycle_consistency_loss(x, x_cycled, y, y_cycled):
    """CycleGAN's cycle-consistency loss (slides: 「误差越小越好」 in both
    directions; the L1 form is from the CycleGAN paper):
    ``mean |G_YX(G_XY(x)) − x| + mean |G_XY(G_YX(y)) − y|``, each a mean
    absolute error over all elements. Zero when the generators are inverses."""
    # TODO: mean |x_cycled − x| + mean |y_cycled − y|
    raise NotImplementedError("cycle_consistency_loss: mean |x_cycled − x| + mean |y_cycled − y|")


class CycleGAN(keras.Model):
    """CycleGAN: generators ``g_xy`` (X → Y) and ``g_yx`` (Y → X), LSGAN
    discriminators ``d_x`` (「是否X域」) and ``d_y`` (「是否Y域」), trained on
    *unpaired* batches.

    ``train_step((x, y))``:

    1. one generator update (both generators' weights, ``g_optimizer``) on
       ``lsgan_generator_loss(d_y(g_xy(x))) + lsgan_generator_loss(d_x(g_yx(y)))
       + cycle_weight · cycle_consistency_loss(x, g_yx(g_xy(x)), y, g_xy(g_yx(y)))``;
    2. one discriminator update (both discriminators' weights, ``d_optimizer``) on
       ``lsgan_discriminator_loss(d_y(y), d_y(g_xy(x))) + lsgan_discriminator_loss(d_x(x), d_x(g_yx(y)))``
       (the translations recomputed after the generator update).

    Returns ``{"d_loss", "g_loss", "cycle_loss"}``.
    """

    def __init__(self, g_xy, g_yx, d_x, d_y, **kwargs):
        super().__init__(**kwargs)
        self.g_xy, self.g_yx, self.d_x, self.d_y = g_xy, g_yx, d_x, d_y
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.cycle_loss_tracker = keras.metrics.Mean(name="cycle_loss")

    def compile(self, d_optimizer, g_optimizer, cycle_weight=10.0, **kwargs):
        """One optimiser for both discriminators, one for both generators, and λ."""
        super().compile(**kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.cycle_weight = cycle_weight

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker, self.cycle_loss_tracker]

    def train_step(self, data):
        x, y = data
        # TODO: the generator update (adversarial terms of both directions + cycle_weight × cycle loss), then the discriminator update; update the three trackers
        raise NotImplementedError("train_step: the generator update (adversarial terms of both directions + cycle_weight × cycle loss), then the discriminator update; update the three trackers")
        return {m.name: m.result() for m in self.metrics}


# --------------------------------------------------------------------------
# Part 8. DCGAN-style networks for 28×28 digits (class-conditional)
# --------------------------------------------------------------------------

def build_dcgan_generator(noise_dim=64, num_classes=10):
    """A class-conditional DCGAN generator, inputs ``[z (B, noise_dim), c (B, num_classes)]``:

    concat ``[z, c]`` → ``Dense(7·7·64, relu)`` → ``Reshape((7, 7, 64))`` →
    ``Conv2DTranspose(32, 4, strides=2, padding="same", activation="relu")`` (14×14×32) →
    ``Conv2DTranspose(1, 4, strides=2, padding="same", activation="sigmoid")`` (28×28×1),
    pixel values in [0, 1] like the data. A functional ``keras.Model``.
    """
    # TODO: the layers listed above, in that order
    raise NotImplementedError("build_dcgan_generator: the layers listed above, in that order")


def build_dcgan_discriminator(num_classes=10, image_shape=(28, 28, 1)):
    """A class-conditional DCGAN discriminator, inputs ``[x (B, 28, 28, 1), c (B, num_classes)]``:

    c → ``Reshape((1, 1, C))`` → ``UpSampling2D((28, 28))`` (the one-hot as C
    constant channels) → concat with x (28×28×(1 + C)) →
    ``Conv2D(32, 4, strides=2, padding="same")`` + ``LeakyReLU(0.2)`` (14×14×32) →
    ``Conv2D(64, 4, strides=2, padding="same")`` + ``LeakyReLU(0.2)`` (7×7×64) →
    ``Flatten`` → ``Dense(1)`` logits. A functional ``keras.Model``.
    """
    # TODO: the layers listed above, in that order
    raise NotImplementedError("build_dcgan_discriminator: the layers listed above, in that order")
