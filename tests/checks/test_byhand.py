"""The shared "implement it yourself" rule (grader.checks.byhand): what it catches,
statically and at run time, and what it lets through."""

import textwrap
import types

import numpy as np
import pytest

from grader.checks import byhand
from grader.core import runner
from grader.checks.byhand import AUTODIFF, FRAMEWORKS, ByHand
from grader.checks.check import Check

pytest.importorskip("tensorflow")

CONV = ByHand(functions=("conv",), forbid=AUTODIFF + ("tensorflow.nn", "tensorflow.raw_ops"),
              why="the part is the correlation itself")
NUMPY_ONLY = ByHand(functions=("backward",), forbid=FRAMEWORKS, why="the backward pass is written in NumPy")
NORM = ByHand(functions=("Norm",), forbid=("keras.layers.BatchNormalization", "keras.layers.LayerNormalization"),
              why="the layer computes its statistics itself")


def _module(source: str, name: str = "student_mod") -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = f"/tmp/{name}.py"
    code = textwrap.dedent(source)
    # inspect.getsource needs the text: keep it in linecache under the fake file name
    import linecache

    linecache.cache[module.__file__] = (len(code), None, code.splitlines(True), module.__file__)
    exec(compile(code, module.__file__, "exec"), module.__dict__)
    return module


def _findings(module, rule, call):
    with byhand.watching(module, (rule,)) as watch:
        call(module)
    return watch.findings()


CLEAN_CONV = """
import numpy as np
def conv(x, w):
    return np.einsum("ni,io->no", x, w)
"""
ALIASED_CONV = """
import numpy as np
from tensorflow.nn import conv2d as c2
def conv(x, w):
    return _helper(x, w)
def _helper(x, w):
    return np.asarray(c2(x[None], w, 1, "VALID"))[0]
"""
HIDDEN_CONV = """
import importlib
def conv(x, w):
    nn = getattr(importlib.import_module("tensor" + "flow"), "n" + "n")
    return nn.conv2d(x[None], w, 1, "VALID").numpy()[0]
"""
TAPE_BACKWARD = """
import tensorflow as tf
def backward(x):
    x = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(x ** 2)
    return tape.gradient(y, x).numpy()
"""
NUMPY_BACKWARD = """
import numpy as np
def backward(x):
    return 2 * np.asarray(x)
"""
SUBCLASSED_NORM = """
import keras
class Norm(keras.layers.BatchNormalization):
    pass
"""
OWN_NORM = """
import keras
from keras import ops
class Norm(keras.layers.Layer):
    def call(self, x):
        mean = ops.mean(x, axis=0)
        return (x - mean) / ops.sqrt(ops.var(x, axis=0) + 1e-5)
"""


def _conv(m):
    return m.conv(np.ones((3, 3, 2), np.float32), np.ones((1, 1, 2, 4), np.float32))


def test_clean_numpy_code_passes():
    assert _findings(_module(CLEAN_CONV), CONV, lambda m: m.conv(np.ones((2, 3)), np.ones((3, 4)))) == []
    assert _findings(_module(NUMPY_BACKWARD), NUMPY_ONLY, lambda m: m.backward(np.ones(3))) == []


def test_an_aliased_library_call_in_a_helper_is_seen_in_the_source_and_at_run_time():
    found = _findings(_module(ALIASED_CONV), CONV, _conv)
    assert any("_helper" in f and "c2" in f for f in found), found
    assert any("while it ran" in f for f in found), found


def test_a_call_hidden_from_the_source_is_seen_at_run_time():
    found = _findings(_module(HIDDEN_CONV), CONV, _conv)
    assert found and all("while it ran" in f for f in found), found


def test_autodiff_and_any_framework_call_in_a_numpy_part():
    found = _findings(_module(TAPE_BACKWARD), NUMPY_ONLY, lambda m: m.backward(np.ones(3)))
    assert any("tf.GradientTape" in f or "TensorFlow" in f for f in found), found
    tape_only = ByHand(functions=("backward",), forbid=AUTODIFF, why="by hand")
    assert any("GradientTape" in f for f in _findings(_module(TAPE_BACKWARD), tape_only, lambda m: m.backward(np.ones(3))))


def test_subclassing_the_library_layer_is_forbidden_writing_your_own_is_not():
    found = _findings(_module(SUBCLASSED_NORM), NORM, lambda m: m.Norm()(np.ones((4, 3), np.float32)))
    assert any("inherits from" in f for f in found), found
    assert _findings(_module(OWN_NORM), NORM, lambda m: m.Norm()(np.ones((4, 3), np.float32))) == []


def test_watching_restores_the_module():
    module = _module(CLEAN_CONV)
    original = module.conv
    with byhand.watching(module, (CONV,)):
        assert module.conv is not original
    assert module.conv is original


class _ConvCheck(Check):
    name = "conv_by_hand"
    by_hand = (CONV,)

    def observe(self, sub):
        return {"y": _conv(sub)}

    def judge(self, got, want, secret):
        return 1.0


def test_a_broken_rule_travels_as_an_observation_and_scores_zero():
    check = _ConvCheck()
    obs = runner.observe(check, _module(ALIASED_CONV), {}, seed=0)
    assert obs.status == "ok" and obs.by_hand
    carried = runner.Observation.from_plain(obs.to_plain())
    result = runner.judge(check, carried, None, {})
    assert result.score == 0 and result.extra["reason"] == "by_hand"
    assert "the correlation itself" in result.message and "tf.nn" in result.message
    clean = runner.observe(check, _module(CLEAN_CONV.replace('"ni,io->no"', '"hwc,abco->hwo"')), {}, seed=0)
    assert runner.judge(check, clean, None, {}).score == 1


TWO_PARTS = """
import numpy as np
import tensorflow as tf

def forward(x):
    return np.asarray(x) * 2.0

class Layer(__import__("keras").layers.Layer):
    def __init__(self, scale=2.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, x):
        return x * self.scale

def op(x):
    @tf.custom_gradient
    def inner(v):
        def grad(dy):
            return dy * 2.0
        return tf.convert_to_tensor(forward(v.numpy())), grad
    return inner(tf.convert_to_tensor(x))
"""


def test_each_rule_holds_only_its_own_functions():
    module = _module(TWO_PARTS, "two_parts")
    numpy_only = ByHand(functions=("forward",), forbid=FRAMEWORKS, why="NumPy")
    no_tape = ByHand(functions=("op",), forbid=AUTODIFF, why="your own backward")
    with byhand.watching(module, (numpy_only, no_tape)) as watch:
        module.op(np.ones(3, np.float32))  # TensorFlow in op is fine; forward, called inside it, stays NumPy
    assert watch.findings() == []


def test_guarding_a_whole_keras_layer_keeps_it_constructible():
    module = _module(TWO_PARTS, "two_parts_layer")
    rule = ByHand(functions=("Layer",), forbid=("keras.layers.BatchNormalization",), why="by hand")
    with byhand.watching(module, (rule,)) as watch:
        out = module.Layer(scale=3.0)(np.ones((2, 2), np.float32))
    assert np.allclose(np.asarray(out), 3.0) and watch.findings() == []


def test_a_forbidden_library_does_not_claim_the_standard_library_code_it_carries():
    pytest.importorskip("networkx")
    import enum

    rule = ByHand(functions=("pick",), forbid=("networkx",), why="by hand")
    module = _module("""
import enum
class Colour(enum.Enum):
    RED = 1
def pick(v):
    return Colour(v)
""", "enums")
    with byhand.watching(module, (rule,)) as watch:
        module.pick(1)
    assert watch.findings() == []
    assert not any(c.co_filename == enum.__file__ for c in byhand._resolve("networkx").codes)


LOCAL_IMPORTS = '''
def train(x):
    import numpy
    from json import dumps
    from sklearn.datasets import load_digits
    return numpy.asarray(x)

def fine(x):
    import numpy as np
    return np.asarray(x)
'''


def test_an_import_inside_the_function_is_seen_without_the_watch():
    rule = ByHand(functions=("train",), forbid=("sklearn", "json.loads"), why="learn from x alone", watch=False)
    module = _module(LOCAL_IMPORTS)
    found = _findings(module, rule, lambda m: m.train([1.0]))
    assert found == ["train imports sklearn.datasets.load_digits (forbidden: sklearn)"], found
    original = module.train
    with byhand.watching(module, (rule,)):
        assert module.train is original        # static only: nothing is wrapped to watch the run
    assert _findings(module, ByHand(functions=("fine",), forbid=("sklearn",), why="", watch=False),
                     lambda m: m.fine([1.0])) == []
