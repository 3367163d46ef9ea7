"""What a lab's checks import: the check API (:class:`Check`, :class:`Inputs`,
:class:`Verdict`, visibilities), judges, schemas, gradient and architecture
helpers, and the rule for parts written by hand."""

from grader.checks.check import HIDDEN, OPTIONAL, PUBLIC, Check, Inputs, Verdict

__all__ = ["Check", "Inputs", "Verdict", "PUBLIC", "HIDDEN", "OPTIONAL"]
