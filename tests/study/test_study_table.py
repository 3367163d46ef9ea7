"""Reading and validating a handed-in study table: a good one in any of the
forms a student's tools write, a bad one refused with what is wrong, where."""

import json

import pytest

from grader.labs.study import Study
from grader.study import table
from grader.study.table import TableError

STUDY = Study.from_toml({
    "function": "run_config", "metrics": ["score"], "tolerance": {"score": 0.01},
    "factors": {"depth": [1, 2, 4], "act": ["relu", "tanh"]},
})
GOOD = "depth,act,seed,score\n" + "".join(
    f"{d},{a},0,{d / 10}\n" for d in (1, 2, 4) for a in ("relu", "tanh"))


def test_a_complete_table_is_read_in_grid_order():
    rows = table.parse(GOOD.encode(), STUDY)
    assert [(r.factors["depth"], r.factors["act"]) for r in rows] == [
        (1, "relu"), (1, "tanh"), (2, "relu"), (2, "tanh"), (4, "relu"), (4, "tanh")]
    assert rows[0].metrics == {"score": 0.1} and rows[0].seed == 0


def test_excel_and_json_tables_are_read_alike():
    with_bom = ("\ufeff" + GOOD.replace("\n", "\r\n").replace("4,", "4.0,")).encode("utf-8")
    records = [{"depth": d, "act": a, "seed": 0, "score": d / 10} for d in (1, 2, 4) for a in ("relu", "tanh")]
    want = table.parse(GOOD.encode(), STUDY)
    assert table.parse(with_bom, STUDY) == want
    assert table.parse(json.dumps(records).encode(), STUDY, "study.json") == want
    assert table.parse(json.dumps({"rows": records}).encode(), STUDY, "study.json") == want


def test_write_then_read_round_trips(tmp_path):
    rows = table.parse(GOOD.encode(), STUDY)
    for name in ("study.csv", "study.json"):
        table.write(rows, STUDY, tmp_path / name)
        assert table.parse((tmp_path / name).read_bytes(), STUDY, name) == rows


@pytest.mark.parametrize("text, words", [
    (GOOD.replace("score", "accuracy"), "study.csv has no column score"),
    (GOOD.replace("4,relu", "5,relu"), "study.csv row 5: depth = 5 is not a level of depth (1, 2, 4)"),
    (GOOD.replace("0.4\n", "nan\n", 1), "row 5: score = nan is not a finite number"),
    (GOOD.replace("0.4\n", "\n", 1), "row 5: score = (empty) is not a finite number"),
    (GOOD.replace("1,tanh", "1,relu"), "row 2: depth = 1, act = relu, seed = 0 is already row 1"),
    ("".join(GOOD.splitlines(keepends=True)[:-1]), "no row for depth = 4, act = tanh"),
    (GOOD.replace(",0,", ",-1,", 1), "row 1: seed = -1 is not a whole number"),
    ("\x89PNG\r\n\x1a\n\0\0\0", "not a CSV file"),
    ("", "is empty"),
    ("depth,act\n1,relu,0,3\n", "line 2 has 4 cells"),
])
def test_a_malformed_table_says_what_is_wrong(text, words):
    with pytest.raises(TableError) as info:
        table.parse(text.encode("latin-1"), STUDY)
    assert words in str(info.value)


def test_bad_json_and_a_missing_file_are_refused(tmp_path):
    with pytest.raises(TableError, match="not valid JSON"):
        table.parse(b"{", STUDY, "study.json")
    with pytest.raises(TableError, match="list of rows"):
        table.parse(b'{"a": 1}', STUDY, "study.json")
    with pytest.raises(TableError, match="no study.csv handed in"):
        table.read(tmp_path, STUDY)
    (tmp_path / "elsewhere.csv").write_text(GOOD)
    (tmp_path / "study.csv").symlink_to(tmp_path / "elsewhere.csv")
    with pytest.raises(TableError, match="no study.csv handed in"):
        table.read(tmp_path, STUDY)


def test_an_oversized_table_is_refused_unparsed():
    with pytest.raises(TableError, match="larger than"):
        table.parse(b"x" * (table.MAX_BYTES + 1), STUDY)


def test_many_problems_are_listed_then_counted():
    text = "depth,act,seed,score\n" + "9,relu,0,1\n" * 30
    with pytest.raises(TableError) as info:
        table.parse(text.encode(), STUDY)
    assert len(info.value.problems) == 30 and "and 18 more problem(s)" in str(info.value)
