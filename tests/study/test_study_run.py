"""The student's side of a study: run the grid into a table the grader
accepts, keep going past a configuration that fails, and plot the table."""

import types

import pytest

from grader.labs.lab import Lab
from grader.study import plot, run_study, table

from study_lab import make_lab, score


@pytest.fixture()
def lab(tmp_path):
    return Lab.load(make_lab(tmp_path / "kit"))


def run_config(a, b, seed=0):
    return {"score": score(a, b, seed)}


def test_run_study_writes_a_table_the_grader_accepts(lab, tmp_path):
    lines = []
    rows = run_study(run_config, lab, seeds=(0, 1), path=tmp_path / "study.csv", log=lines.append)
    assert len(rows) == 12 and len(lines) == 12 and "[12/12] a = 3, b = high, seed = 1: score = 6" in lines[-1]
    assert table.read(tmp_path, lab.study) == sorted(rows, key=lambda r: r.key(lab.study))


def test_run_study_takes_the_module_or_the_lab_folder(lab, tmp_path):
    module = types.ModuleType("toy")
    module.run_config = run_config
    rows = run_study(module, lab.assignment_dir, path=tmp_path / "study.json", log=lambda _: None)
    assert table.parse((tmp_path / "study.json").read_bytes(), lab.study, "study.json") == rows


def test_a_failing_configuration_is_reported_and_left_out(lab, tmp_path):
    def flaky(a, b, seed=0):
        if (a, b) == (2, "low"):
            raise MemoryError("out of memory")
        return {"score": float("nan")} if (a, b) == (3, "low") else run_config(a, b, seed)

    lines = []
    rows = run_study(flaky, lab, path=tmp_path / "study.csv", log=lines.append)
    assert len(rows) == 4
    assert any("a = 2, b = low, seed = 0: FAILED, MemoryError: out of memory" in line for line in lines)
    assert any("a = 3, b = low, seed = 0: FAILED, ValueError: score is not a finite number" in line for line in lines)
    assert "2 run(s) failed" in lines[-1]
    with pytest.raises(table.TableError, match="no row for a = 2, b = low"):
        table.read(tmp_path, lab.study)


def test_a_todo_left_in_run_config_stops_the_run(lab, tmp_path):
    def unfinished(a, b, seed=0):
        raise NotImplementedError("run_config: train the model")

    lines = []
    with pytest.raises(NotImplementedError, match="train the model"):
        run_study(unfinished, lab, path=tmp_path / "study.csv", log=lines.append)
    assert lines == [] and not (tmp_path / "study.csv").exists()


def test_only_runs_part_of_the_grid(lab, tmp_path):
    rows = run_study(run_config, lab, path=tmp_path / "part.csv", only={"a": [1]}, log=lambda _: None)
    assert [(r.factors["a"], r.factors["b"]) for r in rows] == [(1, "low"), (1, "high")]


def test_a_lab_without_a_study_is_refused(tmp_path):
    folder = make_lab(tmp_path / "kit")
    text = (folder / "lab.toml").read_text()
    (folder / "lab.toml").write_text(text[:text.index("[study]")])
    with pytest.raises(ValueError, match="declares no \\[study\\]"):
        run_study(run_config, folder)


def test_plot_draws_a_metric_by_a_factor(lab, tmp_path):
    run_study(run_config, lab, path=tmp_path / "study.csv", log=lambda _: None)
    path = plot(tmp_path / "study.csv", lab, x="a", y="score", hue="b", path=tmp_path / "score.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="must be a metric"):
        plot(tmp_path / "study.csv", lab, x="a", y="loss")
