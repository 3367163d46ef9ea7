"""Plain-data protocol between the student's process and the trusted grader.

An observation is a tree of dicts (string keys), lists, ``None``, bools, ints,
floats, strings and NumPy arrays. :func:`to_plain` turns what ``observe``
returned into such a tree (tensors become arrays; anything else is refused),
:func:`dump` writes it as ``<stem>.json`` + ``<stem>.npz``, and :func:`load`
reads it back with ``allow_pickle=False``. Nothing a submission wrote is ever
unpickled or imported.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from grader.files import atomic_write

ARRAY_TAG = "__ndarray__"
#: Refuse observations larger than this many array elements in total.
MAX_ELEMENTS = 20_000_000
MAX_STRING = 100_000


class NotPlainData(TypeError):
    """Raised when an observation holds something that is not plain data."""


def to_plain(value: Any, _path: str = "result") -> Any:
    """Convert tensors and NumPy scalars to plain data; refuse other objects.

    Refusing arbitrary objects is what defeats "always equal" tricks: an
    object whose ``__eq__`` lies never reaches the judge.
    """
    if value is None or type(value) in (bool, int, str):
        if type(value) is str and len(value) > MAX_STRING:
            raise NotPlainData(f"{_path}: string of {len(value)} characters is too long")
        return value
    if type(value) is float:
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufU":
            raise NotPlainData(f"{_path}: array of dtype {value.dtype} is not allowed")
        return np.array(value, copy=True)
    if isinstance(value, np.generic):
        if value.dtype.kind not in "biufU":
            raise NotPlainData(f"{_path}: value of dtype {value.dtype} is not allowed")
        return value.item()
    if type(value) in (list, tuple):
        return [to_plain(v, f"{_path}[{i}]") for i, v in enumerate(value)]
    if type(value) is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise NotPlainData(f"{_path}: dict keys must be strings, got {type(k).__name__}")
            out[k] = to_plain(v, f"{_path}[{k!r}]")
        return out
    numpy_method = getattr(type(value), "numpy", None)
    if numpy_method is not None and type(value).__module__.startswith(("tensorflow", "keras")):
        return to_plain(np.asarray(value.numpy()), _path)
    raise NotPlainData(
        f"{_path}: got an object of type {type(value).__module__}.{type(value).__name__}; "
        "return NumPy arrays, tensors, numbers or strings"
    )


def _split(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {ARRAY_TAG: key}
    if isinstance(value, list):
        return [_split(v, arrays) for v in value]
    if isinstance(value, dict):
        return {k: _split(v, arrays) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    return value


def _join(value: Any, arrays) -> Any:
    if isinstance(value, dict):
        if set(value) == {ARRAY_TAG}:
            return arrays[value[ARRAY_TAG]]
        if set(value) == {"__float__"}:
            return float(value["__float__"])
        return {k: _join(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_join(v, arrays) for v in value]
    return value


def dump(value: Any, stem: Path | str, *, plain: bool = False) -> None:
    """Write a plain observation to ``stem.json`` and ``stem.npz`` atomically
    (the JSON appears last, so its presence means the pair is complete).
    ``plain``: ``value`` is already what :func:`to_plain` returns, so it is
    not converted (and its arrays not copied) a second time."""
    stem = Path(stem)
    arrays: dict[str, np.ndarray] = {}
    tree = _split(value if plain else to_plain(value), arrays)
    total = sum(a.size for a in arrays.values())
    if total > MAX_ELEMENTS:
        raise NotPlainData(f"result holds {total} array elements, more than the limit {MAX_ELEMENTS}")
    # The arrays stream to a file of their own (never a second copy in memory:
    # the worker shares its memory limit with the student's code), renamed
    # into place before the JSON appears.
    tmp = stem.with_name(stem.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, stem.with_suffix(".npz"))
    atomic_write(stem.with_suffix(".json"), json.dumps(tree))


def load(stem: Path | str) -> Any:
    """Read what :func:`dump` wrote; arrays are loaded with ``allow_pickle=False``."""
    stem = Path(stem)
    tree = json.loads(stem.with_suffix(".json").read_text())
    with np.load(stem.with_suffix(".npz"), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return _join(tree, arrays)


def roundtrip(value: Any) -> Any:
    """What the trusted side would see of ``value`` (used in-process, so a
    student's self-check behaves exactly like the batch grader)."""
    arrays: dict[str, np.ndarray] = {}
    tree = json.loads(json.dumps(_split(to_plain(value), arrays)))
    return _join(tree, {k: np.array(v) for k, v in arrays.items()})


def assemble(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Rebuild an observation from its JSON tree and its arrays: what
    :func:`load` does, for a caller that read (and size-checked) the two
    files itself, as the sandbox does with files a submission could touch."""
    return _join(tree, arrays)
