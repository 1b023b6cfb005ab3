"""Double/debiased machine learning for the partially linear model, via the ``doubleml`` package.

Partialling-out score (Robinson 1988; Chernozhukov et al. 2018, "Double/debiased machine learning
for treatment and structural parameters", Econometrics Journal 21, arXiv:1608.00060):

    ψ(W; θ, ℓ, m) = (Y − ℓ(X) − θ(T − m(X))) (T − m(X)),   ℓ(X) = E[Y|X],  m(X) = E[T|X],

with ℓ, m fitted by a scikit-learn learner on K − 1 folds and evaluated on the held-out fold
(cross-fitting); θ̂ solves Σᵢ ψ = 0, with the usual sandwich standard error. Implemented by
``doubleml.DoubleMLPLR`` (Bach et al. 2022, JMLR 23); several treatments are fitted one at a time
with the other treatments as covariates (doubleml's default).
"""

from __future__ import annotations

import numpy as np
from doubleml import DoubleMLData, DoubleMLPLR
from sklearn.model_selection import KFold

from identifiable._validation import check_confidence_level, check_plr_data
from identifiable.causal._base import TreatmentEffectEstimator
from identifiable.causal._learners import make_learner

__all__ = ["DoubleMLTreatmentEffect"]


class DoubleMLTreatmentEffect(TreatmentEffectEstimator):
    """θ̂ by ``doubleml.DoubleMLPLR`` (partialling out, cross-fitting); formula in the module
    docstring. Chernozhukov et al. (2018), arXiv:1608.00060.

    learner:          nuisance learner for ℓ and m: "lasso", "lasso_cv", "random_forest",
                      "gradient_boosting" (see ``_learners.make_learner``) or a regressor instance.
    n_folds:          cross-fitting folds.
    confidence_level: level of ``confint()``.
    random_state:     seed of the fold split and the learners.

    Attributes: coef_ (k,), stderr_ (k,), model_ (the fitted DoubleMLPLR), converged_ (True).
    """

    def __init__(
        self,
        *,
        learner="lasso",
        n_folds: int = 5,
        confidence_level: float = 0.95,
        random_state: int | None = None,
    ) -> None:
        self.learner = learner
        self.n_folds = n_folds
        self.confidence_level = confidence_level
        self.random_state = random_state

    def fit(self, X, T, Y) -> DoubleMLTreatmentEffect:
        """Fit on covariates X (n, d), treatments T (n, k) and outcome Y (n,); returns self."""
        check_confidence_level(self.confidence_level)
        if self.n_folds < 2:
            raise ValueError(f"n_folds must be >= 2, got {self.n_folds}")
        X, T, Y = check_plr_data(X, T, Y)
        n, d = X.shape
        n_train = n - n // self.n_folds
        data = DoubleMLData.from_arrays(x=X, y=Y, d=T if T.shape[1] > 1 else T[:, 0])

        def learner():
            return make_learner(
                self.learner,
                n_samples=n_train,
                n_covariates=d + T.shape[1] - 1,
                random_state=self.random_state,
            )

        model = DoubleMLPLR(
            data,
            ml_l=learner(),
            ml_m=learner(),
            n_folds=self.n_folds,
            draw_sample_splitting=False,
        )
        folds = KFold(n_splits=self.n_folds, shuffle=True, random_state=self.random_state)
        model.set_sample_splitting([list(folds.split(X))])
        model.fit()
        self.model_ = model
        self.coef_ = np.asarray(model.coef, dtype=float)
        self.stderr_ = np.asarray(model.se, dtype=float)
        self.converged_ = True
        return self
