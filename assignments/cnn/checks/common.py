"""Helpers the CNN lab's checks share (public and hidden): the "implement it
yourself" rules (:mod:`grader.checks.byhand`) of the parts the handout says to write
by hand. Whatever ``observe`` needs of the lab's settings arrives in its inputs.

A rule names what would be the shortcut for its part, never what the
reference itself uses: NumPy parts may use NumPy (``np.pad``, slicing,
``einsum``, ``sliding_window_view``), the TensorFlow parts TensorFlow's
elementary ops (``tf.random.uniform``, ``tf.custom_gradient``, ``keras.ops.mean``).
"""

from grader.checks.byhand import AUTODIFF, FRAMEWORKS, ByHand

#: SciPy's functions that convolve, correlate or pool arrays for you (functions, not whole modules:
#: a student's code that merely touches a module object, to print it say, is not a shortcut).
ARRAY_LIBRARIES = tuple(f"scipy.signal.{f}" for f in ("correlate", "correlate2d", "convolve", "convolve2d",
                                                     "fftconvolve", "oaconvolve")) + \
    tuple(f"scipy.ndimage.{f}" for f in ("correlate", "convolve", "correlate1d", "convolve1d", "uniform_filter",
                                         "maximum_filter", "generic_filter", "zoom"))
#: Convolutions a TensorFlow part could call instead of yours.
LIBRARY_CONVOLUTIONS = ("tensorflow.nn", "tensorflow.raw_ops.Conv2D", "tensorflow.raw_ops.Conv2DBackpropInput",
                        "tensorflow.raw_ops.Conv2DBackpropFilter", "keras.ops.conv", "keras.layers.Conv2D")


def numpy_rule(*functions: str, part: str) -> ByHand:
    """``functions`` are written in NumPy: no TensorFlow, Keras or library convolution/pooling."""
    return ByHand(functions=functions, forbid=FRAMEWORKS + ARRAY_LIBRARIES,
                  why=f"{part} is written by hand in NumPy (the handout: no TensorFlow, Keras or library "
                      "convolution/pooling, SciPy's included)")


CONV_FORWARD_RULE = numpy_rule("conv2d_forward", part="Part 2, the convolution's forward pass,")
CONV_BACKWARD_RULE = numpy_rule("conv2d_backward", part="Part 3, the convolution's backward pass,")
#: Pooling done for you: the pooling ops and layers, autodiff for the backward pass, Keras's ops.
#: (Targeted rather than all of TensorFlow: a pooling function of a student's that merely
#: touches a TensorFlow object, to print it say, is not a shortcut.)
LIBRARY_POOLING = AUTODIFF + ("tensorflow.nn", "tensorflow.raw_ops.MaxPool", "tensorflow.raw_ops.MaxPoolV2",
                          "tensorflow.raw_ops.MaxPoolGrad", "tensorflow.raw_ops.AvgPool", "tensorflow.raw_ops.AvgPoolGrad",
                          "keras.ops", "keras.layers.MaxPooling2D", "keras.layers.AveragePooling2D") + ARRAY_LIBRARIES


def pooling_rule(*functions: str, part: str) -> ByHand:
    """``functions`` pool by hand: no library pooling, filtering or autodiff."""
    return ByHand(functions=functions, forbid=LIBRARY_POOLING,
                  why=f"{part} is written by hand in NumPy (the handout: no TensorFlow, Keras or SciPy "
                      "pooling/filtering, no autodiff)")


MAX_POOL_RULE = pooling_rule("max_pool_forward", "max_pool_backward", part="Part 4, max pooling,")
AVG_POOL_RULE = pooling_rule("avg_pool_forward", "avg_pool_backward", part="Part 4, average pooling,")
CUSTOM_GRADIENT_RULE = ByHand(
    functions=("conv2d",), forbid=AUTODIFF + LIBRARY_CONVOLUTIONS,
    why="conv2d joins YOUR conv2d_forward and conv2d_backward with tf.custom_gradient: no GradientTape "
        "or other autodiff, no library convolution")
# Methods, not the whole class: the layer's own __init__ stays Keras's to inspect.
BATCH_NORM_RULE = ByHand(
    functions=("BatchNorm.build", "BatchNorm.call"),
    forbid=("keras.layers.BatchNormalization", "keras.ops.batch_normalization", "tensorflow.nn.batch_normalization",
            "tensorflow.nn.fused_batch_norm"),
    why="Part 7's BatchNorm is written by hand: it may not be, subclass or call Keras's or TensorFlow's "
        "batch normalisation")
DROPOUT_RULE = ByHand(
    functions=("dropout",),
    forbid=("tensorflow.nn.dropout", "tensorflow.nn.experimental.stateless_dropout", "keras.random.dropout",
            "keras.layers.Dropout", "keras.layers.AlphaDropout", "keras.layers.GaussianDropout"),
    why="Part 7's inverted dropout is written by hand: draw the mask yourself rather than call a library dropout")
