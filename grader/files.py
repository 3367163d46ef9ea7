"""File helpers shared by the grader: atomic writes and content hashes.

* :func:`atomic_write` replaces a file in one step, so a reader never sees
  half of it;
* :func:`sha256_file` is the hex SHA-256 of one file's bytes;
* :func:`files_digest` hashes a set of named files into one digest (the key
  of a cache, the fingerprint of a submission); :func:`tree_digest` does it
  for every file under a folder.

Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Iterable


def atomic_write(path: str | Path, data: bytes | str, *, mode: int | None = None) -> Path:
    """Write ``data`` (``str`` is encoded as UTF-8) to ``path`` all at once.

    The bytes go to a temporary file in the same folder, then ``os.replace``
    puts it in place: a rename within one file system is atomic, so a reader
    (or a crash half-way) finds the old file or the new one, never a part.
    ``mode`` (e.g. ``0o600``) is set before any byte is written; without it
    the file gets the usual permissions (``0o666`` less the umask). The
    parent folder must exist. Returns ``path``.
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            if mode is not None:
                os.fchmod(fh.fileno(), mode)  # the umask may have taken bits that ``mode`` asks for
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _file_hash(path: Path) -> "hashlib._Hash":
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256")


def sha256_file(path: str | Path) -> str:
    """The hex SHA-256 of the file's bytes (read in blocks, not whole)."""
    return _file_hash(Path(path)).hexdigest()


def files_digest(files: Iterable[tuple[str, Path]], *, header: bytes | str = b"") -> str:
    """One hex SHA-256 over ``(name, path)`` pairs, in the order given.

    Each file adds its name, a NUL byte and the SHA-256 of its bytes, so a
    renamed, moved or edited file changes the digest and two files cannot
    run into each other. ``header`` (anything else the digest must follow:
    a version, a salt's name) is hashed first.
    """
    h = hashlib.sha256(header.encode("utf-8") if isinstance(header, str) else header)
    for name, path in files:
        h.update(name.encode("utf-8") + b"\0")
        h.update(_file_hash(path).digest())
    return h.hexdigest()


def tree_digest(folder: str | Path) -> str:
    """:func:`files_digest` of every file under ``folder``, named by its
    POSIX path relative to ``folder``, in sorted order."""
    folder = Path(folder)
    return files_digest((p.relative_to(folder).as_posix(), p) for p in sorted(folder.rglob("*")) if p.is_file())
