"""Treatment-effect estimators for the partially linear model, scikit-learn style.

``fit(X, T, Y)`` returns ``self``; ``coef_`` holds θ̂ (one per treatment), ``stderr_`` the standard
errors, ``confint()`` and ``summary()`` the inference. See :mod:`identifiable.worlds.plr` for the
model and :mod:`identifiable.experiments.causal_plr` for the comparison.
"""

from identifiable.causal.double_ml import DoubleMLTreatmentEffect
from identifiable.causal.ica import ICATreatmentEffect
from identifiable.causal.ols import OLSTreatmentEffect
from identifiable.causal.orthogonal import SecondOrderOrthogonal

__all__ = [
    "DoubleMLTreatmentEffect",
    "ICATreatmentEffect",
    "OLSTreatmentEffect",
    "SecondOrderOrthogonal",
]
