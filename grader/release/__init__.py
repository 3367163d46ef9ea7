"""Release tooling: ``grader release <lab|all> -o dist/``.

Builds, for each lab, a student bundle, a Gradescope autograder bundle and
an otter-grader bundle (student notebook + autograder), reproducibly, and
refuses to build unless the lab passes its gates: starter in sync, a clean
leak scan, self-sufficient bundles, reference full marks, starter zero and
every mutant caught, graded in the sandbox. None of this ships to students.

    from grader.release import release_lab, ReleaseRefused
    release_lab("cnn", Path("dist"))
"""

from grader.release.build import LabRelease, ReleaseRefused, release, release_lab, write_index

__all__ = ["LabRelease", "ReleaseRefused", "release", "release_lab", "write_index"]
