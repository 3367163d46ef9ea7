"""Held-out labels cannot be rebuilt from public information.

The GCN lab's hidden training checks are judged on synthetic graphs (a
stochastic block model numbers its nodes block by block, so an unshuffled
graph's labels follow the node index). A submission that knows every
setting and every line of the kit's code, but not the salt, tries to
rebuild each held-out label set: it regenerates the graphs with every seed
it can derive from public information, matches their features with the
ones it is given, and otherwise guesses the block order. Its "model"
ignores training and outputs those labels.

With the salt it scores no better than chance; without it (the control,
the kit as it was before the salt) the same attack scores full marks, so
the test can fail.
"""

from grader.grading import self_check
from grader.lab import Lab

CHECKS = ["gat_training", "sage_inductive"]

ATTACK = '''

# ---- a label-rebuilding attack -----------------------------------------------
import zlib as _zlib

import keras as _keras
import numpy as _np
import tensorflow as _tf
from grader.data import sbm_graph as _sbm

_GRAPHS = {graphs!r}  # the worst case: every setting is known, but not the salt


def _draws(seed, graph):
    """Graphs an attacker can regenerate from one seed: the generator's own
    draw, and the kit's shuffled draws (twice: train and test graphs)."""
    plain = _sbm(**graph, seed=seed)
    yield plain.features, plain.labels
    rng = _np.random.default_rng(seed)
    for _ in range(2):
        g = _sbm(**graph, seed=int(rng.integers(2**31)))
        perm = rng.permutation(len(g.labels))
        yield g.features[perm], g.labels[perm]


def _rebuild(x):
    x = _np.asarray(x)
    for name, graph in _GRAPHS.items():
        for seed in [_zlib.crc32(name.encode()) % 2**31, 7, 11, 12, 0, 1, 42]:
            for features, labels in _draws(seed, graph):
                if features.shape == x.shape and _np.allclose(features, x, atol=1e-4):
                    print("REBUILT", name, seed)
                    return labels
    n = len(x)
    return _np.arange(n) * 3 // n  # an unshuffled block model's labels


class CheatModel(_keras.Model):
    def __init__(self, k):
        super().__init__()
        self.k = k
        self.bias = self.add_weight(shape=(k,), initializer="zeros")

    def call(self, inputs, training=False):
        x = inputs[0]
        if _tf.executing_eagerly() and not training:
            return _tf.one_hot(_rebuild(x.numpy()), self.k) * 10.0
        return _tf.zeros((_tf.shape(x)[0], self.k)) + self.bias


def build_gat(num_outputs, config=None):
    return CheatModel(num_outputs)


def build_sage(num_outputs, config=None):
    return CheatModel(num_outputs)
'''


def _attack(lab, folder):
    graphs = {name: lab.settings(name)["graph"] for name in CHECKS}
    folder.mkdir()
    (folder / lab.filename).write_text(lab.solution_file.read_text() + ATTACK.format(graphs=graphs))
    return folder


def _graded(lab, folder):
    """The attack's result per check, graded in this process (no sandbox is
    needed: the attack only recomputes, it reads nothing hidden)."""
    result = self_check(lab, folder, visibility=None, names=CHECKS, alias=f"_attack_{folder.name}")
    return {c.name: c for c in result.checks}


def test_salted_held_out_labels_cannot_be_rebuilt(tmp_path):
    lab = Lab.load("gcn")
    assert lab.salt is not None
    by_name = _graded(lab, _attack(lab, tmp_path / "salted"))
    for name in CHECKS:
        # "… accuracy = 0.3481, below the threshold …": chance is 1/3 for three blocks.
        message = by_name[name].message
        accuracy = float(message.split("accuracy")[1].split("=")[1].split(",")[0])
        assert accuracy < 0.45, (name, message)
        assert by_name[name].status != "passed" and by_name[name].score <= 0.2 * by_name[name].points, message


def test_without_the_salt_the_same_attack_rebuilds_them(tmp_path):
    """The control: with public seeds the attack wins, so the test above can fail."""
    lab = Lab.load("gcn")
    lab.__dict__["salt"] = None  # the kit as it was before the salt
    by_name = _graded(lab, _attack(lab, tmp_path / "unsalted"))
    assert all(by_name[name].status == "passed" for name in CHECKS), [(n, by_name[n].message) for n in CHECKS]
