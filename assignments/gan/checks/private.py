"""Judging helpers of the GAN lab's hidden checks (trusted side only: this file
never ships and never enters the sandbox). NumPy only."""

import numpy as np

from .common import mlp_backward, mlp_forward, ring_centers


def sliced_emd(a, b, directions=64):
    """Sliced earth mover's distance between two equally large 2-D point
    clouds: the 1-D EMD (mean |difference| of the sorted projections) averaged
    over ``directions`` evenly spaced directions of the half circle."""
    theta = np.pi * np.arange(directions) / directions
    axes = np.stack([np.cos(theta), np.sin(theta)])            # (2, directions)
    return float(np.mean(np.abs(np.sort(a @ axes, axis=0) - np.sort(b @ axes, axis=0))))


def requested_mode_figures(samples, labels, ring, k_sigma=3.0):
    """Conditional ring: the fraction of samples within ``k_sigma·σ`` of the
    *requested* mode, overall and for the worst class."""
    centers = ring_centers(ring)
    hit = np.linalg.norm(samples - centers[labels], axis=1) < k_sigma * ring["sigma"]
    per_class = [float(np.mean(hit[labels == c])) for c in range(len(centers))]
    return {"overall": float(np.mean(hit)), "worst_class": min(per_class), "per_class": per_class}


def conjugate_numeric(f, t, lo=1e-12, hi=1e6):
    """``sup_{x > 0} x·t − f(x)`` by ternary search in ``log x`` on a bracket
    found on a grid (``x·t − f(x)`` is concave in x, and unimodal in log x).
    ``f``: a vectorised NumPy function. Returns ``inf`` when the supremum is
    unbounded on [lo, hi] (t outside ``dom f*``)."""
    grid = np.geomspace(lo, hi, 4001)
    values = grid * t - f(grid)
    best = int(np.argmax(values))
    if best == len(grid) - 1:
        return np.inf
    a, b = np.log(grid[max(best - 1, 0)]), np.log(grid[min(best + 1, len(grid) - 1)])
    g = lambda u: np.exp(u) * t - f(np.exp(u))  # noqa: E731
    for _ in range(200):
        m1, m2 = a + (b - a) / 3, b - (b - a) / 3
        if g(m1) < g(m2):
            a = m1
        else:
            b = m2
    return float(max(g((a + b) / 2), values[0]))


# -- CycleGAN: one train_step replayed (NumPy) ------------------------------------------------

def replay_cyclegan(g_xy, g_yx, d_x, d_y, x, y, g_lr, d_lr, cycle_weight):
    """The four networks' weights after one CycleGAN train_step with SGD, as
    the handout specifies it: a generator update on the LSGAN generator
    losses of both directions plus ``cycle_weight`` × the L1 cycle loss, then
    a discriminator update on both LSGAN discriminator losses with the
    translations recomputed by the updated generators."""
    g_xy, g_yx, d_x, d_y = ([np.asarray(w, dtype=np.float64) for w in net] for net in (g_xy, g_yx, d_x, d_y))
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    fake_y, c_fy = mlp_forward(g_xy, x)
    fake_x, c_fx = mlp_forward(g_yx, y)
    back_x, c_bx = mlp_forward(g_yx, fake_y)          # G_YX(G_XY(x))
    back_y, c_by = mlp_forward(g_xy, fake_x)          # G_XY(G_YX(y))
    out_y, c_oy = mlp_forward(d_y, fake_y)
    out_x, c_ox = mlp_forward(d_x, fake_x)
    _, adv_fy = mlp_backward(d_y, c_oy, (out_y - 1) / len(out_y))
    _, adv_fx = mlp_backward(d_x, c_ox, (out_x - 1) / len(out_x))
    gyx_cycle, cyc_fy = mlp_backward(g_yx, c_bx, cycle_weight * np.sign(back_x - x) / back_x.size)
    gxy_cycle, cyc_fx = mlp_backward(g_xy, c_by, cycle_weight * np.sign(back_y - y) / back_y.size)
    gxy_direct, _ = mlp_backward(g_xy, c_fy, adv_fy + cyc_fy)
    gyx_direct, _ = mlp_backward(g_yx, c_fx, adv_fx + cyc_fx)
    g_xy = [w - g_lr * (a + b) for w, a, b in zip(g_xy, gxy_direct, gxy_cycle)]
    g_yx = [w - g_lr * (a + b) for w, a, b in zip(g_yx, gyx_direct, gyx_cycle)]
    fake_y, _ = mlp_forward(g_xy, x)
    fake_x, _ = mlp_forward(g_yx, y)
    new = []
    for d, real, fake in ((d_x, x, fake_x), (d_y, y, fake_y)):
        real_out, real_cache = mlp_forward(d, real)
        fake_out, fake_cache = mlp_forward(d, fake)
        grads_real, _ = mlp_backward(d, real_cache, (real_out - 1) / len(real_out))
        grads_fake, _ = mlp_backward(d, fake_cache, fake_out / len(fake_out))
        new.append([w - d_lr * (a + b) for w, a, b in zip(d, grads_real, grads_fake)])
    return {"g_xy": g_xy, "g_yx": g_yx, "d_x": new[0], "d_y": new[1]}


# -- conditional GAN: which pairs the discriminator saw ---------------------------------------

def cgan_pair_figures(d_calls, g_calls, batches, labels, num_classes, d_steps):
    """What a ConditionalGAN's train_steps fed its networks (recorded by the
    check's spies: per call the step, the inputs [x, c] and the output).

    Per step, the discriminator's calls on the real batch are *real pairs*
    (c the true one-hot), *mismatched pairs* (every row a one-hot of another
    class) or *bad* (some row matches, or is not a one-hot); its calls on a
    generated batch are *fake pairs* when c is the one the generator got.
    Returns counts per step, the shifts (c′ − c mod C) of every mismatched
    row, and whether the shifts vary within each mismatched call."""
    eye = np.eye(num_classes)
    figures = {"steps": [], "shifts": [], "constant_shift_calls": 0, "wrong_generator_condition": 0}
    for step, (x, lab) in enumerate(zip(batches, labels)):
        x, lab = np.asarray(x, dtype=np.float64), np.asarray(lab)
        onehot = eye[lab]
        count = {"real": 0, "mismatched": 0, "bad_mismatch": 0, "fake": 0, "other": 0}
        generated = [(np.asarray(o, dtype=np.float64), np.asarray(c, dtype=np.float64))
                     for s, _, c, o in g_calls if s == step]
        figures["wrong_generator_condition"] += sum(not np.array_equal(c, onehot) for _, c in generated)
        for s, xin, c, _ in d_calls:
            if s != step:
                continue
            xin, c = np.asarray(xin, dtype=np.float64), np.asarray(c, dtype=np.float64)
            if xin.shape == x.shape and np.allclose(xin, x, atol=1e-6):
                if np.array_equal(c, onehot):
                    count["real"] += 1
                elif c.shape == onehot.shape and np.all(np.sort(c, axis=1) == eye[-1]) and np.all(c.argmax(1) != lab):
                    count["mismatched"] += 1
                    shift = (c.argmax(1) - lab) % num_classes
                    figures["shifts"] += shift.tolist()
                    figures["constant_shift_calls"] += int(len(set(shift.tolist())) == 1)
                else:
                    count["bad_mismatch"] += 1
            elif any(xin.shape == o.shape and np.allclose(xin, o, atol=1e-6) and np.array_equal(c, gc)
                     for o, gc in generated):
                count["fake"] += 1
            else:
                count["other"] += 1
        figures["steps"].append(count)
    return figures
