import math

import pytest
import torch
from scipy.special import iv

from identifiable.worlds.latents import BoxSpace, GaussianSpace, SphereSpace, sample_vmf


def g(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("kappa", [1.0, 10.0, 50.0])
@pytest.mark.parametrize("n", [3, 10])
def test_vmf_mean_cosine_matches_bessel_ratio(kappa, n):
    # E[μᵀz̃] = A_n(κ) = I_{n/2}(κ) / I_{n/2−1}(κ) for the vMF on S^{n−1}
    mu = SphereSpace(n_latents=n).marginal(40_000, generator=g(1))
    z = sample_vmf(mu, kappa, g(2))
    expected = iv(n / 2, kappa) / iv(n / 2 - 1, kappa)
    assert torch.allclose(z.norm(dim=1), torch.ones(len(z)), atol=1e-5)
    assert float((z * mu).sum(1).mean()) == pytest.approx(expected, abs=0.01)


def test_vmf_tangent_direction_is_isotropic():
    # rotation symmetry around μ: the component orthogonal to μ = e1 has mean 0, equal variances
    n = 6
    mu = torch.zeros(50_000, n)
    mu[:, 0] = 1.0
    z = sample_vmf(mu, 5.0, g(3))
    tangent = z[:, 1:]
    assert tangent.mean(0).abs().max() < 0.01
    var = tangent.var(0)
    assert float(var.max() / var.min()) < 1.05


def test_sphere_marginal_uniform_moments():
    z = SphereSpace(n_latents=5).marginal(50_000, generator=g())
    assert z.mean(0).abs().max() < 0.01
    cov = torch.cov(z.T)
    assert torch.allclose(cov, torch.eye(5) / 5, atol=0.01)


def test_same_seed_same_tensors_and_different_seed_differs():
    space = SphereSpace(n_latents=4, kappa=3.0)
    a = space.conditional(space.marginal(100, generator=g(5)), generator=g(6))
    b = space.conditional(space.marginal(100, generator=g(5)), generator=g(6))
    c = space.conditional(space.marginal(100, generator=g(5)), generator=g(7))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("family", ["laplace", "normal"])
def test_box_conditional_stays_in_box_with_right_scale(family):
    space = BoxSpace(n_latents=3, kappa=10.0, conditional_family=family)
    z = space.marginal(20_000, generator=g())
    z_pos = space.conditional(z, generator=g(1))
    assert float(z_pos.min()) >= -1.0 and float(z_pos.max()) <= 1.0
    # far from the walls the truncation never acts: check the untruncated moments there
    inner = (z.abs() < 0.3).all(1)
    d = (z_pos - z)[inner]
    if family == "laplace":  # E|x| = b = 1/κ
        assert float(d.abs().mean()) == pytest.approx(0.1, rel=0.05)
    else:  # σ² = 1/(2κ)
        assert float(d.var()) == pytest.approx(0.05, rel=0.05)


def test_box_marginal_is_uniform():
    z = BoxSpace(n_latents=2, low=0.0, high=1.0).marginal(40_000, generator=g())
    assert float(z.min()) >= 0 and float(z.max()) <= 1
    assert float(z.mean()) == pytest.approx(0.5, abs=0.01)
    assert float(z.var()) == pytest.approx(1 / 12, abs=0.003)


def test_gaussian_conditional_variance():
    space = GaussianSpace(n_latents=4, kappa=2.0)
    z = space.marginal(40_000, generator=g())
    d = space.conditional(z, generator=g(1)) - z
    assert float(d.var()) == pytest.approx(1 / (2 * 2.0), rel=0.03)
    assert float(z.var()) == pytest.approx(1.0, rel=0.03)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SphereSpace(n_latents=1), "n_latents"),
        (lambda: SphereSpace(kappa=-1.0), "kappa"),
        (lambda: SphereSpace(kappa=math.nan), "kappa"),
        (lambda: BoxSpace(conditional_family="cauchy"), "conditional_family"),
        (lambda: BoxSpace(low=1.0, high=0.0), "low < high"),
        (lambda: GaussianSpace(kappa=0.0), "kappa"),
    ],
)
def test_bad_parameters_give_one_line_errors(make, message):
    with pytest.raises(ValueError, match=message) as info:
        make()
    assert "\n" not in str(info.value)


def test_bad_sample_count():
    with pytest.raises(ValueError, match="positive int"):
        SphereSpace().marginal(0, generator=g())
