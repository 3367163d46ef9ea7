"""The per-release secret that salts every hidden seed.

Hidden checks (and public checks judged against held-out labels) draw their
inputs from seeds derived from this salt (:attr:`grader.checks.check.Check.seed`),
so a student who reads every public file still cannot recompute a hidden
input or label. It lives in ``.dlkit/salt`` beside the ``grader`` package: in
a repository checkout a random salt is made on first use (the folder is
ignored by git); ``grader release`` writes a fresh one into each autograder
bundle. It never enters the sandbox and never ships to students.
``$DLKIT_SALT`` (hex) overrides the file: the kit's tests use it to grade
with one known salt.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from grader.files import atomic_write

#: Bytes of a new salt.
SIZE = 32


def path(root: Path) -> Path:
    return root / ".dlkit" / "salt"


def load(root: Path, *, create: bool = False) -> bytes | None:
    """The salt for the kit (or bundle) at ``root``: ``$DLKIT_SALT``, else
    ``root/.dlkit/salt``; None when there is none and ``create`` is false."""
    env = os.environ.get("DLKIT_SALT")
    if env:
        return bytes.fromhex(env.strip())
    file = path(root)
    if file.is_file():
        return bytes.fromhex(file.read_text().strip())
    if not create:
        return None
    return write(root, secrets.token_bytes(SIZE))


def write(root: Path, salt: bytes) -> bytes:
    """Store ``salt`` for the kit or bundle at ``root`` (readable by its owner only)."""
    file = path(root)
    file.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(file, salt.hex() + "\n", mode=0o600)
    return salt


def digest(salt: bytes | None) -> str:
    """A short public name for a salt (which fixtures were made with it)."""
    return "unsalted" if salt is None else hashlib.sha256(b"dlkit-salt-name:" + salt).hexdigest()[:16]
