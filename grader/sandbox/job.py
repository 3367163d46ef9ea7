"""The two files between the grader and its worker, defined once.

* ``job.json`` (:class:`Job`): what one worker start must do. Written by
  the trusted parent (:mod:`grader.sandbox.supervisor`) into a folder the
  worker can read but not write; read by :mod:`grader.sandbox.worker`.
* the events file (:class:`Event`, one JSON object a line): the worker's
  progress, written by the worker and read, defensively and incrementally,
  by the parent's watch loop (:mod:`grader.sandbox.watch`). The worker
  runs the student's code, so every line is parsed as untrusted:
  :meth:`Event.parse` returns None for anything malformed.

Both sides import this module, so a field added here reaches the writer
and the reader together.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

#: The worker started; no student code has run yet (a failure before it is the grader's).
READY = "ready"
#: The student's module was imported ...
IMPORTED = "imported"
#: ... or its import failed (the observations then say why).
IMPORT_FAILED = "import_failed"
#: A check's ``observe`` started (``check`` names it): its time budget runs from here.
START = "start"
#: A check's observation was written.
DONE = "done"
#: Every check of the job was observed.
FINISHED = "finished"


@dataclasses.dataclass(frozen=True)
class JobCheck:
    """One check to observe: its name, visibility and the seed ``observe`` runs under."""

    name: str
    visibility: str
    seed: int
    #: This submission's own public inputs (plain JSON data), for a check whose
    #: inputs depend on the submission (the study's drawn rows); None: the
    #: batch's ``<check>.{json,npz}`` in ``Job.inputs``.
    inputs: dict | None = None


@dataclasses.dataclass(frozen=True)
class Job:
    """``job.json``: one worker start. Paths are as the worker sees them
    (inside a jail: under ``/dlkit``)."""

    #: The student's module name (``cnn`` for ``cnn.py``).
    module: str
    #: The lab's shipped check files (``__init__.py``, ``common.py``, ``public.py``).
    checks_dir: str
    #: The folder holding the student's module (the worker's working directory).
    submission: str
    #: The folder holding each check's public inputs, ``<check>.{json,npz}`` (read-only).
    inputs: str
    #: Where the worker writes each observation, ``<check>.{json,npz}``.
    out: str
    #: The events file.
    events: str
    #: The checks to observe, in order.
    checks: tuple[JobCheck, ...]
    #: TensorFlow threads (None: the library's default).
    threads: int | None = None
    #: Resource limits the worker sets before the student's code runs
    #: (``{"FSIZE": bytes, "NPROC": n, ...}``), where no jail did it already.
    rlimits: dict[str, int] = dataclasses.field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Job":
        data = json.loads(text)
        data["checks"] = tuple(JobCheck(**c) for c in data["checks"])
        return cls(**data)

    @classmethod
    def read(cls, path: Path | str) -> "Job":
        return cls.from_json(Path(path).read_text())


@dataclasses.dataclass(frozen=True)
class Event:
    """One line of the events file."""

    #: One of the constants above (anything else is ignored by the reader).
    kind: str
    #: The check a ``start`` or ``done`` is about.
    check: str | None = None
    #: Why the import failed (``import_failed``).
    message: str | None = None
    #: The class name of the exception that stopped the import (``import_failed``).
    error: str | None = None
    #: When it happened (``time.time()`` in the worker; informational only).
    t: float = 0.0

    @classmethod
    def now(cls, kind: str, **fields) -> "Event":
        """An event happening now (the worker's side)."""
        return cls(kind, t=time.time(), **fields)

    def to_line(self) -> str:
        fields = {"event": self.kind, "t": self.t}
        if self.check is not None:
            fields["check"] = self.check
        if self.message is not None:
            fields["message"] = self.message
        if self.error is not None:
            fields["error"] = self.error
        return json.dumps(fields)

    @classmethod
    def parse(cls, line: bytes | str) -> "Event | None":
        """The event on ``line``, or None when it is not one. Written by the
        student's process: any field of the wrong type is dropped."""
        try:
            data = json.loads(line)
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("event"), str):
            return None
        check, message, error, t = data.get("check"), data.get("message"), data.get("error"), data.get("t")
        return cls(data["event"], check if isinstance(check, str) else None,
                   message if isinstance(message, str) else None,
                   error if isinstance(error, str) and error.isidentifier() and len(error) <= 100 else None,
                   t if type(t) is float else 0.0)
