"""The hostile corpus (``tests/sandbox/hostile/``) graded in ONE batch, with an honest
submission, a notebook and broken archives: every submission gets its row
with the expected score, the honest ones get full marks, and nothing the
attacks tried reached the grader, its files, the network or the machine.

The batch runs at every isolation level this machine provides: the
strongest (which must be buildable: a machine that allows a jail never
skips these tests) and each weaker sandboxing level, forced (as root:
``userns-jail`` and ``uid``, the level of containers that refuse
namespaces). Only ``process``, which isolates nothing, is never used.

Quick checks only (no training), two workers, and small limits (1 GB of
memory: an honest worker peaks near 0.7 GB; 16 processes; 256 MB of disk),
so the memory, fork and disk bombs are stopped early (and are bounded even if
they were not)."""

import hashlib
import io
import json
import os
import re
import socket
import threading
import uuid
import zipfile
from pathlib import Path

import pytest

from grader.core import batch
from grader.labs import fixtures
from grader.labs.lab import Lab, repo_root
from grader.sandbox import GIB, LEVELS as SANDBOX_LEVELS, Limits, isolation, supported

CHECKS = ["conv_arithmetic", "conv2d_forward", "max_pool", "avg_pool", "dropout"]
CORPUS = Path(__file__).resolve().parent / "hostile"
ROOT = repo_root()
WATCHED = ["grader/checks/judges.py", "grader/core/runner.py", "assignments/cnn/fixtures/hidden.json",
           "assignments/cnn/fixtures/hidden.npz", "solutions/cnn/cnn.py"]

#: Levels the corpus runs at: the strongest ("auto") in the default tier, then
#: each weaker one forced in the full tier (two minutes each; the weaker levels'
#: own mechanisms are tested in test_sandbox.py). As root, ``userns-jail`` is a
#: level no one grades with (root gets ``root-jail``).
LEVELS = ["auto", pytest.param("userns-jail", marks=pytest.mark.full), pytest.param("uid", marks=pytest.mark.full)]
#: Attacks graded on their own (they print a lot, and what they print is the test).
ALONE = {"snoop"}


def level_or_skip(param: str) -> str:
    """The level to grade at; a skip only where this machine cannot provide
    it at all (never for the strongest: that must be buildable)."""
    best, why_not = supported()
    if param == "auto":
        if best == "process":
            pytest.skip("no sandbox on this machine (needs root or user namespaces): "
                        "the attacks would really read and write files")
        return isolation()
    if SANDBOX_LEVELS.index(param) < SANDBOX_LEVELS.index(best):
        pytest.skip(f"{param} is stronger than what this machine allows ({why_not.get(param, '')})")
    if param == best:
        pytest.skip(f"{param} is this machine's strongest level, graded as 'auto'")
    if param == "uid" and os.geteuid() != 0:
        pytest.skip("the uid level needs root")
    return isolation(param)


def header(path: Path) -> dict:
    """base, lost ({check: status} or "*"), kept ({check: fraction of its points still earned,
    0 unless ``check=status@fraction``}) and why, from a corpus file's header."""
    fields = dict(re.findall(r"^# (\w+): ?(.*)$", path.read_text(), re.M))
    lost = fields.get("lost", "").strip()
    pairs = [p.strip().split("=") for p in lost.split(",") if p.strip()] if lost != "*" else []
    fields["lost"] = "*" if lost == "*" else {name: status.split("@")[0] for name, status in pairs}
    fields["kept"] = {name: float(status.split("@")[1]) for name, status in pairs if "@" in status}
    return fields


#: The class table's status of the files that cannot be imported (the rest are "graded").
NOT_IMPORTED = {"syntax_error": "syntax error", "import_error": "import error", "import_crash": "import error"}
CASES = sorted(p.name.removesuffix(".py.in") for p in CORPUS.glob("*.py.in") if p.name.removesuffix(".py.in") not in ALONE)


class Listener:
    """A TCP server on the grading machine that the network attack tries to reach."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue


def _digest(rel: str) -> str:
    path = ROOT / rel
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


def _notebook(source: str) -> bytes:
    """The reference as a notebook, with magics and shell escapes a student leaves in."""
    parts = source.split("\n\n\n")
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# My CNN lab\n"]},
             {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
              "source": ["%matplotlib inline\n", "!pip install numpy\n", "%%capture is not a cell magic here\n"]}]
    third = len(parts) // 3
    for chunk in ("\n\n\n".join(parts[:third]), "\n\n\n".join(parts[third:2 * third]), "\n\n\n".join(parts[2 * third:])):
        cells.append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                      "source": [line + "\n" for line in chunk.splitlines()]})
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()


def _zip(entries: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            if isinstance(data, zipfile.ZipInfo):
                zf.writestr(data, name)
            else:
                zf.writestr(name, data)
    return buffer.getvalue()


def _submission(lab, name: str, values: dict) -> str:
    bases = {"solution": lab.solution_file.read_text(), "starter": lab.starter_file.read_text()}
    snippet = (CORPUS / f"{name}.py.in").read_text()
    for key, value in values.items():
        snippet = snippet.replace(key, value)
    base = bases[header(CORPUS / f"{name}.py.in")["base"]]
    return f"{base}\n\n# ---- appended by tests/sandbox/hostile/{name}.py.in ----\n{snippet}"


@pytest.fixture(scope="module", params=LEVELS)
def graded(request, tmp_path_factory):
    level = level_or_skip(request.param)
    lab = Lab.load("cnn")
    folder = tmp_path_factory.mktemp("hostile-submissions")
    out = tmp_path_factory.mktemp("hostile-grades")
    listener = Listener()
    marker = Path(f"/tmp/dlkit-hostile-{uuid.uuid4().hex}")
    secret = uuid.uuid4().hex
    os.environ["DLKIT_HOSTILE_SECRET"] = secret
    values = {"{{REPO}}": str(ROOT), "{{PORT}}": str(listener.port), "{{MARKER}}": str(marker),
              "{{SECRET}}": secret}
    bases = {"solution": lab.solution_file.read_text(), "starter": lab.starter_file.read_text()}
    for name in CASES:
        (folder / f"{name}.py").write_text(_submission(lab, name, values))
    (folder / "notebook.ipynb").write_bytes(_notebook(bases["solution"]))
    (folder / "broken_zip.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    (folder / "zip_slip.zip").write_bytes(_zip({"cnn.py": bases["solution"], "../../evil.py": "print('escaped')"}))
    link = zipfile.ZipInfo("passwd")
    link.create_system, link.external_attr = 3, (0o120777 << 16)
    (folder / "zip_symlink.zip").write_bytes(_zip({"lab/cnn.py": bases["solution"], "/etc/passwd": link}))
    fixtures.ensure(lab)  # made for the salt first: the batch must then leave them as they are
    before = {rel: _digest(rel) for rel in WATCHED}
    options = batch.Options(jobs=2, names=CHECKS, progress=False,
                            limits=Limits(memory=1 * GIB, max_processes=16, max_disk=256 << 20, startup=180,
                                          isolation=level))
    try:
        outcome = batch.run(lab, [folder], out, options)
    finally:
        listener.stop.set()
        os.environ.pop("DLKIT_HOSTILE_SECRET", None)
    yield {"level": level, "lab": lab, "outcome": outcome, "rows": {r.id: r for r in outcome.rows}, "out": out, "marker": marker,
           "listener": listener, "secret": secret, "before": before,
           "points": {c.name: c.points for c in lab.checks() if c.name in CHECKS}}
    marker.unlink(missing_ok=True)


def test_one_row_per_submission(graded):
    rows = graded["rows"]
    assert set(rows) == set(CASES) | {"notebook", "broken_zip", "zip_slip", "zip_symlink"}
    lines = (graded["out"] / "grades.csv").read_text().strip().splitlines()
    assert len(lines) == 1 + len(rows)
    assert len((graded["out"] / "results.jsonl").read_text().strip().splitlines()) == len(rows)


@pytest.mark.parametrize("case", CASES)
def test_expected_score(graded, case):
    spec = header(CORPUS / f"{case}.py.in")
    row = graded["rows"][case]
    assert row.status == NOT_IMPORTED.get(case, "graded"), row.message
    statuses = {c.name: c.status for c in row.result.checks}
    if spec["lost"] == "*":
        assert row.result.score == 0, statuses
        assert "passed" not in statuses.values()
        return
    full = sum(graded["points"].values())
    lost = sum(graded["points"][n] * (1 - spec["kept"].get(n, 0.0)) for n in spec["lost"])
    assert row.result.score == pytest.approx(full - lost, abs=1e-5), statuses
    for name, status in statuses.items():
        assert status == spec["lost"].get(name, "passed"), (name, row.result.by_name()[name].message)


def test_honest_submissions_get_full_marks(graded):
    full = sum(graded["points"].values())
    for case in ("honest", "notebook", "zip_symlink"):
        assert graded["rows"][case].result.score == pytest.approx(full), case
    notes = " ".join(graded["rows"]["notebook"].result.info.notes)
    assert "%matplotlib inline" in notes and "!pip install numpy" in notes
    assert "symbolic link" in " ".join(graded["rows"]["zip_symlink"].result.info.notes)


def test_broken_inputs_become_rows(graded):
    rows = graded["rows"]
    assert rows["broken_zip"].status == "intake error" and "not a readable zip" in rows["broken_zip"].message
    assert rows["zip_slip"].status == "intake error" and "escapes its folder" in rows["zip_slip"].message
    assert not (graded["out"].parent / "evil.py").exists()
    for case in ("broken_zip", "zip_slip"):
        assert rows[case].result.score == 0
        assert (graded["out"] / case / "feedback.md").is_file()


def test_hidden_files_cannot_be_read(graded):
    output = graded["rows"]["read_hidden"].result.info.output
    assert "READ" not in output and "blocked" in output
    assert "BEGIN SOLUTION" not in output


def test_nothing_outside_the_sandbox_was_written(graded):
    if graded["level"] == "uid":
        # Without a mount namespace the machine's /tmp is shared (world-writable
        # by design): the marker may be there, and nothing else may.
        graded["marker"].unlink(missing_ok=True)
    assert not graded["marker"].exists()
    assert {rel: _digest(rel) for rel in WATCHED} == graded["before"]
    assert not (ROOT / "pwned.txt").exists()
    for case in ("write_outside", "patch_grader"):
        output = graded["rows"][case].result.info.output
        wrote = [line for line in output.splitlines() if line.startswith(("WROTE", "PATCHED"))]
        # The marker's path is the sandbox's own private /tmp inside a jail: allowed, and gone with it.
        # In a user namespace the worker is its box's owner: it may write there too (the box is wiped,
        # and what the grader reads back from it is read defensively).
        allowed = [f"WROTE {graded['marker']}"] + (["WROTE /dlkit/box/escape.txt"] if graded["level"] == "userns-jail" else [])
        assert set(wrote) <= set(allowed), output


def test_no_network(graded):
    if graded["level"] == "uid":
        # No network namespace at this level: reports say so (see describe()).
        assert "network" in graded["rows"]["honest"].result.info.isolation_detail
        return
    assert graded["listener"].connections == 0
    output = graded["rows"]["network"].result.info.output
    assert "CONNECTED" not in output and "no network to 127.0.0.1" in output


def test_environment_is_scrubbed(graded):
    assert graded["secret"] not in (graded["out"] / "results.jsonl").read_text()
    assert "ENV" in graded["rows"]["env_leak"].result.info.output


def test_fake_scores_change_nothing(graded):
    result = json.loads((graded["out"] / "fake_scores" / "gradescope-results.json").read_text())
    assert result["score"] == 0
    assert "14/14" in graded["rows"]["fake_scores"].result.info.output


def test_bombs_are_stopped_for_the_right_reason(graded):
    rows = graded["rows"]
    memory = rows["memory_bomb"].result.by_name()["conv2d_forward"]
    forks = rows["fork_bomb"].result.by_name()["max_pool"]
    assert memory.extra["reason"] == "memory" and "memory" in memory.message
    assert forks.extra["reason"] == "processes" and "processes" in forks.message
    loop = rows["infinite_loop"].result.by_name()["max_pool"]
    assert loop.extra["reason"] == "timeout" and "longer than its limit" in loop.message
    assert rows["memory_bomb"].result.info.peak_rss < 3 * GIB  # stopped long before its 4 GB
    disk = rows["disk_filler"].result.by_name()["max_pool"]
    assert disk.extra["reason"] == "disk" and "to disk" in disk.message


def test_no_process_outlives_the_batch(graded):
    import psutil

    level = graded["rows"]["honest"].result.info.isolation
    uids = {r.result.info.uid for r in graded["outcome"].rows if r.result and r.result.info.uid}
    if level in ("root-jail", "uid"):
        assert uids, f"{level} runs each submission as its own user"
    leftovers = [p.pid for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real in uids]
    assert leftovers == []


def test_enormous_output_is_truncated_with_a_note(graded):
    info = graded["rows"]["enormous_output"].result.info
    assert info.output_truncated and info.output_bytes > 30_000_000
    assert len(info.output) < 25_000
    assert "FIRST LINE OF OUTPUT" in info.output and "LAST LINE OF OUTPUT" in info.output
    assert "bytes of output not shown" in info.output


def test_messages_name_the_problem(graded):
    rows = graded["rows"]
    assert "NaN" in rows["nan_outputs"].result.by_name()["conv2d_forward"].message
    assert "inf" in rows["nan_outputs"].result.by_name()["avg_pool"].message
    assert "SIGSEGV" in rows["import_crash"].result.checks[0].message
    assert "SyntaxError" in rows["syntax_error"].result.checks[0].message
    assert "does not define `max_pool_backward`" in rows["missing_functions"].result.by_name()["max_pool"].message
    assert "returned a dict" in rows["wrong_types"].result.by_name()["conv2d_forward"].message
    assert "expected a numeric array of shape (2, 6, 6, 4)" in rows["wrong_types"].result.by_name()["conv2d_forward"].message
    assert "sys.exit" in rows["sys_exit"].result.by_name()["max_pool"].message
    feedback = (graded["out"] / "memory_bomb" / "feedback.md").read_text()
    assert "more memory than one submission may use" in feedback


# -- a submission that searches for hidden material ------------------------------

def _hidden_material(lab) -> dict[str, set[str]]:
    """What must never reach a student's feedback: hidden check source lines,
    hidden checks' lab.toml lines, their input seeds, the salt."""
    from grader.labs.anatomy import SHIPPED_CHECK_FILES

    def lines(text):
        return {" ".join(l.split()) for l in text.splitlines()}

    shipped = set()
    for path in [*(lab.assignment_dir / "checks" / n for n in SHIPPED_CHECK_FILES), lab.solution_file,
                 *sorted((ROOT / "grader").rglob("*.py"))]:
        if path.is_file():
            shipped |= lines(path.read_text())
    source = set()
    for name in ("hidden.py", "private.py"):
        path = lab.assignment_dir / "checks" / name
        if path.is_file():
            source |= {l for l in lines(path.read_text()) if len(l) >= 30 and l not in shipped}
    hidden = lab.checks("hidden")
    toml, inside = set(), False
    for raw in (lab.assignment_dir / "lab.toml").read_text().splitlines():
        line = " ".join(raw.split("#", 1)[0].split())
        if line.startswith("["):
            inside = any(line.startswith(f"[checks.{c.name}]") or line.startswith(f"[checks.{c.name}.")
                         for c in hidden)
        elif inside and len(line) >= 8:
            toml.add(line)
    return {"source": source, "toml": toml, "seeds": {str(c.seed) for c in hidden},
            "salt": {lab.salt.hex()}}


@pytest.fixture(scope="module", params=LEVELS)
def snooped(request, tmp_path_factory):
    level = level_or_skip(request.param)
    lab = Lab.load("cnn")
    folder = tmp_path_factory.mktemp("snoop-submissions")
    out = tmp_path_factory.mktemp("snoop-grades")
    (folder / "snoop.py").write_text(_submission(lab, "snoop", {"{{REPO}}": str(ROOT)}))  # it may guess where the kit is
    options = batch.Options(jobs=1, names=CHECKS, progress=False,
                            limits=Limits(isolation=level, output_tail=16 << 20, startup=180))
    outcome = batch.run(lab, [folder], out, options)
    return {"lab": lab, "row": outcome.rows[0], "out": out}


def test_snooping_earns_the_honest_score(snooped):
    row = snooped["row"]
    assert row.status == "graded", row.message
    points = sum(c.points for c in snooped["lab"].checks() if c.name in CHECKS)
    assert row.result.score == pytest.approx(points), [(c.name, c.message) for c in row.result.checks]
    output = row.result.info.output
    assert "SNOOP end import" in output and "SNOOP end hidden check" in output, output[-3000:]
    assert not row.result.info.output_truncated


def test_snooping_finds_no_hidden_material(snooped):
    material = _hidden_material(snooped["lab"])
    assert material["source"] and material["seeds"], "nothing to look for: the test is broken"
    folder = snooped["out"] / snooped["row"].id
    texts = {"output": snooped["row"].result.info.output}
    for name in ("feedback.md", "feedback.html", "gradescope-results.json"):
        texts[name] = (folder / name).read_text()
    texts["results.jsonl"] = (snooped["out"] / "results.jsonl").read_text()
    for where, text in texts.items():
        flat = " ".join(text.split())
        for kind, needles in material.items():
            found = sorted(n for n in needles if n in flat)
            assert not found, f"{kind} of hidden checks in {where}: {found[:3]}"


def test_the_snoop_does_find_hidden_material_without_a_sandbox(tmp_path):
    """The snooping test can fail: run without isolation (``process``, only
    ever used when asked for), the same submission prints hidden check code."""
    from grader.core.grading import grade

    lab = Lab.load("cnn")
    (tmp_path / "cnn.py").write_text(_submission(lab, "snoop", {"{{REPO}}": str(ROOT)}))
    result = grade(lab, tmp_path, names=["avg_pool"], limits=Limits(isolation="process", output_tail=16 << 20))
    flat = " ".join(result.info.output.split())
    material = _hidden_material(lab)
    assert [line for line in material["source"] if line in flat], "the snoop found nothing even unsandboxed"
