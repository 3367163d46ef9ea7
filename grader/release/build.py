"""``grader release``: build a lab's bundles, or refuse and say why.

For each lab, in this order (cheap checks first, so a leak is reported in
seconds, not after minutes of grading):

1. the starter is in sync with the solution markers, and the lab follows
   the anatomy (:mod:`grader.labs.anatomy`: what ships follows from it);
2. the four bundles are assembled in memory (:mod:`.bundles`);
3. the leak scan finds nothing in either student bundle (:mod:`.leaks`);
4. each bundle can load its checks and fixtures and make every check's
   inputs on its own, in a fresh process, with no data from this machine
   but what it ships;
5. the grading gates pass (:mod:`.gates`): reference full, starter zero,
   every mutant caught, graded in the sandbox.

Only then are the zips written to ``<out>/<lab>/``, with ``build.json``
(gate results, notes, times), and ``<out>/index.json``, ``index.md`` and
``SHA256SUMS`` updated. A refused lab gets ``<out>/<lab>/REFUSED.txt``
instead, and its zips from an earlier build are removed so they cannot be
uploaded by mistake.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable

from grader.files import files_digest, sha256_file
from grader.labs import anatomy, fixtures
from grader.labs.lab import Lab, LabError, all_lab_ids, repo_root
from grader.release import gates
from grader.release.archive import Bundle, Written
from grader.release.bundles import build as build_bundles, zip_name
from grader.release.contents import PACKAGE_DIR
from grader.release.leaks import LeakScanner, shipped_word_location

#: The bundles of a lab, in the order they are reported.
KINDS = ("student", "autograder", "otter-student", "otter-autograder")


class ReleaseRefused(Exception):
    """A lab failed a gate: nothing was written. ``failures`` says exactly what."""

    def __init__(self, lab: str, failures: list[str], notes: list[str] | None = None):
        self.lab, self.failures, self.notes = lab, list(failures), list(notes or [])
        super().__init__(f"release of {lab} refused:\n" + "\n".join(f"  - {f}" for f in self.failures))


@dataclasses.dataclass
class LabRelease:
    """A lab that was built: its zips, the gate report, notes and times."""

    lab: Lab
    files: dict[str, Written]
    gates: gates.GateReport
    notes: list[str]
    seconds: dict[str, float]

    def index_entry(self, out_dir: Path) -> dict:
        pub, hid = self.lab.checks("public"), self.lab.checks("hidden")
        return {
            "lab": self.lab.id,
            "title": self.lab.title,
            "points": self.lab.points,
            "checks": {"public": len(pub), "hidden": len(hid)},
            "points_public": sum(c.points for c in pub),
            "cpu_budget_seconds": self.lab.cpu_budget,
            "bundles": {kind: {"file": w.path.relative_to(out_dir).as_posix(), "bytes": w.size, "sha256": w.sha256}
                        for kind, w in self.files.items()},
        }


def _bundle_root(kind: str, lab: Lab, extracted: Path) -> Path:
    return {"student": extracted / lab.id, "otter-student": extracted / f"{lab.id}-otter",
            "autograder": extracted, "otter-autograder": extracted / "files"}[kind]


def self_test(lab: Lab, kind: str, bundle: Bundle) -> list[str]:
    """Unpack a bundle in an empty folder and, in a fresh Python whose home and
    data folders are empty, import its grader, load the lab's checks and
    fixtures and make every check's inputs. Failures as messages."""
    visibility = "public" if kind.endswith("student") else None
    modules = ["grader.cli", "grader.core.grading", "grader.reports.console"]
    modules += {"autograder": ["grader.integrations.gradescope"], "otter-autograder": ["grader.integrations.otter"],
                "otter-student": ["grader.integrations.otter"]}.get(kind, [])
    code = "\n".join([
        "import importlib, sys",
        f"for name in {modules!r}: importlib.import_module(name)",
        "import grader",
        "from pathlib import Path",
        "assert Path(grader.__file__).resolve().is_relative_to(Path.cwd().resolve()), grader.__file__",
        "from grader.labs import fixtures",
        "from grader.labs.lab import Lab",
        f"lab = Lab.load(Path('assignments') / {lab.id!r})",
        f"checks = lab.checks({visibility!r})",
        "fixtures.expected_for(lab, checks)",
        "for c in checks:",
        "    c.make_inputs()",
        "print(len(checks), 'checks ready')",
    ])
    with tempfile.TemporaryDirectory(prefix="dlkit-selftest-") as tmp:
        tmp = Path(tmp)
        for rel, data in bundle.files.items():
            (tmp / "x" / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / "x" / rel).write_bytes(data)
        root = _bundle_root(kind, lab, tmp / "x")
        (tmp / "home").mkdir()
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp / "home"), "PYTHONDONTWRITEBYTECODE": "1",
               "TF_CPP_MIN_LOG_LEVEL": "2", "LANG": os.environ.get("LANG", "C.UTF-8")}
        proc = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                              timeout=600)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-6:]
        hint = ("\n    (list the data the lab needs in lab.toml, e.g. [release] data = [\"planetoid\"], "
                "and they ship in the bundles)" if "DataError" in proc.stderr else "")
        return [f"the {kind} bundle cannot prepare its checks on its own (fresh process, no data but its own):\n    "
                + "\n    ".join(tail) + hint]
    return []


def release_lab(lab: Lab | str, out_dir: Path, *, reuse_gates: bool = False, cache_dir: Path | None = None,
                jobs: int = 1, time_scale: float = 1.0, mutant_names: Iterable[str] | None = None,
                thorough: bool = False, progress: Callable[[str], None] = lambda line: None) -> LabRelease:
    """Build one lab's bundles into ``out_dir/<lab>/`` or raise :class:`ReleaseRefused`."""
    lab = Lab.load(lab) if isinstance(lab, str) else lab
    out_dir = Path(out_dir)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    try:
        fixtures.ensure(lab)  # hidden fixtures for the salt, made before the sources are fingerprinted
    except Exception as exc:  # noqa: BLE001 - a reference that cannot run is a refusal, said plainly
        _refuse(lab, out_dir, [f"the hidden fixtures cannot be made: {type(exc).__name__}: {exc}"])
    before = snapshot(lab)

    failures = gates.starter_in_sync(lab)
    failures += [f"anatomy: {problem}" for problem in anatomy.problems(lab)]
    try:
        bundles = build_bundles(lab)
    except Exception as exc:  # noqa: BLE001 - a lab being written can break in any way; say how
        _refuse(lab, out_dir, failures + [f"the bundles cannot be assembled: {type(exc).__name__}: {exc}"])
    seconds["assemble"] = round(time.perf_counter() - clock, 2)
    notes = list(bundles.notes)
    progress(f"{lab.id}: bundles assembled in {seconds['assemble']:.1f}s")

    clock = time.perf_counter()
    scanner = LeakScanner(lab)
    found = [str(leak) for name, bundle in bundles.for_students for leak in scanner.scan(bundle, zip_name(lab, name))]
    if found:
        failures.append(f"leak scan: {len(found)} finding(s) in the student bundles:\n    " + "\n    ".join(found[:40])
                        + (f"\n    … and {len(found) - 40} more" if len(found) > 40 else ""))
    for name in scanner.exempt_names:
        # The scan cannot look for a word students' files use anyway; say where, and
        # what to do if that name must not reach them.
        where = shipped_word_location(lab, name) or "the shipped files"
        notes.append(f"hidden check name {name!r} is also a word of {where}, so the leak scan looks for the check's "
                     f"title and source instead; if the name itself gives the check away, rename it in "
                     f"assignments/{lab.id}/checks/ (otherwise nothing to do)")
    seconds["leak_scan"] = round(time.perf_counter() - clock, 2)
    progress(f"{lab.id}: leak scan {'clean' if not found else f'found {len(found)}'} in {seconds['leak_scan']:.1f}s")

    clock = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:  # two independent child processes
        for found_now in pool.map(lambda kb: self_test(lab, *kb), [("student", bundles.student),
                                                                    ("autograder", bundles.autograder)]):
            failures += found_now
    seconds["self_test"] = round(time.perf_counter() - clock, 2)
    progress(f"{lab.id}: bundle self-test in {seconds['self_test']:.1f}s")
    if failures:
        _refuse(lab, out_dir, failures + ["(the sandboxed grading gates were not run)"], notes)

    try:
        report = gates.run(lab, mutant_names=mutant_names, thorough=thorough, jobs=jobs, time_scale=time_scale,
                           cache_dir=cache_dir, reuse=reuse_gates, progress=lambda line: progress(f"{lab.id}: {line}"))
    except Exception as exc:  # noqa: BLE001 - e.g. a mutant whose text is no longer in the solution
        _refuse(lab, out_dir, [f"the grading gates could not run: {type(exc).__name__}: {exc}"], notes)
    seconds["gates"] = report.seconds.get("total", 0.0) if not report.reused else 0.0
    notes += report.notes
    if not report.passed:
        _refuse(lab, out_dir, report.failures, notes)

    if snapshot(lab) != before:
        _refuse(lab, out_dir, ["files of the kit changed while the release was being built (someone is editing "
                               "the checkout?): the bundles and the gates may not match; build again"], notes)
    folder = out_dir / lab.id
    (folder / "REFUSED.txt").unlink(missing_ok=True)
    clock = time.perf_counter()
    files = {kind: bundle.write(folder / zip_name(lab, kind)) for kind, bundle in bundles.items()}
    seconds["write"] = round(time.perf_counter() - clock, 2)
    release = LabRelease(lab, files, report, notes, seconds)
    (folder / "build.json").write_text(json.dumps({
        **release.index_entry(out_dir), "gates": report.to_dict(), "notes": notes, "seconds": seconds,
    }, indent=2, ensure_ascii=False) + "\n")
    for kind, w in files.items():
        progress(f"{lab.id}: wrote {w.path} ({w.size / 1024:.0f} KiB, {w.files} files, sha256 {w.sha256[:12]}…)")
    return release


def snapshot(lab: Lab) -> str:
    """A hash of every file a release of ``lab`` reads: the ``grader``
    package, the lab's folders, the pins. Equal before and after a build means
    the bundles and the gates saw the same sources."""
    root = lab.assignment_dir.parent.parent
    folders = [PACKAGE_DIR, lab.assignment_dir, lab.solution_dir, lab.starter_dir]
    files = [p for f in folders for p in sorted(f.rglob("*"))
             if p.is_file() and "__pycache__" not in p.parts and p.name != ".lock"]
    files += [p for p in (repo_root() / "pyproject.toml", repo_root() / "requirements.lock") if p.is_file()]
    return files_digest((str(p.relative_to(root) if p.is_relative_to(root) else p), p) for p in files)


def _refuse(lab: Lab, out_dir: Path, failures: list[str], notes: list[str] | None = None):
    folder = out_dir / lab.id
    for kind in KINDS:
        (folder / zip_name(lab, kind)).unlink(missing_ok=True)
    (folder / "build.json").unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "REFUSED.txt").write_text(f"The release of {lab.id} was refused:\n\n"
                                        + "\n".join(f"- {f}" for f in failures) + "\n")
    raise ReleaseRefused(lab.id, failures, notes)


def release(lab_ids: Iterable[str] | None, out_dir: Path, **options) -> tuple[list[LabRelease], dict[str, ReleaseRefused]]:
    """Build each lab (all labs when ``lab_ids`` is None); a refused lab does not
    stop the others. Updates the index either way."""
    out_dir = Path(out_dir)
    built, refused = [], {}
    for lab_id in (list(lab_ids) if lab_ids is not None else all_lab_ids()):
        try:
            built.append(release_lab(lab_id, out_dir, **options))
        except ReleaseRefused as exc:
            refused[lab_id] = exc
        except LabError as exc:
            refused[lab_id] = ReleaseRefused(lab_id, [f"the lab cannot be loaded: {exc}"])
        except Exception as exc:  # noqa: BLE001 - one broken lab must not stop the others
            refused[lab_id] = ReleaseRefused(lab_id, [f"the release failed: {type(exc).__name__}: {exc}"])
    write_index(out_dir, built, refused)
    return built, refused


def write_index(out_dir: Path, built: list[LabRelease], refused: dict[str, ReleaseRefused]) -> dict:
    """Update ``index.json``, ``index.md`` and ``SHA256SUMS`` in ``out_dir``.

    Labs built now replace their entries; entries of labs not rebuilt are kept
    while their zips are still there, unchanged (by checksum)."""
    path = out_dir / "index.json"
    old = json.loads(path.read_text()) if path.is_file() else {}
    entries = {e["lab"]: e for e in old.get("labs", [])}
    still_refused = dict(old.get("refused", {}))
    for lab_id in list(entries):
        intact = all((out_dir / b["file"]).is_file() and sha256_file(out_dir / b["file"]) == b["sha256"]
                     for b in entries[lab_id]["bundles"].values())
        if not intact:
            del entries[lab_id]
    for release in built:
        entries[release.lab.id] = release.index_entry(out_dir)
        still_refused.pop(release.lab.id, None)
    for lab_id, exc in refused.items():
        entries.pop(lab_id, None)
        still_refused[lab_id] = exc.failures
    index = {"labs": [entries[k] for k in sorted(entries)], "refused": {k: still_refused[k] for k in sorted(still_refused)}}
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(index, indent=2, ensure_ascii=False) + "\n")
    (out_dir / "SHA256SUMS").write_text("".join(
        f"{b['sha256']}  {b['file']}\n" for e in index["labs"] for b in e["bundles"].values()))
    (out_dir / "index.md").write_text(_index_markdown(index))
    return index


def _index_markdown(index: dict) -> str:
    lines = ["# Release index", "",
             "| lab | title | points | checks public/hidden | CPU budget | " + " | ".join(KINDS) + " |",
             "|---|---|---|---|---|" + "---|" * len(KINDS)]
    for e in index["labs"]:
        bundles = [e["bundles"][k] for k in KINDS]
        cells = [f"`{b['file']}` {b['bytes'] / 1024:.0f} KiB, sha256 `{b['sha256'][:12]}`" for b in bundles]
        lines.append(f"| {e['lab']} | {e['title']} | {e['points']:g} | {e['checks']['public']}/{e['checks']['hidden']} "
                     f"| {e['cpu_budget_seconds']:g} s | " + " | ".join(cells) + " |")
    if index["refused"]:
        lines += ["", "## Refused", ""]
        for lab_id, failures in index["refused"].items():
            lines.append(f"- **{lab_id}**: " + "; ".join(f.splitlines()[0] for f in failures))
    lines += ["", "Full checksums: `SHA256SUMS` (`sha256sum -c SHA256SUMS`)."]
    return "\n".join(lines) + "\n"
