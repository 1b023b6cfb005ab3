"""Disentanglement metrics of disentanglement_lib: how well single codes of a representation
capture single ground-truth factors.

Locatello et al. (2019), "Challenging Common Assumptions in the Unsupervised Learning of
Disentangled Representations", ICML, arXiv:1811.12359; the definitions are those of its library
google-research/disentanglement_lib (``evaluation/metrics/``, read for them), with the budgets of
its ``unsupervised_study_v1`` configs as defaults. Factors v (n, F) are discrete labels (rows are
samples; disentanglement_lib stores the transpose), codes z (n, d) are real numbers.

Array metrics (``factors``, ``codes``; MI in nats, histograms with equal-width bins from a
code's min to its max, :func:`histogram_discretize`):

* ``mig`` (Chen et al. (2018), arXiv:1802.04942) = (1/F) Σ_j [I(z_(1); v_j) − I(z_(2); v_j)] /
  H(v_j), z_(1), z_(2) the two codes with the most information about v_j, codes binned in 20
  bins. Forgives a permutation of codes and a per-code affine map (the same bins up to ties on
  bin edges), not a non-affine monotone map (it moves points between equal-width bins).
* ``sap`` (Kumar et al. (2018), arXiv:1711.00848) = (1/F) Σ_j [S_(1)j − S_(2)j], S_ij the test
  accuracy of a linear SVM (``LinearSVC(C=0.01, class_weight="balanced")``) predicting v_j from
  the single code z_i; ``continuous_factors=True``: S_ij = corr(z_i, v_j)² on the train part.
  Forgives a permutation and sign of codes (the R² form: any per-code affine map).
* ``dci`` (Eastwood & Williams (2018), "A Framework for the Quantitative Evaluation of
  Disentangled Representations", ICLR): R_ij = importance of code i for predicting v_j
  (gradient-boosted trees, sklearn defaults); disentanglement = Σ_i ρ_i (1 − H_F(R_i·)),
  ρ_i = Σ_j R_ij / Σ R; completeness = Σ_j ρ_j (1 − H_d(R_·j)), ρ_j = Σ_i R_ij / Σ R (H_K the
  entropy in base K of a normalised row or column, 10⁻¹¹ added to every entry as upstream);
  informativeness = mean accuracy over factors on train and test. Trees forgive a permutation
  and any strictly monotone map of each code.
* ``modularity_explicitness`` (Ridgeway & Mozer (2018), arXiv:1802.05312): modularity =
  mean_i [1 − (Σ_j m_ij² − θ_i) / (θ_i (F − 1))], θ_i = max_j m_ij², m_ij = I(z_i; v_j) (20
  bins), 0 for a code with no information; explicitness = mean over factors of the macro
  one-vs-rest ROC AUC of a logistic regression on all standardised codes. Modularity forgives
  what MIG forgives; it does not ask every factor to be captured (duplicated codes score 1).

Sampler metrics (a :class:`~identifiable.worlds.factors.FactorWorld` and an encoder; a "point"
is one batch of ``batch_size`` observations with factor k held fixed):

* ``beta_vae_score`` (Higgins et al. (2017), "β-VAE: Learning Basic Visual Concepts with a
  Constrained Variational Framework", ICLR): pairs with v_k shared, feature = mean over the batch
  of |z(x₁) − z(x₂)|, label k; accuracy of a logistic regression. Forgives a permutation and
  sign of codes.
* ``factor_vae_score`` (Kim & Mnih (2018), arXiv:1802.05983): per point, the active code
  (std ≥ ``prune_threshold``) with the smallest batch variance / global variance votes for k;
  each code is assigned its majority factor; accuracy of that vote classifier. Forgives a
  permutation and any per-code rescaling (sign included).

Deviations from disentanglement_lib, all deliberate:

* Train/test split of arrays: a seeded shuffle (``np.random.default_rng(seed).permutation``),
  then the first ⌈n · train_fraction⌉ rows train. Upstream draws the two sets independently,
  so it never splits; users' files are often sorted (by factor, by time), and an unshuffled
  split would test on factor values never seen in training. n = num_train + num_test rows with
  train_fraction = num_train / n reproduce upstream's budgets; scores upstream computes on its
  train set only (modularity, continuous SAP) use the train part here too.
* Classifiers with every setting explicit (sklearn defaults changed across versions):
  ``LogisticRegression(solver="lbfgs", max_iter=1000, C=1.0)``, ``LinearSVC(C=0.01,
  class_weight="balanced", dual=False)``, seeds ``random_state=seed``.
* Explicitness binarises labels with the classifier's own classes (upstream fits a
  ``MultiLabelBinarizer`` on the test labels, which fails when the test part lacks a class) and
  averages the AUC over the classes present with both outcomes; a code with std 0 is
  standardised with std 1 (upstream divides by 0).
* ``factor_vae_score`` reports ``num_active_dims`` as the number of active codes (upstream
  returns the length of the boolean mask, i.e. all codes) and stores each vote under the full
  code index (upstream: the index among active codes, the same classifier relabelled).
* ``dci(importance="lasso")`` is ours: R_ij = |coefficient| of a Lasso (``lasso_alpha``)
  predicting the standardised v_j from the standardised codes; informativeness is then R².
* Errors instead of NaN: a factor with one value (H = 0, so MIG divides by 0), non-integer factor
  values (pass ``factor_bins`` to bin continuous factors with the codes' histogram binning),
  too few codes or factors for a score.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.stats
import torch
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import Lasso, LogisticRegression
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.svm import LinearSVC

from identifiable._validation import as_2d_array, check_same_rows
from identifiable.metrics._registry import declare, metric

__all__ = [
    "beta_vae_score",
    "completeness_from_importance",
    "dci",
    "discrete_entropy",
    "discrete_mutual_info",
    "disentanglement_from_importance",
    "factor_vae_score",
    "histogram_discretize",
    "mig",
    "modularity_explicitness",
    "modularity_from_mi",
    "sap",
]

IMPORTANCE_EPS = 1e-11  # upstream's offset before the entropies of DCI
ENCODE_CHUNK = 4096  # observations per call of ``encode`` in the sampler metrics

for _name, _what in (
    ("dci_disentanglement", "DCI disentanglement: importance-weighted 1 − entropy over factors"),
    ("dci_completeness", "DCI completeness: importance-weighted 1 − entropy over codes"),
):
    declare(
        _name,
        higher_is_better=True,
        bounds=(0.0, 1.0),
        forgives="permutation + per-code strictly monotone map",
        description=_what,
    )
for _part in ("train", "test"):
    declare(
        f"dci_informativeness_{_part}",
        higher_is_better=True,
        bounds=(None, 1.0),
        description=f"DCI informativeness on the {_part} part: mean accuracy (gbt) or R² (lasso)",
    )
    declare(
        f"explicitness_{_part}",
        higher_is_better=True,
        bounds=(0.0, 1.0),
        forgives="permutation + per-code affine map",
        description=f"mean one-vs-rest ROC AUC of a logistic regression, {_part} part",
    )
declare(
    "modularity",
    higher_is_better=True,
    bounds=(0.0, 1.0),
    forgives="permutation of codes + per-code affine map",
    description="mean over codes of 1 − (share of MI with all but its best factor)",
)
for _metric, _forgives in (
    ("beta_vae", "permutation + sign of codes"),
    ("factor_vae", "permutation + per-code rescaling (sign included)"),
):
    for _part in ("train", "eval"):
        declare(
            f"{_metric}_{_part}_accuracy",
            higher_is_better=True,
            kind="proportion",
            forgives=_forgives,
            description=f"{_metric} score: accuracy of its fixed-factor classifier ({_part})",
        )
declare(
    "factor_vae_num_active_dims",
    higher_is_better=None,
    bounds=(0.0, None),
    kind="diagnostic",
    description="codes with std >= prune_threshold (the ones FactorVAE votes with)",
)


# -- helpers (the upstream oracles test these) ----------------------------------------------
def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return int(value)


def _labels(column: np.ndarray) -> tuple[np.ndarray, int]:
    """Labels as 0 … K − 1 and K."""
    values, inverse = np.unique(column, return_inverse=True)
    return inverse.ravel(), len(values)


def histogram_discretize(x, bins: int = 20) -> np.ndarray:
    """Each column of x (n, d) binned into ``bins`` equal-width bins from its min to its max:
    integer labels 1 … bins (the max in bin ``bins``; a constant column all in one bin)."""
    x = as_2d_array("x", x, min_rows=1)
    bins = _check_int("bins", bins, 1)
    out = np.empty(x.shape, dtype=np.int64)
    for j in range(x.shape[1]):
        edges = np.histogram_bin_edges(x[:, j], bins)
        out[:, j] = np.digitize(x[:, j], edges[:-1])
    return out


def discrete_mutual_info(codes_discrete, factors) -> np.ndarray:
    """m[i, j] = I(z_i; v_j) in nats, the plug-in estimate from the joint label counts;
    shape (n_codes, n_factors)."""
    codes = as_2d_array("codes_discrete", codes_discrete, min_rows=1)
    ys = as_2d_array("factors", factors, min_rows=1)
    check_same_rows("codes_discrete", codes, "factors", ys)
    n = len(codes)
    code_labels = [_labels(codes[:, i]) for i in range(codes.shape[1])]
    factor_labels = [_labels(ys[:, j]) for j in range(ys.shape[1])]
    m = np.zeros((codes.shape[1], ys.shape[1]))
    for i, (a, ka) in enumerate(code_labels):
        pa = np.bincount(a, minlength=ka) / n
        for j, (b, kb) in enumerate(factor_labels):
            pb = np.bincount(b, minlength=kb) / n
            joint = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb) / n
            rows, cols = np.nonzero(joint)
            p = joint[rows, cols]
            m[i, j] = max(0.0, float(np.sum(p * np.log(p / (pa[rows] * pb[cols])))))
    return m


def discrete_entropy(factors) -> np.ndarray:
    """H(v_j) in nats for each column of factors (n, F), from the label frequencies."""
    ys = as_2d_array("factors", factors, min_rows=1)
    h = np.zeros(ys.shape[1])
    for j in range(ys.shape[1]):
        labels, k = _labels(ys[:, j])
        p = np.bincount(labels, minlength=k) / len(labels)
        h[j] = float(-np.sum(p * np.log(p)))
    return h


def _importance(r) -> np.ndarray:
    r = as_2d_array("importance", r, min_rows=1)
    if (r < 0).any():
        raise ValueError("importance must be non-negative (e.g. |coefficients|)")
    return r


def _weighted(per_row: np.ndarray, weight: np.ndarray) -> float:
    total = weight.sum()
    share = weight / total if total > 0 else np.full(len(weight), 1.0 / len(weight))
    return float(np.sum(per_row * share))


def disentanglement_from_importance(importance) -> float:
    """DCI disentanglement of an importance matrix R (n_codes, n_factors): Σ_i ρ_i (1 − H_F(R_i·)),
    ρ_i = Σ_j R_ij / Σ R (uniform when R = 0); needs at least 2 factors."""
    r = _importance(importance)
    if r.shape[1] < 2:
        raise ValueError("disentanglement needs at least 2 factors (importance columns)")
    per_code = 1.0 - scipy.stats.entropy(r.T + IMPORTANCE_EPS, base=r.shape[1])
    return _weighted(per_code, r.sum(axis=1))


def completeness_from_importance(importance) -> float:
    """DCI completeness of R (n_codes, n_factors): Σ_j ρ_j (1 − H_d(R_·j)), ρ_j = Σ_i R_ij / Σ R
    (uniform when R = 0); needs at least 2 codes."""
    r = _importance(importance)
    if r.shape[0] < 2:
        raise ValueError("completeness needs at least 2 codes (importance rows)")
    per_factor = 1.0 - scipy.stats.entropy(r + IMPORTANCE_EPS, base=r.shape[0])
    return _weighted(per_factor, r.sum(axis=0))


def modularity_from_mi(mutual_information) -> float:
    """Mean over codes of 1 − (Σ_j m_ij² − θ_i) / (θ_i (F − 1)), θ_i = max_j m_ij², from the MI
    matrix m (n_codes, n_factors); 0 for a code with θ_i = 0; needs at least 2 factors."""
    m = _importance(mutual_information)
    if m.shape[1] < 2:
        raise ValueError("modularity needs at least 2 factors (MI columns)")
    squared = m**2
    theta = squared.max(axis=1)
    rest = squared.sum(axis=1) - theta
    informative = theta > 0
    score = np.zeros(len(m))
    score[informative] = 1.0 - rest[informative] / (theta[informative] * (m.shape[1] - 1))
    return float(score.mean())


# -- array metrics ---------------------------------------------------------------------------
def _factors(factors, factor_bins: int | None, *, discrete: bool = True) -> np.ndarray:
    ys = as_2d_array("factors", factors)
    if factor_bins is not None:
        ys = histogram_discretize(ys, _check_int("factor_bins", factor_bins, 2)).astype(float)
    elif discrete:
        bad = np.flatnonzero((ys != np.round(ys)).any(axis=0))
        if bad.size:
            raise ValueError(
                f"factors must be discrete labels, column {int(bad[0])} has non-integer values; "
                "pass factor_bins=20 to bin continuous factors into equal-width bins"
            )
    constant = np.flatnonzero(np.ptp(ys, axis=0) == 0)
    if constant.size:
        raise ValueError(
            f"factor column {int(constant[0])} has a single value (entropy 0); drop it"
        )
    return ys


def _inputs(
    factors,
    codes,
    factor_bins: int | None,
    *,
    discrete: bool = True,
    min_codes: int = 1,
    min_factors: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    ys = _factors(factors, factor_bins, discrete=discrete)
    zs = as_2d_array("codes", codes)
    check_same_rows("factors", ys, "codes", zs)
    if zs.shape[1] < min_codes:
        raise ValueError(f"this score needs at least {min_codes} codes, got {zs.shape[1]}")
    if ys.shape[1] < min_factors:
        raise ValueError(f"this score needs at least {min_factors} factors, got {ys.shape[1]}")
    return ys, zs


def _split(n: int, train_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle; the first ⌈n · train_fraction⌉ rows train, the rest test."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction!r}")
    n_train = math.ceil(round(n * train_fraction, 9))
    if not 1 <= n_train < n:
        raise ValueError(
            f"train_fraction={train_fraction} leaves an empty train or test part of {n} rows; "
            "pass more rows"
        )
    order = np.random.default_rng(_check_int("seed", seed, 0)).permutation(n)
    return order[:n_train], order[n_train:]


def _standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Columns centred and scaled with the train mean and std (ddof 0; std 0 counts as 1)."""
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return [(a - mean) / std for a in (train, *others)]


@metric(
    higher_is_better=True,
    bounds=(0.0, 1.0),
    kind="proportion",
    forgives="permutation of codes + per-code affine map",
)
def mig(factors, codes, *, bins: int = 20, factor_bins: int | None = None) -> float:
    """Mutual information gap: mean over factors of the top-two MI gap over codes / H(factor).

        MIG = (1/F) Σ_j [I(z_(1); v_j) − I(z_(2); v_j)] / H(v_j)

    with codes binned in ``bins`` equal-width bins, on all rows. 1: each factor is captured by
    one code and by no other; 0: no code stands out (or the codes carry nothing).
    """
    ys, zs = _inputs(factors, codes, factor_bins, min_codes=2)
    m = discrete_mutual_info(histogram_discretize(zs, bins), ys)
    top = -np.sort(-m, axis=0)
    return float(np.mean((top[0] - top[1]) / discrete_entropy(ys)))


@metric(
    higher_is_better=True,
    bounds=(0.0, 1.0),
    kind="proportion",
    forgives="permutation + sign of codes (continuous_factors: per-code affine map)",
)
def sap(
    factors,
    codes,
    *,
    continuous_factors: bool = False,
    train_fraction: float = 2 / 3,
    seed: int = 0,
    factor_bins: int | None = None,
) -> float:
    """Separated attribute predictability: mean over factors of the gap between the two codes
    that predict it best, each code on its own.

        SAP = (1/F) Σ_j [S_(1)j − S_(2)j]

    S_ij = test accuracy of ``LinearSVC(C=0.01, class_weight="balanced")`` fitted on the single
    code z_i to predict v_j (train part); ``continuous_factors=True``: S_ij = cov(z_i, v_j)² /
    (var z_i var v_j) on the train part (0 for a code with variance ≤ 10⁻¹²), factors may be real.
    """
    ys, zs = _inputs(factors, codes, factor_bins, discrete=not continuous_factors, min_codes=2)
    train, test = _split(len(ys), train_fraction, seed)
    scores = np.zeros((zs.shape[1], ys.shape[1]))
    for i in range(zs.shape[1]):
        for j in range(ys.shape[1]):
            if continuous_factors:
                c = np.cov(zs[train, i], ys[train, j], ddof=1)
                scores[i, j] = c[0, 1] ** 2 / (c[0, 0] * c[1, 1]) if c[0, 0] > 1e-12 else 0.0
            else:
                svm = LinearSVC(C=0.01, class_weight="balanced", dual=False, random_state=seed)
                svm.fit(zs[train, i : i + 1], ys[train, j])
                scores[i, j] = np.mean(svm.predict(zs[test, i : i + 1]) == ys[test, j])
    top = -np.sort(-scores, axis=0)
    return float(np.mean(top[0] - top[1]))


def dci(
    factors,
    codes,
    *,
    train_fraction: float = 2 / 3,
    seed: int = 0,
    importance: str = "gbt",
    lasso_alpha: float = 0.01,
    factor_bins: int | None = None,
) -> dict[str, float]:
    """Disentanglement, completeness and informativeness of codes from an importance matrix.

    ``importance="gbt"`` (upstream): per factor a ``GradientBoostingClassifier`` (sklearn
    defaults, ``random_state=seed``) on all codes, R[:, j] = its impurity importances,
    informativeness = mean accuracy over factors. ``"lasso"`` (ours): R[:, j] = |coefficients| of
    ``Lasso(alpha=lasso_alpha)`` from standardised codes to the standardised factor,
    informativeness = mean R². Fitted on the train part, informativeness also on the test part.
    Keys: ``dci_disentanglement``, ``dci_completeness``, ``dci_informativeness_train``,
    ``dci_informativeness_test``. Needs at least 2 factors and 2 codes.
    """
    if importance not in ("gbt", "lasso"):
        raise ValueError(f"importance must be 'gbt' or 'lasso', got {importance!r}")
    ys, zs = _inputs(factors, codes, factor_bins, min_codes=2, min_factors=2)
    train, test = _split(len(ys), train_fraction, seed)
    r = np.zeros((zs.shape[1], ys.shape[1]))
    scores_train, scores_test = [], []
    if importance == "gbt":
        for j in range(ys.shape[1]):
            model = GradientBoostingClassifier(random_state=seed).fit(zs[train], ys[train, j])
            r[:, j] = np.abs(model.feature_importances_)
            scores_train.append(np.mean(model.predict(zs[train]) == ys[train, j]))
            scores_test.append(np.mean(model.predict(zs[test]) == ys[test, j]))
    else:
        if not lasso_alpha > 0:
            raise ValueError(f"lasso_alpha must be > 0, got {lasso_alpha!r}")
        x_train, x_test = _standardise(zs[train], zs[test])
        y_train, y_test = _standardise(ys[train], ys[test])
        for j in range(ys.shape[1]):
            model = Lasso(alpha=lasso_alpha).fit(x_train, y_train[:, j])
            r[:, j] = np.abs(model.coef_)
            scores_train.append(r2_score(y_train[:, j], model.predict(x_train)))
            scores_test.append(r2_score(y_test[:, j], model.predict(x_test)))
    return {
        "dci_disentanglement": disentanglement_from_importance(r),
        "dci_completeness": completeness_from_importance(r),
        "dci_informativeness_train": float(np.mean(scores_train)),
        "dci_informativeness_test": float(np.mean(scores_test)),
    }


def _mean_auc(y: np.ndarray, classes: np.ndarray, proba: np.ndarray) -> float:
    """Mean one-vs-rest ROC AUC over the classes that occur and do not fill all of y."""
    aucs = [
        roc_auc_score(y == c, proba[:, k])
        for k, c in enumerate(classes)
        if 0 < np.sum(y == c) < len(y)
    ]
    return float(np.mean(aucs)) if aucs else float("nan")


def _nan_mean(values: list[float]) -> float:
    """Mean of the defined values (a factor with one class in a part has no AUC there)."""
    defined = [v for v in values if not math.isnan(v)]
    return float(np.mean(defined)) if defined else float("nan")


def modularity_explicitness(
    factors,
    codes,
    *,
    bins: int = 20,
    train_fraction: float = 2 / 3,
    seed: int = 0,
    factor_bins: int | None = None,
) -> dict[str, float]:
    """Modularity (MI of each code concentrated on one factor) and explicitness (a linear
    classifier's ROC AUC) of Ridgeway & Mozer (2018).

    Modularity from the MI of codes binned in ``bins`` bins on the train part. Explicitness per
    factor: ``LogisticRegression(solver="lbfgs", max_iter=1000, C=1.0)`` on all codes
    standardised with train statistics, the macro one-vs-rest AUC of its probabilities on the
    train and on the test part, averaged over factors. Keys: ``modularity``,
    ``explicitness_train``, ``explicitness_test``. Needs at least 2 factors.
    """
    ys, zs = _inputs(factors, codes, factor_bins, min_factors=2)
    train, test = _split(len(ys), train_fraction, seed)
    m = discrete_mutual_info(histogram_discretize(zs[train], bins), ys[train])
    x_train, x_test = _standardise(zs[train], zs[test])
    auc_train, auc_test = [], []
    for j in range(ys.shape[1]):
        y_train, y_test = ys[train, j], ys[test, j]
        if len(np.unique(y_train)) < 2:
            raise ValueError(f"factor column {j} has one value in the train part; pass more rows")
        clf = LogisticRegression(solver="lbfgs", max_iter=1000, C=1.0, random_state=seed)
        clf.fit(x_train, y_train)
        auc_train.append(_mean_auc(y_train, clf.classes_, clf.predict_proba(x_train)))
        auc_test.append(_mean_auc(y_test, clf.classes_, clf.predict_proba(x_test)))
    return {
        "modularity": modularity_from_mi(m),
        "explicitness_train": _nan_mean(auc_train),
        "explicitness_test": _nan_mean(auc_test),
    }


# -- sampler metrics -------------------------------------------------------------------------
def _draw_factors(world, n: int, *, generator: torch.Generator) -> torch.Tensor:
    """(n, F) factor indices, column j uniform on 0 … s_j − 1 (the draws of
    :func:`identifiable.worlds.factors.sample_factors`; metrics do not import worlds)."""
    top = torch.tensor(tuple(world.factor_sizes), dtype=torch.float64)
    u = torch.rand((n, len(top)), generator=generator, dtype=torch.float64)
    return torch.minimum((u * top).floor(), top - 1).long()


def _sampler_inputs(world, encode, batch_size: int, counts: dict[str, int]) -> tuple[int, ...]:
    if not (hasattr(world, "factor_sizes") and callable(getattr(world, "observe", None))):
        raise ValueError(
            "world must have factor_sizes and observe(factors, *, generator) "
            f"(a FactorWorld), got {type(world).__name__}"
        )
    if not callable(encode):
        raise ValueError(f"encode must be a function of observations, got {type(encode).__name__}")
    sizes = tuple(world.factor_sizes)
    if len(sizes) < 2:
        raise ValueError(f"these scores need at least 2 factors, got factor_sizes {sizes}")
    _check_int("batch_size", batch_size, 2)
    for name, value in counts.items():
        _check_int(name, value, 1)
    return sizes


def _encode(
    world, encode: Callable, factors: torch.Tensor, generator: torch.Generator
) -> np.ndarray:
    """Codes (n, d) of the observations of ``factors`` (n, F), ``ENCODE_CHUNK`` rows per call."""
    out = []
    with torch.no_grad():
        for start in range(0, len(factors), ENCODE_CHUNK):
            chunk = factors[start : start + ENCODE_CHUNK]
            codes = encode(world.observe(chunk, generator=generator))
            if isinstance(codes, torch.Tensor):
                codes = codes.detach().cpu().numpy()
            codes = np.asarray(codes, dtype=np.float64)
            if codes.ndim == 1:
                codes = codes[:, None]
            if codes.ndim != 2 or len(codes) != len(chunk):
                raise ValueError(
                    f"encode must return codes of shape ({len(chunk)}, n_codes) for "
                    f"{len(chunk)} observations, got shape {codes.shape}"
                )
            if not np.isfinite(codes).all():
                raise ValueError("encode returned NaN/inf codes")
            out.append(codes)
    return np.concatenate(out)


def _fixed_pairs(world, encode, sizes, batch_size, n_points, rng, generator):
    """BetaVAE points: labels k (numpy), then f₁, f₂ (torch) with f₂[:, k] = f₁[:, k];
    features mean |z(x₁) − z(x₂)| over each batch."""
    k = rng.integers(len(sizes), size=n_points)
    f1 = _draw_factors(world, n_points * batch_size, generator=generator)
    f2 = _draw_factors(world, n_points * batch_size, generator=generator)
    f1 = f1.view(n_points, batch_size, -1)
    f2 = f2.view(n_points, batch_size, -1)
    index = torch.from_numpy(k)
    f2[torch.arange(n_points), :, index] = f1[torch.arange(n_points), :, index]
    codes = _encode(world, encode, torch.cat([f1, f2]).view(-1, len(sizes)), generator)
    codes = codes.reshape(2, n_points, batch_size, -1)
    return np.abs(codes[0] - codes[1]).mean(axis=1), k


def beta_vae_score(
    world,
    encode: Callable,
    *,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    seed: int = 0,
) -> dict[str, float]:
    """BetaVAE score: accuracy of a logistic regression that tells which factor was shared.

    A point: k uniform over factors; two batches of ``batch_size`` factor draws sharing factor k
    row by row; feature mean_b |z(x₁_b) − z(x₂_b)| (n_codes), label k. ``num_train`` points fit
    ``LogisticRegression(solver="lbfgs", max_iter=1000, C=1.0)``; accuracy on them and on
    ``num_eval`` fresh points. Draws, in order: train labels (``np.random.default_rng(seed)``),
    train f₁, f₂ (``torch.Generator().manual_seed(seed)``, which also feeds ``observe``), then
    the same for eval. Keys ``beta_vae_train_accuracy``, ``beta_vae_eval_accuracy``.
    """
    sizes = _sampler_inputs(
        world, encode, batch_size, {"num_train": num_train, "num_eval": num_eval}
    )
    rng = np.random.default_rng(_check_int("seed", seed, 0))
    generator = torch.Generator().manual_seed(seed)
    x_train, y_train = _fixed_pairs(world, encode, sizes, batch_size, num_train, rng, generator)
    x_eval, y_eval = _fixed_pairs(world, encode, sizes, batch_size, num_eval, rng, generator)
    if len(np.unique(y_train)) < 2:
        raise ValueError("all training points share one label; pass a larger num_train")
    model = LogisticRegression(solver="lbfgs", max_iter=1000, C=1.0, random_state=seed)
    model.fit(x_train, y_train)
    return {
        "beta_vae_train_accuracy": float(np.mean(model.predict(x_train) == y_train)),
        "beta_vae_eval_accuracy": float(np.mean(model.predict(x_eval) == y_eval)),
    }


def _votes(world, encode, sizes, batch_size, n_points, rng, generator, variances, active):
    """FactorVAE votes (F, n_codes): labels k (numpy), then one batch per point (torch) with
    factor k fixed to its first row's value; the active code of least variance / global votes."""
    k = rng.integers(len(sizes), size=n_points)
    f = _draw_factors(world, n_points * batch_size, generator=generator)
    f = f.view(n_points, batch_size, -1)
    index = torch.from_numpy(k)
    rows = torch.arange(n_points)
    f[rows, :, index] = f[rows, 0, index][:, None]
    codes = _encode(world, encode, f.view(-1, len(sizes)), generator)
    local = codes.reshape(n_points, batch_size, -1).var(axis=1, ddof=1)
    columns = np.flatnonzero(active)
    with np.errstate(invalid="ignore", divide="ignore"):  # threshold 0: 0/0 as upstream
        chosen = columns[np.argmin(local[:, columns] / variances[columns], axis=1)]
    votes = np.zeros((len(sizes), len(variances)), dtype=np.int64)
    np.add.at(votes, (k, chosen), 1)
    return votes


def factor_vae_score(
    world,
    encode: Callable,
    *,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    num_variance_estimate: int = 10_000,
    prune_threshold: float = 0.05,
    seed: int = 0,
) -> dict[str, float]:
    """FactorVAE score: accuracy of a majority-vote classifier from a code to the fixed factor.

    Global variances of the codes from ``num_variance_estimate`` uniform draws (ddof 1); codes
    with std ≥ ``prune_threshold`` are active (none: all scores 0). A point: k uniform, a batch of
    ``batch_size`` draws with factor k fixed; the active code with the smallest batch variance /
    global variance votes for k. Each code's classifier is its most-voted factor (ties: the
    lowest); accuracy = share of votes it gets right, on the ``num_train`` training points and on
    ``num_eval`` fresh ones. Draws, in order: variance factors (torch generator), train labels
    (numpy ``default_rng(seed)``), train batches (torch), eval labels, eval batches. Keys
    ``factor_vae_train_accuracy``, ``factor_vae_eval_accuracy``, ``factor_vae_num_active_dims``.
    """
    counts = {"num_train": num_train, "num_eval": num_eval}
    sizes = _sampler_inputs(world, encode, batch_size, counts)
    _check_int("num_variance_estimate", num_variance_estimate, 2)
    if not prune_threshold >= 0:
        raise ValueError(f"prune_threshold must be >= 0, got {prune_threshold!r}")
    rng = np.random.default_rng(_check_int("seed", seed, 0))
    generator = torch.Generator().manual_seed(seed)
    everything = _draw_factors(world, num_variance_estimate, generator=generator)
    variances = _encode(world, encode, everything, generator).var(axis=0, ddof=1)
    active = np.sqrt(variances) >= prune_threshold
    if not active.any():
        return {
            "factor_vae_train_accuracy": 0.0,
            "factor_vae_eval_accuracy": 0.0,
            "factor_vae_num_active_dims": 0,
        }
    args = (variances, active)
    train = _votes(world, encode, sizes, batch_size, num_train, rng, generator, *args)
    evaluation = _votes(world, encode, sizes, batch_size, num_eval, rng, generator, *args)
    classifier = np.argmax(train, axis=0)
    codes = np.arange(train.shape[1])
    return {
        "factor_vae_train_accuracy": float(train[classifier, codes].sum() / train.sum()),
        "factor_vae_eval_accuracy": float(evaluation[classifier, codes].sum() / evaluation.sum()),
        "factor_vae_num_active_dims": int(active.sum()),
    }
