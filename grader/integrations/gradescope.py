"""Gradescope's entry point: ``python -m grader.integrations.gradescope <lab>``
grades one submission (the format of what it writes is
:mod:`grader.reports.gradescope_json`).

The autograder bundle's ``run_autograder`` calls this inside Gradescope's
container. It grades ``<autograder>/submission`` as a batch of one student
(:func:`grader.core.batch.run` with ``one_student``: the same intake, the
lab's file at the top or in a sub-folder, a notebook, a zip; observed
sandboxed, judged here) and writes ``<autograder>/results/results.json`` in
Gradescope's format (public checks visible, hidden ones after the grades are
published, the student's printed output hidden).

A results file is written whatever happens: a submission that cannot be
staged scores 0 on every check with the reason, and an error of the grader
itself gives a score of 0 with a message for the student and the traceback
for the staff, instead of Gradescope's generic "autograder failed".

Paths default to Gradescope's (``/autograder``); ``--autograder-dir`` or
``$DLKIT_AUTOGRADER_DIR`` moves them for a local run. ``$DLKIT_TIME_SCALE``
multiplies every check's time limit (a slower machine than the budgets'
idle 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from grader.files import atomic_write

#: The id of the one student a Gradescope run grades, when intake cannot name it.
STUDENT = "submission"
#: What the student reads when the grader itself failed.
GRADER_FAILED = "The autograder failed on this submission; please tell the course staff."


def write_results(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(data, indent=2, ensure_ascii=False))


def broken(message: str, detail: str) -> dict:
    """results.json when the grader itself failed: 0 points, the message for
    the student, the traceback in a test only the staff see."""
    return {"score": 0.0, "output": message, "stdout_visibility": "hidden", "tests": [
        {"name": "Autograder error", "score": 0.0, "max_score": 0.0, "status": "failed",
         "output": detail[-20000:], "visibility": "hidden"}]}


def run(lab_ref: str, autograder_dir: Path) -> dict:
    """Grade ``<autograder_dir>/submission``; write and return the results."""
    results_path = autograder_dir / "results" / "results.json"
    try:
        from grader.core import batch
        from grader.labs.lab import Lab
        from grader.reports import gradescope_results
        from grader.sandbox import Limits

        lab = Lab.load(lab_ref)
        start = time.perf_counter()
        # The results folder stays closed to the student's code (as the batch
        # closes the submission and its own folder); TensorFlow keeps its own
        # thread defaults on Gradescope's machine.
        limits = Limits(time_scale=float(os.environ.get("DLKIT_TIME_SCALE") or 1.0),
                        isolation=os.environ.get("DLKIT_ISOLATION", "auto"), protect=(autograder_dir / "results",))
        options = batch.Options(limits=limits, threads=0, progress=False, one_student=STUDENT)
        with tempfile.TemporaryDirectory(prefix="dlkit-gradescope-") as folder:
            [row] = batch.run(lab, [autograder_dir / "submission"], folder, options).rows
        if row.result is None:  # the grader failed (or was stopped) on it
            data = broken(GRADER_FAILED, row.detail or row.message)
        else:
            row.result.time = time.perf_counter() - start
            data = gradescope_results(row.result)
            data["extra_data"]["grader"] = str(Path(__file__).resolve().parents[1])
    except Exception:  # noqa: BLE001 - always leave a results file behind
        data = broken(GRADER_FAILED, traceback.format_exc())
    write_results(results_path, data)
    return data


def main(argv: list[str] | None = None) -> int:
    from grader.device import quiet_tensorflow_logs

    quiet_tensorflow_logs()
    p = argparse.ArgumentParser(prog="python -m grader.integrations.gradescope", description=__doc__.split("\n\n")[0])
    p.add_argument("lab", help="the lab id (or its folder)")
    p.add_argument("--autograder-dir", default=os.environ.get("DLKIT_AUTOGRADER_DIR", "/autograder"),
                   help="Gradescope's root: submission/ is read, results/results.json written")
    args = p.parse_args(argv)
    data = run(args.lab, Path(args.autograder_dir))
    from grader.reports.numbers import format_points

    print(f"{args.lab}: {format_points(data.get('score', 0))} points; results in "
          f"{Path(args.autograder_dir) / 'results' / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
