"""Watching one worker start: its events, its process tree, its limits.

:func:`watch` polls the worker until it exits or a limit is passed (time
per check, startup, the submission's total, memory, processes, disk, a
cancel), kills its whole process tree either way, and says how it ended
(:class:`WorkerEnd`). It reads the worker's progress from the events file
(:class:`EventLog`, each line parsed once by
:meth:`grader.sandbox.job.Event.parse`) and samples the process tree
(:class:`Watchdog`). :func:`exit_reason` words a worker that ended by itself.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

from grader.core.results import Reason
from grader.sandbox import job
from grader.sandbox.limits import GIB, Limits
from grader.sandbox.readback import disk_usage

#: Most of the events file read back (the worker's user could fill it).
MAX_EVENTS_BYTES = 1 << 20
#: Files and folders the box may hold.
MAX_ENTRIES = 100_000


class EventLog:
    """The worker's events file (``events`` in the box open as ``box_fd``),
    read incrementally, and at most :data:`MAX_EVENTS_BYTES` of it."""

    def __init__(self, box_fd: int):
        self.box_fd, self.offset, self.buffer = box_fd, 0, b""

    def reset(self) -> None:
        """An empty log for the next worker (a fresh file if the last worker
        replaced it: possible where the box belongs to the worker's user)."""
        try:
            fd = os.open("events", os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=self.box_fd)
        except OSError:
            try:
                os.unlink("events", dir_fd=self.box_fd)
            except IsADirectoryError:
                shutil.rmtree("events", dir_fd=self.box_fd, ignore_errors=True)
            except OSError:
                pass
            fd = os.open("events", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=self.box_fd)
        os.close(fd)
        self.offset, self.buffer = 0, b""

    def read(self) -> list[job.Event]:
        """The events written since the last call (complete lines only)."""
        if self.offset >= MAX_EVENTS_BYTES:
            return []
        try:
            fd = os.open("events", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=self.box_fd)
        except OSError:
            return []
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return []
            chunk = os.pread(fd, MAX_EVENTS_BYTES - self.offset, self.offset)
        finally:
            os.close(fd)
        self.offset += len(chunk)
        lines = (self.buffer + chunk).split(b"\n")
        self.buffer = lines.pop()
        return [e for e in map(job.Event.parse, lines) if e is not None]


class Watchdog:
    """Samples the worker's process tree: total memory and process count."""

    def __init__(self, pid: int, wrapped: bool):
        import psutil

        self.psutil = psutil
        try:
            self.root = psutil.Process(pid)
        except psutil.NoSuchProcess:
            self.root = None
        self.wrapped = wrapped  # the root is `unshare`, not the worker
        self.peak_rss = 0
        self.peak_processes = 0

    def tree(self) -> list:
        if self.root is None:
            return []
        try:
            return [self.root, *self.root.children(recursive=True)]
        except self.psutil.Error:
            return []

    def sample(self) -> tuple[int, int]:
        """(memory in bytes, processes) of the tree now. One process: its
        RSS (cheap). Several: the sum of their PSS, which splits the pages a
        fork shares among its sharers; summed RSS would count a forked
        TensorFlow process's memory once per child."""
        tree, rss = [], 0
        for proc in self.tree():
            try:
                rss += proc.memory_info().rss
                tree.append(proc)
            except self.psutil.Error:
                pass
        count = len(tree) - (1 if self.wrapped and tree else 0)
        memory = rss
        if count > 1:
            memory = 0
            for proc in tree:
                try:
                    memory += proc.memory_full_info().pss
                except self.psutil.Error:
                    pass
        self.peak_rss, self.peak_processes = max(self.peak_rss, memory), max(self.peak_processes, count)
        return memory, count

    def kill(self, proc: subprocess.Popen) -> None:
        """Kill every process of the tree: freeze them first so a fork bomb
        cannot outrun the kill, then SIGKILL (the pid namespace's init going
        down takes the rest of the namespace with it)."""
        for _ in range(5):
            victims = self.tree()
            for p in victims:
                try:
                    p.suspend()
                except self.psutil.Error:
                    pass
            for p in victims:
                try:
                    p.kill()
                except self.psutil.Error:
                    pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                continue
            if not any(self._running(p) for p in victims):
                return

    def _running(self, proc) -> bool:
        try:
            return proc.is_running() and proc.status() != self.psutil.STATUS_ZOMBIE
        except self.psutil.Error:
            return False


@dataclasses.dataclass
class WorkerEnd:
    """How one worker start ended, as far as the parent could tell."""

    #: (why, words) when the parent killed the worker.
    killed: tuple[Reason, str] | None = None
    #: The check running at the end.
    current: str | None = None
    #: The worker started (before the student's code is imported).
    ready: bool = False
    #: The student's module was imported (or failed to).
    imported: bool = False
    #: The class name of the exception that stopped the import, when it failed.
    import_error: str | None = None
    #: The submission's total time ran out.
    total: bool = False
    cancelled: bool = False

    def apply(self, event: job.Event) -> None:
        """Take in one event of the worker's log."""
        if event.kind == job.READY:
            self.ready = True
        elif event.kind in (job.IMPORTED, job.IMPORT_FAILED):
            self.ready = self.imported = True
            if event.kind == job.IMPORT_FAILED:
                self.import_error = event.error
        elif event.kind == job.START:
            self.current = event.check
        elif event.kind == job.DONE:
            self.current = None


def watch(proc: subprocess.Popen, dog: Watchdog, events: EventLog, budgets: dict[str, float], limits: Limits,
          started_at: float, deadline: float, box: Path) -> WorkerEnd:
    """Wait for the worker ``proc``; kill its tree when a limit is passed.
    ``budgets`` are the checks' seconds, ``started_at`` when the submission's
    first worker started (``time.monotonic()``), ``deadline`` the seconds this
    start may take in all, ``box`` the folder whose disk use is limited."""
    spawned = time.monotonic()
    end = WorkerEnd()
    current_since = None
    last_sample = last_disk = 0.0
    while True:
        code = proc.poll()
        for event in events.read():
            end.apply(event)
            if event.kind == job.START:
                current_since = time.monotonic()
        if code is not None:
            break
        now = time.monotonic()
        if now - last_sample >= 0.2:
            last_sample = now
            rss, count = dog.sample()
            if rss > limits.memory:
                end.killed = (Reason.MEMORY, f"your code used more than {gib(limits.memory)} of memory "
                                        f"(at least {gib(rss)}, all its processes together)")
            elif count > limits.max_processes:
                end.killed = (Reason.PROCESSES, f"your code started more than {limits.max_processes} processes "
                                           f"({count} were running): a fork bomb?")
        if not end.killed and now - last_disk >= 1.0:
            last_disk = now
            used, entries = disk_usage(box, MAX_ENTRIES)
            if used > limits.max_disk or entries > MAX_ENTRIES:
                end.killed = (Reason.DISK, f"your code wrote more than {gib(limits.max_disk)} "
                                      f"or more than 100,000 files to disk")
        if end.killed:
            pass
        elif limits.cancel is not None and limits.cancel.is_set():
            end.cancelled, end.killed = True, (Reason.CANCELLED, "grading was stopped")
        elif now - started_at > limits.total:
            end.total, end.killed = True, (Reason.TIMEOUT, "the submission's total time limit ran out")
        elif not end.imported and now - spawned > limits.startup:
            end.killed = (Reason.TIMEOUT, f"starting took longer than {limits.startup:.0f}s")
        elif end.current is not None and end.current in budgets and now - current_since > budgets[end.current]:
            end.killed = (Reason.TIMEOUT, f"check {end.current} ran out of time")
        elif now - spawned > deadline:
            end.killed = (Reason.JOB, "the worker ran longer than all its checks' limits together")
        if end.killed:
            dog.kill(proc)
            break
        time.sleep(0.05)
    if end.killed is None:
        for event in events.read():  # events written just before the exit
            end.apply(event)
        # Whatever the worker left behind (a forked child holding the output
        # pipe) goes too.
        dog.kill(proc)
    return end


def exit_reason(code: int | None) -> tuple[Reason, str]:
    """(why, words) for a worker that ended by itself with ``code``
    (``Popen.returncode``: negative for a signal)."""
    if code is None:
        return Reason.KILLED, "it was stopped"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (often: out of memory)" if name == "SIGKILL" else ""
        return Reason.SIGNAL, f"it was killed by {name}{hint}"
    return Reason.EXIT, f"it exited with code {code} (sys.exit/os._exit in your code?)"


def gib(n: float) -> str:
    return f"{n / GIB:.1f} GB"
