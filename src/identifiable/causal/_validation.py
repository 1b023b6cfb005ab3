"""Boundary checks for treatment-effect estimators: one-line errors that say what to change."""

from __future__ import annotations

import numpy as np


def _as_float_array(name: str, value) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a numeric array, got {type(value).__name__}") from error
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise ValueError(f"{name} contains {bad} NaN/inf values; remove or impute them first")
    return array


def check_plr_data(X, T, Y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, T, Y) as float arrays of shapes (n, d), (n, k), (n,), checked for the PLR model.

    Raises a one-line ``ValueError`` for mismatched lengths, NaN/inf, k = 0 or d = 0, a constant
    column, or fewer samples than parameters (n must exceed d + k + 1).
    """
    X = _as_float_array("X", X)
    T = _as_float_array("T", T)
    Y = _as_float_array("Y", Y)
    if X.ndim == 1:
        X = X[:, None]
    if T.ndim == 1:
        T = T[:, None]
    if Y.ndim == 2 and Y.shape[1] == 1:
        Y = Y[:, 0]
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n_samples, n_covariates), got shape {X.shape}")
    if T.ndim != 2:
        raise ValueError(f"T must have shape (n_samples, n_treatments), got shape {T.shape}")
    if Y.ndim != 1:
        raise ValueError(f"Y must have shape (n_samples,), got shape {Y.shape}")
    if T.shape[1] == 0:
        raise ValueError("T has no columns; pass at least one treatment (n_treatments >= 1)")
    if X.shape[1] == 0:
        raise ValueError("X has no columns; pass at least one covariate (n_covariates >= 1)")
    if not X.shape[0] == T.shape[0] == Y.shape[0]:
        raise ValueError(
            "X, T and Y must have the same number of samples, "
            f"got {X.shape[0]}, {T.shape[0]} and {Y.shape[0]}"
        )
    n, n_params = X.shape[0], X.shape[1] + T.shape[1] + 1
    if n <= n_params:
        raise ValueError(
            f"need more samples than parameters (d + k + 1 = {n_params}), got n = {n}; "
            "pass more samples or fewer covariates"
        )
    for name, array in (("X", X), ("T", T), ("Y", Y[:, None])):
        constant = np.flatnonzero(np.ptp(array, axis=0) == 0)
        if constant.size:
            raise ValueError(f"{name} column {int(constant[0])} is constant; drop it")
    return X, T, Y


def check_confidence_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence_level must be in (0, 1), got {level}")
