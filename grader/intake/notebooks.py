"""Jupyter notebooks made Python files: :func:`notebook_to_script`.

Students hand in ``cnn.ipynb`` as often as ``cnn.py``. The grader imports a
module, so the notebook's code cells are joined into one script; what only
IPython understands (magics, shell escapes) is dropped, with notes saying so.
"""

from __future__ import annotations

import json
import re

from grader.intake.submission import IntakeError

#: Cell magics that only time or silence their cell: the cell's code is kept.
_CELL_MAGIC_KEEP = {"%%time", "%%timeit", "%%capture"}
#: A line IPython would rewrite: a magic or a shell escape (``%pwd``, ``!ls``,
#: ``x = !ls``) or a help request (``np.mean?``).
_LINE_MAGIC = re.compile(r"^\s*(?:[%!]|[\w.]+\?{1,2}\s*$|[\w.,\s]+=\s*[%!])")


def notebook_to_script(data: bytes, name: str = "notebook") -> tuple[str, list[str]]:
    """The code cells of a notebook as one Python file, and notes on what was
    dropped. Magic and shell lines become ``pass`` at the same indentation,
    so blocks around them stay valid and line numbers stay close."""
    try:
        nb = json.loads(data.decode("utf-8-sig"))
        cells = nb["cells"] if "cells" in nb else nb["worksheets"][0]["cells"]
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError) as exc:
        raise IntakeError(f"{name} is not a readable notebook ({type(exc).__name__}: {exc})") from None
    out = [f"# Code cells of {name}, extracted by the grader (IPython magics and shell escapes dropped).", ""]
    dropped: list[str] = []
    number = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", cell.get("input", ""))
        source = "".join(source) if isinstance(source, list) else str(source)
        lines = source.splitlines()
        if lines and lines[0].lstrip().startswith("%%"):
            magic = lines[0].split()[0]
            if magic in _CELL_MAGIC_KEEP:
                lines = lines[1:]
            else:
                dropped.append(f"cell {number}: dropped the whole {magic} cell")
                continue
        out.append(f"# %% cell {number}")
        for line in lines:
            if _LINE_MAGIC.match(line) or "get_ipython()" in line:
                indent = line[: len(line) - len(line.lstrip())]
                out.append(f"{indent}pass  # dropped: {line.strip()[:60]}")
                dropped.append(f"cell {number}: dropped `{line.strip()[:60]}`")
            else:
                out.append(line)
        out.append("")
    if dropped:
        dropped = [f"{name}: IPython magics and shell escapes are ignored when grading"] + dropped[:10] + (
            [f"… and {len(dropped) - 10} more"] if len(dropped) > 10 else [])
    return "\n".join(out) + "\n", dropped
