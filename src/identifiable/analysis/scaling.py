"""Loss-to-loss scaling laws: how one loss of a model family predicts another.

Mayilvahanan*, Wiedemer*, Mallick, Bethge, Brendel (2025), "LLMs on the Line: Data Determines
Loss-to-Loss Scaling Laws", ICML, arXiv:2502.12120; official code brendel-group/llm-line
(``figures/figs.py``, read for the recipe). Models trained on one pretraining distribution lie on
a *shifted power law* between any two of their losses,

    L_y = K · (L_x − E_x)^κ + E_y,

where E_x, E_y are the irreducible losses. The recipe, as the reference's
``fit_loss_to_loss_power_law``:

1. E per loss from a compute-to-loss law over model size N and training tokens D (raw counts),

       L(N, D) = E + ((A / N)^(α/β) + B / D)^β,

   least squares on L (scipy ``curve_fit``, trf) from (E, A, B, α, β) = (0.1, 1, 1, 1, 1) for
   L_x and (e_min, 1, 1, 1, 1) for L_y, with only E bounded: E_x ∈ [e_min, min L_x],
   E_y ∈ [0, min L_y] (the reference's asymmetry, kept). Where that fit fails, or a group has no
   N/D, E = min L (the reference's fallback).
2. (K, κ) with E fixed: least squares on L_y from (0.8, 1), κ ≥ 0, the base clipped at 10⁻¹⁰.

Ours on top (the reference reports no uncertainty): percentile bootstrap intervals over
resampled models (the whole recipe refitted per resample), residuals and R². Where the
reference's start value of E lies outside its bounds we move it to the nearest bound (the
reference then falls back to min L).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

__all__ = [
    "Irreducible",
    "LossToLossFit",
    "compute_to_loss",
    "fit_irreducible",
    "fit_loss_to_loss",
    "fit_shifted_power_law",
    "shifted_power_law",
]

CLIP = 1e-10  # the reference's floor on L_x − E_x
LAW_PARAMETERS = 5  # E, A, B, α, β
CURVE_PARAMETERS = 2  # K, κ
MIN_POINTS = CURVE_PARAMETERS + 1  # more points than (K, κ)


def compute_to_loss(size, tokens, e, a, b, alpha, beta):
    """L(N, D) = E + ((A / N)^(α/β) + B / D)^β (NaN where undefined)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return e + ((a / size) ** (alpha / beta) + b / tokens) ** beta


def shifted_power_law(x, k, kappa, e_x, e_y):
    """L_y = K · max(L_x − E_x, 10⁻¹⁰)^κ + E_y."""
    return k * np.maximum(np.asarray(x, dtype=float) - e_x, CLIP) ** kappa + e_y


@dataclass(frozen=True)
class Irreducible:
    """An irreducible-loss estimate: ``value`` and where it came from (``"fit"`` of the
    compute-to-loss law, or ``"min"`` — the smallest loss — with ``reason``)."""

    value: float
    source: str
    reason: str = ""


def _vector(name: str, value, n: int | None = None) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numbers, got {type(value).__name__}") from error
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if n is not None and len(array) != n:
        raise ValueError(f"{name} has {len(array)} values but the losses have {n}")
    if not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise ValueError(f"{name} contains {bad} NaN/inf values; drop those rows first")
    return array


def fit_irreducible(
    loss, size=None, tokens=None, *, lower: float = 0.0, start: float = 0.1
) -> Irreducible:
    """E of ``loss`` from the compute-to-loss law over ``size`` (N) and ``tokens`` (D), E bounded
    to [lower, min loss], started at ``start``; min loss where it cannot be fitted."""
    loss = _vector("loss", loss)
    smallest = float(loss.min())
    if size is None or tokens is None:
        return Irreducible(smallest, "min", "no model size / token counts")
    size, tokens = _vector("size", size, len(loss)), _vector("tokens", tokens, len(loss))
    if (size <= 0).any() or (tokens <= 0).any():
        raise ValueError("size and tokens must be > 0 (raw parameter and token counts)")
    if len(loss) <= LAW_PARAMETERS:
        reason = f"{len(loss)} points, the compute-to-loss law has {LAW_PARAMETERS} parameters"
        return Irreducible(smallest, "min", reason)
    if lower >= smallest:
        return Irreducible(smallest, "min", f"lower bound {lower:g} ≥ the smallest loss")
    p0 = (float(np.clip(start, lower, smallest)), 1.0, 1.0, 1.0, 1.0)
    bounds = (
        [lower, -np.inf, -np.inf, -np.inf, -np.inf],
        [smallest, np.inf, np.inf, np.inf, np.inf],
    )
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            popt, _ = curve_fit(
                lambda nd, *p: compute_to_loss(nd[0], nd[1], *p), (size, tokens), loss,
                p0=p0, bounds=bounds,
            )  # fmt: skip
    except (RuntimeError, ValueError) as error:
        return Irreducible(smallest, "min", f"compute-to-loss fit failed ({type(error).__name__})")
    if not np.isfinite(popt[0]):
        return Irreducible(smallest, "min", "compute-to-loss fit gave a non-finite E")
    return Irreducible(float(popt[0]), "fit")


def fit_shifted_power_law(x, y, e_x: float, e_y: float) -> tuple[float, float]:
    """(K, κ) of L_y = K (L_x − E_x)^κ + E_y with E fixed: least squares from (0.8, 1), κ ≥ 0."""
    x, y = _vector("x", x), _vector("y", y)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} values but y has {len(y)}")
    if len(x) < MIN_POINTS:
        raise ValueError(
            f"a loss-to-loss fit needs at least {MIN_POINTS} points (K and κ), got {len(x)}"
        )
    if not (x > e_x).any():
        raise ValueError(f"L_x ≤ E_x = {e_x:.4g} at every point: nothing to fit a power law to")
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            popt, _ = curve_fit(
                lambda v, k, kappa: shifted_power_law(v, k, kappa, e_x, e_y), x, y,
                p0=(0.8, 1.0), bounds=([-np.inf, 0.0], [np.inf, np.inf]), maxfev=10_000,
            )  # fmt: skip
    except (RuntimeError, ValueError) as error:
        raise ValueError(f"the shifted power law did not converge ({error})") from error
    return float(popt[0]), float(popt[1])


@dataclass(frozen=True)
class LossToLossFit:
    """A fitted L_y = K (L_x − E_x)^κ + E_y with percentile-bootstrap intervals (``ci``:
    name -> (low, high), NaN when too few resamples fitted), residuals y − ŷ and R²."""

    k: float
    kappa: float
    e_x: Irreducible
    e_y: Irreducible
    n: int
    residuals: np.ndarray
    r2: float
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    bootstrap_fits: int = 0

    def predict(self, x) -> np.ndarray:
        return shifted_power_law(x, self.k, self.kappa, self.e_x.value, self.e_y.value)

    def parameters(self) -> dict[str, float]:
        return {"K": self.k, "kappa": self.kappa, "E_x": self.e_x.value, "E_y": self.e_y.value}


def _recipe(x, y, size, tokens, e_min, e_x, e_y):
    ex = (
        Irreducible(e_x, "given")
        if e_x is not None
        else fit_irreducible(x, size, tokens, lower=e_min, start=0.1)
    )
    ey = (
        Irreducible(e_y, "given")
        if e_y is not None
        else fit_irreducible(y, size, tokens, lower=0.0, start=e_min)
    )
    k, kappa = fit_shifted_power_law(x, y, ex.value, ey.value)
    return ex, ey, k, kappa


def fit_loss_to_loss(
    x,
    y,
    size=None,
    tokens=None,
    *,
    e_min: float = 0.0,
    e_x: float | None = None,
    e_y: float | None = None,
    bootstrap: int = 100,
    confidence: float = 0.95,
    seed: int = 0,
) -> LossToLossFit:
    """Fit L_y = K (L_x − E_x)^κ + E_y to paired losses of one model family (the reference's
    recipe, see the module docstring); E_x / E_y may be given (e.g. a known entropy).

    x, y:         losses per model (equal length, finite).
    size, tokens: model parameters N and training tokens D per model, or None (E = min L).
    e_min:        lower bound of E_x (the reference uses 0 and 0.1).
    bootstrap:    resamples for the intervals (0: none); ``seed`` fixes them.
    """
    x = _vector("x", x)
    y = _vector("y", y, len(x))
    if (size is None) != (tokens is None):
        raise ValueError("give both size and tokens, or neither")
    if size is not None:
        size, tokens = _vector("size", size, len(x)), _vector("tokens", tokens, len(x))
    if bootstrap < 0 or not 0 < confidence < 1:
        raise ValueError("bootstrap must be >= 0 and confidence in (0, 1)")
    ex, ey, k, kappa = _recipe(x, y, size, tokens, e_min, e_x, e_y)
    fitted = shifted_power_law(x, k, kappa, ex.value, ey.value)
    residuals = y - fitted
    spread = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((residuals**2).sum()) / spread if spread > 0 else float("nan")
    draws = []
    rng = np.random.default_rng(seed)
    for _ in range(bootstrap):
        i = rng.integers(0, len(x), len(x))
        if len(np.unique(x[i])) < MIN_POINTS:
            continue
        try:
            n, d = (None, None) if size is None else (size[i], tokens[i])
            bx, by, bk, bkappa = _recipe(x[i], y[i], n, d, e_min, e_x, e_y)
        except ValueError:
            continue
        draws.append((bk, bkappa, bx.value, by.value))
    ci: dict[str, tuple[float, float]] = {}
    tail = 100 * (1 - confidence) / 2
    enough = bootstrap > 0 and len(draws) >= bootstrap / 2
    table = np.array(draws) if draws else np.empty((0, 4))
    for j, name in enumerate(("K", "kappa", "E_x", "E_y")):
        if enough:
            low, high = np.percentile(table[:, j], [tail, 100 - tail])
            ci[name] = (float(low), float(high))
        else:
            ci[name] = (float("nan"), float("nan"))
    return LossToLossFit(k, kappa, ex, ey, len(x), residuals, r2, ci, len(draws))
