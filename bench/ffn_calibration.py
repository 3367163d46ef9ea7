"""Calibrate the feed-forward lab's one threshold: the tolerance of the gradient-checker checks.

    python bench/ffn_calibration.py [--salts 20]

``numeric_gradient`` and ``numeric_gradient_hidden`` compare a student's
central differences with gradients known in closed form, so the tolerance
must pass the reference's round-off on any inputs and fail the mistakes
students make. For salts 01…N (salt ``k`` is the byte ``k`` repeated 32 times,
as ``DLKIT_SALT=0101…``) this draws each check's inputs as grading does and
prints, per function of the check, the largest relative error (the judges'
measure, :func:`grader.checks.judges.rel_error` with the expected tensor's
floor) of

* the reference's ``numeric_gradient`` (must stay below the tolerance),
* a forward difference, one that ignores ``eps`` (always 1e-6), one that
  divides by ε instead of 2ε, and one that leaves each element at x − ε
  (each must exceed it on at least one function of each check).

The tolerance is the check's ``tol`` in ``lab.toml``.
"""

import argparse
import sys
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.checks.judges import rel_error  # noqa: E402
from grader.labs.lab import Lab, load_submission  # noqa: E402


def _variant(kind):
    """A student's numeric_gradient with one mistake (``kind``)."""
    def numeric_gradient(f, x, eps=1e-6):
        x = np.array(x, dtype=np.float64)
        if kind == "ignores eps":
            eps = 1e-6
        grad = np.empty_like(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + eps
            plus = float(f(x))
            if kind == "forward difference":
                x[i] = old
                grad[i] = (plus - float(f(x))) / eps
                continue
            x[i] = old - eps
            minus = float(f(x))
            if kind != "not restored":
                x[i] = old
            grad[i] = (plus - minus) / (eps if kind == "divides by eps" else 2 * eps)
        return grad
    return types.SimpleNamespace(numeric_gradient=numeric_gradient)


VARIANTS = ("forward difference", "ignores eps", "divides by eps", "not restored")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--salts", type=int, default=20, help="number of salts (1, 2, …; default 20)")
    args = p.parse_args()
    lab = Lab.load("ffn")
    ref = load_submission(lab.solution_file, lab.module, alias="_ffn_calibrated_reference")
    subs = {"reference": ref, **{kind: _variant(kind) for kind in VARIANTS}}
    for chk in [c for c in lab.checks() if c.name in ("numeric_gradient", "numeric_gradient_hidden")]:
        tol = float(chk.config["tol"])
        worst = {name: {} for name in subs}
        for salt in (bytes([k]) * 32 for k in range(1, args.salts + 1)):
            chk.salt = salt
            made = chk.make_inputs()
            for name, sub in subs.items():
                got = chk.observe(sub, **made.public)
                for key, truth in made.secret["truth"].items():
                    err = rel_error(got[key]["grad"], truth, floor=None)
                    worst[name][key] = max(worst[name].get(key, 0.0), err) if name == "reference" \
                        else min(worst[name].get(key, np.inf), err)
        print(f"{chk.name} (tol {tol:.0e}), {args.salts} salts: largest error of the reference, smallest of each mistake")
        for name, errors in worst.items():
            row = ", ".join(f"{key} {err:.1e}" for key, err in errors.items())
            caught = "" if name == "reference" else (
                "  caught" if any(err > tol for err in errors.values()) else "  NOT CAUGHT")
            print(f"  {name:20s} {row}{caught}")


if __name__ == "__main__":
    main()
