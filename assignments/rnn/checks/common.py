"""Helpers the RNN lab's checks share (public and hidden): the "implement it
yourself" rules (:mod:`grader.checks.byhand`) of the parts the handout says to write
by hand, running a cell in ``keras.layers.RNN``, describing a model's layers
(what a specified architecture is checked against), the adding problem's data,
training recipe and judging. Whatever ``observe`` needs of
the lab's settings arrives in its inputs; ``inputs`` and ``judge`` pass the
settings in."""

import numpy as np

from grader.checks import judges
from grader.checks.byhand import FRAMEWORKS, ByHand

# -- "implement it yourself" (grader.checks.byhand) ---------------------------------------
# A rule names what would be the shortcut for its part, never what the
# reference uses: the NumPy parts use NumPy only (np.linalg.eigvals
# included); the cells use keras.ops, which stays allowed.

#: Other automatic differentiation a NumPy gradient could lean on.
OTHER_AUTODIFF = ("jax", "torch", "autograd")

FORWARD_RULE = ByHand(
    functions=("rnn_forward",), forbid=FRAMEWORKS,
    why="Part 1's rnn_forward is the Elman recursion written in NumPy: no TensorFlow or Keras "
        "(keras.layers.SimpleRNN computes it for you)")
BPTT_RULE = ByHand(
    functions=("rnn_backward",), forbid=FRAMEWORKS + OTHER_AUTODIFF,
    why="Part 2's BPTT is the δ recursion written in NumPy: no tf.GradientTape or any other autodiff, "
        "no TensorFlow or Keras")
STATE_GRADIENT_RULE = ByHand(
    functions=("state_gradients", "scale_to_spectral_radius"), forbid=FRAMEWORKS + OTHER_AUTODIFF,
    why="Part 3's ∂L_t/∂h_k and spectral-radius scaling are written in NumPy: no TensorFlow, Keras or autodiff")
CLIP_RULE = ByHand(
    functions=("clip_by_global_norm",), forbid=FRAMEWORKS,
    why="Part 3's clipping is written in NumPy: tf.clip_by_global_norm is what it reproduces, not what it calls")
#: Keras's and TensorFlow's own recurrent cells and layers: what a cell built
#: "from the slides' equations" may not be, subclass or call.
LIBRARY_RECURRENCE = ("keras.layers.LSTM", "keras.layers.LSTMCell", "keras.layers.GRU", "keras.layers.GRUCell",
                      "keras.layers.SimpleRNN", "keras.layers.SimpleRNNCell", "keras.layers.ConvLSTM1D",
                      "keras.src.backend.tensorflow.rnn", "tensorflow.raw_ops.LSTMBlockCell",
                      "tensorflow.raw_ops.BlockLSTM", "tensorflow.raw_ops.BlockLSTMV2",
                      "tensorflow.raw_ops.GRUBlockCell", "tensorflow.raw_ops.CudnnRNN",
                      "tensorflow.raw_ops.CudnnRNNV3")
# Methods, not the whole class: a layer's own __init__ stays Keras's to inspect
# (the inheritance is still looked at).
LSTM_RULE = ByHand(
    functions=("LSTMCell.build", "LSTMCell.call"), forbid=LIBRARY_RECURRENCE,
    why="Part 4's LSTMCell is built from the slides' equations with keras.ops: it may not be, subclass "
        "or call Keras's LSTM/GRU/SimpleRNN cells and layers")
GRU_RULE = ByHand(
    functions=("GRUCell.build", "GRUCell.call"), forbid=LIBRARY_RECURRENCE,
    why="Part 4's GRUCell is built from the slides' equations with keras.ops: it may not be, subclass "
        "or call Keras's GRU/LSTM/SimpleRNN cells and layers")
SAMPLING_RULE = ByHand(
    functions=("sampling_distribution", "sample_next"), forbid=FRAMEWORKS,
    why="Part 7's sampling is written in NumPy (float64, drawn with the rng it is given): no "
        "tf.random.categorical, keras.random or TensorFlow/Keras softmax and top-k")


# -- specified architectures ---------------------------------------------------------

#: Keras's recurrent layers (what "a recurrent layer" means in the checks).
RECURRENT_KINDS = ("SimpleRNN", "LSTM", "GRU", "RNN")


def describe_layers(model) -> list:
    """The layers of a Keras model, in order, as small dicts: ``kind`` (the
    class name) and, where the layer has them, ``units``, ``activation``,
    ``return_sequences``, ``go_backwards``, ``input_dim``, ``output_dim`` and
    ``mask_zero``. Input layers are left out; nested models are opened; a
    layer's own sub-layers (a GRU's cell) are not."""
    out = []
    for layer in getattr(model, "layers", []):
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if hasattr(layer, "layers") and kind in ("Sequential", "Functional", "Model"):
            out += describe_layers(layer)
            continue
        info = {"kind": kind}
        for attr in ("units", "return_sequences", "go_backwards", "input_dim", "output_dim", "mask_zero"):
            value = getattr(layer, attr, None)
            if isinstance(value, (bool, int, np.integer)):
                info[attr] = value if isinstance(value, bool) else int(value)
        activation = getattr(layer, "activation", None)
        if activation is not None:
            info["activation"] = str(getattr(activation, "__name__", activation))
        out.append(info)
    return out


def layer_words(layers) -> str:
    """``describe_layers``'s list as one line for a message."""
    def word(info):
        extra = [f"{k}={info[k]}" for k in ("units", "output_dim", "activation", "return_sequences", "mask_zero")
                 if k in info]
        return f"{info.get('kind')}({', '.join(extra)})"
    return " → ".join(word(i) for i in layers) or "(no layers)"


def is_linear(info) -> bool:
    return info.get("activation", "linear") in ("linear", "None")


# -- running a student's cell -----------------------------------------------------------

def run_cell(cell, x, weights, training=None):
    """Wrap a student's cell in ``keras.layers.RNN`` (float64), set its weights
    by attribute name and return ``(sequence of outputs, final states)``."""
    import keras

    layer = keras.layers.RNN(cell, return_sequences=True, return_state=True, dtype="float64")
    layer.build((None,) + tuple(x.shape[1:]))
    for name, value in weights.items():
        getattr(cell, name).assign(value)
    out = layer(x, training=training)
    return out[0], list(out[1:])


# -- the adding problem ------------------------------------------------------------------

#: The adding problem's training recipe: the keys of ``[shared.adding]`` that
#: travel to ``observe`` (in the inputs' ``recipe``).
ADDING_RECIPE = ("units", "batch_size", "epochs", "learning_rate", "clipnorm")


def adding_inputs(rng, cfg, length=None):
    """The adding problem's training set and its validation set, whose targets
    stay in the trusted process, both drawn from ``rng`` (the check's seed);
    ``cfg`` is ``[shared.adding]``, ``length`` overrides its sequence length.
    The training recipe travels with them."""
    from grader.checks import Inputs
    from grader.data import adding_problem

    length = int(length or cfg["length"])
    x, y = adding_problem(cfg["train_size"], length, seed=int(rng.integers(2**31)))
    x_val, y_val = adding_problem(cfg["val_size"], length, seed=int(rng.integers(2**31)))
    recipe = {k: cfg[k] for k in ADDING_RECIPE}
    return Inputs(public={"x_train": x, "y_train": y, "x_val": x_val, "recipe": recipe}, secret={"y_val": y_val})


def train_adding(sub, cell, x_train, y_train, x_val, recipe):
    """The adding problem's fixed ``recipe`` applied to
    ``build_adding_model(cell)``, on the grader's path (the grader compiles,
    fits and predicts): returns the validation predictions, the training loss
    per epoch and the model's layers (:func:`describe_layers`)."""
    import keras

    model = sub.build_adding_model(cell, units=int(recipe["units"]))
    layers = describe_layers(model)
    model.compile(optimizer=keras.optimizers.Adam(recipe["learning_rate"], clipnorm=recipe["clipnorm"]), loss="mse")
    history = model.fit(x_train, y_train, batch_size=int(recipe["batch_size"]), epochs=int(recipe["epochs"]), verbose=0,
                        shuffle=True)
    return {"predictions": model.predict(x_val, batch_size=len(x_val), verbose=0), "loss": history.history["loss"],
            "layers": layers}


def adding_structure(got, kind, units):
    """The specified architecture: ``Input((None, 2))`` → one ``kind`` layer of
    ``units`` returning its last state → a linear ``Dense(1)``."""
    layers = got["layers"] if isinstance(got.get("layers"), list) else []
    ok = (len(layers) == 2 and isinstance(layers[0], dict) and isinstance(layers[1], dict)
          and layers[0].get("kind") == kind and layers[0].get("units") == units
          and not layers[0].get("return_sequences", False) and layers[1].get("kind") == "Dense"
          and layers[1].get("units") == 1 and is_linear(layers[1]))
    verdict = judges.property_holds(
        ok, f"build_adding_model({ {'GRU': 'gru', 'LSTM': 'lstm', 'SimpleRNN': 'simple'}[kind]!r}, units={units}) is "
            f"{kind}({units}) → linear Dense(1)",
        f"its layers are {layer_words(layers)}")
    return verdict


def adding_mse(got, y_val) -> float:
    pred = judges.as_array(got["predictions"], "predictions")
    if pred.size != y_val.size:
        raise judges.BadObservation(f"predictions: {pred.size} values for {y_val.size} sequences (expected shape "
                                    f"({y_val.size}, 1))")
    return float(np.mean((pred.reshape(-1) - y_val) ** 2))


def adding_verdict(mse: float, losses, threshold: float, baseline: float) -> "judges.Verdict":
    """Full marks at or below ``threshold``; partial credit (up to half) between
    ``baseline`` (predicting 1.0 everywhere) and the threshold."""
    history = ", ".join(f"{l:.3f}" for l in losses)
    if mse <= threshold:
        return judges.Verdict(1.0, f"validation MSE = {mse:.4f} ≤ {threshold:g} (training loss per epoch: {history})")
    fraction = 0.5 * max(0.0, (baseline - mse) / (baseline - threshold))
    return judges.Verdict(fraction, f"validation MSE = {mse:.4f}, above the threshold {threshold:g}; predicting "
                                    f"1.0 everywhere gives {baseline:g} (training loss per epoch: {history})")
