"""Helpers only the RNN lab's hidden checks use, on the trusted side (making
inputs and judging); never shipped, never in the sandbox."""

import numpy as np


def elman_states(x, h0, U, W, b, activation="tanh"):
    """States ``h`` and net inputs ``z`` (B, T, H) of the Elman RNN, for checks
    that need a consistent forward pass as *input* (the backward checks), so a
    bug in the student's forward does not show up as a backward error."""
    f = {"tanh": np.tanh, "linear": lambda v: v, "relu": lambda v: np.maximum(v, 0.0)}[activation]
    h, hs, zs = h0, [], []
    for t in range(x.shape[1]):
        z = h @ U.T + x[:, t] @ W.T + b
        h = f(z)
        hs.append(h)
        zs.append(z)
    return np.stack(hs, axis=1), np.stack(zs, axis=1)


def toy_bigram(rng, size=30):
    """A toy vocabulary (specials, "，", "。", then ``size`` characters) and a
    bigram logit table (V, V) for sampling checks; the specials and the
    punctuation get large logits, so a sampler that forgets to mask them shows."""
    vocab = ["<pad>", "<s>", "<unk>", "，", "。"] + [chr(0x5C71 + i) for i in range(size)]
    table = rng.normal(0.0, 2.0, size=(len(vocab), len(vocab)))
    table[:, :5] += 4.0
    return vocab, table


def is_quatrain(text, alphabet, first) -> bool:
    """Whether ``text`` is a 五言绝句 over ``alphabet`` starting with ``first``."""
    if not isinstance(text, str) or len(text) != 24 or text[0] != first:
        return False
    chars = set(alphabet) - {"，", "。"}
    return all((ch == ("，" if pos % 12 == 5 else "。")) if pos % 6 == 5 else ch in chars for pos, ch in enumerate(text))
