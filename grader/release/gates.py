"""The grading gates a lab must pass before it is released.

* the committed starter is what the solution markers generate;
* the reference scores full marks, graded as students will be (observe in
  the sandbox, judge here: :func:`grader.core.grading.grade`);
* the untouched starter scores zero, without a crash or a timeout;
* every mutant is caught: each check it targets costs it points. A mutant is
  graded on every check except the training checks it does not target
  (those train for most of the budget and a mutant that does not touch
  training cannot change them); ``thorough=True`` grades every check.

Sandboxed grading is the slow part (minutes per lab), so a passing result is
cached under a hash of everything that can change it: the ``grader``
package, the lab's checks, fixtures and mutants, the solution and starter,
the Python and key package versions. ``reuse=True`` takes a cached result
instead of grading again.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import importlib.metadata
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable

from grader.files import atomic_write, files_digest
from grader.labs import markers, mutants as mutants_module
from grader.core.grading import grade
from grader.labs.salt import digest as salt_digest
from grader.labs.lab import Lab
from grader.core.results import Result, Status
from grader.sandbox import Limits
from grader.release.contents import PACKAGE_DIR, is_release_only

#: Bump when the meaning of a cached gate result changes.
GATE_VERSION = 1
#: Packages whose version can change a grade.
KEY_PACKAGES = ("tensorflow-cpu", "tensorflow", "keras", "numpy", "scipy", "scikit-learn", "mlxtend", "networkx")
#: Files of assignments/<lab> that cannot change a grade.
NOT_GRADED = ("README.md", "README.zh.md", "notebook.py")


@dataclasses.dataclass
class GateReport:
    """Outcome of the gates for one lab; ``failures`` empty means it may ship."""

    lab: str
    key: str
    failures: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    reference: dict = dataclasses.field(default_factory=dict)
    starter: dict = dataclasses.field(default_factory=dict)
    mutants: list[dict] = dataclasses.field(default_factory=list)
    seconds: dict = dataclasses.field(default_factory=dict)
    reused: bool = False
    scope: dict = dataclasses.field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "GateReport":
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dlkit" / "release-gates"


def content_key(lab: Lab, scope: dict) -> str:
    """A hash of everything that can change what the gates find."""
    header = [f"gates v{GATE_VERSION} {json.dumps(scope, sort_keys=True)}", f"python {platform.python_version()}",
              f"salt {salt_digest(lab.salt)}"]  # hidden inputs follow the salt
    for package in KEY_PACKAGES:
        try:
            header.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    trees = [("grader", PACKAGE_DIR), (f"assignments/{lab.id}", lab.assignment_dir),
             (f"solutions/{lab.id}", lab.solution_dir), (f"starter/{lab.id}", lab.starter_dir)]
    files = []
    for label, root in trees:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if (not path.is_file() or "__pycache__" in path.parts or path.name == ".lock" or _is_release_tooling(path)
                    or (label.startswith("assignments") and rel in NOT_GRADED)):
                continue
            files.append((f"{label}/{rel}", path))
    return files_digest(files, header="\n".join(header) + "\n")


def _is_release_tooling(path: Path) -> bool:
    """The release tooling cannot change a grade: editing it keeps the cache."""
    if path.name.startswith("release_"):  # its templates
        return True
    if not path.is_relative_to(PACKAGE_DIR):
        return False
    return is_release_only(".".join(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts))


def starter_in_sync(lab: Lab) -> list[str]:
    """Failures (with the diff's first lines) when the starter has drifted."""
    diffs = markers.drift(lab.solution_dir, lab.starter_dir)
    out = []
    for diff in diffs:
        head = "\n".join(diff.splitlines()[:12])
        out.append(f"starter out of sync with the solution markers (run `grader starter {lab.id}`):\n{head}")
    return out


def _summary(result: Result) -> dict:
    return {
        "score": result.score,
        "max_score": result.max_score,
        "seconds": round(result.time, 1),
        "checks": {c.name: {"score": c.score, "points": c.points, "status": c.status} for c in result.checks},
    }


def _not_full(result: Result) -> str:
    return "; ".join(f"{c.name} {c.score:g}/{c.points:g} ({c.status.text}: {c.message[:160]})"
                     for c in result.checks if c.score < c.points - 1e-9)


def run(lab: Lab, *, mutant_names: Iterable[str] | None = None, thorough: bool = False, jobs: int = 1,
        time_scale: float = 1.0, cache_dir: Path | None = None, reuse: bool = False,
        progress: Callable[[str], None] = lambda line: None) -> GateReport:
    """Grade the reference, the starter and the mutants (sandboxed) and
    judge the outcome. ``mutant_names`` restricts the mutants (tests only; a
    release records which were run). ``time_scale`` stretches every time
    limit, for a machine busier or slower than the budgets assume."""
    every_mutant = mutants_module.load(lab)
    chosen = every_mutant if mutant_names is None else [m for m in every_mutant if m.name in set(mutant_names)]
    if mutant_names is not None and len(chosen) != len(set(mutant_names)):
        unknown = sorted(set(mutant_names) - {m.name for m in every_mutant})
        raise KeyError(f"unknown mutant(s) of {lab.id}: {', '.join(unknown)}")
    scope = {"mutants": sorted(m.name for m in chosen), "of": len(every_mutant), "thorough": thorough,
             "time_scale": time_scale}
    key = content_key(lab, scope)
    cache_dir = cache_dir or default_cache_dir()
    cached = cache_dir / f"{lab.id}-{key[:24]}.json"
    if reuse and cached.is_file():
        report = GateReport.from_dict(json.loads(cached.read_text()))
        if report.key == key and report.passed:
            report.reused = True
            progress(f"gates: reusing the passing result cached in {cached}")
            return report

    report = GateReport(lab.id, key, scope=scope)
    training = {c.name for c in lab.checks() if c.kind == "training"}
    cores = os.cpu_count() or 1
    threads = max(1, cores // max(1, jobs))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"dlkit-gates-{lab.id}-") as tmp:
        jobs_to_run: dict[str, tuple[Path, list[str] | None]] = {
            "reference": (lab.solution_dir, None),
            "starter": (lab.starter_dir, None),
        }
        for m in chosen:
            names = None if thorough else [c.name for c in lab.checks() if c.name not in training or c.name in m.targets]
            jobs_to_run[f"mutant {m.name}"] = (mutants_module.materialize(lab, m, Path(tmp)), names)

        def work(label: str) -> tuple[str, Result]:
            path, names = jobs_to_run[label]
            result = grade(lab, path, names=names, threads=threads, limits=Limits(time_scale=time_scale))
            progress(f"gates: {label}: {result.score:g}/{result.max_score:g} in {result.time:.0f}s")
            return label, result

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = dict(pool.map(work, list(jobs_to_run)))

    reference, starter = results["reference"], results["starter"]
    report.reference, report.starter = _summary(reference), _summary(starter)
    if reference.score < reference.max_score - 1e-9:
        report.failures.append(f"reference scores {reference.score:g}/{reference.max_score:g}, not full marks: "
                               + _not_full(reference))
    if starter.score > 0:
        earned = "; ".join(f"{c.name} {c.score:g}/{c.points:g}" for c in starter.checks if c.score > 0)
        report.failures.append(f"untouched starter scores {starter.score:g}, not 0: {earned}")
    broken = [c for c in starter.checks if c.status in (Status.TIMEOUT, Status.CRASHED, Status.INVALID)]
    if broken:
        report.failures.append("untouched starter breaks the grader: " + "; ".join(
            f"{c.name} {c.status.text} ({c.message[:160]})" for c in broken))
    for m in chosen:
        result = results[f"mutant {m.name}"]
        failed = result.failed()
        escaped = sorted(set(m.targets) - failed)
        extra = sorted(failed - set(m.targets))
        report.mutants.append({"name": m.name, "targets": list(m.targets), "failed": sorted(failed),
                               "score": result.score, "max_score": result.max_score,
                               "seconds": round(result.time, 1), "caught": bool(failed) and not escaped})
        if not failed:
            report.failures.append(f"mutant {m.name} escaped: full marks on every check graded ({m.why})")
        elif escaped:
            report.failures.append(f"mutant {m.name} escaped check(s) it targets: {', '.join(escaped)} "
                                   f"gave it full marks ({m.why})")
        if extra:
            report.notes.append(f"mutant {m.name} also fails {', '.join(extra)} (not among its targets)")
    if mutant_names is not None and len(chosen) < len(every_mutant):
        report.notes.append(f"only {len(chosen)} of {len(every_mutant)} mutants were run")
    if time_scale != 1.0:
        report.notes.append(f"the gates graded with every time limit multiplied by {time_scale:g}")
    report.seconds = {"total": round(time.perf_counter() - started, 1),
                      "reference": round(reference.time, 1), "starter": round(starter.time, 1),
                      "mutants": round(sum(results[f"mutant {m.name}"].time for m in chosen), 1)}
    if report.passed:
        cache_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(cached, json.dumps(report.to_dict(), indent=2))
    return report
