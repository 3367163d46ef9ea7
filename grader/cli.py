"""The ``grader`` command (DESIGN §5).

    grader list                                  labs, points and budgets
    grader check <lab> [path]                    student self-check (public checks, in-process)
    grader grade <lab> <submission>... [-o DIR]  grade submissions (observe sandboxed, judge here)
    grader starter [lab...] [--check]            regenerate starter code from solution markers
    grader fixtures [lab...] [--check]           regenerate expected values from the reference
    grader mutants <lab> [--write DIR] [--run]   list, write or run a lab's mutants
    grader data [--data-dir DIR]                 where each data set is found
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from rich.console import Console

# Wide enough for the per-check table when output goes to a file or CI log.
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


def _labs(ids: list[str]):
    from .lab import Lab, all_lab_ids

    return [Lab.load(i) for i in (ids or all_lab_ids())]


def cmd_list(args) -> int:
    from rich.table import Table

    t = Table(title="labs")
    for col in ("id", "title", "points", "checks (public/hidden)", "CPU budget"):
        t.add_column(col)
    for lab in _labs([]):
        pub, hid = len(lab.checks("public")), len(lab.checks("hidden"))
        t.add_row(lab.id, lab.title, f"{lab.points:g}", f"{pub}/{hid}", f"{lab.cpu_budget:g}s")
    console.print(t)
    return 0


def cmd_check(args) -> int:
    from .grading import self_check
    from .lab import Lab
    from .report import print_result

    lab = Lab.load(args.lab)
    path = Path(args.path) if args.path else Path.cwd()
    if path.is_dir() and not (path / lab.filename).is_file():
        err.print(f"[red]no {lab.filename} in {path}[/]: run this in the folder holding your {lab.filename}, or pass its path")
        return 2
    result = self_check(lab, path, visibility=None if args.all else "public", names=args.only or None)
    print_result(result, console)
    if args.json:
        result.write_json(args.json)
    return 0 if result.score >= result.max_score else 1


def cmd_grade(args) -> int:
    from .grading import grade
    from .lab import Lab
    from .report import comparison, print_result
    from .sandbox import Limits

    lab = Lab.load(args.lab)
    out = Path(args.output) if args.output else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    limits = Limits(time_scale=args.time_scale)
    results = []
    names = _unique_names([Path(s) for s in args.submissions])
    for sub, name in zip(args.submissions, names):
        result = grade(lab, Path(sub), names=args.only or None, limits=limits, threads=args.threads)
        result.submission = name
        results.append(result)
        print_result(result, console)
        if out:
            folder = out / result.submission
            folder.mkdir(parents=True, exist_ok=True)
            result.write_json(folder / "result.json")
    if len(results) > 1:
        console.print(comparison(results))
    if out:
        with (out / "results.jsonl").open("w") as fh:
            for r in results:
                fh.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
        console.print(f"results written to {out}")
    for r in results:
        console.print(r.summary(), markup=False)
    return 0


def _unique_names(paths: list[Path]) -> list[str]:
    """Submission ids from file/folder names, made unique with parent folders
    (``solutions/cnn`` and ``starter/cnn`` both end in ``cnn``)."""
    names = [p.stem if p.is_file() else p.name for p in paths]
    if len(set(names)) == len(names):
        return names
    return [f"{p.resolve().parent.name}/{n}" for p, n in zip(paths, names)]


def cmd_starter(args) -> int:
    from .markers import drift, write_starter

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
    from . import fixtures
    from .grading import self_check

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
    from . import mutants
    from .grading import grade
    from .lab import Lab

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
    with tempfile.TemporaryDirectory() as tmp:
        for m in found:
            folder = mutants.materialize(lab, m, Path(tmp))
            result = grade(lab, folder)
            failed = result.failed()
            ok = failed == set(m.targets)
            escaped += not ok
            verdict = "[green]caught exactly[/]" if ok else f"[red]expected {sorted(m.targets)}, failed {sorted(failed)}[/]"
            console.print(f"{m.name}: {result.score:g}/{result.max_score:g} {verdict}")
    return 1 if escaped else 0


def cmd_data(args) -> int:
    from rich.table import Table

    from .data import status

    t = Table(title="data sets")
    for col in ("data set", "state", "where"):
        t.add_column(col, overflow="fold")
    for row in status(args.data_dir):
        t.add_row(*row)
    console.print(t)
    return 0


def parser() -> argparse.ArgumentParser:
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

    s = sub.add_parser("grade", help="grade submissions (student code runs in a separate process)")
    s.add_argument("lab")
    s.add_argument("submissions", nargs="+", help="folders holding the lab's file, or .py files")
    s.add_argument("-o", "--output", help="folder for result.json per submission and results.jsonl")
    s.add_argument("--only", nargs="+", metavar="CHECK", help="grade only these checks")
    s.add_argument("--threads", type=int, default=None, help="TensorFlow threads for the student's process")
    s.add_argument("--time-scale", type=float, default=1.0, help="multiply every check's time limit")
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
    return p


def main(argv: list[str] | None = None) -> int:
    from .device import quiet_tensorflow_logs
    from .lab import LabError

    quiet_tensorflow_logs()
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (LabError, KeyError, FileNotFoundError) as exc:
        err.print(f"[red]error:[/] {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
