"""Metrics of learned concentrations: is the learned Λ̂ ordered like the true Λ?

Rusak, Reizinger, Juhos, Bringmann, Zimmermann, Brendel (2025), "InfoNCE: Identifying the Gap
Between Theory and Practice", arXiv:2407.00143: AnInfoNCE learns a diagonal Λ̂ next to the
encoder; when the latents are identified up to a permutation π, Λ̂_π(k) should track Λ_k.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from identifiable._validation import as_2d_array, check_same_rows
from identifiable.metrics._registry import metric
from identifiable.metrics.identifiability import matching

__all__ = ["lambda_rank_correlation"]


@metric(name="lambda_rank_corr", higher_is_better=True, bounds=(-1.0, 1.0))
def lambda_rank_correlation(z_true, z_hat, lambda_true, lambda_hat) -> float:
    """Spearman correlation of Λ_k with Λ̂_π(k), π the MCC matching of latents to outputs.

    Higher is better, in [−1, 1]: 1.0 when the learned concentrations are ordered like the true
    ones under the same permutation that aligns ẑ with z (Λ̂ = c·P Λ for any c > 0 scores 1);
    ≈ 0 for Λ̂ unrelated to Λ; NaN when Λ or Λ̂ is constant (no order to compare).
    """
    z = as_2d_array("z_true", z_true, min_rows=2)
    h = as_2d_array("z_hat", z_hat, min_rows=2)
    check_same_rows("z_true", z, "z_hat", h)
    lam = np.asarray(lambda_true, dtype=float).ravel()
    lam_hat = np.asarray(lambda_hat, dtype=float).ravel()
    if lam.shape != (z.shape[1],) or lam_hat.shape != (h.shape[1],) or z.shape[1] != h.shape[1]:
        raise ValueError(
            f"need one Λ per latent and one Λ̂ per output with as many outputs as latents; got "
            f"{lam.size} Λ, {lam_hat.size} Λ̂, z {z.shape[1]}-dim, ẑ {h.shape[1]}-dim"
        )
    if np.ptp(lam) == 0 or np.ptp(lam_hat) == 0:
        return float("nan")
    return float(spearmanr(lam, lam_hat[matching(z, h)]).statistic)
