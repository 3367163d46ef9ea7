"""What went wrong with a check that did not pass: a short label for the
class's tables (:func:`failure_kind`) and plain words for the student
(:func:`explain`), both read from the check's status and recorded reason
(:class:`grader.core.results.Reason`), never from its message; and a file
that could not be imported, told once (:func:`import_failure`) rather
than once per check (:func:`shown`)."""

from __future__ import annotations

from grader.core.results import CheckResult, Reason, Result, Status

#: What went wrong, in words a student understands, by kind of failure (:func:`failure_kind`).
EXPLANATIONS = {
    Reason.TIMEOUT: "Your code was still running when this check's time limit ran out, so the grader stopped it. "
                    "The usual causes are an infinite loop (a `while` whose condition never becomes false), Python "
                    "loops over every element where NumPy operations are expected, or training for more epochs "
                    "than needed. The checks after it were graded in a fresh process.",
    Reason.TOTAL: "The time allowed for your whole submission ran out before this check could run. Look at the "
                  "time each check took and make the slowest parts faster.",
    Reason.MEMORY: "Your code used more memory than one submission may use, so the grader stopped it. The usual "
                   "causes are a huge array built by accident (an outer product, an im2col matrix for a whole data "
                   "set, a batch dimension multiplied in twice) or every intermediate result kept in a list.",
    Reason.PROCESSES: "Your code started too many processes, so the grader stopped it. Graded functions must not "
                      "start processes (no fork, multiprocessing or subprocess).",
    Reason.DISK: "Your code wrote too much to disk (too many bytes or too many files), so the grader stopped it. "
                 "Graded functions should not write files; keep results in memory and return them.",
    Reason.EXIT: "The process running your code ended in the middle of this check: something called `os._exit`, "
                 "`sys.exit` from a thread, or a library aborted. A graded function must return its result.",
    Reason.SIGNAL: "The operating system killed the process running your code (the message names the signal). "
                   "SIGSEGV or SIGABRT usually mean a crash inside a native library, often called with arrays of "
                   "an unexpected dtype or shape; SIGKILL usually means the machine ran out of memory.",
    Reason.JOB: "Your code kept the grader's worker busy longer than all of its checks' time limits together.",
    Reason.INTAKE: "The grader could not use what you handed in (the message says why: a broken or unsafe archive, "
                   "no lab file, …), so no check could run. Hand in the lab's file as the handout asks.",
    Reason.IMPORT: "The grader could not import your file, so no check could run. Fix the error shown (running "
                   "`python` on your file shows it too); until then every check scores 0.",
    Status.ERROR: "Your function raised an exception. The message shows the error and the line of your file where "
                  "it happened; `grader check` reproduces it on your machine.",
    Status.INVALID: "Your function returned a value of the wrong shape or type: the message names the call, what "
                    "came back and what was expected. Return NumPy arrays (or tensors) of the documented shapes and "
                    "plain numbers (an int where the handout says an int).",
    Status.TODO: "This part still raises NotImplementedError: fill in its TODO.",
}

#: Reasons that name their own kind of failure; any other failure is told by its status.
_REASON_KINDS = {reason: reason for reason in (Reason.TIMEOUT, Reason.TOTAL, Reason.MEMORY, Reason.PROCESSES,
                                               Reason.DISK, Reason.EXIT, Reason.SIGNAL, Reason.JOB, Reason.INTAKE,
                                               Reason.IMPORT, Reason.INVALID)}
# A worker that ended without an exit status ended in the middle of the check all the same.
_REASON_KINDS[Reason.KILLED] = Reason.EXIT


def failure_kind(check: CheckResult) -> str:
    """A short label for why a check did not pass (``""`` if it passed): its
    reason where that says more than its status (``timeout``, ``total``,
    ``memory``, ``processes``, ``disk``, ``exit``, ``signal``, ``job``,
    ``intake``, ``import``, ``invalid``), else its status (``failed``,
    ``partial``, ``todo``, ``error``, ``invalid``, …)."""
    if check.status is Status.PASSED:
        return ""
    return _REASON_KINDS.get(check.reason, check.status)


def explain(check: CheckResult) -> str:
    """Plain words about a check that did not pass (``""`` when the judge's
    message says it all: a wrong or partly right result)."""
    return EXPLANATIONS.get(failure_kind(check), "")


#: How a check's row reads when the file could not be imported (the error is shown once, above the checks).
NOT_RUN = "not run"
CANNOT_IMPORT = "the file cannot be imported"


def import_failure(result: Result) -> str:
    """The error that stopped the student's file from being imported (the
    message of the first check that could not run because of it), or ``""``
    when the file was imported. Shown once, above the checks."""
    return next((c.message for c in result.checks if c.reason is Reason.IMPORT), "")


def shown(check: CheckResult) -> tuple[str, str, str]:
    """``(status, message, explanation)`` as a check's row shows them: a
    check that could not run because the file could not be imported reads
    "not run: the file cannot be imported", with no explanation of its own
    (:func:`import_failure` and its explanation are shown once instead)."""
    if check.reason is Reason.IMPORT:
        return NOT_RUN, CANNOT_IMPORT, ""
    return check.status.text, check.message, explain(check)
