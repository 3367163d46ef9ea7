"""Static looks at a student's source, for checks that forbid a shortcut
(calling a library convolution, or a GradientTape inside hand-written BPTT).
Runs on the observe side; a determined student can evade it, so it backs up
value checks rather than replacing them."""

from __future__ import annotations

import ast
import inspect
import textwrap


def called_names(func) -> set[str]:
    """Names of everything ``func``'s source calls (``np.pad(...)`` → ``pad``)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            target = node.func
            names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names - {""}
