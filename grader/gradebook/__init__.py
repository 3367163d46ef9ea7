"""The course's gradebook: every lab, the competition and the TAs' marks, added up to one final grade.

``grader gradebook course.toml -o OUT`` reads the course (:mod:`~grader.gradebook.course`),
imports each component's source (:mod:`~grader.gradebook.sources`) into a SQLite
file that keeps every version of every score (:mod:`~grader.gradebook.store`),
applies the late policy (:mod:`~grader.gradebook.late`), adds up each student's
total (:mod:`~grader.gradebook.build`) and writes ``final.csv``, ``trace.csv``
and ``index.html`` (:mod:`~grader.gradebook.views`). Each number of a total can
be traced to the file and row it came from (``--explain ID``).

``course.example.toml``, beside this module, is a course to start from.
"""

from pathlib import Path

from grader.gradebook.build import Gradebook, Problem, build
from grader.gradebook.course import Course, CourseError, load_course
from grader.gradebook.views import explain, write

#: A course.toml to start from (the course's labs, competition and participation).
EXAMPLE = Path(__file__).with_name("course.example.toml")

__all__ = ["EXAMPLE", "Course", "CourseError", "Gradebook", "Problem", "build", "explain", "load_course", "write"]
