"""The kit's quality tooling: where a machine-made mutant is (grader.quality.equivalents)
and which checks reach which function (grader.quality.tracing)."""

import sys
import textwrap
import types

from grader.quality import equivalents, mutation, tracing

SOURCE = textwrap.dedent('''
    import numpy as np

    LIMIT = 3


    def area(w, h, square=False):
        # BEGIN SOLUTION: w * h
        return w * w if square else w * h
        # END SOLUTION


    class Shape:
        def scale(self, k=2):
            def inner(v):
                # BEGIN SOLUTION: v * k
                return v * k
                # END SOLUTION
            return inner(1)
''')


def test_function_spans_name_functions_as_their_code_objects_do():
    spans = equivalents.function_spans(SOURCE)
    assert set(spans) == {"area", "Shape.scale", "Shape.scale.<locals>.inner"}
    line = SOURCE.splitlines().index("            return v * k") + 1
    assert equivalents.enclosing_function(spans, line) == "Shape.scale.<locals>.inner"
    assert equivalents.enclosing_function(spans, SOURCE.splitlines().index("LIMIT = 3") + 1) is None


def test_only_lines_inside_solution_blocks_are_mutated():
    lines = SOURCE.splitlines()
    assert equivalents.in_solution_block(SOURCE, lines.index("    return w * w if square else w * h") + 1)
    assert not equivalents.in_solution_block(SOURCE, lines.index("LIMIT = 3") + 1)
    assert not equivalents.in_solution_block(SOURCE, lines.index("    # BEGIN SOLUTION: w * h") + 1)


def test_excluded_operators_are_the_bitwise_stand_ins_only():
    assert mutation.EXCLUDED_OPERATORS.search("core/ReplaceBinaryOperator_Add_BitXor")
    assert mutation.EXCLUDED_OPERATORS.search("core/ReplaceBinaryOperator_LShift_Add")
    assert mutation.EXCLUDED_OPERATORS.search("core/ReplaceComparisonOperator_Eq_Is")
    for kept in ("core/ReplaceBinaryOperator_Add_Sub", "core/ReplaceBinaryOperator_Mul_Div",
                 "core/ReplaceComparisonOperator_Lt_LtE", "core/NumberReplacer", "core/ZeroIterationForLoop"):
        assert not mutation.EXCLUDED_OPERATORS.search(kept)


def test_the_recorder_notes_callers_and_cases(tmp_path):
    path = tmp_path / "shapes.py"
    path.write_text(SOURCE)
    module = types.ModuleType("shapes")
    exec(compile(SOURCE, str(path), "exec"), module.__dict__)
    cases = [tracing.Case("area", "square"), tracing.Case("area", "not square"), tracing.Case("Shape.scale", "k == 3")]
    rec = tracing.Recorder(path, cases)

    class Chk:
        name = "first"

    with rec.around(Chk):
        module.area(2, 3)
        module.Shape().scale()
    assert rec.callers == {"area": {"first"}, "Shape.scale": {"first"}, "Shape.scale.<locals>.inner": {"first"}}
    assert rec.hits == {1: {"first"}}
    assert [c.when for c in rec.unexercised()] == ["square", "k == 3"]
    assert sys.gettrace() is None or sys.gettrace() is not rec._trace


def test_equivalent_entries_go_stale_when_their_line_leaves_the_reference(tmp_path):
    (tmp_path / "shapes.py").write_text(SOURCE)
    entries = '''
[[equivalent]]
function = "area"
line = "return w * w if square else w * h"
mutated = "return w * w if not square else w * h"
why = "example"

[[equivalent]]
function = "<module>"
line = "LIMIT = 3"
mutated = "LIMIT = 4"
why = "example"

[[equivalent]]
function = "Shape.scale"
line = "return w * h"
mutated = "return w + h"
why = "this line is in area, not in Shape.scale"
'''
    (tmp_path / "mutants.toml").write_text(entries)
    lab = types.SimpleNamespace(assignment_dir=tmp_path, solution_file=tmp_path / "shapes.py")
    assert equivalents.stale_equivalents(lab) == ["Shape.scale: 'return w * h'"]
