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
            listed = (
                " or ".join(allowed) if len(allowed) == 2 else "one of " + ", ".join(allowed)
            )
            raise ValueError(f"{name} must be {listed}, got {value!r}")
    for name in positive:
        value = getattr(obj, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")
    for name, (low, _) in bounds.items():
        value = getattr(obj, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= low:
            fail(name, value)
