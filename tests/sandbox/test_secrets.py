"""Held-out labels cannot be rebuilt from public information.

The GCN lab's hidden training checks are judged on synthetic graphs (a
stochastic block model numbers its nodes block by block, so an unshuffled
graph's labels follow the node index). A submission that knows every
setting and every line of the kit's code, but not the salt, tries to
rebuild each held-out label set: it regenerates the graphs with every seed
it can derive from public information, matches their features with the
ones it is given, and otherwise guesses the block order. Since the grader
judges the trained weights through its own forward pass, the attack trains
the real model on those labels: it replaces the check's training helpers
in its own process (observe runs there) so that every node, held-out ones
included, is trained on the rebuilt labels.

With the salt it scores no better than chance; without it (the control,
the kit as it was before the salt) the same attack scores full marks, so
the test can fail.
"""

from grader.core.grading import self_check
from grader.labs.lab import Lab

CHECKS = ["gat_training", "sage_inductive"]

ATTACK = '''

# ---- a label-rebuilding attack -----------------------------------------------
import sys as _sys
import zlib as _zlib

import numpy as _np
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


def _hijack(name, make):
    """Replace the check's helper ``name`` in every module of this process that holds it."""
    for module in list(_sys.modules.values()):
        helper = getattr(module, name, None)
        if callable(helper) and not getattr(helper, "_hijacked", False):
            replacement = make(helper)
            replacement._hijacked = True
            setattr(module, name, replacement)


def _full_batch_on_rebuilt_labels(train_full_batch):
    def hijacked(model, x, graph, train_index, y_train, **kwargs):
        labels = _rebuild(_np.asarray(x))
        return train_full_batch(model, x, graph, _np.arange(len(labels)), labels, **kwargs)
    return hijacked


def _sage_on_rebuilt_labels(train_sage):
    def hijacked(sub, model, features, neighbors, train_nodes, y_train, **kwargs):
        losses = train_sage(sub, model, features, neighbors, train_nodes, y_train, **kwargs)
        caller = _sys._getframe(1)  # the check's observe: the unseen graph is in its arguments
        test_x, edges = caller.f_locals["test_features"], caller.f_locals["test_edges"]
        adjacency = caller.f_globals["adjacency_from_edges"](edges, len(test_x))
        labels = _rebuild(test_x)
        return train_sage(sub, model, test_x.astype(_np.float32), sub.adjacency_lists(adjacency),
                          _np.arange(len(labels)), labels, **kwargs) + losses
    return hijacked


_reference_build_gat, _reference_build_sage = build_gat, build_sage


def build_gat(num_outputs, config=None):
    _hijack("train_full_batch", _full_batch_on_rebuilt_labels)
    return _reference_build_gat(num_outputs, config)


def build_sage(num_outputs, config=None):
    _hijack("train_sage", _sage_on_rebuilt_labels)
    return _reference_build_sage(num_outputs, config)
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
