"""Meaning of the object-centric metrics: perfect and useless slots, the per-scene permutation and
the smooth map they forgive, OOD scoring with the ID readout, the decoder-only R², and
compositional contrast's zero for decoders whose pixels depend on one slot each."""

import numpy as np
import pytest
import torch

from identifiable.metrics import metric_info
from identifiable.metrics.slots import compositional_contrast, decoder_r2, slot_identifiability

rng = np.random.default_rng(0)
A = rng.standard_normal((5, 5))


def encode(z):
    """A smooth invertible map per slot (shared), into 10 dims."""
    return np.concatenate([np.tanh(z @ A), z**2 + z], axis=-1)


def shuffle_slots(h, seed=1):
    order = np.stack(
        [np.random.default_rng(seed + i).permutation(h.shape[1]) for i in range(len(h))]
    )
    return np.take_along_axis(h, order[:, :, None], axis=1)


Z = rng.random((400, 3, 5))
Z_OOD = rng.random((200, 3, 5))


def test_perfect_slots_in_any_order_score_one_in_and_out_of_distribution():
    scores = slot_identifiability(
        Z, shuffle_slots(encode(Z)), z_true_ood=Z_OOD, z_hat_ood=shuffle_slots(encode(Z_OOD), 9)
    )
    assert scores["slot_identifiability"] > 0.97
    assert scores["slot_identifiability_ood"] > 0.97


def test_useless_slots_score_about_zero():
    noise = rng.standard_normal((400, 3, 10))
    assert slot_identifiability(Z, noise)["slot_identifiability"] < 0.1


def test_slots_that_mix_two_objects_score_lower():
    h = encode(Z)
    mixed = h + np.roll(h, 1, axis=1)  # every slot carries two objects
    assert slot_identifiability(Z, mixed)["slot_identifiability"] < 0.8


def test_the_ood_score_reuses_the_in_distribution_readout():
    """Slots that are right in distribution and wrong off it: the ID readout exposes it."""
    wrong_ood = encode(Z_OOD) * 0 + rng.standard_normal((200, 3, 10))
    scores = slot_identifiability(Z, encode(Z), z_true_ood=Z_OOD, z_hat_ood=wrong_ood)
    assert scores["slot_identifiability"] > 0.97 and scores["slot_identifiability_ood"] < 0.2


A_INV = torch.tensor(np.linalg.inv(A), dtype=torch.float32)


def encode_linear(z):
    return np.concatenate([z @ A, z**2], axis=-1)


def decode_sum(slots):
    """An additive decoder that inverts ``encode_linear`` and renders z ↦ [z, z²] per object."""
    z = slots[..., :5] @ A_INV
    return torch.cat([z, z**2], -1).sum(1)


def test_decoder_r2_is_one_for_a_decoder_that_renders_every_combination():
    x_ood = torch.tensor(np.concatenate([Z_OOD, Z_OOD**2], -1).sum(1), dtype=torch.float32)
    h = torch.tensor(shuffle_slots(encode_linear(Z)), dtype=torch.float32)
    assert decoder_r2(decode_sum, Z, h, Z_OOD, x_ood) > 0.97
    # a decoder that ignores its slots is useless
    constant = lambda s: torch.zeros(len(s), 10) + x_ood.mean(0)  # noqa: E731
    assert decoder_r2(constant, Z, h, Z_OOD, x_ood) == pytest.approx(0.0, abs=1e-6)


def test_compositional_contrast_zero_for_disjoint_pixels_positive_for_mixing():
    w = torch.randn(4, 6)
    disjoint = lambda s: torch.cat([torch.tanh(s[:, 0] @ w), torch.tanh(s[:, 1] @ w)], 1)  # noqa: E731
    additive = lambda s: torch.tanh(s @ w).sum(1)  # noqa: E731
    v = torch.randn(8, 6)
    mixing = lambda s: torch.tanh(s.flatten(1) @ v)  # noqa: E731
    slots = torch.randn(16, 2, 4)
    assert compositional_contrast(disjoint, slots) == 0.0
    assert compositional_contrast(additive, slots) > 0  # overlapping pixels: both slots count
    assert compositional_contrast(mixing, slots) > 0
    # by hand for one scene: Σ_p ‖∂f_p/∂s_0‖ ‖∂f_p/∂s_1‖
    s = slots[:1]
    jac = torch.autograd.functional.jacobian(lambda t: mixing(t)[0], s)[:, 0]  # (6, 2, 4)
    norms = jac.norm(dim=-1)
    assert compositional_contrast(mixing, s) == pytest.approx(
        float((norms[:, 0] * norms[:, 1]).sum()), rel=1e-5
    )


def test_declared_meaning_and_bad_input():
    assert metric_info("slot_identifiability_ood").higher_is_better
    assert metric_info("compositional_contrast").higher_is_better is False
    with pytest.raises(ValueError, match=r"shape \(n, K, d\)"):
        slot_identifiability(Z.reshape(400, 15), encode(Z))
    with pytest.raises(ValueError, match="same scenes and slots"):
        slot_identifiability(Z, encode(Z)[:100])
    with pytest.raises(ValueError, match="NaN"):
        slot_identifiability(Z, np.full((400, 3, 10), np.nan))


def test_rounds_and_test_size_are_checked():
    with pytest.raises(ValueError, match="rounds must be an int >= 1"):
        slot_identifiability(Z, encode(Z), rounds=0)
    with pytest.raises(ValueError, match=r"test_size must be in \(0, 1\)"):
        slot_identifiability(Z, encode(Z), test_size=1.0)
