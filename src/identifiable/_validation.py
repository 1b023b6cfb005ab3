"""Boundary checks for arrays, configs and learner parameters (the only copy): one-line errors
that say what to change."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch

_EXPRESSION = re.compile(r"^[a-z0-9_]+( [*+] [a-z0-9_]+)*$")


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


def check(
    obj: Any,
    *,
    positive: Iterable[str] = (),
    at_least: Mapping[str, float | tuple[float, str]] | None = None,
    one_of: Mapping[str, Iterable[Any]] | None = None,
    integers: Iterable[str] = (),
) -> None:
    """Check attributes of ``obj`` (a Config dataclass or a learner); raise a one-line ValueError.

    positive:  names whose value must be a number > 0 (``"kappa must be > 0, got -1.0"``).
    at_least:  name -> lower bound, or (bound, reason) (``"batch_size must be >= 2 (negatives
               come from the batch), got 1"``); a reason that is an expression of other fields
               reads ``"eval_size must be >= 4 * n_latents = 40, got 8"``.
    one_of:    name -> allowed values (``"world must be one of sphere, box, gaussian, got
               'cube'"``; two choices read ``"a or b"``).
    integers:  names whose value must be an int (not a bool), checked first; their bound reads
               ``"steps must be a positive int, got 0"``.

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Config:
    ...     steps: int = 0
    >>> check(Config(), at_least={"steps": 1})
    Traceback (most recent call last):
    ValueError: steps must be >= 1, got 0
    """
    bounds = {
        name: bound if isinstance(bound, tuple) else (bound, "")
        for name, bound in (at_least or {}).items()
    }
    integers = tuple(integers)

    def fail(name: str, value: Any) -> None:
        low, reason = bounds[name]
        if reason and _EXPRESSION.match(reason):  # a bound named by other fields
            raise ValueError(f"{name} must be >= {reason} = {low:g}, got {value!r}")
        why = f" ({reason})" if reason else ""
        if name in integers:
            wanted = "a positive int" if low == 1 else f"an int >= {low:g}"
            raise ValueError(f"{name} must be {wanted}{why}, got {value!r}")
        raise ValueError(f"{name} must be >= {low:g}{why}, got {value!r}")

    for name in integers:
        value = getattr(obj, name)
        if isinstance(value, bool) or not isinstance(value, int):
            if name in bounds:
                fail(name, value)
            raise ValueError(f"{name} must be an int, got {value!r}")
    for name, choices in (one_of or {}).items():
        allowed = tuple(map(str, choices))
        value = getattr(obj, name)
        if value not in tuple(choices):
            listed = " or ".join(allowed) if len(allowed) == 2 else "one of " + ", ".join(allowed)
            raise ValueError(f"{name} must be {listed}, got {value!r}")
    for name in positive:
        value = getattr(obj, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")
    for name, (low, _) in bounds.items():
        value = getattr(obj, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= low:
            fail(name, value)


# -- treatment-effect data (identifiable.causal) ---------------------------------------------
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
