"""What the treatment-effect estimators *mean*: each recovers a known θ within a stated tolerance
at a stated n, its standard errors are the documented formula (so its 95 % intervals cover θ about
95 % of the time), and each parameter is wired to what its docstring says.

The data are drawn here with numpy, so θ, the noise and the nuisance functions are explicit:

    X ~ N(0, I_d),  T = X a + η,  Y = θ T + X b + ε        (η Laplace, ε Laplace or heteroscedastic)

The oracle of mutation testing for ``causal/`` (docs/testing.md).
"""

import warnings

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LassoCV, LinearRegression
from sklearn.model_selection import KFold

from identifiable.causal import DoubleMLTreatmentEffect, OLSTreatmentEffect, SecondOrderOrthogonal
from identifiable.causal._learners import make_learner


def plr(n, theta=(1.5,), d=3, seed=0, heteroscedastic=False, treatment_noise="laplace"):
    r = np.random.default_rng(seed)
    theta = np.asarray(theta, dtype=float)
    X = r.normal(size=(n, d))
    a = r.uniform(-1, 1, size=(d, len(theta)))
    b = r.uniform(-1, 1, size=d)
    if treatment_noise == "laplace":
        eta = r.laplace(size=(n, len(theta)))
    else:
        eta = r.normal(size=(n, len(theta)))
    T = X @ a + eta
    eps = r.laplace(size=n) * (0.2 + np.abs(T[:, 0]) if heteroscedastic else 1.0)
    Y = T @ theta + X @ b + eps
    return X, T, Y, theta, b


# -- OLS ------------------------------------------------------------------------------------------
def test_ols_recovers_theta_covariates_and_intercept():
    X, T, Y, theta, b = plr(5000, theta=(1.5, -0.7), seed=1)
    model = OLSTreatmentEffect().fit(X, T, Y + 3.0)
    # tolerance: 5 standard errors at n = 5000
    assert np.all(np.abs(model.coef_ - theta) < 5 * model.stderr_)
    np.testing.assert_allclose(model.covariate_coef_, b, atol=0.1)
    assert model.intercept_ == pytest.approx(3.0, abs=0.1)
    assert model.converged_ is True


def test_ols_standard_errors_are_the_hc1_sandwich():
    # V = n/(n − q) (ZᵀZ)⁻¹ (Σ e_i² z_i z_iᵀ) (ZᵀZ)⁻¹ with Z = [T, X, 1], summed row by row
    X, T, Y, _, _ = plr(60, theta=(1.0, 2.0), d=2, seed=2, heteroscedastic=True)
    model = OLSTreatmentEffect().fit(X, T, Y)
    Z = np.column_stack([T, X, np.ones(60)])
    beta = np.linalg.solve(Z.T @ Z, Z.T @ Y)
    meat = np.zeros((Z.shape[1], Z.shape[1]))
    for i in range(60):
        e = Y[i] - Z[i] @ beta
        meat += e * e * np.outer(Z[i], Z[i])
    bread = np.linalg.inv(Z.T @ Z)
    covariance = bread @ meat @ bread * 60 / (60 - Z.shape[1])
    np.testing.assert_allclose(model.coef_, beta[:2], rtol=1e-9)
    np.testing.assert_allclose(model.stderr_, np.sqrt(np.diag(covariance))[:2], rtol=1e-9)


def test_ols_intervals_cover_theta_at_their_level_under_heteroscedastic_noise():
    # robust (HC1) 95 % intervals cover θ in ≈ 95 % of 300 worlds at n = 1000 (binomial sd of
    # the rate ≈ 1.3 %); a non-robust or mis-scaled standard error misses this band
    hits = 0
    for seed in range(300):
        X, T, Y, theta, _ = plr(1000, seed=seed, heteroscedastic=True)
        low, high = OLSTreatmentEffect().fit(X, T, Y).confint()[0]
        hits += low <= theta[0] <= high
    assert 0.92 <= hits / 300 <= 0.98


# -- confint / summary (shared by every estimator) ------------------------------------------------
def test_confint_is_estimate_plus_minus_the_normal_quantile_at_the_level():
    X, T, Y, _, _ = plr(200, theta=(1.0, -1.0), seed=3)
    model = OLSTreatmentEffect(confidence_level=0.8).fit(X, T, Y)
    for level in (None, 0.5, 0.99):
        z = norm.ppf(0.5 + (0.8 if level is None else level) / 2)
        expected = np.column_stack(
            [model.coef_ - z * model.stderr_, model.coef_ + z * model.stderr_]
        )
        np.testing.assert_allclose(model.confint(level), expected, rtol=1e-12)


def test_summary_has_one_row_per_treatment_with_the_interval():
    X, T, Y, _, _ = plr(200, theta=(1.0, -1.0), seed=4)
    model = OLSTreatmentEffect().fit(X, T, Y)
    table = model.summary()
    assert list(table.index) == ["T0", "T1"] and table.index.name == "treatment"
    np.testing.assert_allclose(table["estimate"], model.coef_)
    np.testing.assert_allclose(table["std_error"], model.stderr_)
    np.testing.assert_allclose(table[["ci_lower", "ci_upper"]].to_numpy(), model.confint())
    assert table["converged"].tolist() == [True, True]


def test_summary_without_standard_errors_is_nan_and_confint_refuses():
    X, T, Y, _, _ = plr(200, seed=5)
    model = OLSTreatmentEffect().fit(X, T, Y)
    model.stderr_ = None  # as an estimator asked not to compute them leaves it
    table = model.summary()
    assert table[["std_error", "ci_lower", "ci_upper"]].isna().all().all()
    assert all(table[c].dtype == float for c in ("std_error", "ci_lower", "ci_upper"))
    assert table["estimate"].tolist() == pytest.approx(list(model.coef_))
    with pytest.raises(ValueError, match="no standard errors"):
        model.confint()


def test_summary_counts_an_estimator_without_a_convergence_flag_as_converged():
    X, T, Y, _, _ = plr(100, seed=15)
    model = OLSTreatmentEffect().fit(X, T, Y)
    del model.converged_  # e.g. a user's estimator that never sets it
    assert model.summary()["converged"].tolist() == [True]


def test_unfitted_estimators_say_so():
    for method in ("confint", "summary"):
        with pytest.raises(ValueError, match="OLSTreatmentEffect is not fitted"):
            getattr(OLSTreatmentEffect(), method)()


@pytest.mark.parametrize("level", [0.0, 1.0])
def test_confidence_level_must_be_strictly_between_0_and_1(level):
    X, T, Y, _, _ = plr(100, seed=6)
    for estimator in (OLSTreatmentEffect, SecondOrderOrthogonal, DoubleMLTreatmentEffect):
        with pytest.raises(ValueError, match="confidence_level"):
            estimator(confidence_level=level).fit(X, T, Y)


# -- second-order orthogonal ML --------------------------------------------------------------------
def homl_reference(X, T, Y, n_folds, seed, learner=LinearRegression):
    """Mackey et al. (2018) written from the module docstring, with the moments of the official
    code (``main_estimation.py``): σ̂² = mean(e²), μ̂₃ = mean(e³) − 3 mean(e) mean(e²)."""
    n, k = T.shape
    t_res, y_res, q = np.empty_like(T), np.empty_like(Y), np.empty_like(T)
    for train, test in KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(X):
        y_res[test] = Y[test] - learner().fit(X[train], Y[train]).predict(X[test])
        for j in range(k):
            m = learner().fit(X[train], T[train, j])
            e = T[train, j] - m.predict(X[train])  # training-fold residuals: the cumulants
            second = np.mean(e**2)
            third = np.mean(e**3) - 3 * np.mean(e) * second
            t_res[test, j] = T[test, j] - m.predict(X[test])
            q[test, j] = t_res[test, j] ** 3 - 3 * second * t_res[test, j] - third
    jac = np.array([[np.mean(q[:, j] * t_res[:, i]) for i in range(k)] for j in range(k)])
    theta = np.linalg.solve(jac, [np.mean(q[:, j] * y_res) for j in range(k)])
    psi = q * (y_res - t_res @ theta)[:, None]
    inv = np.linalg.inv(jac)
    cov = inv @ (psi.T @ psi / n) @ inv.T / n
    kurtosis = np.mean(t_res**4, axis=0) / t_res.var(axis=0) ** 2 - 3
    return theta, np.sqrt(np.diag(cov)), kurtosis


@pytest.mark.parametrize(
    "n_folds, k, learner",
    [
        (2, 1, LinearRegression),
        (3, 2, LinearRegression),
        # a biased nuisance: training residuals with mean ≠ 0 exercise every term of μ̂₃
        (2, 2, lambda: _Mean(shift=0.4)),
    ],
)
def test_second_order_orthogonal_matches_its_reference(n_folds, k, learner):
    X, T, Y, _, _ = plr(400, theta=(1.5, -0.5)[:k], seed=7)
    model = SecondOrderOrthogonal(learner=learner(), n_folds=n_folds, random_state=4)
    model.fit(X, T, Y)
    theta, stderr, kurtosis = homl_reference(X, T, Y, n_folds, 4, learner)
    np.testing.assert_allclose(model.coef_, theta, rtol=1e-8)
    np.testing.assert_allclose(model.stderr_, stderr, rtol=1e-8)
    np.testing.assert_allclose(model.excess_kurtosis_, kurtosis, rtol=1e-8)
    assert model.converged_


def test_second_order_orthogonal_uses_two_folds_by_default_as_the_paper():
    X, T, Y, _, _ = plr(300, seed=13)
    default = SecondOrderOrthogonal(random_state=3).fit(X, T, Y)
    assert default.coef_ == pytest.approx(
        SecondOrderOrthogonal(n_folds=2, random_state=3).fit(X, T, Y).coef_, rel=0, abs=0
    )


def test_second_order_orthogonal_seeds_its_nuisance_learners():
    X, T, Y, _, _ = plr(150, seed=14)
    fit = lambda: SecondOrderOrthogonal(learner="random_forest", random_state=5).fit(X, T, Y)  # noqa: E731
    assert fit().coef_ == pytest.approx(fit().coef_, rel=0, abs=0)


def test_second_order_orthogonal_recovers_theta_with_laplace_treatment_noise():
    # Laplace η has excess kurtosis 3; |θ̂ − θ| < 5 se at n = 4000
    X, T, Y, theta, _ = plr(4000, seed=8)
    model = SecondOrderOrthogonal(random_state=0).fit(X, T, Y)
    assert abs(model.coef_[0] - theta[0]) < 5 * model.stderr_[0]
    assert model.stderr_[0] < 0.1
    assert model.excess_kurtosis_[0] == pytest.approx(3.0, abs=0.6)


def test_second_order_orthogonal_warns_when_the_moment_matrix_is_singular():
    # two copies of one treatment: the two cubic moments coincide, J has rank 1
    X, T, Y, _, _ = plr(200, seed=9)
    twice = np.column_stack([T[:, 0], T[:, 0]])
    with pytest.warns(ConvergenceWarning, match="singular"):
        model = SecondOrderOrthogonal(learner=LinearRegression(), random_state=0).fit(X, twice, Y)
    assert model.converged_ is False and np.all(np.isfinite(model.coef_))
    # the minimum-norm least-squares solution splits the effect equally between the copies
    single = SecondOrderOrthogonal(learner=LinearRegression(), random_state=0).fit(X, T, Y)
    assert model.coef_ == pytest.approx([single.coef_[0] / 2] * 2, rel=1e-6)
    assert model.summary()["converged"].tolist() == [False, False]


def test_second_order_orthogonal_folds_follow_random_state():
    X, T, Y, _, _ = plr(300, seed=10)
    fit = lambda seed: SecondOrderOrthogonal(random_state=seed).fit(X, T, Y).coef_  # noqa: E731
    assert fit(1) == pytest.approx(fit(1), rel=0, abs=0)
    assert fit(1)[0] != fit(2)[0]


# -- double ML ------------------------------------------------------------------------------------
def test_double_ml_recovers_theta_with_several_treatments():
    X, T, Y, theta, _ = plr(3000, theta=(1.5, -0.7), seed=11)
    model = DoubleMLTreatmentEffect(random_state=0).fit(X, T, Y)
    assert np.all(np.abs(model.coef_ - theta) < 5 * model.stderr_)
    assert model.model_.n_folds == 5 and model.converged_


def test_double_ml_uses_the_given_folds_and_learner():
    X, T, Y, _, _ = plr(300, seed=12)
    model = DoubleMLTreatmentEffect(learner=LinearRegression(), n_folds=3, random_state=5)
    model.fit(X, T, Y)
    expected = [list(KFold(3, shuffle=True, random_state=5).split(X))]
    for (train, test), (train_ref, test_ref) in zip(
        model.model_.smpls[0], expected[0], strict=True
    ):
        np.testing.assert_array_equal(train, train_ref)
        np.testing.assert_array_equal(test, test_ref)
    assert isinstance(model.model_.learner["ml_l"], LinearRegression)
    DoubleMLTreatmentEffect(n_folds=2).fit(X, T, Y)  # the smallest valid number of folds
    with pytest.raises(ValueError, match="n_folds"):
        DoubleMLTreatmentEffect(n_folds=1).fit(X, T, Y)


def test_double_ml_lasso_penalty_uses_the_training_fold_size_and_all_other_regressors():
    # ℓ and m see the d covariates and the other k − 1 treatments, fitted on n − n/K rows
    X, T, Y, _, _ = plr(303, theta=(1.0, -1.0), seed=16)
    model = DoubleMLTreatmentEffect(n_folds=5, random_state=0).fit(X, T, Y)
    n_train, n_regressors = 303 - 303 // 5, 3 + 2 - 1
    for name in ("ml_l", "ml_m"):
        assert model.model_.learner[name].alpha == pytest.approx(
            np.sqrt(np.log(n_regressors) / n_train), rel=1e-12
        )


def test_double_ml_seeds_its_nuisance_learners():
    X, T, Y, _, _ = plr(150, seed=17)
    fit = lambda: DoubleMLTreatmentEffect(  # noqa: E731
        learner="random_forest", n_folds=2, random_state=5
    ).fit(X, T, Y)
    assert fit().coef_ == pytest.approx(fit().coef_, rel=0, abs=0)


# -- nuisance learners ----------------------------------------------------------------------------
def test_lasso_penalty_is_the_mackey_rate():
    # α = √(log d / n), with d floored at 2 so that one covariate still gets a penalty
    assert make_learner("lasso", n_samples=400, n_covariates=10, random_state=0).alpha == (
        pytest.approx(np.sqrt(np.log(10) / 400))
    )
    assert make_learner("lasso", n_samples=400, n_covariates=1, random_state=0).alpha == (
        pytest.approx(np.sqrt(np.log(2) / 400))
    )
    assert isinstance(make_learner("lasso", n_samples=10, n_covariates=3, random_state=0), Lasso)


def test_named_learners_have_their_documented_settings():
    cv = make_learner("lasso_cv", n_samples=100, n_covariates=3, random_state=0)
    assert isinstance(cv, LassoCV) and cv.cv == 5
    forest = make_learner("random_forest", n_samples=100, n_covariates=3, random_state=7)
    assert isinstance(forest, RandomForestRegressor)
    assert (forest.n_estimators, forest.min_samples_leaf, forest.random_state) == (100, 5, 7)
    boost = make_learner("gradient_boosting", n_samples=100, n_covariates=3, random_state=7)
    assert isinstance(boost, HistGradientBoostingRegressor) and boost.random_state == 7
    assert boost.max_iter == 100
    X, _, Y, _, _ = plr(60, seed=18)
    assert cv.fit(X, Y).predict(X).shape == (60,)  # the settings are valid for scikit-learn


class _FitOnly:
    def fit(self, X, y):
        return self


class _Mean(RegressorMixin, BaseEstimator):
    def __init__(self, shift=0.0):
        self.shift = shift

    def fit(self, X, y):
        self.mean_ = float(np.mean(y)) + self.shift
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def test_a_regressor_instance_is_cloned_not_shared():
    template = _Mean(shift=1.0)
    learner = make_learner(template, n_samples=10, n_covariates=2, random_state=0)
    assert learner is not template and learner.shift == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="scikit-learn regressor"):
            make_learner(object(), n_samples=10, n_covariates=2, random_state=0)
        with pytest.raises(ValueError, match="scikit-learn regressor"):  # fit but no predict
            make_learner(_FitOnly(), n_samples=10, n_covariates=2, random_state=0)
        with pytest.raises(ValueError, match="scikit-learn regressor"):
            make_learner("svm", n_samples=10, n_covariates=2, random_state=0)
