"""The check API: one graded item, split into *observe* and *judge*.

A check is a small class. The grader never trusts what the student's code
returns, so a check has three halves that run in different places:

* ``inputs(rng)`` runs in the trusted process (NumPy only). It returns the
  arguments for ``observe`` and, optionally, secrets (labels) that the
  student's process never sees.
* ``observe(sub, **inputs)`` runs *with the student's code* (``sub`` is the
  student's module). It returns plain data: numbers, strings, NumPy arrays and
  small dicts/lists of them.
* ``judge(got, want, secret)`` runs in the trusted process. ``want`` is the
  reference solution's observation on the same inputs (stored as a fixture),
  ``secret`` what ``inputs`` kept back. It returns a :class:`Verdict` (or a
  fraction in [0, 1]) whose message helps the student without printing
  hidden expected values.

Example::

    class ConvForward(Check):
        "conv2d_forward equals tf.nn.conv2d on a padded, strided input."
        points = 1

        def inputs(self, rng):
            return {"x": rng.normal(size=(2, 7, 7, 3)), "w": rng.normal(size=(3, 3, 3, 4))}

        def observe(self, sub, x, w):
            return {"y": sub.conv2d_forward(x, w, stride=2, padding=1)}

        def judge(self, got, want, secret):
            return judges.close(got["y"], want["y"], what="conv2d_forward output")
"""

from __future__ import annotations

import dataclasses
import hmac
import zlib
from typing import Any, ClassVar

PUBLIC = "public"
HIDDEN = "hidden"
#: Graded only when asked for (``--visibility optional`` or ``--only``): long
#: checks beyond a lab's budget. Graders only, like hidden checks.
OPTIONAL = "optional"
VISIBILITIES = (PUBLIC, HIDDEN, OPTIONAL)


@dataclasses.dataclass
class Verdict:
    """A judge's decision: the fraction of the check's points earned and why."""

    fraction: float
    message: str = ""
    #: Details for the result's ``extra`` (plain data, for reports), e.g. the study's per-row verdicts.
    extra: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self.fraction = float(min(1.0, max(0.0, self.fraction)))

    @property
    def passed(self) -> bool:
        return self.fraction >= 1.0


@dataclasses.dataclass
class Inputs:
    """What ``Check.inputs`` returns when some of it must stay in the trusted process.

    ``public`` goes to the student's process as ``observe(**public)``;
    ``secret`` (labels, expected values) reaches only ``judge``.
    """

    public: dict[str, Any]
    secret: dict[str, Any] = dataclasses.field(default_factory=dict)


class Check:
    """Base class of every graded check. Subclasses set the class attributes and
    override ``observe`` and ``judge`` (and usually ``inputs``)."""

    #: Unique id within the lab; defaults to the class name in snake_case.
    name: ClassVar[str] = ""
    #: Points this check is worth.
    points: ClassVar[float] = 1.0
    #: ``PUBLIC`` checks ship to students; ``HIDDEN`` ones only to graders.
    visibility: ClassVar[str] = PUBLIC
    #: Wall-clock budget for ``observe`` in seconds (CPU, 2 cores).
    budget: ClassVar[float] = 20.0
    #: One of shape, value, gradient, training, property (for reports).
    kind: ClassVar[str] = "value"
    #: Whether ``judge`` needs the reference's observation (``want``).
    #: Training checks judge against secret labels instead.
    uses_reference: ClassVar[bool] = True
    #: A one-line description shown to students; defaults to the docstring.
    title: ClassVar[str] = ""
    #: What ``observe`` returns, checked before ``judge`` sees it (see
    #: :mod:`grader.checks.schema`), e.g. ``{"y": (2, 6, 6, 4), "loss": [float]}``.
    #: None: only generic size caps.
    schema: ClassVar[Any] = None
    #: Parts the student must write themselves (:class:`grader.checks.byhand.ByHand`
    #: rules): enforced while ``observe`` runs, in the student's process; a
    #: broken rule earns the check no points, whatever the values.
    by_hand: ClassVar[tuple] = ()

    #: This check's settings: the ``[checks.<name>]`` table of ``lab.toml``
    #: (set by :class:`grader.labs.lab.Lab`). Trusted side only: ``observe`` runs
    #: where ``lab.toml`` does not exist, so whatever it needs of the settings
    #: travels in ``inputs``.
    config: dict = {}
    #: Settings several checks share: the ``[shared]`` table of ``lab.toml``
    #: (ships to students: nothing only a hidden check uses belongs there).
    shared: dict = {}
    #: The per-release secret (bytes) that salts seeds, or None where there is
    #: none (a student's self-check). Set by :class:`grader.labs.lab.Lab`.
    salt: bytes | None = None
    #: The lab's id, part of every salted seed.
    lab_id: str = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("name"):
            cls.name = _snake(cls.__name__)
        if not cls.__dict__.get("title"):
            cls.title = (cls.__doc__ or cls.name).strip().splitlines()[0]

    @property
    def salted(self) -> bool:
        """Whether this check's seeds come from the secret salt: hidden and
        optional checks always, public checks judged without a shipped
        fixture too (their held-out labels then differ from the ones a
        student's self-check can compute). Public checks judged against a
        shipped fixture keep the public seed the fixture was made with."""
        return self.salt is not None and (self.visibility != PUBLIC or not self.uses_reference)

    def _derive(self, purpose: str) -> int:
        if not self.salted:
            return zlib.crc32(self.name.encode()) % (2**31)
        message = f"{self.lab_id}/{self.name}/{purpose}".encode()
        return int.from_bytes(hmac.digest(self.salt, message, "sha256")[:8], "big") % (2**31)

    @property
    def seed(self) -> int:
        """The seed of ``inputs`` (trusted side only): stable, so grading twice
        gives the same inputs; from the secret salt where :attr:`salted`, so
        it cannot be recomputed from public information."""
        return self._derive("inputs")

    @property
    def observe_seed(self) -> int:
        """The seed ``observe`` runs under (weights, dropout, shuffling). A
        different derivation from :attr:`seed`: knowing it tells nothing
        about the inputs."""
        return self._derive("observe")

    # -- the three halves ---------------------------------------------------
    def inputs(self, rng) -> dict[str, Any] | Inputs:
        """Arguments for ``observe`` (trusted, NumPy only). ``rng`` is a seeded
        ``numpy.random.Generator``."""
        return {}

    def observe(self, sub, **inputs) -> Any:
        """Run the student's code (``sub``) and return plain data."""
        raise NotImplementedError

    def judge(self, got, want, secret) -> Verdict | float:
        """Score ``got`` (the student's observation) in the trusted process."""
        raise NotImplementedError

    def make_inputs(self) -> Inputs:
        import numpy as np

        made = self.inputs(np.random.default_rng(self.seed))
        return made if isinstance(made, Inputs) else Inputs(public=dict(made))

    def __repr__(self):
        return f"<{type(self).__name__} {self.name} {self.points}pt {self.visibility}>"


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def collect(namespace: dict) -> list[Check]:
    """Instances of every ``Check`` subclass defined in a module's namespace,
    in definition order."""
    found = []
    for value in namespace.values():
        if isinstance(value, type) and issubclass(value, Check) and value is not Check:
            if value.__module__ == namespace.get("__name__"):
                found.append(value())
    return found
