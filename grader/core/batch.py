"""Grading a whole class: ``grader grade <lab> <inputs…> -o OUT [-j N]``.

1. :mod:`grader.intake` stages every submission under ``OUT/.intake/<id>/``
   (an input it cannot use becomes that student's row, with the reason);
   a roster, when given, names the students and flags missing and unknown ones.
2. What does not depend on the submission (the checks' inputs, expected
   values, the files every sandbox reads) is prepared once
   (:func:`grader.core.grading.prepare`); then a pool of ``N`` threads grades
   the submissions, each driving one sandboxed worker process
   (:func:`grader.core.grading.grade`); every worker gets ``cores // N``
   TensorFlow threads so they do not oversubscribe the machine. A rich
   progress bar shows the ETA; Ctrl-C (or SIGTERM) kills the running workers
   and stops cleanly.
3. Each finished submission is recorded in ``OUT/<id>/``: its feedback
   files first (:func:`grader.reports.write_student`), then ``result.json``
   (the full record), written atomically, last. A
   ``result.json`` whose fingerprint (the staged files and the checks
   graded) matches is *done*: rerunning the same command after a crash or
   ``kill -9`` grades only what is missing. ``regrade=True`` grades all
   again; it is recorded in ``OUT/run.json`` until it finishes, so a
   regrade that was stopped is continued, not started over, by the next
   run: a ``result.json`` written before the regrade began is stale, one
   written since is done.
4. The class's reports are rebuilt from the recorded results: exactly one
   row per submission, plus one per roster student without a submission.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import signal
import statistics
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable, Iterable, Sequence

from grader import intake
from grader.roster import load_roster
from grader.core.grading import Prepared, grade, prepare, select
from grader.core.results import Reason, Result, RosterFlag, Row, RowStatus, RunInfo, RunMode
from grader.files import atomic_write
from grader.labs.lab import Lab
from grader.reports import write_class, write_student
from grader.reports.numbers import format_points
from grader.rubric import store as rubric_store
from grader.sandbox import Cancelled, Limits
from grader.sandbox.workdir import sweep

#: Bump when a change of the grader makes earlier results stale.
RESULT_FORMAT = 1
#: A submission's full record, and the marker that it is done.
RECORD_FILE = "result.json"
#: In the output folder while a regrade is unfinished: when it began.
RUN_FILE = "run.json"


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
    #: TensorFlow threads per worker (None: cores // jobs; 0: TensorFlow's own default).
    threads: int | None = None
    #: Show a progress bar (on stderr).
    progress: bool = True
    #: The inputs are one student's submission (Gradescope's ``submission/``
    #: folder): when intake finds none, several, or one it cannot stage, the
    #: batch has one row of this id with the reason.
    one_student: str | None = None


@dataclasses.dataclass
class BatchOutcome:
    """What a batch run did: its rows (as in the reports), how many
    submissions were graded now and kept from an earlier run, and whether it
    was stopped."""

    rows: list[Row]
    graded: int = 0
    reused: int = 0
    interrupted: bool = False
    #: When the regrade this run continued began (ISO time), if it continued one.
    continued_regrade: str | None = None

    @property
    def results(self) -> list[Result]:
        """The results of the submissions that were run (import failures included)."""
        return [r.result for r in self.rows if r.result is not None and r.status.ran]


def run(lab: Lab, inputs: Iterable[Path | str], out: Path | str, options: Options | None = None, *,
        console=None) -> BatchOutcome:
    """Grade every submission found in ``inputs`` into ``out``; ``console``
    (rich) shows the progress bar (default: stderr)."""
    options = options or Options()
    # Absolute: the sandbox's paths are built from it and used from other folders.
    out = Path(out).absolute()
    out.mkdir(parents=True, exist_ok=True)
    checks = select(lab, visibility=options.visibility, names=options.names)
    selection = {"lab": lab.id, "checks": [c.name for c in checks], "format": RESULT_FORMAT}
    # A TA's scores of the write-ups: read before grading (a broken file stops the
    # batch now, not after an hour), merged into every report written.
    rubric = rubric_store.load(out, lab)
    inputs = list(inputs)
    subs = intake.stage_submissions(inputs, lab.module, out / ".intake", exclude=[out])
    if options.one_student is not None:
        subs = _one_student(lab, subs, options.one_student, inputs)
    rows = _apply_roster(subs, options.roster)
    by_id = {r.id: r for r in rows}
    outcome = BatchOutcome(rows)
    regrade = _regrade(out, selection, options.regrade)
    if regrade is not None and not regrade["new"]:
        outcome.continued_regrade = regrade["started"]

    todo = []
    for sub in subs:
        row = by_id[sub.id]
        if not sub.ok:
            row.status, row.message = RowStatus.INTAKE_ERROR, sub.error
            row.result = _record(lab, out, sub, _intake_failure(lab, checks, sub), selection, rubric)
            continue
        done = _finished(out / sub.id, sub, selection, since_ns=regrade["started_ns"] if regrade else None)
        if done is not None:
            _date(out / sub.id, done, sub)
            _set_result(row, done)
            outcome.reused += 1
        else:
            todo.append(sub)

    jobs = max(1, options.jobs)
    threads = options.threads if options.threads is not None else max(1, (os.cpu_count() or 1) // jobs)
    cancel = threading.Event()
    # The uid level closes the output folder and the inputs to the sandbox's user.
    protect = (*options.limits.protect, out, *[Path(p) for p in inputs])
    limits = dataclasses.replace(options.limits, cancel=cancel, scratch=out / ".work", protect=protect)
    # What a killed grader left (its sandboxes died with it); never the
    # folders of another grader still running into the same output folder.
    sweep(out / ".work")

    def grade_one(sub: intake.Submission) -> Result:
        return _record(lab, out, sub, grade(lab, sub.path, limits=limits, threads=threads, prepared=plan), selection,
                       rubric)

    plan = None
    with _stop_on_signals():
        try:
            if todo:
                plan = _prepare(lab, options, limits, [by_id[sub.id] for sub in todo])
            if plan is not None:
                _grade_all(todo, grade_one, by_id, outcome, cancel, jobs=jobs, progress=options.progress,
                           console=console)
        except KeyboardInterrupt:  # while preparing
            outcome.interrupted = True
        finally:
            if plan is not None:
                plan.close()
    for sub in todo:
        row = by_id[sub.id]
        if row.result is None and row.status is RowStatus.GRADED:
            row.status, row.message = RowStatus.NOT_GRADED, "grading was stopped before this submission"
    sweep(out / ".work")
    with contextlib.suppress(OSError):
        (out / ".work").rmdir()  # when empty: another grader may still use it
    if regrade is not None and all(by_id[sub.id].result is not None for sub in todo):
        (out / RUN_FILE).unlink(missing_ok=True)  # the regrade is complete: nothing in it is stale now
    write_class(rows, checks, out, lab_id=lab.id, lab_title=lab.title, rubric=rubric)
    return outcome


def _regrade(out: Path, selection: dict, regrade: bool) -> dict | None:
    """The regrade this run does: the unfinished one recorded in
    ``out/run.json`` for these checks (continued, whether or not
    ``regrade`` is asked again: its stale results must not be kept), else a
    new one when ``regrade``, else None. ``{"started_ns", "started", "new"}``."""
    path = out / RUN_FILE
    try:
        data = json.loads(path.read_text())
        if data["selection"] == selection:
            return {"started_ns": int(data["started_ns"]), "started": str(data["started"]), "new": False}
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if not regrade:
        return None
    started_ns = time.time_ns()
    started = datetime.datetime.fromtimestamp(started_ns / 1e9).astimezone().isoformat(timespec="seconds")
    atomic_write(path, json.dumps({"started_ns": started_ns, "started": started, "selection": selection}, indent=2))
    return {"started_ns": started_ns, "started": started, "new": True}


def _set_result(row: Row, result: Result) -> None:
    """Give ``row`` the result of its run, and the status that says whether
    its file could be imported at all."""
    row.result, row.status = result, RowStatus.of(result)
    if row.status is not RowStatus.GRADED:
        # The import failure's first line (the exception and where; the same for every check):
        # the code excerpt and caret below it are in the student's feedback.
        row.message = (result.checks[0].message.strip().splitlines() or [""])[0][:500]


def _grade_all(todo: list[intake.Submission], grade_one: Callable[[intake.Submission], Result],
               by_id: dict[str, Row], outcome: BatchOutcome, cancel: threading.Event, *, jobs: int, progress: bool,
               console) -> None:
    """Grade ``todo`` on ``jobs`` threads into their rows; Ctrl-C (or
    SIGTERM) sets ``cancel``, which kills the running workers."""
    with _progress(progress, console, len(todo)) as (bar, task):
        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="dlkit-grade")
        futures = {pool.submit(grade_one, sub): sub for sub in todo}
        pending = set(futures)
        seconds: list[float] = []  # per submission graded, for the ETA
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for future in finished:
                    row = by_id[futures[future].id]
                    _collect(future, row)
                    outcome.graded += row.status.ran
                    if row.status.ran:
                        seconds.append(row.result.time)
                    if bar is not None:
                        left = eta(seconds, len(pending), jobs)
                        what = format_points(row.score) if row.status is RowStatus.GRADED else row.status
                        bar.update(task, advance=1, description=f"{row.id}: {what}",
                                   eta_at=None if left is None else time.monotonic() + left)
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


def _prepare(lab: Lab, options: Options, limits: Limits, rows: list[Row]) -> Prepared | None:
    """The batch's one :func:`~grader.core.grading.prepare`; when it fails
    (fixtures missing, say), each row to grade says why, and None."""
    try:
        return prepare(lab, visibility=options.visibility, names=options.names, limits=limits)
    except Exception as exc:  # noqa: BLE001 - as a failure while grading: each row says so, retried next run
        for row in rows:
            _grader_error(row, exc)
        return None


def eta(seconds: Sequence[float], remaining: int, workers: int) -> float | None:
    """Seconds until ``remaining`` submissions are graded on ``workers``
    workers, from the median of the ``seconds`` each finished one took
    (robust to the odd one that hangs until its time limit, or fails at
    once); None before any finished."""
    if remaining <= 0:
        return 0.0
    if not seconds:
        return None
    return statistics.median(seconds) * remaining / max(1, min(workers, remaining))


def format_eta(seconds: float | None) -> str:
    """``estimating…`` (no estimate yet), ``45 s``, ``12 min`` or ``2 h 05 min``."""
    if seconds is None:
        return "estimating…"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _collect(future, row: Row) -> None:
    try:
        _set_result(row, future.result())
    except Cancelled:
        row.status, row.message = RowStatus.NOT_GRADED, "grading was stopped before this submission finished"
    except Exception as exc:  # noqa: BLE001 - a grader failure costs one row, and is retried next run
        _grader_error(row, exc)


def _grader_error(row: Row, exc: Exception) -> None:
    row.status, row.message = RowStatus.GRADER_ERROR, f"{type(exc).__name__}: {exc}"[:1000]
    row.detail = "".join(traceback.format_exception(exc))


def _one_student(lab: Lab, subs: list[intake.Submission], student: str, inputs: list) -> list[intake.Submission]:
    """``subs`` when intake found exactly one submission it could stage; else
    one submission ``student`` that says why not."""
    if len(subs) == 1 and subs[0].ok:
        return subs
    why = subs[0].error if len(subs) == 1 else (
        f"no {lab.filename} found, and {len(subs) or 'no'} other files or folders that could be it "
        f"({', '.join(s.source.rsplit('/', 1)[-1] for s in subs) or 'the submission is empty'}); "
        f"submit your {lab.filename}")
    return [intake.Submission(student, ", ".join(str(p) for p in inputs), error=why)]


def _apply_roster(subs: list[intake.Submission], roster_path: Path | None) -> list[Row]:
    """Rows in input order; with a roster, ids are mapped to roster ids (a
    submission named by e-mail or name still finds its student), names filled
    in, unknown students flagged, and missing ones appended."""
    if roster_path is None:
        return [Row(s.id, s.name, source=s.source) for s in subs]
    roster = load_roster(roster_path)
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
        flag = RosterFlag.LISTED if match is not None else RosterFlag.NOT_ON_ROSTER
        rows.append(Row(s.id, s.name, roster=flag, source=s.source))
    for sid, name in roster.names.items():
        if sid not in seen:
            rows.append(Row(sid, name, status=RowStatus.MISSING, roster=RosterFlag.MISSING, message="no submission"))
    return rows


def _intake_failure(lab: Lab, checks, sub: intake.Submission) -> Result:
    """The result of a submission that could not be staged: every check
    scores 0 with the reason."""
    return Result.all_failed(lab.id, sub.id, checks, f"your submission could not be graded: {sub.error}",
                             reason=Reason.INTAKE, info=RunInfo(mode=RunMode.INTAKE, intake_error=sub.error))


def _record(lab: Lab, out: Path, sub: intake.Submission, result: Result, selection: dict,
            rubric: rubric_store.Scores | None = None) -> Result:
    """Write one submission's files (with the TA's scores of the write-up
    from ``rubric``); ``result.json`` last, atomically: its presence means
    the submission is done."""
    result.submission = sub.id
    info = result.info
    info.id, info.name, info.source, info.notes = sub.id, sub.name, sub.source, list(sub.notes)
    info.fingerprint, info.selection, info.submitted_at = sub.fingerprint, selection, sub.submitted_at
    info.graded_at = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    folder = out / sub.id
    folder.mkdir(parents=True, exist_ok=True)
    write_student(result, folder, name=sub.name, lab_title=lab.title,
                  rubric=rubric.get(sub.id) if rubric is not None else None)
    atomic_write(folder / RECORD_FILE, result.to_json())
    return result


def _date(folder: Path, result: Result, sub: intake.Submission) -> None:
    """Give a result kept from an earlier run the submission time intake
    found now: an export downloaded again can date the same files
    differently (a student handed in identical files again), and grading
    them again would change nothing else."""
    if result.info.submitted_at != sub.submitted_at:
        result.info.submitted_at = sub.submitted_at
        atomic_write(folder / RECORD_FILE, result.to_json())


def _finished(folder: Path, sub: intake.Submission, selection: dict, *, since_ns: int | None = None) -> Result | None:
    """The recorded result of an earlier run, if it is for these very files
    and these checks (and, during a regrade, written since it began at
    ``since_ns``)."""
    path = folder / RECORD_FILE
    try:
        if since_ns is not None and path.stat().st_mtime_ns < since_ns:
            return None
        result = Result.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if result.info.fingerprint != sub.fingerprint or result.info.selection != selection:
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
    """A rich progress bar with its ETA (:func:`eta`) on stderr (or nothing)."""

    def __init__(self, enabled: bool, console, total: int):
        self.enabled, self.console, self.total = enabled and total > 0, console, total

    def __enter__(self):
        if not self.enabled:
            return None, None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
        from rich.text import Text

        class Remaining(ProgressColumn):
            """Counts down from the last estimate (made when a submission finished)."""

            def render(self, task):
                at = task.fields.get("eta_at")
                if task.finished:
                    return Text("")
                return Text("ETA " + format_eta(None if at is None else at - time.monotonic()), style="progress.remaining")

        console = self.console or Console(stderr=True)
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(),
                            TimeElapsedColumn(), Remaining(), console=console, transient=False)
        self.bar.__enter__()
        return self.bar, self.bar.add_task("grading", total=self.total, eta_at=None)

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.__exit__(*exc)
        return False
