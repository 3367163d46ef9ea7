"""Helpers only the CNN lab's hidden checks use, on the trusted side (judging);
never shipped, never in the sandbox."""

#: Library convolutions that conv2d_forward must not call.
BUILTIN_CONVS = {"conv2d", "conv", "convolution", "conv2d_transpose", "Conv2D", "correlate", "correlate2d",
                 "convolve", "convolve2d", "fftconvolve", "depthwise_conv2d"}
