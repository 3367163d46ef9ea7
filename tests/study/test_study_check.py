"""The ``study`` check: a handed-in table is re-run, in part, with the
handed-in code, and judged row by row; a forged, broken or missing table
is caught with a message, and grading one submission twice draws the same rows."""

import numpy as np
import pytest

from grader.core.grading import select, self_check, submission_inputs
from grader.core.results import Status
from grader.labs.lab import Lab
from grader.study.check import FAILED, NOT_REPRODUCED, REPRODUCED

from study_lab import make_lab, make_submission


def _lab(tmp_path, **kwargs) -> Lab:
    return Lab.load(make_lab(tmp_path / "kit", **kwargs))


def _study(result):
    return next(c for c in result.checks if c.name == "study")


def test_the_study_is_a_check_of_its_own(tmp_path):
    lab = _lab(tmp_path)
    study = [c for c in select(lab) if c.name == "study"]
    assert len(study) == 1 and study[0].kind == "study" and study[0].points == 2
    assert "study" not in [c.name for c in select(lab, visibility="hidden")]


def test_an_honest_table_is_reproduced(tmp_path):
    lab = _lab(tmp_path)
    result = self_check(lab, make_submission(tmp_path / "alice"))
    check = _study(result)
    assert check.status is Status.PASSED and check.score == 2
    rows = check.extra["study"]
    assert len(rows) == 2 and {r["verdict"] for r in rows} == {REPRODUCED}
    assert set(rows[0]) == {"factors", "seed", "claimed", "rerun", "verdict", "message"}
    assert rows[0]["rerun"]["score"] == pytest.approx(rows[0]["claimed"]["score"])


def test_a_forged_row_is_not_reproduced_with_both_numbers(tmp_path):
    lab = _lab(tmp_path, reproduce=6)  # every row drawn: the forged one too
    forged = make_submission(tmp_path / "bob", forge=lambda a, b, s: 9.5 if (a, b) == (2, "high") else s)
    check = _study(self_check(lab, forged))
    assert check.status is Status.PARTIAL and check.score == pytest.approx(2 * 5 / 6)
    bad = [r for r in check.extra["study"] if r["verdict"] != REPRODUCED]
    assert len(bad) == 1 and bad[0]["verdict"] == NOT_REPRODUCED and bad[0]["factors"] == {"a": 2, "b": "high"}
    assert "claimed 9.5, re-run 4" in bad[0]["message"]
    assert "a = 2, b = high, seed = 0: not reproduced (score: claimed 9.5, re-run 4" in check.message


@pytest.mark.parametrize("table, words", [
    (False, "no study.csv handed in"),
    ("a,b,seed\n1,low,0\n", "study.csv has no column score"),
    ("a,b,seed,score\n5,low,0,1\n", "study.csv row 1: a = 5 is not a level of a (1, 2, 3)"),
    ("a,b,seed,score\n" + "".join(f"{a},{b},0,nan\n" for a in (1, 2, 3) for b in ("low", "high")), "is not a finite"),
    ("a,b,seed,score\n1,low,0,0.5\n", "study.csv has no row for a = 1, b = high"),
    ("a,b,seed,score\n1,low,0,0.5\n1,low,0,0.5\n", "row 2: a = 1, b = low, seed = 0 is already row 1"),
    ("\0\0\0binary", "not a CSV file"),
])
def test_a_malformed_table_earns_nothing_and_says_why(tmp_path, table, words):
    lab = _lab(tmp_path)
    result = self_check(lab, make_submission(tmp_path / "carol", table=table))
    check = _study(result)
    assert check.status is Status.FAILED and check.score == 0 and words in check.message
    assert check.extra["study"] == []
    assert next(c for c in result.checks if c.name == "present").status is Status.PASSED  # the rest still graded


def test_a_row_that_raises_or_hangs_fails_alone(tmp_path):
    lab = _lab(tmp_path, reproduce=6, budget=1)
    extra = """
    if (a, b) == (1, "high"):
        raise ValueError("no memory left")
    if (a, b) == (3, "low"):
        time.sleep(60)
    """
    check = _study(self_check(lab, make_submission(tmp_path / "dan", extra=extra)))
    verdicts = {(r["factors"]["a"], r["factors"]["b"]): r for r in check.extra["study"]}
    assert verdicts[1, "high"]["verdict"] == FAILED and "ValueError: no memory left" in verdicts[1, "high"]["message"]
    assert verdicts[3, "low"]["verdict"] == FAILED
    assert "took longer than its limit of 1s" in verdicts[3, "low"]["message"]
    assert verdicts[3, "low"]["rerun"] is None
    assert sum(r["verdict"] == REPRODUCED for r in verdicts.values()) == 4
    assert check.score == pytest.approx(2 * 4 / 6)


def _drawn(lab, folder, salt=None):
    chk = next(c for c in select(lab) if c.name == "study")
    if salt is not None:
        chk.salt = salt
    made, missing = submission_inputs(lab, [chk], folder)
    assert not missing
    return [(r["factors"]["a"], r["factors"]["b"]) for r in made["study"].public["rows"]]


def test_the_draw_is_stable_per_submission_and_differs_between_them(tmp_path):
    lab = _lab(tmp_path)
    folders = [make_submission(tmp_path / f"s{i}", comment=f"# student {i}\n") for i in range(8)]
    first = [_drawn(lab, f) for f in folders]
    assert first == [_drawn(lab, f) for f in folders]
    assert len(set(map(tuple, first))) > 1
    by_salt = {tuple(_drawn(lab, folders[0], salt=bytes([i]) * 32)) for i in range(8)}
    assert len(by_salt) > 1


def test_grading_twice_gives_the_same_rows_and_score(tmp_path):
    lab = _lab(tmp_path)
    folder = make_submission(tmp_path / "erin", forge=lambda a, b, s: s + 1 if b == "low" else s)
    one, two = _study(self_check(lab, folder)), _study(self_check(lab, folder))
    assert one.extra["study"] == two.extra["study"] and one.score == two.score


def test_the_claims_stay_on_the_trusted_side(tmp_path):
    lab = _lab(tmp_path, reproduce=6)
    chk = next(c for c in select(lab) if c.name == "study")
    made, _ = submission_inputs(lab, [chk], make_submission(tmp_path / "fay"))
    public = made["study"].public
    assert set(public) == {"function", "rows", "budget"}
    assert all(set(r) == {"factors", "seed"} for r in public["rows"]) and len(public["rows"]) == 6
    assert len(made["study"].secret["claimed"]) == 6


def test_inputs_for_draws_with_the_rng_given(tmp_path):
    lab = _lab(tmp_path)
    chk = next(c for c in select(lab) if c.name == "study")
    folder = make_submission(tmp_path / "gus")
    draws = {tuple(map(str, chk.inputs_for(folder, np.random.default_rng(s)).public["rows"])) for s in range(10)}
    assert len(draws) > 1


def test_a_lab_with_a_study_keeps_its_anatomy_and_ships_it(tmp_path):
    from grader.labs import anatomy
    from grader.release.contents import student_lab_toml

    lab = _lab(tmp_path)
    assert anatomy.problems(lab) == []
    assert "[study]" in student_lab_toml(lab) and "[study.factors]" in student_lab_toml(lab)


def test_a_lab_check_may_not_take_the_study_s_name(tmp_path):
    folder = make_lab(tmp_path / "kit")
    public = folder / "checks" / "public.py"
    public.write_text(public.read_text().replace('"The module defines run_config."',
                                                 '"The module defines run_config."\n    name = "study"'))
    with pytest.raises(KeyError, match="no check of its own may be named 'study'"):
        select(Lab.load(folder))
