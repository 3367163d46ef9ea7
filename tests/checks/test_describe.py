"""Messages about an observation name the student's call that produced it
(:mod:`grader.checks.describe`), read from the check's ``observe``; they say
"wrong shape" or "wrong type", and never show an observation's key."""

import numpy as np

from grader.checks import Check, describe, judges, parts
from grader.checks.schema import non_finite_note, validate
from grader.core import runner
from grader.core.results import Reason, Status


class Forward(Check):
    """conv2d_forward: stride 1, padding 1"""

    schema = {"y": (2, 6, 6, 4)}

    def observe(self, sub, x, w, b):
        return {"y": sub.conv2d_forward(x, w, b, stride=1, padding=1)}

    def judge(self, got, want, secret):
        return judges.close(got["y"], want["y"], "conv2d_forward(stride=1, padding=1)")


class Backward(Check):
    def observe(self, sub, x, w, dout):
        dx, dw, db = sub.conv2d_backward(dout, x, w, stride=1, padding=1)
        return {"dx": dx, "dw": dw, "db": db}


class Sizes(Check):
    schema = {"sizes": [int], "same": [float], "lenet": [int]}
    CASES = [(7, 3, 1, 0), (7, 3, 2, 0)]

    def observe(self, sub):
        return parts.each(
            sizes=lambda: [sub.conv_output_size(n, f, s, p) for n, f, s, p in self.CASES],
            same=lambda: [sub.same_padding(7, 3, 1)],
            lenet=lambda: [sub.conv_params(5, 1, 6), sub.dense_params(400, 120)],
        )


class Pools(Check):
    CONFIGS = [(2, 2), (3, 2)]

    def observe(self, sub, **data):
        out = {}
        for i, (f, s) in enumerate(self.CONFIGS):
            out[f"y{i}"] = parts.attempt(lambda: sub.max_pool_forward(data[f"x{i}"], f, s))
        out["model"] = sub.build_model().count_params()
        return out


def test_each_key_is_traced_to_the_call_that_made_it():
    assert describe.producers(Forward()).subject(("y",)).text == "conv2d_forward(x, w, b, stride=1, padding=1)"
    backward = describe.producers(Backward)
    assert backward.subject(("dx",)).text == "conv2d_backward's first return value (dx)"
    assert backward.subject(("db",)).text == "conv2d_backward's third return value (db)"
    sizes = describe.producers(Sizes)
    assert sizes.subject(("sizes", 1)) == describe.Subject("conv_output_size", returned=True)
    assert sizes.subject(("lenet", 1)).text == "dense_params(400, 120)"
    pools = describe.producers(Pools)
    assert pools.subject(("y1",)).text == "max_pool_forward"  # arguments that are not plain names are left out


def test_what_cannot_be_traced_is_your_result():
    pools = describe.producers(Pools)
    assert pools.subject(("model",)) is describe.UNKNOWN and describe.UNKNOWN.text == "your result"
    assert pools.subject(("y0", "deep", 3)).text == "your result"
    assert describe.producers(Check()).subject(("anything",)).text == "your result"  # observe not written
    assert describe.NONE.subject(("y",)).text == "your result"


def test_schema_messages_name_the_call_and_say_what_is_wrong():
    names = describe.producers(Forward)
    assert validate({"y": np.zeros((2, 6, 6, 3))}, Forward.schema, names) == [
        "wrong shape: conv2d_forward(x, w, b, stride=1, padding=1) returned shape (2, 6, 6, 3), expected (2, 6, 6, 4)"]
    assert validate({"y": {"a": 1}}, Forward.schema, names) == [
        "wrong type: conv2d_forward(x, w, b, stride=1, padding=1) returned a dict with keys 'a', expected a numeric "
        "array of shape (2, 6, 6, 4)"]
    problems = validate({"sizes": [5.0, 3.0], "same": [1.0], "lenet": [156, 48120]}, Sizes.schema,
                        describe.producers(Sizes))
    # Items wrong alike are told once.
    assert problems == ["wrong type: conv_output_size returned 5.0 (a float), expected an int (and 1 more of the 2 items)"]
    # Without a name for it, a part is "your result", never a bracketed key.
    for problem in validate({"y": np.zeros(3), "n": 3.0}, {"y": (2,), "n": int}):
        assert "your result" in problem and "['" not in problem and "wrong " in problem


def test_non_finite_note_names_the_call():
    note = non_finite_note({"y": np.array([1.0, np.nan])}, describe.producers(Forward))
    assert note == "not finite: conv2d_forward(x, w, b, stride=1, padding=1) holds 1 NaN"


def test_the_runner_reports_a_wrong_shape_in_the_students_terms():
    obs = runner.Observation(Status.OK, {"y": np.zeros((2, 6, 6, 3))})
    result = runner.judge(Forward(), obs, {"y": np.zeros((2, 6, 6, 4))}, {})
    assert result.status is Status.INVALID and result.reason is Reason.SCHEMA
    assert result.status.text == "wrong shape or type"
    assert result.message.startswith("wrong shape: conv2d_forward(x, w, b, stride=1, padding=1) returned shape")
    assert "['" not in result.message


def test_judges_say_wrong_shape_and_wrong_type():
    message = judges.close(np.zeros((2, 3)), np.zeros((2, 4)), "conv2d_forward(stride=2, padding=2)").message
    assert message == "wrong shape: conv2d_forward(stride=2, padding=2) has shape (2, 3), expected (2, 4)"
    assert judges.at_least([0.5, 0.6], 0.9, "accuracy").message.endswith("expected a single number")
    assert judges.close(None, np.zeros(2), "dx").message.startswith("wrong type: dx is None")
    assert judges.close(["a", "b"], np.zeros(2), "dx").message.startswith("wrong type: dx is an array of dtype")
