"""A release note about a hidden check name the leak scan cannot look for says
where that word ships, so the instructor can judge it."""

from grader.labs.lab import Lab
from grader.release import leaks


def test_an_exempt_name_is_located_in_the_shipped_files():
    lab = Lab.load("cnn")
    assert "dropout" in leaks.hidden_names(lab)[1]
    where = leaks.shipped_word_location(lab, "dropout")
    path, line = where.rsplit(":", 1)
    assert path == "starter/cnn/cnn.py"
    text = (lab.starter_dir.parent.parent / path).read_text().splitlines()[int(line) - 1]
    assert "dropout" in text
    assert leaks.shipped_word_location(lab, "no_such_word_anywhere_xyz") == ""
    public = lab.checks("public")[0]
    assert leaks.shipped_word_location(lab, public.name) == f"the public check {public.name}"
