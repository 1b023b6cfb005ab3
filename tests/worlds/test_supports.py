"""Training supports and their off-support test sets: membership, coverage of each slot's range,
the reference's planes, gap and δ convention, determinism and one-line errors."""

import math

import pytest
import torch

from identifiable.worlds.supports import (
    SUPPORTS,
    default_planes,
    diagonal_distance,
    in_support,
    max_delta,
    sample_ood,
    sample_support,
)


def draw(support, n=4000, seed=0, **kwargs):
    return sample_support(support, n, 2, 5, generator=torch.Generator().manual_seed(seed), **kwargs)


@pytest.mark.parametrize("support", SUPPORTS)
def test_samples_lie_in_their_support_and_ood_never_does(support):
    z = draw(support, delta=0.1)
    assert z.shape == (4000, 2, 5) and z.dtype == torch.float32
    assert bool(in_support(z, support, delta=0.1).all())
    ood = sample_ood(support, 4000, 2, 5, generator=torch.Generator().manual_seed(1), delta=0.1)
    assert ood.shape == (4000, 2, 5)
    if support != "random":  # the whole cube is random's support
        assert not bool(in_support(ood, support, delta=0.1).any())
    assert float(ood.min()) >= 0 and float(ood.max()) <= 1


@pytest.mark.parametrize("support", ["orthogonal", "diagonal", "random"])
def test_every_slot_marginal_covers_its_range(support):
    """Compositional support: each slot's every latent takes values in all 10 bins of [0, 1]."""
    z = draw(support, n=6000, delta=0.05)
    bins = (z * 10).long().clamp(max=9)
    for k in range(2):
        for j in range(5):
            assert len(torch.unique(bins[:, k, j])) == 10, (k, j)


def test_orthogonal_gap_leaves_a_hole_in_slot_zeros_first_latent():
    z = draw("orthogonal_gap")
    first = z[:, 0, 0]
    assert not bool(((first >= 0.05) & (first <= 0.45)).any())
    assert bool((first > 0.45).any()) and bool((first < 0.05).any())
    # its ood set holds rows from the gap itself (in-plane, unseen values) and rows off the planes
    ood = sample_ood("orthogonal_gap", 2000, 2, 5, generator=torch.Generator().manual_seed(2))
    in_gap = (ood[:, 0, 0] >= 0.05) & (ood[:, 0, 0] <= 0.45)
    assert 0.3 < float(in_gap.float().mean()) < 0.8


def test_the_reference_planes_get_a_third_of_the_rows_each():
    planes = default_planes(2, 5)
    assert planes[0] == (0, (1.0, 1.0, 1.0, 0.0, 1.0)) and planes[1][0] == 1
    z = draw("orthogonal", n=9000)
    on_first = (z[:, 1] == torch.tensor(planes[0][1])).all(1)
    on_third = (z[:, 0] == torch.tensor(planes[2][1])).all(1)
    assert abs(float(on_first.float().mean()) - 1 / 3) < 0.03
    assert abs(float(on_third.float().mean()) - 1 / 3) < 0.03
    assert default_planes(3, 2) == ((0, (0.0, 0.0)), (1, (0.0, 0.0)), (2, (0.0, 0.0)))


def test_delta_is_the_distance_to_the_diagonal():
    """K = 2: |z_1j − z_2j| ≤ √2·δ, uniform below it before rejection (the references' δ)."""
    z = draw("diagonal", n=20000, delta=0.1)
    gap = (z[:, 0] - z[:, 1]).abs()
    assert float(gap.max()) <= math.sqrt(2) * 0.1 + 1e-6
    assert float(gap.max()) > 0.95 * math.sqrt(2) * 0.1
    assert torch.allclose(diagonal_distance(z), gap / math.sqrt(2), atol=1e-6)
    three = sample_support("diagonal", 3000, 3, 2, generator=torch.Generator(), delta=0.2)
    assert float(diagonal_distance(three).max()) <= 0.2 + 1e-6


def test_max_delta_is_the_farthest_point_from_the_diagonal():
    assert max_delta(2) == pytest.approx(math.sqrt(2) / 2)
    corner = torch.tensor([[[0.0], [1.0], [1.0]]])  # K = 3: the worst corner
    assert float(diagonal_distance(corner)) == pytest.approx(max_delta(3))


def test_same_generator_same_rows():
    assert torch.equal(draw("diagonal", seed=3), draw("diagonal", seed=3))
    assert not torch.equal(draw("diagonal", seed=3), draw("diagonal", seed=4))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: draw("cube"), "support must be one of"),
        (lambda: draw("diagonal", delta=0.0), r"delta must be in \(0, 0.7071\)"),
        (lambda: draw("diagonal", delta=0.8), r"delta must be in \(0, 0.7071\)"),
        (lambda: draw("orthogonal", planes=[(2, (0,) * 5)]), "planes must be pairs"),
        (lambda: draw("orthogonal", planes=[(0, (0,) * 4)]), "planes must be pairs"),
        (lambda: sample_support("random", -1, 2, 5, generator=torch.Generator()), "n must be"),
    ],
)
def test_bad_input_one_line_errors(call, message):
    with pytest.raises(ValueError, match=message) as error:
        call()
    assert "\n" not in str(error.value)
