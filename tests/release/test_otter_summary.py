"""Otter's grading summary has no row without points ("Public Tests NaN NaN")."""

from otter.run.run_autograder.autograder_config import AutograderConfig
from otter.test_files import GradingResults

from grader.labs.lab import Lab
from grader.release.otter_bundle import otter_config


def test_otter_reports_no_public_tests_row_without_points():
    config = otter_config(Lab.load("cnn"))
    rows = GradingResults([]).to_gradescope_dict(AutograderConfig(config))["tests"]
    assert [r for r in rows if "score" not in r] == []
    # otter's default would add it: the setting is what keeps it out
    default = GradingResults([]).to_gradescope_dict(AutograderConfig({**config, "force_public_test_summary": True}))
    assert [r["name"] for r in default["tests"] if "score" not in r] == ["Public Tests"]
