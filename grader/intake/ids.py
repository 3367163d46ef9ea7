"""Student ids: made safe for folder names, then unique within a batch.

Ids come from folder and file names, Gradescope's metadata or an LMS's naming
scheme; each becomes the name of the student's folder under the batch's
output, so it must be a safe file name and no two students may share one.
"""

from __future__ import annotations

import re

from grader.intake.submission import Submission


def safe_id(text: str) -> str:
    """A student id usable as a folder name: letters (any script), digits,
    ``.``, ``-``, ``_`` and ``@``; everything else becomes ``_``."""
    text = re.sub(r"[^\w.@-]+", "_", text.strip(), flags=re.UNICODE).strip("._")
    return text[:100] or "submission"


def make_ids_unique(subs: list[Submission], parents: list[str]) -> None:
    """Make ids unique, in place: ``solutions/cnn`` and ``starter/cnn`` become
    ``solutions-cnn`` and ``starter-cnn``; a remaining clash gets ``-2``, ``-3``.

    ``parents[i]`` is the name of the folder ``subs[i]`` came from."""
    counts: dict[str, int] = {}
    for s in subs:
        counts[s.id] = counts.get(s.id, 0) + 1
    for s, parent in zip(subs, parents):
        if counts[s.id] > 1 and parent:
            s.id = safe_id(f"{parent}-{s.id}")
    seen: dict[str, int] = {}
    for s in subs:
        if s.id in seen:
            seen[s.id] += 1
            s.id = f"{s.id}-{seen[s.id]}"
        else:
            seen[s.id] = 1
