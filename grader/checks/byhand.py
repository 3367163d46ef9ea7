""""Implement it yourself": one rule for every part a handout says to write by hand.

A check that grades such a part declares what the student's code may not use
there, and the runner enforces it while the check observes, in the student's
process, two ways:

* **statically**: the names the guarded functions' source refers to are
  resolved in the student's module (so ``from tensorflow.nn import conv2d as c``
  is still ``tf.nn.conv2d``), following the student's own helpers they call;
  a guarded class may not inherit from a forbidden class;
* **at run time**: while a guarded function runs, every Python call is
  watched (``sys.setprofile``) and a call into a forbidden function, class
  or package is recorded, however it was reached.

What was found travels to the trusted side as part of the observation
(plain strings); the judge there gives the check no points and says what is
forbidden and why. Static and run-time looks back each other up; a student
who sets out to defeat both can, which is why value checks stay the primary
test and this rule catches the common shortcut::

    class ConvBackward(Check):
        by_hand = (ByHand(functions=("conv2d_backward",), forbid=AUTODIFF + ("tensorflow.nn",),
                          why="the part is the backward pass of a convolution, written out"),)

``functions`` names what the student's module defines: a function, a class
(every method it defines) or ``Class.method``. ``forbid`` holds dotted names:
a package or module (everything inside it), a function, or a class (calling
it, calling its methods, or inheriting from it).

One concept in three parts (what a forbidden name stands for, the static
look, the run-time watch), kept in one module of about 400 lines because both
looks resolve forbidden names the same way and must agree on them.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import inspect
import sys
import textwrap
import types
from typing import Any, Iterable

#: Automatic differentiation in TensorFlow: a hand-written gradient may use none
#: of it. (Name what a student would call, never the library's internals: TensorFlow's
#: own ops run those, e.g. every op goes through ``tf.raw_ops``, and ``tf.custom_gradient``
#: through the tape's recording machinery.)
AUTODIFF = ("tensorflow.GradientTape", "tensorflow.gradients", "tensorflow.autodiff.ForwardAccumulator",
            "tensorflow.test.compute_gradient")
#: Keras's attention: a part that computes softmax(Q Kᵀ/√d) V itself may use none of it.
LIBRARY_ATTENTION = ("keras.layers.MultiHeadAttention", "keras.layers.Attention", "keras.layers.AdditiveAttention",
                     "keras.layers.GroupQueryAttention", "keras.ops.dot_product_attention",
                     "keras.src.backend.tensorflow.nn.dot_product_attention")
#: Everything TensorFlow and Keras offer (a part to be written in NumPy).
FRAMEWORKS = ("tensorflow", "keras")
#: Switching the watch off from inside a guarded function.
_TAMPERING = ("sys.setprofile", "sys.settrace", "threading.setprofile", "threading.settrace")
#: At most this many findings travel back per check.
MAX_FINDINGS = 8


@dataclasses.dataclass(frozen=True)
class ByHand:
    """A part the student writes themselves: ``functions`` (of the student's
    module) may not use anything in ``forbid``; ``why`` is the reason, in
    the handout's words, shown when the rule is broken. ``watch=False``
    keeps only the static look, for a part that trains a network: the
    run-time watch costs a Python callback per call, and a Keras ``fit``
    makes enough calls to run several times slower under it."""

    functions: tuple[str, ...]
    forbid: tuple[str, ...]
    why: str
    watch: bool = True

    def describe(self) -> str:
        return f"{', '.join(self.functions)} may not use {', '.join(_short(f) for f in self.forbid)}"


def _short(dotted: str) -> str:
    return dotted.replace("tensorflow.", "tf.").replace("tensorflow", "TensorFlow")


# -- what a forbidden name stands for ------------------------------------------
@dataclasses.dataclass
class _Forbidden:
    name: str
    obj: Any = None
    prefix: str | None = None  # a module: anything whose __module__ is inside it
    files: tuple[str, ...] = ()  # ... or whose code lives in its files
    members: frozenset = frozenset()  # ids of what it is (a module: what it exports), unwrapped
    codes: frozenset = frozenset()  # code objects that run when it is used


@functools.cache
def _resolve(dotted: str) -> _Forbidden:
    """What a forbidden dotted name stands for (nothing when the library is
    absent here: nothing can call what is not installed)."""
    parts = dotted.split(".")
    obj = None
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            obj = None
        break
    if obj is None:
        return _Forbidden(dotted)
    if not isinstance(obj, types.ModuleType):
        return _Forbidden(dotted, obj, members=frozenset({id(obj), id(_unwrap(obj))}), codes=frozenset(_codes(obj)))
    # A module: its own code (by file) and everything it exports. TensorFlow's
    # public modules (tf.nn) only re-export, so the exports are what counts.
    files = tuple(p.rstrip("/") + "/" for p in getattr(obj, "__path__", []))
    if not files and getattr(obj, "__file__", None):
        files = (obj.__file__,)
    exported = [v for k, v in vars(obj).items() if not k.startswith("_") and callable(v)]
    codes: set = set()
    for value in exported:
        codes |= _codes(value)
    return _Forbidden(dotted, obj, prefix=obj.__name__, files=files, codes=frozenset(codes),
                      members=frozenset({id(obj)} | {id(_unwrap(v)) for v in exported}))


def _unwrap(obj):
    try:
        return inspect.unwrap(obj)
    except ValueError:
        return obj


def _codes(obj) -> set:
    """Code objects that run when ``obj`` (a function or a class) is used:
    the innermost function under decorators only (TensorFlow's decorators
    share one wrapper's code among all its ops), and only code of the
    library ``obj`` belongs to (a networkx enum carries the standard
    library's ``Enum.__new__``, which every enum runs)."""
    roots = _library_roots(getattr(obj, "__module__", None))
    out = set()
    if isinstance(obj, type):
        # Only what the class itself defines: its bases' machinery (a Keras
        # Layer's __call__, say) is shared with every layer a student may use.
        for member in vars(obj).values():
            if not isinstance(member, type):
                out |= _codes_of_function(member)
    else:
        out = _codes_of_function(obj)
    return {c for c in out if not roots or c.co_filename.startswith(roots)}


def _codes_of_function(obj) -> set:
    out = set()
    func = _unwrap(getattr(obj, "__func__", obj))
    for candidate in (func, getattr(func, "fget", None), getattr(func, "python_function", None)):
        code = getattr(_unwrap(candidate), "__code__", None) if candidate is not None else None
        if code is not None:
            out.add(code)
    return out


@functools.cache
def _library_roots(module_name: str | None) -> tuple[str, ...]:
    """The folders of the top-level package ``module_name`` belongs to."""
    if not isinstance(module_name, str) or not module_name:
        return ()
    top = sys.modules.get(module_name.split(".")[0])
    paths = list(getattr(top, "__path__", []) or [])
    if not paths and getattr(top, "__file__", None):
        paths = [top.__file__]
    return tuple(p.rstrip("/") + ("/" if not p.endswith(".py") else "") for p in paths)


def _matches(obj: Any, forbidden: _Forbidden) -> bool:
    if forbidden.obj is None:
        return False
    if id(obj) in forbidden.members or id(_unwrap(obj)) in forbidden.members:
        return True
    if forbidden.prefix is not None:
        name = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", None)
        if isinstance(name, str) and (name == forbidden.prefix or name.startswith(forbidden.prefix + ".")):
            return True
    try:
        return isinstance(obj, type) and isinstance(forbidden.obj, type) and issubclass(obj, forbidden.obj)
    except TypeError:
        return False


# -- the static look ------------------------------------------------------------
def _targets(sub: types.ModuleType, name: str) -> list[tuple[str, Any]]:
    """(label, function) pairs a guarded name stands for."""
    owner, _, method = name.partition(".")
    obj = getattr(sub, owner, None)
    if obj is None:
        return []
    if method:
        member = inspect.getattr_static(obj, method, None)
        return [(name, member)] if member is not None else []
    if isinstance(obj, type):
        return [(f"{owner}.{k}", v) for k, v in vars(obj).items() if inspect.isfunction(v)]
    return [(name, obj)]


def _dotted_refs(tree: ast.AST) -> list[list[str]]:
    """Every ``a.b.c`` chain (and bare name) the code refers to, outermost first."""
    chains = []
    for node in ast.walk(tree):
        parts = []
        cur = node
        while isinstance(cur, ast.Attribute):
            parts.append(cur.attr)
            cur = cur.value
        if isinstance(cur, ast.Name) and (parts or isinstance(node, ast.Name)):
            chains.append([cur.id] + parts[::-1])
    return chains


def _lookup(chain: list[str], namespace: dict) -> list[Any]:
    """The objects each prefix of ``chain`` resolves to in ``namespace``."""
    if chain[0] not in namespace:
        return []
    obj = namespace[chain[0]]
    out = [obj]
    for attr in chain[1:]:
        try:
            obj = inspect.getattr_static(obj, attr) if not isinstance(obj, types.ModuleType) else getattr(obj, attr)
        except AttributeError:
            break
        out.append(obj)
    return out


def static_findings(sub: types.ModuleType, rule: ByHand) -> list[str]:
    """What the guarded functions' source (and the student's helpers they
    call) refers to that the rule forbids."""
    forbidden = [_resolve(f) for f in rule.forbid + _TAMPERING]
    module_name = sub.__name__
    found: list[str] = []
    seen: set[int] = set()
    todo: list[tuple[str, Any]] = []
    for name in rule.functions:
        todo += _targets(sub, name)
        cls = getattr(sub, name.partition(".")[0], None)
        if isinstance(cls, type):
            for base in cls.__mro__[1:]:
                hit = next((f for f in forbidden if _matches(base, f)), None)
                if hit is not None:
                    found.append(f"{cls.__name__} inherits from {base.__module__}.{base.__qualname__} "
                                 f"(forbidden: {_short(hit.name)})")
    while todo:
        label, func = todo.pop(0)
        func = getattr(func, "__func__", func)
        if id(func) in seen:
            continue
        seen.add(id(func))
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
        except (OSError, TypeError, SyntaxError):
            continue
        for dotted in _imports(tree):
            hit = next((f for f in rule.forbid + _TAMPERING if dotted == f or dotted.startswith(f + ".")), None)
            if hit is not None:
                found.append(f"{label} imports {dotted} (forbidden: {_short(hit)})")
        namespace = {**vars(sub), **_closure_names(func)}
        for chain in _dotted_refs(tree):
            resolved = _lookup(chain, namespace)
            for depth, obj in enumerate(resolved):
                hit = next((f for f in forbidden if _matches(obj, f)), None)
                if hit is not None:
                    found.append(f"{label} uses {'.'.join(chain[:depth + 1])} (forbidden: {_short(hit.name)})")
                    break
            else:
                if resolved:
                    obj = resolved[-1]
                    if inspect.isfunction(obj) and obj.__module__ == module_name:
                        todo.append((f"{obj.__name__} (called from {label})", obj))
                    elif isinstance(obj, type) and obj.__module__ == module_name:
                        todo += [(f"{obj.__name__}.{k} (used by {label})", v)
                                 for k, v in vars(obj).items() if inspect.isfunction(v)]
    return list(dict.fromkeys(found))


def _imports(tree: ast.AST) -> list[str]:
    """The dotted names a function imports inside its body (``import a.b``: ``a.b``;
    ``from a import b``: ``a.b``), which the module's namespace does not show."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _closure_names(func) -> dict:
    try:
        return dict(inspect.getclosurevars(func).nonlocals)
    except (TypeError, ValueError):
        return {}


# -- the run-time watch -----------------------------------------------------------
@functools.cache
def _compiled(forbid: tuple[str, ...]) -> tuple[dict, tuple[tuple[str, str], ...]]:
    """``(code object → forbidden name, ((file prefix, forbidden name), ...))`` for a rule."""
    codes: dict = {}
    files: list[tuple[str, str]] = []
    for name in forbid:
        f = _resolve(name)
        for code in f.codes:
            codes.setdefault(code, f.name)
        files += [(path, f.name) for path in f.files]
    return codes, tuple(files)


class _Watch:
    """Records calls into forbidden code while a guarded function runs. Each
    guarded function is held to its own rule: the rules of the guarded
    functions running now (one inside another) are stacked."""

    def __init__(self):
        self.findings: list[str] = []
        self._stack: list[tuple[str, dict, tuple]] = []

    def _profile(self, frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        for label, codes, files in self._stack:
            hit = codes.get(code)
            if hit is None and files:
                hit = next((name for path, name in files if code.co_filename.startswith(path)), None)
            if hit is not None:
                message = f"{label} called {code.co_qualname} while it ran (forbidden: {_short(hit)})"
                if message not in self.findings and len(self.findings) < MAX_FINDINGS:
                    self.findings.append(message)
                return

    def guard(self, label: str, func, rule: ByHand):
        watch = self
        codes, files = _compiled(rule.forbid)

        @functools.wraps(func)
        def guarded(*args, **kwargs):
            outermost = not watch._stack
            watch._stack.append((label, codes, files))
            if outermost:
                previous = sys.getprofile()
                sys.setprofile(watch._profile)
            try:
                return func(*args, **kwargs)
            finally:
                watch._stack.pop()
                if outermost:
                    sys.setprofile(previous)

        return guarded


class watching:
    """Context manager: while it is open, the rules' guarded functions of
    ``sub`` are watched; ``findings()`` is what the rules forbid that the
    source refers to or the run called (empty when the rules hold)."""

    def __init__(self, sub: types.ModuleType, rules: Iterable[ByHand]):
        self.sub = sub
        self.rules = tuple(rules)
        self.watch = _Watch()
        self._restore: list[tuple[Any, str, Any]] = []
        self._static: list[str] = []

    def __enter__(self):
        for rule in self.rules:
            try:
                self._static += static_findings(self.sub, rule)
            except Exception:  # noqa: BLE001 - an odd module must not cost an honest student; the run-time watch remains
                pass
            for name in rule.functions if rule.watch else ():
                owner, _, method = name.partition(".")
                holder = getattr(self.sub, owner, None)
                if holder is None:
                    continue
                if method or isinstance(holder, type):
                    # A whole class: its methods, but not the special ones (Keras
                    # inspects a layer's __init__ and __new__ as they are).
                    members = [method] if method else [k for k, v in vars(holder).items()
                                                       if inspect.isfunction(v) and not k.startswith("__")]
                    for member in members:
                        original = inspect.getattr_static(holder, member, None)
                        if inspect.isfunction(original):
                            self._swap(holder, member, self.watch.guard(f"{owner}.{member}", original, rule))
                elif callable(holder):
                    self._swap(self.sub, owner, self.watch.guard(owner, holder, rule))
        return self

    def _swap(self, holder, attr, value):
        self._restore.append((holder, attr, inspect.getattr_static(holder, attr)))
        setattr(holder, attr, value)

    def __exit__(self, *exc):
        for holder, attr, value in reversed(self._restore):
            setattr(holder, attr, value)
        self._restore.clear()
        return False

    def findings(self) -> list[str]:
        return list(dict.fromkeys(self._static + self.watch.findings))[:MAX_FINDINGS]


def verdict_message(rules: Iterable[ByHand], findings: list[str]) -> str:
    """The student-facing message for a broken rule: what was found, why the
    part must be written by hand, and (briefly) what it may not use."""
    rules = list(rules)
    why = "; ".join(dict.fromkeys(r.why for r in rules))
    forbidden = list(dict.fromkeys(_short(f) for r in rules for f in r.forbid))
    listed = ", ".join(forbidden[:5]) + (f" and {len(forbidden) - 5} more" if len(forbidden) > 5 else "")
    return (f"this part is written by hand: {why}. Found: {'; '.join(findings)}. "
            f"(Not allowed here: {listed}.)")
