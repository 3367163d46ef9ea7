"""Sequences for the RNN lab: the adding problem, the Tang-dynasty poems of
the chinese-poetry collection (or a synthetic stand-in) and their tokens."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from grader.data.directory import DataError, locate


def adding_problem(n: int, length: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber, 1997), a long-range dependency test.

    Each sequence has ``length`` steps of two channels: channel 0 holds values
    drawn uniformly from [0, 1); channel 1 is 0 except at two marked steps, one
    in each half of the sequence. The target is the sum of the two marked values.

    Returns ``x`` of shape (n, length, 2), float32, and ``y`` of shape (n,),
    float32. Always predicting the mean, 1.0, gives a mean squared error of
    Var(u₁ + u₂) = 2/12 ≈ 0.167: the baseline a model must beat.
    """
    rng = np.random.default_rng(seed)
    values = rng.uniform(size=(n, length))
    marks = np.zeros((n, length))
    rows = np.arange(n)
    marks[rows, rng.integers(0, length // 2, size=n)] = 1.0
    marks[rows, rng.integers(length // 2, length, size=n)] = 1.0
    x = np.stack([values, marks], axis=-1).astype(np.float32)
    y = (values * marks).sum(axis=1).astype(np.float32)
    return x, y


#: The Tang-poem files of the chinese-poetry collection (traditional characters).
TANG_FILES = tuple(f"chinese-poetry/poet.tang.{i}.json" for i in range(0, 10000, 1000))
#: Tokens at the start of every poem vocabulary: padding, begin-of-poem, unknown character.
POEM_SPECIALS = ("<pad>", "<s>", "<unk>")
PAD, BOS, UNK = 0, 1, 2


def is_quatrain(text: str) -> bool:
    """Whether ``text`` has the shape of a 五言绝句: four lines of five CJK
    characters, with "，" after lines 1 and 3 and "。" after lines 2 and 4."""
    import re

    return re.fullmatch(r"(?:[\u4e00-\u9fff]{5}，[\u4e00-\u9fff]{5}。){2}", text) is not None


@functools.cache
def _read_tang(folder: str) -> tuple[tuple[str, ...], ...]:
    import json

    poems = []
    for name in TANG_FILES:
        with (Path(folder) / name).open(encoding="utf-8") as fh:
            poems += [tuple(p.get("paragraphs") or ()) for p in json.load(fh)]
    return tuple(poems)


def tang_poems(data_dir: str | Path | None = None) -> list[list[str]]:
    """The 10,008 poems of ``chinese-poetry/poet.tang.{0,1000,…,9000}.json``, in
    file order, each as its list of lines (the files' "paragraphs": usually one
    couplet such as "秦川雄帝宅，函谷壯皇居。"). Traditional characters, as in the
    files. Raises :class:`DataError` when the files are not in a data directory."""
    return [list(p) for p in _read_tang(str(locate(list(TANG_FILES), data_dir)))]


def tang_quatrains(data_dir: str | Path | None = None, *, test_fraction: float = 0.05,
                   seed: int = 0) -> tuple[list[str], list[str]]:
    """Five-character quatrains cut from the Tang poems, split by poem.

    A poem qualifies when every line is a five-character couplet
    ("XXXXX，XXXXX。"); it is cut into consecutive pairs of couplets, each a
    24-character text in the shape of a 五言绝句 (a 五言律诗 gives two, an odd
    last couplet is dropped). About 17,900 quatrains from 6,774 poems.

    Returns ``(train, test)``: the quatrains of a seeded random
    ``test_fraction`` of the *poems* form ``test``, so no poem has halves on
    both sides; ``train`` is shuffled with the same seed. The collection
    repeats some poems (under other titles or authors): a test quatrain whose
    text also occurs in ``train`` is left out, so ``test`` is truly held out.
    """
    import re

    couplet = re.compile(r"[\u4e00-\u9fff]{5}，[\u4e00-\u9fff]{5}。")
    poems = []
    for lines in tang_poems(data_dir):
        if lines and all(couplet.fullmatch(line) for line in lines):
            poems.append([lines[i] + lines[i + 1] for i in range(0, len(lines) - 1, 2)])
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(poems))
    n_test = int(round(test_fraction * len(poems)))
    train = [q for i in order[n_test:] for q in poems[i]]
    seen = set(train)
    test = [q for i in order[:n_test] for q in poems[i] if q not in seen]
    return [train[i] for i in rng.permutation(len(train))], test


def synthetic_quatrains(n: int, seed: int = 0, *, alphabet_size: int = 60) -> list[str]:
    """``n`` texts in the quatrain shape, written by a seeded random process, as an
    offline stand-in for the Tang poems (tests and grading without the data files).

    The characters are the first ``alphabet_size`` of the CJK block (一, 丁, …).
    Each line's first character is drawn from a fixed distribution, each next
    one from a sparse character-to-character (bigram) table with about four
    likely successors per character, so a language model has structure to
    learn: its perplexity can fall well below the unigram model's. The chain
    itself is fixed (seed 12345); ``seed`` only chooses the texts.
    """
    chain = np.random.default_rng(12345)
    alphabet = np.array([chr(0x4E00 + i) for i in range(alphabet_size)])
    start = np.cumsum(chain.dirichlet(np.full(alphabet_size, 0.5)))
    bigram = np.cumsum(chain.dirichlet(np.full(alphabet_size, 0.05), size=alphabet_size), axis=1)
    draws = np.random.default_rng(seed).uniform(size=(n * 4, 5))
    chars = np.empty((n * 4, 5), dtype=np.int64)
    # Inverse-CDF sampling, all lines at once: the first index whose cumulative probability exceeds u.
    chars[:, 0] = np.minimum((start[None, :] < draws[:, :1]).sum(axis=1), alphabet_size - 1)
    for j in range(1, 5):
        chars[:, j] = np.minimum((bigram[chars[:, j - 1]] < draws[:, j:j + 1]).sum(axis=1), alphabet_size - 1)
    lines = ["".join(row) for row in alphabet[chars]]
    marks = ("，", "。", "，", "。")
    return ["".join(lines[4 * i + k] + marks[k] for k in range(4)) for i in range(n)]


def poem_corpus(data_dir: str | Path | None = None, *, allow_synthetic: bool = True) -> tuple[str, list[str], list[str]]:
    """The RNN lab's language-model corpus: ``(name, train, test)``.

    ``("tang", …)`` is :func:`tang_quatrains` when the Tang files are in a data
    directory. Otherwise, when ``allow_synthetic``, ``("synthetic", …)``:
    4,000 training and 400 test texts of :func:`synthetic_quatrains` (seeds 0
    and 1), so the lab grades offline; its thresholds are separate (see the
    lab's ``lab.toml``). With ``allow_synthetic=False`` a missing file raises
    :class:`DataError`.
    """
    try:
        train, test = tang_quatrains(data_dir)
        return "tang", train, test
    except DataError as exc:
        if not allow_synthetic or "checksum" in str(exc):
            raise
    return "synthetic", synthetic_quatrains(4000, seed=0), synthetic_quatrains(400, seed=1)


def poem_vocabulary(texts: list[str], size: int) -> list[str]:
    """The ``POEM_SPECIALS`` followed by the ``size − 3`` most frequent characters
    of ``texts`` (ties broken by code point), so ``vocab[i]`` is the token of id
    ``i``. Fewer when ``texts`` holds fewer distinct characters."""
    from collections import Counter

    counts = Counter("".join(texts))
    chars = sorted(counts, key=lambda ch: (-counts[ch], ch))[: max(0, size - len(POEM_SPECIALS))]
    return list(POEM_SPECIALS) + chars


def encode_poems(texts: list[str], vocab: list[str]) -> np.ndarray:
    """Token ids of equal-length ``texts``: (N, 1 + length) int32, each row the
    begin-of-poem id ``BOS`` then one id per character (``UNK`` for a character
    not in ``vocab``). A language model reads ``ids[:, :-1]`` and predicts
    ``ids[:, 1:]``."""
    position = {token: i for i, token in enumerate(vocab)}
    rows = [[BOS] + [position.get(ch, UNK) for ch in text] for text in texts]
    if len({len(r) for r in rows}) > 1:
        raise ValueError("encode_poems needs texts of equal length")
    return np.array(rows, dtype=np.int32).reshape(len(rows), -1)


# -- the Transformer lab's study: a pre-trained encoder and a classification task --------------

#: One couplet of five- or seven-character lines: "XXXXX，XXXXX。" or "XXXXXXX，XXXXXXX。".
COUPLET_PATTERN = r"[\u4e00-\u9fff]{5}，[\u4e00-\u9fff]{5}。|[\u4e00-\u9fff]{7}，[\u4e00-\u9fff]{7}。"
#: The character that stands for a hidden one: the collection itself writes "□" for
#: a character lost from a poem, so no couplet of the corpus contains it.
MASK_CHAR = "□"
#: Token id of :data:`MASK_CHAR` in a couplet vocabulary (after the poem specials).
MASK = 3
#: The keywords of the theme task, one class each (traditional characters, as in the files).
THEME_KEYWORDS = ("山", "月", "風", "花")
#: Where the pre-trained encoder and the task ship, relative to the kit's root (the
#: repository, a student or autograder bundle, the sandbox's copy of the kit).
PRETRAINED_DIR = "assignments/transformer/pretrained"


def tang_couplets(data_dir: str | Path | None = None, *, test_fraction: float = 0.15,
                  seed: int = 0) -> tuple[list[str], list[str]]:
    """Every couplet (:data:`COUPLET_PATTERN`) of the Tang poems, split by poem.

    Returns ``(train, test)`` in file order: the couplets of a seeded random
    ``test_fraction`` of the poems form ``test``, the rest ``train``, so the
    text an encoder is pre-trained on (``train``) never holds a poem a
    classifier is tested on. The collection repeats some poems (under other
    titles or authors): a test couplet whose text also occurs in ``train``
    is left out. About 40,800 and 7,200 couplets.
    """
    import re

    couplet = re.compile(COUPLET_PATTERN)
    poems = tang_poems(data_dir)
    order = np.random.default_rng(seed).permutation(len(poems))
    held_out = set(order[: int(round(test_fraction * len(poems)))].tolist())
    train, test = [], []
    for i, lines in enumerate(poems):
        (test if i in held_out else train).extend(line for line in lines if couplet.fullmatch(line))
    seen = set(train)
    return train, [line for line in test if line not in seen]


def couplet_vocabulary(texts: list[str], size: int) -> list[str]:
    """:func:`poem_vocabulary` of ``texts`` with :data:`MASK_CHAR` inserted at id
    :data:`MASK`: ``size`` tokens in all."""
    vocab = poem_vocabulary(texts, size - 1)
    return vocab[:MASK] + [MASK_CHAR] + vocab[MASK:]


def encode_couplets(texts: list[str], vocab: list[str], length: int) -> np.ndarray:
    """Token ids of ``texts``, padded: (N, length) int32, each row ``BOS`` then one
    id per character (``UNK`` for one not in ``vocab``) then ``PAD``. A text
    longer than ``length − 1`` characters raises ``ValueError``."""
    position = {token: i for i, token in enumerate(vocab)}
    out = np.full((len(texts), length), PAD, dtype=np.int32)
    for row, text in enumerate(texts):
        if len(text) > length - 1:
            raise ValueError(f"{text!r} has {len(text)} characters; at most {length - 1} fit")
        out[row, : len(text) + 1] = [BOS] + [position.get(ch, UNK) for ch in text]
    return out


def make_theme_task(couplets: tuple[list[str], list[str]], *, keywords=THEME_KEYWORDS,
                    test_per_class: int = 200, seed: int = 0) -> dict:
    """The theme task made from ``(train, test)`` couplets (:func:`tang_couplets`):
    which keyword of ``keywords`` a couplet holds, the keyword itself hidden.

    A couplet qualifies when it holds exactly one occurrence of one keyword and
    none of the others; that character becomes :data:`MASK_CHAR` and its
    keyword's index the label. ``test`` keeps ``test_per_class`` couplets of
    each keyword, drawn with ``seed`` from the held-out poems; ``train`` keeps
    every qualifying couplet of the other poems, shuffled with ``seed``.

    Returns ``{"keywords": [...], "train": {"texts", "labels"}, "test": {...}}``
    (plain lists: what ``pretrained/theme_task.json`` holds).
    """
    rng = np.random.default_rng(seed)

    def qualify(lines):
        texts, labels = [], []
        for line in lines:
            found = [k for k, kw in enumerate(keywords) if kw in line]
            if len(found) == 1 and line.count(keywords[found[0]]) == 1:
                texts.append(line.replace(keywords[found[0]], MASK_CHAR))
                labels.append(found[0])
        return texts, np.array(labels, dtype=np.int64)

    train_texts, train_labels = qualify(couplets[0])
    order = rng.permutation(len(train_texts))
    test_texts, test_labels = qualify(couplets[1])
    keep = []
    for k in range(len(keywords)):
        members = np.flatnonzero(test_labels == k)
        if len(members) < test_per_class:
            raise ValueError(f"only {len(members)} held-out couplets hold {keywords[k]!r}; {test_per_class} asked for")
        keep += sorted(rng.choice(members, size=test_per_class, replace=False).tolist())
    return {"keywords": list(keywords),
            "train": {"texts": [train_texts[i] for i in order], "labels": [int(train_labels[i]) for i in order]},
            "test": {"texts": [test_texts[i] for i in keep], "labels": [int(test_labels[i]) for i in keep]}}


def pretrained_dir(root: str | Path | None = None) -> Path:
    """The folder of the shipped encoder and task: :data:`PRETRAINED_DIR` under
    ``root`` (default: the kit holding this package)."""
    root = Path(root) if root is not None else Path(__file__).resolve().parent.parent.parent
    return root / PRETRAINED_DIR


def pretrained_encoder(folder: str | Path | None = None) -> dict:
    """The pre-trained encoder the kit ships: ``{"config": {...}, "vocab": [...],
    "weights": Path, ...}`` from ``encoder.json`` in ``folder`` (default
    :func:`pretrained_dir`). ``config`` holds the sizes to build the encoder
    with (``vocab_size``, ``max_len``, ``d_model``, ``num_heads``, ``d_ff``,
    ``num_layers``); ``weights`` is the ``.weights.h5`` file to load into it,
    checked against the SHA-256 the JSON records (a mismatch raises
    :class:`DataError`)."""
    import json

    from grader.files import sha256_file

    folder = Path(folder) if folder is not None else pretrained_dir()
    path = folder / "encoder.json"
    if not path.is_file():
        raise DataError(f"no pre-trained encoder in {folder} (encoder.json is missing)")
    info = json.loads(path.read_text(encoding="utf-8"))
    weights = folder / info["weights"]
    if not weights.is_file() or sha256_file(weights) != info["sha256"]:
        raise DataError(f"{weights} is missing or is not the file encoder.json describes (SHA-256 differs)")
    return {**info, "weights": weights}


def theme_task(train_size: int, seed: int, folder: str | Path | None = None):
    """The theme task as shipped (``theme_task.json`` beside the encoder; no data
    directory needed): ``(train_texts, train_labels, test_texts, test_labels)``.

    The training set is ``train_size`` couplets drawn with ``seed``, the same
    number of each keyword (so 4 classes need ``train_size`` divisible by 4),
    from the training pool; the test set (800 couplets from poems the encoder
    never saw) is always the same. Labels are int64 arrays.
    """
    import json

    folder = Path(folder) if folder is not None else pretrained_dir()
    path = folder / "theme_task.json"
    if not path.is_file():
        raise DataError(f"no theme task in {folder} (theme_task.json is missing)")
    task = json.loads(path.read_text(encoding="utf-8"))
    texts, labels = task["train"]["texts"], np.array(task["train"]["labels"], dtype=np.int64)
    classes = len(task["keywords"])
    if train_size % classes:
        raise ValueError(f"train_size = {train_size} is not a multiple of the {classes} classes")
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([rng.choice(np.flatnonzero(labels == k), size=train_size // classes, replace=False)
                             for k in range(classes)])
    chosen = rng.permutation(chosen)
    return ([texts[i] for i in chosen], labels[chosen],
            list(task["test"]["texts"]), np.array(task["test"]["labels"], dtype=np.int64))
