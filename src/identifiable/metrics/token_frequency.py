"""Per-token-class loss and its dependence on token frequency.

Pinto, Galanti, Balestriero (2024), "The Fair Language Model Paradox", arXiv:2410.11985: with
weight decay, low-frequency tokens are disproportionately hurt. For next-token losses ℓ_t with
targets y_t, the per-token-class mean loss of token k is

    ℓ̄_k = (1 / |T_k|) Σ_{t ∈ T_k} ℓ_t,   T_k = {t : y_t = k}

(NaN for a token that never is a target). How a change of training (e.g. weight decay λ) treats
tokens of different frequency f_k is read from the least-squares slope b of

    ℓ̄_k(λ) − ℓ̄_k(0) = a + b · log f_k

over the tokens: b < 0 means rare tokens lost more than frequent ones (b = 0: every token
changed alike).
"""

from __future__ import annotations

import numpy as np

from identifiable.metrics._registry import declare

__all__ = ["frequency_slope", "per_token_loss"]

declare(
    "frequency_slope",
    higher_is_better=None,
    description="slope of the per-token loss change against log token frequency "
    "(< 0: rare tokens hurt more)",
)


def per_token_loss(losses, targets, n_tokens: int) -> np.ndarray:
    """ℓ̄_k for k = 0 … n_tokens − 1 from per-position ``losses`` and integer ``targets`` of the
    same shape (positions with a NaN loss are ignored)."""
    losses = np.asarray(losses, dtype=np.float64).ravel()
    targets = np.asarray(targets).ravel()
    if losses.shape != targets.shape:
        raise ValueError(f"losses and targets must have the same shape, got {losses.shape} and "
                         f"{targets.shape}")  # fmt: skip
    if not np.issubdtype(targets.dtype, np.integer):
        raise ValueError("targets must be integer token ids")
    if targets.size and (targets.min() < 0 or targets.max() >= n_tokens):
        raise ValueError(f"targets must lie in 0 … {n_tokens - 1}, got {targets.min()} … "
                         f"{targets.max()}")  # fmt: skip
    keep = ~np.isnan(losses)
    sums = np.bincount(targets[keep], weights=losses[keep], minlength=n_tokens)
    counts = np.bincount(targets[keep], minlength=n_tokens)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def frequency_slope(loss_change, frequencies) -> float:
    """b of ℓ̄_k(λ) − ℓ̄_k(0) = a + b log f_k over the tokens where both are finite and f_k > 0."""
    change = np.asarray(loss_change, dtype=np.float64)
    frequencies = np.asarray(frequencies, dtype=np.float64)
    if change.shape != frequencies.shape or change.ndim != 1:
        raise ValueError(f"loss_change and frequencies must be vectors of one length, got "
                         f"{change.shape} and {frequencies.shape}")  # fmt: skip
    keep = np.isfinite(change) & np.isfinite(frequencies) & (frequencies > 0)
    x = np.log(frequencies[keep])
    if keep.sum() < 2 or np.ptp(x) == 0:
        raise ValueError("need at least two tokens of different frequency with a finite loss")
    x = x - x.mean()
    return float((x * change[keep]).sum() / (x * x).sum())
