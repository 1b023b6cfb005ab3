"""Boundary checks shared by losses and metrics: one-line errors that say what to change."""

from __future__ import annotations

import numpy as np
import torch


def as_2d_array(name: str, value, *, min_rows: int = 2) -> np.ndarray:
    """``value`` (numpy, torch or nested lists) as a finite float64 array of shape (n, d)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a numeric array, got {type(value).__name__}") from error
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name} must have shape (n_samples, n_dims), got shape {array.shape}")
    if array.shape[0] < min_rows:
        raise ValueError(f"{name} needs at least {min_rows} samples, got {array.shape[0]}")
    if array.shape[1] < 1:
        raise ValueError(f"{name} needs at least one dimension, got shape {array.shape}")
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise ValueError(f"{name} contains {bad} NaN/inf values; remove or impute them first")
    return array


def check_same_rows(a_name: str, a: np.ndarray, b_name: str, b: np.ndarray) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{a_name} and {b_name} must have the same number of samples, "
            f"got {a.shape[0]} and {b.shape[0]}"
        )
