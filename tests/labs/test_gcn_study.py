"""The GCN lab's study (the chapter-8 homework): the declaration in
``lab.toml`` matches the reference's ``run_config``, the reference's table
is a valid, complete table, ``run_config`` runs on PPI's file format and
repeats itself for a seed, and (full tier) the effects the handout reports
are larger than the spread between seeds."""

import sys
from pathlib import Path

import numpy as np
import pytest

from grader.labs.lab import Lab, load_submission
from grader.study import table

LAB = Lab.load("gcn")
STUDY = LAB.study


@pytest.fixture(scope="module")
def ref():
    from grader.device import configure

    configure()
    return load_submission(LAB.solution_file, "gcn", alias="_gcn_study_reference")


def test_the_declared_grid():
    # run_config's signature against the factors: tests/labs/test_lab_studies.py.
    assert STUDY.function == "run_config" and STUDY.metrics == ("score",)
    # The default grid needs only what the bundle ships (the Planetoid files); PPI is documented.
    assert STUDY.factors["dataset"] == ("cora", "citeseer")
    assert STUDY.configurations == 192


def test_the_reference_table_is_complete_and_valid():
    rows = table.read(LAB.solution_dir, STUDY)
    assert len(rows) == STUDY.configurations
    assert {r.seed for r in rows} == {0}
    assert all(0.0 <= r.metrics["score"] <= 1.0 for r in rows)
    by = {tuple(r.factors.values()): r.metrics["score"] for r in rows}
    # The reference's Kipf run on Cora (the graded check's 0.81) and its link AUC (about 0.9).
    assert by[("node", "cora", True, 2, 0.0, False, "relu")] > 0.78
    assert by[("link", "cora", True, 2, 0.0, False, "relu")] > 0.85
    # Kipf's run on Citeseer (the paper's 0.703) and the deep ReLU GCN's collapse there too.
    assert by[("node", "citeseer", True, 2, 0.0, False, "relu")] > 0.69
    assert by[("node", "citeseer", True, 8, 0.0, False, "relu")] < 0.6


def test_the_report_and_the_rubric_are_there():
    assert (LAB.solution_dir / STUDY.report).is_file()
    assert 3 <= len(STUDY.rubric) <= 5 and STUDY.reproduce == 2


@pytest.fixture
def tiny_ppi(tmp_path, monkeypatch):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))  # the PPI tests' file writer
    from test_data_ppi import write_graphsage

    write_graphsage(tmp_path)
    monkeypatch.setenv("DLKIT_DATA", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("task", ["node", "link"])
def test_run_config_runs_on_ppi_files_and_repeats_for_a_seed(ref, tiny_ppi, monkeypatch, task):
    # A few epochs: this checks the inductive, multi-label path, not what it learns.
    for part in ("node", "link"):
        monkeypatch.setitem(ref.STUDY_CONFIG, part, {**ref.STUDY_CONFIG[part], "epochs": 3})
    factors = dict(task=task, dataset="ppi", self_loops=True, depth=2, dropedge=0.5, pairnorm=True,
                   activation="relu")
    first = ref.run_config(**factors, seed=3)
    assert set(first) == {"score"} and 0.0 <= first["score"] <= 1.0
    assert ref.run_config(**factors, seed=3) == first


def test_run_config_refuses_an_unknown_task(ref, tiny_ppi):
    with pytest.raises(ValueError, match="task must be"):
        ref.run_config("graph", "ppi", True, 2, 0.0, False, "relu", seed=0)


#: The strongest effects of the calibration (README's study section), each
#: as (factors where it shows, the factor, its two levels): the mean score of
#: the two levels over 3 seeds must differ by more than 3 times the larger
#: of their two seed spreads (standard deviations).
EFFECTS = [
    (dict(task="link", self_loops=True, depth=8, dropedge=0.0, activation="relu"), "pairnorm", (False, True)),
    (dict(task="node", self_loops=True, depth=2, dropedge=0.0, activation="relu"), "pairnorm", (False, True)),
    (dict(task="link", self_loops=True, dropedge=0.0, pairnorm=False, activation="relu"), "depth", (2, 8)),
]


@pytest.mark.full
@pytest.mark.parametrize("where, factor, levels", EFFECTS, ids=["pairnorm-link-depth8", "pairnorm-node-depth2", "depth-link"])
def test_the_strongest_effects_exceed_the_seed_spread(ref, where, factor, levels):
    scores = {level: [ref.run_config(**{"dataset": "cora", **where, factor: level}, seed=s)["score"]
                      for s in range(3)] for level in levels}
    effect = abs(np.mean(scores[levels[1]]) - np.mean(scores[levels[0]]))
    spread = max(np.std(v, ddof=1) for v in scores.values())
    assert effect > 3 * spread, (scores, effect, spread)
