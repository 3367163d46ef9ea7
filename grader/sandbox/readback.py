"""Reading what the student's process left behind, defensively.

Everything in the box belongs to the sandbox's user, who runs the
student's code and may have replaced any file by a link, a FIFO, a device
or a huge file. So files are opened without following links and only when
regular, sizes are capped before reading, arrays are loaded with
``allow_pickle=False``, and nothing is unpickled or imported. The printed
output arrives through a pipe and keeps only its head and tail
(:class:`Output`); disk use is measured without following links
(:func:`disk_usage`).
"""

from __future__ import annotations

import io
import json
import os
import stat
import threading
import zipfile
from pathlib import Path

from grader.core import protocol
from grader.core.results import Reason, Status
from grader.core.runner import Observation
from grader.device import strip_tensorflow_noise

#: Largest observation files read back (JSON tree, arrays).
MAX_TREE_BYTES = 16 << 20
MAX_ARRAY_BYTES = protocol.MAX_ELEMENTS * 8 + (16 << 20)


def open_regular(name: str, dir_fd: int, limit: int) -> bytes:
    """Read a file the sandbox's user could have replaced: no symlinks, no
    FIFOs or devices, at most ``limit`` bytes."""
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{name} is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"{name} holds {info.st_size} bytes, more than the {limit} allowed")
        with os.fdopen(os.dup(fd), "rb") as fh:
            return fh.read(limit + 1)[:limit]
    finally:
        os.close(fd)


def load_observation(out_fd: int, name: str) -> Observation | None:
    """The observation the worker wrote for check ``name`` into the folder
    open as ``out_fd`` (None: none written; status ``invalid`` when it
    cannot be read as one)."""
    try:
        tree_bytes = open_regular(f"{name}.json", out_fd, MAX_TREE_BYTES)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return Observation(Status.INVALID, message=f"unreadable observation ({exc})", reason=Reason.INVALID)
    try:
        tree = json.loads(tree_bytes)
        npz = open_regular(f"{name}.npz", out_fd, MAX_ARRAY_BYTES)
        with zipfile.ZipFile(io.BytesIO(npz)) as zf:
            declared = sum(i.file_size for i in zf.infolist())
        if declared > MAX_ARRAY_BYTES:
            raise ValueError(f"arrays of {declared} bytes, more than allowed")
        import numpy as np

        with np.load(io.BytesIO(npz), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        return Observation.from_plain(protocol.assemble(tree, arrays))
    except Exception as exc:  # noqa: BLE001 - the student's process may have written anything
        return Observation(Status.INVALID, message=f"unreadable observation ({type(exc).__name__}: {exc})"[:500],
                           reason=Reason.INVALID)


class Output:
    """Everything the worker printed, through a pipe: the first and last
    ``keep/2`` bytes are kept, the middle is counted and dropped."""

    def __init__(self, keep: int):
        self.head_limit, self.tail_limit = keep // 2, keep - keep // 2
        self.head, self.tail, self.total = bytearray(), bytearray(), 0
        self.lock = threading.Lock()

    def pump(self, fd: int) -> threading.Thread:
        """Read the pipe ``fd`` to its end in a thread (returned, started)."""
        def run():
            with os.fdopen(fd, "rb", buffering=0) as pipe:
                while chunk := pipe.read(1 << 16):
                    self.add(chunk)

        thread = threading.Thread(target=run, name="dlkit-output", daemon=True)
        thread.start()
        return thread

    def add(self, chunk: bytes) -> None:
        with self.lock:
            self.total += len(chunk)
            room = self.head_limit - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            self.tail += chunk
            if len(self.tail) > self.tail_limit:
                del self.tail[: len(self.tail) - self.tail_limit]

    @property
    def dropped(self) -> int:
        """Bytes printed but not kept."""
        return self.total - len(self.head) - len(self.tail)

    def text(self) -> str:
        """What was kept, less TensorFlow's own log lines (the worker silences
        them; any that get through are not what the student printed)."""
        with self.lock:
            head = strip_tensorflow_noise(bytes(self.head).decode(errors="replace"))
            tail = strip_tensorflow_noise(bytes(self.tail).decode(errors="replace"))
            if self.dropped:
                return f"{head}\n[… {self.dropped:,} bytes of output not shown …]\n{tail}"
            return head + tail


def disk_usage(folder: Path, max_entries: int = 100_000) -> tuple[int, int]:
    """(bytes allocated, entries) under ``folder``, links not followed;
    counting stops after ``max_entries``."""
    used, entries = 0, 0
    stack = [str(folder)]
    while stack and entries <= max_entries:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    entries += 1
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    used += info.st_blocks * 512
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(entry.path)
        except OSError:
            continue
    return used, entries
