"""What every submission's box reads, written once per batch.

:class:`SharedFiles` is a folder holding the grader runtime (``lib/``: the
grader package and the lab's shipped check files,
:func:`grader.sandbox.workdir.copy_runtime`) and every check's public
inputs (``in/<check>.{json,npz}``), plus the observe-only source of the
hidden checks that is piped to each worker. A batch makes it once and
every submission's worker reads it; no submission can change it for the
next one:

* ``root-jail``, ``userns-jail``: bound read-only into each jail (at the
  same paths as a per-submission copy would be), and the worker cannot
  remount it: host root dropped to its own unprivileged id, or every
  capability dropped in its user namespace (a nested namespace cannot
  clear a read-only flag it inherited either);
* ``uid``: owned by the grader, folders 0755 and files 0644, read by an
  unprivileged user id that cannot write there;
* ``process``: the worker runs as the grader's own user, so nothing stops
  it writing here: at that level each submission gets its own copy
  (:meth:`SharedFiles.copy_into`), as before.

The folder itself is 0700 (the ``uid`` level opens it to traversal only),
so other users of the machine cannot list or read the inputs.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from grader.checks.check import Check
from grader.core import protocol
from grader.labs.lab import Lab
from grader.sandbox.workdir import claim, copy_runtime, open_to_all


class SharedFiles:
    """The runtime and inputs of ``checks`` on disk, read-only to every box.

    ``inputs`` maps each check's name to its public inputs (what
    ``Check.make_inputs().public`` gave). ``scratch`` is the folder to make
    it in (None: the system's temp). Remove it with :meth:`close` (or use
    it as a context manager); it is safe to share between threads.
    """

    def __init__(self, lab: Lab, checks: list[Check], inputs: dict[str, dict[str, Any]], *,
                 scratch: Path | None = None):
        from grader.labs.anatomy import observe_sources

        self.lab, self.checks = lab, list(checks)
        if scratch is not None:
            Path(scratch).mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix="dlkit-shared-", dir=scratch))
        self._lock = threading.Lock()
        try:
            claim(self.folder)  # removed by the next grader if this one is killed
            copy_runtime(lab, self.lib)
            self.inputs_dir.mkdir()
            for chk in self.checks:
                protocol.dump(inputs[chk.name], self.inputs_dir / chk.name)
            open_to_all(self.inputs_dir)
            # The hidden checks' observe code: sent through each worker's stdin, never a file.
            self.payload = json.dumps({"sources": observe_sources(lab, self.checks)}).encode()
        except BaseException:
            self.close()
            raise

    @property
    def lib(self) -> Path:
        """``lib/grader`` (the grader package) and ``lib/lab/checks`` (the shipped check files)."""
        return self.folder / "lib"

    @property
    def inputs_dir(self) -> Path:
        """``<check>.json`` and ``<check>.npz`` for every check."""
        return self.folder / "in"

    def copy_into(self, lib: Path, inputs: Path) -> None:
        """A private copy for one box (the ``process`` level, where the
        worker could otherwise write into the shared one)."""
        shutil.copytree(self.lib, lib)
        shutil.copytree(self.inputs_dir, inputs, dirs_exist_ok=True)

    def close(self) -> None:
        """Remove the folder (again: nothing happens)."""
        with self._lock:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "SharedFiles":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
