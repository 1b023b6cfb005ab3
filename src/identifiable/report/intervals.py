"""95% intervals for a metric over the seeds (runs) of one grid point, never outside its bounds.

Which interval a metric gets follows from what it declares
(:func:`identifiable.metrics.metric_info`):

* ``continuous`` → :func:`student_t`, clipped to the metric's ``bounds``. The mean of n runs,
  with the seed-to-seed spread estimated from the same n runs, is what a Student-t interval is
  for; a bounded metric near its bound (an MCC of 0.998 ± 0.004) would otherwise be drawn
  reaching values the metric cannot take.
* ``proportion`` → :func:`wilson`, which lies inside [0, 1] by construction. A yes/no per run
  (``converged``) is a binomial count; a Student-t interval on 0/1 values is symmetric and, with
  3 seeds and one success, spans −1 to 2. For a fraction per run (``accuracy``) the same formula
  with p̂ = the mean is conservative: a variable in [0, 1] with mean p has variance at most
  p(1 − p) (Bhatia–Davis), the binomial variance the Wilson interval assumes.
* ``diagnostic`` and undeclared names: :func:`wilson` when the sweep's values are 0 or 1 and
  both occur (a flag), :func:`student_t` clipped to the declared bounds otherwise (a value that
  is 1 in every run is not taken for a flag: it is drawn as "all values = 1").

Every function returns ``(low, high)`` as floats; ``nan`` where the interval is undefined (a
Student-t interval from one run).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from identifiable.metrics import MetricInfo

__all__ = [
    "STUDENT_T",
    "WILSON",
    "clip",
    "interval",
    "is_binary",
    "method_for",
    "student_t",
    "student_t_half_width",
    "wilson",
]

LEVEL = 0.95
STUDENT_T = "student-t"
WILSON = "wilson"

Bounds = tuple[float | None, float | None]


def student_t_half_width(values: Sequence[float], level: float = LEVEL) -> float:
    """t_{(1+level)/2, n−1} · s / √n, with s the sample standard deviation (n − 1 in the
    denominator); ``nan`` for fewer than two values."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        return math.nan
    return float(stats.t.ppf((1 + level) / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))


def student_t(
    values: Sequence[float], bounds: Bounds = (None, None), level: float = LEVEL
) -> tuple[float, float]:
    """x̄ ± t_{(1+level)/2, n−1} · s / √n, clipped to ``bounds``.

    The interval for the mean of n independent runs whose spread is estimated from the same runs
    (Student 1908). Clipping keeps it inside what the metric can take; it is then no longer
    symmetric, which is why reports give (low, high) rather than ± a half-width.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    half = student_t_half_width(x, level)
    if math.isnan(half):
        return math.nan, math.nan
    mean = float(x.mean())
    return clip(mean - half, mean + half, bounds)


def wilson(successes: float, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion p̂ = k / n (Wilson 1927)::

        centre = (p̂ + z²/2n) / (1 + z²/n)
        half   = z / (1 + z²/n) · √( p̂(1 − p̂)/n + z²/4n² )

    with z = Φ⁻¹((1 + level)/2) (1.96 at 95%). It inverts the score test, so unlike p̂ ± z·√(p̂(1 −
    p̂)/n) it never leaves [0, 1] and does not collapse to a point at 0/n or n/n (3 of 3 runs
    converged gives [0.44, 1], not [1, 1]). ``successes`` may be fractional (n × the mean of
    per-run fractions). ``nan`` for n = 0.
    """
    if n <= 0:
        return math.nan, math.nan
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n={n}], got {successes}")
    z = float(stats.norm.ppf((1 + level) / 2))
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return clip(centre - half, centre + half, (0.0, 1.0))


def clip(low: float, high: float, bounds: Bounds) -> tuple[float, float]:
    """(low, high) moved inside ``bounds`` (``None`` = open side)."""
    lower, upper = bounds
    if lower is not None:
        low, high = max(low, lower), max(high, lower)
    if upper is not None:
        low, high = min(low, upper), min(high, upper)
    return float(low), float(high)


def is_binary(values: Sequence[float]) -> bool:
    """True when every (non-NaN) value is exactly 0 or 1: a yes/no per run."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    return bool(x.size) and bool(np.isin(x, (0.0, 1.0)).all())


def method_for(info: MetricInfo | None, values: Sequence[float]) -> str:
    """``wilson`` or ``student-t`` for a metric, from its kind (see the module docs).

    ``values`` are all the metric's values in the sweep: a diagnostic or undeclared metric is a
    yes/no flag only if it is 0 or 1 everywhere and takes both values, not at one grid point by
    chance nor because it is constant.
    """
    if info is not None and info.kind == "proportion":
        return WILSON
    x = np.asarray(values, dtype=float)
    both = bool((x == 0).any() and (x == 1).any())
    if (info is None or info.kind == "diagnostic") and both and is_binary(x):
        return WILSON
    return STUDENT_T


def interval(
    values: Sequence[float], method: str, bounds: Bounds = (None, None), level: float = LEVEL
) -> tuple[float, float]:
    """The ``method`` interval of ``values`` (the runs of one grid point), inside ``bounds``.

    For ``wilson``, n is the number of runs and the successes are their sum (for 0/1 values, the
    number of yes).
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if method == WILSON:
        low, high = wilson(float(np.clip(x, 0.0, 1.0).sum()), int(x.size), level)
        return clip(low, high, bounds)
    if method == STUDENT_T:
        return student_t(x, bounds, level)
    raise ValueError(f"interval method must be {WILSON} or {STUDENT_T}, got {method!r}")
