"""Pre-train the encoder the Transformer lab ships (the instructor's part of the study).

    python assignments/transformer/pretrain.py [--steps 4000] [--seed 0] [--out DIR] [--data-dir DIR]

Masked-language-model pre-training (BERT's 15 % corruption, the lab's own
``bert_mask_tokens``) of the lab's own encoder (``build_encoder``: the
reference's ``PositionalEmbedding`` and ``TransformerEncoderBlock``) on the
couplets of the Tang poems (``grader.data.tang_couplets``: the poems held out
for the study's test set are left out). Writes to ``--out`` (default: the
``pretrained`` folder beside this script):

* ``encoder.weights.h5``: the encoder's weights (the MLM head scores against the
  embedding matrix, so it has no weights of its own);
* ``encoder.json``: the sizes to build the encoder with, the vocabulary, the
  weights' SHA-256, the recipe and the held-out masked-character accuracy;
* ``theme_task.json``: the study's classification task (which of four
  keywords a couplet hides; ``grader.data.make_theme_task``), so students and
  the grading sandbox need no data directory.

The run is seeded and single-configuration (two TensorFlow threads, op
determinism, oneDNN off): the same seed and steps on the same machine
type write the same files, byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
#: Sizes of the shipped encoder: 2,000 tokens, so about 200,000 weights (0.8 MB).
CONFIG = {"vocab_size": 2000, "max_len": 17, "d_model": 64, "num_heads": 4, "d_ff": 128, "num_layers": 2}
#: The pre-training recipe.
RECIPE = {"batch_size": 128, "learning_rate": 1e-3, "warmup_steps": 200, "mask_prob": 0.15}
#: TensorFlow threads: fixed, because a float sum's order (and so the bits) depends on them.
THREADS = 2


def reference():
    """The lab's reference module (``solutions/transformer/transformer.py``)."""
    path = ROOT / "solutions" / "transformer" / "transformer.py"
    spec = importlib.util.spec_from_file_location("_transformer_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tied_logits(encoder):
    """The masked-LM head: scores against the encoder's own embedding matrix
    (``logits = h Eᵀ``, tied as in BERT), so the shipped encoder alone can
    still fill in a masked character."""
    import keras
    from keras import ops

    class TiedLogits(keras.layers.Layer):
        def __init__(self, table, **kwargs):
            super().__init__(**kwargs)
            self.table = table

        def call(self, h):
            return ops.matmul(h, ops.transpose(self.table.embeddings))

    return TiedLogits(encoder.get_layer("embedding").embedding, name="mlm_head")


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def pretrain(out: Path, *, steps: int, seed: int = 0, data_dir: str | None = None, log=print) -> dict:
    """Pre-train, write the three files into ``out`` and return encoder.json's content."""
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    sys.path.insert(0, str(ROOT))
    from grader.device import configure

    configure(threads=THREADS)
    import numpy as np
    import keras

    from grader.data import sequences as seq

    ref = reference()
    couplets = seq.tang_couplets(data_dir)
    vocab = seq.couplet_vocabulary(couplets[0], CONFIG["vocab_size"])
    ids = seq.encode_couplets(couplets[0], vocab, CONFIG["max_len"])
    held_out = seq.encode_couplets(couplets[1], vocab, CONFIG["max_len"])
    out.mkdir(parents=True, exist_ok=True)
    (out / "theme_task.json").write_text(_json(seq.make_theme_task(couplets)), encoding="utf-8")

    # Never chosen for masking: padding, the start token, unknown characters, [MASK], punctuation.
    special = [seq.PAD, seq.BOS, seq.UNK, seq.MASK, vocab.index("，"), vocab.index("。")]
    rng = np.random.default_rng(seed)
    batch = RECIPE["batch_size"]
    rows = np.concatenate([rng.permutation(len(ids)) for _ in range(-(-steps * batch // len(ids)))])[: steps * batch]
    x, y, w = ref.bert_mask_tokens(ids[rows], rng, len(vocab), seq.MASK, special, RECIPE["mask_prob"])
    # Keras averages a weighted loss over every position; scaled, the loss is the mean over masked ones.
    w = (w * w.size / w.sum()).astype("float32")

    keras.utils.set_random_seed(seed)
    encoder = ref.build_encoder(**CONFIG, pad_id=seq.PAD)
    tokens = keras.Input((None,), dtype="int32")
    mlm = keras.Model(tokens, tied_logits(encoder)(encoder(tokens)))
    warmup = min(RECIPE["warmup_steps"], steps // 2)  # a short trial run warms up for half its steps
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, max(1, steps - warmup), warmup_target=RECIPE["learning_rate"], warmup_steps=warmup)
    mlm.compile(keras.optimizers.Adam(schedule), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    start, cpu = time.perf_counter(), time.process_time()
    history = mlm.fit(x, y, sample_weight=w, batch_size=batch, epochs=1, shuffle=False, verbose=2 if log else 0)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu

    # How well it fills in [MASK]ed characters of poems it never saw: one seeded BERT corruption of the held-out
    # couplets, scored where a character became [MASK] only (a kept or random one can be copied or guessed
    # from the input itself).
    hx, hy, _ = ref.bert_mask_tokens(held_out, np.random.default_rng(seed + 1), len(vocab), seq.MASK, special,
                                     RECIPE["mask_prob"])
    predicted = np.asarray(mlm.predict(hx, batch_size=512, verbose=0)).argmax(-1)
    accuracy = float(np.mean(predicted[hx == seq.MASK] == hy[hx == seq.MASK]))

    weights = out / "encoder.weights.h5"
    encoder.save_weights(weights)
    info = {"config": CONFIG, "vocab": vocab, "weights": weights.name,
            "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
            "pretraining": {**RECIPE, "steps": steps, "seed": seed, "threads": THREADS,
                            "corpus": f"{len(ids)} couplets of the Tang poems (grader.data.tang_couplets)",
                            "final_loss": round(float(history.history["loss"][-1]), 4),
                            "held_out_masked_accuracy": round(accuracy, 4),
                            "keras": keras.__version__}}
    (out / "encoder.json").write_text(_json(info), encoding="utf-8")
    if log:
        log(f"{steps} steps in {wall:.0f}s ({cpu:.0f}s of CPU); held-out masked-character accuracy {accuracy:.3f}; "
            f"{weights} {weights.stat().st_size / 1e6:.2f} MB, sha256 {info['sha256'][:12]}…")
    return info


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "pretrained")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    pretrain(args.out, steps=args.steps, seed=args.seed, data_dir=args.data_dir)


if __name__ == "__main__":
    main()
