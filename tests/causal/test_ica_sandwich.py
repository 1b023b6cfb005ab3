"""The ICA estimator's analytic (sandwich) standard errors: the M-estimation pieces are right, and
the intervals mean what they say (they match the spread of θ̂ over replicates and the bootstrap)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from identifiable.causal import ICATreatmentEffect
from identifiable.causal._fastica import fit_fastica, whiten
from identifiable.causal._ica_sandwich import (
    estimating_functions,
    jacobian,
    sandwich,
    weakly_identified,
)
from identifiable.worlds.base import seeded_generator
from identifiable.worlds.plr import PLRWorld


def sample(seed, n, **world):
    world = {"n_covariates": 3, **world}
    return PLRWorld(**world).with_seed(seed).sample(n, generator=seeded_generator(seed))


@pytest.mark.parametrize("algorithm", ["parallel", "deflation"])
@pytest.mark.parametrize("fun", ["logcosh", "exp", "cube"])
def test_jacobian_is_the_derivative_of_the_mean_estimating_functions(fun, algorithm):
    rng = np.random.default_rng(0)
    r = rng.laplace(size=(400, 3)) @ rng.normal(size=(3, 3))
    mu, U = r.mean(axis=0) + 0.1, rng.normal(size=(3, 3))
    theta = np.concatenate([mu, U.ravel()])

    d = np.array([1.0, -1.0, 1.0])  # one sub-Gaussian sign: the weights of the mixed pairs

    def mean_psi(t):
        psi = estimating_functions(r, t[:3], t[3:].reshape(3, 3), fun, algorithm, d)
        return psi.mean(axis=0)

    numeric = np.column_stack(
        [(mean_psi(theta + e) - mean_psi(theta - e)) / 2e-6 for e in np.eye(theta.size) * 1e-6]
    )
    J = jacobian(r, mu, U, fun, algorithm, d)
    assert J.shape == (12, 12)
    np.testing.assert_allclose(J, numeric, atol=1e-6)


@pytest.mark.parametrize("algorithm", ["parallel", "deflation"])
def test_fastica_solutions_solve_the_estimating_equations(algorithm):
    # at a tightly converged FastICA solution every equation's sample mean is ~0; a random
    # rotation of it solves the decorrelation but not the contrast equations
    rng = np.random.default_rng(1)
    r = rng.laplace(size=(3000, 3)) @ rng.normal(size=(3, 3))
    white, K, _ = whiten(r)
    run = fit_fastica(white, seeds=[0], algorithm=algorithm, tol=1e-10, max_iter=5000)
    assert run.converged
    U = run.W @ K
    psi = estimating_functions(r, r.mean(axis=0), U, "logcosh", algorithm).mean(axis=0)
    assert np.abs(psi).max() < 1e-6
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    rotated = estimating_functions(r, r.mean(axis=0), Q @ U, "logcosh", algorithm).mean(axis=0)
    assert np.abs(rotated[:9]).max() < 1e-8 and np.abs(rotated[9:]).max() > 1e-3


def test_sandwich_standard_errors_match_the_spread_of_the_estimate_over_replicates():
    errors, stderrs = [], []
    world = PLRWorld(n_covariates=3)
    for seed in range(80):
        s = world.sample(2000, generator=seeded_generator(seed, 1))
        model = ICATreatmentEffect(random_state=seed).fit(s.X, s.T, s.Y)
        assert model.inference_ == "sandwich"
        errors.append(model.coef_[0] - s.theta[0])
        stderrs.append(model.stderr_[0])
    errors, stderrs = np.array(errors), np.array(stderrs)
    # FastICA rarely lands on a wrong solution (error ≈ 1, measured: 1 of 80); those are not
    # what a standard error describes — count them, then compare on the rest
    failed = np.abs(errors) > 10 * stderrs
    assert failed.sum() <= 3
    ratio = stderrs[~failed].mean() / errors[~failed].std(ddof=1)
    # the sd of ≥ 77 normal draws is within ±25 % of the truth with probability > 0.999
    assert 0.75 <= ratio <= 1.3, ratio
    assert np.mean(np.abs(errors[~failed]) <= 1.96 * stderrs[~failed]) >= 0.85
    # the standard error is not a constant: it is the one of this sample
    assert np.std(stderrs) > 0


def test_sandwich_agrees_with_the_bootstrap_and_scales_with_the_outcome():
    s = sample(2, 4000, n_treatments=2)
    analytic = ICATreatmentEffect(random_state=0).fit(s.X, s.T, s.Y)
    boot = ICATreatmentEffect(inference="bootstrap", n_bootstrap=200, random_state=0)
    boot.fit(s.X, s.T, s.Y)
    np.testing.assert_allclose(analytic.coef_, boot.coef_)
    np.testing.assert_allclose(analytic.stderr_, boot.stderr_, rtol=0.25)
    scaled = ICATreatmentEffect(random_state=0).fit(s.X, s.T, 3.0 * s.Y)
    np.testing.assert_allclose(scaled.stderr_, 3.0 * analytic.stderr_, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs", [{"covariates": "joint"}, {"covariates": "joint", "readout": "treatment_noise"}]
)
def test_joint_covariates_get_sandwich_errors_too(kwargs):
    s = sample(3, 4000, n_treatments=2)  # Laplace covariates: every source non-Gaussian
    analytic = ICATreatmentEffect(random_state=0, **kwargs).fit(s.X, s.T, s.Y)
    boot = ICATreatmentEffect(random_state=0, inference="bootstrap", **kwargs)
    boot.fit(s.X, s.T, s.Y)
    assert analytic.inference_ == "sandwich"
    np.testing.assert_allclose(analytic.stderr_, boot.stderr_, rtol=0.3)


def test_two_gaussian_sources_fall_back_to_the_bootstrap_with_a_warning():
    # Gaussian confounders in a joint ICA: their rotation is not identified, J is singular
    s = sample(0, 2000, covariate_beta=2.0)
    model = ICATreatmentEffect(covariates="joint", n_bootstrap=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match="falling back to 10 bootstrap replicates"):
            model.fit(s.X, s.T, s.Y)
    assert model.inference_ == "bootstrap" and model.bootstrap_coefs_.shape == (10, 1)


def test_sandwich_returns_none_for_a_singular_jacobian():
    rng = np.random.default_rng(0)
    r = rng.normal(size=(2000, 2))  # two Gaussian sources
    white, K, _ = whiten(r)
    run = fit_fastica(white, seeds=[0], max_iter=50)
    assert weakly_identified(r @ (run.W @ K).T, "logcosh")
    assert sandwich(r, run.W @ K, lambda U: U[0, :1]) is None
    laplace = np.random.default_rng(0).laplace(size=(2000, 2))
    assert not weakly_identified(laplace, "logcosh")
    assert not weakly_identified(laplace, "logcosh", "deflation")


def test_unknown_contrast_or_algorithm_is_refused():
    r = np.random.default_rng(0).laplace(size=(50, 2))
    with pytest.raises(ValueError, match="fun must be"):
        sandwich(r, np.eye(2), lambda U: U[0, :1], fun="tanh")
    with pytest.raises(ValueError, match="algorithm must be"):
        sandwich(r, np.eye(2), lambda U: U[0, :1], algorithm="symmetric")


def test_a_sub_gaussian_source_is_separated_with_its_sign():
    # uniform (sub-Gaussian) and Laplace (super-Gaussian) sources, κ of opposite signs: κ_η + κ_ε
    # nearly cancel, so an
    # unsigned symmetric equation would call the pair unidentified (or inflate its variance); with
    # the signs it is |κ_η| + |κ_ε| and the sandwich matches the spread over replicates
    errors, stderrs = [], []
    for seed in range(60):
        s = PLRWorld(n_covariates=3, treatment_noise="uniform").sample(
            2000, generator=seeded_generator(seed, 2)
        )
        model = ICATreatmentEffect(random_state=seed).fit(s.X, s.T, s.Y)
        assert model.inference_ == "sandwich"
        errors.append(model.coef_[0] - s.theta[0])
        stderrs.append(model.stderr_[0])
    ratio = np.mean(stderrs) / np.std(errors, ddof=1)
    assert 0.7 <= ratio <= 1.35, ratio
