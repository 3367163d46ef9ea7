"""Helpers only the CNN lab's hidden checks use, on the trusted side (judging);
never shipped, never in the sandbox. None at present: the "implement it
yourself" rules live in common.py (observe enforces them)."""
