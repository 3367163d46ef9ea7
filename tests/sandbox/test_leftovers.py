"""What a killed grader leaves behind: work folders are removed by the next
grader only when their owner is dead, and the import failure's kind
travels from the worker as data."""

import json
import subprocess
import sys

from grader.sandbox import job
from grader.sandbox.workdir import OWNER_FILE, PREFIX, claim, sweep


def test_sweep_removes_only_the_folders_of_dead_graders(tmp_path):
    mine = tmp_path / f"{PREFIX}mine"
    mine.mkdir()
    claim(mine)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = tmp_path / f"{PREFIX}gone"
    (gone / "box").mkdir(parents=True)
    (gone / OWNER_FILE).write_text(json.dumps({"pid": int(dead.stdout), "started": 1}))
    # The pid of a live process, reused: it started at another time than the owner did.
    reused = tmp_path / f"{PREFIX}reused"
    reused.mkdir()
    owner = json.loads((mine / OWNER_FILE).read_text())
    (reused / OWNER_FILE).write_text(json.dumps({**owner, "started": owner["started"] - 1}))
    unclaimed = tmp_path / f"{PREFIX}being-made"
    unclaimed.mkdir()
    other = tmp_path / "not-ours"
    other.mkdir()

    assert sorted(sweep(tmp_path)) == sorted([gone, reused])
    assert {p.name for p in tmp_path.iterdir()} == {mine.name, unclaimed.name, other.name}
    assert sweep(tmp_path / "absent") == []


def test_import_failure_kind_is_read_from_the_event():
    line = job.Event.now(job.IMPORT_FAILED, message="cnn.py could not be imported", error="SyntaxError").to_line()
    assert job.Event.parse(line).error == "SyntaxError"
    # Written by the student's process: anything but a class name is dropped.
    for bad in ("not a name", 3, "x" * 200, ["SyntaxError"]):
        forged = json.dumps({"event": job.IMPORT_FAILED, "error": bad})
        assert job.Event.parse(forged).error is None
