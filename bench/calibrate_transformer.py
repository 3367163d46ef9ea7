"""Calibrate the Transformer lab's training check on the reference solution.

Runs ``seq2seq_training``'s own ``inputs`` and ``observe`` (the graded
recipe, unchanged: reverse sequences, teacher forcing, greedy decoding) on
``solutions/transformer/transformer.py`` under several salts, once with the
sinusoidal positional encoding and once without it, and prints per salt the
token and whole-sequence accuracy of greedy decoding, the training loss per
epoch, wall and CPU time, then the threshold from ``lab.toml``
(``[checks.seq2seq_training]``).

The run without the encoding is the contrast the lab teaches (self-attention
ignores order): it is measured here, and asserted once in the kit's tests,
rather than trained again for every submission.

    .venv/bin/python bench/calibrate_transformer.py [--salts 1 2 3 4 5] [--only with without] [--quick]

Graded, the check's training and held-out sequences and its model seed
(initialisation, shuffling) all derive from the release's secret salt. Salt
``k`` here is the byte ``k`` repeated 32 times (``DLKIT_SALT=0101…01`` for
``k = 1``): each salt is one draw of what a release grades, which is what the
margin must cover. ``--quick``: one salt, with the encoding only.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.device import configure, seed_everything  # noqa: E402
from grader.labs.lab import Lab, load_submission  # noqa: E402


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def without_encoding(ref):
    """The reference, with build_transformer's positional encoding forced off."""
    module = types.SimpleNamespace(**vars(ref))
    module.build_transformer = lambda *a, **kw: ref.build_transformer(*a, **{**kw, "use_positional_encoding": False})
    return module


def salt(k: int) -> bytes:
    return bytes([k]) * 32


def run(lab: Lab, sub, salts: list[int], label: str) -> list[float]:
    check = lab.check("seq2seq_training")
    accuracies = []
    for k in salts:
        check.salt = salt(k)  # what Lab sets from $DLKIT_SALT or .dlkit/salt
        made = check.make_inputs()
        target = made.secret["eval_target"]
        seed_everything(check.observe_seed)  # as grader.core.runner.observe does
        wall, cpu = time.perf_counter(), cpu_seconds()
        got = check.observe(sub, **made.public)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        correct = np.asarray(got["predictions"]) == target
        accuracies.append(float(correct.mean()))
        losses = ", ".join(f"{l:.3f}" for l in got["loss"])
        print(f"{label:<28} salt {k:02x}: token acc {correct.mean():.3f}  sequences {correct.all(axis=1).mean():.3f}"
              f"  loss/epoch [{losses}]  wall {wall:5.1f}s  cpu {cpu:5.1f}s", flush=True)
    print(f"{label:<28} min {min(accuracies):.3f}  mean {np.mean(accuracies):.3f}  max {max(accuracies):.3f}\n", flush=True)
    return accuracies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--salts", type=int, nargs="+", default=[1, 2, 3, 4, 5], help="salt k = byte k × 32 (0–255)")
    parser.add_argument("--only", nargs="+", default=["with", "without"], choices=["with", "without"])
    parser.add_argument("--quick", action="store_true", help="one salt, with the encoding only")
    args = parser.parse_args()
    if args.quick:
        args.salts, args.only = args.salts[:1], ["with"]

    info = configure()
    print(f"device {info['device']}, {info['threads']} threads, TensorFlow {info['tensorflow']}\n")
    lab = Lab.load("transformer")
    ref = load_submission(lab.solution_file, lab.module, alias="_transformer_reference")
    cfg = lab.check("seq2seq_training").config
    print(f"reverse {cfg['length']} tokens of {cfg['vocab_size'] - 1} symbols; {cfg['train_size']} sequences × "
          f"{cfg['epochs']} epochs; d_model {cfg['d_model']}, {cfg['num_heads']} heads, {cfg['num_layers']} block(s); "
          f"threshold {cfg['threshold']}, chance {cfg['baseline']}\n")
    results = {}
    if "with" in args.only:
        results["with"] = run(lab, ref, args.salts, "with positional encoding")
    if "without" in args.only:
        results["without"] = run(lab, without_encoding(ref), args.salts, "without positional encoding")
    if "with" in results:
        print(f"margin below the worst salt with the encoding: {min(results['with']) - cfg['threshold']:.3f}")
    if "without" in results:
        print(f"margin above the best salt without it:         {cfg['threshold'] - max(results['without']):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
