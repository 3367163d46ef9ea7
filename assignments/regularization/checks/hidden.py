"""Hidden checks of the regularisation lab (graders only): other shapes, ranks,
rates, momenta, groups, class counts, validation curves and image sizes than
the public ones, drawn from the
salted seed, so hard-coding public answers earns nothing."""

import numpy as np

from grader.checks import HIDDEN, Check, Inputs, judges

from .common import (AUGMENT_RULE, BATCH_NORM_RULE, DATA_RULE, DROPOUT_RULE, EARLY_RULE, GROUP_NORM_RULE, PENALTY_RULE,
                     SCALING_RULE, SMOOTHING_RULE, STEP_RULE, observe_adam_decay, observe_augment_draws,
                     observe_augment_exact, observe_batch_norm, observe_batch_norm_gradient, observe_dropout_draws,
                     observe_dropout_masks, observe_early_stopping, observe_equivalence, observe_group_norm,
                     observe_leak, observe_penalties, observe_regularized, observe_scalers, observe_sgd_decay, observe_smoothing)
from .public import (MAX_GAP, augment_inputs, batch_norm_inputs, decay_inputs, gradient_inputs, group_norm_inputs,
                     judge_adam_decay, judge_augment_draws, judge_augment_exact, judge_batch_norm, judge_draws,
                     judge_early_stopping, judge_equivalence, judge_gradient, judge_group_norm, judge_leak, judge_masks,
                     judge_penalties, judge_regularized, judge_scalers, judge_sgd_decay, judge_smoothing, leak_inputs, mask_inputs,
                     penalty_inputs, problem, regularized_inputs, scaling_inputs, smoothing_inputs, spectrum_inputs)


class ScalingHidden(Check):
    """Both scalers and preprocess (with a shifted test set) on salted sizes and scales"""

    visibility = HIDDEN
    points = 0.25
    budget = 15
    by_hand = (SCALING_RULE,)

    def inputs(self, rng):
        d = int(rng.integers(3, 9))
        return {"scalers": scaling_inputs(rng, int(rng.integers(60, 300)), int(rng.integers(10, 60)), d),
                "leak": leak_inputs(rng, int(rng.integers(60, 200)), int(rng.integers(10, 60)), d)}

    def observe(self, sub, scalers, leak):
        return {"scalers": observe_scalers(sub, **scalers), "leak": observe_leak(sub, **leak)}

    def judge(self, got, want, secret):
        return judges.all_of([judge_scalers(got["scalers"], want["scalers"]), judge_leak(got["leak"], want["leak"])])


class BatchNormHidden(Check):
    """BatchNorm on a salted sequence batch (rank 3) with salted momentum and ε; the backward pass on rank 3"""

    visibility = HIDDEN
    points = 0.5
    budget = 25
    by_hand = (BATCH_NORM_RULE,)

    def inputs(self, rng):
        shape = (int(rng.integers(3, 7)), int(rng.integers(2, 6)), int(rng.integers(2, 6)))
        # Below ½ (the public momenta are 0.99 and 0.8): a formula that agrees with 1 − momentum only above ½ shows.
        kwargs = {"momentum": float(rng.uniform(0.3, 0.45)), "epsilon": float(rng.uniform(0.01, 0.1))}
        return {"layer": {**batch_norm_inputs(rng, shape, 4), "kwargs": kwargs},
                "gradient": gradient_inputs(rng, shape, kwargs["epsilon"])}

    def observe(self, sub, layer, gradient):
        return {"layer": observe_batch_norm(sub, **layer), "gradient": observe_batch_norm_gradient(sub, **gradient)}

    def judge(self, got, want, secret):
        return judges.all_of([judge_batch_norm(got["layer"], want["layer"], "BatchNorm on a rank-3 batch"),
                              judge_gradient(got["gradient"], want["gradient"], "rank 3")], weights=[3, 2])


class GroupNormHidden(Check):
    """GroupNorm with salted channels, groups and ε on rank-4 and rank-3 inputs"""

    visibility = HIDDEN
    points = 0.25
    budget = 15
    by_hand = (GROUP_NORM_RULE,)

    def inputs(self, rng):
        per_group = int(rng.integers(2, 4))
        groups = int(rng.integers(2, 4))
        c = per_group * groups
        epsilon = float(rng.uniform(1e-4, 1e-2))
        return {"conv": group_norm_inputs(rng, (3, int(rng.integers(3, 6)), int(rng.integers(3, 6)), c),
                                          (1, groups, c), epsilon),
                "sequence": group_norm_inputs(rng, (4, int(rng.integers(3, 7)), c), (groups,), epsilon)}

    def observe(self, sub, conv, sequence):
        return {"conv": observe_group_norm(sub, **conv), "sequence": observe_group_norm(sub, **sequence)}

    def judge(self, got, want, secret):
        return judges.all_of([judge_group_norm(got["conv"], want["conv"], "rank 4"),
                              judge_group_norm(got["sequence"], want["sequence"], "rank 3")], weights=[3, 1])


class DropoutHidden(Check):
    """Both dropouts and DropConnect with a salted rate: injected masks on salted shapes, then random masks tested at 5σ"""

    visibility = HIDDEN
    points = 0.5
    budget = 25
    by_hand = (DROPOUT_RULE,)

    def inputs(self, rng):
        rate = float(rng.uniform(0.1, 0.4))  # far from ½: a keep probability read as the drop one shows
        n, d, units = 10**6, int(rng.integers(100, 200)), int(rng.integers(300, 500))
        masks = mask_inputs(rng, (int(rng.integers(3, 8)), int(rng.integers(3, 8))), rate, int(rng.integers(3, 7)),
                            int(rng.integers(2, 6)))
        draws = {"n": n, "rate": rate, "seed": int(rng.integers(2**31)), "d": d, "units": units}
        return Inputs(public={"masks": masks, "draws": draws}, secret=draws)

    def observe(self, sub, masks, draws):
        return {"masks": observe_dropout_masks(sub, **masks), "draws": observe_dropout_draws(sub, **draws)}

    def judge(self, got, want, secret):
        return judges.all_of([judge_masks(got["masks"], want["masks"], secret["rate"]),
                              judge_draws(got["draws"], secret["n"], secret["rate"], secret["d"], secret["units"])])


class LabelSmoothingHidden(Check):
    """Label smoothing with a salted number of classes (2 … 12) and ε"""

    visibility = HIDDEN
    points = 0.25
    budget = 10
    by_hand = (SMOOTHING_RULE,)

    def inputs(self, rng):
        return {"cases": [smoothing_inputs(rng, int(rng.integers(5, 20)), k, float(rng.uniform(0.02, 0.4)))
                          for k in (2, int(rng.integers(3, 13)))]}

    def observe(self, sub, cases):
        return [observe_smoothing(sub, **case) for case in cases]

    def judge(self, got, want, secret):
        if not isinstance(got, list) or len(got) != len(want):
            return judges.Verdict(0.0, "expected one result per case")
        return judges.all_of([judge_smoothing(g, w) for g, w in zip(got, want)])


class DecayHidden(Check):
    """Penalties of a salted deeper model; weight decay, the L1 step, AdamW and Adam + L2 with salted η, λ, ρ and δ"""

    visibility = HIDDEN
    points = 0.25
    budget = 15
    by_hand = (PENALTY_RULE, STEP_RULE)

    def inputs(self, rng):
        d = int(rng.integers(4, 9))
        spec = ["dense", int(rng.integers(2, 6)), [int(rng.integers(2, 6)) for _ in range(int(rng.integers(2, 4)))]]
        settings = [{"lr": float(rng.uniform(0.01, 0.05)), "lam": float(rng.uniform(0.05, 0.5)),
                     "rho1": float(rng.uniform(0.3, 0.45)), "rho2": float(rng.uniform(0.4, 0.49)),
                     "delta": float(rng.uniform(0.01, 0.1))}]
        quad = problem(rng, d)
        return Inputs(public={"penalties": {**penalty_inputs(rng, spec), "lams": [float(rng.uniform(0.01, 1.0))]},
                              "sgd": decay_inputs(rng, d, 25, float(rng.uniform(0.01, 0.05)),
                                                  float(rng.uniform(0.1, 1.0))),
                              "adam": {**quad, "steps": 25, "settings": settings}},
                      secret={"settings": settings, "theta0": quad["theta0"]})

    def observe(self, sub, penalties, sgd, adam):
        return {"penalties": observe_penalties(sub, **penalties), "sgd": observe_sgd_decay(sub, **sgd),
                "adam": observe_adam_decay(sub, **adam)}

    def judge(self, got, want, secret):
        return judges.all_of([judge_penalties(got["penalties"], want["penalties"], "a salted model"),
                              judge_sgd_decay(got["sgd"], want["sgd"]),
                              judge_adam_decay(got["adam"], want["adam"], secret["settings"], secret["theta0"])])


class EarlyStoppingHidden(Check):
    """BestWeightsEarlyStopping over salted noisy validation curves, patience and min_delta; early stopping ≈ L2 at salted τ"""

    visibility = HIDDEN
    points = 0.25
    budget = 10
    by_hand = (EARLY_RULE,)

    def inputs(self, rng):
        # Two curves of a fixed shape: one that runs to its end with its best epoch before the last, one
        # whose improvements near the bottom are smaller than min_delta; then three noisy ones.
        n = int(rng.integers(8, 14))
        falling = [float(v) for v in (1.0 - 0.05 * np.arange(n)).round(3)]
        curves = [[falling[:-1] + [falling[-2] + 0.01], {"patience": 3}],
                  [[1.0, 0.9, 0.88, 0.86, 0.84, 0.83, 0.9, 1.0, 1.1], {"patience": 2, "min_delta": 0.04}]]
        for _ in range(3):
            n = int(rng.integers(12, 25))
            bottom = int(rng.integers(3, n - 3))
            values = (np.abs(np.arange(n) - bottom) * 0.05 + 0.5 + rng.normal(0.0, 0.03, size=n)).round(3)
            curves.append([[float(v) for v in values], {"patience": int(rng.integers(1, 5)),
                                                        "min_delta": float(rng.choice([0.0, 0.01, 0.04]))}])
        return {"curves": curves, "spectrum": spectrum_inputs(rng, int(rng.integers(4, 8)), float(rng.uniform(0.2, 0.5)),
                                                               (int(rng.integers(5, 21)),))}

    def observe(self, sub, curves, spectrum):
        return {"curves": observe_early_stopping(sub, curves), "spectrum": observe_equivalence(sub, **spectrum)}

    def judge(self, got, want, secret):
        return judges.all_of([judge_early_stopping(got["curves"], want["curves"]),
                              judge_equivalence(got["spectrum"], want["spectrum"], MAX_GAP)],
                             weights=[2, 1])


class AugmentationHidden(Check):
    """The augmentations on a salted image size, crop size and L range, brightness range and noise level"""

    visibility = HIDDEN
    points = 0.25
    budget = 15
    by_hand = (AUGMENT_RULE,)

    def inputs(self, rng):
        h, w = int(rng.integers(6, 12)), int(rng.integers(12, 20))
        size = int(rng.integers(3, h))
        lo = int(rng.integers(size, size + 4))
        settings = {"n_flip": 4000, "n_crop": 1000, "n_jitter": 2000, "n_noise": 100_000,
                    "length_range": [lo, lo + int(rng.integers(3, 7))], "size": size,
                    "brightness": [float(rng.uniform(0.6, 0.8)), float(rng.uniform(1.7, 2.0))],
                    "std": float(rng.uniform(0.05, 0.5))}
        exact = augment_inputs(rng, h, w, int(rng.integers(1, 4)), int(rng.integers(h + 1, 2 * h)), size,
                               int(rng.integers(2, 6)))
        draws = {**settings, "seed": int(rng.integers(2**31)), "image": rng.uniform(size=(h, w, 3))}
        return Inputs(public={"exact": exact, "draws": draws}, secret=settings)

    def observe(self, sub, exact, draws):
        return {"exact": observe_augment_exact(sub, **exact), "draws": observe_augment_draws(sub, **draws)}

    def judge(self, got, want, secret):
        return judges.all_of([judge_augment_exact(got["exact"], want["exact"]), judge_augment_draws(got["draws"], secret)],
                             weights=[2, 1])


class RegularizedTrainingHidden(Check):
    """train_regularized on a salted draw of 400 digits with 35 % wrong labels (another subset, other wrong labels, another seed): the grader's held-out accuracy"""

    visibility = HIDDEN
    points = 0.5
    kind = "training"
    uses_reference = False
    budget = 40
    by_hand = (DATA_RULE,)

    def inputs(self, rng):
        return regularized_inputs(rng, self.config)

    def observe(self, sub, x, y, setup, seed):
        return observe_regularized(sub, x, y, setup, seed)

    def judge(self, got, want, secret):
        return judge_regularized(got, secret, self.config)
