"""What each metric means, declared next to its definition; the store, tables and reports read it.

A metric function is decorated where it is defined::

    @metric(higher_is_better=True, bounds=(0.0, 1.0), kind="proportion",
            forgives="permutation + sign + per-dimension affine map")
    def mcc(z_true, z_hat, method="pearson") -> float: ...

and a number an experiment reports that is not a function's output (``final_loss``,
``steps_per_second``) is declared once with :func:`declare`. Kinds:

* ``continuous``: a real number; reports draw means with Student-t intervals, clipped to ``bounds``;
* ``proportion``: a fraction in [0, 1] (accuracy, coverage); reports use Wilson intervals;
* ``diagnostic``: bookkeeping (seconds, loss, convergence flags); reported, not judged.

Derived names resolve to their base metric (:func:`metric_info`): a *role* prefix
(``identity_mcc``, ``untrained_linear_r2``, ``infonce_mcc``, ``diet_linear_r2``, ``ica_rel_error``
— any leading words) and a *part* suffix (``linear_r2_x``: the metric on one factor) keep the
base's meaning; a ``_gain`` (``mcc_gain``, ``linear_r2_gain_x``) is a difference of two values of
the base metric: same direction, no bounds, kind ``continuous``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

__all__ = ["METRICS", "MetricInfo", "declare", "metric", "metric_info"]

Kind = Literal["continuous", "proportion", "diagnostic"]
KINDS: tuple[str, ...] = ("continuous", "proportion", "diagnostic")
F = TypeVar("F", bound=Callable)


@dataclass(frozen=True)
class MetricInfo:
    """The meaning of a metric name.

    name:              the name as stored (``linear_r2``).
    higher_is_better:  ``True``/``False``; ``None`` for diagnostics without a direction.
    bounds:            (low, high) the value can take; ``None`` for an open side.
    kind:              ``continuous``, ``proportion`` or ``diagnostic`` (see the module docs).
    forgives:          the indeterminacy it scores as perfect (identifiability metrics), or ``""``.
    description:       one line.
    """

    name: str
    higher_is_better: bool | None
    bounds: tuple[float | None, float | None] = (None, None)
    kind: Kind = "continuous"
    forgives: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        low, high = self.bounds
        if low is not None and high is not None and low >= high:
            raise ValueError(f"bounds of {self.name} must have low < high, got {self.bounds}")
        if self.kind == "proportion" and self.bounds != (0.0, 1.0):
            raise ValueError(f"a proportion ({self.name}) has bounds (0.0, 1.0)")


METRICS: dict[str, MetricInfo] = {}


def declare(
    name: str,
    *,
    higher_is_better: bool | None,
    bounds: tuple[float | None, float | None] = (None, None),
    kind: Kind = "continuous",
    forgives: str = "",
    description: str = "",
) -> MetricInfo:
    """Declare what the metric ``name`` means; declaring a name twice with another meaning fails."""
    if kind == "proportion" and bounds == (None, None):
        bounds = (0.0, 1.0)
    info = MetricInfo(name, higher_is_better, bounds, kind, forgives, description)
    if name in METRICS and METRICS[name] != info:
        raise ValueError(f"metric {name!r} is already declared with another meaning")
    METRICS[name] = info
    return info


def metric(
    *,
    name: str | None = None,
    higher_is_better: bool | None,
    bounds: tuple[float | None, float | None] = (None, None),
    kind: Kind = "continuous",
    forgives: str = "",
) -> Callable[[F], F]:
    """Decorator: declare the function's metric (named after the function unless ``name``)."""

    def wrap(function: F) -> F:
        doc = (function.__doc__ or "").strip().splitlines()
        info = declare(
            name or function.__name__,
            higher_is_better=higher_is_better,
            bounds=bounds,
            kind=kind,
            forgives=forgives,
            description=doc[0] if doc else "",
        )
        function.metric_info = info  # type: ignore[attr-defined]
        return function

    return wrap


def _gain(base: MetricInfo) -> MetricInfo:
    """A difference of two values of ``base``: same direction, no bounds, nothing forgiven."""
    return dataclasses.replace(
        base,
        bounds=(None, None),
        kind="continuous" if base.kind != "diagnostic" else "diagnostic",
        forgives="",
        description=f"difference of two {base.name} values",
    )


def metric_info(name: str) -> MetricInfo | None:
    """The meaning of ``name``, resolving derived names (see the module docs); ``None`` if unknown.

    The longest declared base wins: ``mcc_spearman`` is itself, ``infonce_r2_low_lambda`` is
    ``r2_low_lambda``, ``untrained_linear_r2_hue`` is ``linear_r2``.
    """
    if name in METRICS:
        return METRICS[name]
    words = name.split("_")
    best: tuple[int, MetricInfo] | None = None
    for start in range(len(words)):
        for stop in range(len(words), start, -1):
            base = "_".join(words[start:stop])
            if base not in METRICS:
                continue
            rest = words[stop:]
            info = METRICS[base]
            if "gain" in rest:
                info = _gain(info)
            candidate = (stop - start, dataclasses.replace(info, name=name))
            if best is None or candidate[0] > best[0]:
                best = candidate
            break
    return None if best is None else best[1]
