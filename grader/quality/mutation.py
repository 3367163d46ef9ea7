"""Machine-made mutants of a lab's reference, graded by the lab's own checks.

``make mutation LAB=cnn`` (``python -m grader.quality.mutation cnn``) measures how
many of the mutants that `cosmic-ray <https://cosmic-ray.readthedocs.io>`_
makes of the lines inside the reference's solution blocks the checks kill,
per lab and per function, and writes the survivors for a person to read.

cosmic-ray makes the mutants and keeps the session (a SQLite work database,
so ``cr-report out/mutation/<lab>/session.sqlite`` reads it, and a run that
is interrupted resumes). Running each mutant is ours: a fresh interpreter per
mutant would spend its time importing TensorFlow, so a few long-lived
workers grade mutant after mutant in-process (:func:`grader.core.grading.self_check`),
each against only the checks that call the mutated function in the
reference (found once with :mod:`grader.quality.tracing`). A mutant that hangs past
its time limit counts as killed (a student's hang loses the points too) and
its worker is replaced.

A survivor that cannot change behaviour is listed in the lab's
``mutants.toml`` with the reason::

    [[equivalent]]
    function = "conv_output_size"
    line = "if span % stride:"          # the original line (stripped)
    mutated = "if span % stride > 0:"   # the mutant's line (stripped)
    why = "span and stride are positive, so the two tests agree"

and is then left out of the score. The kit's tests check that every such
entry still names a line of its function (cheap; no mutants are run there):
that, and where in the reference a mutant is, is :mod:`grader.quality.equivalents`.

This module is one concept, a mutation session from its first mutant to its
report (the session, its workers, the run loop, the report), so it stays
whole at about 400 lines.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import random
import re
import selectors
import subprocess
import sys
import time
from pathlib import Path

from grader.files import files_digest
from grader.labs.lab import Lab
from grader.quality.equivalents import enclosing_function, function_spans, in_solution_block, load_equivalents

#: Operator replacements left out: bitwise and shift operators stand in for
#: arithmetic nowhere in a lab (on float arrays they raise at once, so they
#: would only pad the score), nor identity tests for comparisons of numbers.
EXCLUDED_OPERATORS = re.compile(r"ReplaceBinaryOperator_\w+_(RShift|LShift|BitOr|BitAnd|BitXor)$"
                                r"|ReplaceBinaryOperator_(RShift|LShift|BitOr|BitAnd|BitXor)_"
                                r"|ReplaceComparisonOperator_\w+_(Is|IsNot)$")
#: A mutant hangs when its checks run longer than this many times the
#: reference's time on them, plus a margin (start-up, a loaded machine).
HANG_FACTOR, HANG_MARGIN = 4.0, 30.0


# -- the session ---------------------------------------------------------------------
def _coverage_digest(lab: Lab) -> str:
    """What decides which checks call which function: the reference, the checks, their settings."""
    checks = sorted((lab.assignment_dir / "checks").glob("*.py"))
    return files_digest([(lab.filename, lab.solution_file), *((f"checks/{p.name}", p) for p in checks),
                         ("lab.toml", lab.assignment_dir / "lab.toml")])[:16]


class Session:
    """A lab's mutation session under ``out/mutation/<lab>``."""

    def __init__(self, lab: Lab, root: Path):
        self.lab = lab
        self.dir = root / lab.id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.source = lab.solution_file.read_text()
        self.module_copy = self.dir / lab.filename
        self.db_path = self.dir / "session.sqlite"
        self.spans = function_spans(self.source)

    def init(self) -> None:
        """(Re)make the work database when the reference changed since the last run."""
        from cosmic_ray.commands import init
        from cosmic_ray.work_db import WorkDB, use_db
        from cosmic_ray.work_item import WorkerOutcome, WorkResult

        stamp = self.dir / "solution.sha"
        digest = hashlib.sha256(self.source.encode()).hexdigest()[:16]
        if self.db_path.is_file() and stamp.is_file() and stamp.read_text() == digest:
            return
        self.db_path.unlink(missing_ok=True)
        self.module_copy.write_text(self.source)
        with use_db(str(self.db_path), WorkDB.Mode.create) as db:
            init([self.module_copy], db, {})
            for item in list(db.work_items):
                mutation = item.mutations[0]
                if EXCLUDED_OPERATORS.search(mutation.operator_name) or not in_solution_block(
                        self.source, mutation.start_pos[0]):
                    db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.SKIPPED,
                                                          output="outside the solution blocks or excluded operator"))
        stamp.write_text(digest)

    def coverage(self) -> dict:
        """Which checks call each function of the reference (cached per reference + checks)."""
        path = self.dir / "coverage.json"
        digest = _coverage_digest(self.lab)
        if path.is_file():
            cached = json.loads(path.read_text())
            if cached.get("digest") == digest:
                return cached
        subprocess.run([sys.executable, "-m", "grader.quality.mutation", self.lab.id, "--coverage", str(path)], check=True)
        cached = json.loads(path.read_text())
        cached["digest"] = digest
        path.write_text(json.dumps(cached, indent=1, sort_keys=True))
        return cached

    def reopen_survivors(self) -> None:
        """Forget the results of the surviving mutants, so that they run again."""
        import sqlite3

        with sqlite3.connect(self.db_path) as db:
            self.reopened = {row[0] for row in db.execute(
                "SELECT job_id FROM work_results WHERE test_outcome = 'SURVIVED'")}
            db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'")

    def mutate(self, mutation) -> str | None:
        import cosmic_ray.plugins
        from cosmic_ray.mutating import mutate_code

        operator = cosmic_ray.plugins.get_operator(mutation.operator_name)(**(mutation.operator_args or {}))
        return mutate_code(self.source, operator, mutation.occurrence)


# -- the workers ------------------------------------------------------------------------
def _coverage_main(lab: Lab, out: Path) -> None:
    from grader.labs import fixtures
    from grader.quality import tracing
    from grader.core.grading import self_check

    fixtures.ensure(lab)
    recorder = tracing.Recorder(lab.solution_file)
    result = self_check(lab, lab.solution_file, visibility=None, alias=f"_ref_{lab.id}", around=recorder.around)
    failing = [c.name for c in result.checks if not c.passed]
    if failing:
        raise SystemExit(f"the reference fails {', '.join(failing)}: fix that before measuring mutants")
    budgets = {c.name: c.budget for c in lab.checks()}
    training = [c.name for c in lab.checks() if c.kind == "training"]
    out.write_text(json.dumps({"callers": {k: sorted(v) for k, v in recorder.callers.items()},
                               "checks": [c.name for c in result.checks], "budgets": budgets,
                               "times": {c.name: c.time for c in result.checks}, "training": training}))


def _worker_main(lab: Lab, folder: Path) -> None:
    """Grade mutants sent as JSON lines on stdin; answer one JSON line each."""
    import gc

    from grader.core.grading import self_check

    # Answers go to the parent on a private copy of stdout; whatever the mutant or
    # Keras prints (a progress bar, a debug print) goes to stderr instead of
    # corrupting the answer stream.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    for count, line in enumerate(sys.stdin):
        job = json.loads(line)
        work = folder / f"w{os.getpid()}"
        work.mkdir(parents=True, exist_ok=True)
        (work / lab.filename).write_text(job["code"])
        start = time.perf_counter()
        failed, detail = [], ""
        # Cheap checks first, then each training check alone: the first
        # failure kills the mutant, and most die before any training starts.
        for group in job["groups"]:
            try:
                result = self_check(lab, work, visibility=None, names=group, alias=f"_mutant_{os.getpid()}_{count}")
                failed = sorted(c.name for c in result.checks if not c.passed)
                detail = "; ".join(f"{c.name}: {c.message[:160]}" for c in result.checks if not c.passed)
            except Exception as exc:  # noqa: BLE001 - a mutant that breaks the grader itself is killed, and said so
                failed, detail = ["<grader>"], f"{type(exc).__name__}: {exc}"
            if failed:
                break
        answer = {"id": job["id"], "failed": failed, "detail": detail[:2000], "time": time.perf_counter() - start}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
        if count % 25 == 24:
            import keras

            keras.backend.clear_session()
            gc.collect()


class _Worker:
    def __init__(self, lab: Lab, folder: Path, threads: int):
        env = {**os.environ, "TF_NUM_INTEROP_THREADS": str(threads), "TF_NUM_INTRAOP_THREADS": str(threads),
               "OMP_NUM_THREADS": str(threads)}
        self.proc = subprocess.Popen([sys.executable, "-m", "grader.quality.mutation", lab.id, "--worker", str(folder)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env)
        self.job: dict | None = None
        self.deadline = 0.0

    def send(self, job: dict, limit: float) -> None:
        self.job, self.deadline = job, time.monotonic() + limit
        self.proc.stdin.write(json.dumps({k: job[k] for k in ("id", "code", "groups")}) + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


def run(lab: Lab, root: Path, *, jobs: int = 1, sample: int | None = None, seed: int = 0,
        survivors: bool = False, progress=print) -> dict:
    """Run the pending mutants of ``lab`` (a deterministic sample of ``sample``
    of them, when given; with ``survivors``, only the mutants that survived
    before, against the checks as they are now) and return the report (see
    :func:`report`)."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    session = Session(lab, root)
    session.init()
    if survivors:
        session.reopen_survivors()
    cover = session.coverage()
    callers, every = cover["callers"], cover["checks"]
    with use_db(str(session.db_path), WorkDB.Mode.open) as db:
        pending = sorted(db.pending_work_items, key=lambda w: w.job_id)
        if survivors:
            pending = [w for w in pending if w.job_id in session.reopened]
        elif sample is not None:
            random.Random(seed).shuffle(pending)
            pending = pending[:sample]
        queue = []
        for item in pending:
            mutation = item.mutations[0]
            function = enclosing_function(session.spans, mutation.start_pos[0])
            code = session.mutate(mutation)
            if code is None:
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.NO_TEST))
                continue
            diff = "".join(difflib.unified_diff(session.source.splitlines(True), code.splitlines(True),
                                                f"a/{lab.filename}", f"b/{lab.filename}", n=1))
            checks = every if function is None else callers.get(function, [])
            if not checks:
                db.set_result(item.job_id, WorkResult(worker_outcome=WorkerOutcome.NORMAL,
                                                      test_outcome=TestOutcome.SURVIVED, diff=diff,
                                                      output="no check calls this function"))
                continue
            times = cover.get("times") or cover["budgets"]
            limit = HANG_MARGIN + HANG_FACTOR * sum(times.get(c, 20.0) for c in checks)
            slow = [c for c in checks if c in cover.get("training", ())]
            groups = [g for g in [[c for c in checks if c not in slow]] + [[c] for c in slow] if g]
            queue.append({"id": item.job_id, "code": code, "groups": groups, "diff": diff, "limit": limit})
        total = len(queue)
        progress(f"{lab.id}: {total} mutants to run with {jobs} worker(s)")
        threads = max(1, (os.cpu_count() or 2) // jobs)
        workers = [_Worker(lab, session.dir, threads) for _ in range(max(1, jobs))]
        chooser = selectors.DefaultSelector()
        for w in workers:
            chooser.register(w.proc.stdout, selectors.EVENT_READ, w)
        done, start = 0, time.monotonic()

        def finish(w: _Worker, killed: bool, output: str) -> None:
            nonlocal done
            db.set_result(w.job["id"], WorkResult(worker_outcome=WorkerOutcome.NORMAL, diff=w.job["diff"],
                                                  test_outcome=TestOutcome.KILLED if killed else TestOutcome.SURVIVED,
                                                  output=output))
            w.job = None
            done += 1
            if done % 20 == 0:
                progress(f"{lab.id}: {done}/{total} mutants in {time.monotonic() - start:.0f} s")

        while queue or any(w.job for w in workers):
            for w in workers:
                if w.job is None and queue:
                    job = queue.pop(0)
                    w.send(job, job["limit"])
            for key, _ in chooser.select(timeout=1.0):
                w = key.data
                line = w.proc.stdout.readline()
                if not line:  # the worker died with the mutant (a crash kills it, as a crash loses the points)
                    job = w.job
                    chooser.unregister(w.proc.stdout)
                    w.kill()
                    if job is not None:
                        finish(w, True, "the grading process died")
                    workers[workers.index(w)] = fresh = _Worker(lab, session.dir, threads)
                    chooser.register(fresh.proc.stdout, selectors.EVENT_READ, fresh)
                    continue
                answer = json.loads(line)
                finish(w, bool(answer["failed"]), "failed: " + ", ".join(answer["failed"]) + "\n" + answer["detail"])
            for w in list(workers):
                if w.job is not None and time.monotonic() > w.deadline:
                    chooser.unregister(w.proc.stdout)
                    w.kill()
                    finish(w, True, "timeout (a hang loses the points too)")
                    workers[workers.index(w)] = fresh = _Worker(lab, session.dir, threads)
                    chooser.register(fresh.proc.stdout, selectors.EVENT_READ, fresh)
        for w in workers:
            w.proc.stdin.close()
            w.kill()
    return report(lab, root)


def report(lab: Lab, root: Path) -> dict:
    """The session's score, overall and per function, and its survivors
    (equivalent ones, listed in ``mutants.toml``, apart)."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    session = Session(lab, root)
    equivalents = load_equivalents(lab)
    per_function: dict[str, dict[str, int]] = {}
    survivors, equivalent = [], []
    with use_db(str(session.db_path), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome != WorkerOutcome.NORMAL:
                continue
            mutation = item.mutations[0]
            function = enclosing_function(session.spans, mutation.start_pos[0]) or "<module>"
            counts = per_function.setdefault(function, {"killed": 0, "survived": 0, "equivalent": 0})
            if result.test_outcome == TestOutcome.KILLED:
                counts["killed"] += 1
                continue
            original, mutated = _changed_lines(result.diff or "")
            entry = {"function": function, "operator": mutation.operator_name, "line": mutation.start_pos[0],
                     "original": original, "mutated": mutated, "diff": result.diff, "output": result.output}
            match = next((e for e in equivalents if e.function == function and e.line == original
                          and e.mutated == mutated), None)
            if match is not None:
                counts["equivalent"] += 1
                equivalent.append({**entry, "why": match.why})
            else:
                counts["survived"] += 1
                survivors.append(entry)
    killed = sum(c["killed"] for c in per_function.values())
    alive = sum(c["survived"] for c in per_function.values())
    return {"lab": lab.id, "killed": killed, "survived": alive,
            "equivalent": sum(c["equivalent"] for c in per_function.values()),
            "score": killed / (killed + alive) if killed + alive else None,
            "functions": per_function, "survivors": survivors, "equivalents": equivalent}


def _changed_lines(diff: str) -> tuple[str, str]:
    old = [l[1:] for l in diff.splitlines() if l.startswith("-") and not l.startswith("---")]
    new = [l[1:] for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++")]
    return " ".join(" ".join(old).split()), " ".join(" ".join(new).split())


def render(rep: dict) -> str:
    """The report as text: the score, a table per function, then every survivor's diff."""
    score = "n/a" if rep["score"] is None else f"{100 * rep['score']:.1f} %"
    lines = [f"{rep['lab']}: mutation score {score} ({rep['killed']} killed, {rep['survived']} survived, "
             f"{rep['equivalent']} equivalent)", "", f"{'function':40} {'killed':>7} {'survived':>9} {'equiv':>6} {'score':>7}"]
    for name, c in sorted(rep["functions"].items()):
        total = c["killed"] + c["survived"]
        lines.append(f"{name:40} {c['killed']:7d} {c['survived']:9d} {c['equivalent']:6d} "
                     f"{(100 * c['killed'] / total if total else 100):6.1f}%")
    return "\n".join(lines)


def write_survivors(rep: dict, path: Path) -> None:
    chunks = [f"# {rep['lab']}: {len(rep['survivors'])} surviving mutant(s). Kill each with a new or stronger check,\n"
              "# or list it in mutants.toml as [[equivalent]] (function, line, mutated, why).\n"]
    for s in rep["survivors"]:
        chunks.append(f"\n## {s['function']} line {s['line']} ({s['operator']})\n"
                      f"function = {json.dumps(s['function'])}\nline = {json.dumps(s['original'])}\n"
                      f"mutated = {json.dumps(s['mutated'])}\n{s['diff']}")
    path.write_text("".join(chunks))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.quality.mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("lab")
    parser.add_argument("-o", "--out", default="out/mutation", help="session folder (default out/mutation)")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="workers grading mutants side by side")
    parser.add_argument("--sample", type=int, help="run only this many pending mutants (a seeded sample)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", action="store_true", help="only report the session so far")
    parser.add_argument("--survivors", action="store_true",
                        help="run again only the mutants that survived (after the checks changed)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--coverage", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    lab = Lab.load(args.lab)
    if args.coverage:
        _coverage_main(lab, Path(args.coverage))
        return 0
    if args.worker:
        _worker_main(lab, Path(args.worker))
        return 0
    root = Path(args.out)
    from grader.labs import fixtures

    fixtures.ensure(lab)
    rep = report(lab, root) if args.report else run(lab, root, jobs=args.jobs, sample=args.sample, seed=args.seed,
                                                    survivors=args.survivors)
    text = render(rep)
    print(text)
    (root / lab.id / "report.txt").write_text(text + "\n")
    (root / lab.id / "report.json").write_text(json.dumps({k: v for k, v in rep.items()}, indent=1))
    write_survivors(rep, root / lab.id / "survivors.txt")
    print(f"\nsurvivors: {root / lab.id / 'survivors.txt'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
