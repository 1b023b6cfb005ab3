"""StableMax, softmax cross-entropy at a chosen precision, and softmax collapse.

Prieto, Barsbey, Mediano, Birdal (2025), "Grokking at the Edge of Numerical Stability", ICLR,
arXiv:2501.04697; official code LucasPrietoAl/grokking-at-the-edge-of-numerical-stability
(``utils.py``, ``logger.py``), read for the facts, not copied.

**Softmax collapse (SC).** Once a model fits its training set, the loss keeps falling by scaling
the logits up. In floating point, softmax(z)_c = exp(z_c − m) / Σ_j exp(z_j − m) with
m = max_j z_j then rounds to exactly 1 for the top class: every other exp(z_j − m) is below half an
ulp of 1 and the sum is exactly 1, so the gradient of the cross-entropy is exactly 0 on that
sample and learning on it stops. With 113 classes and one logit ahead of 112 equal ones by a gap g,
this happens from g ≈ 13 (float16), ≈ 20 (float32), ≈ 41 (float64) (measured with torch 2.13).
The diagnostic is the fraction of samples in that state:

    SC(z) = (1/n) Σ_i 1[ Σ_j exp(z_ij − max_k z_ik) = 1 ]   (computed at the given precision)

**StableMax** replaces exp by a function that grows linearly, not exponentially:

    s(x) = x + 1        for x ≥ 0
    s(x) = 1 / (1 − x)  for x < 0
    StableMax(z)_i = s(z_i) / Σ_j s(z_j)

(s is continuous with s(0) = 1, positive and increasing), and its cross-entropy
−log StableMax(z)_y is computed in float64, as the reference does. The unused branch of s is
evaluated on a clamped input, so no gradient is ever NaN (the reference's ``where`` gives a NaN
gradient at x = 1 in float32).
"""

from __future__ import annotations

import torch

__all__ = [
    "PRECISIONS",
    "log_stablemax",
    "softmax_collapse_fraction",
    "softmax_cross_entropy",
    "stablemax",
    "stablemax_cross_entropy",
]

#: bits -> dtype of the softmax (the reference's ``--softmax_precision``)
PRECISIONS: dict[int, torch.dtype] = {16: torch.float16, 32: torch.float32, 64: torch.float64}
REDUCTIONS = ("mean", "sum", "none")


def _dtype(precision: int) -> torch.dtype:
    if isinstance(precision, bool) or precision not in PRECISIONS:
        raise ValueError(f"precision must be 16, 32 or 64 (bits), got {precision!r}")
    return PRECISIONS[precision]


def _reduce(per_sample: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "sum":
        return per_sample.sum()
    if reduction == "none":
        return per_sample
    raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")


def _check(logits: torch.Tensor, labels: torch.Tensor) -> None:
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(
            f"need logits (n, n_classes) and labels (n,), got {tuple(logits.shape)} and "
            f"{tuple(labels.shape)}"
        )


def _s(x: torch.Tensor) -> torch.Tensor:
    """s(x) = x + 1 (x ≥ 0), 1/(1 − x) (x < 0); each branch sees only its own side's values."""
    return torch.where(x >= 0, x.clamp(min=0) + 1, 1 / (1 - x.clamp(max=0)))


def stablemax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """StableMax(z)_i = s(z_i) / Σ_j s(z_j) along ``dim`` (a probability vector)."""
    s = _s(logits)
    return s / s.sum(dim, keepdim=True)


def log_stablemax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """log StableMax(z) along ``dim``, as the log of the ratio (zero exactly when it is 1)."""
    return torch.log(stablemax(logits, dim))


def stablemax_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """−log StableMax(z)_y per sample, computed in float64, reduced (``mean``/``sum``/``none``).

    The result stays float64 (the reference's loss is float64 and so is its backward pass down
    to the logits' cast).
    """
    _check(logits, labels)
    per_sample = -log_stablemax(logits.to(torch.float64)).gather(1, labels[:, None]).squeeze(1)
    return _reduce(per_sample, reduction)


def softmax_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, precision: int = 32, reduction: str = "mean"
) -> torch.Tensor:
    """−log softmax(z)_y per sample with the softmax computed in ``precision`` bits (16/32/64).

    The result is cast back to the logits' dtype, as the reference's float64 loss is cast to
    float32: higher precision only delays softmax collapse, it keeps the model's own precision.
    """
    _check(logits, labels)
    logp = torch.log_softmax(logits.to(_dtype(precision)), dim=1)
    per_sample = -logp.gather(1, labels[:, None]).squeeze(1)
    return _reduce(per_sample, reduction).to(logits.dtype)


@torch.no_grad()
def softmax_collapse_fraction(logits: torch.Tensor, precision: int = 32) -> float:
    """SC(z): fraction of rows whose Σ_j exp(z_j − max z) is exactly 1 at ``precision`` bits."""
    if logits.ndim != 2 or logits.shape[0] == 0:
        raise ValueError(f"need logits of shape (n, n_classes), n ≥ 1, got {tuple(logits.shape)}")
    z = logits.to(_dtype(precision))
    sums = torch.exp(z - z.amax(dim=1, keepdim=True)).sum(dim=1)
    return float((sums == 1).to(torch.float64).mean())
