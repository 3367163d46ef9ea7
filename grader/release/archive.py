"""Reproducible zip archives: the same files give the same bytes.

A :class:`Bundle` is an in-memory map from archive path to file bytes. It is
written with entries sorted by path, a fixed timestamp, fixed Unix
permissions (``0644``, or ``0755`` for executables) and a fixed compression
level, so building a release twice gives byte-identical zips and an
instructor can diff two releases.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import stat
import zipfile
from pathlib import Path, PurePosixPath

from grader.files import atomic_write

#: The earliest timestamp a zip entry can hold (1980-01-01 00:00:00).
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
EXEC_MODE = 0o755


@dataclasses.dataclass
class Bundle:
    """Files of one archive: ``path -> bytes``; ``executables`` get mode 0755.

    Paths are POSIX, relative, and may not climb out of the archive.
    """

    files: dict[str, bytes] = dataclasses.field(default_factory=dict)
    executables: set[str] = dataclasses.field(default_factory=set)

    def add(self, path: str, data: bytes | str, *, executable: bool = False) -> None:
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise ValueError(f"bad archive path {path!r}")
        key = pure.as_posix()
        if key in self.files:
            raise ValueError(f"{key} added twice to the bundle")
        self.files[key] = data.encode() if isinstance(data, str) else bytes(data)
        if executable:
            self.executables.add(key)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for name in sorted(self.files):
                info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
                info.create_system = 3  # Unix, so the permission bits below are honoured
                mode = EXEC_MODE if name in self.executables else FILE_MODE
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, self.files[name], compresslevel=9)
        return buffer.getvalue()

    def write(self, path: Path) -> "Written":
        data = self.to_bytes()
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
        return Written(path, len(data), hashlib.sha256(data).hexdigest(), len(self.files))

    @classmethod
    def read(cls, path: Path) -> "Bundle":
        """Load an existing zip (to scan or re-pack it)."""
        bundle = cls()
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                mode = (info.external_attr >> 16) & 0o777
                bundle.add(info.filename, zf.read(info), executable=bool(mode & 0o100))
        return bundle


@dataclasses.dataclass(frozen=True)
class Written:
    """A zip on disk: where, how big, its sha256, how many files."""

    path: Path
    size: int
    sha256: str
    files: int

