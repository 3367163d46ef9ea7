"""Helpers only the feed-forward lab's hidden checks use, on the trusted side
(judging); never shipped, never in the sandbox. None at present: the hidden
checks judge with the public checks' judges and the rules of common.py."""
