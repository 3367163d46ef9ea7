"""The RNN reference is validated against independent implementations
(Keras's SimpleRNN, LSTM and GRU layers with mapped weights, autodiff through
them, ``tf.clip_by_global_norm``, SciPy's softmax, NumPy transcriptions of the
slides' LSTM variants) and exact identities, because every expected value the
checks use is the reference's observation. The Tang-poem loader is tested on
the real files (CI has them in ``../shared/data``) and its offline fallback
without them."""

import shutil
import sys

import numpy as np
import pytest
import scipy.special

import grader.data as data
from grader.device import configure
from grader.core.grading import self_check
from grader.checks.judges import rel_error
from grader.labs.lab import Lab, load_submission

configure()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

LAB = Lab.load("rnn")
ref = load_submission(LAB.solution_file, "rnn", alias="_rnn_reference_under_test")
rng = np.random.default_rng(0)
KERAS_ACTIVATION = {"tanh": "tanh", "relu": "relu", "linear": None}


def elman(b=2, t=5, d=3, h=4, scale=0.5):
    return (rng.normal(size=(b, t, d)), rng.normal(size=(b, h)), scale * rng.normal(size=(h, h)),
            rng.normal(size=(h, d)), rng.normal(size=h))


def keras_simple_rnn(U, W, b, activation="tanh"):
    layer = keras.layers.SimpleRNN(U.shape[0], activation=KERAS_ACTIVATION[activation], return_sequences=True,
                                   dtype="float64")
    layer.build((None, None, W.shape[1]))
    layer.set_weights([W.T, U.T, b])        # Keras stores kernel = Wᵀ, recurrent_kernel = Uᵀ
    return layer


# -- parts 1 and 2: forward and BPTT ---------------------------------------------------------------

@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
def test_rnn_forward_equals_keras_simple_rnn(activation):
    x, h0, U, W, b = elman(d=5, h=3)
    h, z = ref.rnn_forward(x, h0, U, W, b, activation)
    assert rel_error(h, keras_simple_rnn(U, W, b, activation)(x, initial_state=h0)) < 1e-12
    assert rel_error(h[:, 0], ref.ACTIVATIONS[activation][0](h0 @ U.T + x[:, 0] @ W.T + b)) < 1e-12
    assert rel_error(z[:, 1], h[:, 0] @ U.T + x[:, 1] @ W.T + b) < 1e-12
    # The student-facing mapping is the same one.
    assert all(np.array_equal(a, e) for a, e in zip(ref.simple_rnn_weights(U, W, b), [W.T, U.T, b]))


@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
def test_rnn_backward_equals_autodiff_through_keras(activation):
    x, h0, U, W, b = elman(t=6)
    layer = keras_simple_rnn(U, W, b, activation)
    dh = rng.normal(size=(2, 6, 4))
    tx, th0 = tf.constant(x), tf.constant(h0)
    with tf.GradientTape() as tape:
        tape.watch([tx, th0])
        loss = tf.reduce_sum(layer(tx, initial_state=th0) * dh)
    kernel, recurrent, bias, dh0, dx = tape.gradient(loss, layer.trainable_weights + [th0, tx])
    h, z = ref.rnn_forward(x, h0, U, W, b, activation)
    dU, dW, db, got_dh0, got_dx = ref.rnn_backward(dh, x, h0, U, W, h, z, activation)
    for got, want in ((dU, np.transpose(recurrent)), (dW, np.transpose(kernel)), (db, bias), (got_dh0, dh0), (got_dx, dx)):
        assert rel_error(got, want) < 1e-10


def test_state_gradients_equal_autodiff_from_each_state():
    x, h0, U, W, b = elman(t=7)
    h, z = ref.rnn_forward(x, h0, U, W, b)
    g = rng.normal(size=(2, 4))
    got = ref.state_gradients(g, z, U)
    t = x.shape[1]
    for k in range(1, t + 1):
        # L_t = <g, h_t> as a function of h_k alone: run steps k+1..t from h_k.
        hk = tf.constant(h[:, k - 1])
        with tf.GradientTape() as tape:
            tape.watch(hk)
            state = hk
            for s in range(k, t):
                state = tf.tanh(state @ U.T + x[:, s] @ W.T + b)
            loss = tf.reduce_sum(state * g)
        assert rel_error(got[:, k - 1], tape.gradient(loss, hk)) < 1e-10
    # Summed over the losses and multiplied by f'(z_k), they are BPTT's δ_k:
    # rnn_backward with dh = ∂L_t/∂h_t at one step t reproduces dh0 = Uᵀ δ_1.
    dh = np.zeros_like(h)
    dh[:, -1] = g
    assert rel_error(ref.rnn_backward(dh, x, h0, U, W, h, z)[3], (got[:, 0] * (1 - np.tanh(z[:, 0]) ** 2)) @ U) < 1e-12


@pytest.mark.parametrize("rho", [0.5, 1.0, 1.5])
def test_gradient_norms_follow_the_spectral_radius(rho):
    """f′ = 1 and U = ρQ with Q orthogonal: ‖∂L_t/∂h_k‖ = ρ^{t−k} ‖∂L_t/∂h_t‖ exactly (the slides' ρ(U) argument)."""
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    U = ref.scale_to_spectral_radius(q, rho)
    assert rel_error(U, rho * q) < 1e-12
    assert abs(np.max(np.abs(np.linalg.eigvals(ref.scale_to_spectral_radius(rng.normal(size=(5, 5)), rho)))) - rho) < 1e-12
    g = rng.normal(size=(1, 6))
    norms = np.linalg.norm(ref.state_gradients(g, np.zeros((1, 25, 6)), U, "linear")[0], axis=-1)
    assert rel_error(norms, rho ** np.arange(24, -1, -1) * np.linalg.norm(g)) < 1e-10


def test_clip_by_global_norm_equals_tensorflow():
    grads = [rng.normal(size=(3, 4)), rng.normal(size=5), np.zeros((2, 2))]
    for max_norm in (0.5, 2.0, 100.0):
        got, norm = ref.clip_by_global_norm(grads, max_norm)
        want, want_norm = tf.clip_by_global_norm([tf.constant(g) for g in grads], max_norm)
        assert abs(norm - float(want_norm)) < 1e-12
        assert all(rel_error(a, e) < 1e-12 for a, e in zip(got, want))
    zeros, norm = ref.clip_by_global_norm([np.zeros(3)], 1.0)
    assert norm == 0.0 and np.array_equal(zeros[0], np.zeros(3))


# -- part 4: gated cells ------------------------------------------------------------------------------

def run_cell(cell, x, **weights):
    layer = keras.layers.RNN(cell, return_sequences=True, return_state=True, dtype="float64")
    layer.build((None,) + x.shape[1:])
    for name, value in weights.items():
        getattr(cell, name).assign(value)
    out = layer(x)
    return np.asarray(out[0]), [np.asarray(s) for s in out[1:]]


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def numpy_lstm(x, kernel, recurrent, bias, variant="standard", peephole=None):
    """The slides' LSTM equations, transcribed directly (gate blocks [c̃, o, i, f])."""
    n = recurrent.shape[0]
    h, c, hs = np.zeros((x.shape[0], n)), np.zeros((x.shape[0], n)), []
    for t in range(x.shape[1]):
        a = x[:, t] @ kernel + h @ recurrent + bias
        a_c, a_o, a_i, a_f = (a[:, j * n:(j + 1) * n] for j in range(4))
        if variant == "peephole":
            a_i, a_f = a_i + c @ peephole[:, n:2 * n], a_f + c @ peephole[:, 2 * n:]
        i, f, c_tilde = sigmoid(a_i), sigmoid(a_f), np.tanh(a_c)
        c = {"standard": f * c, "peephole": f * c, "no_forget": c, "coupled": (1 - i) * c}[variant] + i * c_tilde
        if variant == "peephole":
            a_o = a_o + c @ peephole[:, :n]
        h = sigmoid(a_o) * np.tanh(c)
        hs.append(h)
    return np.stack(hs, axis=1), c


def lstm_weights(d=3, n=4):
    return {"kernel": 0.6 * rng.normal(size=(d, 4 * n)), "recurrent_kernel": 0.6 * rng.normal(size=(n, 4 * n)),
            "bias": 0.6 * rng.normal(size=4 * n)}


def test_lstm_standard_equals_keras_lstm_after_reordering_gates():
    x, w = rng.normal(size=(2, 6, 3)), lstm_weights()
    h, (h_last, c) = run_cell(ref.LSTMCell(4, dtype="float64"), x, **w)
    lstm = keras.layers.LSTM(4, return_sequences=True, return_state=True, dtype="float64")
    lstm.build((None, 6, 3))
    lstm.set_weights(ref.lstm_keras_weights(w["kernel"], w["recurrent_kernel"], w["bias"]))
    want_h, _, want_c = lstm(x)
    assert rel_error(h, want_h) < 1e-12 and rel_error(c, want_c) < 1e-12 and rel_error(h_last, h[:, -1]) == 0
    # Keras's order is [i, f, c̃, o]: the first block of its kernel is the slides' i block (third).
    assert np.array_equal(lstm.get_weights()[0][:, :4], w["kernel"][:, 8:12])


@pytest.mark.parametrize("variant", ["standard", "no_forget", "coupled", "peephole"])
def test_lstm_variants_equal_the_slide_equations(variant):
    x, w = rng.normal(size=(2, 5, 3)), lstm_weights()
    extra = {"peephole_kernel": 0.6 * rng.normal(size=(4, 12))} if variant == "peephole" else {}
    h, (_, c) = run_cell(ref.LSTMCell(4, variant=variant, dtype="float64"), x, **w, **extra)
    want_h, want_c = numpy_lstm(x, w["kernel"], w["recurrent_kernel"], w["bias"], variant, extra.get("peephole_kernel"))
    assert rel_error(h, want_h) < 1e-12 and rel_error(c, want_c) < 1e-12


def test_lstm_variants_are_special_cases_of_the_standard_cell():
    x, w = rng.normal(size=(2, 5, 3)), lstm_weights()
    standard = run_cell(ref.LSTMCell(4, dtype="float64"), x, **w)[0]
    # Peepholes with zero weights are the standard cell.
    assert rel_error(run_cell(ref.LSTMCell(4, variant="peephole", dtype="float64"), x, **w,
                              peephole_kernel=np.zeros((4, 12)))[0], standard) < 1e-14
    # A forget gate stuck open (σ(50) = 1 in float64) is the cell without one.
    open_gate = {**w, "bias": np.concatenate([w["bias"][:12], np.full(4, 50.0)])}
    open_gate["kernel"], open_gate["recurrent_kernel"] = (np.concatenate([m[:, :12], 0 * m[:, 12:]], axis=1)
                                                          for m in (w["kernel"], w["recurrent_kernel"]))
    assert rel_error(run_cell(ref.LSTMCell(4, dtype="float64"), x, **open_gate)[0],
                     run_cell(ref.LSTMCell(4, variant="no_forget", dtype="float64"), x, **w)[0]) < 1e-14
    # f = 1 − i = σ(−a_i): the standard cell with the f block set to minus the i block is the coupled cell.
    coupled = {k: np.concatenate([v[..., :12], -v[..., 8:12]], axis=-1) for k, v in w.items()}
    assert rel_error(run_cell(ref.LSTMCell(4, dtype="float64"), x, **coupled)[0],
                     run_cell(ref.LSTMCell(4, variant="coupled", dtype="float64"), x, **w)[0]) < 1e-12


def test_gru_equals_keras_gru_reset_before_not_keras_default():
    x = rng.normal(size=(2, 6, 3))
    w = {"kernel": 0.6 * rng.normal(size=(3, 12)), "recurrent_kernel": 0.6 * rng.normal(size=(4, 12)),
         "bias": 0.6 * rng.normal(size=12)}
    h, _ = run_cell(ref.GRUCell(4, dtype="float64"), x, **w)
    slides = keras.layers.GRU(4, return_sequences=True, reset_after=False, dtype="float64")
    slides.build((None, 6, 3))
    slides.set_weights([w["kernel"], w["recurrent_kernel"], w["bias"]])
    assert rel_error(h, slides(x)) < 1e-12
    default = keras.layers.GRU(4, return_sequences=True, dtype="float64")      # reset_after=True
    default.build((None, 6, 3))
    default.set_weights([w["kernel"], w["recurrent_kernel"], np.stack([w["bias"], np.zeros(12)])])
    assert rel_error(h, default(x)) > 1e-3


# -- part 5: readouts and masking ---------------------------------------------------------------------

def test_masked_readouts_equal_loops_for_padding_before_and_after():
    h = rng.normal(size=(4, 7, 3))
    lengths, starts = np.array([7, 4, 1, 5]), np.array([0, 3, 0, 2])
    mask = (np.arange(7) >= starts[:, None]) & (np.arange(7) < (starts + lengths)[:, None])
    last = np.asarray(ref.masked_last(h, mask))
    mean = np.asarray(ref.masked_mean(h, mask))
    for r in range(4):
        steps = h[r, starts[r]:starts[r] + lengths[r]]
        assert rel_error(last[r], steps[-1]) == 0 and rel_error(mean[r], steps.mean(axis=0)) < 1e-14


@pytest.mark.parametrize("readout", ["last", "mean"])
def test_classifier_ignores_padding(readout):
    keras.utils.set_random_seed(0)
    model = ref.build_sequence_classifier(30, 4, readout=readout)
    ids = rng.integers(1, 30, size=(3, 6))
    plain = np.asarray(model(ids))
    for padded in (np.pad(ids, ((0, 0), (0, 5))), np.pad(ids, ((0, 0), (5, 0)))):
        assert np.max(np.abs(np.asarray(model(padded)) - plain)) < 1e-6


# -- parts 6 and 7: data, the language model and sampling ------------------------------------------------

def test_adding_problem_data():
    x, y = data.adding_problem(20000, 50, seed=3)
    assert x.shape == (20000, 50, 2) and x.dtype == np.float32 and y.shape == (20000,)
    marks = x[..., 1]
    assert np.all(marks.sum(axis=1) == 2) and np.all(marks[:, :25].sum(axis=1) == 1)
    assert np.allclose(y, (x[..., 0] * marks).sum(axis=1))
    assert abs(np.mean((y - 1.0) ** 2) - 1 / 6) < 0.005          # the baseline in lab.toml
    assert abs(LAB.meta["shared"]["adding"]["baseline"] - 1 / 6) < 1e-3


def test_sampling_distribution_equals_scipy_softmax():
    logits = rng.normal(size=20) * 3
    for temperature in (0.3, 1.0, 2.5):
        assert rel_error(ref.sampling_distribution(logits, temperature), scipy.special.softmax(logits / temperature)) < 1e-12
        top = np.argsort(-logits)[:4]
        want = np.zeros(20)
        want[top] = scipy.special.softmax(logits[top] / temperature)
        assert rel_error(ref.sampling_distribution(logits, temperature, top_k=4), want) < 1e-12
    assert np.argmax(ref.sampling_distribution(logits, 1e-4)) == np.argmax(logits)
    masked = logits.copy()
    masked[:10] = -np.inf
    assert np.all(ref.sampling_distribution(masked, 1.0)[:10] == 0)
    draws = [ref.sample_next(logits, np.random.default_rng(s), top_k=1) for s in range(20)]
    assert set(draws) == {int(np.argmax(logits))}


def test_write_quatrain_greedy_is_the_argmax_path():
    vocab = list(data.POEM_SPECIALS) + ["，", "。"] + [chr(0x6625 + i) for i in range(20)]
    table = rng.normal(size=(len(vocab), len(vocab)))
    poem = ref.write_quatrain(lambda ids: table[ids[-1]], vocab, vocab[6], np.random.default_rng(0), top_k=1)
    assert data.is_quatrain(poem) and poem[0] == vocab[6]
    for pos in range(1, 24):
        if pos % 6 != 5:
            allowed = table[vocab.index(poem[pos - 1])].copy()
            allowed[:5] = -np.inf
            assert vocab[int(np.argmax(allowed))] == poem[pos]
    assert (ref.PAD, ref.BOS, ref.UNK) == (data.PAD, data.BOS, data.UNK)


def test_char_lm_is_causal_and_outputs_logits():
    keras.utils.set_random_seed(0)
    model = ref.build_char_lm(50, {"embed_dim": 8, "units": 8})
    ids = rng.integers(3, 50, size=(2, 12))
    changed = ids.copy()
    changed[:, 6:] = rng.integers(3, 50, size=(2, 6))
    a, b = np.asarray(model(ids)), np.asarray(model(changed))
    assert a.shape == (2, 12, 50) and np.max(np.abs(a[:, :6] - b[:, :6])) == 0 and np.max(np.abs(a[:, 6:] - b[:, 6:])) > 0
    assert not np.allclose(np.exp(a).sum(-1), 1.0)


def have_tang_files():
    try:
        data.locate(list(data.TANG_FILES), verify=False)
        return True
    except data.DataError:
        return False


@pytest.mark.skipif(not have_tang_files(), reason="the Tang-poem files are not in a data directory (CI has ../shared/data)")
def test_tang_loader_on_the_real_files():
    poems = data.tang_poems()
    assert len(poems) == 10008
    assert poems[0][0] == "秦川雄帝宅，函谷壯皇居。"                    # traditional characters, as in the files
    train, test = data.tang_quatrains()
    assert len(train) + len(test) > 17000 and 0.03 < len(test) / (len(train) + len(test)) < 0.07
    assert all(data.is_quatrain(q) for q in train + test)
    assert not set(test) & set(train)                                              # held out, repeated poems too
    assert data.tang_quatrains() == (train, test)                                  # deterministic
    name, train2, _ = data.poem_corpus()
    assert name == "tang" and train2 == train
    vocab = data.poem_vocabulary(train, 1000)
    assert vocab[:3] == list(data.POEM_SPECIALS) and {"，", "。"} <= set(vocab) and len(vocab) == len(set(vocab)) == 1000
    ids = data.encode_poems(test[:5], vocab)
    assert ids.shape == (5, 25) and np.all(ids[:, 0] == data.BOS)
    assert "".join(vocab[i] for i in ids[0, 1:] if i != data.UNK) == "".join(c for c in test[0] if c in vocab)


@pytest.mark.skipif(not have_tang_files(), reason="the Tang-poem files are not in a data directory")
def test_a_corrupted_tang_file_is_refused_not_replaced(tmp_path, monkeypatch):
    source = data.locate(list(data.TANG_FILES), verify=False)
    shutil.copytree(source / "chinese-poetry", tmp_path / "chinese-poetry")
    target = tmp_path / "chinese-poetry" / "poet.tang.0.json"
    target.chmod(0o644)
    target.write_text(target.read_text(encoding="utf-8").replace("秦川", "秦山", 1), encoding="utf-8")
    monkeypatch.setattr(data.directory, "candidate_dirs", lambda data_dir=None: [tmp_path])
    with pytest.raises(data.DataError, match="checksum"):
        data.poem_corpus()


def test_offline_fallback_is_a_learnable_synthetic_corpus(tmp_path, monkeypatch):
    monkeypatch.setattr(data.directory, "candidate_dirs", lambda data_dir=None: [tmp_path])
    with pytest.raises(data.DataError):
        data.poem_corpus(allow_synthetic=False)
    name, train, test = data.poem_corpus()
    assert name == "synthetic" and len(train) == 4000 and len(test) == 400
    assert all(data.is_quatrain(q) for q in train + test) and train == data.synthetic_quatrains(4000, 0)
    # Structure to learn: the bigram perplexity is far below the unigram one.
    vocab = data.poem_vocabulary(train, 1000)
    ids, held = data.encode_poems(train, vocab), data.encode_poems(test, vocab)
    uni = np.bincount(ids[:, 1:].ravel(), minlength=len(vocab)) + 1.0
    bi = np.ones((len(vocab), len(vocab)))
    np.add.at(bi, (ids[:, :-1], ids[:, 1:]), 1)
    perplexity = {"unigram": np.exp(-np.mean(np.log(uni / uni.sum())[held[:, 1:]])),
                  "bigram": np.exp(-np.mean(np.log((bi / bi.sum(1, keepdims=True))[held[:, :-1], held[:, 1:]])))}
    assert perplexity["bigram"] < perplexity["unigram"] / 3


def test_char_lm_check_grades_offline_with_the_synthetic_threshold(tmp_path, monkeypatch):
    """The fallback path really grades: the reference passes char_lm on the synthetic corpus."""
    monkeypatch.setattr(data.directory, "candidate_dirs", lambda data_dir=None: [tmp_path])
    result = self_check(LAB, LAB.solution_file, visibility=None, names=["char_lm"], alias="_rnn_reference_offline")
    check = result.checks[0]
    assert check.passed and "synthetic corpus" in check.message, check.message


def _char_lm_observation(check, made, vocab_size):
    """A char_lm observation with the reference's layers, a causal and context-dependent model's probes."""
    common = sys.modules[type(check).__module__]
    cfg = {k: ref.LM_CONFIG[k] for k in ("embed_dim", "units")}
    first_half = rng.normal(size=(8, 12, vocab_size))
    context = rng.normal(size=(8, vocab_size))
    return {"first_half": first_half, "first_half_changed": first_half, "context": context,
            "context_changed": context + 0.5, "layers": common.describe_layers(ref.build_char_lm(vocab_size)),
            "configs": {"default": common.describe_layers(ref.build_char_lm(50)),
                        "units=12": common.describe_layers(ref.build_char_lm(50, {"units": 12}))},
            "config": cfg, "loss": [1.0], "poem": ""}


def _perfect_char_lm():
    """The char_lm check, its inputs, and an observation whose held-out predictions are perfect."""
    check = LAB.check("char_lm")
    made = check.make_inputs()
    targets = made.secret["targets"]
    vocab_size = len(made.public["vocab"])
    perfect = np.full(targets.shape + (vocab_size,), -30.0, dtype=np.float32)
    np.put_along_axis(perfect, targets[..., None], 0.0, axis=-1)
    return check, made, {**_char_lm_observation(check, made, vocab_size), "log_probs": perfect}, vocab_size


def test_char_lm_judge_refuses_a_model_that_peeks_ahead():
    """A non-causal model (e.g. a Bidirectional GRU) predicts the held-out text almost perfectly;
    the causality probe, not the perplexity, is what stops it."""
    check, made, got, _ = _perfect_char_lm()
    got["first_half_changed"] = got["first_half"] + 0.5
    verdict = check.judge(got, None, made.secret)
    assert verdict.fraction == 0 and "not causal" in verdict.message
    # The same predictions from a causal model would pass: the probe is what decides.
    assert check.judge({**got, "first_half_changed": got["first_half"]}, None, made.secret).passed


def test_char_lm_judge_requires_the_recurrent_architecture_and_the_context():
    """A perfect perplexity earns nothing without the specified layers (a recurrent layer), or when the
    12th character's prediction ignores the earlier context (a model of the previous character)."""
    check, made, good, vocab_size = _perfect_char_lm()
    assert check.judge(good, None, made.secret).passed
    common = sys.modules[type(check).__module__]
    bigram = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(vocab_size, 64),
                               keras.layers.Dense(128, activation="tanh"), keras.layers.Dense(vocab_size)])
    verdict = check.judge({**good, "layers": common.describe_layers(bigram)}, None, made.secret)
    assert verdict.fraction == 0 and "recurrent" in verdict.message
    verdict = check.judge({**good, "context_changed": good["context"]}, None, made.secret)
    assert verdict.fraction == 0 and "context" in verdict.message


# -- statistical checks: their power, measured ---------------------------------------------------------

def test_sampling_check_power():
    """The sampling check's χ² test on its own logits: false alarm on the reference ≤ 1e-4 (exactly, and
    ≤ 1e-3 over 20,000 simulated seeds), miss rate ≤ 1 % on a sample_next that ignores the temperature
    (exactly 1e-7) or squares the probabilities, over 2,000 simulated seeds each."""
    import scipy.stats

    check = LAB.check("sampling")
    logits = check.make_inputs().public["logits"]
    p = ref.sampling_distribution(logits, 0.8, 5)
    df = int(np.sum(p > 0)) - 1
    assert df == 4 and abs(scipy.stats.chi2.isf(1e-4, df) - check.CHI2_CRITICAL) < 0.01
    sim = np.random.default_rng(123)

    def rejected(q, seeds):
        draws = [sim.choice(q.size, size=check.DRAWS, p=q) for _ in range(seeds)]
        return np.mean([not (lambda o, c: o == 0 and c <= check.CHI2_CRITICAL)(*check.chi2(d, p)) for d in draws])

    assert rejected(p, 20000) <= 1e-3
    ignores_temperature = ref.sampling_distribution(logits, 1.0, 5)
    lam = check.DRAWS * np.sum((ignores_temperature[p > 0] - p[p > 0]) ** 2 / p[p > 0])
    assert scipy.stats.ncx2.cdf(check.CHI2_CRITICAL, df, lam) < 1e-6
    for wrong in (ignores_temperature, p ** 2 / np.sum(p ** 2)):
        assert 1 - rejected(wrong, 2000) <= 0.01


def test_quatrain_seeds_differ_power():
    """quatrain_sampling's "different seeds write different poems" (seeds 0, 1, 2, top_k=3): on 2,000
    bigram tables made like the check's, the reference never wrote three equal poems (false alarm
    < 1e-3 at 95 % confidence would need ≤ 0 of 3,000; the exact rate is far smaller)."""
    private = __import__(f"{type(LAB.check('quatrain_sampling')).__module__.rpartition('.')[0]}.private",
                         fromlist=["toy_bigram"])
    sim = np.random.default_rng(5)
    same = 0
    for _ in range(2000):
        vocab, table = private.toy_bigram(sim)
        poems = {ref.write_quatrain(lambda ids: table[ids[-1]], vocab, vocab[7], np.random.default_rng(s), 1.0, 3)
                 for s in (0, 1, 2)}
        same += len(poems) == 1
    assert same == 0


def test_adding_output_capped_at_one_cannot_pass():
    """The adding checks' power against a model whose output cannot exceed 1 (a sigmoid Dense): its MSE
    is at least E[(y − 1)₊²] = 1/12 ≈ 0.083 on the population; on 1,000 validation sequences the best
    such model's MSE stays above both thresholds except with probability < 1e-5."""
    _, y = data.adding_problem(200000, 10, seed=11)
    floor = np.maximum(y - 1.0, 0.0) ** 2
    assert abs(floor.mean() - 1 / 12) < 2e-3
    se = floor.std() / np.sqrt(LAB.meta["shared"]["adding"]["val_size"])
    for name in ("adding_problem", "adding_simple_rnn_short"):
        threshold = LAB.settings(name)["threshold"]
        assert (1 / 12 - threshold) / se > 4.2, name          # one-sided normal tail < 1.3e-5
