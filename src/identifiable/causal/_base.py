"""What every treatment-effect estimator shares: ``coef_``, ``stderr_`` → ``confint``, ``summary``.

Estimators follow the scikit-learn contract: ``__init__`` stores parameters only, ``fit(X, T, Y)``
returns ``self``, learned state ends in ``_``. After ``fit``: ``coef_`` (k,) θ̂, ``stderr_`` (k,)
standard errors or ``None`` when the estimator was asked not to compute them, ``converged_``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm


class TreatmentEffectEstimator:
    """Mixin: normal-approximation confidence intervals and a one-table summary."""

    confidence_level: float = 0.95

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ValueError(f"{type(self).__name__} is not fitted yet; call fit(X, T, Y) first")

    def confint(self, level: float | None = None) -> np.ndarray:
        """(k, 2) two-sided normal confidence intervals θ̂ ± z·se at ``level``."""
        self._check_fitted()
        level = self.confidence_level if level is None else level
        if self.stderr_ is None:
            raise ValueError(
                f"{type(self).__name__} computed no standard errors; refit with inference on "
                "(n_bootstrap > 0, or inference='sandwich' for ICA)"
            )
        z = norm.ppf(0.5 + level / 2)
        return np.column_stack([self.coef_ - z * self.stderr_, self.coef_ + z * self.stderr_])

    def summary(self) -> pd.DataFrame:
        """One row per treatment: estimate, std_error, ci_lower, ci_upper, converged."""
        self._check_fitted()
        k = self.coef_.shape[0]
        if self.stderr_ is None:
            lower = upper = stderr = np.full(k, np.nan)
        else:
            stderr = self.stderr_
            lower, upper = self.confint().T
        return pd.DataFrame(
            {
                "estimate": self.coef_,
                "std_error": stderr,
                "ci_lower": lower,
                "ci_upper": upper,
                "converged": bool(getattr(self, "converged_", True)),
            },
            index=pd.Index([f"T{j}" for j in range(k)], name="treatment"),
        )
