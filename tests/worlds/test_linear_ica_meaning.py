"""What the linear ICA world means: unit-variance i.i.d. sources of the named family, mixed by one
fixed A of the world's seed (x = A s exactly), A with unit columns.

Tolerances: 5 standard errors at n = 200 000 (mean, variance) and the family's fourth moment
(excess kurtosis: Laplace 3, uniform −1.2, Gaussian 0) within 0.4 (≥ 3.5 standard errors of the
Laplace estimate, whose variance is the largest).
"""

import numpy as np
import pytest
import torch

from identifiable.worlds.linear_ica import LinearICAWorld

N = 200_000
KURTOSIS = {"laplace": 3.0, "uniform": -1.2, "gaussian": 0.0}


@pytest.fixture(scope="module", params=sorted(KURTOSIS))
def drawn(request):
    world = LinearICAWorld(n_sources=3, source=request.param, seed=4)
    return request.param, world, world.sample(N, generator=torch.Generator().manual_seed(0))


def test_sources_have_unit_variance_and_their_family_shape(drawn):
    family, _, batch = drawn
    s = batch.z.double().numpy()
    se = 1 / np.sqrt(N)
    assert np.all(np.abs(s.mean(0)) < 5 * se)
    assert np.all(np.abs(s.var(0) - 1) < 5 * se * np.sqrt(KURTOSIS[family] + 2))
    kurt = (s**4).mean(0) / s.var(0) ** 2 - 3
    assert np.all(np.abs(kurt - KURTOSIS[family]) < 0.4)
    # independent coordinates: off-diagonal correlations ≈ 0
    corr = np.corrcoef(s.T)
    assert np.all(np.abs(corr[~np.eye(3, dtype=bool)]) < 5 * se)


def test_family_specific_facts(drawn):
    family, _, batch = drawn
    s = batch.z.double()
    if family == "uniform":
        assert float(s.abs().max()) <= 3**0.5 and float(s.abs().max()) > 3**0.5 - 1e-3
    if family == "laplace":  # scale b = 1/√2: E|s| = b
        assert abs(float(s.abs().mean()) - 2**-0.5) < 5 * 0.71 / np.sqrt(N)


def test_observations_are_a_times_s_with_a_fixed_by_seed(drawn):
    _, world, batch = drawn
    a = world.mixing.build(3).weights[0]
    torch.testing.assert_close(batch.x, batch.z @ a.T)
    torch.testing.assert_close(a.norm(dim=0), torch.ones(3))
    assert world.mixing is world.mixing  # built once per world
    again = LinearICAWorld(n_sources=3, source="laplace", seed=4).mixing.build(3).weights[0]
    other = LinearICAWorld(n_sources=3, source="laplace", seed=5).mixing.build(3).weights[0]
    assert torch.equal(a, again) and not torch.equal(a, other)


@pytest.mark.parametrize("source", sorted(KURTOSIS))
def test_samples_come_from_the_generator_not_the_global_state(source):
    world = LinearICAWorld(n_sources=2, source=source)
    torch.manual_seed(1)
    a = world.sample(10, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(2)
    b = world.sample(10, generator=torch.Generator().manual_seed(1))
    c = world.sample(10, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a.x, b.x) and not torch.equal(a.x, c.x)
    assert a.z.shape == (10, 2) and a.x.shape == (10, 2)
    assert world.sample(1, generator=torch.Generator()).z.shape == (1, 2)


def test_laplace_draws_stay_finite_at_the_edge_of_the_uniform(monkeypatch):
    # torch.rand can return exactly 0 (probability 2^-24 per float32 draw): u = −1/2 must not
    # reach log1p(−1) = −inf
    world = LinearICAWorld(n_sources=2)
    world.mixing.build(2)  # draw A first, with the real torch.rand
    monkeypatch.setattr(torch, "rand", lambda shape, generator=None: torch.zeros(shape))
    s = world.sample(3, generator=torch.Generator()).z
    assert bool(torch.isfinite(s).all())
    # the edge maps to the far tail: |s| = −log(2e−7)/√2 ≈ 10.9
    assert float(s.abs().min()) > 10


@pytest.mark.parametrize("kwargs", [{"n_sources": 1}, {"n_sources": 2.0}, {"source": "cauchy"}])
def test_refuses_bad_settings(kwargs):
    with pytest.raises(ValueError):
        LinearICAWorld(**kwargs)


@pytest.mark.parametrize("n", [0, -3, 2.5])
def test_refuses_bad_sample_sizes(n):
    with pytest.raises(ValueError, match="positive int"):
        LinearICAWorld().sample(n, generator=torch.Generator())
