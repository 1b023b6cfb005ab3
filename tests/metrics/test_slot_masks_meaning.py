"""Meaning of the slot-mask metrics: N̄ is a share (invariant to the scale of the norms), the
Jacobian norms do not depend on how scenes are chunked, a network's outputs (tensors that require
grad) are scored as they are, and a refused input is named in the error."""

import pytest
import torch

from identifiable.metrics.slot_masks import (
    adjusted_rand_index,
    ari,
    foreground_labels,
    j_ari,
    jacobian_interaction_score,
    normalized_slot_jacobians,
    slot_jacobian_norms,
)

SIZE = 6


def two_objects(n=3):
    """n scenes: object 1 on the left columns, object 2 on the right, background in between."""
    masks = torch.zeros(n, 2, SIZE, SIZE)
    masks[:, 0, :, :2] = 1.0
    masks[:, 1, :, 4:] = 1.0
    return masks


@pytest.mark.parametrize("scale", [1e-6, 1e-2, 0.5, 1.0, 40.0])
def test_normalized_jacobians_are_shares_whatever_the_scale_of_the_norms(scale):
    """N̄_k(p) = N_k(p) / Σ_j N_j(p): multiplying every norm by c > 0 changes nothing, and a pixel
    some slot moves, however slightly, keeps its shares (only Σ_j N_j(p) = 0 is uniform)."""
    norms = torch.tensor([1.0, 3.0, 0.0]).reshape(1, 3, 1, 1).repeat(1, 1, 1, 2)
    norms[..., 1] = 0.0  # no slot moves this pixel
    normalized = normalized_slot_jacobians(scale * norms)
    expected = torch.tensor([[0.25, 1 / 3], [0.75, 1 / 3], [0.0, 1 / 3]], dtype=torch.float64)
    torch.testing.assert_close(normalized[0, :, 0], expected)


def test_jis_and_j_ari_do_not_depend_on_the_scale_of_the_norms():
    masks = two_objects()
    g = torch.Generator().manual_seed(0)
    norms = torch.rand(3, 2, SIZE, SIZE, generator=g) + 3 * masks  # mostly its own object's slot
    for small in (1e-4 * norms, 0.3 * norms):
        assert jacobian_interaction_score(masks, small) == pytest.approx(
            jacobian_interaction_score(masks, norms)
        )
        assert j_ari(masks, small) == pytest.approx(j_ari(masks, norms))


def test_the_norms_do_not_depend_on_how_scenes_are_chunked():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 27))

    def decode(slots):  # (m, 2, 3) → (m, 3, 3, 3)
        return net(slots.flatten(1)).reshape(-1, 3, 3, 3)

    slots = torch.randn(5, 2, 3)
    whole = slot_jacobian_norms(decode, slots)
    for chunk in (1, 2, 5, 8):
        torch.testing.assert_close(slot_jacobian_norms(decode, slots, chunk=chunk), whole)


def test_tensors_that_require_grad_are_scored_without_their_graph():
    """The outputs of a network (slot masks, norms) are taken as they are, graph or not."""
    masks = two_objects()
    g = torch.Generator().manual_seed(1)
    slot_masks = torch.rand(3, 3, SIZE, SIZE, generator=g)
    norms = torch.rand(3, 2, SIZE, SIZE, generator=g) + 2 * masks
    assert ari(masks, slot_masks.clone().requires_grad_()) == ari(masks, slot_masks)
    assert j_ari(masks, norms.clone().requires_grad_()) == j_ari(masks, norms)
    assert jacobian_interaction_score(
        masks.clone().requires_grad_(), norms.clone().requires_grad_()
    ) == jacobian_interaction_score(masks, norms)
    torch.testing.assert_close(
        normalized_slot_jacobians(norms.clone().requires_grad_()), normalized_slot_jacobians(norms)
    )
    assert torch.equal(foreground_labels(masks.clone().requires_grad_()), foreground_labels(masks))
    labels = torch.tensor([[0, 0, 1, 1, 2]])
    weights = torch.tensor([[1.0, 1.0, 1.0, 1.0, 0.0]], requires_grad=True)
    assert adjusted_rand_index(labels, labels.flip(1), weights).item() == pytest.approx(
        adjusted_rand_index(labels, labels.flip(1), weights.detach()).item()
    )


FLAT = torch.zeros(2, 5, dtype=torch.long)
GOOD = two_objects()


def identity_decode(slots):
    return slots.reshape(-1, 1, 1, slots.shape[1] * slots.shape[2])


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("labels_true", lambda: adjusted_rand_index(FLAT[0], FLAT)),
        ("labels_pred", lambda: adjusted_rand_index(FLAT, FLAT[0])),
        ("weights", lambda: adjusted_rand_index(FLAT, FLAT, torch.ones(5))),
        ("object_masks", lambda: foreground_labels(GOOD[0])),
        ("object_masks", lambda: ari(GOOD[0], GOOD)),
        ("slot_masks", lambda: ari(GOOD, GOOD[0])),
        ("object_masks", lambda: j_ari(GOOD[0], GOOD)),
        ("object_masks", lambda: jacobian_interaction_score(GOOD[0], GOOD)),
        ("norms", lambda: normalized_slot_jacobians(GOOD[0])),
        ("slots", lambda: slot_jacobian_norms(identity_decode, torch.zeros(2, 3))),
    ],
)
def test_an_input_of_the_wrong_rank_is_named_in_the_error(name, call):
    with pytest.raises(ValueError, match=f"^{name} must have"):
        call()


@pytest.mark.parametrize(
    "norms",
    [torch.ones(2, 2, SIZE, SIZE), torch.ones(3, 2, SIZE, SIZE + 1)],
    ids=["fewer scenes", "other image size"],
)
@pytest.mark.parametrize("score", [j_ari, jacobian_interaction_score])
def test_norms_of_other_scenes_or_another_image_size_are_refused(score, norms):
    """Either mismatch alone is refused: scenes and pixels must pair up one to one."""
    with pytest.raises(ValueError, match="must agree on scenes and image size"):
        score(two_objects(3), norms)
