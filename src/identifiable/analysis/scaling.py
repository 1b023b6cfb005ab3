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
resampled models (the whole recipe refitted per resample: the compute-to-loss fit started from
the full data's parameters, or E = min L where the full data's fit fell back to it), residuals
and R². Where the
reference's start value of E lies outside its bounds we move it to the nearest bound (the
reference then falls back to min L).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

__all__ = [
    "CurveDifference",
    "Irreducible",
    "LossToLossFit",
    "compute_to_loss",
    "curve_difference",
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
    """L(N, D) = E + ((A / N)^(α/β) + B / D)^β (NaN where undefined, also for plain floats)."""
    size, tokens = np.asarray(size, dtype=float), np.asarray(tokens, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return e + ((a / size) ** (alpha / beta) + b / tokens) ** beta


def _law(nd, e, a, b, alpha, beta):
    """compute_to_loss over nd = (N, D), the signature curve_fit calls."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return e + ((a / nd[0]) ** (alpha / beta) + b / nd[1]) ** beta


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
    law: tuple[float, ...] | None = None  # the fitted (E, A, B, α, β) when source is "fit"


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
    loss, size=None, tokens=None, *, lower: float = 0.0, start: float = 0.1, warm=None
) -> Irreducible:
    """E of ``loss`` from the compute-to-loss law over ``size`` (N) and ``tokens`` (D), E bounded
    to [lower, min loss], started at (``start``, 1, 1, 1, 1) — or at ``warm`` (E, A, B, α, β),
    e.g. the full data's fit when refitting a bootstrap resample; min loss where it cannot be
    fitted."""
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
    if warm is not None:
        p0 = (float(np.clip(warm[0], lower, smallest)), *map(float, warm[1:]))
    bounds = (
        [lower, -np.inf, -np.inf, -np.inf, -np.inf],
        [smallest, np.inf, np.inf, np.inf, np.inf],
    )
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            popt, _ = curve_fit(_law, (size, tokens), loss, p0=p0, bounds=bounds)
    except (RuntimeError, ValueError) as error:
        return Irreducible(smallest, "min", f"compute-to-loss fit failed ({type(error).__name__})")
    if not np.isfinite(popt[0]):
        return Irreducible(smallest, "min", "compute-to-loss fit gave a non-finite E")
    return Irreducible(float(popt[0]), "fit", law=tuple(float(v) for v in popt))


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


def _irreducible(loss, size, tokens, given, lower, start, full):
    if given is not None:
        return Irreducible(given, "given")
    if full is not None and full.source == "min":  # a resample: as the full data's
        return Irreducible(float(np.min(loss)), "min", full.reason)
    warm = None if full is None else full.law
    return fit_irreducible(loss, size, tokens, lower=lower, start=start, warm=warm)


def _recipe(x, y, size, tokens, e_min, e_x, e_y, full=(None, None)):
    """E_x, E_y, K, κ; ``full`` = the full data's (E_x, E_y) when refitting a resample."""
    ex = _irreducible(x, size, tokens, e_x, e_min, 0.1, full[0])
    ey = _irreducible(y, size, tokens, e_y, 0.0, e_min, full[1])
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
            bx, by, bk, bkappa = _recipe(x[i], y[i], n, d, e_min, e_x, e_y, (ex, ey))
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


@dataclass(frozen=True)
class CurveDifference:
    """Signed mean vertical distance ``gap`` = mean over L_x ∈ [low_x, high_x] (the x range both
    groups cover) of f_a(L_x) − f_b(L_x), with a percentile-bootstrap interval (``ci``)."""

    gap: float
    ci: tuple[float, float]
    low_x: float
    high_x: float
    bootstrap_fits: int


def curve_difference(
    a: dict, b: dict, *, e_min: float = 0.0, bootstrap: int = 200, confidence: float = 0.95,
    seed: int = 0, grid: int = 100,
) -> CurveDifference:  # fmt: skip
    """How far apart two groups' loss-to-loss curves lie: ``a`` and ``b`` hold ``x``, ``y`` and
    optionally ``size`` and ``tokens`` of one group each; each bootstrap resample draws both
    groups' models with replacement and refits both curves."""
    groups = []
    for name, group in (("a", a), ("b", b)):
        x = _vector(f"{name}['x']", group["x"])
        y = _vector(f"{name}['y']", group["y"], len(x))
        size, tokens = group.get("size"), group.get("tokens")
        if (size is None) != (tokens is None):
            raise ValueError(f"give group {name} both size and tokens, or neither")
        if size is not None:
            size, tokens = _vector("size", size, len(x)), _vector("tokens", tokens, len(x))
        groups.append((x, y, size, tokens))
    low_x = max(g[0].min() for g in groups)
    high_x = min(g[0].max() for g in groups)
    if not low_x < high_x:
        raise ValueError(
            f"the two groups' L_x ranges do not overlap ({groups[0][0].min():.4g}…"
            f"{groups[0][0].max():.4g} vs {groups[1][0].min():.4g}…{groups[1][0].max():.4g})"
        )
    xs = np.linspace(low_x, high_x, grid)

    full = [fit_loss_to_loss(x, y, n, d, e_min=e_min, bootstrap=0) for x, y, n, d in groups]
    observed = float(np.mean(full[0].predict(xs) - full[1].predict(xs)))
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(bootstrap):
        curves = []
        for (x, y, n, d), fit in zip(groups, full, strict=True):
            i = rng.integers(0, len(x), len(x))
            if len(np.unique(x[i])) < MIN_POINTS:
                break
            n, d = (None, None) if n is None else (n[i], d[i])
            try:
                ex, ey, k, kappa = _recipe(x[i], y[i], n, d, e_min, None, None, (fit.e_x, fit.e_y))
            except ValueError:
                break
            curves.append(shifted_power_law(xs, k, kappa, ex.value, ey.value))
        if len(curves) == 2:
            draws.append(float(np.mean(curves[0] - curves[1])))
    tail = 100 * (1 - confidence) / 2
    if bootstrap and len(draws) >= bootstrap / 2:
        ci = tuple(float(v) for v in np.percentile(draws, [tail, 100 - tail]))
    else:
        ci = (float("nan"), float("nan"))
    return CurveDifference(observed, ci, float(low_x), float(high_x), len(draws))
