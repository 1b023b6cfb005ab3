"""Second-order orthogonal estimation of θ (higher-order orthogonal ML, "HOML").

Mackey, Syrgkanis, Zadik (2018), "Orthogonal Machine Learning: Power and Limitations", ICML,
arXiv:1711.00342, Sec. 5 / App. (the "Robust Ortho ML (Est.)" estimator of the official code).
With cross-fitted residuals T̃ = T − m̂(X), Ỹ = Y − ℓ̂(X) and the non-Gaussian treatment noise η,
the moment

    E[(Ỹ − θᵀT̃) q(T̃)] = 0,     q_j(t) = t_j³ − 3 σ̂_j² t_j − μ̂_{3,j},

(σ̂², μ̂₃: second and third cumulant of η_j, estimated on the training folds' residuals) is
orthogonal to first *and second* order in the nuisance errors when η is non-Gaussian
(E[η⁴] ≠ 3 E[η²]²), so θ̂ tolerates slower nuisance rates than double ML. θ̂ solves the k × k
system mean(q T̃ᵀ) θ = mean(q Ỹ); standard errors from the sandwich J⁻¹ mean(ψψᵀ) J⁻ᵀ / n. For
k > 1 each treatment gets its own cubic moment (valid when the η_j are independent).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold

from identifiable._validation import check_confidence_level, check_plr_data
from identifiable.causal._base import TreatmentEffectEstimator
from identifiable.causal._learners import make_learner

__all__ = ["SecondOrderOrthogonal"]


class SecondOrderOrthogonal(TreatmentEffectEstimator):
    """Mackey et al. (2018) second-order orthogonal θ̂ (formula in the module docstring).

    learner:          nuisance learner for E[T|X] and E[Y|X] (see ``_learners.make_learner``).
    n_folds:          cross-fitting folds (2 in the paper's code).
    confidence_level: level of ``confint()``.
    random_state:     seed of the fold split and the learners.

    Attributes: coef_ (k,), stderr_ (k,), excess_kurtosis_ (k,) of the treatment residuals (near
    0 means η looks Gaussian and the moment is uninformative), converged_ (False, with a warning,
    when the moment matrix is singular).
    """

    def __init__(
        self,
        *,
        learner="lasso",
        n_folds: int = 2,
        confidence_level: float = 0.95,
        random_state: int | None = None,
    ) -> None:
        self.learner = learner
        self.n_folds = n_folds
        self.confidence_level = confidence_level
        self.random_state = random_state

    def fit(self, X, T, Y) -> SecondOrderOrthogonal:
        """Fit on covariates X (n, d), treatments T (n, k) and outcome Y (n,); returns self."""
        check_confidence_level(self.confidence_level)
        if self.n_folds < 2:
            raise ValueError(f"n_folds must be >= 2, got {self.n_folds}")
        X, T, Y = check_plr_data(X, T, Y)
        n, k = T.shape
        treatment_residual = np.empty_like(T)
        outcome_residual = np.empty_like(Y)
        multiplier = np.empty_like(T)
        folds = KFold(n_splits=self.n_folds, shuffle=True, random_state=self.random_state)
        for train, test in folds.split(X):

            def fitted(target, train=train):
                learner = make_learner(
                    self.learner,
                    n_samples=len(train),
                    n_covariates=X.shape[1],
                    random_state=self.random_state,
                )
                return learner.fit(X[train], target[train])

            outcome_residual[test] = Y[test] - fitted(Y).predict(X[test])
            for j in range(k):
                model = fitted(T[:, j])
                train_residual = T[train, j] - model.predict(X[train])
                second = np.mean(train_residual**2)
                third = np.mean(train_residual**3) - 3 * train_residual.mean() * second
                residual = T[test, j] - model.predict(X[test])
                treatment_residual[test, j] = residual
                multiplier[test, j] = residual**3 - 3 * second * residual - third

        jacobian = multiplier.T @ treatment_residual / n  # J[j, l] = mean(q_j T̃_l)
        variance = treatment_residual.var(axis=0)
        self.excess_kurtosis_ = np.mean(treatment_residual**4, axis=0) / variance**2 - 3.0
        self.converged_ = bool(np.linalg.cond(jacobian) < 1e12)
        if not self.converged_:
            warnings.warn(
                "the second-order moment matrix is singular (Gaussian treatment noise?); "
                "coef_ is a least-squares solution",
                ConvergenceWarning,
                stacklevel=2,
            )
        solve = np.linalg.solve if self.converged_ else (lambda a, b: np.linalg.lstsq(a, b)[0])
        self.coef_ = solve(jacobian, multiplier.T @ outcome_residual / n)
        score = multiplier * (outcome_residual - treatment_residual @ self.coef_)[:, None]
        jacobian_inverse = np.linalg.pinv(jacobian)
        covariance = jacobian_inverse @ (score.T @ score / n) @ jacobian_inverse.T / n
        self.stderr_ = np.sqrt(np.diag(covariance))
        return self
