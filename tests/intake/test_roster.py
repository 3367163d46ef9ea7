"""The course roster (grader.roster): CSV files as schools export them, in
UTF-8 or GBK, with or without a header. No grading here: fast."""

from grader.roster import load_roster


def test_roster_in_gbk_with_chinese_headers(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes("学号,姓名,邮箱\nPB21000001,张三,zhangsan@mail.ustc.edu.cn\nPB21000002,李四,lisi@ustc.edu\n"
                     .encode("gbk"))
    roster = load_roster(path)
    assert roster.names == {"PB21000001": "张三", "PB21000002": "李四"}
    assert roster.match("PB21000001") == "PB21000001"
    assert roster.match("zhangsan") == "PB21000001"
    assert roster.match("李四") == "PB21000002"
    assert roster.match("mallory") is None


def test_roster_without_header(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("s1;Ann\ns2;Ben\n")
    assert load_roster(path).names == {"s1": "Ann", "s2": "Ben"}
