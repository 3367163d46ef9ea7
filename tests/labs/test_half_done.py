"""Students half-way through a lab: a function not written yet (or one that
raises) costs only its share of each check made of parts
(:mod:`grader.checks.parts`), public and hidden (a hidden check observed
through its cut-down source), in the sandbox and in this process alike."""

import pytest

from grader.core.grading import grade, self_check
from grader.labs.lab import Lab


def not_yet(name: str) -> str:
    return f"    raise NotImplementedError(\"{name}: not written yet\")\n"


def graded_half_done(lab_id, tmp_path, edits, names):
    """The reference of ``lab_id`` with ``edits`` ((old, new) pairs, each old
    found exactly once) graded on ``names`` sandboxed and in this process:
    both ways' results by check name, after asserting they agree."""
    lab = Lab.load(lab_id)
    source = lab.solution_file.read_text()
    for old, new in edits:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / lab.filename).write_text(source)
    sandboxed = grade(lab, sub, names=names).by_name()
    in_process = self_check(lab, sub / lab.filename, visibility=None, names=names, alias=f"_parts_{lab_id}").by_name()
    assert [(c.name, c.score, c.status, c.message) for c in sandboxed.values()] == \
        [(c.name, c.score, c.status, c.message) for c in in_process.values()]
    return sandboxed, in_process


def share(result, numerator, denominator):
    return result.status == "partial" and result.score == pytest.approx(result.points * numerator / denominator, abs=1e-5)


def test_cnn_arithmetic_half_done(tmp_path):
    """conv_output_size written, same_padding not yet, conv_macs dividing by zero."""
    for result in graded_half_done("cnn", tmp_path, [
        ("    return ((stride - 1) * n + f - stride) / 2\n", "    raise NotImplementedError(\"same_padding: the slide's formula\")\n"),
        ("    return h_out * w_out * k * f * f * d_in\n", "    return h_out * w_out * k * f * f * d_in // 0\n"),
    ], ["conv_arithmetic", "conv_arithmetic_large"]):
        arithmetic, large = result["conv_arithmetic"], result["conv_arithmetic_large"]
        assert share(arithmetic, 2, 3)
        assert "same_padding" in arithmetic.message and "not implemented yet" in arithmetic.message
        assert share(large, 3, 4)
        assert "naive Inception multiply-adds: your code raised ZeroDivisionError" in large.message
        assert "cnn.py line" in large.message and "// 0" in large.message


def test_cnn_build_cnn_earns_its_toggles_before_make_optimizer_is_written(tmp_path):
    for result in graded_half_done("cnn", tmp_path, [("    return keras.optimizers.Adam(lr)\n", not_yet("make_optimizer"))],
                                   ["cnn_toggles"]):
        toggles = result["cnn_toggles"]
        # 10 verdicts: the two on make_optimizer's schedule and learning rate fail, build_cnn's 8 pass.
        assert share(toggles, 8, 10)
        assert "not implemented yet (make_optimizer: not written yet)" in toggles.message
        assert "toggle" not in toggles.message and "parameter count" not in toggles.message


def test_gan_losses_not_written_yet(tmp_path):
    """conditional_parts keeps its 7 other parts (the networks, the labels),
    the hidden loss_stability_and_saturation its 5 parts without the minimax loss."""
    for result in graded_half_done("gan", tmp_path, [
        ("    return -ops.mean(ops.softplus(fake_logits))\n", not_yet("generator_loss_minimax")),
        ("    return (ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))\n"
         "            + ops.mean(ops.softplus(mismatch_logits)))\n", not_yet("cgan_discriminator_loss")),
    ], ["conditional_parts", "loss_stability_and_saturation"]):
        conditional, stability = result["conditional_parts"], result["loss_stability_and_saturation"]
        assert share(conditional, 7, 9)
        assert conditional.message.startswith("cgan_discriminator_loss: not implemented yet (cgan_discriminator_loss")
        assert share(stability, 5, 8)
        assert "not implemented yet (generator_loss_minimax: not written yet)" in stability.message
        assert "discriminator_loss" not in stability.message.replace("not implemented yet", "")


def test_gcn_pair_norm_not_written_yet(tmp_path):
    """smoothing_tools keeps propagate, sqrt_degree_alignment and drop_edge's
    substantive verdicts (its trivial ones wait for the rest); the hidden
    gcn_model the default model's (the configured one uses PairNorm)."""
    begin = "    # BEGIN SOLUTION: subtract the column means (over axis 0)"
    for result in graded_half_done("gcn", tmp_path, [(begin, not_yet("pair_norm") + begin)],
                                   ["smoothing_tools", "gcn_model"]):
        smoothing, model = result["smoothing_tools"], result["gcn_model"]
        assert share(smoothing, 7, 14)  # 7 of 10 substantive verdicts; the 4 trivial ones not counted yet
        assert "pair_norm values: not implemented yet (pair_norm: " in smoothing.message
        assert "propagate" not in smoothing.message and "drop_edge" not in smoothing.message.split("(not counted")[0]
        # build_gcn(2)'s logits and layer count; not the PairNorm model's 3 verdicts nor its equivariance.
        assert share(model, 2, 6)
        assert "not implemented yet (pair_norm: " in model.message and "build_gcn(2) without a config" not in model.message


def test_rnn_state_gradients_not_written_yet(tmp_path):
    """gradient_norms keeps its two spectral radii (the gradients, which count
    twice, need state_gradients); gradient_bounds keeps scale_to_spectral_radius
    (1 of 7), and its clipping edge cases wait for the gradients (a clip that
    does nothing passes them)."""
    begin = "    # BEGIN SOLUTION: start from ∂L_t/∂h_t and step back"
    for result in graded_half_done("rnn", tmp_path, [(begin, not_yet("state_gradients") + begin)],
                                   ["gradient_norms", "gradient_bounds"]):
        norms, bounds = result["gradient_norms"], result["gradient_bounds"]
        assert share(norms, 2, 6)
        assert norms.message.startswith("state_gradients (ρ = 0.5): not implemented yet (state_gradients: ")
        assert share(bounds, 1, 7)
        assert "(not counted until the rest passes) clipping at exactly max_norm" in bounds.message
        assert "not implemented yet (state_gradients: " in bounds.message


def test_transformer_masks_not_written_yet(tmp_path):
    """scaled_dot_product_attention without a padding mask, with the causal one
    and with an integer mask still earns its share (7 of 14 parts: the masks'
    exact zeros count only once everything else is right); the hidden
    positional_encoding_shift the two positional_encoding values (2 of 6)."""
    for result in graded_half_done("transformer", tmp_path, [
        ("    return (np.asarray(tokens) != pad_id)[:, None, :]\n", not_yet("padding_mask")),
        ("    return r\n    # END SOLUTION\n", not_yet("pe_shift_matrix") + "    # END SOLUTION\n"),
    ], ["scaled_dot_product_attention", "positional_encoding_shift"]):
        attention, shift = result["scaled_dot_product_attention"], result["positional_encoding_shift"]
        assert share(attention, 7, 14)
        assert "padding_mask shape: not implemented yet (padding_mask: not written yet)" in attention.message
        assert "output (causal)" not in attention.message and "weights (plain)" not in attention.message
        assert share(shift, 2, 6)
        assert "not implemented yet (pe_shift_matrix: not written yet)" in shift.message
