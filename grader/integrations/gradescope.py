"""Grading one Gradescope submission: ``python -m grader.integrations.gradescope <lab>``.

The autograder bundle's ``run_autograder`` calls this inside Gradescope's
container. It stages ``<autograder>/submission`` as the batch grader does
(:func:`grader.intake.collect`: the lab's file at the top or in a sub-folder,
a notebook, a zip), grades it with :func:`grader.core.grading.grade` (observe
sandboxed, judge here) and writes ``<autograder>/results/results.json`` in
Gradescope's format (:func:`grader.reports.gradescope_results`: public
checks visible, hidden ones after the grades are published, the student's
printed output hidden).

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


def write_results(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    tmp.replace(path)


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
        from grader import intake
        from grader.core import runner
        from grader.core.grading import grade
        from grader.labs.lab import Lab
        from grader.reports import gradescope_results
        from grader.core.results import Result
        from grader.sandbox import Limits

        lab = Lab.load(lab_ref)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="dlkit-gradescope-") as staging:
            subs = intake.collect([autograder_dir / "submission"], lab.module, Path(staging) / "staged")
            if len(subs) == 1 and subs[0].ok:
                # The results folder and the submission stay closed to the student's code.
                limits = Limits(time_scale=float(os.environ.get("DLKIT_TIME_SCALE") or 1.0),
                                isolation=os.environ.get("DLKIT_ISOLATION", "auto"),
                                protect=(autograder_dir / "results", autograder_dir / "submission", Path(staging)))
                result = grade(lab, subs[0].path, limits=limits)
                result.info["notes"] = list(subs[0].notes)
            else:
                why = subs[0].error if len(subs) == 1 else (
                    f"no {lab.filename} found, and {len(subs) or 'no'} other files or folders that could be it "
                    f"({', '.join(s.source.rsplit('/', 1)[-1] for s in subs) or 'the submission is empty'}); "
                    f"submit your {lab.filename}")
                message = f"your submission could not be graded: {why}"
                checks = [runner.judge(c, runner.Observation("error", message=message, reason="intake"), None, {})
                          for c in lab.checks()]
                result = Result(lab.id, "submission", checks, 0.0, {"mode": "intake", "intake_error": why})
        result.time = time.perf_counter() - start
        data = gradescope_results(result)
        data["extra_data"]["grader"] = str(Path(__file__).resolve().parents[1])
    except Exception:  # noqa: BLE001 - always leave a results file behind
        data = broken("The autograder failed on this submission; please tell the course staff.",
                      traceback.format_exc())
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
    print(f"{args.lab}: {data.get('score', 0):g} points; results in "
          f"{Path(args.autograder_dir) / 'results' / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
