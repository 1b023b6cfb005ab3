"""Meaning of the slot losses: the matched distance is the Hungarian optimum, zero for any
reordering of the same slots, standardised like the reference; recombination draws existing
slots only."""

import pytest
import torch
from scipy.optimize import linear_sum_assignment

from identifiable.losses.slots import (
    matched_slot_distance,
    n_permutations,
    recombine_slots,
    slot_permutations,
)


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


def test_standardisation_divides_by_std_plus_the_reference_guard():
    """s(t) = (t − mean t) / (std t + 1e-8): on slots of spread ~1e-8 the guard is half the
    denominator, so the loss equals the unstandardised loss of explicitly standardised inputs."""
    g = torch.Generator().manual_seed(3)
    target = 1e-8 * torch.randn(20, 3, 2, generator=g, dtype=torch.float64)
    predicted = torch.randn(20, 3, 2, generator=g, dtype=torch.float64)

    def s(t):
        return (t - t.mean()) / (t.std() + 1e-8)

    loss, permutation = matched_slot_distance(target, predicted)
    expected, expected_permutation = matched_slot_distance(
        s(target), s(predicted), standardise=False
    )
    assert bool(torch.isfinite(loss))
    assert float(loss) == pytest.approx(float(expected), rel=1e-9)
    assert torch.equal(permutation, expected_permutation)


def test_one_slot_and_six_slots_are_the_enumerated_extremes():
    assert slot_permutations(1).tolist() == [[0]]
    six = slot_permutations(6)
    assert six.shape == (720, 6) and len({tuple(p) for p in six.tolist()}) == 720
    assert n_permutations(6) == 720 and n_permutations(1) == 1 and n_permutations(4) == 24
    assert torch.equal(six.sort(1).values, torch.arange(6).expand(720, 6))
    for bad in (0, 7):
        with pytest.raises(ValueError, match="n_slots must be in 1..6"):
            slot_permutations(bad)
    # with one slot there is nothing to match: the loss is the plain squared distance
    g = torch.Generator().manual_seed(4)
    target, predicted = torch.randn(5, 1, 3, generator=g), torch.randn(5, 1, 3, generator=g)
    loss, permutation = matched_slot_distance(target, predicted, standardise=False)
    assert float(loss) == pytest.approx(float((target - predicted).pow(2).sum((1, 2)).mean()))
    assert permutation.tolist() == [[0]] * 5


def test_permutations_and_matching_stay_on_the_inputs_device():
    """Checked on the meta device (no data, only placement) as a stand-in for an accelerator."""
    meta = torch.device("meta")
    assert slot_permutations(3, meta).device == meta
    target = torch.empty(4, 3, 2, device=meta)
    loss, permutation = matched_slot_distance(target, torch.empty(4, 3, 2, device=meta))
    assert loss.device == meta and permutation.device == meta
    assert permutation.shape == (4, 3) and permutation.dtype == torch.int64


def test_recombination_draws_only_from_the_callers_generator():
    slots = torch.randn(4, 3, 2)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    first = recombine_slots(slots, 20, generator=torch.Generator().manual_seed(5))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(
        first, recombine_slots(slots, 20, generator=torch.Generator().manual_seed(5))
    )


def test_recombination_edge_sizes():
    """One scene is enough; one slot in the batch gives copies of it; an empty batch (no scene or
    no slot) is refused with the same one-line error."""
    slots = torch.randn(3, 2, 4)
    assert recombine_slots(slots, 1, generator=torch.Generator()).shape == (1, 2, 4)
    single = torch.randn(1, 1, 4)
    copies = recombine_slots(single, 5, generator=torch.Generator())
    assert torch.equal(copies, single.expand(5, 1, 4))
    for empty in (torch.zeros(0, 2, 4), torch.zeros(2, 0, 4)):
        with pytest.raises(ValueError, match="need slots and n_scenes >= 1"):
            recombine_slots(empty, 3, generator=torch.Generator())
