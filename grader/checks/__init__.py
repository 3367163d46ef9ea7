"""What a lab's checks import: the check API (:class:`Check`, :class:`Inputs`,
:class:`Verdict`, visibilities), judges, schemas, gradient and architecture
helpers, the rule for parts written by hand, and :mod:`~grader.checks.parts`
(parts of a check scored on their own)."""

from grader.checks import parts
from grader.checks.check import HIDDEN, OPTIONAL, PUBLIC, Check, Inputs, Verdict

__all__ = ["Check", "Inputs", "Verdict", "PUBLIC", "HIDDEN", "OPTIONAL", "parts"]
