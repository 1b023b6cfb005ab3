"""Metrics comparing learned representations with the truth (see each module's table)."""

from identifiable.metrics.identifiability import (
    METRICS,
    MetricInfo,
    linear_r2,
    mcc,
    metric_info,
    nonlinear_r2,
)

__all__ = ["METRICS", "MetricInfo", "linear_r2", "mcc", "metric_info", "nonlinear_r2"]
