"""Bytes of unknown encoding made text: UTF-8, else GBK, else UTF-8 with
replacement characters.

Chinese Windows writes GBK where everyone else writes UTF-8: in ``.py``
files, in zip member names not flagged UTF-8, and in CSV files saved by
Excel. One rule reads all three (:func:`decode_utf8_or_gbk`).
"""

from __future__ import annotations

import re

#: A PEP 263 coding declaration (``# -*- coding: latin-1 -*-``) on a line of its own.
_CODING_DECLARATION = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.M)


def decode_utf8_or_gbk(data: bytes, *, strip_bom: bool = False) -> tuple[str, str]:
    """``(text, encoding)``: ``data`` decoded as UTF-8 (``"utf-8"``), else
    as GBK (``"gbk"``), else as UTF-8 with replacement characters
    (``"replace"``). ``strip_bom``: drop a leading UTF-8 byte-order mark
    (Excel writes one)."""
    for encoding in ("utf-8", "gbk"):
        try:
            return data.decode("utf-8-sig" if strip_bom and encoding == "utf-8" else encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace"), "replace"


def python_source_as_utf8(data: bytes, name: str, notes: list[str]) -> bytes:
    """Python source as UTF-8: GBK-encoded files (common on Chinese Windows)
    are converted, with a note appended to ``notes``; a file with a coding
    declaration, or in neither encoding, is left alone."""
    text, encoding = decode_utf8_or_gbk(data)
    if encoding != "gbk":
        return data  # already UTF-8, or neither: Python will say what is wrong, with the line
    if _CODING_DECLARATION.search(b"\n".join(data.splitlines()[:2])):
        return data
    notes.append(f"{name} was not UTF-8; converted from GBK")
    return text.encode("utf-8")
