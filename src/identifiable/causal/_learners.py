"""Nuisance learners by name, for the cross-fitted estimators (DoubleML, second-order ML)."""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import Lasso, LassoCV

LEARNERS = ("lasso", "lasso_cv", "random_forest", "gradient_boosting")


def make_learner(learner, *, n_samples: int, n_covariates: int, random_state: int | None):
    """A fresh scikit-learn regressor.

    "lasso": Lasso(α = √(log d / n)) — the rate used by Mackey, Syrgkanis, Zadik (2018),
    arXiv:1711.00342; "lasso_cv": LassoCV(5 folds); "random_forest": 100 trees, min leaf 5;
    "gradient_boosting": HistGradientBoostingRegressor (100 rounds). Any scikit-learn regressor
    instance is cloned and used as is.
    """
    if not isinstance(learner, str):
        if not hasattr(learner, "fit") or not hasattr(learner, "predict"):
            raise ValueError(f"learner must be one of {LEARNERS} or a scikit-learn regressor")
        return clone(learner)
    if learner == "lasso":
        alpha = float(np.sqrt(np.log(max(n_covariates, 2)) / n_samples))
        return Lasso(alpha=alpha, max_iter=10_000)
    if learner == "lasso_cv":
        return LassoCV(cv=5, max_iter=10_000)
    if learner == "random_forest":
        return RandomForestRegressor(
            n_estimators=100, min_samples_leaf=5, n_jobs=1, random_state=random_state
        )
    if learner == "gradient_boosting":
        return HistGradientBoostingRegressor(random_state=random_state)
    raise ValueError(
        f"learner must be one of {LEARNERS} or a scikit-learn regressor, got {learner!r}"
    )
