"""Parts of a check that are scored on their own, errors included.

A check often calls several independent student functions (or one function
on independent configurations) and its judge gives each its share with
:func:`grader.checks.judges.all_of`. Without parts, one function that is not
written yet (``NotImplementedError``) or that raises stops the whole
``observe``, and the parts that work earn nothing. ``observe`` runs each part
on its own instead::

    from grader.checks import parts

    def observe(self, sub):
        return parts.each(
            sizes=lambda: [sub.conv_output_size(*a) for a in self.SIZES],
            same=lambda: [sub.same_padding(*a) for a in self.SAME],
        )

or, inside a loop, one value at a time with :func:`attempt` (several values
that one part observes at once: :func:`together`). A part that
raises becomes a *marker*: plain data (it crosses the sandbox like any other
value) that every judge helper scores 0 with the reason, so the other parts
keep their share. A marker is ``{MARKER: "todo" | "error", "message": ...}``
(the key cannot clash with a lab's: labs' keys are identifiers). Only
``Exception`` becomes a marker; ``SystemExit``, ``KeyboardInterrupt`` and
other ``BaseException`` propagate, so they still stop the whole check.

Runs with the student's code (the sandbox's worker imports it); the trusted
side reads markers with :func:`failed` and :func:`failures`.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Any, Callable, Iterator

#: The reserved key of a part that failed; its value is ``TODO`` or ``ERROR``.
MARKER = "__part_failed__"
TODO = "todo"
ERROR = "error"
#: How the message of a part whose result is not plain data begins.
UNUSABLE = "unusable result"
#: How much of a failed part's message reaches the judge (the student's code wrote it).
MAX_MESSAGE = 2000

# The student's file, so a part's error names the line of *their* code that
# raised (:func:`grader.core.runner.observe` sets it while a check observes).
_student_file: contextvars.ContextVar[str | None] = contextvars.ContextVar("student_file", default=None)


@contextlib.contextmanager
def student_file(path: str | None) -> Iterator[None]:
    """Within this block, errors in parts name lines of ``path`` (the student's module)."""
    token = _student_file.set(path)
    try:
        yield
    finally:
        _student_file.reset(token)


def attempt(fn: Callable[[], Any], *, name: str = "result") -> Any:
    """``fn()`` as plain data, or a marker saying why it failed.

    ``NotImplementedError`` gives a ``todo`` marker; any other ``Exception``,
    and a result that is not plain data, an ``error`` marker with the
    exception and the line of the student's file that raised it. ``name``
    says where the value sits, in the message about a result that is not
    plain data.
    """
    # Imported here: the runner imports this package, and the worker imports both.
    from grader.core import protocol, runner

    try:
        return protocol.to_plain(fn(), name)
    except NotImplementedError as exc:
        detail = runner.clean_message(str(exc))
        return marker(TODO, f"not implemented yet ({detail})" if detail else "not implemented yet")
    except protocol.NotPlainData as exc:
        return marker(ERROR, f"{UNUSABLE}: {exc}")
    except Exception as exc:  # noqa: BLE001 - student code may raise anything; BaseException still stops the check
        return marker(ERROR, runner.describe_exception(exc, _student_file.get()))


def each(**fns: Callable[[], Any]) -> dict[str, Any]:
    """``{name: attempt(fn)}`` for every part, in order: each part scored on its own."""
    return {key: attempt(fn, name=f"result[{key!r}]") for key, fn in fns.items()}


def together(keys: tuple[str, ...] | list[str], fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One part that observes several values at once (``fn`` returns a dict
    with ``keys``, e.g. the outputs of one layer before and after training):
    its values, or, when it fails, the same marker under every key. Keeps an
    observation's flat keys while the part is scored as a whole."""
    value = attempt(fn, name="result")
    if failed(value) is not None:
        return {key: value for key in keys}
    return value


def marker(kind: str, message: str) -> dict[str, str]:
    """The plain-data stand-in for a part that failed (``TODO`` or ``ERROR``)."""
    return {MARKER: kind, "message": message[:MAX_MESSAGE]}


def failed(value: Any) -> dict[str, str] | None:
    """``value`` when it is a marker (a part that failed), else None. Anything
    the student's code could return is safe to pass: a fake marker only
    scores 0."""
    if isinstance(value, dict) and value.get(MARKER) in (TODO, ERROR) and set(value) == {MARKER, "message"}:
        return {MARKER: value[MARKER], "message": str(value["message"])[:MAX_MESSAGE]}
    return None


def failures(value: Any) -> list[dict[str, str]]:
    """Every marker in an observation, in order."""
    if (found := failed(value)) is not None:
        return [found]
    if isinstance(value, dict):
        return [m for item in value.values() for m in failures(item)]
    if isinstance(value, list):
        return [m for item in value for m in failures(item)]
    return []


def all_failed(value: Any) -> bool:
    """Whether nothing of the observation worked: it is a marker, or a
    non-empty dict or list whose every item is (recursively)."""
    if failed(value) is not None:
        return True
    if isinstance(value, dict):
        return bool(value) and all(all_failed(v) for v in value.values())
    if isinstance(value, list):
        return bool(value) and all(all_failed(v) for v in value)
    return False
