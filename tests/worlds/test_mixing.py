import pytest
import torch

from identifiable.worlds.latents import SphereSpace
from identifiable.worlds.mixing import IdentityMixing, LeakyMLPMixing, LinearMixing
from identifiable.worlds.world import LatentWorld


def test_leaky_mlp_is_exactly_invertible():
    f = LeakyMLPMixing(n_layers=3, seed=1).build(10)
    z = torch.randn(1000, 10, generator=torch.Generator().manual_seed(0))
    x = f(z)
    assert not torch.allclose(x, z)
    assert torch.allclose(f.inverse(x), z, atol=1e-4)


def test_layers_are_well_conditioned_like_the_reference():
    # the reference's threshold is the best of 25 000 draws (≈ 3.6 for n = 10, seed 0)
    conds = LeakyMLPMixing(n_layers=3, seed=0).build(10).condition_numbers()
    assert len(conds) == 3
    assert max(conds) < 6.0
    # a single random draw is much worse on average
    worse = LeakyMLPMixing(n_layers=3, seed=0, n_candidates=1).build(10).condition_numbers()
    assert sum(worse) > sum(conds)


def test_mixing_is_a_fixed_function_of_its_seed():
    a = LeakyMLPMixing(seed=3).build(5).weights
    b = LeakyMLPMixing(seed=3).build(5).weights
    c = LeakyMLPMixing(seed=4).build(5).weights
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[0], c[0])


def test_columns_are_unit_norm():
    for w in LeakyMLPMixing(seed=0).build(7).weights:
        assert torch.allclose(w.norm(dim=0), torch.ones(7), atol=1e-5)


def test_linear_and_identity():
    z = torch.randn(50, 4)
    assert torch.equal(IdentityMixing().build(4)(z), z)
    f = LinearMixing(seed=0).build(4)
    assert torch.allclose(f.inverse(f(z)), z, atol=1e-5)


def test_bad_slope():
    with pytest.raises(ValueError, match="negative_slope"):
        LeakyMLPMixing(negative_slope=0.0)


def test_world_pairs_are_consistent_and_seeded():
    world = LatentWorld(SphereSpace(n_latents=6, kappa=5.0), LeakyMLPMixing(seed=0))
    a = world.pairs(64, generator=torch.Generator().manual_seed(1))
    b = world.pairs(64, generator=torch.Generator().manual_seed(1))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert torch.allclose(world.observe(a.z_pos), a.x_pos)
    assert a.x.shape == (64, 6)
