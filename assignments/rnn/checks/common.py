"""Helpers the RNN lab's checks share (public and hidden): running a cell in
``keras.layers.RNN``, and the adding problem's data, training recipe and
judging. Whatever ``observe`` needs of the lab's settings arrives in its
inputs; ``inputs`` and ``judge`` pass the settings in."""

import numpy as np

#: The adding problem's training recipe: the keys of ``[shared.adding]`` that
#: travel to ``observe`` (in the inputs' ``recipe``).
ADDING_RECIPE = ("units", "batch_size", "epochs", "learning_rate", "clipnorm")


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


def adding_inputs(rng, cfg):
    """The adding problem's training set and its validation set, whose targets
    stay in the trusted process, both drawn from ``rng`` (the check's seed);
    ``cfg`` is ``[shared.adding]``. The training recipe travels with them."""
    from grader import Inputs
    from grader.data import adding_problem

    x, y = adding_problem(cfg["train_size"], cfg["length"], seed=int(rng.integers(2**31)))
    x_val, y_val = adding_problem(cfg["val_size"], cfg["length"], seed=int(rng.integers(2**31)))
    recipe = {k: cfg[k] for k in ADDING_RECIPE}
    return Inputs(public={"x_train": x, "y_train": y, "x_val": x_val, "recipe": recipe}, secret={"y_val": y_val})


def train_adding(sub, cell, x_train, y_train, x_val, recipe):
    """The adding problem's fixed ``recipe`` applied to
    ``build_adding_model(cell)``: returns validation predictions, the training
    loss per epoch and the recurrent layers' class names."""
    import keras

    model = sub.build_adding_model(cell, units=int(recipe["units"]))
    model.compile(optimizer=keras.optimizers.Adam(recipe["learning_rate"], clipnorm=recipe["clipnorm"]), loss="mse")
    history = model.fit(x_train, y_train, batch_size=int(recipe["batch_size"]), epochs=int(recipe["epochs"]), verbose=0,
                        shuffle=True)
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


def adding_verdict(mse: float, losses, threshold: float, baseline: float) -> "judges.Verdict":
    """Full marks at or below ``threshold``; partial credit (up to half) between
    ``baseline`` (predicting 1.0 everywhere) and the threshold."""
    from grader import judges

    history = ", ".join(f"{l:.3f}" for l in losses)
    if mse <= threshold:
        return judges.Verdict(1.0, f"validation MSE = {mse:.4f} ≤ {threshold:g} (training loss per epoch: {history})")
    fraction = 0.5 * max(0.0, (baseline - mse) / (baseline - threshold))
    return judges.Verdict(fraction, f"validation MSE = {mse:.4f}, above the threshold {threshold:g}; predicting "
                                    f"1.0 everywhere gives {baseline:g} (training loss per epoch: {history})")
