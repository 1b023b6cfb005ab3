"""Metrics comparing learned representations with the truth, each declaring what it means.

A metric is a pure function decorated with :func:`metric` (higher is better, bounds, kind, what it
forgives) in a module of this package; :func:`metric_info` resolves any stored name (including
derived ones such as ``identity_mcc`` or ``linear_r2_x``) to that declaration. Every module of the
package is imported here, so a new metric file is found without editing this one.
"""

import importlib
import pkgutil

from identifiable.metrics._registry import METRICS, MetricInfo, declare, metric, metric_info
from identifiable.metrics.anisotropy import lambda_rank_correlation
from identifiable.metrics.identifiability import (
    correlation_matrix,
    linear_r2,
    matching,
    mcc,
    nonlinear_r2,
    per_latent_r2,
)
from identifiable.metrics.scoring import align, score
from identifiable.metrics.training import accuracy

for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")

__all__ = [
    "METRICS",
    "MetricInfo",
    "accuracy",
    "align",
    "correlation_matrix",
    "declare",
    "lambda_rank_correlation",
    "linear_r2",
    "matching",
    "mcc",
    "metric",
    "metric_info",
    "nonlinear_r2",
    "per_latent_r2",
    "score",
]
