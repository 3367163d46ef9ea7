"""Checks of the RNN lab: ``public.py`` ships to students, ``hidden.py`` does not."""

import tomllib
from pathlib import Path

import numpy as np

#: The lab's metadata (thresholds and budgets live there, once).
LAB = tomllib.loads((Path(__file__).resolve().parent.parent / "lab.toml").read_text())

#: Calls that would mean a "hand-written" backward pass is really autodiff.
AUTODIFF = {"GradientTape", "gradient", "jacobian", "batch_jacobian", "vjp", "grad", "value_and_grad",
            "custom_gradient", "compute_gradient"}


def run_cell(cell, x, weights):
    """Wrap a student's cell in ``keras.layers.RNN`` (float64), set its weights
    by attribute name and return ``(sequence of outputs, final states)``."""
    import keras

    layer = keras.layers.RNN(cell, return_sequences=True, return_state=True, dtype="float64")
    layer.build((None,) + tuple(x.shape[1:]))
    for name, value in weights.items():
        getattr(cell, name).assign(value)
    out = layer(x)
    return out[0], list(out[1:])


def toy_bigram(rng, size=30):
    """A toy vocabulary (specials, "，", "。", then ``size`` characters) and a
    bigram logit table (V, V) for sampling checks; the specials and the
    punctuation get large logits, so a sampler that forgets to mask them shows."""
    vocab = ["<pad>", "<s>", "<unk>", "，", "。"] + [chr(0x5C71 + i) for i in range(size)]
    table = rng.normal(0.0, 2.0, size=(len(vocab), len(vocab)))
    table[:, :5] += 4.0
    return vocab, table


def adding_inputs():
    """The adding problem's training set, and its validation set whose targets
    stay in the trusted process (shared by the gated and the simple-RNN checks)."""
    from grader import Inputs
    from grader.data import adding_problem

    cfg = LAB["adding"]
    x, y = adding_problem(cfg["train_size"], cfg["length"], seed=cfg["data_seed"])
    x_val, y_val = adding_problem(cfg["val_size"], cfg["length"], seed=cfg["data_seed"] + 1)
    return Inputs(public={"x_train": x, "y_train": y, "x_val": x_val}, secret={"y_val": y_val})


def train_adding(sub, cell, x_train, y_train, x_val):
    """The adding problem's fixed recipe (``[adding]`` in lab.toml) applied to
    ``build_adding_model(cell)``: returns validation predictions, the training
    loss per epoch and the recurrent layers' class names."""
    import keras

    cfg = LAB["adding"]
    model = sub.build_adding_model(cell, units=cfg["units"])
    model.compile(optimizer=keras.optimizers.Adam(cfg["learning_rate"], clipnorm=cfg["clipnorm"]), loss="mse")
    history = model.fit(x_train, y_train, batch_size=cfg["batch_size"], epochs=cfg["epochs"], verbose=0, shuffle=True)
    layers = [type(l).__name__ for l in model._flatten_layers(include_self=False, recursive=True)]
    return {"predictions": model.predict(x_val, batch_size=len(x_val), verbose=0), "loss": history.history["loss"],
            "layers": layers}


def adding_mse(got, y_val) -> float:
    from grader import judges

    pred = judges.as_array(got["predictions"], "predictions")
    if pred.size != y_val.size:
        raise judges.BadObservation(f"predictions: {pred.size} values for {y_val.size} sequences (expected shape "
                                    f"({y_val.size}, 1))")
    return float(np.mean((pred.reshape(-1) - y_val) ** 2))


def adding_verdict(mse: float, losses) -> "judges.Verdict":
    """Full marks at or below the threshold; partial credit (up to half) between
    the baseline (predicting 1.0 everywhere) and the threshold."""
    from grader import judges

    cfg = LAB["adding"]
    history = ", ".join(f"{l:.3f}" for l in losses)
    if mse <= cfg["threshold"]:
        return judges.Verdict(1.0, f"validation MSE = {mse:.4f} ≤ {cfg['threshold']:g} (training loss per epoch: {history})")
    fraction = 0.5 * max(0.0, (cfg["baseline"] - mse) / (cfg["baseline"] - cfg["threshold"]))
    return judges.Verdict(fraction, f"validation MSE = {mse:.4f}, above the threshold {cfg['threshold']:g}; predicting "
                                    f"1.0 everywhere gives {cfg['baseline']:g} (training loss per epoch: {history})")
