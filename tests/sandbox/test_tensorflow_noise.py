"""TensorFlow's own log lines never show as what the student's code printed:
the worker's environment silences them, and the read-back drops any that
get through (a submission may turn them on again)."""

import pytest

from grader.core.grading import grade
from grader.device import QUIET_TENSORFLOW_ENV, strip_tensorflow_noise
from grader.labs.lab import Lab
from grader.reports.student import write_student
from grader.sandbox.launch import child_env

#: Captured from TensorFlow 2.21 on this kit's CPUs (``TF_CPP_MIN_LOG_LEVEL=0``, oneDNN on), with
#: the graph-rewrite and CUDA registration errors of other runs, and the student's own lines.
SAMPLE = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796281188.662288    8278 port.cc:153] oneDNN custom operations are on. You may see slightly different numerical results due to floating-point round-off errors from different computation orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.
I0000 00:00:1796281188.769376    8278 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available CPU instructions in performance-critical operations.
To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 AVX_VNNI FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.
epoch 1: loss 0.693
E0000 00:00:1732211234.567890   12345 meta_optimizer.cc:966] model_pruner failed: INVALID_ARGUMENT: NodeDef mentions attribute use_unbounded_threadpool which is not in the op definition: Op<name=MapDataset; signature=input_dataset:variant, other_arguments: -> handle:variant> This may be expected if your graph generating binary is newer than this binary.
E0000 00:00:1732211230.123456    4242 cuda_dnn.cc:8579] Unable to register cuDNN factory: Attempting to register factory for plugin cuDNN when one has already been registered
W0000 00:00:1732211230.123999    4242 computation_placer.cc:177] computation placer already registered. Please check linkage and avoid linking the same target more than once.
I1123 14:02:11.004512  900001 device_compiler.h:188] Compiled cluster using XLA!  This line is logged at most once for the lifetime of the process.
[<tf.Tensor: shape=(2,), dtype=int64, numpy=array([0, 1])>]
F0000 00:00:1732211299.000001    4242 logging.cc:62] Check failed: x.ok() out of memory
I0000 is how my variable is named
"""


def test_the_filter_keeps_the_students_lines_and_drops_tensorflows():
    kept = strip_tensorflow_noise(SAMPLE).splitlines()
    assert kept == ["epoch 1: loss 0.693", "[<tf.Tensor: shape=(2,), dtype=int64, numpy=array([0, 1])>]",
                    "F0000 00:00:1732211299.000001    4242 logging.cc:62] Check failed: x.ok() out of memory",
                    "I0000 is how my variable is named"]  # a fatal error says why a process died
    assert strip_tensorflow_noise(SAMPLE.replace("\n", "\r\n")).count("\n") == 4


def test_the_worker_starts_with_tensorflow_silenced(monkeypatch):
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    env = child_env("/home", "/tmp", "/lib", 2, "process")
    assert {k: env[k] for k in QUIET_TENSORFLOW_ENV} == QUIET_TENSORFLOW_ENV
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "3"  # 2 lets ERROR lines such as "NodeDef mentions attribute" through
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")  # the grader's own choice is kept
    assert child_env("/home", "/tmp", "/lib", 2, "process")["TF_ENABLE_ONEDNN_OPTS"] == "1"


@pytest.mark.parametrize("leaked", [False, True], ids=["silenced", "lines-that-get-through"])
def test_feedback_shows_what_the_student_printed_without_tensorflow_logs(tmp_path, leaked):
    """The submission imports TensorFlow (with Keras) and prints a line; in the
    second case TensorFlow-format lines reach the worker's stderr anyway (as
    from a library that logs before the worker's settings apply)."""
    lab = Lab.load("cnn")
    source = lab.solution_file.read_text()
    top = "import numpy as np\n"
    assert source.count(top) == 1 and "import tensorflow as tf" in source
    leak = f"import sys\nsys.stderr.write({SAMPLE!r})\nsys.stderr.flush()\n" if leaked else ""
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / lab.filename).write_text(source.replace(top, top + "print('STUDENT LINE')\n" + leak))
    result = grade(lab, folder, names=["conv_arithmetic"])
    assert result.score == result.max_score
    write_student(result, tmp_path / "out")
    feedback = (tmp_path / "out" / "feedback.md").read_text()
    printed = feedback.split("## What your code printed", 1)[1]
    assert "STUDENT LINE" in printed
    if leaked:
        assert "epoch 1: loss 0.693" in printed and "I0000 is how my variable is named" in printed
    for noise in ("I0000 00:00", "E0000 00:00", "W0000 00:00", "NodeDef", "cuDNN factory", "oneDNN custom operations", "absl::InitializeLog", "cpu_feature_guard",
                  "To enable the following instructions"):
        assert noise not in printed and noise not in result.info.output


def test_configure_after_tensorflow_already_ran_does_not_crash():
    # A notebook cell may run TensorFlow before the first check configures threads.
    import subprocess
    import sys

    code = ("import tensorflow as tf; tf.constant(1) + 1\n"
            "from grader import device; print(device.configure(threads=1)['device'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("CPU")
