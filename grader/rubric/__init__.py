"""The study's write-up, graded by a TA with the lab's rubric.

A lab's ``[study]`` (:mod:`grader.labs.study`) lists rubric items; grading the
write-up is a person's work, so it happens beside the batch, never in it:

* :func:`export` (:mod:`~grader.rubric.export`): one page per student
  (``OUT/<id>/rubric.html``: their table, plots, write-up, the reproduction
  verdicts and the rubric) and ``OUT/rubric.csv`` for the TA to fill in (or
  ``OUT/rubric-form.html``, a page whose button saves it);
* :func:`import_scores` (:mod:`~grader.rubric.importing`): checks the filled
  CSV, stores the scores and rewrites the reports with them;
* :mod:`~grader.rubric.store`: where the scores live (``OUT/rubric-scores.json``),
  a file no grading run writes, so a regrade keeps them and merges them again.
"""

from grader.rubric.export import export
from grader.rubric.importing import RubricImportError, import_scores
from grader.rubric.store import Graded, Scores, load

__all__ = ["Graded", "RubricImportError", "Scores", "export", "import_scores", "load"]
