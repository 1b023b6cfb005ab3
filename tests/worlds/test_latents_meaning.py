"""What the latent spaces *mean*: each configured parameter shows up in the samples it should.

Every check compares a sample statistic with its closed form, with a tolerance of several
standard errors at the stated sample size (fixed seeds, so the tests are deterministic):

* sphere: the vMF mean resultant length E[zᵀz̃] = A_n(κ) = I_{n/2}(κ) / I_{n/2−1}(κ) for the
  *configured* κ, and the whole law of the cosine, f(w) ∝ exp(κw)(1 − w²)^{(n−3)/2};
* box: a Laplace step of scale 1/κ (a Normal step of σ² = 1/(2κ)), truncated to the box by
  redrawing: at a wall the step is the one-sided half of it;
* anisotropic sphere: each latent moves less where its Λ_k is larger;
* parameter validation at its exact boundaries.

These tests are the oracle of mutation testing for ``worlds/latents.py`` (docs/testing.md).
"""

import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import ive

from identifiable.worlds.latents import (
    AnisotropicSphereSpace,
    BoxSpace,
    GaussianSpace,
    SphereSpace,
    anisotropic_lambdas,
    sample_vmf,
)
from identifiable.worlds.mixing import LeakyMLPMixing
from identifiable.worlds.world import LatentWorld


def g(seed=0):
    return torch.Generator().manual_seed(seed)


def mean_resultant_length(n, kappa):
    """A_n(κ) = I_{n/2}(κ) / I_{n/2−1}(κ), from exponentially scaled Bessels (no overflow)."""
    return ive(n / 2, kappa) / ive(n / 2 - 1, kappa)


def cosine_standard_error(n, kappa, samples):
    """Standard error of the mean of w = μᵀz̃: Var w = 1 − A² − (n − 1)A/κ."""
    a = mean_resultant_length(n, kappa)
    return math.sqrt(max(1 - a * a - (n - 1) * a / kappa, 0.0) / samples)


def vmf_cosine_cdf(n, kappa):
    """CDF of w = μᵀz̃ for the vMF on S^{n−1}, integrated numerically on a fine grid."""
    w = np.linspace(-1.0, 1.0, 200_001)
    log_density = kappa * (w - 1.0) + (n - 3) / 2 * np.log(np.clip(1 - w * w, 1e-300, None))
    density = np.exp(log_density - log_density.max())
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2)])
    return lambda x: np.interp(x, w, cdf / cdf[-1])


# -- sphere: von Mises–Fisher positives -----------------------------------------------------------
@pytest.mark.parametrize("n, kappa", [(2, 3.0), (3, 2.0), (10, 10.0), (10, 40.0)])
def test_sphere_positives_have_the_vmf_mean_resultant_length_of_the_configured_kappa(n, kappa):
    space = SphereSpace(n_latents=n, kappa=kappa)
    z = space.marginal(20_000, generator=g(1))
    cosine = (space.conditional(z, generator=g(2)) * z).sum(1)
    tolerance = 5 * cosine_standard_error(n, kappa, len(z))
    assert float(cosine.mean()) == pytest.approx(mean_resultant_length(n, kappa), abs=tolerance)


def test_world_pairs_use_the_spaces_conditional_and_the_mixing():
    world = LatentWorld(SphereSpace(n_latents=5, kappa=8.0), LeakyMLPMixing(n_layers=2))
    batch = world.pairs(20_000, generator=g(3))
    cosine = (batch.z * batch.z_pos).sum(1)
    tolerance = 5 * cosine_standard_error(5, 8.0, 20_000)
    assert float(cosine.mean()) == pytest.approx(mean_resultant_length(5, 8.0), abs=tolerance)
    mixing = world.mixing.build(5)
    assert torch.allclose(batch.x, mixing(batch.z))
    assert torch.allclose(batch.x_pos, mixing(batch.z_pos))
    assert world.n_latents == 5
    sample = world.sample(10, generator=g(4))
    assert torch.allclose(sample.x, mixing(sample.z))


@pytest.mark.parametrize("n, kappa", [(3, 5.0), (6, 1.0), (10, 25.0)])
def test_vmf_cosine_follows_the_exact_law(n, kappa):
    # Kolmogorov–Smirnov against f(w) ∝ exp(κw)(1 − w²)^{(n−3)/2}, the marginal of μᵀz̃
    mu = SphereSpace(n_latents=n).marginal(20_000, generator=g(5))
    w = (sample_vmf(mu, kappa, g(6)) * mu).sum(1).double().numpy()
    assert stats.kstest(w, vmf_cosine_cdf(n, kappa)).pvalue > 1e-3


def test_vmf_samples_are_unit_vectors_in_the_input_dtype():
    mu = SphereSpace(n_latents=4).marginal(1000, generator=g(7)).double()
    z = sample_vmf(mu, 3.0, g(8))
    assert z.dtype == torch.float64
    assert torch.allclose(z.norm(dim=1), torch.ones(1000, dtype=torch.float64), atol=1e-12)


def test_sphere_marginal_is_on_the_sphere():
    for space in (SphereSpace(n_latents=3), AnisotropicSphereSpace.preset("linspace", 4)):
        z = space.marginal(5000, generator=g(9))
        assert z.shape == (5000, space.n_latents)
        assert torch.allclose(z.norm(dim=1), torch.ones(5000), atol=1e-6)


def test_vmf_rejects_bad_parameters():
    mu = SphereSpace(n_latents=3).marginal(4, generator=g())
    with pytest.raises(ValueError, match="kappa"):
        sample_vmf(mu, 0.0, g())
    with pytest.raises(ValueError, match="dimension"):
        sample_vmf(torch.ones(4, 1), 1.0, g())


# -- box: truncated Laplace / Normal positives ----------------------------------------------------
@pytest.mark.parametrize("kappa", [4.0, 10.0])
def test_box_laplace_step_has_scale_one_over_kappa(kappa):
    space = BoxSpace(n_latents=2, kappa=kappa, low=-50.0, high=50.0)  # walls far away
    z = torch.zeros(50_000, 2)
    step = (space.conditional(z, generator=g(10)) - z).flatten()
    b = 1 / kappa  # Laplace(0, b): E|x| = b, Var x = 2b², symmetric
    assert float(step.abs().mean()) == pytest.approx(b, rel=0.02)
    assert float(step.var()) == pytest.approx(2 * b * b, rel=0.04)
    assert abs(float(step.mean())) < 5 * math.sqrt(2) * b / math.sqrt(len(step))
    assert stats.kstest(step.numpy(), stats.laplace(scale=b).cdf).pvalue > 1e-3


@pytest.mark.parametrize(
    "family, half_mean", [("laplace", 0.1), ("normal", math.sqrt(0.1 / math.pi))]
)
def test_box_positives_at_a_wall_are_the_inward_half_of_the_step(family, half_mean):
    # at z = low every coordinate that left the box is redrawn: the step is the inward half of
    # the untruncated one (Laplace: exponential with mean b = 1/κ; Normal: half-normal σ√(2/π))
    space = BoxSpace(n_latents=2, kappa=10.0, conditional_family=family, low=0.0, high=1.0)
    for wall, sign in ((0.0, 1.0), (1.0, -1.0)):
        z = torch.full((30_000, 2), wall)
        step = sign * (space.conditional(z, generator=g(11)) - z)
        assert float(step.min()) >= 0.0
        assert float(step.mean()) == pytest.approx(half_mean, rel=0.03)


def test_box_normal_step_has_variance_one_over_two_kappa():
    space = BoxSpace(n_latents=2, kappa=2.0, conditional_family="normal", low=-50.0, high=50.0)
    z = torch.zeros(50_000, 2)
    step = (space.conditional(z, generator=g(12)) - z).flatten()
    assert float(step.var()) == pytest.approx(1 / (2 * 2.0), rel=0.03)
    assert stats.kstest(step.numpy(), stats.norm(scale=0.5).cdf).pvalue > 1e-3


def test_box_declares_the_matching_similarity_and_scale():
    laplace = BoxSpace(kappa=4.0)
    normal = BoxSpace(kappa=4.0, conditional_family="normal")
    assert (laplace.similarity, normal.similarity) == ("l1", "l2")
    assert laplace.scale == pytest.approx(0.25)
    assert normal.scale == pytest.approx(1 / math.sqrt(8.0))


def test_box_marginal_fills_the_configured_box():
    z = BoxSpace(n_latents=3, low=2.0, high=5.0).marginal(30_000, generator=g(13))
    assert float(z.min()) >= 2.0 and float(z.max()) <= 5.0
    assert float(z.mean()) == pytest.approx(3.5, abs=0.02)
    assert float(z.var()) == pytest.approx(9 / 12, rel=0.02)


def test_box_truncation_gives_up_with_an_error_when_the_step_is_far_wider_than_the_box():
    space = BoxSpace(n_latents=1, kappa=1e-9)
    with pytest.raises(RuntimeError, match="increase kappa"):
        space.conditional(torch.zeros(2, 1), generator=g(14))


# -- gaussian -------------------------------------------------------------------------------------
def test_gaussian_space_steps_are_centred_normal_with_variance_one_over_two_kappa():
    space = GaussianSpace(n_latents=3, kappa=5.0)
    assert space.similarity == "l2"
    z = space.marginal(40_000, generator=g(15))
    step = (space.conditional(z, generator=g(16)) - z).flatten()
    assert float(step.var()) == pytest.approx(0.1, rel=0.03)
    assert abs(float(step.mean())) < 5 * math.sqrt(0.1 / len(step))
    assert float(z.mean()) == pytest.approx(0.0, abs=0.02)


# -- anisotropic sphere ---------------------------------------------------------------------------
def test_anisotropic_positives_move_each_latent_by_about_one_over_lambda():
    lambdas = (5.0, 10.0, 20.0, 40.0)
    space = AnisotropicSphereSpace(lambdas=lambdas)
    z = space.marginal(20_000, generator=g(17))
    z_pos = space.conditional(z, generator=g(18))
    assert torch.allclose(z_pos.norm(dim=1), torch.ones(len(z)), atol=1e-5)
    variance = (z_pos - z).var(0)
    assert (variance[:-1] > variance[1:]).all()  # larger Λ_k, smaller moves
    # the projection back onto the sphere shrinks each step a little, never inflates it
    scaled = variance * torch.tensor(lambdas)
    assert float(scaled.min()) > 0.45 and float(scaled.max()) < 1.1


def test_anisotropic_threshold_decides_which_steps_are_kept():
    # steps of std 100 almost never land within 1e-3 of the sphere, always within 1e6 of it
    wide = (1e-4, 1e-4)
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    out = AnisotropicSphereSpace(lambdas=wide, threshold=1e6).conditional(z, generator=g(19))
    assert torch.allclose(out.norm(dim=1), torch.ones(2))
    with pytest.raises(RuntimeError, match="threshold"):
        AnisotropicSphereSpace(lambdas=wide, threshold=1e-3).conditional(z, generator=g(19))


def test_anisotropic_space_reads_its_lambdas():
    space = AnisotropicSphereSpace(lambdas=(2, 4, 9))
    assert space.lambdas == (2.0, 4.0, 9.0) and all(isinstance(v, float) for v in space.lambdas)
    assert space.n_latents == 3
    assert space.kappa == pytest.approx(5.0)
    preset = AnisotropicSphereSpace.preset("bimodal", n_latents=4, threshold=0.2)
    assert preset.lambdas == (25.0, 25.0, 5.0, 5.0) and preset.threshold == 0.2
    AnisotropicSphereSpace(lambdas=(1.0, 1.0), candidates=1)  # the smallest valid settings


def test_lambda_presets():
    assert anisotropic_lambdas("linspace", 5) == pytest.approx((5.0, 10.0, 15.0, 20.0, 25.0))
    assert anisotropic_lambdas("bimodal", 5) == (25.0, 25.0, 5.0, 5.0, 5.0)
    assert anisotropic_lambdas("linspace", 3, low=1.0, high=3.0) == pytest.approx((1.0, 2.0, 3.0))
    assert anisotropic_lambdas("bimodal", 2, low=7.0, high=7.0) == (7.0, 7.0)  # low == high ok
    for low, high in ((0.0, 1.0), (2.0, 1.0)):
        with pytest.raises(ValueError, match="low <= high"):
            anisotropic_lambdas("linspace", 3, low=low, high=high)
    with pytest.raises(ValueError, match="preset"):
        anisotropic_lambdas("uniform", 3)


# -- validation at the exact boundaries -----------------------------------------------------------
@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SphereSpace(n_latents=1), "n_latents"),
        (lambda: SphereSpace(n_latents=2.0), "n_latents"),
        (lambda: SphereSpace(kappa=0.0), "kappa"),
        (lambda: SphereSpace(kappa=math.inf), "kappa"),
        (lambda: SphereSpace(kappa="10"), "kappa"),
        (lambda: BoxSpace(n_latents=0), "n_latents"),
        (lambda: BoxSpace(low=1.0, high=1.0), "low < high"),
        (lambda: GaussianSpace(kappa=-2.0), "kappa"),
        (lambda: AnisotropicSphereSpace(lambdas=(1.0,)), "at least 2"),
        (lambda: AnisotropicSphereSpace(lambdas=(1.0, 0.0)), "lambda"),
        (lambda: AnisotropicSphereSpace(lambdas=(1.0, math.nan)), "lambda"),
        (lambda: AnisotropicSphereSpace(lambdas=(1.0, "2")), "lambda"),
        (lambda: AnisotropicSphereSpace(threshold=0.0), "threshold"),
        (lambda: AnisotropicSphereSpace(candidates=0), "candidates"),
        (lambda: AnisotropicSphereSpace(candidates=2.0), "candidates"),
    ],
)
def test_bad_parameters_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_smallest_valid_parameters_are_accepted():
    SphereSpace(n_latents=2, kappa=1)  # an int κ is fine
    BoxSpace(n_latents=1, kappa=1e-6)
    GaussianSpace(n_latents=1)
    for space in (SphereSpace(n_latents=2), BoxSpace(n_latents=1), GaussianSpace(n_latents=1)):
        assert space.marginal(1, generator=g()).shape == (1, space.n_latents)
    for bad in (0, -3, 2.0):
        with pytest.raises(ValueError, match="positive int"):
            GaussianSpace().marginal(bad, generator=g())


@pytest.mark.parametrize(
    "space",
    [
        SphereSpace(n_latents=4, kappa=5.0),
        BoxSpace(n_latents=3),
        BoxSpace(n_latents=3, conditional_family="normal"),
        GaussianSpace(n_latents=3),
        AnisotropicSphereSpace.preset("linspace", 4),
    ],
    ids=["sphere", "box-laplace", "box-normal", "gaussian", "anisotropic"],
)
@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_positives_keep_the_dtype_of_the_anchors(space, dtype):
    z = space.marginal(300, generator=g(20)).to(dtype)
    z_pos = space.conditional(z, generator=g(21))
    assert z_pos.dtype == dtype and z_pos.shape == z.shape
    assert bool(torch.isfinite(z_pos).all())


def test_lambda_presets_are_exact_in_double_precision():
    np.testing.assert_allclose(
        anisotropic_lambdas("linspace", 10), np.linspace(5.0, 25.0, 10), rtol=1e-14
    )


def test_the_default_anisotropic_space_is_the_linspace_preset_with_ten_latents():
    assert AnisotropicSphereSpace.preset("linspace") == AnisotropicSphereSpace()
    assert AnisotropicSphereSpace().n_latents == 10
