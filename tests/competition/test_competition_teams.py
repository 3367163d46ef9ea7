"""The teams file: a valid one read, every kind of bad row named."""

from __future__ import annotations

import pytest

from grader.competition.teams import TeamsError, load_teams, normalise_name
from grader.roster import load_roster


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("学号,姓名,email\nPB001,张三,zhang@mail.ustc.edu.cn\nPB002,李四,li@mail.ustc.edu.cn\n"
                    "PB003,王五,wang@mail.ustc.edu.cn\nPB004,赵六,zhao@mail.ustc.edu.cn\nPB005,钱七,qian@x.cn\n",
                    encoding="utf-8")
    return load_roster(path)


def write(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "teams.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_a_valid_file_with_header_gbk_names_and_members_by_email(tmp_path, roster):
    path = write(tmp_path, "队名,成员1,成员2\n深度思考,PB001,li@mail.ustc.edu.cn\nSolo,PB003\n"
                           "\"Pair, Two\",\"PB004;PB005\"\n", "gbk")
    teams = load_teams(path, roster=roster)
    assert [(t.name, t.members) for t in teams] == [("深度思考", ("PB001", "PB002")), ("Solo", ("PB003",)),
                                                     ("Pair, Two", ("PB004", "PB005"))]
    assert teams.find("pair two").name == "Pair, Two"
    assert teams.of_student("PB002").name == "深度思考"


def test_every_problem_is_named_with_its_line(tmp_path, roster):
    path = write(tmp_path, "team,members\n"
                           "Alpha,PB001,PB002\n"          # line 2
                           "Beta,PB002,PB003\n"           # 3: PB002 again
                           "Gamma,PB003,PB004,PB005\n"    # 4: three members (and PB003 again)
                           "ＡＬＰＨＡ,PB999\n"            # 5: the same name, full-width; PB999 unknown
                           ",PB005\n")                    # 6: no name
    with pytest.raises(TeamsError) as caught:
        load_teams(path, roster=roster)
    problems = caught.value.problems
    text = "\n".join(problems)
    assert "teams.csv line 3: student PB002 is in team 'Beta' and in team 'Alpha' (line 2)" in text
    assert "teams.csv line 4: team 'Gamma' has 3 members; a team has at most 2" in text
    assert "teams.csv line 4: student PB003 is in team 'Gamma' and in team 'Beta' (line 3)" in text
    assert "teams.csv line 5: 'PB999' of team 'ＡＬＰＨＡ' is not on the roster" in text
    assert "teams.csv line 5: team name 'ＡＬＰＨＡ' is already used on line 2" in text
    assert "teams.csv line 6: the team has no name" in text
    assert len(problems) == 6


def test_the_team_size_is_configurable(tmp_path, roster):
    path = write(tmp_path, "Trio,PB001,PB002,PB003\n")
    assert load_teams(path, roster=roster, size=3).teams[0].members == ("PB001", "PB002", "PB003")
    with pytest.raises(TeamsError, match="at most 2"):
        load_teams(path, roster=roster)


def test_without_a_roster_ids_are_taken_as_written(tmp_path):
    path = write(tmp_path, "A,s1,s2\nB,s3\n")
    assert [t.members for t in load_teams(path)] == [("s1", "s2"), ("s3",)]
    with pytest.raises(TeamsError, match="'s1' is listed twice"):
        load_teams(write(tmp_path, "A,s1,s1\n"))


def test_names_are_normalised_for_case_width_spaces_and_punctuation():
    assert normalise_name("Ｄｅｅｐ-Thinkers ") == normalise_name("deep thinkers") == "deepthinkers"
    assert normalise_name("深度　学习！") == normalise_name("深度学习") == "深度学习"
    assert normalise_name("Team_42.") == "team42"
    assert normalise_name("Team 42") != normalise_name("Team 43")
