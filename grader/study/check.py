"""The ``study`` check: is the handed-in table what the handed-in code measures?

A lab with a ``[study]`` (:mod:`grader.labs.study`) gets this check next to
its own ones. Its three halves follow the check API with one difference:
its inputs depend on the submission, so they come from :meth:`StudyCheck.
inputs_for` (called per submission on the trusted side) instead of
``inputs``:

* ``inputs_for`` (trusted) reads and validates the table
  (:mod:`grader.study.table`) and draws ``Study.reproduce`` rows with a
  seed made from the secret salt and the submission's content, so a student
  cannot know which rows will be re-run. Only the drawn rows' factors and
  seeds go to the sandbox; the claimed metrics stay in the secret half.
* ``observe`` (sandbox) calls ``sub.<function>(**factors, seed=seed)`` for
  each drawn row, seeding everything from the row's seed first and stopping
  a row that runs past ``Study.budget`` seconds; a row that raises or runs
  too long is recorded as failed and the next one still runs.
* ``judge`` (trusted) compares each re-run with its claim: **reproduced**
  (every metric within its tolerance), **not reproduced** (both numbers
  shown) or **failed** (why). Points are *proportional* to the rows
  reproduced: one row off costs its share, not the whole study, and a table
  that is missing or invalid earns nothing, with the reason.

Per-row verdicts go to the result's ``extra["study"]``: a list of
``{"factors", "seed", "claimed", "rerun", "verdict", "message"}`` dicts
(``rerun`` is None for a failed row), for the TA's pages.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from pathlib import Path
from typing import Any

from grader.checks.check import PUBLIC, Check, Inputs, Verdict

#: The check's name in every report (a lab with a study may not use it for another check).
NAME = "study"
REPRODUCED, NOT_REPRODUCED, FAILED = "reproduced", "not reproduced", "failed"
#: Seconds the whole check gets beyond its rows' budgets (start-up, seeding).
SLACK = 10.0


class RowTimeout(Exception):
    """A re-run row ran past its budget (raised by the alarm in :func:`_deadline`)."""


class StudyCheck(Check):
    """The study's table is reproduced by your code."""

    name = NAME
    kind = "study"
    visibility = PUBLIC
    uses_reference = False

    def __init__(self, study=None):
        # ``study`` is the lab's declaration (trusted side); the sandbox's copy
        # has none: everything observe needs travels in its inputs.
        self.study = study
        if study is not None:
            self.points = study.points
            self.budget = study.budget * study.reproduce + SLACK
            self.title = f"{study.title}: the table ({study.table}) is reproduced by your code"

    # -- trusted: the submission's inputs -------------------------------------
    def inputs(self, rng) -> Inputs:
        """Without a submission there is nothing to draw: an empty plan."""
        return Inputs(public={"function": self.study.function if self.study else "", "rows": [],
                              "budget": float(self.study.budget if self.study else 0)},
                      secret={"claimed": [], "problems": ["no table was read"]})

    def inputs_for(self, folder: Path, rng) -> Inputs:
        """The rows to re-run for the submission in ``folder``, drawn with
        ``rng`` (seeded from the salt and the submission). A missing or
        invalid table gives no rows and its problems, judged as 0 points."""
        from grader.study import table

        try:
            rows = table.read(folder, self.study)
        except table.TableError as exc:
            return Inputs(public={"function": self.study.function, "rows": [], "budget": self.study.budget},
                          secret={"claimed": [], "problems": exc.problems})
        count = min(self.study.reproduce, len(rows))
        drawn = sorted(int(i) for i in rng.choice(len(rows), size=count, replace=False))
        chosen = [rows[i] for i in drawn]
        return Inputs(
            public={"function": self.study.function, "budget": self.study.budget,
                    "rows": [{"factors": r.factors, "seed": r.seed} for r in chosen]},
            secret={"claimed": [r.to_plain() for r in chosen], "problems": []})

    # -- sandbox: re-run the rows ---------------------------------------------
    def observe(self, sub, function, rows, budget):
        from grader.device import seed_everything

        fn = getattr(sub, function, None)
        out = []
        for row in rows:
            if not callable(fn):
                out.append({"status": "error", "metrics": {}, "time": 0.0,
                            "message": f"your module does not define `{function}`"})
                continue
            seed_everything(int(row["seed"]))
            start = time.perf_counter()
            try:
                with _deadline(float(budget)):
                    got = fn(**row["factors"], seed=int(row["seed"]))
                metrics, message = _metrics(got), ""
                status = "ok" if isinstance(metrics, dict) else "error"
                if status == "error":
                    message, metrics = metrics, {}
            except RowTimeout:
                status, metrics, message = "timeout", {}, f"took longer than its limit of {float(budget):.0f}s"
            except BaseException as exc:  # noqa: BLE001 - one row's error must not cost the others
                from grader.core.runner import describe_exception

                status, metrics = "error", {}
                message = describe_exception(exc, getattr(sub, "__file__", None))
            out.append({"status": status, "metrics": metrics, "message": message[:1000],
                        "time": round(time.perf_counter() - start, 3)})
        return {"rows": out}

    # -- trusted: judge --------------------------------------------------------
    def judge(self, got, want, secret) -> Verdict:
        problems = secret.get("problems") or []
        if problems:
            from grader.study.table import TableError

            return Verdict(0.0, str(TableError(problems)), extra={"study": [], "table_problems": problems})
        claimed = secret["claimed"]
        reran = got.get("rows") if isinstance(got, dict) else None
        if not isinstance(reran, list) or len(reran) != len(claimed):
            return Verdict(0.0, "the re-run returned a malformed result")
        verdicts = [self._row(c, r) for c, r in zip(claimed, reran)]
        good = sum(v["verdict"] == REPRODUCED for v in verdicts)
        lines = [f"{good} of {len(verdicts)} re-run row(s) reproduced"]
        lines += [f"{_where(v)}: {v['verdict']} ({v['message']})" for v in verdicts if v["verdict"] != REPRODUCED]
        return Verdict(good / len(verdicts) if verdicts else 0.0, "; ".join(lines), extra={"study": verdicts})

    def _row(self, claimed: dict, rerun: Any) -> dict:
        out = {"factors": claimed["factors"], "seed": claimed["seed"], "claimed": claimed["metrics"],
               "rerun": None, "verdict": FAILED, "message": ""}
        if not isinstance(rerun, dict) or rerun.get("status") != "ok" or not isinstance(rerun.get("metrics"), dict):
            message = rerun.get("message") if isinstance(rerun, dict) else ""
            out["message"] = str(message or "the re-run failed")[:1000]
            return out
        values = rerun["metrics"]
        out["rerun"] = {m: values.get(m) for m in self.study.metrics}
        off = []
        for metric in self.study.metrics:
            value, claim = values.get(metric), claimed["metrics"][metric]
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                out["message"] = f"{metric}: the re-run returned {value!r}, not a finite number"
                return out
            if abs(value - claim) > self.study.tolerance[metric]:
                off.append(f"{metric}: claimed {claim:.4g}, re-run {value:.4g}, "
                           f"tolerance {self.study.tolerance[metric]:g}")
        out["verdict"] = NOT_REPRODUCED if off else REPRODUCED
        out["message"] = "; ".join(off)
        return out


def _where(row: dict) -> str:
    from grader.study.table import configuration_text

    return f"{configuration_text(row['factors'])}, seed = {row['seed']}"


def _metrics(got: Any) -> dict | str:
    """The metrics a ``run_config`` returned as ``{name: float}``, or why not."""
    if not isinstance(got, dict):
        return f"returned {type(got).__name__}, not a dict of metric: number"
    out = {}
    for key, value in list(got.items())[:100]:
        try:
            out[str(key)[:100]] = float(value)
        except (TypeError, ValueError):
            continue  # judged as the metric missing, with what it was
    return out


class _deadline:
    """Raise :class:`RowTimeout` in this thread after ``seconds`` (an alarm
    signal, so only in the main thread; elsewhere the check's own budget,
    enforced by the sandbox, is the limit). Python code and sleeps are
    interrupted; a row stuck inside a C call runs to the check's budget."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.armed = seconds > 0 and threading.current_thread() is threading.main_thread()

    def __enter__(self):
        if self.armed:
            self.previous = signal.signal(signal.SIGALRM, self._ring)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    @staticmethod
    def _ring(signum, frame):
        raise RowTimeout()

    def __exit__(self, *exc):
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def study_check(lab) -> StudyCheck | None:
    """The lab's study check, configured like its own checks (None: the lab has no study)."""
    study = lab.study
    if study is None:
        return None
    check = StudyCheck(study)
    check.config, check.shared, check.salt, check.lab_id = {}, dict(lab.meta.get("shared", {})), lab.salt, lab.id
    return check


def observers(names) -> dict[str, Check]:
    """The kit's own observers among ``names`` (the sandbox's side: no lab.toml there)."""
    return {NAME: StudyCheck()} if NAME in names else {}
