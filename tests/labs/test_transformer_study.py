"""The Transformer lab's study: a pre-trained encoder vs training from scratch.

* the shipped encoder (``assignments/transformer/pretrained``) is the one its
  JSON describes, loads into the reference's encoder, and fills in masked
  keywords far better than a random encoder of the same shape;
* the theme task is deterministic, balanced and made from the Tang poems as
  the shipped file says; the files reach the student bundle and the sandbox;
* ``[study]`` matches ``run_config``, and the reference's ``study.csv`` is a
  valid table of it;
* (full tier) the calibration the handout quotes: pre-training wins at the
  smallest training set on every seed, by more than at the largest; the
  pre-training script writes the same files twice (tiny budget).
"""

import hashlib
import inspect
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from grader.data import DataError, sequences as seq
from grader.labs.lab import Lab, load_submission

LAB = Lab.load("transformer")
SHIPPED = seq.pretrained_dir(LAB.root)


@pytest.fixture(scope="module")
def reference():
    from grader.device import configure

    configure()
    return load_submission(LAB.solution_file, LAB.module, alias="_transformer_study_reference")


def _keyword_accuracy(reference, info, weights):
    """How often the encoder's masked-LM scores (against its own embedding
    matrix, as in pre-training) rank the hidden keyword first among the four,
    over the task's first 200 test couplets."""
    from keras import ops

    task = json.loads((SHIPPED / "theme_task.json").read_text(encoding="utf-8"))
    texts, labels = task["test"]["texts"][:800:4], np.array(task["test"]["labels"][:800:4])
    x = seq.encode_couplets(texts, info["vocab"], info["config"]["max_len"])
    encoder = reference.build_encoder(**info["config"], pad_id=seq.PAD)
    if weights:
        encoder.load_weights(info["weights"])
    h = np.asarray(encoder(x))[x == seq.MASK]  # one □ per couplet: (200, d_model)
    table = np.asarray(ops.convert_to_tensor(encoder.get_layer("embedding").embedding.embeddings))
    keywords = [info["vocab"].index(k) for k in task["keywords"]]
    return float(np.mean((h @ table[keywords].T).argmax(axis=1) == labels))


# -- the shipped encoder ---------------------------------------------------------

def test_the_shipped_encoder_is_what_its_json_describes():
    info = seq.pretrained_encoder(SHIPPED)
    assert set(info["config"]) == {"vocab_size", "max_len", "d_model", "num_heads", "d_ff", "num_layers"}
    assert len(info["vocab"]) == info["config"]["vocab_size"] == len(set(info["vocab"]))
    assert info["vocab"][:4] == [*seq.POEM_SPECIALS, seq.MASK_CHAR] and {"，", "。"} <= set(info["vocab"])
    assert hashlib.sha256(info["weights"].read_bytes()).hexdigest() == info["sha256"]
    assert info["weights"].stat().st_size < 1_100_000


def test_a_changed_weights_file_is_refused(tmp_path):
    shutil.copytree(SHIPPED, tmp_path / "pretrained")
    weights = tmp_path / "pretrained" / "encoder.weights.h5"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(DataError, match="SHA-256"):
        seq.pretrained_encoder(tmp_path / "pretrained")
    with pytest.raises(DataError, match="encoder.json"):
        seq.pretrained_encoder(tmp_path)


def test_the_weights_load_into_the_reference_encoder_and_not_into_a_deeper_one(reference):
    info = seq.pretrained_encoder(SHIPPED)
    encoder = reference.build_encoder(**info["config"], pad_id=seq.PAD)
    fresh = [np.array(w) for w in encoder.get_weights()]
    encoder.load_weights(info["weights"])
    loaded = encoder.get_weights()
    assert len(loaded) == len(fresh) and all(not np.array_equal(a, b) for a, b in zip(fresh, loaded))
    assert sum(w.size for w in loaded) == encoder.count_params()
    # An encoder with layers the file lacks (as one with other layer names would have) is refused, not half-loaded.
    other = reference.build_encoder(**{**info["config"], "num_layers": 3}, pad_id=seq.PAD)
    with pytest.raises(ValueError, match="could not be loaded"):
        other.load_weights(info["weights"])


def test_the_pretrained_encoder_fills_in_hidden_keywords_a_random_one_cannot(reference):
    info = seq.pretrained_encoder(SHIPPED)
    pretrained = _keyword_accuracy(reference, info, weights=True)
    random = _keyword_accuracy(reference, info, weights=False)
    assert pretrained >= 0.6 and random <= 0.45, (pretrained, random)


# -- the theme task -----------------------------------------------------------------

def test_a_training_set_is_balanced_seeded_and_the_test_set_fixed():
    a = seq.theme_task(64, seed=0, folder=SHIPPED)
    b = seq.theme_task(64, seed=0, folder=SHIPPED)
    c = seq.theme_task(64, seed=1, folder=SHIPPED)
    assert a[0] == b[0] and np.array_equal(a[1], b[1]) and a[0] != c[0]
    assert np.bincount(a[1]).tolist() == [16] * 4
    assert a[2] == c[2] and np.bincount(a[3]).tolist() == [200] * 4
    assert all(text.count(seq.MASK_CHAR) == 1 for text in a[0] + a[2])
    assert not set(a[2]) & set(seq.theme_task(4096, seed=0, folder=SHIPPED)[0])
    with pytest.raises(ValueError, match="multiple"):
        seq.theme_task(65, seed=0, folder=SHIPPED)


def test_a_couplet_with_two_keywords_or_one_twice_is_left_out():
    train = ["青山横北郭，白水遶東城。", "山月隨人歸，花落知多少。", "山山皆寂寂，處處盡蒼蒼。"]
    test = ["明月松間照，清泉石上流。", "春風吹又生，野火燒不盡。", "花落知多少，夜來風雨聲。"]
    task = seq.make_theme_task((train, test), test_per_class=0)
    assert task["train"] == {"texts": ["青□横北郭，白水遶東城。"], "labels": [0]}
    with pytest.raises(ValueError, match="held-out couplets"):
        seq.make_theme_task((train, test), test_per_class=1)


def test_the_shipped_task_is_made_from_the_tang_poems():
    shipped = json.loads((SHIPPED / "theme_task.json").read_text(encoding="utf-8"))
    assert seq.make_theme_task(seq.tang_couplets()) == shipped


def test_encoding_pads_and_refuses_what_does_not_fit():
    vocab = seq.couplet_vocabulary(["山月", "月"], 6)
    assert vocab == ["<pad>", "<s>", "<unk>", "□", "月", "山"]
    assert seq.encode_couplets(["月□雲"], vocab, 6).tolist() == [[1, 4, 3, 2, 0, 0]]
    with pytest.raises(ValueError, match="at most 2"):
        seq.encode_couplets(["山月雲"], vocab, 3)


# -- where the files reach ----------------------------------------------------------

def test_students_and_the_sandbox_get_the_encoder(tmp_path):
    from grader.release import contents
    from grader.sandbox.workdir import copy_runtime

    shipped = {f"pretrained/{name}" for name in ("encoder.json", "encoder.weights.h5", "theme_task.json")}
    assert shipped <= set(contents.public_lab_files(LAB))
    copy_runtime(LAB, tmp_path)
    info = seq.pretrained_encoder(seq.pretrained_dir(tmp_path))  # the sandbox's kit root is its lib folder
    assert info["sha256"] == seq.pretrained_encoder(SHIPPED)["sha256"]
    assert seq.theme_task(64, 3, folder=seq.pretrained_dir(tmp_path))[0] == seq.theme_task(64, 3, folder=SHIPPED)[0]


# -- the declaration and the reference's table ---------------------------------------

def test_the_declaration_matches_run_config():
    module = load_submission(LAB.solution_file, LAB.module, alias="_transformer_study_signature")
    study = LAB.study
    params = inspect.signature(getattr(module, study.function)).parameters
    assert list(params) == [*study.factors, "seed"]
    assert params["seed"].kind is inspect.Parameter.KEYWORD_ONLY
    assert all(p.default is inspect.Parameter.empty for p in params.values())
    assert set(study.factors["init"]) == {"pretrained", "scratch"}
    task = json.loads((SHIPPED / "theme_task.json").read_text(encoding="utf-8"))
    smallest_class = min(np.bincount(task["train"]["labels"]))
    assert all(size % 4 == 0 and size // 4 <= smallest_class for size in study.factors["train_size"])
    assert study.metrics == ("test_accuracy",) and 1 <= study.reproduce <= 3 and len(study.rubric) >= 3


def test_the_reference_table_is_complete_and_valid():
    from grader.study import table

    rows = table.read(LAB.solution_dir, LAB.study)
    assert {tuple(r.factors.values()) for r in rows} == {tuple(c.values()) for c in table.grid(LAB.study)}
    assert all(0.0 <= r.metrics["test_accuracy"] <= 1.0 for r in rows)
    assert (LAB.solution_dir / LAB.study.report).is_file()


# -- full tier ------------------------------------------------------------------------

@pytest.mark.full
def test_pretraining_wins_with_little_data_and_less_so_with_more(reference):
    sizes = LAB.study.factors["train_size"]
    gap = {size: [] for size in (sizes[0], sizes[-1])}
    for seed in range(3):
        for size in gap:
            runs = {init: reference.run_config(init, size, seed=seed)["test_accuracy"]
                    for init in ("pretrained", "scratch")}
            gap[size].append(runs["pretrained"] - runs["scratch"])
    assert min(gap[sizes[0]]) > 0, gap
    assert np.mean(gap[sizes[-1]]) < np.mean(gap[sizes[0]]), gap


@pytest.mark.full
def test_the_pretraining_script_writes_the_same_files_twice(tmp_path):
    script = LAB.assignment_dir / "pretrain.py"
    for run in ("a", "b"):
        subprocess.run([sys.executable, str(script), "--steps", "12", "--out", str(tmp_path / run)], check=True,
                       capture_output=True, timeout=300)
    for name in ("encoder.weights.h5", "encoder.json", "theme_task.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "theme_task.json").read_bytes() == (SHIPPED / "theme_task.json").read_bytes()
    info = json.loads((tmp_path / "a" / "encoder.json").read_text(encoding="utf-8"))
    assert info["vocab"] == seq.pretrained_encoder(SHIPPED)["vocab"] and info["pretraining"]["steps"] == 12
