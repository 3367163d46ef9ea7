"""The optimisation lab's statistical judge of an initialiser's draw
(``draw_problems`` of the checks): its false-alarm rate on correct draws and
its power against the classic mistakes, on NumPy draws of the checks' sizes
(a Dense (300, 60) kernel, fan_in 300, and a (3, 3, 48, 12) kernel, fan_in 432)."""

import importlib.util
import math

import numpy as np
import pytest

from grader.labs.lab import Lab

_spec = importlib.util.spec_from_file_location("_optim_checks_common",
                                               Lab.load("optim").assignment_dir / "checks" / "common.py")
common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(common)

SHAPES = {(300, 60): 300, (3, 3, 48, 12): 432}


@pytest.mark.parametrize("uniform", [False, True], ids=["normal", "uniform"])
def test_correct_draws_pass(uniform):
    """Correct draws pass every test (each at |z| ≤ 5: about one false alarm in 1.7 million)."""
    rng = np.random.default_rng(7)
    for shape, fan_in in SHAPES.items():
        variance = 1.0 / fan_in
        for _ in range(50):
            if uniform:
                bound = math.sqrt(3.0 * variance)
                x = rng.uniform(-bound, bound, size=shape)
            else:
                x = rng.normal(0.0, math.sqrt(variance), size=shape)
            assert common.draw_problems(x, variance, uniform, "w") == []


def _truncated(rng, shape, std):
    x = rng.normal(size=int(np.prod(shape)) * 2)
    return (x[np.abs(x) <= 2.0][:int(np.prod(shape))] * std).reshape(shape)


MISTAKES = {
    # name: (uniform?, the draw, from (rng, shape, fan_in, fan_out); the asked-for variance is 1/fan_in or 2/fan_in)
    "He from fan_out": (False, 2, lambda rng, s, fi, fo: rng.normal(0, math.sqrt(2 / fo), s)),
    "He, the slides' code": (False, 2, lambda rng, s, fi, fo: rng.normal(0, math.sqrt(fi / 2), s)),
    "He truncated at 2σ": (False, 2, lambda rng, s, fi, fo: _truncated(rng, s, math.sqrt(2 / fi))),
    "Xavier with Glorot's fans": (False, 1, lambda rng, s, fi, fo: rng.normal(0, math.sqrt(2 / (fi + fo)), s)),
    "Xavier, std read as variance": (False, 1, lambda rng, s, fi, fo: rng.normal(0, 1 / fi, s)),
    "uniform with Glorot's bound": (True, 1, lambda rng, s, fi, fo: rng.uniform(-1, 1, s) * math.sqrt(6 / (fi + fo))),
    "uniform on [0, r)": (True, 1, lambda rng, s, fi, fo: rng.uniform(0, 1, s) * math.sqrt(3 / fi)),
    "normal for uniform": (True, 1, lambda rng, s, fi, fo: rng.normal(0, math.sqrt(1 / fi), s)),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_each_classic_mistake_is_caught_on_every_draw(name):
    uniform, scale, make = MISTAKES[name]
    rng = np.random.default_rng(11)
    for shape, fan_in in SHAPES.items():
        fan_out = int(np.prod(shape)) // fan_in
        for _ in range(10):
            assert common.draw_problems(make(rng, shape, fan_in, fan_out), scale / fan_in, uniform, "w")


def test_prelu_without_the_square_is_caught_at_the_public_slope():
    """The smallest of the mistakes: 1 + a for 1 + a² at a = 0.5 is a variance 1.2× too small."""
    rng = np.random.default_rng(3)
    for _ in range(10):
        x = rng.normal(0.0, math.sqrt(2 / (1.5 * 300)), size=(300, 60))
        assert common.draw_problems(x, 2 / (1.25 * 300), False, "w")


# -- The "implement it yourself" rule on shortcuts with the right numbers -----------------------------

from grader.core.grading import self_check  # noqa: E402

LAB = Lab.load("optim")

SHORTCUTS = {
    "Keras's ExponentialDecay inside ExponentialSchedule": (
        "decay_schedules", "        return self.initial_learning_rate * ops.power(self.decay_rate, t)",
        "        return keras.optimizers.schedules.ExponentialDecay(self.initial_learning_rate, 1, self.decay_rate)(step)",
        "ExponentialDecay"),
    "Keras's VarianceScaling inside XavierUniform (the same draws)": (
        "uniform_initializers",
        "        bound = math.sqrt(3.0 / fan_in)\n"
        "        return keras.random.uniform(shape, minval=-bound, maxval=bound, dtype=dtype, seed=self.seed)",
        "        return keras.initializers.VarianceScaling(1.0, \"fan_in\", \"uniform\", seed=self.seed)(shape, dtype=dtype)",
        "VarianceScaling"),
    "keras.ops in adam_step": (
        "adam_rule", "    s_hat = s_next / (1.0 - rho1 ** step)",
        "    s_hat = np.asarray(keras.ops.divide(s_next, 1.0 - rho1 ** step))", "keras"),
}


@pytest.mark.parametrize("case", sorted(SHORTCUTS))
def test_a_forbidden_shortcut_earns_nothing(case, tmp_path):
    check, old, new, named = SHORTCUTS[case]
    source = LAB.solution_file.read_text()
    assert source.count(old) == 1, old
    (tmp_path / LAB.filename).write_text(source.replace(old, new))
    result = self_check(LAB, tmp_path / LAB.filename, visibility=None, names=[check],
                        alias=f"_optim_shortcut_{check}").by_name()[check]
    assert result.score == 0, (case, result.message)
    assert named in result.message, result.message
