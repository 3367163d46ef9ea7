"""Reports for students and TAs (templates in ``grader/templates``).

* :func:`write_student`: per student ``feedback.md``, ``feedback.html``,
  training curves and Gradescope's ``results.json``;
* :func:`write_class`: ``grades.csv``, ``results.jsonl``, ``summary.html``;
* :func:`explain` / :func:`failure_kind`: what went wrong with a check, in
  plain words / as a short label.
"""

from grader.reports.gradescope import gradescope_results
from grader.reports.student import explain, failure_kind, write_student
from grader.reports.summary import Row, write_class

__all__ = ["Row", "explain", "failure_kind", "gradescope_results", "write_class", "write_student"]
