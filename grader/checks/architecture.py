"""A Keras model's structure in words, for checks of a specified architecture
(observe side: runs with the student's model, returns plain strings).

Shapes and parameter counts alone let the wrong network through (a LeNet-5
with max pooling and ReLU has LeNet-5's shapes and parameters), so a check
of an architecture the slides specify compares the operations themselves::

    >>> describe_layers(model)
    ['conv 6@5x5 stride 1x1 padding same', 'tanh', 'average pooling 2x2 stride 2x2 padding valid', ...]

A layer's built-in activation and a separate activation layer read the same
(``"conv …", "tanh"``), so either way of writing the network is accepted.
"""

from __future__ import annotations


def describe_layers(model, *, ignore: tuple[str, ...] = (), constraint=None) -> list[str]:
    """The operations of ``model``'s layers, in order, as words. Input layers
    are left out, and so are layers whose class name is in ``ignore`` (e.g.
    ``("Dropout",)``: the identity at inference). With ``constraint``, a
    Dense layer whose kernel *and* bias carry it reads ``"dense 64 constrained"``."""
    import keras

    words: list[str] = []

    def activation(fn):
        name = getattr(fn, "__name__", type(fn).__name__)
        if name != "linear":
            words.append(name)

    for layer in model.layers:
        kind = type(layer).__name__
        if isinstance(layer, keras.layers.InputLayer) or kind in ignore:
            continue
        if isinstance(layer, keras.layers.Dense):
            constrained = (constraint is not None and layer.kernel_constraint is constraint
                           and layer.bias_constraint is constraint)
            words.append(f"dense {layer.units}" + (" constrained" if constrained else ""))
            activation(layer.activation)
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            (kh, kw), (sh, sw) = layer.kernel_size, layer.strides
            name = "transposed conv" if isinstance(layer, keras.layers.Conv2DTranspose) else "conv"
            words.append(f"{name} {layer.filters}@{kh}x{kw} stride {sh}x{sw} padding {layer.padding}")
            activation(layer.activation)
        elif isinstance(layer, (keras.layers.AveragePooling2D, keras.layers.MaxPooling2D)):
            (ph, pw), (sh, sw) = layer.pool_size, layer.strides
            pooling = "average" if isinstance(layer, keras.layers.AveragePooling2D) else "max"
            words.append(f"{pooling} pooling {ph}x{pw} stride {sh}x{sw} padding {layer.padding}")
        elif isinstance(layer, keras.layers.LeakyReLU):
            slope = float(getattr(layer, "negative_slope", getattr(layer, "alpha", float("nan"))))
            words.append(f"leaky_relu {slope:g}")
        elif isinstance(layer, keras.layers.ReLU):
            words.append("relu")
        elif isinstance(layer, keras.layers.Softmax):
            words.append("softmax")
        elif isinstance(layer, keras.layers.Activation):
            activation(layer.activation)
        elif isinstance(layer, keras.layers.Reshape):
            words.append(f"reshape {tuple(layer.target_shape)}")
        elif isinstance(layer, keras.layers.UpSampling2D):
            words.append(f"upsampling {tuple(layer.size)}")
        elif isinstance(layer, keras.layers.Concatenate):
            words.append("concatenate")
        elif isinstance(layer, keras.layers.Flatten):
            words.append("flatten")
        else:
            words.append(f"a {kind} layer")
    return words
