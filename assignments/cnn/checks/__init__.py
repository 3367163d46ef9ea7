"""Checks of the CNN lab: ``public.py`` ships to students, ``hidden.py`` does not."""

import tomllib
from pathlib import Path

#: The lab's metadata (thresholds and budgets live there, once).
LAB = tomllib.loads((Path(__file__).resolve().parent.parent / "lab.toml").read_text())


def called_names(func) -> set[str]:
    """Names of everything a function's source calls (``np.pad`` → ``pad``),
    to spot a forbidden built-in. Runs on the observe side."""
    import ast
    import inspect
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            target = node.func
            names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names - {""}
