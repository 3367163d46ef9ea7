"""Device selection, thread counts and determinism for TensorFlow.

Call :func:`configure` once per process *before* any model is built; it
imports TensorFlow. Everything else in the grader's trusted process stays
NumPy-only, so judging never needs TensorFlow.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys

_configured: dict | None = None

#: TensorFlow's environment wherever the kit or a student's code imports it.
#: ``TF_CPP_MIN_LOG_LEVEL=3`` keeps back C++ log lines up to ERROR (the
#: ``E0000 … NodeDef mentions attribute …`` graph-rewrite complaints, the CUDA
#: "Unable to register … factory" lines, absl's "All log messages before
#: absl::InitializeLog()" banner): what goes wrong in a student's code reaches
#: Python as an exception, with its message, and still shows. oneDNN's
#: reordered float sums differ between runs with different thread layouts;
#: off, grading is repeatable bit for bit (and its notice is gone too).
QUIET_TENSORFLOW_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "KERAS_BACKEND": "tensorflow"}


def quiet_tensorflow_logs() -> None:
    """Set :data:`QUIET_TENSORFLOW_ENV` in this process, leaving any value
    already set (a student who wants TensorFlow's logs sets the variable).
    Call it before TensorFlow is imported: it reads them once, at import."""
    for key, value in QUIET_TENSORFLOW_ENV.items():
        os.environ.setdefault(key, value)


#: Lines TensorFlow and absl write on their own, never the student's: C++ log
#: lines below FATAL (``I0000 00:00:1796281188.662288    8278 port.cc:153] …``:
#: a FATAL ``F…`` line says why a process died, and stays), absl's banner,
#: and the continuation line of the CPU-feature notice.
TENSORFLOW_NOISE = re.compile(
    r"^(?:[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.+-]+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .*, in other operations, rebuild TensorFlow with the appropriate "
    r"compiler flags\.)$")


def strip_tensorflow_noise(text: str) -> str:
    """``text`` (a process's printed output) without :data:`TENSORFLOW_NOISE` lines."""
    return "".join(line for line in text.splitlines(keepends=True) if not TENSORFLOW_NOISE.match(line.rstrip("\r\n")))


def configure(threads: int | None = None) -> dict:
    """Pick the device and make results repeatable.

    * GPU when present (memory growth on; the worker's ``CUDA_VISIBLE_DEVICES``
      chooses which one), else the CPU with ``threads`` intra-op threads so
      parallel workers do not oversubscribe the cores.
    * TF32 off, so float32 matmuls on Ampere/Hopper GPUs are true float32 and
      gradient checks hold on GPUs too.
    * Op determinism on, so the same submission graded twice scores the same.

    Returns a small dict describing what was chosen (for reports).
    """
    global _configured
    if _configured is not None:
        return _configured
    quiet_tensorflow_logs()
    import tensorflow as tf

    if threads is None and os.environ.get("DLKIT_THREADS"):
        threads = int(os.environ["DLKIT_THREADS"])
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised by the caller
            pass
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))
        except RuntimeError:  # TensorFlow already ran (a notebook's earlier cell): its threads stay
            threads = tf.config.threading.get_intra_op_parallelism_threads() or None
    tf.config.experimental.enable_tensor_float_32_execution(False)
    tf.config.experimental.enable_op_determinism()
    _configured = {
        "device": "GPU" if gpus else "CPU",
        "gpus": len(gpus),
        "threads": threads or os.cpu_count(),
        "tensorflow": tf.__version__,
    }
    return _configured


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (through Keras) for one check."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed % (2**32))
    if "keras" in sys.modules or "tensorflow" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)


@contextlib.contextmanager
def keras_settings_kept():
    """Keras's process-wide settings (``floatx``, the dtype policy, ``epsilon``,
    the image data format) as they were before the block, whatever it set.

    In-process grading of one submission after another (the kit's tests, the
    mutation workers) would otherwise hand a later submission the settings an
    earlier one left, e.g. a float64 dtype policy.
    """
    import keras

    config = keras.config
    kept = (config.floatx(), config.dtype_policy(), config.epsilon(), config.image_data_format())
    try:
        yield
    finally:
        config.set_floatx(kept[0])
        config.set_dtype_policy(kept[1])
        config.set_epsilon(kept[2])
        config.set_image_data_format(kept[3])
