"""Zip archives read without trusting them.

An archive's names, types and sizes all come from the student (or from a
tool they ran), so:

* a member whose path is absolute or escapes its folder (zip-slip) refuses
  the archive (:func:`list_members`);
* names not flagged UTF-8 are decoded as UTF-8, else GBK (Chinese Windows),
  else with replacement characters (:func:`decode_member_name`);
* symbolic links and special files are skipped with a note
  (:func:`extract_members`);
* sizes are counted while inflating, not read from headers, so an archive
  that expands past the limits (a zip bomb) is refused (:func:`read_member`).

Only reading lives here; what to make of the files is :mod:`grader.intake.staging`'s job.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import stat
import zipfile
from pathlib import Path

from grader.intake.submission import JUNK, IntakeError, IntakeLimits
from grader.intake.text import decode_utf8_or_gbk


@dataclasses.dataclass
class ZipMember:
    """A regular file of an archive."""

    info: zipfile.ZipInfo
    #: Decoded, normalised and relative: ``/``-separated, no ``.`` or ``..``
    #: parts, control characters replaced.
    name: str


def open_zip(source: Path | bytes, label: str) -> zipfile.ZipFile:
    """The zip file at ``source`` (a path, or the bytes of a zip inside
    another); :class:`IntakeError` naming ``label`` when it is not one."""
    try:
        return zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except zipfile.BadZipFile as exc:
        raise IntakeError(f"{label} is not a readable zip file ({exc})") from None


def decode_member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as its author wrote it, with ``/`` separators."""
    name = info.filename
    if not info.flag_bits & 0x800:  # not flagged UTF-8: zipfile decoded it as cp437
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            raw = name.encode("utf-8", "replace")
        name, _ = decode_utf8_or_gbk(raw)
    return name.replace("\\", "/")


def list_members(zf: zipfile.ZipFile, limits: IntakeLimits, label: str) -> list[ZipMember]:
    """The archive's regular files, with safe relative names (folders and
    :data:`JUNK` left out). Raises :class:`IntakeError` for a path that is
    absolute or escapes the archive, and for an archive too large to be a
    submission; ``label`` names the archive in the message."""
    infos = zf.infolist()
    if len(infos) > limits.max_files * 10:
        raise IntakeError(f"{label} holds {len(infos)} entries, too many for a submission")
    out = []
    declared = 0
    for info in infos:
        name = decode_member_name(info)
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
            raise IntakeError(f"{label} holds an absolute path ({name!r}); zip your folder again from inside it")
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise IntakeError(f"{label} holds a path that escapes its folder ({name!r}); zip your folder again")
        if info.is_dir() or not parts:
            continue
        if any(p in JUNK or p.startswith("._") for p in parts):
            continue
        declared += info.file_size
        if declared > limits.max_export:
            raise IntakeError(f"{label} expands to more than {limits.max_export >> 30} GB")
        parts = [re.sub(r"[\x00-\x1f]", "_", p) for p in parts]
        out.append(ZipMember(info, "/".join(parts)))
    return out


def member_kind(info: zipfile.ZipInfo) -> str:
    """``"file"``, ``"symlink"`` or ``"special"`` (a device, a FIFO, …), from
    the Unix mode bits of an archive made on Unix; ``"file"`` otherwise."""
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_IFMT(mode):  # made on Unix, with a file type
        if stat.S_ISLNK(mode):
            return "symlink"
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            return "special"
    return "file"


def read_member(zf: zipfile.ZipFile, m: ZipMember, limits: IntakeLimits, budget: list[int]) -> bytes:
    """A member's bytes, counted as they are inflated (headers can lie).

    ``budget`` is a one-element list: the bytes the whole submission may
    still inflate to, shared by every read of one submission and lowered by
    this one. A member larger than ``limits.max_file`` reads as ``b""``."""
    info = m.info
    if info.compress_size and info.file_size > (1 << 20) and info.file_size / info.compress_size > limits.max_ratio:
        raise IntakeError(f"{m.name} is compressed {info.file_size // info.compress_size}:1, "
                          "which only a zip bomb is; refusing the archive")
    chunks, size = [], 0
    with zf.open(info) as fh:
        while chunk := fh.read(1 << 20):
            size += len(chunk)
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise IntakeError(f"the archive expands to more than {limits.max_total >> 20} MB (a zip bomb?)")
            if size > limits.max_file:
                return b""
            chunks.append(chunk)
    return b"".join(chunks)


def extract_members(zf: zipfile.ZipFile, members: list[ZipMember], prefix: str, dest: Path, limits: IntakeLimits,
                    notes: list[str]) -> list[tuple[str, bytes]]:
    """Extract the members under ``prefix`` (``""``: all) into ``dest``,
    safely; notes on what was skipped go to ``notes``. The zips found inside
    are returned as ``(name relative to prefix, bytes)``, not extracted."""
    budget = [limits.max_total]
    nested = []
    count = 0
    for m in members:
        if prefix and not m.name.startswith(prefix + "/"):
            continue
        rel = m.name[len(prefix) + 1:] if prefix else m.name
        kind = member_kind(m.info)
        if kind != "file":
            notes.append(f"skipped {rel} (a {'symbolic link' if kind == 'symlink' else 'special file'} in the archive)")
            continue
        count += 1
        if count > limits.max_files:
            raise IntakeError(f"the archive holds more than {limits.max_files} files")
        data = read_member(zf, m, limits, budget)
        if not data and m.info.file_size > limits.max_file:
            notes.append(f"skipped {rel} ({m.info.file_size / 2**20:.0f} MB, more than {limits.max_file >> 20} MB)")
            continue
        if rel.lower().endswith(".zip"):
            nested.append((rel, data))
            continue
        target = (dest / rel).resolve()
        if not str(target).startswith(str(dest.resolve()) + os.sep):
            raise IntakeError(f"the archive holds a path that escapes its folder ({rel!r})")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return nested
