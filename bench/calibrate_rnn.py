"""Calibrate the RNN lab's trained checks on the reference solution.

Runs each training check's own ``inputs`` and ``observe`` (the graded recipe,
unchanged) on ``solutions/rnn/rnn.py`` with several seeds and prints the
figure each check judges, its wall and CPU time, and the threshold from
``lab.toml`` (``[checks.<name>]``; the adding recipe is ``[shared.adding]``):

* ``adding_problem``: validation MSE of the GRU (threshold: at most);
* ``adding_simple_rnn_short``: validation MSE of the SimpleRNN on short sequences (threshold: at most);
* ``char_lm``: held-out perplexity on the Tang quatrains and, with the data
  directory hidden, on the synthetic stand-in corpus.

    .venv/bin/python bench/calibrate_rnn.py [--seeds 0 1 2 3 4] [--only char_lm] [--quick]

``--quick``: seed 0 of the two adding-problem checks (a smoke run).

Grading seeds each check's inputs (the adding problem's training and
validation sets, the language model's causality probe) and its model from the
secret salt; seed ``s`` here draws the inputs from ``default_rng(s)`` and the
model from ``s``: other draws of the same recipe, which is what the margin must
cover.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import Inputs  # noqa: E402
from grader.device import configure  # noqa: E402
from grader.labs.lab import Lab, load_submission  # noqa: E402


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def figure(name: str, got, secret, lab: Lab) -> float:
    """The number the check judges: an MSE or a perplexity."""
    if name.startswith("adding"):
        return float(np.mean((np.asarray(got["predictions"]).reshape(-1) - secret["y_val"]) ** 2))
    log_probs = np.asarray(got["log_probs"], dtype=np.float64)
    return float(np.exp(-np.mean(np.take_along_axis(log_probs, secret["targets"][..., None], axis=-1))))


def run(lab: Lab, ref, name: str, seeds: list[int], label: str) -> None:
    import keras

    check = lab.check(name)
    rows = []
    for seed in seeds:
        made = check.inputs(np.random.default_rng(seed))
        made = made if isinstance(made, Inputs) else Inputs(public=dict(made))
        keras.utils.set_random_seed(seed)
        wall, cpu = time.perf_counter(), cpu_seconds()
        got = check.observe(ref, **made.public)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        value = figure(name, got, made.secret, lab)
        rows.append(value)
        extra = f"  poem: {got['poem']}" if "poem" in got else ""
        print(f"{label:<34} seed {seed}: {value:8.4f}   wall {wall:5.1f}s  cpu {cpu:5.1f}s{extra}", flush=True)
    print(f"{label:<34} min {min(rows):.4f}  mean {np.mean(rows):.4f}  max {max(rows):.4f}\n", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--only", nargs="+", default=["adding_problem", "adding_simple_rnn_short", "char_lm", "synthetic"])
    parser.add_argument("--quick", action="store_true", help="seed 0 of the adding-problem checks only")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.only = args.seeds[:1], ["adding_problem", "adding_simple_rnn_short"]

    info = configure()
    print(f"device {info['device']}, {info['threads']} threads, TensorFlow {info['tensorflow']}\n")
    lab = Lab.load("rnn")
    ref = load_submission(lab.solution_file, lab.module, alias="_rnn_reference")
    gru, simple, lm = (lab.settings(n)["threshold"] for n in ("adding_problem", "adding_simple_rnn_short", "char_lm"))
    if "adding_problem" in args.only:
        run(lab, ref, "adding_problem", args.seeds, f"GRU MSE (≤ {gru})")
    if "adding_simple_rnn_short" in args.only:
        run(lab, ref, "adding_simple_rnn_short", args.seeds, f"SimpleRNN MSE, T = 10 (≤ {simple})")
    if "char_lm" in args.only:
        run(lab, ref, "char_lm", args.seeds, f"perplexity, tang (≤ {lm['tang']})")
    if "synthetic" in args.only:
        import grader.data.directory

        # Hide every data directory: poem_corpus falls back to the synthetic corpus.
        grader.data.directory.candidate_dirs = lambda data_dir=None: [ROOT / "no-such-data-dir"]
        run(lab, ref, "char_lm", args.seeds, f"perplexity, synthetic (≤ {lm['synthetic']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
