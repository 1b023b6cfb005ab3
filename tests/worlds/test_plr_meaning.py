"""What a partially linear regression world *means*: each configured parameter shows up in the
structure and the samples with its closed form, and validation refuses exactly the invalid values.

* the model T = σ(X)Aᵀ + η, Y = θᵀT + σ(X)b + ε with σ the textbook activation it names, and, for
  σ = identity, the observations are the sources times the lower block-triangular mixing M;
* the structure (A, b, θ, support) is a fixed function of ``seed``: the Bernoulli(density) mask
  on A, the coefficient laws N(0, 1) and U(−5, 5), the shared sparse support of size s, and θ
  from ``theta`` / ``theta_choice`` ("fixed" is the paper's, "uniform" U[0, 1), "gaussian"
  N(0, 1)), always float64;
* every draw comes from the ``torch.Generator`` handed to ``sample`` (X, then η, then ε), never
  from torch's global generator, and is float64 for every noise family;
* the Mackey et al. (2018) preset is the documented demand design;
* the validation limits: scales > 0, 0 ≤ s ≤ d, 0 < density ≤ 1, fixed θ for k ≤ 5, n ≥ 1.

Statistical checks compare a sample moment with its closed form, within 5 standard errors at the
stated number of draws (fixed seeds, so every test is deterministic). The standard error of a
sample variance at n draws is √((μ₄ − σ⁴)/n): √(2/n) for N(0, 1), √((125 − 625/9)/n) for
U(−5, 5) (μ₄ = 5⁴/5), √((9/5 − 1)/n) for U[−√3, √3].

These tests are part of the oracle of mutation testing for ``worlds/plr.py`` (docs/testing.md).
"""

import math

import numpy as np
import pytest
import torch

from identifiable.worlds.plr import PAPER_THETA, PLRWorld, sample_noise

FAMILIES = ("gennorm", "gaussian", "uniform", "discrete")


def g(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def assert_moments(values, mean, variance, fourth_central, n_se=5.0):
    """Sample mean and variance within n_se standard errors of the closed forms."""
    n = values.size
    assert abs(values.mean() - mean) < n_se * math.sqrt(variance / n)
    assert abs(values.var() - variance) < n_se * math.sqrt((fourth_central - variance**2) / n)


GAUSSIAN = dict(mean=0.0, variance=1.0, fourth_central=3.0)
UNIFORM_5 = dict(mean=0.0, variance=25 / 3, fourth_central=125.0)


# -- the model equations --------------------------------------------------------------------------

REFERENCE_ACTIVATIONS = {
    "identity": lambda x: x,
    "leaky_relu": lambda x: np.where(x < 0, 0.3 * x, x),  # the configured slope 0.3
    "relu": lambda x: x * (x > 0),
    "tanh": lambda x: np.sinh(x) / np.cosh(x),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
}


@pytest.mark.parametrize("name", sorted(REFERENCE_ACTIVATIONS))
def test_treatment_and_outcome_follow_the_model_with_the_named_activation(name):
    world = PLRWorld(n_covariates=4, n_treatments=2, nonlinearity=name, slope=0.3)
    sample = world.sample(500, generator=g(0))
    a, b = world.structure.treatment_coef, world.structure.outcome_coef
    features = REFERENCE_ACTIVATIONS[name](sample.X)
    np.testing.assert_allclose(sample.T - sample.treatment_noise, features @ a.T, atol=1e-12)
    nuisance = sample.Y - sample.T @ sample.theta - sample.outcome_noise
    np.testing.assert_allclose(nuisance, features @ b, atol=1e-12)


def test_leaky_relu_with_slope_one_is_linear_and_with_slope_zero_is_relu():
    def draw(**kwargs):
        return PLRWorld(n_covariates=3, **kwargs).sample(300, generator=g(1))

    identity, relu = draw(), draw(nonlinearity="relu")
    for leaky, same in (
        (draw(nonlinearity="leaky_relu", slope=1.0), identity),
        (draw(nonlinearity="leaky_relu", slope=0.0), relu),
    ):
        np.testing.assert_allclose(leaky.x, same.x, atol=1e-12)
    assert not np.allclose(identity.x, relu.x)  # relu does change the data


def test_linear_world_is_the_sources_times_the_block_triangular_mixing():
    """For σ = identity, O = M S with M = [[I, 0, 0], [A, I, 0], [θᵀA + bᵀ, θᵀ, 1]]."""
    d, k = 4, 3
    world = PLRWorld(n_covariates=d, n_treatments=k)
    a, b, theta = (
        world.structure.treatment_coef,
        world.structure.outcome_coef,
        world.structure.theta,
    )
    m = np.zeros((d + k + 1, d + k + 1))
    m[:d, :d] = np.eye(d)
    m[d : d + k, :d], m[d : d + k, d : d + k] = a, np.eye(k)
    m[-1, :d], m[-1, d : d + k], m[-1, -1] = theta @ a + b, theta, 1.0
    sample = world.sample(200, generator=g(2))
    np.testing.assert_allclose(sample.x, sample.z @ m.T, atol=1e-12)


# -- the structure: a fixed function of the seed --------------------------------------------------


def test_structure_is_a_fixed_function_of_the_seed():
    first, again = PLRWorld(seed=5).structure, PLRWorld(seed=5).structure  # two instances
    via_with_seed = PLRWorld(seed=1).with_seed(5).structure
    for other in (again, via_with_seed):
        np.testing.assert_array_equal(first.treatment_coef, other.treatment_coef)
        np.testing.assert_array_equal(first.outcome_coef, other.outcome_coef)
        np.testing.assert_array_equal(first.support, other.support)


@pytest.mark.parametrize("density", [0.1, 0.4, 1.0])
def test_dense_design_masks_a_with_the_configured_density(density):
    """support_size = 0: each of the k·d = 2000 entries of A is nonzero w.p. ``density`` (within
    5 binomial standard errors); b is dense; every covariate is in the support."""
    d, k = 500, 4
    structure = PLRWorld(n_covariates=d, n_treatments=k, treatment_density=density).structure
    a, b = structure.treatment_coef, structure.outcome_coef
    assert a.shape == (k, d) and b.shape == (d,)
    fraction = np.mean(a != 0)
    assert abs(fraction - density) <= 5 * math.sqrt(density * (1 - density) / a.size)
    assert np.all(b != 0)
    np.testing.assert_array_equal(structure.support, np.arange(d))


@pytest.mark.parametrize(("distribution", "law"), [("gaussian", GAUSSIAN), ("uniform", UNIFORM_5)])
@pytest.mark.parametrize("design", ["dense", "sparse"])
def test_coefficients_have_the_configured_law(design, distribution, law):
    """The nonzero entries of A and b together (3000 of them) are N(0, 1) or U(−5, 5)."""
    if design == "dense":
        kwargs = dict(n_covariates=1000, n_treatments=2, treatment_density=1.0)
    else:
        kwargs = dict(n_covariates=2000, support_size=1500)
    structure = PLRWorld(coefficient_distribution=distribution, **kwargs).structure
    a, b = structure.treatment_coef, structure.outcome_coef
    coefficients = np.concatenate([a[a != 0], b[b != 0]])
    assert coefficients.size == 3000 and np.all(np.isfinite(coefficients))
    assert_moments(coefficients, **law)
    if distribution == "uniform":  # the whole range (−5, 5): P(min > −4.9) = 0.99³⁰⁰⁰ ≈ e⁻³⁰
        assert -5.0 <= coefficients.min() < -4.9 and 4.9 < coefficients.max() <= 5.0
    else:  # N(0, 1): P(|c| > 5) ≈ 6·10⁻⁷ per draw
        assert np.abs(coefficients).max() < 5.0


@pytest.mark.parametrize("support_size", [1, 4, 20])
@pytest.mark.parametrize("seed", range(5))
def test_sparse_design_shares_s_distinct_covariates(support_size, seed):
    """support_size = s > 0: T and Y depend on the same s distinct covariates, and only on them."""
    d = 20
    world = PLRWorld(n_covariates=d, n_treatments=2, support_size=support_size, seed=seed)
    structure = world.structure
    support = structure.support
    assert len(support) == support_size and np.all(np.diff(support) > 0)  # sorted, distinct
    assert 0 <= support.min() and support.max() < d
    on = np.isin(np.arange(d), support)
    a, b = structure.treatment_coef, structure.outcome_coef
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(b))
    assert np.array_equal(b != 0, on)
    for row in a:
        assert np.array_equal(row != 0, on)
    # s continuous coefficients per row are distinct, not one value broadcast
    assert len(np.unique(b[support])) == support_size
    assert len(np.unique(a[:, support])) == a.shape[0] * support_size
    if support_size == d:
        np.testing.assert_array_equal(support, np.arange(d))


def test_given_theta_is_used_as_float64():
    world = PLRWorld(n_covariates=2, n_treatments=2, theta=(1, -2))  # ints, as a user may write
    assert world.structure.theta.dtype == np.float64
    np.testing.assert_array_equal(world.structure.theta, [1.0, -2.0])
    sample = world.sample(10, generator=g(0))
    assert sample.theta.dtype == np.float64
    np.testing.assert_array_equal(sample.theta, [1.0, -2.0])


def test_fixed_theta_is_the_paper_theta_up_to_five_treatments():
    for k in (1, 5):
        theta = PLRWorld(n_covariates=2, n_treatments=k).structure.theta
        assert theta.dtype == np.float64
        np.testing.assert_array_equal(theta, PAPER_THETA[:k])
    with pytest.raises(ValueError, match="give theta"):
        PLRWorld(n_treatments=6)


def test_theta_choice_uniform_draws_from_the_unit_interval():
    """U[0, 1): mean ½, variance 1/12, μ₄ = 1/80, at k = 400 treatments."""
    k = 400
    theta = PLRWorld(n_covariates=1, n_treatments=k, theta_choice="uniform").structure.theta
    assert theta.shape == (k,) and theta.dtype == np.float64
    assert np.all((theta >= 0) & (theta < 1))
    assert_moments(theta, mean=0.5, variance=1 / 12, fourth_central=1 / 80)


def test_theta_choice_gaussian_draws_standard_normals():
    k = 400
    theta = PLRWorld(n_covariates=1, n_treatments=k, theta_choice="gaussian").structure.theta
    assert theta.shape == (k,) and theta.dtype == np.float64
    assert theta.min() < 0 < theta.max()
    assert_moments(theta, **GAUSSIAN)


# -- sampling: the generator and the dtype --------------------------------------------------------


def one_family(family: str, **kwargs) -> PLRWorld:
    return PLRWorld(
        n_covariates=3,
        n_treatments=2,
        covariate_distribution=family,
        treatment_noise=family,
        outcome_noise=family,
        **kwargs,
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_every_draw_comes_from_the_given_generator(family):
    world = one_family(family)
    with torch.random.fork_rng():
        torch.manual_seed(1)
        first = world.sample(100, generator=g(0))
        torch.manual_seed(2)  # torch's global generator must not matter
        again = world.sample(100, generator=g(0))
    np.testing.assert_array_equal(first.z, again.z)
    np.testing.assert_array_equal(first.x, again.x)
    shared = g(0)
    one, two = world.sample(100, generator=shared), world.sample(100, generator=shared)
    np.testing.assert_array_equal(one.z, first.z)
    assert not np.array_equal(one.z, two.z)  # the generator's state moves on


@pytest.mark.parametrize("family", ["gennorm", "gaussian"])
def test_sources_are_drawn_in_order_covariates_treatment_noise_outcome_noise(family):
    world = one_family(family, covariate_beta=1.5, treatment_scale=2.0, outcome_scale=0.5)
    sample = world.sample(50, generator=g(3))
    reference = g(3)
    x = sample_noise(family, 1.5, 1.0, (50, 3), generator=reference)
    eta = sample_noise(family, 1.0, 2.0, (50, 2), generator=reference)
    eps = sample_noise(family, 1.0, 0.5, (50,), generator=reference)
    np.testing.assert_array_equal(sample.X, x)
    np.testing.assert_array_equal(sample.treatment_noise, eta)
    np.testing.assert_array_equal(sample.outcome_noise, eps)


@pytest.mark.parametrize("family", FAMILIES)
def test_samples_are_float64_for_every_family(family):
    sample = one_family(family).sample(20, generator=g(0))
    for array in (
        sample.X,
        sample.T,
        sample.Y,
        sample.treatment_noise,
        sample.outcome_noise,
        sample.theta,
        sample.x,
        sample.z,
    ):
        assert isinstance(array, np.ndarray) and array.dtype == np.float64
    assert sample_noise(family, 1.0, 1.0, (20,), generator=g(0)).dtype == np.float64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA generator")
@pytest.mark.parametrize("family", FAMILIES)
def test_a_cuda_generator_draws_on_its_device(family):
    world = one_family(family)
    first = world.sample(100, generator=torch.Generator("cuda").manual_seed(0))
    again = world.sample(100, generator=torch.Generator("cuda").manual_seed(0))
    assert isinstance(first.x, np.ndarray) and first.x.dtype == np.float64
    np.testing.assert_array_equal(first.x, again.x)


# -- the Mackey et al. (2018) preset --------------------------------------------------------------


def test_mackey2018_preset_is_the_documented_demand_design():
    world = PLRWorld.mackey2018()
    assert world == PLRWorld(
        n_covariates=50,
        n_treatments=1,
        theta=(1.0,),
        treatment_noise="discrete",
        outcome_noise="uniform",
        outcome_scale=math.sqrt(3.0),
        coefficient_distribution="uniform",
        support_size=5,
    )
    n = 20_000
    sample = world.sample(n, generator=g(0))
    assert sample.X.shape == (n, 50) and sample.T.shape == (n, 1)
    np.testing.assert_array_equal(sample.theta, [1.0])
    assert len(world.structure.support) == 5
    # ε ~ U[−√3, √3]: unit variance, and it fills the interval
    eps = sample.outcome_noise
    assert_moments(eps, mean=0.0, variance=1.0, fourth_central=9 / 5)
    assert np.abs(eps).max() <= math.sqrt(3.0) and np.abs(eps).max() > 0.999 * math.sqrt(3.0)


def test_mackey2018_coefficients_are_uniform_on_the_whole_support():
    """support_size = d = 50: 100 U(−5, 5) coefficients (variance 25/3, not N(0, 1)'s 1)."""
    structure = PLRWorld.mackey2018(support_size=50).structure
    np.testing.assert_array_equal(structure.support, np.arange(50))
    coefficients = np.concatenate([structure.treatment_coef.ravel(), structure.outcome_coef])
    assert np.all(np.abs(coefficients) <= 5.0) and np.all(coefficients != 0)
    assert_moments(coefficients, **UNIFORM_5)


def test_mackey2018_passes_overrides_through():
    world = PLRWorld.mackey2018(support_size=3, n_covariates=10, theta=(2.5,), seed=4)
    assert len(world.structure.support) == 3 and world.n_covariates == 10
    np.testing.assert_array_equal(world.structure.theta, [2.5])
    assert world.seed == 4 and world.coefficient_distribution == "uniform"


# -- validation at its exact limits ---------------------------------------------------------------


@pytest.mark.parametrize("role", ["covariate", "treatment", "outcome"])
def test_scales_and_shapes_must_be_positive(role):
    for parameter in ("scale", "beta"):
        with pytest.raises(ValueError, match=f"{role}_{parameter} must be > 0"):
            PLRWorld(**{f"{role}_{parameter}": 0.0})
        with pytest.raises(ValueError, match=f"{role}_{parameter} must be > 0"):
            PLRWorld(**{f"{role}_{parameter}": -1.0})
        PLRWorld(**{f"{role}_{parameter}": 1e-3})


def test_support_size_may_be_anything_from_zero_to_the_number_of_covariates():
    for s in (0, 1, 10):
        PLRWorld(n_covariates=10, support_size=s)
    for s in (-1, 11):
        with pytest.raises(ValueError, match="support_size must be in"):
            PLRWorld(n_covariates=10, support_size=s)


def test_treatment_density_is_in_the_half_open_unit_interval():
    structure = PLRWorld(n_covariates=30, n_treatments=3, treatment_density=1.0).structure
    assert np.all(structure.treatment_coef != 0)  # density 1: A is dense
    PLRWorld(treatment_density=1e-6)
    for bad in (0.0, -0.1, float(np.nextafter(1.0, 2.0)), 1.5, float("nan")):
        with pytest.raises(ValueError, match="treatment_density must be in"):
            PLRWorld(treatment_density=bad)


@pytest.mark.parametrize("choice", ["fixed", "uniform", "gaussian"])
def test_every_documented_theta_choice_is_accepted(choice):
    assert PLRWorld(n_covariates=2, theta_choice=choice).structure.theta.shape == (1,)


def test_theta_choice_outside_the_three_is_refused():
    with pytest.raises(ValueError, match="theta_choice must be"):
        PLRWorld(theta_choice="laplace")


def test_one_draw_is_allowed_and_n_may_be_a_numpy_int():
    assert PLRWorld(n_covariates=2).sample(1, generator=g(0)).x.shape == (1, 4)
    assert PLRWorld(n_covariates=2).sample(np.int64(3), generator=g(0)).x.shape == (3, 4)


@pytest.mark.parametrize("n", [0, -3, 1.5, True, False, "3", np.float64(3.0), None])
def test_sample_size_must_be_a_positive_int(n):
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        PLRWorld(n_covariates=2).sample(n, generator=g(0))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"covariate_scale": float("nan")},
        {"treatment_beta": float("inf")},
        {"outcome_scale": float("inf")},
        {"slope": float("nan")},
        {"slope": float("inf")},
        {"slope": float("-inf")},
    ],
)
def test_non_finite_settings_are_refused(kwargs):
    with pytest.raises(ValueError, match="finite"):
        PLRWorld(**kwargs)
