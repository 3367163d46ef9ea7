"""Grading a whole class: ``grader grade <lab> <inputs…> -o OUT [-j N]``.

1. :mod:`grader.intake` stages every submission under ``OUT/.intake/<id>/``
   (an input it cannot use becomes that student's row, with the reason);
   a roster, when given, names the students and flags missing and unknown ones.
2. A pool of ``N`` threads grades the submissions, each driving one
   sandboxed worker process (:func:`grader.core.grading.grade`); every worker
   gets ``cores // N`` TensorFlow threads so they do not oversubscribe the
   machine. A rich progress bar shows the ETA; Ctrl-C (or SIGTERM) kills the
   running workers and stops cleanly.
3. Each finished submission is recorded in ``OUT/<id>/``: its feedback
   files first, then ``result.json``, written atomically, last. A
   ``result.json`` whose fingerprint (the staged files and the checks
   graded) matches is *done*: rerunning the same command after a crash or
   ``kill -9`` grades only what is missing (``regrade=True`` forces all).
4. The class's reports are rebuilt from the recorded results: exactly one
   row per submission, plus one per roster student without a submission.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import shutil
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable, Iterable

from grader import intake
from grader.core import runner
from grader.core.grading import grade, select
from grader.labs.lab import Lab
from grader.reports import Row, write_class, write_student
from grader.core.results import Result
from grader.sandbox import Cancelled, Limits

#: Bump when a change of the grader makes earlier results stale.
RESULT_FORMAT = 1


@dataclasses.dataclass
class Options:
    """How to grade a batch."""

    #: Submissions graded at the same time (one worker process each).
    jobs: int = 1
    #: ``public``, ``hidden`` or None (all checks).
    visibility: str | None = None
    #: Only these checks (None: all of ``visibility``).
    names: list[str] | None = None
    limits: Limits = dataclasses.field(default_factory=Limits)
    #: Grade again even what an earlier run finished.
    regrade: bool = False
    roster: Path | None = None
    #: TensorFlow threads per worker (None: cores // jobs).
    threads: int | None = None
    #: Show a progress bar (on stderr).
    progress: bool = True


@dataclasses.dataclass
class Outcome:
    """What a batch run did."""

    rows: list[Row]
    out: Path
    graded: int = 0
    reused: int = 0
    interrupted: bool = False

    @property
    def results(self) -> list[Result]:
        return [r.result for r in self.rows if r.result is not None and r.status == "graded"]


def run(lab: Lab, inputs: Iterable[Path | str], out: Path | str, options: Options | None = None, *,
        console=None, on_result: Callable[[Row], None] | None = None) -> Outcome:
    """Grade every submission found in ``inputs`` into ``out``."""
    options = options or Options()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    checks = select(lab, visibility=options.visibility, names=options.names)
    selection = {"lab": lab.id, "checks": [c.name for c in checks], "format": RESULT_FORMAT}
    inputs = list(inputs)
    subs = intake.collect(inputs, lab.module, out / ".intake", exclude=[out])
    rows = _apply_roster(subs, options.roster)
    by_id = {r.id: r for r in rows}
    outcome = Outcome(rows, out)

    todo = []
    for sub in subs:
        row = by_id[sub.id]
        if not sub.ok:
            row.status, row.message = "intake error", sub.error
            row.result = _record(lab, out, sub, _intake_failure(lab, checks, sub), selection)
            continue
        done = None if options.regrade else _finished(out / sub.id, sub, selection)
        if done is not None:
            row.result = done
            outcome.reused += 1
        else:
            todo.append(sub)

    jobs = max(1, options.jobs)
    threads = options.threads or max(1, (os.cpu_count() or 1) // jobs)
    cancel = threading.Event()
    # The uid level closes the output folder and the inputs to the sandbox's user.
    protect = (*options.limits.protect, out, *[Path(p) for p in inputs])
    limits = dataclasses.replace(options.limits, cancel=cancel, scratch=out / ".work", protect=protect)
    shutil.rmtree(out / ".work", ignore_errors=True)

    def grade_one(sub: intake.Submission) -> Result:
        result = grade(lab, sub.path, visibility=options.visibility, names=options.names, limits=limits,
                       threads=threads)
        return _record(lab, out, sub, result, selection)

    with _stop_on_signals(), _progress(options.progress, console, len(todo)) as (progress, task):
        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="dlkit-grade")
        futures = {pool.submit(grade_one, sub): sub for sub in todo}
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for future in finished:
                    row = by_id[futures[future].id]
                    _collect(future, row)
                    outcome.graded += row.status == "graded"
                    if progress is not None:
                        progress.update(task, advance=1, description=f"graded {row.id}: {row.score:g}")
                    if on_result is not None:
                        on_result(row)
        except KeyboardInterrupt:
            outcome.interrupted = True
            cancel.set()
            for future in pending:
                future.cancel()
            wait(pending, timeout=60)
            for future in pending:
                if future.done() and not future.cancelled():
                    _collect(future, by_id[futures[future].id])
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    for sub in todo:
        row = by_id[sub.id]
        if row.result is None and row.status == "graded":
            row.status, row.message = "not graded", "grading was stopped before this submission"
    shutil.rmtree(out / ".work", ignore_errors=True)
    write_class(rows, checks, out, lab_id=lab.id, lab_title=lab.title)
    return outcome


def _collect(future, row: Row) -> None:
    try:
        row.result = future.result()
    except Cancelled:
        row.status, row.message = "not graded", "grading was stopped before this submission finished"
    except Exception as exc:  # noqa: BLE001 - a grader failure costs one row, and is retried next run
        row.status, row.message = "grader error", f"{type(exc).__name__}: {exc}"[:1000]


def _apply_roster(subs: list[intake.Submission], roster_path: Path | None) -> list[Row]:
    """Rows in input order; with a roster, ids are mapped to roster ids (a
    submission named by e-mail or name still finds its student), names filled
    in, unknown students flagged, and missing ones appended."""
    if roster_path is None:
        return [Row(s.id, s.name, source=s.source) for s in subs]
    roster = intake.load_roster(roster_path)
    taken = {s.id for s in subs}
    rows, seen = [], set()
    for s in subs:
        match = roster.match(s.id)
        if match is not None and match != s.id and match not in taken:
            s.notes.append(f"matched to {match} on the roster")
            taken.discard(s.id)
            s.id = match
            taken.add(match)
        if match is not None:
            seen.add(match)
            s.name = roster.names.get(match) or s.name
        rows.append(Row(s.id, s.name, roster="listed" if match is not None else "not on roster", source=s.source))
    for sid, name in roster.names.items():
        if sid not in seen:
            rows.append(Row(sid, name, status="missing", roster="missing", message="no submission"))
    return rows


def _intake_failure(lab: Lab, checks, sub: intake.Submission) -> Result:
    """The result of a submission that could not be staged: every check
    scores 0 with the reason."""
    message = f"your submission could not be graded: {sub.error}"
    results = [runner.judge(c, runner.Observation("error", message=message, reason="intake"), None, {}) for c in checks]
    return Result(lab.id, sub.id, results, 0.0, {"mode": "intake", "intake_error": sub.error})


def _record(lab: Lab, out: Path, sub: intake.Submission, result: Result, selection: dict) -> Result:
    """Write one submission's files; ``result.json`` last, atomically: its
    presence means the submission is done."""
    result.submission = sub.id
    result.info.update(id=sub.id, name=sub.name, source=sub.source, notes=list(sub.notes),
                       fingerprint=sub.fingerprint, selection=selection,
                       graded_at=datetime.datetime.now().astimezone().isoformat(timespec="seconds"))
    folder = out / sub.id
    folder.mkdir(parents=True, exist_ok=True)
    write_student(result, folder, name=sub.name, lab_title=lab.title)
    tmp = folder / ".result.json.tmp"
    tmp.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    os.replace(tmp, folder / "result.json")
    return result


def _finished(folder: Path, sub: intake.Submission, selection: dict) -> Result | None:
    """The recorded result of an earlier run, if it is for these very files
    and these checks."""
    try:
        data = json.loads((folder / "result.json").read_text())
        result = Result.from_dict(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    info = result.info
    if info.get("fingerprint") != sub.fingerprint or info.get("selection") != selection:
        return None
    return result


class _stop_on_signals:
    """Turn SIGTERM into KeyboardInterrupt while a batch runs (main thread only)."""

    def __enter__(self):
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


class _progress:
    """A rich progress bar with ETA on stderr (or nothing)."""

    def __init__(self, enabled: bool, console, total: int):
        self.enabled, self.console, self.total = enabled and total > 0, console, total

    def __enter__(self):
        if not self.enabled:
            return None, None
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        console = self.console or Console(stderr=True)
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                            transient=False)
        self.bar.__enter__()
        task = self.bar.add_task("grading", total=self.total)
        self.started = time.monotonic()
        return self.bar, task

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.__exit__(*exc)
        return False
