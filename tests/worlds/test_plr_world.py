"""The partially linear regression world: formulas, determinism, presets, validation."""

import numpy as np
import pytest
import torch

from identifiable.worlds.plr import PAPER_THETA, PLRWorld


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_sample_satisfies_the_model_equations():
    world = PLRWorld(n_covariates=4, n_treatments=2, nonlinearity="leaky_relu", slope=0.3)
    sample = world.sample(200, generator=generator(0))
    structure = world.structure
    features = np.where(sample.X >= 0, sample.X, 0.3 * sample.X)
    assert sample.X.shape == (200, 4) and sample.T.shape == (200, 2) and sample.Y.shape == (200,)
    np.testing.assert_allclose(
        sample.T, features @ structure.treatment_coef.T + sample.treatment_noise
    )
    np.testing.assert_allclose(
        sample.Y,
        sample.T @ structure.theta + features @ structure.outcome_coef + sample.outcome_noise,
    )
    np.testing.assert_array_equal(sample.theta, PAPER_THETA[:2])
    assert sample.z.shape == sample.x.shape == (200, 7)
    np.testing.assert_array_equal(sample.x, np.column_stack([sample.X, sample.T, sample.Y]))
    assert sample.X.dtype == sample.T.dtype == sample.Y.dtype == np.float64


def test_same_generator_seed_gives_same_data_and_structure_is_fixed():
    world = PLRWorld(n_covariates=3)
    a = world.sample(50, generator=generator(7))
    b = world.sample(50, generator=generator(7))
    c = world.sample(50, generator=generator(8))
    np.testing.assert_array_equal(a.Y, b.Y)
    assert not np.allclose(a.Y, c.Y)
    assert world.structure is world.structure
    other = world.with_seed(1).structure
    assert not np.allclose(world.structure.outcome_coef, other.outcome_coef)


def test_gennorm_shape_controls_the_tails():
    rng = generator(0)
    laplace = PLRWorld(n_covariates=1, treatment_beta=1.0).sample(40_000, generator=rng)
    gauss = PLRWorld(n_covariates=1, treatment_beta=2.0).sample(40_000, generator=rng)
    laplace, gauss = laplace.treatment_noise, gauss.treatment_noise

    def excess_kurtosis(x):
        x = x - x.mean()
        return np.mean(x**4) / np.mean(x**2) ** 2 - 3

    assert abs(excess_kurtosis(laplace) - 3.0) < 0.5  # Laplace: 3
    assert abs(excess_kurtosis(gauss)) < 0.2  # Gaussian: 0


def test_mackey2018_preset_has_the_demand_design():
    world = PLRWorld.mackey2018(support_size=5)
    sample = world.sample(2000, generator=generator(0))
    support = world.structure.support
    assert len(support) == 5
    outside = np.setdiff1d(np.arange(50), support)
    assert np.all(world.structure.treatment_coef[:, outside] == 0)
    assert np.all(world.structure.outcome_coef[outside] == 0)
    assert set(np.round(np.unique(sample.treatment_noise), 6)) <= set(
        np.round(np.array([0, -0.5, -2, -4]) + 0.5, 6)  # minus the mean −0.5
    )
    assert np.abs(sample.outcome_noise).max() <= np.sqrt(3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_treatments": 0}, "n_treatments must be >= 1"),
        ({"n_covariates": 0}, "n_covariates must be >= 1"),
        ({"n_treatments": 6}, "give theta"),
        ({"theta": (1.0, 2.0)}, "theta must have"),
        ({"treatment_noise": "cauchy"}, "distribution must be one of"),
        ({"outcome_beta": 0.0}, "outcome_beta must be > 0"),
        ({"nonlinearity": "swish"}, "nonlinearity must be one of"),
        ({"support_size": 11}, "support_size must be in"),
        ({"treatment_density": 0.0}, "treatment_density must be in"),
    ],
)
def test_bad_parameters_raise_one_line_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PLRWorld(**kwargs)


def test_sample_rejects_a_legacy_seed_or_numpy_generator():
    with pytest.raises(TypeError):
        PLRWorld().sample(10, 0)  # the generator is keyword-only
    for bad in (0, np.random.default_rng(0)):
        with pytest.raises(ValueError, match="torch.Generator"):
            PLRWorld().sample(10, generator=bad)
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        PLRWorld().sample(0, generator=generator(0))


@pytest.mark.parametrize(
    ("family", "beta", "variance"),
    [
        ("gennorm", 1.0, 2.0),
        ("gennorm", 2.0, 0.5),
        ("gaussian", 1.0, 1.0),
        ("uniform", 1.0, 1 / 3),
        ("discrete", 1.0, 1.0),
    ],
)
def test_noise_families_have_their_variance(family, beta, variance):
    """gennorm(β, scale 1) has variance Γ(3/β)/Γ(1/β): 2 (Laplace), ½ (β = 2)."""
    world = PLRWorld(n_covariates=1, treatment_noise=family, treatment_beta=beta)
    eta = world.sample(100_000, generator=generator(0)).treatment_noise
    assert abs(eta.mean()) < 0.02
    assert eta.var() == pytest.approx(variance, rel=0.03)
