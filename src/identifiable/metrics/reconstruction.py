"""How well a model reproduces observations: variance-weighted R² and mean squared error.

    R²_vw(x, x̂) = 1 − Σ_j Σ_i (x_ij − x̂_ij)² / Σ_j Σ_i (x_ij − x̄_j)²

over rows i and output coordinates j (pixels × channels, flattened): the R² of each coordinate
weighted by its variance, i.e. scikit-learn's ``r2_score(multioutput="variance_weighted")``. Used
by Wiedemer, Mayilvahanan, Bethge, Brendel (2023), arXiv:2307.05596, for generators z → x and by
Wiedemer, Brady et al. (2024), arXiv:2310.05327, for reconstructions. The 2023 reference
(torchmetrics ``R2Score``) averages the R² of 10 batches of 1 000 rows; here it is pooled over all
rows (the difference is within the batch-to-batch noise). Coordinates without variance (pixels
that are always black) add nothing to either sum. Higher is better; 1 for x̂ = x, 0 for the mean
image, negative for worse than the mean; nothing is forgiven (x̂ must match x pixel for pixel).
"""

from __future__ import annotations

import numpy as np
import torch

from identifiable.metrics._registry import metric

__all__ = ["reconstruction_mse", "reconstruction_r2"]


def _pair(x_true, x_hat) -> tuple[torch.Tensor, torch.Tensor]:
    def as_tensor(name, value):
        try:
            tensor = (  # numpy input is copied: read-only views (np.broadcast_to) are fine
                value if isinstance(value, torch.Tensor) else torch.from_numpy(np.array(value))
            )
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name} must be a numeric array") from error
        return tensor.detach().cpu().double()

    x, h = as_tensor("x_true", x_true), as_tensor("x_hat", x_hat)
    if x.shape != h.shape:
        raise ValueError(
            f"x_true and x_hat must have the same shape, got {tuple(x.shape)} and {tuple(h.shape)}"
        )
    if x.ndim < 1 or len(x) < 2:
        raise ValueError(f"need at least 2 rows, got shape {tuple(x.shape)}")
    if not (torch.isfinite(x).all() and torch.isfinite(h).all()):
        raise ValueError("x_true or x_hat contains NaN or inf")
    return x.reshape(len(x), -1), h.reshape(len(h), -1)


@metric(higher_is_better=True, bounds=(None, 1.0))
def reconstruction_r2(x_true, x_hat) -> float:
    """Variance-weighted R² of x̂ against x over all output coordinates (module docstring)."""
    x, h = _pair(x_true, x_hat)
    total = (x - x.mean(dim=0)).pow(2).sum()
    if total <= 0:
        raise ValueError("x_true has no variance: R² is undefined")
    return float(1.0 - (x - h).pow(2).sum() / total)


@metric(higher_is_better=False, bounds=(0.0, None))
def reconstruction_mse(x_true, x_hat) -> float:
    """Mean squared error (1/(n·m)) Σ_ij (x_ij − x̂_ij)² over rows and output coordinates."""
    x, h = _pair(x_true, x_hat)
    return float((x - h).pow(2).mean())
