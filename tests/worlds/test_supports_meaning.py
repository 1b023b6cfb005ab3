"""What the supports mean at their edges: closed cube, closed gap and closed δ-band, the radius
law of the diagonal sampler, the exact half-and-half make-up of ``orthogonal_gap``'s ood set, the
generator contract, degenerate sizes (n = 0, one slot, one latent) and the checks' boundaries.

Statistical tolerances: fractions of ≥ 8 000 rows within 0.03 (≥ 5 standard errors).
"""

import pytest
import torch

from identifiable.worlds.supports import (
    SUPPORTS,
    _inside,
    _rounds,
    diagonal_distance,
    in_support,
    max_delta,
    sample_ood,
    sample_support,
)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# -- sizes and their checks ------------------------------------------------------------------------
@pytest.mark.parametrize("support", SUPPORTS)
def test_zero_rows_give_an_empty_batch_of_the_right_shape(support):
    """n = 0 is allowed (n ≥ 0): an empty (0, K, d) float batch from every sampler."""
    for sampler in (sample_support, sample_ood):
        z = sampler(support, 0, 2, 5, generator=gen())
        assert z.shape == (0, 2, 5) and z.dtype == torch.float32


@pytest.mark.parametrize("support", ["diagonal", "orthogonal_gap"])
def test_one_row_from_a_rejection_sampler(support):
    assert sample_support(support, 1, 2, 5, generator=gen()).shape == (1, 2, 5)
    assert sample_ood(support, 1, 2, 5, generator=gen()).shape == (1, 2, 5)


def test_one_slot_and_one_latent_are_allowed():
    """n_slots ≥ 1 and slot_dim ≥ 1: the smallest scenes sample; with one slot every row lies on
    the single plane (no other slot is fixed)."""
    assert sample_support("random", 3, 1, 1, generator=gen()).shape == (3, 1, 1)
    z = sample_support("orthogonal", 3, 1, 4, generator=gen())
    assert z.shape == (3, 1, 4)
    assert bool(in_support(torch.rand(6, 1, 4, generator=gen(1)), "orthogonal").all())
    assert sample_support("diagonal", 3, 2, 1, generator=gen()).shape == (3, 2, 1)


@pytest.mark.parametrize(
    "n, n_slots, slot_dim, message",
    [
        (-1, 2, 5, r"n must be an int >= 0, got -1"),
        (True, 2, 5, r"n must be an int >= 0, got True"),
        (2.0, 2, 5, r"n must be an int >= 0"),
        (3, 0, 5, r"n_slots must be an int >= 1, got 0"),
        (3, False, 5, r"n_slots must be an int >= 1"),
        (3, 2, 0, r"slot_dim must be an int >= 1, got 0"),
    ],
)
def test_sizes_are_checked_with_their_own_name(n, n_slots, slot_dim, message):
    for sampler in (sample_support, sample_ood):
        with pytest.raises(ValueError, match=message):
            sampler("random", n, n_slots, slot_dim, generator=gen())


def test_delta_must_lie_strictly_below_the_farthest_distance():
    """δ = max_delta leaves no off-diagonal set: rejected, as is any plane value above 1."""
    with pytest.raises(ValueError, match="delta must be in"):
        sample_support("diagonal", 5, 2, 5, generator=gen(), delta=max_delta(2))
    with pytest.raises(ValueError, match="delta must be in"):
        sample_ood("diagonal", 5, 3, 2, generator=gen(), delta=max_delta(3))
    with pytest.raises(ValueError, match="planes must be pairs"):
        sample_support("orthogonal", 5, 2, 1, generator=gen(), planes=[(0, (1.5,))])
    sample_support("orthogonal", 5, 2, 1, generator=gen(), planes=[(0, (1.0,))])


# -- the generator contract ------------------------------------------------------------------------
@pytest.mark.parametrize("support", SUPPORTS)
def test_samplers_draw_only_from_the_callers_generator(support):
    """The global RNG is never touched, and the same seed gives the same rows."""
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = sample_support(support, 40, 2, 5, generator=gen(7))
    ood = sample_ood(support, 40, 2, 5, generator=gen(7))
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(first, sample_support(support, 40, 2, 5, generator=gen(7)))
    assert torch.equal(ood, sample_ood(support, 40, 2, 5, generator=gen(7)))


# -- the diagonal sampler's law --------------------------------------------------------------------
@pytest.mark.parametrize("n_slots, below_half", [(2, 0.5), (3, 0.25)])
def test_diagonal_offsets_are_uniform_in_the_ball_around_the_diagonal(n_slots, below_half):
    """z = t·1 + δ·r·u, u a unit direction orthogonal to the diagonal, r the radius of a uniform
    point of the (K−1)-ball: the slot mean is t and the distance to the diagonal is δ·r, so
    P(r ≤ ½) = ½^{K−1}. Rows whose slot mean lies in [δ, 1 − δ] can never leave the cube, so the
    redraws do not bias them."""
    delta = 0.1
    z = sample_support("diagonal", 12000, n_slots, 1, generator=gen(), delta=delta)
    t = z.mean(1)[:, 0]
    r = diagonal_distance(z)[:, 0] / delta
    kept = (t >= delta) & (t <= 1 - delta)
    assert int(kept.sum()) > 8000
    r = r[kept]
    assert float(r.max()) <= 1 + 1e-5 and float(r.max()) > 0.99
    assert abs(float((r <= 0.5).float().mean()) - below_half) < 0.03
    assert abs(float((r <= 0.9).float().mean()) - 0.9 ** (n_slots - 1)) < 0.03
    # the slot mean (the point on the diagonal) is uniform: a tenth of the kept rows per tenth
    assert abs(float(((t > 0.4) & (t <= 0.5)).float().mean()) - 0.1) < 0.03


def test_inside_is_the_closed_unit_cube():
    z = torch.tensor([[[0.0, 1.0]], [[0.0, 0.0]], [[1.0, 1.0]], [[-1e-7, 0.5]], [[0.5, 1.0001]]])
    assert _inside(z).tolist() == [True, True, True, False, False]


# -- membership at the edges -----------------------------------------------------------------------
def test_in_support_random_is_the_closed_cube_up_to_tolerance_row_by_row():
    z = torch.tensor([[[0.0], [1.0]], [[0.5], [1.5]], [[-0.5], [0.5]], [[1.0], [0.0]]])
    assert in_support(z, "random", tolerance=0.0).tolist() == [True, False, False, True]
    edge = torch.tensor([[[-1e-3], [1.001]]])
    assert bool(in_support(edge, "random", tolerance=1e-3).all())
    assert not bool(in_support(edge, "random", tolerance=5e-4).any())


def test_in_support_diagonal_is_the_closed_band_widened_by_the_tolerance():
    """K = 4, z = (0, 0, 1, 1): distance exactly 1 to the diagonal."""
    z = torch.tensor([[[0.0], [0.0], [1.0], [1.0]], [[0.5], [0.5], [0.5], [0.5]]])
    assert float(diagonal_distance(z)[0, 0]) == 1.0
    assert in_support(z, "diagonal", delta=1.0, tolerance=0.0).tolist() == [True, True]
    assert in_support(z, "diagonal", delta=0.75, tolerance=0.25).tolist() == [True, True]
    assert in_support(z, "diagonal", delta=0.75, tolerance=0.2).tolist() == [False, True]


def test_in_support_diagonal_defaults_to_delta_one_tenth():
    """K = 2: distances 0.05 and 0.15 from the diagonal; the default δ = 0.1 splits them."""
    half_gap = 0.05 * 2**0.5
    z = torch.tensor(
        [[[0.5 - half_gap], [0.5 + half_gap]], [[0.5 - 3 * half_gap], [0.5 + 3 * half_gap]]]
    )
    assert in_support(z, "diagonal").tolist() == [True, False]


def test_a_row_exactly_on_a_plane_is_on_it_with_zero_tolerance():
    planes = [(0, (0.1, 0.3)), (1, (0.7, 0.2))]
    on_first = torch.tensor([[[0.9, 0.4], [0.1, 0.3]]], dtype=torch.float64)
    on_second = torch.tensor([[[0.7, 0.2], [0.5, 0.6]]], dtype=torch.float64)
    off = torch.tensor([[[0.7, 0.2 + 1e-9], [0.1, 0.3 + 1e-9]]], dtype=torch.float64)
    z = torch.cat([on_first, on_second, off, on_first.float().double()])
    on = in_support(z, "orthogonal", planes=planes, tolerance=0.0)
    # float64 rows are compared with the plane in float64; the float32-rounded copy is off it
    assert on.tolist() == [True, True, False, False]


def test_the_gap_is_closed_at_both_ends():
    """Slot 0's first latent at exactly 0.05 or 0.45 is in the gap: off ``orthogonal_gap``, on
    ``orthogonal``; just outside it is on both."""
    first = torch.tensor([0.05, 0.45, 0.0499, 0.4501, 0.25])
    z = torch.zeros(5, 2, 5)
    z[:, 0, 0] = first
    z[:, 1] = torch.tensor([1.0, 1.0, 1.0, 0.0, 1.0])  # the reference's first plane
    assert bool(in_support(z, "orthogonal", tolerance=0.0).all())
    gap = in_support(z, "orthogonal_gap", tolerance=0.0)
    assert gap.tolist() == [False, False, True, True, False]


# -- the ood sets ----------------------------------------------------------------------------------
def test_orthogonal_gap_ood_is_half_gap_rows_and_half_rows_off_the_planes():
    """n // 2 rows from the gap (on a plane, slot 0's first latent in [0.05, 0.45]); the other
    n − n // 2 farther than the margin from every plane."""
    for n in (101, 40):
        ood = sample_ood("orthogonal_gap", n, 2, 5, generator=gen(3), margin=0.05)
        assert ood.shape == (n, 2, 5)
        on_plane = in_support(ood, "orthogonal", tolerance=0.0)
        assert int(on_plane.sum()) == n // 2
        first = ood[on_plane, 0, 0]
        assert bool(((first >= 0.05) & (first <= 0.45)).all())
        assert not bool(in_support(ood[~on_plane], "orthogonal", tolerance=0.05).any())
    # and the two kinds are shuffled, not stacked
    ood = sample_ood("orthogonal_gap", 200, 2, 5, generator=gen(4))
    on_plane = in_support(ood, "orthogonal", tolerance=0.0)
    assert 0 < int(on_plane[:100].sum()) < 100


def test_diagonal_ood_defaults_to_delta_one_tenth():
    ood = sample_ood("diagonal", 300, 2, 5, generator=gen(5))
    assert torch.equal(ood, sample_ood("diagonal", 300, 2, 5, generator=gen(5), delta=0.1))
    assert bool((diagonal_distance(ood) > 0.1).any(1).all())


# -- the rejection rounds --------------------------------------------------------------------------
def recorder():
    sizes = []

    def batch(m, generator):
        sizes.append(m)
        return torch.arange(m, dtype=torch.float32).view(m, 1, 1)

    return sizes, batch


def test_rounds_draw_twice_the_missing_rows_at_least_64_until_n_are_kept():
    """Accept every fourth row, want 100: 200 drawn (50 kept), then 100 (25), then 64 (16), then
    64 (16) — 107 ≥ 100, stop, keep the first 100 accepted rows in order."""
    sizes, batch = recorder()
    out = _rounds(batch, lambda z: z[:, 0, 0] % 4 == 0, 100, (1, 1), None)
    assert sizes == [200, 100, 64, 64]
    assert out.shape == (100, 1, 1)
    assert out[:50, 0, 0].tolist() == [4.0 * i for i in range(50)]
    # exactly n kept after one round: no further round
    sizes, batch = recorder()
    assert _rounds(batch, lambda z: z[:, 0, 0] % 2 == 0, 64, (1, 1), None).shape == (64, 1, 1)
    assert sizes == [128]


def test_rounds_give_up_after_200_rounds_without_enough_rows():
    sizes, batch = recorder()
    with pytest.raises(ValueError, match="too small to sample from"):
        _rounds(batch, lambda z: z[:, 0, 0] < 0, 1, (1, 1), None)
    assert len(sizes) == 200


@pytest.mark.parametrize("support", ["orthogonal", "orthogonal_gap"])
def test_integer_plane_values_still_give_float_rows_with_a_uniform_free_slot(support):
    """Planes given as ints (0, 1) are values, not a dtype: the free slot stays uniform."""
    planes = [(0, (1, 1)), (1, (0, 0))]  # slot 1 at 1 marks plane 0, whose free slot is 0
    z = sample_support(support, 400, 2, 2, generator=gen(), planes=planes)
    assert z.dtype == torch.float32
    free = torch.where((z[:, 1] == 1).all(1, keepdim=True), z[:, 0], z[:, 1])
    assert 0.4 < float(free.mean()) < 0.6 and len(torch.unique(free)) > 300
    assert bool(in_support(z, support, planes=planes, tolerance=0.0).all())


def test_rounds_accept_enough_rows_found_in_the_last_round():
    """A support that yields its n-th row only in round 200 still samples (no false alarm), and
    the message says how many rows were found when it does give up."""
    calls = []

    def batch(m, generator):
        calls.append(m)
        return torch.full((m, 1, 1), float(len(calls)))

    out = _rounds(batch, lambda z: z[:, 0, 0] == 200, 1, (1, 1), None)
    assert out.shape == (1, 1, 1) and len(calls) == 200
    with pytest.raises(ValueError, match="0 of 1 rows accepted in 200 rounds"):
        _rounds(batch, lambda z: z[:, 0, 0] < 0, 1, (1, 1), None)
