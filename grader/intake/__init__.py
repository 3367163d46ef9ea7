"""Submissions as TAs get them, turned into folders the grader can grade.

:func:`stage_submissions` accepts, for a lab whose module is ``cnn``:

* a student's **folder** holding ``cnn.py`` (or ``cnn.ipynb``), at the top or
  in its only sub-folder (``alice/lab3/cnn.py``); a folder holding a single
  other ``.py`` or ``.ipynb`` file is graded as that file, with a note;
* a **folder of students**: every sub-folder, ``.py``, ``.ipynb`` and ``.zip``
  in it is one student;
* a single **.py** or **.ipynb** file per student: the notebook's code cells
  are joined into ``cnn.py``; IPython magics (``%matplotlib``), cell magics
  (``%%bash``) and shell escapes (``!pip install``) are dropped with a note;
* a **.zip** of one student's work, or an export holding a whole class:
  Gradescope's (``submission_metadata.yml`` + ``submission_<n>/``), Canvas's
  (flat ``login_<id>_<id>_cnn.py`` files), Moodle's
  (``Name_<id>_assignsubmission_file_/`` folders) or any zip whose top level
  holds one folder, ``.py``, ``.ipynb`` or ``.zip`` per student.

Archives are never trusted: a member whose path is absolute or escapes its
folder (zip-slip) rejects that student's archive with a message; symlinks,
devices and archives nested deeper than export → student are skipped with a
note; sizes are counted while extracting (not read from headers), so an
archive that expands past the limits (a zip bomb) is refused; names not
flagged UTF-8 are decoded as UTF-8, else GBK (Chinese Windows), else with
replacement characters. ``.py`` files that are not UTF-8 but are GBK are
converted, with a note.

Whatever goes wrong with one student's input becomes that student's
:class:`Submission` with ``error`` set, never an exception: the batch turns it
into the student's row. Student ids come from folder/file names (made safe
for file names and unique), Gradescope's metadata, or the LMS naming scheme.
Only Gradescope's metadata says when each student submitted
(``Submission.submitted_at``); other inputs have no time, and file times
are never taken for one.

The rooms:

* :mod:`~grader.intake.submission`: the vocabulary (``Submission``, ``IntakeLimits``, ``IntakeError``, ``Unit``);
* :mod:`~grader.intake.inputs`: :func:`stage_submissions`, each input made units (students), then staged;
* :mod:`~grader.intake.ids`: safe and unique ids;
* :mod:`~grader.intake.staging`: a unit made ``staging/<id>/<module>.py``, finding the main file;
* :mod:`~grader.intake.notebooks`: a notebook made a script;
* :mod:`~grader.intake.archives`: zips read without trusting them;
* :mod:`~grader.intake.text`: UTF-8, else GBK;
* :mod:`~grader.intake.exports`: one module per LMS export format, and their registry.

The course roster is not intake: it lives in :mod:`grader.roster`.
"""

from grader.intake.inputs import stage_submissions
from grader.intake.notebooks import notebook_to_script
from grader.intake.ids import safe_id
from grader.intake.submission import IntakeError, IntakeLimits, Submission

__all__ = ["IntakeError", "IntakeLimits", "Submission", "notebook_to_script", "safe_id", "stage_submissions"]
