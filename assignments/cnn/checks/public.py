"""Public checks of the CNN lab: students run these with ``pytest`` or
``grader check cnn``. Each ``observe`` calls your code; each ``judge``
compares with the reference's result on the same inputs."""

import numpy as np

from grader.checks import Check, Inputs, judges, parts
from grader.checks.architecture import describe_layers

from .common import BATCH_NORM_RULE, CONV_BACKWARD_RULE, CONV_FORWARD_RULE, MAX_POOL_RULE

F64 = np.float64


class ConvArithmetic(Check):
    """Output sizes, same padding and LeNet-5's parameter counts (slides' cases)"""

    points = 1
    kind = "value"
    budget = 5
    # Sizes and parameter counts are ints (the handout says so): 5.0 compares equal to 5, so the type is checked here.
    schema = {"sizes": [int], "same": [float], "lenet": [int]}
    #: The last: LeNet-5's C5, a 5×5 filter on a 5×5 input (output 1×1: the filter fits exactly once).
    SIZES = [(7, 3, 1, 0), (7, 3, 2, 0), (32, 5, 1, 0), (7, 3, 1, 1), (7, 3, 3, 1), (5, 5, 1, 0)]
    SAME = [(7, 3, 1), (28, 5, 1), (32, 3, 2)]

    def observe(self, sub):
        # Each function scored on its own: one not written yet costs only its share.
        return parts.each(
            sizes=lambda: [sub.conv_output_size(n, f, s, p) for n, f, s, p in self.SIZES],
            same=lambda: [sub.same_padding(n, f, s) for n, f, s in self.SAME],
            lenet=lambda: [sub.conv_params(5, 1, 6), sub.conv_params(5, 6, 16), sub.dense_params(400, 120),
                           sub.dense_params(120, 84), sub.dense_params(84, 10)],
        )

    def judge(self, got, want, secret):
        return judges.all_of([
            judges.equal(got["sizes"], want["sizes"], "conv_output_size on (N,F,S,P) = " + str(self.SIZES)),
            judges.equal(got["same"], want["same"], "same_padding on (N,F,S) = " + str(self.SAME)),
            judges.equal(got["lenet"], want["lenet"], "LeNet-5 per-layer parameters",
                         hint="CONV1, CONV2, FC3, FC4, output: remember one bias per filter/unit"),
        ])


class Conv2dForward(Check):
    """conv2d_forward: cross-correlation with stride 1 and padding 1"""

    points = 1.5
    budget = 10
    by_hand = (CONV_FORWARD_RULE,)
    schema = {"y": (2, 6, 6, 4)}  # checked before judge (grader.checks.schema): a wrong form is "invalid", not a crash

    def inputs(self, rng):
        return {"x": rng.normal(size=(2, 6, 6, 3)), "w": rng.normal(size=(3, 3, 3, 4)), "b": rng.normal(size=4)}

    def observe(self, sub, x, w, b):
        return {"y": sub.conv2d_forward(x, w, b, stride=1, padding=1)}

    def judge(self, got, want, secret):
        return judges.close(got["y"], want["y"], "conv2d_forward(stride=1, padding=1)", tol=1e-6,
                            hint="cross-correlation: no kernel flip; pad with zeros on every side")


class Conv2dBackward(Check):
    """conv2d_backward: dx, dw, db against autodiff (float64), on a non-square input"""

    points = 1
    kind = "gradient"
    budget = 10
    by_hand = (CONV_BACKWARD_RULE,)

    def inputs(self, rng):
        # H ≠ W: cropping the padding off dx with the wrong axis's size (a square-image assumption) shows.
        return {"x": rng.normal(size=(2, 6, 5, 3)), "w": rng.normal(size=(3, 3, 3, 4)),
                "dout": rng.normal(size=(2, 6, 5, 4))}

    def observe(self, sub, x, w, dout):
        dx, dw, db = sub.conv2d_backward(dout, x, w, stride=1, padding=1)
        return {"dx": dx, "dw": dw, "db": db}

    def judge(self, got, want, secret):
        return judges.all_of([judges.gradient(got[k], want[k], f"{k} (padding=1)") for k in ("dx", "dw", "db")])


class MaxPool(Check):
    """max_pool_forward/backward: values, and the gradient routed to the argmax"""

    points = 1
    kind = "gradient"
    budget = 10
    by_hand = (MAX_POOL_RULE,)
    #: The second input is not square (H ≠ W), so the output's height and width differ.
    CONFIGS = [(2, 2, (2, 6, 6, 3)), (3, 2, (1, 7, 9, 2))]

    def inputs(self, rng):
        out = {}
        for i, (f, s, shape) in enumerate(self.CONFIGS):
            out[f"x{i}"] = rng.normal(size=shape)
            ho, wo = (shape[1] - f) // s + 1, (shape[2] - f) // s + 1
            out[f"dout{i}"] = rng.normal(size=(shape[0], ho, wo, shape[3]))
        return out

    def observe(self, sub, **data):
        out = {}
        for i, (f, s, _) in enumerate(self.CONFIGS):
            out[f"y{i}"] = parts.attempt(lambda: sub.max_pool_forward(data[f"x{i}"], f, s))
            out[f"dx{i}"] = parts.attempt(lambda: sub.max_pool_backward(data[f"dout{i}"], data[f"x{i}"], f, s))
        return out

    def judge(self, got, want, secret):
        verdicts = []
        for i, (f, s, _) in enumerate(self.CONFIGS):
            verdicts.append(judges.close(got[f"y{i}"], want[f"y{i}"], f"max_pool_forward(F={f}, S={s})", tol=1e-9))
            verdicts.append(judges.gradient(got[f"dx{i}"], want[f"dx{i}"], f"max_pool_backward(F={f}, S={s})",
                                            hint="only the argmax cell of each window receives its gradient"))
        return judges.all_of(verdicts)


class Lenet5(Check):
    """build_lenet5: the slide's layers in order (average pooling, tanh), per-layer shapes, 61,706 parameters"""

    points = 1
    kind = "shape"
    budget = 15

    def observe(self, sub):
        model = sub.build_lenet5()
        rows = []
        for layer in model.layers:
            shape_in = tuple(layer.input.shape[1:]) if hasattr(layer, "input") else None
            shape_out = tuple(layer.output.shape[1:])
            if layer.count_params() or shape_in != shape_out:
                rows.append([list(shape_out), layer.count_params()])
        return {"params": model.count_params(), "layers": rows, "input": list(model.input_shape[1:]),
                "ops": describe_layers(model, ignore=("Dropout",))}

    def judge(self, got, want, secret):
        ops, expected = list(got["ops"]), list(want["ops"])
        if ops == expected:
            architecture = judges.Verdict(1.0, "layers in the slide's order: correct")
        else:
            at = next((i for i, (a, b) in enumerate(zip(ops, expected)) if a != b), min(len(ops), len(expected)))
            mine = ops[at] if at < len(ops) else "nothing"
            theirs = expected[at] if at < len(expected) else "nothing more"
            architecture = judges.Verdict(0.0, f"layers: operation {at + 1} is {mine!r} where the slides' LeNet-5 "
                                               f"(「典型的卷积网络—LeNet-5」) has {theirs!r}: average pooling "
                                               "2×2 stride 2, tanh activations, softmax output")
        verdicts = [
            judges.equal(got["input"], want["input"], "input shape"),
            judges.equal(got["layers"], want["layers"], "per-layer [output shape, parameters]",
                         hint="compare with the LeNet-5 table: 28×28×6, 14×14×6, 10×10×16, 5×5×16, 120, 84, 10"),
            judges.equal(got["params"], want["params"], "total parameters"),
            architecture,
        ]
        # The layer kinds decide the part: right shapes with the wrong pooling or activations earn nothing.
        verdict = judges.all_of(verdicts)
        if not architecture.passed:
            verdict.fraction = 0.0
        return verdict


class ResidualBlockShapes(Check):
    """ResidualBlock: output shapes, parameter counts, kernel sizes and strides, identity vs 1×1 projection shortcut"""

    points = 0.5
    kind = "shape"
    budget = 15
    #: (filters, stride) on an 8-channel input: identity; stride and channel change; a channel change at stride 1,
    #: up and down; a stride without a channel change.
    CASES = [(8, 1), (16, 2), (16, 1), (4, 1), (8, 2)]

    def inputs(self, rng):
        return {"x": rng.normal(size=(2, 8, 8, 8)).astype(np.float32)}

    def observe(self, sub, x):
        out = []
        for filters, stride in self.CASES:
            block = sub.ResidualBlock(filters, stride=stride)
            y = block(x, training=False)
            layers = {}
            for name in ("conv1", "conv2", "shortcut"):
                conv = getattr(block, name, None)
                if conv is not None:
                    layers[name] = [list(getattr(conv, "kernel_size", [])), list(getattr(conv, "strides", [])),
                                    str(getattr(conv, "padding", ""))]
            out.append({"shape": list(y.shape), "params": block.count_params(),
                        "projection": block.shortcut is not None, "layers": layers})
        return out

    def judge(self, got, want, secret):
        verdicts = []
        for g, w, (filters, stride) in zip(got, want, self.CASES):
            case = f"ResidualBlock({filters}, stride={stride}) on 8 channels"
            verdicts += [judges.equal(g["shape"], w["shape"], f"{case}: output shape"),
                         judges.equal(g["projection"], w["projection"], f"{case}: uses a projection shortcut"),
                         judges.equal(g["params"], w["params"], f"{case}: parameter count"),
                         judges.equal(g["layers"], w["layers"], f"{case}: [kernel size, strides, padding] of conv1, "
                                      "conv2 and the shortcut",
                                      hint="conv1 3×3 with the block's stride, conv2 3×3 stride 1, both 'same'; "
                                           "the projection 1×1 with the block's stride")]
        # The shortcut's kind alone is a yes/no answer: it counts only with the shapes right.
        if not all(v.passed for v in verdicts[0::4]):
            return judges.Verdict(0.0, judges.all_of(verdicts).message)
        return judges.all_of(verdicts)


class BatchNormLayer(Check):
    """BatchNorm: training and inference outputs and moving statistics; the momentum, epsilon and their defaults"""

    points = 1
    budget = 15
    by_hand = (BATCH_NORM_RULE,)

    def inputs(self, rng):
        return {"batches": rng.normal(2.0, 3.0, size=(4, 16, 5, 5, 3)).astype(np.float32),
                "test": rng.normal(2.0, 3.0, size=(6, 5, 5, 3)).astype(np.float32),
                "gamma": rng.uniform(0.5, 1.5, size=3).astype(np.float32),
                "beta": rng.normal(size=3).astype(np.float32),
                # Small-variance features (σ² ≈ 0.01) where an epsilon of 0.1 is far from negligible.
                "narrow": rng.normal(1.0, 0.1, size=(3, 32, 4)).astype(np.float32)}

    def observe(self, sub, batches, test, gamma, beta, narrow):
        # Three layers, each a part of its own: the momentum/epsilon given, other ones, the defaults.
        def given():
            bn = sub.BatchNorm(momentum=0.9, epsilon=1e-3)
            bn.build(test.shape)
            bn.gamma.assign(gamma)
            bn.beta.assign(beta)
            train_out = [bn(b, training=True) for b in batches]
            return {"train": np.stack([np.asarray(t) for t in train_out]), "test": bn(test, training=False),
                    "moving_mean": bn.moving_mean, "moving_variance": bn.moving_variance}

        def other():
            wide = sub.BatchNorm(momentum=0.5, epsilon=0.1)
            return {"epsilon_train": np.stack([np.asarray(wide(b, training=True)) for b in narrow]),
                    "epsilon_test": wide(narrow[0], training=False)}

        def defaults():
            default = sub.BatchNorm()
            for b in batches:
                default(b, training=True)
            return np.stack([np.asarray(default.moving_mean), np.asarray(default.moving_variance)])

        out = parts.together(("train", "test", "moving_mean", "moving_variance"), given)
        out.update(parts.together(("epsilon_train", "epsilon_test"), other))
        out["default_moving"] = parts.attempt(defaults)
        return out

    def judge(self, got, want, secret):
        return judges.all_of([
            judges.close(got["epsilon_train"], want["epsilon_train"], "BatchNorm(momentum=0.5, epsilon=0.1), training",
                         hint="use the layer's own epsilon: sqrt(σ²_B + epsilon)"),
            judges.close(got["epsilon_test"], want["epsilon_test"], "BatchNorm(momentum=0.5, epsilon=0.1), inference",
                         hint="use the layer's own momentum and epsilon"),
            judges.close(got["default_moving"], want["default_moving"], "BatchNorm() moving statistics after 4 batches",
                         hint="the defaults are Keras's: momentum=0.99, epsilon=1e-3"),
            judges.close(got["train"], want["train"], "training-mode outputs", hint="use the biased batch variance"),
            judges.close(got["moving_mean"], want["moving_mean"], "moving_mean after 4 batches",
                         hint="moving = momentum·moving + (1 − momentum)·batch"),
            judges.close(got["moving_variance"], want["moving_variance"], "moving_variance after 4 batches"),
            judges.close(got["test"], want["test"], "inference-mode outputs",
                         hint="at inference use the moving statistics, not the batch's"),
        ])


class CnnTraining(Check):
    """build_cnn(BEST_CONFIG) trained on 4,000 MNIST digits: a trained CNN, and its held-out accuracy"""

    points = 1.5
    kind = "training"
    budget = 90
    uses_reference = False
    #: `loss` per epoch: the reports' curve.
    schema = {"predictions": (None,), "loss": [float], "epochs": int, "conv_kernels": int, "kernels_trained": bool}

    def inputs(self, rng):
        from grader.data import mnist_subset

        cfg = self.config
        x, y = mnist_subset(seed=int(rng.integers(2**31)))      # the train/held-out split: from the check's seed
        n = cfg["train_size"]
        return Inputs(public={"x_train": x[:n], "y_train": y[:n], "x_eval": x[n:], "max_epochs": cfg["max_epochs"],
                              "batch_size": cfg["batch_size"]}, secret={"y_eval": y[n:]})

    def observe(self, sub, x_train, y_train, x_eval, max_epochs, batch_size):
        import keras

        cfg = dict(sub.BEST_CONFIG)
        epochs = max(1, min(int(cfg.get("epochs", 3)), int(max_epochs)))
        batch = int(batch_size)
        steps = int(np.ceil(len(x_train) / batch))
        model = sub.build_cnn(cfg, input_shape=x_train.shape[1:], num_classes=10)
        # The convolutions: 4-D trainable kernels, wherever they sit (nested blocks included).
        kernels = [v for v in model.trainable_weights if len(v.shape) == 4]
        before = [np.array(v) for v in kernels]
        model.compile(optimizer=sub.make_optimizer(cfg, steps),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(x_train, y_train, batch_size=batch, epochs=epochs, verbose=0, shuffle=True)
        # The grader's own forward pass (not the model's predict), in inference mode.
        logits = np.concatenate([np.asarray(model(x_eval[i:i + 500], training=False))
                                 for i in range(0, len(x_eval), 500)])
        trained = bool(kernels) and all(not np.array_equal(b, np.array(v)) for b, v in zip(before, kernels))
        return {"predictions": np.argmax(logits, axis=-1), "loss": history.history["loss"], "epochs": epochs,
                "conv_kernels": len(kernels), "kernels_trained": trained}

    def judge(self, got, want, secret):
        cfg = self.config
        try:
            acc = judges.accuracy(got["predictions"], secret["y_eval"], "predictions")
        except judges.BadObservation as exc:
            return judges.Verdict(0.0, str(exc))
        if not got["conv_kernels"]:
            return judges.Verdict(0.0, "build_cnn(BEST_CONFIG) has no convolution (no 4-D kernel): the part is a "
                                       f"convolutional network (held-out accuracy {acc:.4f} not counted)")
        if not got["kernels_trained"]:
            return judges.Verdict(0.0, "some convolution kernels of build_cnn(BEST_CONFIG) did not change in "
                                       "training: every layer must be trainable and used")
        verdict = judges.at_least(acc, cfg["threshold"], "held-out accuracy", baseline=0.1)
        losses = ", ".join(f"{l:.3f}" for l in got["loss"])
        verdict.message += f" (training loss per epoch: {losses})"
        return verdict
