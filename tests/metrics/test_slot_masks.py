"""ARI, slot Jacobians, J-ARI and JIS: scikit-learn as the oracle of the ARI, an autograd Jacobian
as the oracle of the forward-mode norms, perfect and useless decoders, bad input."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from identifiable.metrics.slot_masks import (
    adjusted_rand_index,
    ari,
    foreground_labels,
    j_ari,
    jacobian_interaction_score,
    normalized_slot_jacobians,
    slot_jacobian_norms,
)

SIZE = 8


def object_masks(n=6, k=2, seed=0):
    """n scenes of k non-overlapping square objects on an 8×8 canvas (background elsewhere)."""
    g = torch.Generator().manual_seed(seed)
    masks = torch.zeros(n, k, SIZE, SIZE)
    for i in range(n):
        cells = torch.randperm(4, generator=g)[:k]
        for obj, cell in enumerate(cells.tolist()):
            r, c = divmod(cell, 2)
            masks[i, obj, 4 * r : 4 * r + 3, 4 * c : 4 * c + 3] = 1.0
    return masks


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), min_size=1, max_size=40),
)
def test_ari_is_scikit_learns(pairs):
    true = torch.tensor([[a for a, _ in pairs]])
    pred = torch.tensor([[b for _, b in pairs]])
    expected = adjusted_rand_score(true[0].numpy(), pred[0].numpy())
    assert adjusted_rand_index(true, pred)[0].item() == pytest.approx(expected, abs=1e-12)


def test_ari_weights_pick_points_and_rows_without_points_are_nan():
    rng = np.random.default_rng(0)
    true = rng.integers(0, 3, (4, 50))
    pred = rng.integers(0, 3, (4, 50))
    keep = rng.random((4, 50)) < 0.6
    keep[3] = False
    got = adjusted_rand_index(true, pred, keep)
    for i in range(3):
        expected = adjusted_rand_score(true[i][keep[i]], pred[i][keep[i]])
        assert got[i].item() == pytest.approx(expected, abs=1e-12)
    assert torch.isnan(got[3])


def test_foreground_labels():
    masks = torch.zeros(1, 2, 1, 3)
    masks[0, 0, 0, 0] = 0.9
    masks[0, 1, 0, 1] = 0.6
    masks[0, 0, 0, 1] = 0.3
    assert foreground_labels(masks).tolist() == [[1, 2, 0]]


def test_ari_perfect_and_permuted_masks_score_1_and_random_masks_about_0():
    masks = object_masks(n=20, k=3)
    background = 1 - masks.sum(1, keepdim=True)
    slots = torch.cat([masks[:, [2, 0, 1]], background], dim=1)  # permuted + a background slot
    assert ari(masks, slots) == pytest.approx(1.0)
    random = torch.rand(20, 4, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    assert abs(ari(masks, random)) < 0.1


def disjoint_decoder(masks_one_scene: torch.Tensor):
    """Slot k paints its own pixels (object k's mask) with a colour computed from ẑ_k only."""
    weights = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))

    def decode(slots):  # (m, K, d) → (m, 3, H, W)
        colour = torch.tanh(slots @ weights.T)  # (m, K, 3)
        return torch.einsum("mkc,khw->mchw", colour, masks_one_scene)

    return decode


def test_a_decoder_with_one_slot_per_object_scores_jis_1_and_j_ari_1():
    masks = object_masks(n=5, k=2)
    slots = torch.randn(5, 2, 4, generator=torch.Generator().manual_seed(2))
    norms = torch.cat(
        [slot_jacobian_norms(disjoint_decoder(masks[i]), slots[i : i + 1]) for i in range(5)]
    )
    assert norms.shape == (5, 2, SIZE, SIZE)
    assert jacobian_interaction_score(masks, norms) == pytest.approx(1.0)
    assert j_ari(masks, norms) == pytest.approx(1.0)
    assert j_ari(masks, norms[:, [1, 0]]) == pytest.approx(1.0)  # slot order is forgiven


def test_a_decoder_where_every_pixel_depends_on_all_slots_equally_scores_0():
    masks = object_masks(n=5, k=2)
    weights = torch.randn(3 * SIZE * SIZE, 4, generator=torch.Generator().manual_seed(0))

    def decode(slots):  # a function of the sum of the slots only
        return torch.tanh(slots.sum(dim=1) @ weights.T).reshape(-1, 3, SIZE, SIZE)

    slots = torch.randn(5, 2, 4, generator=torch.Generator().manual_seed(2))
    norms = slot_jacobian_norms(decode, slots)
    assert jacobian_interaction_score(masks, norms) == pytest.approx(0.0, abs=1e-6)
    assert j_ari(masks, norms) == pytest.approx(0.0, abs=1e-6)


def test_forward_mode_norms_match_an_autograd_jacobian():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.Tanh(), torch.nn.Linear(32, 48))

    def decode(slots):  # (m, 2, 3) → (m, 3, 4, 4), slots interact through the MLP
        return net(slots.flatten(1)).reshape(-1, 3, 4, 4)

    slots = torch.randn(3, 2, 3)
    got = slot_jacobian_norms(decode, slots, chunk=2)
    for i in range(3):
        full = torch.autograd.functional.jacobian(lambda s: decode(s[None])[0], slots[i])
        expected = full.abs().sum(dim=(0, 4)).permute(2, 0, 1)  # (3,4,4,2,3) → (2,4,4)
        torch.testing.assert_close(got[i], expected)


def test_normalized_jacobians_sum_to_1_and_are_uniform_where_nothing_moves():
    norms = torch.zeros(1, 3, 1, 2)
    norms[0, :, 0, 0] = torch.tensor([1.0, 3.0, 0.0])
    normalized = normalized_slot_jacobians(norms)
    torch.testing.assert_close(normalized[0, :, 0, 0], torch.tensor([0.25, 0.75, 0.0]).double())
    torch.testing.assert_close(normalized[0, :, 0, 1], torch.full((3,), 1 / 3).double())


def test_jis_rescales_between_chance_and_one():
    masks = torch.ones(1, 1, 1, 4)  # every pixel is object 1
    half = torch.tensor([[[[3.0, 3.0, 3.0, 3.0]], [[1.0, 1.0, 1.0, 1.0]]]])  # max share 0.75
    assert jacobian_interaction_score(masks, half) == pytest.approx(0.5)


def test_background_pixels_are_left_out():
    masks = object_masks(n=4, k=2)
    norms = torch.rand(4, 2, SIZE, SIZE, generator=torch.Generator().manual_seed(3))
    perfect = torch.stack([masks[:, 0], masks[:, 1]], dim=1) + 1e-3
    background = foreground_labels(masks).reshape(4, 1, SIZE, SIZE) == 0
    noisy = torch.where(background, norms, perfect)  # anything on the background
    assert jacobian_interaction_score(masks, noisy) == pytest.approx(
        jacobian_interaction_score(masks, perfect)
    )
    assert j_ari(masks, noisy) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ari(torch.zeros(2, 2, 4), torch.zeros(2, 2, 4)), "4 dimensions"),
        (lambda: ari(object_masks(), torch.zeros(6, 2, 4, 4)), "agree on scenes"),
        (lambda: ari(torch.zeros(2, 2, 4, 4), torch.rand(2, 2, 4, 4)), "no scene has a fore"),
        (lambda: j_ari(object_masks(), torch.full((6, 2, SIZE, SIZE), float("nan"))), "NaN"),
        (lambda: jacobian_interaction_score(object_masks(), -torch.ones(6, 2, 8, 8)), "non-neg"),
        (lambda: jacobian_interaction_score(object_masks(), torch.ones(6, 1, 8, 8)), "2 slots"),
        (lambda: adjusted_rand_index([[0, 1]], [[0, 1, 2]]), "same shape"),
        (lambda: adjusted_rand_index([[0, -1]], [[0, 1]]), "non-negative"),
        (lambda: ari("masks", object_masks()), "numeric"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()
