"""Reports for students and TAs (templates in ``grader/templates``).

* :mod:`~grader.reports.console`: the per-check tables printed in a terminal;
* :func:`write_student` (:mod:`~grader.reports.student`): per student
  ``feedback.md``, ``feedback.html``, training curves and
  ``gradescope-results.json``;
* :func:`write_class` (:mod:`~grader.reports.class_reports`): ``grades.csv``,
  ``results.jsonl``, ``summary.html``;
* :func:`gradescope_results` (:mod:`~grader.reports.gradescope_json`): a
  result in Gradescope's ``results.json`` format;
* :func:`explain` / :func:`failure_kind` (:mod:`~grader.reports.failures`):
  what went wrong with a check, in plain words / as a short label.
"""

from grader.reports.class_reports import write_class
from grader.reports.failures import explain, failure_kind
from grader.reports.gradescope_json import gradescope_results
from grader.reports.student import write_student

__all__ = ["explain", "failure_kind", "gradescope_results", "write_class", "write_student"]
