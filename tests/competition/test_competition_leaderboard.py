"""Ranks, rank → points rules, a Kaggle leaderboard matched to the course's teams, and points.csv."""

from __future__ import annotations

import csv

import pytest

from grader.competition.leaderboard import (POINTS_HEADER, LeaderboardError, PointsRule, competition_ranks,
                                            import_leaderboard, read_leaderboard, write_points_csv)
from grader.competition.teams import load_teams


def test_ties_share_a_rank_and_the_next_ranks_are_skipped():
    # "1, 2, 2, 4": standard competition ranking; keys are "smaller is better".
    assert competition_ranks([-0.9, -0.8, -0.8, -0.7]) == [1, 2, 2, 4]
    assert competition_ranks([3.0, 1.0, 1.0, 1.0, 2.0]) == [5, 1, 1, 1, 4]
    assert competition_ranks([]) == []


def test_linear_points_from_top_to_bottom_and_the_floor_for_no_entry():
    rule = PointsRule(rule="linear", top=25, bottom=15, floor=10)
    assert [rule.points(r, 5) for r in range(1, 6)] == [25, 22.5, 20, 17.5, 15]
    assert rule.points(1, 1) == 25
    assert rule.points(None, 5) == 10
    assert PointsRule(top=20, floor=5).points(3, 3) == 5  # bottom defaults to the floor
    with pytest.raises(ValueError):
        rule.points(6, 5)


def test_bands_by_the_share_of_teams_ranked_above():
    rule = PointsRule.from_table({"rule": "bands", "bands": [[10, 25], [50, 20], [100, 15]], "floor": 5})
    assert [rule.points(r, 10) for r in (1, 2, 5, 6, 10)] == [25, 20, 20, 15, 15]
    assert rule.points(1, 1) == 25  # a lone team is in the top band
    assert rule.points(None, 10) == 5


@pytest.mark.parametrize("table, message", [
    ({"rule": "bands"}, "needs bands"),
    ({"rule": "bands", "bands": [[10, 25], [90, 20]]}, "last band must be 100"),
    ({"rule": "bands", "bands": [[50, 25], [10, 20], [100, 1]]}, "smallest top percent"),
    ({"rule": "steps"}, "linear"),
    ({"rank": "global"}, "course"),
    ({"tops": 3}, "unknown setting"),
])
def test_a_bad_points_table_is_refused_saying_why(table, message):
    with pytest.raises(ValueError, match=message):
        PointsRule.from_table(table)


@pytest.fixture
def teams(tmp_path):
    path = tmp_path / "teams.csv"
    path.write_text("team,a,b\nDeep Thinkers,s1,s2\n深度学习小组,s3,s4\nNull Pointers,s5\nGhosts,s6,s7\n",
                    encoding="utf-8")
    return load_teams(path)


def leaderboard(tmp_path, text, name="kaggle.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8-sig")  # Kaggle's download may carry a byte-order mark
    return path


def test_a_kaggle_leaderboard_matched_ranked_among_the_course(tmp_path, teams):
    path = leaderboard(tmp_path, "TeamId,TeamName,SubmissionDate,Score\n"
                                 "11,Outsiders Inc,2025-06-01 10:00:00,0.95\n"
                                 "12,ＤＥＥＰ－ｔｈｉｎｋｅｒｓ,2025-06-01 10:00:00,0.91\n"
                                 "13,深度学习 小组!,2025-06-02 10:00:00,0.88\n"
                                 "14,null_pointers,2025-06-02 11:00:00,0.91\n"
                                 "15,Someone Else,2025-06-03 11:00:00,0.50\n")
    rule = PointsRule(top=25, bottom=15, floor=10)
    done = import_leaderboard(path, teams, rule, higher_is_better=True)
    by_team = {r.team.name: r for r in done.results}
    # Deep Thinkers and Null Pointers tie (0.91): both rank 1 among the course, the next is 3.
    assert (by_team["Deep Thinkers"].rank, by_team["Null Pointers"].rank, by_team["深度学习小组"].rank) == (1, 1, 3)
    assert by_team["Deep Thinkers"].points == by_team["Null Pointers"].points == 25
    assert by_team["深度学习小组"].points == 15
    assert by_team["Ghosts"].rank is None and by_team["Ghosts"].points == 10
    assert by_team["Deep Thinkers"].source == "kaggle.csv:line 3"
    assert done.unmatched_leaderboard == ["Outsiders Inc", "Someone Else"]
    assert done.unmatched_teams == ["Ghosts"]
    assert done.size == 5


def test_overall_rank_uses_the_whole_leaderboard(tmp_path, teams):
    path = leaderboard(tmp_path, "Rank,TeamId,TeamName,Score\n1,9,Others,10.0\n2,1,Deep Thinkers,12.5\n"
                                 "2,2,Null Pointers,12.5\n4,3,More Others,20\n5,4,深度学习小组,30\n")
    rule = PointsRule(rank="overall", top=25, bottom=5, floor=0)
    done = import_leaderboard(path, teams, rule, higher_is_better=False)
    by_team = {r.team.name: (r.rank, r.points) for r in done.results}
    assert by_team == {"Deep Thinkers": (2, 20), "Null Pointers": (2, 20), "深度学习小组": (5, 5), "Ghosts": (None, 0)}


def test_lower_scores_rank_first_for_a_lower_is_better_metric_and_a_teams_best_row_counts(tmp_path, teams):
    path = leaderboard(tmp_path, "TeamId,TeamName,SubmissionDate,Score\n"
                                 "1,Deep Thinkers,2025-06-01,40.0\n2,Null Pointers,2025-06-01,35.5\n"
                                 "1,Deep Thinkers,2025-06-02,30.25\n3,深度学习小组,2025-06-01,\n")
    entries, notes = read_leaderboard(path, higher_is_better=False)
    assert [(e.name, e.score, e.rank) for e in entries] == [("Deep Thinkers", 30.25, 1), ("Null Pointers", 35.5, 2)]
    assert any("several rows" in n for n in notes) and any("no score" in n for n in notes)


def test_aliases_fix_a_name_and_two_rows_matching_one_team_are_refused(tmp_path, teams):
    path = leaderboard(tmp_path, "TeamName,Score\nDT (USTC),0.9\nGhosts,0.8\n")
    done = import_leaderboard(path, teams, PointsRule(), higher_is_better=True,
                              aliases={"DT (USTC)": "Deep Thinkers"})
    assert {r.team.name: r.rank for r in done.results}["Deep Thinkers"] == 1
    path = leaderboard(tmp_path, "TeamName,Score\nghosts,0.9\nGHOSTS!,0.8\n")
    with pytest.raises(LeaderboardError, match="lines 2 .* and 3 .* both match team 'Ghosts'"):
        import_leaderboard(path, teams, PointsRule(), higher_is_better=True)
    with pytest.raises(LeaderboardError, match="TeamName column"):
        import_leaderboard(leaderboard(tmp_path, "Name,Points\nx,1\n"), teams, PointsRule(), higher_is_better=True)


def test_points_csv_has_the_exact_header_and_a_row_per_member(tmp_path, teams):
    path = leaderboard(tmp_path, "TeamName,Score\nDeep Thinkers,0.9\nNull Pointers,0.7\n")
    done = import_leaderboard(path, teams, PointsRule(top=25, bottom=15, floor=10), higher_is_better=True)
    out = write_points_csv(done.results, tmp_path / "points.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"student_id,team,rank,points,source\n")
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines()))
    assert tuple(rows[0]) == POINTS_HEADER
    assert [(r["student_id"], r["team"], r["rank"], r["points"], r["source"]) for r in rows] == [
        ("s1", "Deep Thinkers", "1", "25", "kaggle.csv:line 2"), ("s2", "Deep Thinkers", "1", "25", "kaggle.csv:line 2"),
        ("s3", "深度学习小组", "", "10", "no entry"), ("s4", "深度学习小组", "", "10", "no entry"),
        ("s5", "Null Pointers", "2", "15", "kaggle.csv:line 3"),
        ("s6", "Ghosts", "", "10", "no entry"), ("s7", "Ghosts", "", "10", "no entry")]
