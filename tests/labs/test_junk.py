"""No credit for junk: the starter with every TODO
answered by one constant, whatever the inputs, earns nothing in any lab.

A student who wraps the starter so that each function returns the same
meaningless object has written no code that depends on the inputs; any
sub-part that such an answer satisfies (a yes/no property whose right
answer is the default, one sub-result of several) is a check that rewards
nothing.
"""

import atexit
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from grader.labs import markers
from grader.core.grading import self_check
from grader.labs.lab import Lab, all_lab_ids

#: One constant per answer, as a student might return them to "make it run".
CONSTANTS = {"none": "None", "zero": "0", "one": "1.0", "true": "True", "false": "False",
             "empty_list": "[]", "zeros": "__import__('numpy').zeros((1,))", "text": "'x'"}
TODO = re.compile(r"^(?P<indent>\s*)raise NotImplementedError\(.*\)\s*$", re.M)
_tmp = Path(tempfile.mkdtemp(prefix="dlkit-junk-"))
atexit.register(shutil.rmtree, _tmp, ignore_errors=True)  # made at collection: no fixture to clean it


def junk_submission(lab: Lab, constant: str) -> Path:
    """The starter with every ``raise NotImplementedError`` turned into ``return <constant>``."""
    starter = markers.make_starter(lab.solution_file.read_text())
    junk, count = TODO.subn(lambda m: f"{m['indent']}return {constant}", starter)
    assert count, "the starter has no TODO to answer"
    folder = _tmp / lab.id / re.sub(r"\W", "_", constant)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / lab.filename).write_text(junk)
    return folder


@pytest.mark.parametrize("lab_id", all_lab_ids())
@pytest.mark.parametrize("constant", list(CONSTANTS.values()), ids=list(CONSTANTS))
def test_a_constant_answer_earns_nothing(lab_id, constant):
    lab = Lab.load(lab_id)
    result = self_check(lab, junk_submission(lab, constant), visibility=None, alias=f"_junk_{lab_id}")
    earned = [(c.name, c.score, c.message[:200]) for c in result.checks if c.score > 0]
    assert not earned, f"every TODO returning {constant} earns points: {earned}"
