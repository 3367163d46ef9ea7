"""Meta-tests every lab must pass (honest checks, one source of truth), parametrised over
all labs under ``assignments/``:

* the starter is generated from the solution's markers and in sync;
* the reference scores full marks (in this process and sandboxed), and the
  same submission graded twice scores the same;
* the untouched starter scores zero without crashing the grader;
* every mutant fails exactly the checks it targets.

Default tier: mutants run in-process against every non-training check plus
the training checks they target. ``make test-full`` (marker ``full``) grades
every mutant in the sandbox against every check.
"""

import atexit
import functools
import inspect
import shutil
import tempfile
from pathlib import Path

import pytest

from grader.labs import markers, mutants
from grader.quality import equivalents, tracing
from grader.core.grading import grade, self_check
from grader.labs.lab import Lab, all_lab_ids, load_submission

LABS = all_lab_ids()
MUTANTS = [(lab_id, m.name) for lab_id in LABS for m in mutants.load(Lab.load(lab_id))]
_tmp = Path(tempfile.mkdtemp(prefix="dlkit-mutants-"))
atexit.register(shutil.rmtree, _tmp, ignore_errors=True)  # made at collection: no fixture to clean it


@functools.cache
def _traced_reference(lab_id):
    """The reference graded in this process, every check's calls into it
    recorded against the lab's ``cases.toml``."""
    lab = Lab.load(lab_id)
    recorder = tracing.Recorder(lab.solution_file, tracing.load_cases(lab))
    result = self_check(lab, lab.solution_file, visibility=None, alias=f"_ref_{lab_id}", around=recorder.around)
    return result, recorder


def reference_in_process(lab_id):
    return _traced_reference(lab_id)[0]


@functools.cache
def reference_sandboxed(lab_id):
    lab = Lab.load(lab_id)
    return grade(lab, lab.solution_dir)


def _mutant(lab_id, name):
    lab = Lab.load(lab_id)
    mutant = next(m for m in mutants.load(lab) if m.name == name)
    return lab, mutant, mutants.materialize(lab, mutant, _tmp / lab_id)


@pytest.mark.parametrize("lab_id", LABS)
def test_starter_in_sync_with_solution_markers(lab_id):
    lab = Lab.load(lab_id)
    assert markers.drift(lab.solution_dir, lab.starter_dir) == []


@pytest.mark.parametrize("lab_id", LABS)
def test_starter_contains_no_solution_line(lab_id):
    lab = Lab.load(lab_id)
    solution = lab.solution_file.read_text()
    outside = {" ".join(l.split()) for l in markers.make_starter(solution).splitlines()}
    starter = {" ".join(l.split()) for l in lab.starter_file.read_text().splitlines()}
    leaked = [l for l in markers.solution_lines(solution) if len(l) > 12 and l in starter and l not in outside - starter]
    assert not leaked


@pytest.mark.parametrize("lab_id", LABS)
def test_points_add_up_to_lab_toml(lab_id):
    lab = Lab.load(lab_id)
    assert lab.points == pytest.approx(lab.meta["points"])
    assert all(c.points > 0 for c in lab.checks())


@pytest.mark.parametrize("lab_id", LABS)
def test_every_check_is_targeted_by_a_mutant(lab_id):
    lab = Lab.load(lab_id)
    targeted = {t for m in mutants.load(lab) for t in m.targets}
    names = {c.name for c in lab.checks()}
    assert targeted <= names, f"mutants target unknown checks: {targeted - names}"
    assert names <= targeted, f"checks no mutant can fail: {names - targeted}"


@pytest.mark.parametrize("lab_id", LABS)
def test_equivalent_machine_mutants_are_current(lab_id):
    """Every ``[[equivalent]]`` survivor of ``make mutation`` still names a line
    of its function in the reference (the list is otherwise out of date)."""
    assert equivalents.stale_equivalents(Lab.load(lab_id)) == []


@pytest.mark.parametrize("lab_id", LABS)
def test_reference_full_marks_in_process(lab_id):
    result = reference_in_process(lab_id)
    assert result.score == result.max_score, [(c.name, c.message) for c in result.checks if not c.passed]


@pytest.mark.parametrize("lab_id", LABS)
def test_reference_full_marks_sandboxed_and_repeatable(lab_id):
    sandboxed = reference_sandboxed(lab_id)
    assert sandboxed.score == sandboxed.max_score, [(c.name, c.message) for c in sandboxed.checks if not c.passed]
    again = reference_in_process(lab_id)
    assert [(c.name, c.score, c.message) for c in sandboxed.checks] == [(c.name, c.score, c.message) for c in again.checks]


@pytest.mark.parametrize("lab_id", LABS)
def test_every_documented_case_is_exercised_by_a_check(lab_id):
    """Each case of ``cases.toml`` (an argument value or branch of a public
    function) holds in some call the checks make into the reference."""
    lab = Lab.load(lab_id)
    assert tracing.load_cases(lab), f"assignments/{lab_id}/cases.toml lists no case"
    _, recorder = _traced_reference(lab_id)
    missing = [f"{c.function}: {c.when}" + (f" (raised {recorder.errors[i]})" if i in recorder.errors else "")
               for i, c in enumerate(recorder.cases) if i not in recorder.hits]
    print(recorder.table())
    assert not missing, "cases no check exercises:\n" + "\n".join(missing)


@pytest.mark.parametrize("lab_id", LABS)
def test_every_defaulted_argument_has_a_case(lab_id):
    """Every parameter with a default, of every public function and method of
    the reference, is named by a case of ``cases.toml``: its options are
    documented, so some check must try them."""
    lab = Lab.load(lab_id)
    named: dict[str, set[str]] = {}
    for case in tracing.load_cases(lab):
        named.setdefault(case.function, set()).update(case.code.co_names)
    module = load_submission(lab.solution_file, lab.module, alias=f"_ref_cases_{lab_id}")
    uncovered = []
    for qualname, func in tracing.public_functions(module):
        for param in inspect.signature(func).parameters.values():
            if param.default is not inspect.Parameter.empty and param.name not in named.get(qualname, ()):
                uncovered.append(f"{qualname}({param.name}={param.default!r})")
    assert not uncovered, "defaulted arguments no case of cases.toml names:\n" + "\n".join(uncovered)


@pytest.mark.parametrize("lab_id", LABS)
def test_starter_scores_zero_without_crashing(lab_id):
    lab = Lab.load(lab_id)
    result = grade(lab, lab.starter_dir)
    assert result.score == 0
    assert {c.status for c in result.checks} <= {"todo", "error", "failed"}, [(c.name, c.status) for c in result.checks]
    assert result.info.starts == 1, "a starter must not crash or hang the observing process"


@pytest.mark.parametrize("lab_id,name", MUTANTS, ids=[f"{l}-{n}" for l, n in MUTANTS])
def test_mutant_fails_exactly_its_targets(lab_id, name):
    lab, mutant, folder = _mutant(lab_id, name)
    names = [c.name for c in lab.checks() if c.kind != "training" or c.name in mutant.targets]
    result = self_check(lab, folder, visibility=None, names=names, alias=f"_mut_{lab_id}_{name}")
    assert result.failed() == set(mutant.targets) & set(names)
    assert set(mutant.targets) <= set(names)


@pytest.mark.full
@pytest.mark.parametrize("lab_id,name", MUTANTS, ids=[f"{l}-{n}" for l, n in MUTANTS])
def test_mutant_sandboxed_against_every_check(lab_id, name):
    lab, mutant, folder = _mutant(lab_id, name)
    # Every check of the lab but the study: a mutant's folder holds no table
    # (the study check is proven on forged and honest tables in tests/study).
    result = grade(lab, folder, names=[c.name for c in lab.checks()])
    assert result.failed() == set(mutant.targets)
