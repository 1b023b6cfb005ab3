"""Ordinary least squares of Y on [1, T, X]: the θ̂ of the linear model, a baseline.

    θ̂ = (first k entries of) (ZᵀZ)⁻¹ ZᵀY,   Z = [T, X, 1],

with heteroscedasticity-robust (HC1, White 1980) standard errors
    V̂ = n/(n − q) · (ZᵀZ)⁻¹ (Σᵢ ε̂ᵢ² zᵢ zᵢᵀ) (ZᵀZ)⁻¹.
Unbiased for θ when g and f are linear in X (the linear PLR model); biased otherwise. Used as a
baseline by Reizinger, Mackey, Brendel, Krishnan (2025), arXiv:2507.16467.
"""

from __future__ import annotations

import numpy as np

from identifiable._validation import check_confidence_level, check_plr_data
from identifiable.causal._base import TreatmentEffectEstimator

__all__ = ["OLSTreatmentEffect"]


class OLSTreatmentEffect(TreatmentEffectEstimator):
    """θ̂ from OLS of Y on [T, X, 1] with HC1 standard errors (formula in the module docstring).

    confidence_level: level of ``confint()``.
    Attributes: coef_ (k,), stderr_ (k,), covariate_coef_ (d,), intercept_, converged_ (True).
    """

    def __init__(self, *, confidence_level: float = 0.95) -> None:
        self.confidence_level = confidence_level

    def fit(self, X, T, Y) -> OLSTreatmentEffect:
        """Fit on covariates X (n, d), treatments T (n, k) and outcome Y (n,); returns self."""
        check_confidence_level(self.confidence_level)
        X, T, Y = check_plr_data(X, T, Y)
        n, k = T.shape
        Z = np.column_stack([T, X, np.ones(n)])
        gram_inverse = np.linalg.pinv(Z.T @ Z)
        beta = gram_inverse @ (Z.T @ Y)
        residual = Y - Z @ beta
        meat = (Z * residual[:, None] ** 2).T @ Z
        covariance = gram_inverse @ meat @ gram_inverse * n / (n - Z.shape[1])
        self.coef_ = beta[:k]
        self.stderr_ = np.sqrt(np.diag(covariance)[:k])
        self.covariate_coef_ = beta[k:-1]
        self.intercept_ = float(beta[-1])
        self.converged_ = True
        return self
