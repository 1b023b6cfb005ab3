"""OLS, DoubleML and second-order orthogonal ML baselines behind the same interface."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression

from identifiable.causal import (
    DoubleMLTreatmentEffect,
    OLSTreatmentEffect,
    SecondOrderOrthogonal,
)
from identifiable.worlds.base import seeded_generator
from identifiable.worlds.plr import PLRWorld


def _sample(seed, n=2000, world=None):
    world = world or PLRWorld(n_covariates=5, n_treatments=2)
    return world.with_seed(seed).sample(n, generator=seeded_generator(seed))


def test_ols_matches_least_squares_and_recovers_theta():
    s = _sample(0, n=4000)
    model = OLSTreatmentEffect().fit(s.X, s.T, s.Y)
    reference = LinearRegression().fit(np.column_stack([s.T, s.X]), s.Y)
    np.testing.assert_allclose(model.coef_, reference.coef_[:2], rtol=1e-8)
    np.testing.assert_allclose(model.coef_, s.theta, atol=0.06)
    assert np.all(model.stderr_ > 0) and np.all(model.stderr_ < 0.05)


def test_double_ml_agrees_with_ols_on_a_linear_model():
    """Linear nuisances, Laplace (Gaussian-free) sources: both are consistent, so they agree."""
    for seed in range(3):
        s = _sample(seed)
        ols = OLSTreatmentEffect().fit(s.X, s.T, s.Y)
        dml = DoubleMLTreatmentEffect(random_state=seed).fit(s.X, s.T, s.Y)
        np.testing.assert_allclose(dml.coef_, ols.coef_, atol=0.02)
        np.testing.assert_allclose(dml.stderr_, ols.stderr_, rtol=0.25)
        np.testing.assert_allclose(dml.coef_, s.theta, atol=0.08)


def test_double_ml_is_deterministic_given_random_state():
    s = _sample(1, n=600)
    a = DoubleMLTreatmentEffect(random_state=3).fit(s.X, s.T, s.Y).coef_
    b = DoubleMLTreatmentEffect(random_state=3).fit(s.X, s.T, s.Y).coef_
    np.testing.assert_array_equal(a, b)


def test_second_order_orthogonal_recovers_theta_in_the_demand_design():
    errors = []
    for seed in range(4):
        world = PLRWorld.mackey2018(support_size=3, n_covariates=10)
        s = _sample(seed, n=3000, world=world)
        model = SecondOrderOrthogonal(random_state=seed).fit(s.X, s.T, s.Y)
        errors.append(abs(model.coef_[0] - 1.0))
        assert model.converged_ and model.excess_kurtosis_[0] > 1.0
    assert max(errors) < 0.08, errors


def test_second_order_orthogonal_is_uninformative_with_gaussian_treatment_noise():
    spreads = []
    for noise in ("discrete", "gaussian"):
        world = PLRWorld.mackey2018(support_size=3, n_covariates=10, treatment_noise=noise)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimates = [
                SecondOrderOrthogonal(random_state=seed)
                .fit(*(lambda s: (s.X, s.T, s.Y))(_sample(seed, n=3000, world=world)))
                .coef_[0]
                for seed in range(6)
            ]
        spreads.append(np.std(estimates))
    assert spreads[1] > 3 * spreads[0], spreads


@pytest.mark.parametrize(
    "estimator",
    [OLSTreatmentEffect(), DoubleMLTreatmentEffect(), SecondOrderOrthogonal()],
    ids=["ols", "dml", "homl"],
)
def test_bad_input_raises_one_line_value_error(estimator):
    s = _sample(0, n=100)
    with pytest.raises(ValueError, match="same number of samples"):
        estimator.fit(s.X, s.T[:-1], s.Y)
    with pytest.raises(ValueError, match="NaN"):
        estimator.fit(np.where(s.X > 1, np.nan, s.X), s.T, s.Y)
    with pytest.raises(ValueError, match="more samples than parameters"):
        estimator.fit(s.X[:7], s.T[:7], s.Y[:7])
    with pytest.raises(ValueError, match="at least one treatment"):
        estimator.fit(s.X, s.T[:, :0], s.Y)


def test_bad_learner_and_folds():
    s = _sample(0, n=200)
    with pytest.raises(ValueError, match="learner must be one of"):
        DoubleMLTreatmentEffect(learner="svm").fit(s.X, s.T, s.Y)
    with pytest.raises(ValueError, match="n_folds must be >= 2"):
        SecondOrderOrthogonal(n_folds=1).fit(s.X, s.T, s.Y)
