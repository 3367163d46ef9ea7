"""What a submission's observing process may use, and the sandbox's own errors.

:class:`Limits` is the one knob set a caller (the CLI, a batch, the release
gates, the Gradescope entry point) hands to :func:`grader.sandbox.observe`;
every number in it is enforced whatever the isolation level
(:mod:`grader.sandbox.levels`).
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

GIB = 1 << 30


@dataclasses.dataclass
class Limits:
    """Limits for one submission's observing process(es)."""

    #: Seconds allowed to start Python, import TensorFlow and the submission.
    startup: float = 120.0
    #: Seconds for the whole submission (all checks, restarts included).
    total: float = 900.0
    #: Multiplies every check's budget (slow machines, emulation, debugging).
    time_scale: float = 1.0
    #: Bytes of the student's printed output kept for the report (half from
    #: the start, half from the end; the middle is dropped with a note).
    output_tail: int = 20_000
    #: Largest file the student's process may write (bytes, RLIMIT_FSIZE).
    max_file_size: int = 1 << 30
    #: Everything the student's process may leave in its folders (bytes;
    #: sampled every second, so a burst can briefly exceed it).
    max_disk: int = 2 << 30
    #: Resident memory of the whole process tree (bytes).
    memory: int = 4 * GIB
    #: Processes in the tree (the worker included); more is a fork bomb.
    max_processes: int = 32
    #: RLIMIT_NPROC of the sandbox's user: processes *and threads*
    #: (TensorFlow starts dozens of threads). Binds only a non-root user.
    max_tasks: int = 1024
    #: ``auto`` (the strongest available), ``root-jail``, ``userns-jail`` or ``process``.
    isolation: str = "auto"
    #: Unprivileged user id for ``root-jail`` (None: one is allocated per run).
    uid: int | None = None
    #: Folder for the per-submission work folders (None: the system's temp).
    scratch: Path | None = None
    #: Folders closed to the ``uid`` level's user besides the kit and the
    #: submission (the output folder, the other submissions).
    protect: tuple[Path, ...] = ()
    #: Set it (from another thread) to stop grading: the worker is killed and
    #: :func:`grader.sandbox.observe` raises :class:`Cancelled`.
    cancel: threading.Event | None = dataclasses.field(default=None, compare=False)


class SandboxError(RuntimeError):
    """The sandbox itself could not run (not the submission's fault)."""


class Cancelled(RuntimeError):
    """Grading was stopped through ``Limits.cancel``."""
