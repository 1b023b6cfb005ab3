"""Does pretraining frequency predict compositional performance? Fits of per-sample performance
against the log of an aggregate of the sample's concept frequencies.

Wiedemer, Sharma, Prabhu, Bethge, Brendel (2025), "Pretraining Frequency Predicts Compositional
Generalization of CLIP on Real-World Tasks", arXiv:2502.18326: for a sample showing concepts
o₁ … o_m with pretraining frequencies f(o_i), the predictor is the geometric mean
(∏ f(o_i))^{1/m}; performance is near-linear in its logarithm. Compared here with the minimum,
the maximum and the arithmetic mean of the frequencies:

    y_s = a + b · log A({f(o) : o ∈ s}) + e_s,   A ∈ {geometric_mean, min, max, arithmetic_mean}

by least squares; R² = corr(log A, y)². Uncertainty: a nonparametric bootstrap over samples
(the same resamples for every predictor, so differences of R² are paired), percentile
intervals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["AGGREGATES", "aggregate_frequencies", "frequency_fit"]

AGGREGATES = ("geometric_mean", "min", "max", "arithmetic_mean")


def aggregate_frequencies(
    concepts: Sequence[Sequence[str]], frequencies: Mapping[str, float]
) -> pd.DataFrame:
    """One row per sample, one column per aggregate of its concepts' frequencies."""
    missing = sorted({c for sample in concepts for c in sample if c not in frequencies})
    if missing:
        raise ValueError(
            f"{len(missing)} concept(s) have no pretraining frequency, e.g. {missing[:3]}; add "
            "them to the frequency table"
        )
    bad = sorted(c for c, f in frequencies.items() if not (np.isfinite(f) and f > 0))
    if bad:
        raise ValueError(f"frequencies must be finite and > 0 (a log is taken), not for {bad[:3]}")
    if any(len(sample) == 0 for sample in concepts):
        raise ValueError("every sample needs at least one concept")
    rows = []
    for sample in concepts:
        f = np.array([frequencies[c] for c in sample], dtype=float)
        rows.append({"geometric_mean": float(np.exp(np.log(f).mean())), "min": f.min(),
                     "max": f.max(), "arithmetic_mean": f.mean()})  # fmt: skip
    return pd.DataFrame(rows)


def _r2(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise squared Pearson correlation of x and y (..., n); 0 where either is constant."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    denominator = np.sqrt((xc**2).sum(-1) * (yc**2).sum(-1))
    corr = np.divide((xc * yc).sum(-1), denominator, out=np.zeros(denominator.shape),
                     where=denominator > 0)  # fmt: skip
    return corr**2


def frequency_fit(
    concepts: Sequence[Sequence[str]],
    frequencies: Mapping[str, float],
    performance,
    *,
    n_bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """(table, summary): per aggregate the slope, intercept and R² of performance on its log,
    with a bootstrap interval of R²; the summary has each aggregate's R² minus the geometric
    mean's counterpart, ``gm_minus_<aggregate>`` with its interval."""
    y = np.asarray(performance, dtype=float)
    if y.ndim != 1 or len(y) != len(concepts):
        raise ValueError(
            f"performance must have one value per sample ({len(concepts)}), got shape {y.shape}"
        )
    if not np.isfinite(y).all():
        raise ValueError(f"performance has {int((~np.isfinite(y)).sum())} NaN/inf values")
    if len(y) < 3:
        raise ValueError(f"need at least 3 samples to fit a line, got {len(y)}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    logs = np.log(aggregate_frequencies(concepts, frequencies)[list(AGGREGATES)].to_numpy()).T
    rng = np.random.default_rng(seed)
    resample = rng.integers(0, len(y), size=(n_bootstrap, len(y)))
    boot = {a: _r2(logs[i][resample], y[resample]) for i, a in enumerate(AGGREGATES)}
    tail = (1 - level) / 2 * 100
    rows = []
    for i, name in enumerate(AGGREGATES):
        x = logs[i]
        slope, intercept = np.polyfit(x, y, 1) if np.ptp(x) > 0 else (0.0, float(y.mean()))
        low, high = np.percentile(boot[name], [tail, 100 - tail]) if n_bootstrap else (np.nan,) * 2
        rows.append({"aggregate": name, "slope": float(slope), "intercept": float(intercept),
                     "r2": float(_r2(x, y)), "r2_ci_low": float(low),
                     "r2_ci_high": float(high)})  # fmt: skip
    table = pd.DataFrame(rows)
    summary: dict[str, float] = {"samples": float(len(y))}
    gm = table.set_index("aggregate")["r2"]
    for name in AGGREGATES[1:]:
        difference = boot["geometric_mean"] - boot[name]
        summary[f"gm_minus_{name}"] = float(gm["geometric_mean"] - gm[name])
        if n_bootstrap:
            low, high = np.percentile(difference, [tail, 100 - tail])
            summary[f"gm_minus_{name}_ci_low"] = float(low)
            summary[f"gm_minus_{name}_ci_high"] = float(high)
    return table, summary
