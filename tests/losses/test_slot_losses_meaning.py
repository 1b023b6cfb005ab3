"""Meaning of the slot losses: the matched distance is the Hungarian optimum, zero for any
reordering of the same slots, standardised like the reference; recombination draws existing
slots only."""

import pytest
import torch
from scipy.optimize import linear_sum_assignment

from identifiable.losses.slots import matched_slot_distance, recombine_slots, slot_permutations


def test_it_is_the_hungarian_optimum_scene_by_scene():
    g = torch.Generator().manual_seed(0)
    target, predicted = torch.randn(40, 4, 3, generator=g), torch.randn(40, 4, 3, generator=g)
    loss, permutation = matched_slot_distance(target, predicted, standardise=False)
    expected = 0.0
    for i in range(40):
        cost = torch.cdist(target[i], predicted[i]).pow(2).numpy()
        rows, cols = linear_sum_assignment(cost)
        expected += cost[rows, cols].sum() / 40
        assert permutation[i].tolist() == cols.tolist()
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_any_reordering_of_the_same_slots_costs_nothing():
    g = torch.Generator().manual_seed(1)
    target = torch.randn(30, 3, 5, generator=g)
    orders = torch.stack([torch.randperm(3, generator=g) for _ in range(30)])
    shuffled = torch.take_along_dim(target, orders[:, :, None], dim=1)
    loss, permutation = matched_slot_distance(target, shuffled)
    assert float(loss) == pytest.approx(0.0, abs=1e-10)
    assert torch.equal(torch.take_along_dim(shuffled, permutation[:, :, None], 1), target)


def test_standardising_removes_the_trivial_shrinking_solution():
    """Scaling the prediction towards its mean does not lower the standardised loss."""
    g = torch.Generator().manual_seed(2)
    target, predicted = torch.randn(50, 2, 4, generator=g), torch.randn(50, 2, 4, generator=g)
    full, _ = matched_slot_distance(target, predicted)
    shrunk, _ = matched_slot_distance(target, 0.01 * predicted + 3.0)
    assert float(shrunk) == pytest.approx(float(full), rel=1e-4)
    raw, _ = matched_slot_distance(target, 0.01 * predicted, standardise=False)
    assert float(raw) < float(full)


def test_the_loss_is_differentiable_in_the_prediction():
    target = torch.randn(8, 2, 3)
    predicted = torch.randn(8, 2, 3, requires_grad=True)
    matched_slot_distance(target, predicted)[0].backward()
    assert predicted.grad is not None and bool(torch.isfinite(predicted.grad).all())


def test_recombination_draws_existing_slots_with_replacement():
    slots = torch.arange(12.0).view(3, 2, 2)  # 6 distinct slots
    mixed = recombine_slots(slots, 50, generator=torch.Generator().manual_seed(0))
    assert mixed.shape == (50, 2, 2) and not mixed.requires_grad
    pool = {tuple(s.tolist()) for s in slots.view(6, 2)}
    drawn = {tuple(s.tolist()) for s in mixed.view(100, 2)}
    assert drawn <= pool and len(drawn) == 6
    # slots of one new scene come from different scenes too (not only the original pairs)
    originals = {tuple(slots[i].flatten().tolist()) for i in range(3)}
    assert any(tuple(scene.flatten().tolist()) not in originals for scene in mixed)


def test_bad_input():
    with pytest.raises(ValueError, match="same shape|shape \\(n, K, d\\)"):
        matched_slot_distance(torch.zeros(2, 2, 3), torch.zeros(2, 3, 3))
    with pytest.raises(ValueError, match="n_slots must be in 1..6"):
        slot_permutations(7)
    with pytest.raises(ValueError, match="n_scenes >= 1"):
        recombine_slots(torch.zeros(2, 2, 3), 0, generator=torch.Generator())
