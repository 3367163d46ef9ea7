"""The CNN lab's study: the starter leaves it to the student, the
reference's table is a valid hand-in whose effects the handout quotes, and
(full tier) the factors the handout calls strong beat the seed spread (what
every study must satisfy: test_lab_studies.py)."""

import numpy as np
import pytest

from grader.labs.lab import Lab, load_submission
from grader.study import table


@pytest.fixture(scope="module")
def lab():
    return Lab.load("cnn")


@pytest.fixture(scope="module")
def reference(lab):
    return load_submission(lab.solution_file, lab.module, alias="_ref_cnn_study")


def test_the_starter_leaves_the_study_to_the_student(lab):
    starter = lab.starter_file.read_text()
    for name in ("ablation_cnn", "run_config"):
        body = starter.split(f"def {name}(", 1)[1].split("\ndef ", 1)[0]
        assert "raise NotImplementedError" in body, name


def test_the_reference_table_is_a_valid_hand_in(lab):
    study = lab.study
    rows = table.read(lab.solution_dir, study)
    assert len(rows) == study.configurations
    assert {r.seed for r in rows} == {0}
    accuracies = np.array([r.metrics["test_accuracy"] for r in rows])
    assert np.all((0.0 <= accuracies) & (accuracies <= 1.0))
    # Not one number everywhere: the configurations differ.
    assert accuracies.max() - accuracies.min() > 0.1
    assert (lab.solution_dir / study.report).is_file()


def _main_effect(rows, factor, levels, metric="test_accuracy"):
    """Mean of ``metric`` at each of ``factor``'s levels, over the rest of the grid."""
    means = [np.mean([r.metrics[metric] for r in rows if r.factors[factor] == level]) for level in levels]
    return dict(zip(levels, means))


def test_the_handouts_effects_are_those_of_the_reference_table(lab):
    """The README quotes the reference table's main effects: in a 3-epoch
    budget, dropout and learning-rate decay lower the test accuracy most
    (both slow training down), and normalization is the one factor that
    raises it."""
    rows = table.read(lab.solution_dir, lab.study)
    effects = {f: np.diff(list(_main_effect(rows, f, levels).values()))[0] for f, levels in lab.study.factors.items()}
    strongest = sorted(effects, key=lambda f: -abs(effects[f]))[:2]
    assert set(strongest) == {"dropout", "lr_decay"}
    assert effects["dropout"] < -0.1 and effects["lr_decay"] < -0.1
    assert effects["normalization"] > 0.05
    assert [f for f, e in effects.items() if e > 0] == ["normalization"]


def _accuracies(reference, config, seeds=(0, 1, 2)):
    return np.array([reference.run_config(**config, seed=s)["test_accuracy"] for s in seeds])


@pytest.mark.full
@pytest.mark.parametrize("factor, base, level", [
    ("lr_decay", {"dropout": 0.0, "normalization": False, "residual": False, "depth": 2}, True),
    ("dropout", {"normalization": True, "lr_decay": False, "residual": False, "depth": 8}, 0.5),
])
def test_the_strongest_factors_beat_the_seed_spread(reference, factor, base, level):
    """Each of the two strongest factors, switched alone from a configuration
    where the table shows it, over 3 seeds: the gap between the levels' mean
    test accuracies is larger than either level's spread across seeds, and
    has the table's sign (both lower the accuracy)."""
    without = _accuracies(reference, {**base, factor: {"lr_decay": False, "dropout": 0.0}[factor]})
    with_it = _accuracies(reference, {**base, factor: level})
    spread = max(without.std(ddof=1), with_it.std(ddof=1))
    assert without.mean() - with_it.mean() > spread, (without, with_it)
