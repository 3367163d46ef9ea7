"""Which of the student's calls produced each part of an observation, so a
message about that part names the call, not the observation's key.

A check's ``observe`` builds a dict (or a list) of what the student's
functions returned; the keys are the check's own bookkeeping. A message
such as "['y']: expected shape …" means nothing to a student, while
"conv2d_forward(x, w, b, stride=1, padding=1) returned shape …" does. The
trusted side holds every check's full source, so :func:`producers` reads
``observe`` with :mod:`ast` and follows the value of each key back to the
call of the student's module that made it::

    return {"y": sub.conv2d_forward(x, w, b, stride=1, padding=1)}
        # "y" ← conv2d_forward(x, w, b, stride=1, padding=1)
    dx, dw, db = sub.conv2d_backward(dout, x, w, stride=1, padding=1)
    return {"dx": dx, ...}
        # "dx" ← conv2d_backward's first return value (dx)
    return {"sizes": [sub.conv_output_size(*a) for a in CASES]}
        # "sizes"[i] ← conv_output_size

It also follows ``parts.each(key=lambda: …)``, ``parts.attempt(lambda: …)``,
``out[f"y{i}"] = …`` in a loop (the key is matched as a pattern) and helper
functions defined inside ``observe``. Whatever it cannot follow is called
"your result": a message never falls back to a bracketed key.

Trusted side only (it reads the check's source); NumPy-free, standard library.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import re
import textwrap
from typing import Any

#: What an unattributed part of an observation is called.
YOUR_RESULT = "your result"

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
# Conversions a check applies to a student's value without changing what it is.
_PASS_THROUGH = {"asarray", "array", "list", "tuple", "attempt"}
# Arguments shown in a call: names and constants; anything else (d[f"x{i}"]) shows the function alone.
_SIMPLE = (ast.Name, ast.Constant)


@dataclasses.dataclass(frozen=True)
class Subject:
    """How a message names a part of an observation: ``text`` (``"conv2d_forward(x, w, b)"``)
    and whether it is a call's value (``"… returned …"``) or a thing (``"… is/has …"``)."""

    text: str
    returned: bool = False

    @property
    def has(self) -> str:
        """``"conv2d_forward(x) returned"`` / ``"your result has"``, before a shape."""
        return f"{self.text} {'returned' if self.returned else 'has'}"

    @property
    def is_(self) -> str:
        """``"conv_output_size returned"`` / ``"your result is"``, before a value."""
        return f"{self.text} {'returned' if self.returned else 'is'}"


UNKNOWN = Subject(YOUR_RESULT)


@dataclasses.dataclass(frozen=True)
class Producer:
    """A student call behind a value: ``function`` (its name), ``call`` (its
    source when short and plain, else ``""``), ``position``/``name`` for one
    value of a tuple it returned, ``items`` for a list of its results and
    ``listed`` for a list literal of calls."""

    function: str = ""
    call: str = ""
    position: int | None = None
    name: str = ""
    items: bool = False
    listed: tuple["Producer", ...] = ()

    def subject(self) -> Subject:
        if self.listed:
            return UNKNOWN
        if self.items:
            return Subject(f"the list of what {self.function} returned")
        if self.position is not None:
            nth = _ORDINALS[self.position] if self.position < len(_ORDINALS) else f"return value {self.position + 1}"
            named = f" ({self.name})" if self.name else ""
            return Subject(f"{self.function}'s {nth} return value{named}")
        return Subject(self.call or self.function, returned=True)

    def item(self, index: int) -> Subject:
        """The subject of item ``index`` of this value (a list)."""
        if self.items:
            return Subject(self.function, returned=True)
        if 0 <= index < len(self.listed):
            return self.listed[index].subject()
        return UNKNOWN


@dataclasses.dataclass(frozen=True)
class Producers:
    """The producers of one check's observation: by exact key, by key pattern
    (an f-string key), or of the whole value."""

    keys: dict[str, Producer] = dataclasses.field(default_factory=dict)
    patterns: tuple[tuple[re.Pattern, Producer], ...] = ()
    whole: Producer | None = None

    def subject(self, path: tuple = ()) -> Subject:
        """How to name the part of the observation at ``path`` (a tuple of
        dict keys and list indices): the call that produced it, else
        :data:`UNKNOWN` ("your result")."""
        producer, rest = self.whole, tuple(path)
        if rest and isinstance(rest[0], str):
            producer, rest = self._by_key(rest[0]), rest[1:]
        if producer is None:
            return UNKNOWN
        if not rest:
            return producer.subject()
        if len(rest) == 1 and isinstance(rest[0], int):
            return producer.item(rest[0])
        return UNKNOWN

    def _by_key(self, key: str) -> Producer | None:
        if key in self.keys:
            return self.keys[key]
        return next((p for pattern, p in self.patterns if pattern.fullmatch(key)), None)


NONE = Producers()


def producers(check: Any) -> Producers:
    """What produced each part of ``check``'s observation (a check or its
    class); :data:`NONE` when its ``observe`` cannot be read."""
    cls = check if isinstance(check, type) else type(check)
    try:
        return _producers(cls)
    except TypeError:  # an unhashable class: not worth failing a message over
        return NONE


@functools.lru_cache(maxsize=512)
def _producers(cls: type) -> Producers:
    try:
        source = textwrap.dedent(inspect.getsource(cls.observe))
        func = ast.parse(source).body[0]
    except (OSError, TypeError, SyntaxError, IndexError, AttributeError):
        return NONE
    if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or len(func.args.args) < 2:
        return NONE
    try:
        return _Reader(func).read()
    except RecursionError:
        return NONE


class _Reader:
    """Reads one ``observe`` function."""

    def __init__(self, func: ast.FunctionDef):
        self.func = func
        self.sub = func.args.args[1].arg  # observe(self, sub, ...)
        self.names: dict[str, ast.AST | Producer] = {}
        self.stores: dict[str, list[tuple[ast.AST, ast.AST]]] = {}  # out[key] = value
        self._collect(func.body)

    # -- the function's assignments -------------------------------------------------

    def _collect(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # A helper's own assignments count too: what it returns is read from them.
                self.names[stmt.name] = stmt
                self._collect(stmt.body)
                continue
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                self._assign(stmt.targets[0], stmt.value)
            for field in ("body", "orelse", "finalbody"):
                self._collect(getattr(stmt, field, None) or [])
            for handler in getattr(stmt, "handlers", None) or []:
                self._collect(handler.body)

    def _assign(self, target: ast.AST, value: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.names[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            call = self.producer(value)
            for i, elt in enumerate(target.elts):
                if isinstance(elt, ast.Name):
                    self.names[elt.id] = (dataclasses.replace(call, position=i, name=elt.id)
                                          if call is not None and call.function and not call.items else None)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            self.stores.setdefault(target.value.id, []).append((target.slice, value))

    # -- what produced a value --------------------------------------------------------

    def producer(self, node: ast.AST | None, depth: int = 0) -> Producer | None:
        if node is None or depth > 8:
            return None
        if isinstance(node, ast.Lambda):
            return self.producer(node.body, depth + 1)
        if isinstance(node, ast.Name):
            found = self.names.get(node.id)
            if isinstance(found, Producer) or found is None:
                return found
            if isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return self.producer(_returned(found), depth + 1)
            return self.producer(found, depth + 1)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            item = self.producer(node.elt, depth + 1)
            return Producer(item.function, items=True) if item is not None and item.function and not item.items \
                else None
        if isinstance(node, (ast.List, ast.Tuple)):
            listed = tuple(self.producer(e, depth + 1) for e in node.elts)
            return Producer(listed=listed) if listed and all(p is not None for p in listed) else None
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        return None

    def _call(self, node: ast.Call, depth: int) -> Producer | None:
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == self.sub:
            return Producer(func.attr, call=_call_text(func.attr, node))
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _PASS_THROUGH and len(node.args) == 1 and not node.keywords:
            return self.producer(node.args[0], depth + 1)
        if name == "attempt" and node.args:
            return self.producer(node.args[0], depth + 1)
        return None

    # -- the observation's keys -------------------------------------------------------

    def read(self) -> Producers:
        keys: dict[str, Producer] = {}
        patterns: list[tuple[re.Pattern, Producer]] = []
        whole = None
        for node in _returns(self.func):
            whole = self._result(node, keys, patterns, 0) or whole
        return Producers(keys, tuple(patterns), whole)

    def _result(self, node: ast.AST, keys: dict, patterns: list, depth: int) -> Producer | None:
        """Record the producers of the keys of ``node`` (a returned value); the producer of the whole."""
        if depth > 4:
            return None
        if isinstance(node, ast.Name) and node.id in self.stores:
            for key, value in self.stores[node.id]:
                self._key(key, value, keys, patterns)
        if isinstance(node, ast.Name) and isinstance(self.names.get(node.id), ast.AST):
            found = self.names[node.id]
            if isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found = _returned(found)
            return self._result(found, keys, patterns, depth + 1) if found is not None else None
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if key is None:
                    self._result(value, keys, patterns, depth + 1)
                else:
                    self._key(key, value, keys, patterns)
            return None
        if isinstance(node, ast.DictComp):
            self._key(node.key, node.value, keys, patterns)
            return None
        if isinstance(node, ast.Call) and _called(node) == "together" and len(node.args) == 2:
            self._result(node.args[1], keys, patterns, depth + 1)
            return None
        if isinstance(node, ast.Call) and _called(node) == "each":
            for kw in node.keywords:
                if kw.arg is not None and (found := self.producer(kw.value)) is not None:
                    keys[kw.arg] = found
            return None
        return self.producer(node)

    def _key(self, key: ast.AST, value: ast.AST, keys: dict, patterns: list) -> None:
        found = self.producer(value)
        if found is None:
            return
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            keys[key.value] = found
        elif isinstance(key, ast.JoinedStr):
            regex = "".join(re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in key.values)
            patterns.append((re.compile(regex), found))


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _call_text(function: str, node: ast.Call) -> str:
    """``conv2d_forward(x, w, b, stride=1, padding=1)`` when every argument is
    a name or a constant (what the handout's signature reads like), else ``""``."""
    if not all(isinstance(a, _SIMPLE) for a in node.args) or \
            not all(k.arg is not None and isinstance(k.value, _SIMPLE) for k in node.keywords):
        return ""
    text = ast.unparse(ast.Call(ast.Name(function), node.args, node.keywords))
    return text if len(text) <= 80 else ""


def _walk_own(node: ast.AST):
    """The nodes of a function's body, not those of functions or lambdas inside it."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        yield child
        yield from _walk_own(child)


def _returns(func: ast.FunctionDef) -> list[ast.AST]:
    return [n.value for n in _walk_own(func) if isinstance(n, ast.Return) and n.value is not None]


def _returned(func: ast.FunctionDef) -> ast.AST | None:
    """What a helper inside ``observe`` returns, when it has one return."""
    found = _returns(func)
    return found[0] if len(found) == 1 else None
