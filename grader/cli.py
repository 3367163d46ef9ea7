"""The ``grader`` command.

    grader list                                  labs, points and budgets
    grader check <lab> [path]                    student self-check (public checks, in-process)
    grader grade <lab> <input>... [-o DIR] [-j N] [--roster CSV] [--regrade]
                                                 grade a class (observe sandboxed, judge here)
    grader starter [lab...] [--check]            regenerate starter code from solution markers
    grader fixtures [lab...] [--check]           regenerate expected values from the reference
    grader mutants <lab> [--write DIR] [--run]   list, write or run a lab's mutants
    grader data [--data-dir DIR]                 where each data set is found
    grader release <lab|all> [-o DIR]            build the student, Gradescope and otter bundles
    grader rubric export <lab> <out>             pages and rubric.csv for grading the study's write-ups
    grader rubric import <lab> <out> <csv>       the TA's scores into grades.csv, feedback and results.json
    grader gradebook <course.toml> [-o DIR] [--explain ID]
                                                 the course's final grades: final.csv, trace.csv, index.html
    grader competition <action> <dir> ...        the team competition: teams, import, submit, leaderboard, points
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from rich.console import Console

# Wide enough for the per-check table when output goes to a file or CI log
# (unless $COLUMNS says how wide).
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)
err = Console(stderr=True)


def _labs(ids: list[str]):
    from grader.labs.lab import Lab, all_lab_ids

    return [Lab.load(i) for i in (ids or all_lab_ids())]


def cmd_list(args) -> int:
    from rich.table import Table

    from grader.checks.check import HIDDEN, PUBLIC

    t = Table(title="labs")
    for col in ("id", "title", "points", "checks (public/hidden)", "CPU budget"):
        t.add_column(col)
    for lab in _labs([]):
        pub, hid = len(lab.checks(PUBLIC)), len(lab.checks(HIDDEN))
        t.add_row(lab.id, lab.title, f"{lab.points:g}", f"{pub}/{hid}", f"{lab.cpu_budget:g}s")
    console.print(t)
    return 0


def cmd_check(args) -> int:
    from grader.checks.check import PUBLIC
    from grader.core.grading import self_check
    from grader.labs.lab import Lab
    from grader.reports.console import print_result

    path = Path(args.path) if args.path else Path.cwd()
    # In a student bundle, its own copy of the lab: the `grader` command may
    # have been installed from another lab's bundle.
    bundled = (path if path.is_dir() else path.parent) / "assignments" / args.lab
    lab = Lab.load(bundled if (bundled / "lab.toml").is_file() else args.lab)
    if path.is_dir() and not (path / lab.filename).is_file():
        err.print(f"[red]no {lab.filename} in {path}[/]: run this in the folder holding your {lab.filename}, or pass its path")
        return 2
    result = self_check(lab, path, visibility=None if args.all else PUBLIC, names=args.only or None)
    print_result(result, console)
    if args.json:
        result.write_json(args.json)
    return 0 if result.score >= result.max_score else 1


def cmd_grade(args) -> int:
    """Batch grading (grader.core.batch): sandboxed workers, reports, resumable."""
    import contextlib

    from grader.core import batch
    from grader.core.grading import select
    from grader.core.results import RowStatus
    from grader.labs.lab import Lab
    from grader.reports.console import class_table, comparison, legend, print_result
    from grader.sandbox import GIB, Limits, SandboxError, describe, isolation

    lab = Lab.load(args.lab)
    limits = Limits(time_scale=args.time_scale, isolation=args.isolation)
    if args.memory:
        limits.memory = int(args.memory * GIB)
    options = batch.Options(jobs=args.jobs, visibility=args.visibility, names=args.only or None, limits=limits,
                            regrade=args.regrade, roster=Path(args.roster) if args.roster else None,
                            threads=args.threads or None, progress=not args.no_progress)
    try:
        level = isolation(limits.isolation)
    except SandboxError as exc:
        err.print(f"[red]error:[/] no sandbox: {exc}")
        return 2
    err.print(f"sandbox: {level} ({describe(level)})", markup=False)
    scratch = contextlib.nullcontext(args.output) if args.output else tempfile.TemporaryDirectory(prefix="dlkit-grades-")
    with scratch as folder:
        out = Path(folder)
        try:
            outcome = batch.run(lab, args.submissions, out, options, console=err)
        except KeyboardInterrupt:  # before grading began (while reading the inputs) or after it ended
            err.print("stopped: run the same command again to grade what is missing")
            return 130
        results = outcome.results
        if len(results) <= args.show:
            for result in results:
                print_result(result, console)
        if args.by_check and len(results) > 1:
            console.print(comparison(results))
        checks = select(lab, visibility=options.visibility, names=options.names)
        names = [c.name for c in checks]
        console.print(class_table(outcome.rows, names, sum(c.points for c in checks)))
        console.print(legend(names), markup=False, highlight=False)
        for row in outcome.rows:  # why a row is not graded, where the table cannot say it
            if row.message and row.status not in (RowStatus.GRADED, RowStatus.MISSING):
                console.print(f"{row.id}: {row.status}: {row.message}", markup=False, highlight=False)
        if outcome.continued_regrade:
            console.print(f"continued the regrade started at {outcome.continued_regrade}", markup=False)
        if args.output:
            console.print(f"{outcome.graded} graded now, {outcome.reused} kept from an earlier run; reports in {out}: "
                          "grades.csv, results.jsonl, summary.html, <id>/feedback.html", markup=False)
    if outcome.interrupted:
        err.print("stopped: run the same command again to grade what is missing")
        return 130
    return 1 if any(r.status is RowStatus.GRADER_ERROR for r in outcome.rows) else 0


def cmd_starter(args) -> int:
    from grader.labs.markers import drift, write_starter

    bad = 0
    for lab in _labs(args.labs):
        if args.check:
            diffs = drift(lab.solution_dir, lab.starter_dir)
            for d in diffs:
                err.print(d, markup=False)
            bad += bool(diffs)
            console.print(f"{lab.id}: {'starter out of date' if diffs else 'starter in sync'}")
        else:
            written = write_starter(lab.solution_dir, lab.starter_dir)
            console.print(f"{lab.id}: {len(written)} file(s) written to {lab.starter_dir}")
    if bad:
        err.print("run `grader starter` to regenerate, and commit the result")
    return 1 if bad else 0


def cmd_fixtures(args) -> int:
    from grader.labs import fixtures
    from grader.core.grading import self_check

    bad = 0
    for lab in _labs(args.labs):
        if args.check:
            with tempfile.TemporaryDirectory():
                result = self_check(lab, lab.solution_file, visibility=None, alias=f"_dlkit_fixture_check_{lab.id}")
            ok = result.score >= result.max_score
            bad += not ok
            console.print(f"{lab.id}: reference {'matches' if ok else 'does NOT match'} the fixtures "
                          f"({result.score:g}/{result.max_score:g})")
        else:
            for path in fixtures.write(lab):
                console.print(f"wrote {path}")
    return 1 if bad else 0


def cmd_mutants(args) -> int:
    from grader.labs import mutants
    from grader.core.grading import grade, prepare
    from grader.labs.lab import Lab

    lab = Lab.load(args.lab)
    found = mutants.load(lab)
    if args.write:
        for m in found:
            console.print(f"wrote {mutants.materialize(lab, m, Path(args.write))}")
        return 0
    if not args.run:
        for m in found:
            console.print(f"[bold]{m.name}[/]: {m.why}  → fails {', '.join(m.targets)}")
        return 0
    escaped = 0
    with tempfile.TemporaryDirectory() as tmp, prepare(lab) as plan:
        for m in found:
            folder = mutants.materialize(lab, m, Path(tmp))
            result = grade(lab, folder, prepared=plan)
            failed = result.failed()
            ok = failed == set(m.targets)
            escaped += not ok
            verdict = "[green]caught exactly[/]" if ok else f"[red]expected {sorted(m.targets)}, failed {sorted(failed)}[/]"
            console.print(f"{m.name}: {result.score:g}/{result.max_score:g} {verdict}")
    return 1 if escaped else 0


def cmd_data(args) -> int:
    from rich.table import Table

    from grader.data import status

    t = Table(title="data sets")
    for col in ("data set", "state", "where"):
        t.add_column(col, overflow="fold")
    for row in status(args.data_dir):
        t.add_row(*row)
    console.print(t)
    return 0


def cmd_release(args) -> int:
    try:
        from grader.release import release
    except ImportError:  # a student bundle carries no release tooling
        err.print("[red]`grader release` is an instructor command; it is not part of this bundle[/]")
        return 2

    labs = None if args.labs == ["all"] else args.labs
    if args.new_salt:
        import secrets

        from grader.labs import salt
        from grader.labs.lab import repo_root

        if os.environ.get("DLKIT_SALT"):
            err.print("[red]--new-salt: $DLKIT_SALT is set and would override the new salt; unset it[/]")
            return 2
        salt.write(repo_root(), secrets.token_bytes(salt.SIZE))
        console.print(f"a new salt is in {salt.path(repo_root())}: hidden inputs change from this release on "
                      "(grade this term's submissions with the bundles built from it)", markup=False)
    built, refused = release(labs, Path(args.output), reuse_gates=args.reuse_gates, jobs=args.jobs,
                             time_scale=args.time_scale, cache_dir=Path(args.gate_cache) if args.gate_cache else None,
                             thorough=args.thorough,
                             progress=lambda line: console.print(line, markup=False, soft_wrap=True))
    for r in built:
        console.print(f"[green]{r.lab.id}: released[/] to {Path(args.output) / r.lab.id}")
        for note in r.notes:
            console.print(f"  note: {note}", markup=False, soft_wrap=True)
    for lab_id, exc in refused.items():
        err.print(f"[red]{lab_id}: release refused[/]")
        for failure in exc.failures:
            err.print(f"  - {failure}", markup=False, soft_wrap=True)
    console.print(f"index: {Path(args.output) / 'index.md'}")
    return 1 if refused else 0


def cmd_rubric(args) -> int:
    """The study's write-ups, graded by a TA (grader.rubric)."""
    from grader.labs.lab import Lab
    from grader.rubric import RubricImportError, export, import_scores

    lab = Lab.load(args.lab)
    out = Path(args.out)
    if args.action == "export":
        try:
            sheet, *pages = export(lab, out)
        except ValueError as exc:
            err.print(f"[red]error:[/] {exc}", markup=True, highlight=False)
            return 2
        console.print(f"{len(pages)} pages (<id>/rubric.html); fill in {sheet} "
                      f"(or the page {out / 'rubric-form.html'}), then: "
                      f"grader rubric import {lab.id} {out} {sheet}", markup=False, highlight=False)
        return 0
    if not args.sheet:
        err.print("error: grader rubric import needs the filled-in CSV")
        return 2
    try:
        done = import_scores(lab, out, Path(args.sheet))
    except RubricImportError as exc:
        err.print(f"nothing imported: {len(exc.problems)} problem(s) in {args.sheet}", markup=False)
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        return 1
    console.print(f"imported the write-up scores of {len(done.graded)} student(s)"
                  + (f"; {len(done.empty)} row(s) left empty" if done.empty else ""), markup=False)
    if done.replaced:
        console.print(f"replaced earlier scores of: {', '.join(done.replaced)}", markup=False, highlight=False)
    console.print(f"reports rewritten in {out}: grades.csv, <id>/feedback.html, <id>/gradescope-results.json",
                  markup=False, highlight=False)
    return 0


def cmd_gradebook(args) -> int:
    """The course's final grades from every lab, the competition and manual marks (grader.gradebook)."""
    from grader.gradebook import CourseError, build, explain, load_course, write

    try:
        course = load_course(args.course)
    except CourseError as exc:
        err.print(f"error: {exc.path} cannot be used:", markup=False, highlight=False)
        for problem in exc.problems:
            err.print(f"  - {problem}", markup=False, highlight=False)
        return 2
    if not course.roster.is_file():
        err.print(f"error: the roster {course.roster} does not exist", markup=False, highlight=False)
        return 2
    try:
        book = build(course)
    except (ValueError, RuntimeError) as exc:  # a roster naming nobody, a store made by a newer kit
        err.print(f"error: {exc}", markup=False, highlight=False)
        return 2
    out = Path(args.output) if args.output else course.path.parent / "gradebook"
    paths = write(book, out)
    for cid, what in book.imported.items():
        console.print(f"{cid}: {what}", markup=False, highlight=False)
    if book.problems:
        console.print(f"{len(book.problems)} problem(s):", markup=False)
        for p in book.problems:
            console.print(f"  [{p.kind}] {p.message}", markup=False, highlight=False, soft_wrap=True)
    done = sum(s.total is not None for s in book.students)
    console.print(f"{done} of {len(book.students)} totals known; wrote {', '.join(str(p) for p in paths)}",
                  markup=False, highlight=False)
    if args.explain:
        try:
            console.print(explain(book, args.explain), markup=False, highlight=False, soft_wrap=True)
        except KeyError as exc:
            err.print(f"error: {exc.args[0]}", markup=False, highlight=False)
            return 2
    return 0


def cmd_competition(args) -> int:
    """The team competition (grader.competition.commands): teams, Kaggle import, submissions, leaderboard, points."""
    from grader.competition.commands import run

    return run(args, console, err)


def parser() -> argparse.ArgumentParser:
    from grader.checks.check import VISIBILITIES

    p = argparse.ArgumentParser(prog="grader", description="Lab kit and autograder for 深度学习导论.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="list the labs")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("check", help="run the public checks on your code (in this process)")
    s.add_argument("lab")
    s.add_argument("path", nargs="?", help="your file or the folder holding it (default: this folder)")
    s.add_argument("--only", nargs="+", metavar="CHECK", help="run only these checks")
    s.add_argument("--all", action="store_true", help="also hidden checks (instructors; needs hidden fixtures)")
    s.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("grade", help="grade a class: sandboxed workers, feedback and reports, resumable")
    s.add_argument("lab")
    s.add_argument("submissions", nargs="+", metavar="INPUT",
                   help="a student's folder, .py, .ipynb or .zip; a folder of those; or an LMS/Gradescope export zip")
    s.add_argument("-o", "--output", help="folder for the reports (default: a temporary folder, tables only)")
    s.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded at the same time")
    s.add_argument("--roster", metavar="CSV", help="the class list (id, name): flags missing and unknown students")
    s.add_argument("--regrade", action="store_true", help="grade again what an earlier run already finished")
    s.add_argument("--only", nargs="+", metavar="CHECK", help="grade only these checks")
    s.add_argument("--visibility", choices=VISIBILITIES, default=None,
                   help="only public, hidden or optional checks (optional ones are graded only when asked for)")
    s.add_argument("--threads", type=int, default=None, help="TensorFlow threads per worker (default: cores / jobs)")
    s.add_argument("--time-scale", type=float, default=1.0, help="multiply every check's time limit")
    s.add_argument("--memory", type=float, default=None, metavar="GB", help="memory limit per submission (default 4)")
    s.add_argument("--isolation", default="auto", choices=["auto", "root-jail", "userns-jail", "uid", "process"],
                   help="sandbox level (default: the strongest this machine allows; grading refuses when that "
                        "cannot be built, and a weaker level is used only when named here)")
    s.add_argument("--show", type=int, default=8, metavar="N", help="print per-check tables for up to N submissions")
    s.add_argument("--by-check", action="store_true",
                   help="also print the scores of every check, one column each (for a wide terminal)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_grade)

    s = sub.add_parser("starter", help="generate starter code from the solution markers")
    s.add_argument("labs", nargs="*")
    s.add_argument("--check", action="store_true", help="fail when the committed starter has drifted")
    s.set_defaults(func=cmd_starter)

    s = sub.add_parser("fixtures", help="regenerate expected values by running the reference")
    s.add_argument("labs", nargs="*")
    s.add_argument("--check", action="store_true", help="judge the reference against the committed fixtures")
    s.set_defaults(func=cmd_fixtures)

    s = sub.add_parser("mutants", help="list, write or run a lab's mutants")
    s.add_argument("lab")
    s.add_argument("--write", metavar="DIR", help="materialise each mutant as DIR/<name>/<module>.py")
    s.add_argument("--run", action="store_true", help="grade every mutant and report whether it is caught")
    s.set_defaults(func=cmd_mutants)

    s = sub.add_parser("data", help="show where each data set is found")
    s.add_argument("--data-dir", default=None)
    s.set_defaults(func=cmd_data)

    s = sub.add_parser("release", help="build the student, Gradescope and otter bundles (instructors)")
    s.add_argument("labs", nargs="+", metavar="LAB", help="lab ids, or `all`")
    s.add_argument("-o", "--output", default="dist", help="folder for the bundles and the index (default: dist)")
    s.add_argument("--reuse-gates", action="store_true",
                   help="reuse a cached passing gate result for unchanged labs instead of grading again")
    s.add_argument("--gate-cache", metavar="DIR", help="where gate results are cached (default ~/.cache/dlkit/release-gates)")
    s.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded at once by the gates")
    s.add_argument("--thorough", action="store_true", help="grade every mutant on every check, training included")
    s.add_argument("--time-scale", type=float, default=1.0, help="multiply every time limit of the gates (busy machine)")
    s.add_argument("--new-salt", action="store_true",
                   help="make a new secret salt (.dlkit/salt) first, so every hidden input changes (a new term)")
    s.set_defaults(func=cmd_release)

    s = sub.add_parser("rubric", help="grade the study's write-ups: export pages and a CSV, import the scores")
    s.add_argument("action", choices=["export", "import"])
    s.add_argument("lab")
    s.add_argument("out", help="the output folder of `grader grade -o`")
    s.add_argument("sheet", nargs="?", help="import: the filled-in rubric.csv")
    s.set_defaults(func=cmd_rubric)

    s = sub.add_parser("gradebook", help="the course's final grades: every lab, the competition, manual marks")
    s.add_argument("course", help="course.toml (see grader/gradebook/course.example.toml)")
    s.add_argument("-o", "--output", help="folder for final.csv, trace.csv, index.html (default: gradebook/ "
                                          "beside course.toml)")
    s.add_argument("--explain", metavar="ID", help="also print where each number of this student's total came from")
    s.set_defaults(func=cmd_gradebook)

    from grader.competition.commands import add_arguments as competition_arguments

    s = sub.add_parser("competition", help="the team competition: teams, a Kaggle leaderboard, in-class submissions")
    competition_arguments(s)
    s.set_defaults(func=cmd_competition)
    return p


def main(argv: list[str] | None = None) -> int:
    from grader.device import quiet_tensorflow_logs
    from grader.labs.lab import LabError

    quiet_tensorflow_logs()
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (LabError, KeyError, FileNotFoundError) as exc:
        err.print(f"[red]error:[/] {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
