"""Hidden checks of the CNN lab (graders only): other shapes, strides and
properties than the public ones, so hard-coding public answers earns nothing."""

import numpy as np

from grader.checks import HIDDEN, Check, Inputs, judges, parts
from grader.checks.gradcheck import numeric_gradient

from .common import AVG_POOL_RULE, CONV_FORWARD_RULE, CUSTOM_GRADIENT_RULE, DROPOUT_RULE


class ConvArithmeticLarge(Check):
    """VGG-16's weight count, the naive Inception module's multiply-adds, a stride that does not fit, a filter larger than its input"""

    visibility = HIDDEN
    points = 0.5
    budget = 5
    VGG_CONVS = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
                 (256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)]
    VGG_FCS = [(7 * 7 * 512, 4096), (4096, 4096), (4096, 1000)]
    # Sizes and counts are integers: a size of 5.0 would otherwise equal 5.
    schema = {"vgg16_weights": int, "inception_naive_macs": int, "misfit": [str], "fits": [int]}

    def observe(self, sub):
        def misfit():
            out = []
            # The slides' 不匹配 case, and a filter one larger than the (unpadded) input: (N − F)/S + 1 = 0 is no size.
            for n, f, s, p in ((7, 3, 3, 0), (4, 5, 1, 0)):
                try:
                    out.append(f"returned {sub.conv_output_size(n, f, s, p)!r}")
                except ValueError:
                    out.append("ValueError")
            return out

        return parts.each(
            vgg16_weights=lambda: sum(sub.conv_params(3, d, k, bias=False) for d, k in self.VGG_CONVS)
            + sum(sub.dense_params(a, b, bias=False) for a, b in self.VGG_FCS),
            inception_naive_macs=lambda: sum(sub.conv_macs(28, 28, f, 256, k) for f, k in [(1, 128), (3, 192), (5, 96)]),
            misfit=misfit,
            # Cases that fit (VGG's same convolutions and 2×2 pools, AlexNet's first layer): raising is wrong there.
            fits=lambda: [sub.conv_output_size(n, f, s, p)
                          for n, f, s, p in ((224, 3, 1, 1), (224, 2, 2, 0), (227, 11, 4, 0))],
        )

    def judge(self, got, want, secret):
        fits = judges.equal(got["fits"], want["fits"], "conv_output_size on VGG-16's and AlexNet's fitting layers")
        misfit = judges.equal(got["misfit"], want["misfit"], "conv_output_size(7, 3, stride=3) and (4, 5)",
                              hint="the slides call the first case 不匹配; in the second the filter is larger than "
                                   "the input: raise ValueError in both")
        if not fits.passed:  # raising is right only where the others are right
            misfit = judges.Verdict(0.0, "conv_output_size(7, 3, stride=3) and (4, 5): not judged while fitting "
                                         "sizes are wrong")
        return judges.all_of([
            judges.equal(got["vgg16_weights"], want["vgg16_weights"], "VGG-16 weights (biases excluded)"),
            judges.equal(got["inception_naive_macs"], want["inception_naive_macs"], "naive Inception multiply-adds"),
            fits, misfit,
        ])


class Conv2dForwardStrided(Check):
    """conv2d_forward with strides 2 and 3, padding 2, a rectangular kernel, no library convolution"""

    visibility = HIDDEN
    points = 1
    budget = 10
    by_hand = (CONV_FORWARD_RULE,)
    CASES = [((2, 9, 8, 3), (3, 2, 3, 5), 2, 2), ((1, 7, 7, 2), (1, 1, 2, 3), 3, 0)]

    def inputs(self, rng):
        out = {}
        for i, (xs, ws, _, _) in enumerate(self.CASES):
            out[f"x{i}"], out[f"w{i}"], out[f"b{i}"] = rng.normal(size=xs), rng.normal(size=ws), rng.normal(size=ws[-1])
        return out

    def observe(self, sub, **d):
        return {f"y{i}": parts.attempt(lambda: sub.conv2d_forward(d[f"x{i}"], d[f"w{i}"], d[f"b{i}"], stride=s, padding=p))
                for i, (_, _, s, p) in enumerate(self.CASES)}

    def judge(self, got, want, secret):
        return judges.all_of([judges.close(got[f"y{i}"], want[f"y{i}"], f"conv2d_forward(stride={s}, padding={p})",
                                           tol=1e-6) for i, (_, _, s, p) in enumerate(self.CASES)])


class ConvCustomGradient(Check):
    """conv2d with tf.custom_gradient: tape gradients (float64) and a numeric gradient of your forward"""

    visibility = HIDDEN
    points = 1
    kind = "gradient"
    budget = 20
    by_hand = (CUSTOM_GRADIENT_RULE,)

    def inputs(self, rng):
        return {"x": rng.normal(size=(2, 7, 7, 2)), "w": rng.normal(size=(3, 3, 2, 3)), "b": rng.normal(size=3),
                "g": rng.normal(size=(2, 4, 4, 3)),
                "xs": rng.normal(size=(1, 4, 4, 2)), "ws": rng.normal(size=(2, 2, 2, 2)), "gs": rng.normal(size=(1, 2, 2, 2))}

    def observe(self, sub, x, w, b, g, xs, ws, gs):
        import tensorflow as tf

        def tape_gradients():
            tx, tw, tb = tf.constant(x), tf.constant(w), tf.constant(b)
            with tf.GradientTape() as tape:
                tape.watch([tx, tw, tb])
                y = sub.conv2d(tx, tw, tb, stride=2, padding=1)
                loss = tf.reduce_sum(y * g)
            dx, dw, db = tape.gradient(loss, [tx, tw, tb])
            return {"y": y, "dtype": str(y.dtype.name), "dx": dx, "dw": dw, "db": db}

        def numeric():
            bs = np.zeros(2)
            return {"num_dx": numeric_gradient(lambda v: sub.conv2d_forward(v, ws, bs, 2, 0), xs, gs),
                    "num_dw": numeric_gradient(lambda v: sub.conv2d_forward(xs, v, bs, 2, 0), ws, gs)}

        def analytic():
            ana_dx, ana_dw, _ = sub.conv2d_backward(gs, xs, ws, 2, 0)
            return {"ana_dx": ana_dx, "ana_dw": ana_dw}

        # conv2d (the custom gradient), conv2d_forward and conv2d_backward: each a part of its own.
        return {**parts.together(("y", "dtype", "dx", "dw", "db"), tape_gradients),
                **parts.together(("num_dx", "num_dw"), numeric), **parts.together(("ana_dx", "ana_dw"), analytic)}

    def judge(self, got, want, secret):
        verdicts = [judges.equal(got["dtype"], "float64", "output dtype for float64 inputs")]
        verdicts += [judges.gradient(got[k], want[k], f"tape gradient {k} through conv2d (stride 2, padding 1)",
                                     hint="grad(dy) must use the upstream dy and return (dx, dw, db) in that order")
                     for k in ("dx", "dw", "db")]
        for k in ("dx", "dw"):
            what = f"conv2d_backward {k} vs a numeric gradient (stride 2)"
            verdicts.append(judges.failed_part(got[f"num_{k}"], f"{what}: the numeric gradient of conv2d_forward")
                            or judges.gradient(got[f"ana_{k}"], got[f"num_{k}"], what, tol=1e-6))
        return judges.all_of(verdicts)


class AvgPool(Check):
    """avg_pool_forward/backward: values, and the gradient spread evenly"""

    visibility = HIDDEN
    points = 0.5
    kind = "gradient"
    budget = 10
    by_hand = (AVG_POOL_RULE,)
    #: The second input is not square (H ≠ W), so the output's height and width differ.
    CONFIGS = [(2, 2, (2, 6, 6, 3)), (3, 1, (1, 5, 7, 2))]

    def inputs(self, rng):
        out = {}
        for i, (f, s, shape) in enumerate(self.CONFIGS):
            ho, wo = (shape[1] - f) // s + 1, (shape[2] - f) // s + 1
            out[f"x{i}"], out[f"dout{i}"] = rng.normal(size=shape), rng.normal(size=(shape[0], ho, wo, shape[3]))
        return out

    def observe(self, sub, **d):
        out = {}
        for i, (f, s, _) in enumerate(self.CONFIGS):
            out[f"y{i}"] = parts.attempt(lambda: sub.avg_pool_forward(d[f"x{i}"], f, s))
            out[f"dx{i}"] = parts.attempt(lambda: sub.avg_pool_backward(d[f"dout{i}"], d[f"x{i}"], f, s))
        return out

    def judge(self, got, want, secret):
        verdicts = []
        for i, (f, s, _) in enumerate(self.CONFIGS):
            verdicts.append(judges.close(got[f"y{i}"], want[f"y{i}"], f"avg_pool_forward(F={f}, S={s})", tol=1e-9))
            verdicts.append(judges.gradient(got[f"dx{i}"], want[f"dx{i}"], f"avg_pool_backward(F={f}, S={s})",
                                            hint="each cell gets dout / F² from every window containing it"))
        return judges.all_of(verdicts)


class ResidualIdentity(Check):
    """ResidualBlock with a zeroed residual branch is relu(shortcut(x)): h(x) = x + F(x)"""

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 15
    uses_reference = False
    CASES = [(6, 1), (12, 2), (12, 1)]  # (filters, stride) on a 6-channel input: a channel change at stride 1 too

    def inputs(self, rng):
        x = rng.normal(size=(2, 8, 8, 6)).astype(np.float32)
        return Inputs(public={"x": x}, secret={"x": x})

    def observe(self, sub, x):
        def zeroed(filters, stride):
            block = sub.ResidualBlock(filters, stride=stride)
            block(x, training=False)
            for conv in (block.conv1, block.conv2):
                for var in conv.weights:
                    var.assign(np.zeros(var.shape, dtype=np.float32))
            case = {"y": block(x, training=False)}
            if block.shortcut is not None:
                case["kernel"], case["bias"] = block.shortcut.kernel, block.shortcut.bias
            return case

        return [parts.attempt(lambda: zeroed(filters, stride)) for filters, stride in self.CASES]

    def judge(self, got, want, secret):
        x = secret["x"].astype(np.float64)
        verdicts = []
        for case, (filters, stride) in zip(got, self.CASES):
            if (failure := judges.failed_part(case, f"ResidualBlock({filters}, stride={stride}) with F ≡ 0")):
                verdicts.append(failure)
                continue
            if "kernel" in case:
                expected = np.maximum(x[:, ::stride, ::stride, :] @ np.asarray(case["kernel"])[0, 0] + case["bias"], 0)
            else:
                expected = np.maximum(x, 0)
            verdicts.append(judges.close(case["y"], expected, f"ResidualBlock({filters}, stride={stride}) with F ≡ 0",
                                         hint="h(x) = relu(F(x) + shortcut(x)): add the shortcut before the final ReLU"))
        return judges.all_of(verdicts)


class ResidualBlockForward(Check):
    """ResidualBlock with given weights: outputs in inference and training mode (the order conv → BN → ReLU, the shortcut)"""

    visibility = HIDDEN
    points = 0.5
    budget = 15
    #: (filters, stride) on a 6-channel input: identity shortcut, projection with a stride, projection at stride 1.
    CASES = [(6, 1), (12, 2), (12, 1)]
    CHANNELS = 6
    #: The layers whose weights the check sets, with each weight's shape (c: input channels, f: filters).
    LAYERS = {"conv1": ("3,3,c,f", "f"), "bn1": ("f",) * 4, "conv2": ("3,3,f,f", "f"), "bn2": ("f",) * 4,
              "shortcut": ("1,1,c,f", "f")}

    def inputs(self, rng):
        data = {"x": rng.normal(size=(4, 8, 8, self.CHANNELS)).astype(np.float32)}
        for i, (filters, stride) in enumerate(self.CASES):
            for layer, shapes in self.LAYERS.items():
                if layer == "shortcut" and stride == 1 and filters == self.CHANNELS:
                    continue
                for j, spec in enumerate(shapes):
                    shape = tuple({"c": self.CHANNELS, "f": filters}.get(d, None) or int(d) for d in spec.split(","))
                    if layer.startswith("bn") and j == 3:  # a moving variance is positive
                        value = rng.uniform(0.5, 2.0, size=shape)
                    elif layer.startswith("bn") and j == 0:  # gamma
                        value = rng.uniform(0.5, 1.5, size=shape)
                    else:
                        value = rng.normal(size=shape) * (0.3 if len(shape) == 4 else 1.0)
                    data[f"w{i}_{layer}_{j}"] = value.astype(np.float32)
        return data

    def observe(self, sub, x, **weights):
        def outputs(i, filters, stride):
            block = sub.ResidualBlock(filters, stride=stride)
            block(x, training=False)
            for layer in self.LAYERS:
                values = [weights[k] for k in sorted(weights) if k.startswith(f"w{i}_{layer}_")]
                if values:
                    for var, value in zip(getattr(block, layer).weights, values):
                        var.assign(value)
            return {f"inference{i}": block(x, training=False), f"training{i}": block(x, training=True)}

        out = {}
        for i, (filters, stride) in enumerate(self.CASES):  # each block a part of its own
            out.update(parts.together((f"inference{i}", f"training{i}"), lambda: outputs(i, filters, stride)))
        return out

    def judge(self, got, want, secret):
        verdicts = []
        for i, (filters, stride) in enumerate(self.CASES):
            for mode in ("inference", "training"):
                verdicts.append(judges.close(got[f"{mode}{i}"], want[f"{mode}{i}"],
                                             f"ResidualBlock({filters}, stride={stride}) on 6 channels, {mode} mode",
                                             hint="relu(bn1(conv1(x))), then bn2(conv2(·)), plus the shortcut, then "
                                                  "ReLU; batch norm uses the batch statistics only in training"))
        return judges.all_of(verdicts)


class Dropout(Check):
    """dropout: drop rate, 1/(1−rate) scaling, gradient, rate 0 and inference identity

    Power (the drop count is statistical; measured in tests/labs/test_cnn_reference.py):
    each of the two training calls drops units of 100,000 independently with
    probability 0.3 and is accepted within 5σ of 30,000 (``judges.binomial_ok``).
    False alarm on a correct dropout: 5.7e-7 per call, 1.1e-6 per check (exact
    binomial tails), far below 0.1 %. Miss rate on a wrong one: a keep-probability
    dropout (drops 70 %), one that drops rate/2 or rate² or nothing, or any
    drop probability off by ≥ 0.011 (0.289 or 0.311), passes a call with
    probability < 1 % (exact binomial: < 1e-300 for the first three).
    """

    visibility = HIDDEN
    points = 0.5
    kind = "property"
    budget = 10
    uses_reference = False
    by_hand = (DROPOUT_RULE,)
    RATE = 0.3
    SHAPE = (400, 250)

    def inputs(self, rng):
        z = rng.normal(size=(50, 40)).astype(np.float32)
        return Inputs(public={"z": z}, secret={"z": z})

    def observe(self, sub, z):
        import tensorflow as tf

        x = tf.ones(self.SHAPE)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = sub.dropout(x, self.RATE, training=True, seed=7)
        grad = tape.gradient(y, x)
        return {"y": y, "grad": grad, "inference": sub.dropout(z, self.RATE, training=False),
                "unseeded": sub.dropout(2.0 * tf.ones(self.SHAPE), self.RATE),
                "rate0": sub.dropout(z, 0.0, training=True)}

    def judge(self, got, want, secret):
        y = judges.as_array(got["y"], "training output", shape=self.SHAPE)
        unseeded = judges.as_array(got["unseeded"], "training output without a seed", shape=self.SHAPE) / 2.0
        grad = judges.as_array(got["grad"], "gradient", shape=self.SHAPE)
        scale = 1 / (1 - self.RATE)
        z = secret["z"]
        verdicts = []
        for what, out in (("seed=7", y), ("no seed", unseeded)):
            dropped = int(np.sum(out == 0))
            kept = out[out != 0]
            verdicts += [
                judges.property_holds(judges.binomial_ok(dropped, out.size, self.RATE),
                                      f"{what}: about {self.RATE:.0%} of units dropped",
                                      f"{dropped / out.size:.1%} were dropped; `rate` is the probability of dropping"),
                judges.property_holds(kept.size > 0 and np.allclose(kept, scale, rtol=1e-5),
                                      f"{what}: kept units scaled by 1/(1−rate)",
                                      "inverted dropout divides the kept units by (1 − rate)"),
            ]
        verdicts.append(judges.property_holds(np.allclose(grad, y, rtol=1e-5), "gradient equals mask/(1−rate)"))
        identities = [judges.close(got["inference"], z, "inference output (must equal the input)", tol=1e-6),
                      judges.close(got["rate0"], z, "rate 0 in training (must equal the input)", tol=1e-6)]
        # Returning the input unchanged is right only at inference and rate 0: it counts when dropping works.
        if not all(v.passed for v in verdicts):
            identities = [judges.Verdict(0.0, v.message + " (not counted while dropping is wrong)") for v in identities]
        return judges.all_of(verdicts + identities)


class CnnToggles(Check):
    """build_cnn/make_optimizer: each toggle (dropout, batch norm, residual, depth, lr decay) changes the model; batch norm's momentum"""

    visibility = HIDDEN
    points = 1
    kind = "shape"
    budget = 30
    #: Variants whose parameter count the handout fixes (3×3 convolutions with filters doubled at each stage,
    #: 2×2 pooling, the residual block, the Dense head), compared with the reference's. Not batch_norm: a
    #: convolution before batch norm may keep its bias or not.
    PARAMS_FIXED = ("base", "dropout", "residual", "deep", "shallow", "other_input")
    VARIANTS = {"base": {}, "dropout": {"dropout": 0.5}, "batch_norm": {"batch_norm": True},
                "residual": {"residual": True}, "deep": {"depth": 3}, "shallow": {"depth": 1}}
    LEARNING_RATE = 2e-3  # not the default, so a make_optimizer that ignores the config shows

    def observe(self, sub):
        import keras

        base = {"depth": 2, "filters": 8, "batch_norm": False, "dropout": 0.0, "residual": False,
                "learning_rate": self.LEARNING_RATE, "lr_decay": False, "epochs": 2}

        def variant(name, change):
            model = sub.build_cnn({**base, **change}, input_shape=(28, 28, 1), num_classes=10)
            classes = [type(l).__name__ for l in model._flatten_layers(include_self=False, recursive=True)]
            out = {"classes": classes, "params": model.count_params(),
                   "kernels": sum(1 for v in model.weights if len(v.shape) == 4), "output": list(model.output_shape)}
            if name == "batch_norm":
                out["momentum"] = self.batch_norm_momenta(model)
            return out

        def other_input():
            other = sub.build_cnn({**base, "residual": True}, input_shape=(32, 32, 3), num_classes=5)
            return {"output": list(other.output_shape), "input": list(other.input_shape), "params": other.count_params(),
                    "logits": np.asarray(other(np.zeros((2, 32, 32, 3), np.float32), training=False)).shape}

        def optimizer(decay):
            opt = sub.make_optimizer({**base, "lr_decay": decay}, steps_per_epoch=50)
            schedule = getattr(opt, "_learning_rate", None)
            is_schedule = isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule)
            return {"schedule": is_schedule,
                    "start": float(schedule(0)) if is_schedule else float(opt.learning_rate),
                    "end": float(schedule(100)) if is_schedule else float(opt.learning_rate)}

        # Each build_cnn variant and each make_optimizer call a part: a toggle that raises costs its own verdicts.
        out = {name: parts.attempt(lambda: variant(name, change)) for name, change in self.VARIANTS.items()}
        out["other_input"] = parts.attempt(other_input)
        out.update(parts.each(constant=lambda: optimizer(False), decay=lambda: optimizer(True)))
        return out

    @staticmethod
    def batch_norm_momenta(model):
        """The momentum each batch-normalisation layer of a fresh ``model`` applies, measured: one training
        call on ones moves a zero moving mean to ``1 − momentum``. Sorted, rounded, without repeats."""
        momenta = set()
        for layer in model._flatten_layers(include_self=False, recursive=True):
            if "BatchNorm" not in type(layer).__name__:
                continue
            moving = getattr(layer, "moving_mean", None)
            if moving is None:
                momenta.add("no moving_mean")
                continue
            layer(np.ones((2, 2, 2, int(moving.shape[-1])), np.float32), training=True)
            momenta.add(round(1.0 - float(np.mean(np.asarray(getattr(layer, "moving_mean")))), 4))
        return sorted(momenta, key=str)

    def judge(self, got, want, secret):
        def count(model, *needles):
            return sum(any(n in c for n in needles) for c in model["classes"])

        def toggle(name, what, *needles):
            return judges.property_of([got["base"], got[name]],
                                      lambda base, model: count(base, *needles) == 0 < count(model, *needles), what)

        lr = self.LEARNING_RATE
        other = got["other_input"]
        return judges.all_of([
            judges.failed_part(got["base"], "build_cnn")
            or judges.equal(got["base"]["output"], [None, 10], "output shape (logits for 10 classes)"),
            judges.failed_part(other, "build_cnn(..., input_shape=(32, 32, 3), num_classes=5)")
            or judges.equal([other["input"], other["output"], list(other["logits"])],
                            [[None, 32, 32, 3], [None, 5], [2, 5]],
                            "build_cnn(..., input_shape=(32, 32, 3), num_classes=5): input, output and logits shapes"),
            toggle("dropout", "dropout toggle adds Dropout", "Dropout"),
            toggle("batch_norm", "batch_norm toggle adds batch normalisation", "BatchNorm"),
            toggle("residual", "residual toggle adds residual connections", "Residual", "Add"),
            judges.failed_part(got["batch_norm"], "build_cnn with batch_norm")
            or judges.equal(got["batch_norm"].get("momentum"), want["batch_norm"]["momentum"],
                            "momentum of build_cnn's batch normalisation (from one training step's moving-mean update)",
                            hint="the docstring: BatchNormalization(momentum=0.9), so the moving statistics settle "
                                 "within a short run"),
            judges.property_of([got["shallow"], got["base"], got["deep"]],
                               lambda shallow, base, deep: shallow["kernels"] < base["kernels"] < deep["kernels"],
                               "depth changes the number of conv layers"),
            judges.property_of([got["constant"], got["decay"]],
                               lambda constant, decay: not constant["schedule"] and decay["schedule"]
                               and decay["end"] < decay["start"],
                               "lr_decay makes the learning rate a decaying schedule"),
            judges.property_of([got["constant"], got["decay"]],
                               lambda constant, decay: all(abs(v - lr) <= 1e-6 * lr
                                                           for v in (constant["start"], constant["end"], decay["start"])),
                               "make_optimizer starts from config['learning_rate']"),
            self._params(got, want),
        ])

    def _params(self, got, want):
        what = "parameter count of each variant (" + ", ".join(self.PARAMS_FIXED) + ")"
        for k in self.PARAMS_FIXED:
            if (failure := judges.failed_part(got[k], what)) is not None:
                return failure
        return judges.equal({k: got[k]["params"] for k in self.PARAMS_FIXED}, {k: want[k]["params"] for k in self.PARAMS_FIXED},
                            what, hint="each stage: Conv2D 3×3 'same' with config['filters']·2^stage filters, ReLU, "
                                       "MaxPooling2D 2×2 (or ResidualBlock(filters, stride=2)); then Flatten and Dense")
