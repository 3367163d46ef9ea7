"""dlkit grader: lab checks (observe/judge), sandboxed grading and release tooling
for 深度学习导论 (Introduction to Deep Learning, USTC)."""

from grader.checks.check import HIDDEN, OPTIONAL, PUBLIC, Check, Inputs, Verdict

__all__ = ["Check", "Inputs", "Verdict", "PUBLIC", "HIDDEN", "OPTIONAL"]
__version__ = "0.1.0"
