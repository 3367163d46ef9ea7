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
