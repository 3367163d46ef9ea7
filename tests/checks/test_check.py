"""The check API's defaults (:mod:`grader.checks.check`)."""

from grader.checks.check import Check


def test_check_defaults():
    class MyCheck(Check):
        """First line is the title.

        More text."""

    c = MyCheck()
    assert c.name == "my_check" and c.title == "First line is the title." and c.seed == MyCheck().seed
