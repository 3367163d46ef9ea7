"""Lab 2 — Recurrent neural networks (循环神经网络), chapter 6 of the slides.

Conventions used throughout:

* The slides write column vectors: ``h_t = f(U h_{t−1} + W x_t + b)`` with
  ``U`` (H, H) the state-to-state weights (状态-状态权重), ``W`` (H, D) the
  state-input weights (状态-输入权重) and ``b`` (H,). We keep *their*
  matrices, but a batch is stored in rows, so one step reads
  ``z_t = h_{t−1} @ U.T + x_t @ W.T + b`` and ``h_t = f(z_t)``.
* Sequences are batch-major, as in Keras: ``x`` has shape (B, T, D) and
  ``x[:, t − 1]`` is the slides' ``x_t`` (steps count from 1 on the slides,
  from 0 in arrays). ``h0`` (B, H) is the initial state ``h_0``.
* Keras stores the transposes: ``SimpleRNN`` has ``kernel = Wᵀ`` (D, H) and
  ``recurrent_kernel = Uᵀ`` (H, H).

Parts 1–3 (forward, BPTT, gradient norms, clipping) are NumPy in float64;
parts 4–7 (gated cells, sequence models, the trained checks) use Keras 3.
"""

import numpy as np
import keras
from keras import layers, ops

#: Activation functions f and their derivatives f′, by name (given).
ACTIVATIONS = {
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(np.result_type(z, np.float32))),
    "linear": (lambda z: z, lambda z: np.ones_like(z)),
}


# --------------------------------------------------------------------------
# Part 1. The Elman RNN, forward (简单循环网络)
# --------------------------------------------------------------------------

def rnn_forward(x, h0, U, W, b, activation="tanh"):
    """Run the Elman RNN ``h_t = f(U h_{t−1} + W x_t + b)`` over a batch (NumPy).

    Args:
        x: (B, T, D) inputs. h0: (B, H) initial state.
        U: (H, H) state-to-state weights. W: (H, D) input-to-state weights. b: (H,).
        activation: a key of ``ACTIVATIONS`` ("tanh", "relu" or "linear").

    Returns:
        ``(h, z)``, both (B, T, H): ``z[:, t − 1]`` is the net input
        ``z_t = U h_{t−1} + W x_t + b`` (净输入) and ``h[:, t − 1] = f(z_t)``.
        Keep the dtype of the inputs (float64 in the checks). NumPy only: no
        TensorFlow or Keras here (the checks look).
    """
    # BEGIN SOLUTION: for t = 1..T: z_t = h_{t-1} @ U.T + x_t @ W.T + b, h_t = f(z_t); stack the T steps along axis 1
    f, _ = ACTIVATIONS[activation]
    x, h = np.asarray(x), np.asarray(h0)
    hs, zs = [], []
    for t in range(x.shape[1]):
        z = h @ U.T + x[:, t] @ W.T + b
        h = f(z)
        hs.append(h)
        zs.append(z)
    return np.stack(hs, axis=1), np.stack(zs, axis=1)
    # END SOLUTION


def simple_rnn_weights(U, W, b):
    """The weights that make ``keras.layers.SimpleRNN(H)`` compute ``rnn_forward``
    with tanh: the list ``[kernel (D, H), recurrent_kernel (H, H), bias (H,)]``
    that ``layer.set_weights`` takes. Keras multiplies rows: ``x_t @ kernel +
    h_{t−1} @ recurrent_kernel + bias``."""
    # BEGIN SOLUTION: kernel = Wᵀ, recurrent_kernel = Uᵀ, bias = b
    return [np.asarray(W).T, np.asarray(U).T, np.asarray(b)]
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 2. Back-propagation through time (随时间反向传播, BPTT)
# --------------------------------------------------------------------------

def rnn_backward(dh, x, h0, U, W, h, z, activation="tanh"):
    """Gradients of ``L = Σ_t L_t`` for the Elman RNN, by BPTT (NumPy, no autodiff).

    Args:
        dh: (B, T, H), ``dh[:, t − 1] = ∂L_t/∂h_t``: the gradient each step's
            own loss sends into its state (only the direct part).
        x, h0, U, W: as in ``rnn_forward``; h, z: (B, T, H), what
            ``rnn_forward`` returned for them. activation: as in ``rnn_forward``.

    Returns:
        ``(dU, dW, db, dh0, dx)`` shaped like U (H, H), W (H, D), b (H,),
        h0 (B, H) and x (B, T, D), summed over the batch.

    The slides' recursion for one loss L_t is
    ``δ_{t,k} = ∂L_t/∂z_k = diag(f′(z_k)) Uᵀ δ_{t,k+1}``, and
    ``∂L_t/∂U = Σ_k δ_{t,k} h_{k−1}ᵀ``, ``∂L_t/∂W = Σ_k δ_{t,k} x_kᵀ``,
    ``∂L_t/∂b = Σ_k δ_{t,k}``. Summing over t gives one backward sweep with
    ``δ_k = Σ_{t≥k} δ_{t,k} = diag(f′(z_k)) (∂L_k/∂h_k + Uᵀ δ_{k+1})``, δ_{T+1} = 0.
    NumPy only: no ``tf.GradientTape`` (or any autodiff), no TensorFlow or Keras
    here (the checks look).
    """
    # BEGIN SOLUTION: one sweep k = T..1 with δ_k = diag(f'(z_k)) (∂L_k/∂h_k + Uᵀ δ_{k+1}) in row form; accumulate dU, dW, db from δ_k, h_{k-1}, x_k; dx_k = Wᵀ δ_k and dh0 = Uᵀ δ_1 (row form)
    _, f_prime = ACTIVATIONS[activation]
    dh, x, h0 = np.asarray(dh), np.asarray(x), np.asarray(h0)
    dU, dW, db = np.zeros_like(U, dtype=dh.dtype), np.zeros_like(W, dtype=dh.dtype), np.zeros(U.shape[0], dh.dtype)
    dx = np.zeros_like(x, dtype=dh.dtype)
    delta = np.zeros_like(h0, dtype=dh.dtype)          # δ_{T+1} = 0
    for k in reversed(range(dh.shape[1])):
        delta = f_prime(z[:, k]) * (dh[:, k] + delta @ U)
        h_prev = h[:, k - 1] if k > 0 else h0
        dU += delta.T @ h_prev
        dW += delta.T @ x[:, k]
        db += delta.sum(axis=0)
        dx[:, k] = delta @ W
    return dU, dW, db, delta @ U, dx
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 3. Exploding and vanishing gradients (梯度爆炸与消失), gradient clipping
# --------------------------------------------------------------------------

def state_gradients(dl_dh_t, z, U, activation="tanh"):
    """``∂L_t/∂h_k`` for k = 1..t: how far back one loss's gradient reaches (NumPy).

    Args:
        dl_dh_t: (B, H), ``∂L_t/∂h_t``.
        z: (B, t, H), the net inputs ``z_1 … z_t`` of the forward pass.
        U: (H, H). activation: as in ``rnn_forward``.

    Returns:
        (B, t, H) whose entry ``[:, k − 1]`` is ``∂L_t/∂h_k``, from the slides'
        ``∂L_t/∂h_k = Uᵀ diag(f′(z_{k+1})) ∂L_t/∂h_{k+1}``. It is this
        gradient, not ∂L_t/∂U, that vanishes (or explodes) as t − k grows.
    """
    # BEGIN SOLUTION: start from ∂L_t/∂h_t and step back: g_k = (f'(z_{k+1}) * g_{k+1}) @ U (row form of Uᵀ diag(f') g); stack so entry k-1 is g_k
    _, f_prime = ACTIVATIONS[activation]
    g = np.asarray(dl_dh_t)
    out = [g]
    for k in range(np.shape(z)[1] - 1, 0, -1):
        g = (f_prime(z[:, k]) * g) @ U
        out.append(g)
    return np.stack(out[::-1], axis=1)
    # END SOLUTION


def scale_to_spectral_radius(U, rho):
    """``U`` rescaled so its spectral radius (谱半径, the largest |eigenvalue|)
    is ``rho``. With f′ = 1, ``‖∂L_t/∂h_k‖`` then shrinks like ρ^{t−k} when
    ρ < 1 and grows when ρ > 1. (Not the largest singular value: for a
    non-symmetric U the two differ.)"""
    # BEGIN SOLUTION: multiply U by rho / max |eigenvalue of U|
    U = np.asarray(U)
    return U * (rho / np.max(np.abs(np.linalg.eigvals(U))))
    # END SOLUTION


def clip_by_global_norm(grads, max_norm):
    """Gradient clipping by global norm (梯度截断), as ``tf.clip_by_global_norm``.

    ``global_norm = sqrt(Σ_i ‖g_i‖²)`` over *all* arrays together; each
    array is scaled by ``max_norm / max(global_norm, max_norm)``, so nothing
    changes when the global norm is at most ``max_norm`` and the direction of
    the whole gradient is kept otherwise.

    NumPy only: reproduce ``tf.clip_by_global_norm``, do not call it.

    Args: grads: a list of NumPy arrays. max_norm: float > 0.
    Returns: ``(clipped, global_norm)``: a list shaped like ``grads``, and a float.
    """
    # BEGIN SOLUTION: one norm over every array; scale all of them by max_norm / max(norm, max_norm)
    global_norm = float(np.sqrt(sum(np.sum(np.square(g)) for g in grads)))
    scale = max_norm / max(global_norm, max_norm)
    return [np.asarray(g) * scale for g in grads], global_norm
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 4. Gated cells: LSTM (长短期记忆网络) and GRU (门控循环单元)
# --------------------------------------------------------------------------

class LSTMCell(layers.Layer):
    """An LSTM cell from the slides' equations, for ``keras.layers.RNN``.

    With ``a = x_t @ kernel + h_{t−1} @ recurrent_kernel + bias`` split into
    four blocks of ``units`` columns **in the slides' order** ``[c̃, o, i, f]``
    (the compact form ``[c̃_t; o_t; i_t; f_t] = [tanh; σ; σ; σ](W[h_{t−1}; x_t] + b)``)::

        c̃_t = tanh(a_c),  o_t = σ(a_o),  i_t = σ(a_i),  f_t = σ(a_f)
        c_t = f_t ⊙ c_{t−1} + i_t ⊙ c̃_t,   h_t = o_t ⊙ tanh(c_t)

    ``variant`` selects the slides' variants:

    * ``"no_forget"``: no forget gate, ``c_t = c_{t−1} + i_t ⊙ c̃_t``;
    * ``"coupled"``: input and forget gates coupled, ``c_t = (1 − i_t) ⊙ c_{t−1} + i_t ⊙ c̃_t``;
    * ``"peephole"``: the gates also see the cell: ``peephole_kernel`` (H, 3H)
      holds blocks ``[P_o, P_i, P_f]`` and ``a_i += c_{t−1} @ P_i``,
      ``a_f += c_{t−1} @ P_f``, ``a_o += c_t @ P_o`` (o sees the *new* cell).

    The f block of the weights exists in every variant (unused by
    ``no_forget`` and ``coupled``). States are ``[h, c]``, each (B, units);
    ``call`` returns ``(h_t, [h_t, c_t])``. Keep the weight names: the graders
    set ``kernel``, ``recurrent_kernel``, ``bias`` and ``peephole_kernel``.
    Write it with ``keras.ops``: it may not be, subclass or call Keras's
    LSTM/GRU/SimpleRNN cells or layers (the checks look).
    """

    VARIANTS = ("standard", "no_forget", "coupled", "peephole")

    def __init__(self, units, variant="standard", **kwargs):
        super().__init__(**kwargs)
        if variant not in self.VARIANTS:
            raise ValueError(f"variant must be one of {self.VARIANTS}, got {variant!r}")
        self.units = units
        self.variant = variant
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        d, n = input_shape[-1], self.units
        self.kernel = self.add_weight(shape=(d, 4 * n), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(n, 4 * n), initializer="orthogonal", name="recurrent_kernel")
        self.bias = self.add_weight(shape=(4 * n,), initializer="zeros", name="bias")
        self.peephole_kernel = None
        if self.variant == "peephole":
            self.peephole_kernel = self.add_weight(shape=(n, 3 * n), initializer="glorot_uniform",
                                                   name="peephole_kernel")

    def call(self, inputs, states, training=None):
        h_prev, c_prev = states
        # BEGIN SOLUTION: a = x@kernel + h@recurrent_kernel + bias split into [c̃, o, i, f]; add the peepholes; c_t by variant; h_t = o ⊙ tanh(c_t)
        a = ops.matmul(inputs, self.kernel) + ops.matmul(h_prev, self.recurrent_kernel) + self.bias
        a_c, a_o, a_i, a_f = ops.split(a, 4, axis=-1)
        peephole = self.peephole_kernel is not None
        if peephole:
            p_o, p_i, p_f = ops.split(self.peephole_kernel, 3, axis=-1)
            a_i = a_i + ops.matmul(c_prev, p_i)
            a_f = a_f + ops.matmul(c_prev, p_f)
        c_tilde, i = ops.tanh(a_c), ops.sigmoid(a_i)
        if self.variant == "no_forget":
            c = c_prev + i * c_tilde
        elif self.variant == "coupled":
            c = (1.0 - i) * c_prev + i * c_tilde
        else:
            c = ops.sigmoid(a_f) * c_prev + i * c_tilde
        if peephole:
            a_o = a_o + ops.matmul(c, p_o)
        h = ops.sigmoid(a_o) * ops.tanh(c)
        return h, [h, c]
        # END SOLUTION


def lstm_keras_weights(kernel, recurrent_kernel, bias):
    """``LSTMCell`` weights (gate blocks in the slides' order [c̃, o, i, f]) →
    the list ``[kernel, recurrent_kernel, bias]`` for
    ``keras.layers.LSTM.set_weights``, whose blocks are ordered [i, f, c̃, o].
    Shapes are unchanged: (D, 4H), (H, 4H), (4H,)."""
    # BEGIN SOLUTION: split each array into its 4 column blocks (c̃, o, i, f) and concatenate them as (i, f, c̃, o)
    def reorder(m):
        c, o, i, f = np.split(np.asarray(m), 4, axis=-1)
        return np.concatenate([i, f, c, o], axis=-1)

    return [reorder(kernel), reorder(recurrent_kernel), reorder(bias)]
    # END SOLUTION


class GRUCell(layers.Layer):
    """A GRU cell from the slides' equations, for ``keras.layers.RNN``.

    Weights: ``kernel`` (D, 3H), ``recurrent_kernel`` (H, 3H), ``bias`` (3H,),
    blocks ordered ``[z, r, h̃]`` (as in Keras). With ``U = recurrent_kernel``::

        z_t = σ(x_t W_z + h_{t−1} U_z + b_z)                (更新门, update gate)
        r_t = σ(x_t W_r + h_{t−1} U_r + b_r)                (重置门, reset gate)
        h̃_t = tanh(x_t W_h + (r_t ⊙ h_{t−1}) U_h + b_h)     (reset *before* U_h)
        h_t = z_t ⊙ h_{t−1} + (1 − z_t) ⊙ h̃_t

    This is ``keras.layers.GRU(reset_after=False)``; Keras's default
    (``reset_after=True``) computes ``r_t ⊙ (h_{t−1} U_h)`` instead, which is
    not the slides' formula. The state is ``h`` (B, units); ``call`` returns
    ``(h_t, [h_t])``. Write it with ``keras.ops``: it may not be, subclass or
    call Keras's GRU/LSTM/SimpleRNN cells or layers (the checks look).
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        d, n = input_shape[-1], self.units
        self.kernel = self.add_weight(shape=(d, 3 * n), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(n, 3 * n), initializer="orthogonal", name="recurrent_kernel")
        self.bias = self.add_weight(shape=(3 * n,), initializer="zeros", name="bias")

    def call(self, inputs, states, training=None):
        h_prev = states[0] if isinstance(states, (list, tuple)) else states
        # BEGIN SOLUTION: split x@kernel + bias and recurrent_kernel into [z, r, h̃]; z, r gates; h̃ from r ⊙ h_{t-1}; h_t = z ⊙ h_{t-1} + (1 - z) ⊙ h̃
        x_z, x_r, x_h = ops.split(ops.matmul(inputs, self.kernel) + self.bias, 3, axis=-1)
        u_z, u_r, u_h = ops.split(self.recurrent_kernel, 3, axis=-1)
        z = ops.sigmoid(x_z + ops.matmul(h_prev, u_z))
        r = ops.sigmoid(x_r + ops.matmul(h_prev, u_r))
        h_tilde = ops.tanh(x_h + ops.matmul(r * h_prev, u_h))
        h = z * h_prev + (1.0 - z) * h_tilde
        return h, [h]
        # END SOLUTION


# --------------------------------------------------------------------------
# Part 5. Sequence classification: readouts and masking (序列到类别)
# --------------------------------------------------------------------------

def masked_last(h, mask):
    """The slides' normal mode ``ŷ = g(h_T)`` with padding: the state at each
    sequence's last *real* step.

    Args:
        h: (B, T, H) states. mask: (B, T), true (1) at real steps, false (0)
            at padding. Real steps are contiguous; padding may come after
            them ("post") or before them ("pre", Keras's ``pad_sequences``
            default); every row has at least one real step.
    Returns: (B, H). Use ``keras.ops`` so it also works on symbolic tensors
    inside a functional model (T may be unknown there).
    """
    # BEGIN SOLUTION: a real step t is the last one when step t+1 is padding or past the end: weight h by mask_t·(1 − mask_{t+1}) and sum over time
    mask = ops.cast(mask, h.dtype)
    following = ops.concatenate([mask[:, 1:], ops.zeros_like(mask[:, :1])], axis=1)
    is_last = mask * (1.0 - following)
    return ops.sum(h * is_last[:, :, None], axis=1)
    # END SOLUTION


def masked_mean(h, mask):
    """The slides' time-averaged mode ``ŷ = g((1/T) Σ_t h_t)`` with padding: the
    mean of ``h`` over each sequence's real steps only (shapes as in
    ``masked_last``). Returns (B, H)."""
    # BEGIN SOLUTION: Σ_t mask_t h_t / Σ_t mask_t
    mask = ops.cast(mask, h.dtype)[:, :, None]
    return ops.sum(h * mask, axis=1) / ops.sum(mask, axis=1)
    # END SOLUTION


def build_sequence_classifier(vocab_size, num_classes, readout="last", embed_dim=16, units=16):
    """A functional ``keras.Model`` from token ids (B, T) (0 = padding) to
    class logits (B, num_classes): ``Embedding(vocab_size, embed_dim,
    mask_zero=True)`` → ``GRU(units, return_sequences=True)`` → the readout
    (``masked_last`` for ``readout="last"``, ``masked_mean`` for ``"mean"``)
    with the mask ``ids != 0`` → ``Dense(num_classes)``. Its output must not
    depend on how much padding a sequence has, before or after it."""
    # BEGIN SOLUTION: keras.Input((None,), dtype="int32"); mask_zero so the GRU skips padding; the readout needs the mask ids != 0 too
    ids = keras.Input((None,), dtype="int32")
    states = layers.GRU(units, return_sequences=True)(layers.Embedding(vocab_size, embed_dim, mask_zero=True)(ids))
    mask = ops.not_equal(ids, 0)
    pooled = masked_last(states, mask) if readout == "last" else masked_mean(states, mask)
    return keras.Model(ids, layers.Dense(num_classes)(pooled), name=f"classifier_{readout}")
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 6. Long-range dependencies: the adding problem (长程依赖问题)
# --------------------------------------------------------------------------

def build_adding_model(cell="gru", units=16):
    """A regression model for the adding problem: inputs (B, T, 2) with any T,
    output (B, 1): one recurrent layer of ``units`` — ``keras.layers.SimpleRNN``
    for ``cell="simple"``, ``LSTM`` for ``"lstm"``, ``GRU`` for ``"gru"`` — that
    returns only its last state, then a linear ``Dense(1)`` (the targets lie in
    [0, 2])."""
    # BEGIN SOLUTION: keras.Sequential([keras.Input((None, 2)), the chosen recurrent layer, layers.Dense(1)])
    recurrent = {"simple": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}[cell]
    return keras.Sequential([keras.Input((None, 2)), recurrent(units), layers.Dense(1)], name=f"adding_{cell}")
    # END SOLUTION


# --------------------------------------------------------------------------
# Part 7. A character-level language model that writes poems (作诗)
# --------------------------------------------------------------------------

#: Token ids of the special tokens at the start of every vocabulary
#: (``vocab[0] = "<pad>"``, ``vocab[1] = "<s>"``, ``vocab[2] = "<unk>"``).
PAD, BOS, UNK = 0, 1, 2

# BEGIN SOLUTION: your configuration for the graded training run (at most 3 epochs are used)
# STARTER: LM_CONFIG = {"embed_dim": 16, "units": 16, "learning_rate": 1e-3, "epochs": 1}
LM_CONFIG = {"embed_dim": 64, "units": 128, "learning_rate": 1e-2, "epochs": 3}
# END SOLUTION


def build_char_lm(vocab_size, config=None):
    """A character-level language model (语言模型) ``P(x_i | x_1, …, x_{i−1})``:
    a ``keras.Model`` from token ids (B, t) to next-token **logits**
    (B, t, vocab_size), where the logits at position i may depend only on
    ids up to i (a forward, unidirectional RNN: no ``Bidirectional``).
    ``config`` (default ``LM_CONFIG``) gives ``embed_dim`` and ``units``."""
    cfg = {**LM_CONFIG, **(config or {})}
    # BEGIN SOLUTION: Input((None,), int32) → Embedding(vocab_size, embed_dim) → GRU(units, return_sequences=True) → Dense(vocab_size)
    return keras.Sequential([
        keras.Input((None,), dtype="int32"),
        layers.Embedding(vocab_size, cfg["embed_dim"]),
        layers.GRU(cfg["units"], return_sequences=True),
        layers.Dense(vocab_size),
    ], name="char_lm")
    # END SOLUTION


def sampling_distribution(logits, temperature=1.0, top_k=None):
    """The distribution to sample the next token from (NumPy, float64).

    ``softmax(logits / temperature)`` restricted to the ``top_k`` largest
    logits (the others get probability 0) and renormalised; ``top_k=None``
    keeps all. Low temperatures sharpen the distribution, high ones flatten
    it. Entries of ``logits`` may be ``-inf`` (never chosen).

    Args: logits: (V,). temperature: > 0. top_k: None or an int ≥ 1.
    Returns: (V,) probabilities summing to 1.
    """
    # BEGIN SOLUTION: divide by the temperature, set all but the top_k largest to -inf, then a numerically stable softmax
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    if top_k is not None and top_k < scaled.size:
        keep = np.argsort(-scaled, kind="stable")[:top_k]
        masked = np.full_like(scaled, -np.inf)
        masked[keep] = scaled[keep]
        scaled = masked
    p = np.exp(scaled - np.max(scaled))
    return p / p.sum()
    # END SOLUTION


def sample_next(logits, rng, temperature=1.0, top_k=None):
    """One token id drawn from ``sampling_distribution(logits, temperature,
    top_k)`` with ``rng.choice(V, p=p)`` (``rng`` a ``numpy.random.Generator``),
    so the same seed gives the same draws. ``top_k=1`` is greedy decoding
    (always the argmax). Returns a Python int."""
    # BEGIN SOLUTION: p = sampling_distribution(...); int(rng.choice(len(p), p=p))
    p = sampling_distribution(logits, temperature, top_k)
    return int(rng.choice(p.size, p=p))
    # END SOLUTION


def write_quatrain(next_logits, vocab, first_char, rng, temperature=1.0, top_k=None):
    """Write a 五言绝句 that starts with ``first_char``.

    The poem has 24 characters: four lines of five characters, "，" after
    lines 1 and 3 and "。" after lines 2 and 4 (positions 5, 11, 17, 23).

    Args:
        next_logits: a function ``ids → (V,) logits`` of the token that follows
            the prefix ``ids`` (a list of ints starting with ``BOS``).
        vocab: the list of V tokens (``vocab[i]`` is the token of id i), with
            the specials first (``PAD``, ``BOS``, ``UNK``) and "，", "。" in it.
        first_char: the first character (in ``vocab``).
        rng, temperature, top_k: as in ``sample_next``.

    Start from ``[BOS, id(first_char)]``. At each punctuation position append
    its mark without sampling; at each character position take
    ``next_logits(ids)``, set the logits of the specials, "，" and "。" to −inf,
    and append ``sample_next(...)``. Returns the 24-character string.
    """
    # BEGIN SOLUTION: ids = [BOS, first]; for positions 1..23: forced "，"/"。" at 5, 17 / 11, 23, else mask specials and punctuation and sample; decode ids[1:]
    index = {tok: i for i, tok in enumerate(vocab)}
    comma, stop = index["，"], index["。"]
    banned = [PAD, BOS, UNK, comma, stop]
    ids = [BOS, index[first_char]]
    for pos in range(1, 24):
        if pos % 6 == 5:
            ids.append(comma if pos % 12 == 5 else stop)
            continue
        logits = np.array(next_logits(ids), dtype=np.float64)
        logits[banned] = -np.inf
        ids.append(sample_next(logits, rng, temperature, top_k))
    return "".join(vocab[i] for i in ids[1:])
    # END SOLUTION


def lm_next_logits(model):
    """Adapter for ``write_quatrain``: ``ids → (V,)`` logits of the next token
    from a model built by ``build_char_lm`` (it reruns the whole prefix: a
    poem is only 24 characters long)."""
    return lambda ids: np.asarray(model(np.array([ids], dtype=np.int32), training=False))[0, -1]
