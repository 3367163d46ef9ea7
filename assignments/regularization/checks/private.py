"""Helpers only the regularisation lab's hidden checks use, on the trusted side
(judging); never shipped, never in the sandbox. None at present: the hidden
checks judge with the public checks' judges."""
