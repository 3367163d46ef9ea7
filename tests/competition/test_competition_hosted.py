"""The in-class competition: the split, submitting, the daily limit, malformed
and late files, the final rule, the pages (no private score before the
deadline), points.csv, the database's migrations and the command line."""

from __future__ import annotations

import csv
import datetime
import re
import sqlite3
import zoneinfo

import pytest

from grader.cli import main
from grader.competition import config, hosted, pages
from grader.competition.hosted import CompetitionNotOver, SubmissionRefused
from grader.competition.leaderboard import write_points_csv
from grader.competition.store import MIGRATIONS, Store, StoreError, migrate, schema_version

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CLASSES = ("猫", "狗", "鸟")


def at(text: str) -> datetime.datetime:
    """A time in Shanghai."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


BEFORE, AFTER = at("2030-06-20 12:00"), at("2030-06-21 00:00")


@pytest.fixture
def comp(tmp_path):
    folder = tmp_path / "signs"
    folder.mkdir()
    (folder / "roster.csv").write_text("id,name\n" + "".join(f"s{i},S{i}\n" for i in range(1, 8)), encoding="utf-8")
    (folder / "teams.csv").write_text("team,a,b\nDeep Thinkers,s1,s2\n深度学习小组,s3,s4\nNull Pointers,s5\n"
                                      "Ghosts,s6,s7\n", encoding="utf-8")
    rows = "".join(f"t{i:03d},{CLASSES[i % 3]}\n" for i in range(1, 41))
    (folder / "labels.csv").write_text("id,sign\n" + rows, encoding="utf-8")
    (folder / "competition.toml").write_text("""
[competition]
title = "Isolated signs"
metric = "accuracy"
teams = "teams.csv"
roster = "roster.csv"
labels = "labels.csv"
id_column = "id"
target_column = "sign"
public_fraction = 0.3
split_seed = "test-term"
deadline = "2030-06-20 23:59"
daily_limit = 2

[points]
rule = "linear"
top = 25
bottom = 15
floor = 10
""", encoding="utf-8")
    return config.load(folder)


def predictions(comp, right) -> bytes:
    """A prediction file: the true class where ``right(index, public)`` holds, a wrong one elsewhere."""
    answer = hosted.load_answer(comp)
    lines = ["id,sign"]
    for index, (i, truth) in enumerate(zip(answer.ids, answer.truth)):
        guess = truth if right(index, bool(answer.public[index])) else CLASSES[(CLASSES.index(truth) + 1) % 3]
        lines.append(f"{i},{guess}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_the_split_is_seeded_stable_and_stratified(comp):
    answer = hosted.load_answer(comp)
    assert answer.public.sum() == 12  # 30 % of each class of 13, 13 and 14 rows: 4 + 4 + 4
    for label in CLASSES:
        in_class = [t == label for t in answer.truth]
        assert 0 < sum(p for p, c in zip(answer.public, in_class) if c) < sum(in_class)
    public_ids = {i for i, p in zip(answer.ids, answer.public) if p}
    shuffled = list(zip(answer.ids, answer.truth))[::-1]
    again = hosted.split([i for i, _ in shuffled], [t for _, t in shuffled], 0.3, "test-term")
    assert {i for (i, _), p in zip(shuffled, again) if p} == public_ids
    other = hosted.split(list(answer.ids), list(answer.truth), 0.3, "another-term")
    assert {i for i, p in zip(answer.ids, other) if p} != public_ids


def test_a_submission_is_scored_on_both_parts_and_shows_only_the_public_score(comp):
    data = predictions(comp, lambda index, public: public or index % 2 == 0)
    out = hosted.submit(comp, "deep thinkers", data, "p.csv", now=BEFORE)
    assert out.accepted and out.public_score == 1.0 and out.private_score is None
    assert out.message == "submission 1 scored: public accuracy 1 (1 of 2 today)"
    with Store(comp.database) as store:
        (stored,) = store.submissions()
        assert store.content(stored.id) == data
    answer = hosted.load_answer(comp)
    private_right = sum(1 for index, p in enumerate(answer.public) if not p and index % 2 == 0)
    assert stored.team == "Deep Thinkers" and stored.private_score == pytest.approx(private_right / 28)
    assert stored.submitted_at == BEFORE and not stored.late
    with pytest.raises(SubmissionRefused, match="no team called 'Nobody'"):
        hosted.submit(comp, "Nobody", data, "p.csv", now=BEFORE)
    # Windows line endings are fine.
    windows = data.replace(b"\n", b"\r\n")
    assert hosted.submit(comp, "Ghosts", windows, "w.csv", now=BEFORE).public_score == 1.0


def test_a_competition_toml_that_cannot_be_used_says_which_setting(comp):
    path = comp.folder / "competition.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('split_seed = "test-term"\n', ""), encoding="utf-8")
    with pytest.raises(config.CompetitionConfigError, match="needs split_seed"):
        config.load(comp.folder)
    path.write_text(text.replace('"accuracy"', '"top5"'), encoding="utf-8")
    with pytest.raises(config.CompetitionConfigError, match="unknown metric 'top5'"):
        config.load(comp.folder)
    path.write_text(text.replace('"2030-06-20 23:59"', '"June 20th"'), encoding="utf-8")
    with pytest.raises(config.CompetitionConfigError, match="deadline = 'June 20th'"):
        config.load(comp.folder)
    assert comp.timezone.key == "Asia/Shanghai" and comp.deadline == at("2030-06-20 23:59")


def malformed_files(comp):
    good = predictions(comp, lambda index, public: True).decode("utf-8")
    lines = good.splitlines()
    return {
        "empty": (b"", "the file is empty"),
        "byte-order mark": (b"\xef\xbb\xbf" + good.encode("utf-8"), "byte-order mark"),
        "GBK": (good.encode("gbk"), "GBK"),
        "column names": (good.replace("id,sign", "ID,label", 1).encode(), "must be exactly 'id,sign'"),
        "semicolons": (good.replace(",", ";").encode(), "separate the columns with commas"),
        "duplicate row": ("\n".join(lines + [lines[1]]).encode(), f"id {lines[1].split(',')[0]} appears twice"),
        "missing row": ("\n".join(lines[:-1]).encode(), "1 id(s) of the test set have no row: t040"),
        "unknown id": ("\n".join(lines + ["t999,猫"]).encode(), "not in the test set: t999"),
        "NaN": ("\n".join(lines[:-1] + ["t040,nan"]).encode(), "'nan' (id t040) is not one of the classes"),
        "empty prediction": ("\n".join(lines[:-1] + ["t040,"]).encode(), "no prediction for id t040"),
    }


def test_malformed_files_say_what_to_fix_and_do_not_count_against_the_daily_limit(comp):
    for kind, (data, hint) in malformed_files(comp).items():
        out = hosted.submit(comp, "Ghosts", data, f"{kind}.csv", now=BEFORE)
        assert not out.accepted, kind
        assert hint in out.message, (kind, out.message)
        assert out.message.startswith("not scored, and not counted against your daily limit")
    good = predictions(comp, lambda index, public: True)
    assert [hosted.submit(comp, "Ghosts", good, "ok.csv", now=BEFORE).accepted for _ in range(3)] == [True, True, False]
    with Store(comp.database) as store:
        assert len(store.submissions("Ghosts")) == 2
        reasons = [reason for _, _, reason in store.rejections("Ghosts")]
    assert len(reasons) == len(malformed_files(comp)) + 1 and reasons[-1] == "daily limit"


def test_a_number_metric_refuses_nan_and_text(comp):
    from grader.competition.predictions import MalformedPredictions, read_predictions

    for cell, hint in (("nan", "is nan (write a finite number)"), ("inf", "is inf"), ("abc", "'abc', not a number")):
        with pytest.raises(MalformedPredictions, match=re.escape(hint)):
            read_predictions(f"id,y\n1,0.5\n2,{cell}\n".encode(), id_column="id", target_column="y", kind="number",
                             ids=["1", "2"])


def test_the_daily_limit_counts_days_in_the_competitions_time_zone(comp):
    good = predictions(comp, lambda index, public: True)
    # 15:30 and 16:30 UTC fall on one UTC day but on two days in Shanghai (UTC+8).
    utc = datetime.timezone.utc
    first_day = [datetime.datetime(2030, 6, 10, 15, m, tzinfo=utc) for m in (0, 30)]
    for when in first_day:
        assert hosted.submit(comp, "Null Pointers", good, "a.csv", now=when).accepted
    refused = hosted.submit(comp, "Null Pointers", good, "a.csv", now=datetime.datetime(2030, 6, 10, 15, 59, tzinfo=utc))
    assert not refused.accepted and "the next day begins at 2030-06-11 00:00 CST" in refused.message
    assert hosted.submit(comp, "Null Pointers", good, "a.csv", now=datetime.datetime(2030, 6, 10, 16, 30, tzinfo=utc)).accepted
    # Another team's limit is its own.
    assert hosted.submit(comp, "Ghosts", good, "a.csv", now=first_day[0]).accepted


def test_a_late_submission_is_kept_scored_and_never_ranked(comp):
    good = predictions(comp, lambda index, public: True)
    weak = predictions(comp, lambda index, public: index % 3 == 0)
    assert hosted.submit(comp, "Deep Thinkers", weak, "on-time.csv", now=BEFORE).accepted
    late = hosted.submit(comp, "Deep Thinkers", good, "late.csv", now=at("2030-06-21 08:00"))
    assert late.accepted and late.late and late.private_score == 1.0 and "after the deadline" in late.message
    assert hosted.submit(comp, "Ghosts", good, "late.csv", now=at("2030-06-20 23:59:30")).late
    assert not hosted.submit(comp, "Ghosts", good, "last.csv", now=at("2030-06-20 23:59")).late
    results, rows = hosted.final_results(comp, now=AFTER + datetime.timedelta(days=1))
    by_team = {r.team: r for r in rows}
    assert by_team["Deep Thinkers"].private_score < 1.0 and by_team["Deep Thinkers"].entries == 1
    assert by_team["Ghosts"].rank == 1 and by_team["Ghosts"].entries == 1
    assert [r.team for r in hosted.public_standings(comp)] == ["Ghosts", "Deep Thinkers"]


def test_the_final_score_is_the_chosen_submission_or_else_the_best_public_one(comp):
    # 1: perfect on the public part, poor on the private one; 2: the reverse.
    overfit = predictions(comp, lambda index, public: public)
    steady = predictions(comp, lambda index, public: not public or index % 4 == 0)
    first = hosted.submit(comp, "Deep Thinkers", overfit, "a.csv", now=BEFORE).submission_id
    second = hosted.submit(comp, "Deep Thinkers", steady, "b.csv", now=BEFORE).submission_id
    _, rows = hosted.final_results(comp, now=AFTER)
    assert (rows[0].team, rows[0].submission_id, rows[0].private_score, rows[0].chosen) == ("Deep Thinkers", first, 0.0, False)
    assert hosted.choose(comp, "Deep Thinkers", [second, first], now=BEFORE) == sorted([first, second])
    _, rows = hosted.final_results(comp, now=AFTER)
    assert (rows[0].submission_id, rows[0].private_score, rows[0].chosen) == (second, 1.0, True)
    with pytest.raises(SubmissionRefused, match="at most 2"):
        hosted.choose(comp, "Deep Thinkers", [1, 2, 3], now=BEFORE)
    with pytest.raises(SubmissionRefused, match="not scored submissions of team 深度学习小组"):
        hosted.choose(comp, "深度学习小组", [first], now=BEFORE)
    with pytest.raises(SubmissionRefused, match="the competition is over"):
        hosted.choose(comp, "Deep Thinkers", [first], now=AFTER)


def test_equal_final_scores_share_a_rank_and_points_csv_lists_every_student(comp, tmp_path):
    good = predictions(comp, lambda index, public: index % 2 == 0)
    worse = predictions(comp, lambda index, public: index % 3 == 0)
    for team, data in (("Deep Thinkers", good), ("深度学习小组", good), ("Null Pointers", worse)):
        hosted.submit(comp, team, data, "p.csv", now=BEFORE)
    with pytest.raises(CompetitionNotOver, match="only after it"):
        hosted.final_results(comp, now=BEFORE)
    results, _ = hosted.final_results(comp, now=AFTER)
    out = write_points_csv(results, tmp_path / "points.csv")
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert rows == [["student_id", "team", "rank", "points", "source"],
                    ["s1", "Deep Thinkers", "1", "25", "submission 1"], ["s2", "Deep Thinkers", "1", "25", "submission 1"],
                    ["s3", "深度学习小组", "1", "25", "submission 2"], ["s4", "深度学习小组", "1", "25", "submission 2"],
                    ["s5", "Null Pointers", "3", "15", "submission 3"],
                    ["s6", "Ghosts", "", "10", "no entry"], ["s7", "Ghosts", "", "10", "no entry"]]


def _private_numbers(value: float) -> set[str]:
    """Every way a page could write ``value``."""
    forms = {repr(value), str(value), f"{value:.5g}", f"{value:.6g}", f"{value:.4f}", f"{value:.3f}",
             f"{100 * value:.1f}", f"{100 * value:.2f}"}
    return {f for f in forms if f not in ("0", "1", "0.0", "1.0", "100.0", "0.000", "1.000")}


def test_the_public_page_never_shows_a_private_score_before_the_deadline(comp):
    plans = {"Deep Thinkers": lambda i, p: (i % 2 == 0) if p else (i % 5 != 0),
             "深度学习小组": lambda i, p: (i % 3 == 0) if p else (i % 7 != 0),
             "Null Pointers": lambda i, p: (i % 4 != 0) if p else (i % 9 == 0)}
    for team, plan in plans.items():
        hosted.submit(comp, team, predictions(comp, plan), "p.csv", now=BEFORE)
    hosted.choose(comp, "Null Pointers", [3], now=BEFORE)
    with Store(comp.database) as store:
        subs = store.submissions()
    private = set().union(*(_private_numbers(s.private_score) for s in subs))
    public = {f"{s.public_score:.5g}" for s in subs}
    assert not private & public  # the search below can tell the two apart
    html, final = pages.leaderboard_page(comp, now=BEFORE)
    assert not final
    for number in public:
        assert number in html  # the page does show the public scores
    leaked = sorted(n for n in private if n in html)
    assert not leaked, f"private scores on the public page: {leaked}"
    assert "private score" not in html.lower()
    # After the deadline, the final page shows them.
    html, final = pages.leaderboard_page(comp, now=AFTER)
    assert final and all(f"{s.private_score:.5g}" in html for s in subs)
    with pytest.raises(TypeError):
        pages.public_page(comp, hosted.final_results(comp, now=AFTER)[1], now=BEFORE)


def test_rescoring_after_the_labels_are_corrected(comp):
    data = predictions(comp, lambda index, public: True)
    hosted.submit(comp, "Ghosts", data, "p.csv", now=BEFORE)
    labels = comp.labels_file.read_text(encoding="utf-8")
    first_id, first_label = labels.splitlines()[1].split(",")
    wrong = CLASSES[(CLASSES.index(first_label) + 1) % 3]
    comp.labels_file.write_text(labels.replace(f"{first_id},{first_label}", f"{first_id},{wrong}", 1), encoding="utf-8")
    assert hosted.rescore(comp) == 1
    with Store(comp.database) as store:
        (s,) = store.submissions()
    assert min(s.public_score, s.private_score) < 1.0


def test_the_database_is_migrated_forward_and_a_newer_one_refused(tmp_path):
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path, isolation_level=None)
    assert migrate(connection, upto=1) == 1
    connection.execute("INSERT INTO submissions (team, submitted_at, filename, sha256, content, public_score, "
                       "private_score) VALUES ('A', '2030-01-01T00:00:00.000000+00:00', 'a.csv', 'x', x'00', 0.5, 0.25)")
    connection.close()
    with Store(path) as store:
        assert schema_version(store.connection) == len(MIGRATIONS) == 2
        assert store.connection.execute("SELECT name FROM sqlite_master WHERE name = 'submissions_team_time'").fetchone()
        assert [(s.team, s.private_score) for s in store.submissions()] == [("A", 0.25)]
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(StoreError, match="schema version 99, newer than this kit knows"):
        Store(path)


def test_the_command_line(comp, tmp_path, capsys):
    folder = str(comp.folder)
    good = tmp_path / "good.csv"
    good.write_bytes(predictions(comp, lambda index, public: True))
    assert main(["competition", "teams", folder]) == 0
    assert "4 teams, 7 students" in capsys.readouterr().out
    assert main(["competition", "submit", folder, "Ghosts", str(good), "--at", "2025-01-01 10:00"]) == 0
    assert "submission 1 scored: public accuracy 1 (1 of 2 today)" in capsys.readouterr().out
    assert main(["competition", "submit", folder, "Ghosts", str(good), "--at", "2999-01-01 10:00"]) == 2
    assert "a time to come" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    assert main(["competition", "submit", folder, "Ghosts", str(bad)]) == 1
    assert "the file is empty" in capsys.readouterr().err
    assert main(["competition", "leaderboard", folder, "-o", str(tmp_path / "lb.html")]) == 0
    assert "public leaderboard written" in capsys.readouterr().out
    assert "Ghosts" in (tmp_path / "lb.html").read_text(encoding="utf-8")
    assert main(["competition", "points", folder]) == 2
    assert "exist only after it" in capsys.readouterr().err
    (comp.folder / "teams.csv").write_text("A,s1\nB,s1\n", encoding="utf-8")
    assert main(["competition", "teams", folder]) == 1
    assert "student s1 is in team 'B' and in team 'A'" in capsys.readouterr().err
