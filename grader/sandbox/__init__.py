"""Running *observe* in a sandboxed process, with limits.

The parent (trusted) writes, once per batch, what every box reads
(:class:`SharedFiles`, read-only to the sandbox)::

    lib/grader/       a copy of the grader package
    lib/lab/checks/   the lab's *shipped* check files (``__init__``, ``common``,
                      ``public``): no lab.toml, hidden check, fixture or salt
    in/               each check's public inputs

and a work folder per submission::

    work/job/          job.json (read-only)
    work/box/          root-owned; inside it, owned by the sandbox's user:
        submission/    a copy of the submission: the working directory
        home/ tmp/     $HOME and $TMPDIR
        out/           observations written by the worker
        events         the worker's progress log

then starts ``python -m grader.sandbox.worker`` there and watches it. How strongly
the worker is isolated depends on what this machine allows
(:func:`isolation`), strongest first:

``root-jail``
    The grader runs as root (CI, Gradescope, a course container). The worker
    runs as an unprivileged user id of its own, with no supplementary
    groups, in new network, mount, pid, IPC and UTS namespaces, inside a
    private root filesystem that holds only the system, Python, the copies
    above and the box (:mod:`grader.sandbox.jail`). The repository, solutions,
    fixtures, labels, other submissions and the TA's output folder do not
    exist in there.
``userns-jail``
    Not root, but unprivileged user namespaces work: the same namespaces and
    private root filesystem; the worker keeps the grader's user id outside
    but gives up every capability.
``uid``
    Root, but the machine refuses new namespaces (a Docker container such as
    Gradescope's): the worker runs as an unprivileged user id of its own
    with no supplementary groups and ``no_new_privs``; the kit (grader,
    checks, fixtures, salt), the output folder and the submissions are made
    unreadable to it (:func:`grader.sandbox.users.lock_down`). It shares the machine's network,
    process list and ``/tmp``.
``process``
    Neither: a plain child process with a scrubbed environment and the
    limits below. Reports say so.

The strongest level the machine supports is *required*: :func:`isolation`
refuses, with the reason, when that level cannot be built here, rather
than silently grade with less. A weaker level is used only when asked for
explicitly (``--isolation``). The hidden checks' observe code reaches the
worker through a pipe (:mod:`grader.sandbox.worker`), never as a file.

Limits, whatever the level: a wall-clock budget per check, per worker start
and per submission; memory (the RSS of the whole process tree, sampled by a
watchdog: ``RLIMIT_AS`` breaks TensorFlow on GPUs); the number of processes
(the watchdog, plus ``RLIMIT_NPROC`` where the worker is not root, which
does not bind root); the size of each file written (``RLIMIT_FSIZE``) and of
everything written (the watchdog); the printed output (read through a pipe,
head and tail kept, the middle dropped with a note).

A check that runs past its budget, or a worker that crashes, exits or is
killed, costs only the check that was running: the parent kills the whole
process tree, records why, and starts a new worker for the checks that
remain. Observations are read back without following links, size-capped,
as JSON plus ``.npz`` with ``allow_pickle=False``; nothing the submission
wrote is unpickled or imported here, and the verdict is never formed in
the child.

Modules, one concept each: :mod:`~grader.sandbox.limits` (the limits and
the errors), :mod:`~grader.sandbox.levels` (isolation levels, probing),
:mod:`~grader.sandbox.users` (user ids, the ``uid`` level's lock-down),
:mod:`~grader.sandbox.workdir` (the work folder and the copies into it),
:mod:`~grader.sandbox.shared` (the runtime and inputs every box reads),
:mod:`~grader.sandbox.launch` (environment, jail spec, command lines),
:mod:`~grader.sandbox.job` (the job file and the events file, for both
sides), :mod:`~grader.sandbox.watch` (the watch loop and its watchdog),
:mod:`~grader.sandbox.readback` (reading the box back defensively) and
:mod:`~grader.sandbox.supervisor` (:func:`observe`: starts, restarts,
losses). :mod:`~grader.sandbox.worker` and :mod:`~grader.sandbox.jail` run
inside the sandbox.
"""

from grader.sandbox.levels import LEVELS, describe, isolation, supported
from grader.sandbox.limits import GIB, Cancelled, Limits, SandboxError
from grader.sandbox.shared import SharedFiles
from grader.sandbox.supervisor import Run, observe
from grader.sandbox.workdir import copy_submission

__all__ = ["GIB", "LEVELS", "Cancelled", "Limits", "Run", "SandboxError", "SharedFiles", "copy_submission",
           "describe", "isolation", "observe", "supported"]
