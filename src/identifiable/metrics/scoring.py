"""Score a user's own arrays in one call: a learned representation against the true factors
(:func:`score`) or two representations against each other (:func:`align`).

    from identifiable.metrics import score, align
    score(z, h, metrics=["mcc", "linear_r2", "dci"])            # {"mcc": 0.97, "linear_r2": …}
    align(a, b, metrics=["mutual_knn", "cka"], permutations=100)  # rows with a permutation null

Every name is a metric of this package (its definition, reference and what it forgives are in
its module's docs and in ``docs/metrics.md``); metrics that return several numbers (DCI,
modularity/explicitness) contribute each under its declared name. The BetaVAE and FactorVAE
scores cannot be computed from two arrays — they resample observations with one factor held
fixed and encode them — so asking for them here says so and points to
:func:`~identifiable.metrics.disentanglement.beta_vae_score` /
:func:`~identifiable.metrics.disentanglement.factor_vae_score`.

Continuous truth: the disentanglement scores need discrete factors, so unless
``factors_discrete=True`` the truth is binned into ``factor_bins`` = 20 equal-width bins for
them (MCC and R² always use the values).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from identifiable._validation import as_2d_array, check_same_rows
from identifiable.metrics import alignment as al
from identifiable.metrics import disentanglement as dis
from identifiable.metrics import identifiability as ident
from identifiable.metrics._registry import MetricInfo, metric_info

__all__ = [
    "ALIGNMENT_METRICS",
    "DEFAULT_ALIGNMENT",
    "DEFAULT_TRUTH",
    "TRUTH_METRICS",
    "AlignmentRow",
    "align",
    "score",
]


@dataclass(frozen=True)
class _Spec:
    function: Callable
    min_rows: int  # fewest samples the metric can score
    discrete: bool = False  # needs discrete factors (binned unless factors_discrete)
    outputs: tuple[str, ...] = ()  # names of a dict-valued metric's numbers


TRUTH_METRICS: dict[str, _Spec] = {
    "mcc": _Spec(ident.mcc, 3),
    "mcc_spearman": _Spec(lambda z, h: ident.mcc(z, h, method="spearman"), 3),
    "linear_r2": _Spec(ident.linear_r2, 8),
    "nonlinear_r2": _Spec(ident.nonlinear_r2, 8),
    "mig": _Spec(dis.mig, 10, discrete=True),
    "sap": _Spec(dis.sap, 10, discrete=True),
    "dci": _Spec(
        dis.dci,
        10,
        discrete=True,
        outputs=(
            "dci_disentanglement",
            "dci_completeness",
            "dci_informativeness_train",
            "dci_informativeness_test",
        ),  # fmt: skip
    ),
    "modularity_explicitness": _Spec(
        dis.modularity_explicitness,
        10,
        discrete=True,
        outputs=("modularity", "explicitness_train", "explicitness_test"),
    ),
}
SAMPLER_ONLY = {"beta_vae": "beta_vae_score", "factor_vae": "factor_vae_score"}
DEFAULT_TRUTH: tuple[str, ...] = ("mcc", "linear_r2", "mig")

ALIGNMENT_METRICS: dict[str, _Spec] = {
    "mutual_knn": _Spec(al.mutual_knn, 3),
    "cycle_knn": _Spec(al.cycle_knn, 3),
    "lcs_knn": _Spec(al.lcs_knn, 3),
    "edit_distance_knn": _Spec(al.edit_distance_knn, 3),
    "cka": _Spec(al.cka, 2),
    "unbiased_cka": _Spec(al.unbiased_cka, 4),
    "cknna": _Spec(al.cknna, 4),
    "svcca": _Spec(al.svcca, 3),
}
NEIGHBOUR_METRICS = ("mutual_knn", "cycle_knn", "lcs_knn", "edit_distance_knn", "cknna")
DEFAULT_ALIGNMENT: tuple[str, ...] = ("mutual_knn", "cka", "unbiased_cka", "cknna")


def _names(metrics, known: dict[str, _Spec], default: tuple[str, ...], extra=()) -> list[str]:
    if metrics is None:
        return list(default)
    if isinstance(metrics, str):
        metrics = [m.strip() for m in metrics.split(",") if m.strip()]
    names = list(dict.fromkeys(metrics))
    if not names:
        raise ValueError(f"no metric given; choose from {', '.join(known)}")
    for name in names:
        if name in extra:
            continue
        if name not in known:
            raise ValueError(f"unknown metric {name!r}; choose from {', '.join(known)}")
    return names


def _check_rows(name: str, spec: _Spec, n: int, k: int | None = None) -> None:
    if k is not None and n < max(k + 1, spec.min_rows):
        raise ValueError(
            f"{name} needs at least k + 1 = {k + 1} samples (k = {k}), got {n}; lower k"
        )
    if n < spec.min_rows:
        raise ValueError(f"{name} needs at least {spec.min_rows} samples, got {n}")


def score(
    truth,
    learned,
    metrics=None,
    *,
    factors_discrete: bool = False,
    factor_bins: int = 20,
    seed: int = 0,
) -> dict[str, float]:
    """Every requested metric of ``learned`` (n, d) against ``truth`` (n, F), as {name: value}.

    ``metrics``: names or a comma-separated string (default: mcc, linear_r2, mig); see
    :data:`TRUTH_METRICS`. ``factors_discrete``: the truth holds integer labels already;
    otherwise it is binned into ``factor_bins`` bins for the disentanglement scores.
    """
    names = _names(metrics, TRUTH_METRICS, DEFAULT_TRUTH, extra=SAMPLER_ONLY)
    for name in names:
        if name in SAMPLER_ONLY:
            raise ValueError(
                f"{name} cannot be computed from two arrays: it resamples observations with one "
                f"factor fixed and encodes them; use identifiable.metrics.disentanglement."
                f"{SAMPLER_ONLY[name]}(world, encode) from Python"
            )
    z = as_2d_array("truth", truth, min_rows=1)
    h = as_2d_array("learned", learned, min_rows=1)
    check_same_rows("truth", z, "learned", h)
    out: dict[str, float] = {}
    for name in names:
        spec = TRUTH_METRICS[name]
        _check_rows(name, spec, len(z))
        if spec.discrete:
            bins = None if factors_discrete else factor_bins
            kwargs = {"factor_bins": bins} | ({"seed": seed} if name != "mig" else {})
            value = spec.function(z, h, **kwargs)
        elif name in ("linear_r2", "nonlinear_r2"):
            value = spec.function(z, h, random_state=seed)
        else:
            value = spec.function(z, h)
        if isinstance(value, dict):
            out.update({key: float(value[key]) for key in spec.outputs})
        else:
            out[name] = float(value)
    return out


@dataclass(frozen=True)
class AlignmentRow:
    """One alignment score with its permutation null (NaN when ``permutations`` = 0)."""

    metric: str
    score: float
    null_mean: float
    null_std: float
    p_value: float
    calibrated: float
    permutations: int

    @property
    def info(self) -> MetricInfo | None:
        return metric_info(self.metric)


def align(
    a,
    b,
    metrics=None,
    *,
    k: int = 10,
    permutations: int = 100,
    seed: int = 0,
    prepare: bool = False,
) -> list[AlignmentRow]:
    """Each requested alignment score of A (n, d_A) and B (n, d_B), calibrated against
    ``permutations`` seeded shuffles of B's rows (0: raw scores only).

    ``metrics``: names or a comma-separated string (default: mutual_knn, cka, unbiased_cka,
    cknna); ``k``: neighbours for the k-NN scores (SVCCA keeps min(10, d_A, d_B) dimensions);
    ``prepare``: the reference pipeline's
    feature preparation first (:func:`~identifiable.metrics.alignment.prepare_features`).
    """
    names = _names(metrics, ALIGNMENT_METRICS, DEFAULT_ALIGNMENT)
    if isinstance(permutations, bool) or not isinstance(permutations, int) or permutations < 0:
        raise ValueError(f"permutations must be an int >= 0, got {permutations!r}")
    x = as_2d_array("A", a, min_rows=1)
    y = as_2d_array("B", b, min_rows=1)
    check_same_rows("A", x, "B", y)
    if prepare:
        x, y = al.prepare_features(x), al.prepare_features(y)
    rows = []
    for name in names:
        spec = ALIGNMENT_METRICS[name]
        kwargs = {"k": k} if name in NEIGHBOUR_METRICS else {}
        if name == "svcca":  # the reference's 10 dimensions, or fewer where a side has fewer
            kwargs = {"dims": max(1, min(10, x.shape[1], y.shape[1], len(x) - 1))}
        _check_rows(name, spec, len(x), k if kwargs else None)
        if permutations == 0:
            value = float(spec.function(x, y, **kwargs))
            nan = float("nan")
            rows.append(AlignmentRow(name, value, nan, nan, nan, nan, 0))
            continue
        result = al.calibrate(spec.function, x, y, permutations=permutations, seed=seed, **kwargs)
        rows.append(AlignmentRow(name, result.score, result.null_mean, result.null_std,
                                 result.p_value, result.calibrated, permutations))  # fmt: skip
    return rows
