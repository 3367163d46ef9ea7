"""The leak scan: nothing private may reach a student bundle.

Every file of a student bundle is read (notebooks cell by cell, outputs and
metadata included; ``.npz`` archives array by array) and compared with what
only graders may see:

* **solution lines**: every whitespace-normalised line from inside a
  ``# BEGIN SOLUTION`` block (:func:`grader.labs.markers.solution_lines`) longer than
  12 characters, unless the same line also appears outside the blocks (then it
  is in the starter by design), or is shorter than 50 characters and also in
  shipped code (the grader package, the public checks: a common idiom such
  as ``rng = np.random.default_rng(seed)`` tells nothing). A line matches with or without a leading
  ``#``, ``>>>`` or ``...`` (commented-out or doctest-style copies count);
* **hidden check source**: normalised lines of the hidden check modules
  (longer than 12 characters, and in no shipped source: public checks, the
  ``grader`` package, the starter), two in a row, or one of 50 characters or
  more (a lone short line may be a common idiom such as
  ``with tf.GradientTape() as tape:``);
* **hidden check names and titles**: a hidden check's name or class name, and
  the name of every helper ``checks/private.py`` defines, as a whole word, and
  a hidden check's title (the docstring's first line). A name that is also
  a word of the starter code (``dropout`` in the CNN lab) cannot be told apart
  from the starter's own identifier, so it is reported as exempt and the check
  is still found through its title and source;
* **private files**: any file with the bytes of a hidden check module, hidden
  fixture, label file, mutant list or solution file, any file at such a path,
  and any array equal to an array of a private ``.npz``;
* **the salt**: the file ``.dlkit/salt`` and the salt's bytes (hex) anywhere.

There is no way to switch the scan off: a bundle with a finding is not built.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Iterator

import numpy as np

from grader.checks.check import HIDDEN, PUBLIC
from grader.labs.lab import Lab
from grader.labs.markers import make_starter, solution_lines
from grader.release.archive import Bundle
from grader.release.contents import PACKAGE_DIR, public_lab_files

#: Lines this short ("return out", "x = x.T") are too common to mean anything.
MIN_LINE = 13
#: A hidden check line this long is flagged alone; shorter ones only in pairs.
MIN_HIDDEN_LONE = 50
#: Titles shorter than this are too generic to scan for.
MIN_TITLE = 20
#: Files smaller than this (bytes) are matched by path only.
MIN_FILE = 32
#: Arrays smaller than this may coincide by chance.
MIN_ARRAY = 8
#: Files of ``assignments/<lab>`` that are public by design (besides
#: :func:`~grader.release.contents.public_lab_files`).
AUTHORED_PUBLIC = ("lab.toml", "README.md", "README.zh.md", "notebook.py")

_PREFIX = re.compile(r"^(?:#+|>>>|\.\.\.|`+)\s*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclasses.dataclass(frozen=True)
class Leak:
    """One finding: where it is and what it matches."""

    bundle: str
    path: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.bundle}: {self.path}: {self.kind}: {self.detail}"


def normalise(line: str) -> str:
    return " ".join(line.split())


def _bare(line: str) -> str:
    """A normalised line without leading comment/prompt markers or backticks."""
    previous = None
    while previous != line:
        previous, line = line, _PREFIX.sub("", line).strip().rstrip("`").strip()
    return line


def _array_key(array: np.ndarray) -> str:
    array = np.ascontiguousarray(array)
    return hashlib.sha256(f"{array.dtype.str}{array.shape}".encode() + array.tobytes()).hexdigest()


def _npz_arrays(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


class LeakScanner:
    """What is private in one lab, and :meth:`scan` to look for it in a bundle."""

    def __init__(self, lab: Lab):
        self.lab = lab
        starter_texts = _starter_texts(lab)

        # What ships by design: the public checks, the grader package, the starter.
        public = public_lab_files(lab)
        shipped_lines = set()
        for path in [*public.values(), *sorted(PACKAGE_DIR.rglob("*.py"))]:
            if path.suffix == ".py":
                shipped_lines |= {normalise(l) for l in path.read_text().splitlines()}
        for text in starter_texts:
            shipped_lines |= {normalise(l) for l in text.splitlines()}

        # Solution lines that are not also outside the markers (those ship in the starter),
        # each with where it comes from, so a finding points at both ends.
        self.solution_lines: dict[str, str] = {}
        #: Short solution lines that shipped code also has: not scannable.
        self.exempt_lines: set[str] = set()
        for path in sorted(lab.solution_dir.rglob("*.py")):
            text = path.read_text()
            outside = {normalise(l) for l in make_starter(text).splitlines()}
            inside = set(solution_lines(text))
            rel = path.relative_to(lab.solution_dir.parent.parent).as_posix()
            for number, raw in enumerate(text.splitlines(), 1):
                line = normalise(raw)
                if line in inside and len(line) >= MIN_LINE and line not in outside:
                    if len(line) < MIN_HIDDEN_LONE and line in shipped_lines:
                        # A short idiom the kit's shipped code also has ("with tf.GradientTape()
                        # as tape:"): its presence in a bundle says nothing of the solution.
                        self.exempt_lines.add(line)
                        continue
                    self.solution_lines.setdefault(line, f"{rel}:{number}")

        # Hidden check modules: every checks/*.py that no public check imports.
        checks_dir = lab.assignment_dir / "checks"
        private_modules = [p for p in sorted(checks_dir.glob("*.py")) if f"checks/{p.name}" not in public]
        self.hidden_lines = {normalise(l) for p in private_modules for l in p.read_text().splitlines()}
        self.hidden_lines = {l for l in self.hidden_lines if len(l) >= MIN_LINE and l not in shipped_lines}

        hidden = lab.checks(HIDDEN)
        #: Hidden names that are also words of the starter: not scannable as names.
        self.exempt_names = hidden_names(lab)[1]
        self.name_pattern = hidden_name_pattern(lab)
        self.titles = sorted({normalise(c.title).lower() for c in hidden if len(normalise(c.title)) >= MIN_TITLE})

        # Private files: everything in the lab folder that is not public by design, and the solution.
        self.private_paths: dict[str, str] = {}  # sha256 -> where it comes from
        self.private_suffixes: list[str] = []
        self.private_arrays: dict[str, str] = {}
        for path in sorted(lab.assignment_dir.rglob("*")):
            rel = path.relative_to(lab.assignment_dir).as_posix()
            if not path.is_file() or "__pycache__" in path.parts or rel in public or rel in AUTHORED_PUBLIC:
                continue
            self._add_private(path, f"assignments/{lab.id}/{rel}")
            self.private_suffixes.append(rel)
        for path in sorted(lab.solution_dir.rglob("*")):
            rel = path.relative_to(lab.solution_dir)
            starter = lab.starter_dir / rel
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            if starter.is_file() and starter.read_bytes() == path.read_bytes():
                continue  # a data file the starter ships unchanged
            self._add_private(path, f"solutions/{lab.id}/{rel.as_posix()}")

    def _add_private(self, path: Path, where: str) -> None:
        data = path.read_bytes()
        if len(data) >= MIN_FILE:  # an empty or tiny file matches too much by chance
            self.private_paths[hashlib.sha256(data).hexdigest()] = where
        if path.suffix == ".npz":
            for key, array in _npz_arrays(data).items():
                if array.size >= MIN_ARRAY:
                    self.private_arrays[_array_key(array)] = f"{where}[{key}]"

    # -- scanning ----------------------------------------------------------------
    def scan(self, bundle: Bundle, name: str) -> list[Leak]:
        """Every finding in ``bundle`` (named ``name`` in the messages)."""
        leaks: list[Leak] = []
        salt = self.lab.salt.hex().encode() if self.lab.salt else None
        for path in sorted(bundle.files):
            data = bundle.files[path]
            if path.endswith(".dlkit/salt") or (salt and salt in data.lower()):
                leaks.append(Leak(name, path, "salt", "the secret salt of hidden seeds"))
            where = self.private_paths.get(hashlib.sha256(data).hexdigest())
            if where:
                leaks.append(Leak(name, path, "private file", f"a copy of {where}"))
            for rel in self.private_suffixes:
                if path == rel or path.endswith("/" + rel):
                    leaks.append(Leak(name, path, "private file", f"has the path of assignments/{self.lab.id}/{rel}"))
            if path.endswith(".npz"):
                leaks += self._scan_arrays(name, path, data)
                continue
            for location, lines in _text_parts(path, data):
                leaks += self._scan_lines(name, location, lines)
        return leaks

    def _scan_arrays(self, name: str, path: str, data: bytes) -> list[Leak]:
        try:
            arrays = _npz_arrays(data)
        except Exception as exc:  # noqa: BLE001 - an unreadable archive cannot be cleared
            return [Leak(name, path, "unreadable archive", f"could not be scanned ({exc})")]
        return [Leak(name, f"{path}[{key}]", "private array", f"equals {self.private_arrays[_array_key(a)]}")
                for key, a in arrays.items() if a.size >= MIN_ARRAY and _array_key(a) in self.private_arrays]

    def _scan_lines(self, name: str, location: str, lines: list[str]) -> list[Leak]:
        leaks = []
        numbered = [(n, normalise(raw), raw) for n, raw in enumerate(lines, 1) if raw.strip()]
        hidden = [bool({line, _bare(line)} & self.hidden_lines) for _, line, _ in numbered]
        for i, (number, line, raw) in enumerate(numbered):
            here = f"{location}:{number}"
            source = self.solution_lines.get(line) or self.solution_lines.get(_bare(line))
            if source:
                leaks.append(Leak(name, here, "solution line", f"{_short(line)} (as in {source})"))
            # One short hidden line may be an idiom ("with tf.GradientTape() as tape:");
            # a long one, or two in a row, is a copy.
            if hidden[i] and (len(line) >= MIN_HIDDEN_LONE or (i and hidden[i - 1])
                              or (i + 1 < len(hidden) and hidden[i + 1])):
                leaks.append(Leak(name, here, "hidden check source", _short(line)))
            if self.name_pattern and (m := self.name_pattern.search(raw)):
                leaks.append(Leak(name, here, "hidden check name", f"{m.group(1)!r} in {_short(line)}"))
            lowered = line.lower()
            for title in self.titles:
                if title in lowered:
                    leaks.append(Leak(name, here, "hidden check title", _short(title)))
        return leaks


def _starter_texts(lab: Lab) -> list[str]:
    return [p.read_text() for p in sorted(lab.starter_dir.rglob("*.py")) if "__pycache__" not in p.parts]


def hidden_names(lab: Lab) -> tuple[list[str], list[str]]:
    """``(scanned, exempt)``: the hidden checks' names and class names, split
    into those the scan looks for and those that are also words of the starter
    (or names of public checks) and so cannot be told apart from them."""
    hidden = lab.checks(HIDDEN)
    names = {c.name for c in hidden} | {type(c).__name__ for c in hidden} | private_helper_names(lab)
    public = lab.checks(PUBLIC)
    known = {w for text in _starter_texts(lab) for w in _WORD.findall(text)}
    known |= {c.name for c in public} | {type(c).__name__ for c in public}
    shipped = [*sorted(PACKAGE_DIR.rglob("*.py")), *public_lab_files(lab).values()]
    known |= {w for path in shipped if path.suffix == ".py" for w in _WORD.findall(path.read_text())}
    exempt = sorted(names & known)
    return sorted(names - known, key=lambda n: (-len(n), n)), exempt


def shipped_word_location(lab: Lab, word: str) -> str:
    """Where ``word`` first occurs as a whole word in what a student bundle
    ships (the starter, the public check files, the ``grader`` package), as
    ``path:line`` (or the public check that bears the name); '' if nowhere."""
    for check in lab.checks(PUBLIC):
        if word in (check.name, type(check).__name__):
            return f"the public check {check.name}"
    paths = [*sorted(p for p in lab.starter_dir.rglob("*.py") if "__pycache__" not in p.parts),
             *public_lab_files(lab).values(), *sorted(PACKAGE_DIR.rglob("*.py"))]
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])")
    root = lab.starter_dir.parent.parent
    for path in paths:
        if path.suffix != ".py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                shown = path.relative_to(root) if path.is_relative_to(root) else path
                return f"{Path(shown).as_posix()}:{number}"
    return ""


def private_helper_names(lab: Lab) -> set[str]:
    """Module-level names ``checks/private.py`` defines (helpers of hidden checks only)."""
    import ast

    path = lab.assignment_dir / "checks" / "private.py"
    if not path.is_file():
        return set()
    out = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Assign):
            out |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return {n for n in out if len(n) >= 6}


def hidden_name_pattern(lab: Lab) -> re.Pattern | None:
    """A regex matching any scanned hidden check name as a whole word."""
    scanned, _ = hidden_names(lab)
    if not scanned:
        return None
    return re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, scanned)) + r")(?![A-Za-z0-9_])")


def _text_parts(path: str, data: bytes) -> Iterator[tuple[str, list[str]]]:
    """``(location, lines)`` of every readable text in a file; notebooks cell by
    cell (source, outputs, attachments' names, metadata)."""
    if path.endswith(".ipynb"):
        try:
            nb = json.loads(data)
        except ValueError:
            yield path, data.decode(errors="replace").splitlines()
            return
        yield f"{path} (metadata)", json.dumps(nb.get("metadata", {}), ensure_ascii=False, indent=1).splitlines()
        for i, cell in enumerate(nb.get("cells", []), 1):
            yield f"{path} cell {i}", _joined(cell.get("source", "")).splitlines()
            metadata = json.dumps(cell.get("metadata", {}), ensure_ascii=False, indent=1)
            yield f"{path} cell {i} (metadata)", metadata.splitlines()
            for j, output in enumerate(cell.get("outputs", []), 1):
                texts = [_joined(output.get("text", ""))]
                texts += [_joined(v) for v in output.get("data", {}).values() if isinstance(v, (str, list))]
                texts += [re.sub(r"\x1b\[[0-9;]*m", "", t) for t in output.get("traceback", [])]
                texts += [str(output.get("evalue", ""))]
                yield f"{path} cell {i} output {j}", "\n".join(texts).splitlines()
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # binary (images, archives other than .npz): nothing line-shaped to compare
    yield path, text.splitlines()


def _joined(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
